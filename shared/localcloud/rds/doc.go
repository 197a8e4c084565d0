// Package rds is a local emulator of the ApsaraDB RDS OpenAPI (version
// 2014-08-15) for tests and the local cloud. It speaks the wire protocol of
// the official Go SDK (github.com/alibabacloud-go/rds-20140815/v3 with
// darabonba-openapi v2 and tea), so product code runs against it unchanged:
// point Config.Endpoint at Server.Endpoint and set Protocol "http".
//
// # Usage
//
//	srv := rds.NewServer(rds.WithClock(clock), rds.WithBackupDuration(time.Minute), rds.WithSetLag(time.Minute))
//	defer srv.Close()
//	srv.AddInstance(rds.Instance{DBInstanceId: "rm-1", Engine: "MySQL", Databases: []string{"app"}})
//	cred := srv.Credential()
//	cli, _ := rds.NewClient(&openapi.Config{
//		AccessKeyId:     tea.String(cred.AccessKeyID),
//		AccessKeySecret: tea.String(cred.AccessKeySecret),
//		Endpoint:        tea.String(srv.Endpoint()), // "127.0.0.1:PORT", no scheme
//		Protocol:        tea.String("http"),
//		RegionId:        tea.String("cn-hangzhou"),
//	})
//	resp, err := cli.CreateBackup(&rds.CreateBackupRequest{DBInstanceId: tea.String("rm-1")})
//	// resp.Body.BackupJobId == "5073731"; advance the clock and poll DescribeBackupTasks;
//	// the set shows in DescribeBackups a minute after the task is Finished.
//
// # Sources
//
// Behaviours below cite the team's audit, reference/cloud-fidelity.md
// (row ids such as B13 are its rows), by its source tags: [S] the
// CreateBackup API page (reference/000_bfd9ea46a3d5b533.txt), [BT]
// DescribeBackupTasks, [B] DescribeBackups, [I] DescribeDBInstances, [DB]
// DescribeDatabases, [TF] terraform-provider-alicloud
// (alicloud/resource_alicloud_rds_backup.go, alicloud/service_alicloud_rds.go),
// [POP] the gateway's error tables (help.aliyun.com/document_detail/51132.html,
// knowledge_detail/446611.html), [SDK] the rds-20140815/v3 models, [FS]
// reference/wire-protocols.md. [Q] are ApsaraDB RDS's "API rate quota"
// pages (reference/accounts-quotas-observability.md §3.1, 3.2; see
// DefaultQuotas).
//
// # What is modeled
//
// Gateway: the SDK's default ACS3-HMAC-SHA256 signature (Authorization
// header, signed x-acs-* headers, query parameters, body hash; STS through
// x-acs-accesskey-id and x-acs-security-token) and the legacy RPC signature
// (SignatureAlgorithm "v2": HMAC-SHA1 over the query with secret+"&", STS
// through SecurityToken), verified exactly as the SDK computes them
// ([FS] 1.3, 1.4; G8) against an auth.Store by the POP gateway verifier the
// sts emulator shares (auth.ParsePOP, auth.POPVerifier); timestamps within
// 15 minutes of real time; signature nonces used once. Action and version are checked
// first (404 InvalidAction.NotFound, 400 InvalidVersion), then the
// signature (400 SignatureDoesNotMatch, 404 InvalidAccessKeyId.NotFound,
// 400 InvalidSecurityToken.Malformed / .Expired, 400 MissingAuthorization),
// then flow control, then injected faults, then the action. Errors are the
// API's JSON {"RequestId","HostId","Code","Message","Recommend"} ([FS] 1.7;
// G2), which the SDK turns into *tea.SDKError with Code and StatusCode.
//
// Accounts: every instance belongs to an account (Instance.AccountId,
// default auth.DefaultAccountID) and every key to one (auth.Credential's
// account; an STS key issued for a role has the role's account). A call
// sees only its key's account's instances: another account's instance is
// answered exactly like an unknown id by every action, and
// DescribeDBInstances lists only the caller's. Resource ARNs are
// acs:rds:{regionId}:{accountId}:dbinstance/{id} (the CreateBackup page's
// authorization table), so an instance exists within one account.
//
// Flow control [Q][POP]: WithQuotas turns on per-API quotas counted per
// (account, region, action) — the pages' throttling dimension "regionId,
// API, ParentUid" (G7) — token buckets holding one second's worth and
// refilled on the server's Clock; a call above its bucket gets 400
// Throttling.Api "Request was denied due to api flow control." (the
// flow-control code with the status of the STS quota page and of the POP
// client table, where Throttling is 400: G6). DefaultQuotas gives the
// pages' numbers where they name one (CreateBackup 50/s, DescribeBackups
// 200/s) and 100/s, an assumption, for the other actions. The region of a
// call is its RegionId, else the region of the instance it names, else
// DefaultRegion. WithRateLimit is the user flow control, one bucket per
// account over all actions, 400 Throttling.User [POP] (G5); it is checked
// first. Both are off unless configured (the local cloud's fleet file turns
// quotas on with its "quotas" key).
//
// Actions: CreateBackup, DescribeBackupTasks, DescribeBackups,
// DescribeDBInstanceAttribute, DescribeDBInstances (RegionId, Engine and
// other filters, the Tags JSON filter, PageSize/PageNumber and
// MaxResults/NextToken paging, ordered by id [I]) and DescribeDatabases
// (PageSize 30, 50 or 100 [DB] D2; another value is answered with no
// database, the page's "If the specified request parameters are invalid,
// no database information is returned" D3). A read-only instance reports
// its MasterInstanceId and its primary lists it in ReadOnlyDBInstanceIds
// (A5; shapes as [SDK]).
//
// CreateBackup is written from its API page alone ([S]; createbackup.go)
// and shares no code with the product: the page's error table (code, HTTP
// status, message) is transcribed in apicodes.go, and the parameter checks
// follow the page's valid values, defaults and notes: BackupMethod Logical,
// Physical or Snapshot (default Physical); DBName's format; BackupStrategy
// db or instance; BackupType Auto or FullBackup, only for a SQL Server
// physical backup (default Auto, FullBackup for a database-level one);
// DBName and BackupStrategy only for a MySQL logical or SQL Server physical
// backup; Snapshot not on MariaDB nor on local disks; Logical only with
// databases; every DBName on the instance. Then the prerequisites: the
// instance is Running (IncorrectDBInstanceState), not locked, not
// read-only, has no ongoing task, manual or automated (BackupJobExists,
// C17), and fewer than 20 manual backups today (Exceeded.BackupTimes; manual
// jobs created that day plus seeded manual sets, the day taken in
// WithQuotaLocation). An unknown instance is the page's 400
// InvalidDBInstanceId.NotFound. Where the page implies a refusal but names
// no code (an unknown BackupStrategy, db without DBName, DBName with a
// snapshot), the code is the page's generic one and marked as inferred.
//
// Tasks [BT] move through the documented BackupStatus values in the order
// of the documented BackupProgressStatus list — NoStart, Preparing,
// Waiting, Uploading, Checking, Finished (T10) — over the backup duration
// on the server's Clock (0–10 %, 10–20 %, 20–30 %, 30–90 %, 90–100 %), with
// Process rising from "0" to "100" (T12); a FailJob fault makes a task end
// Failed instead, with BackupProgressStatus Checking (Failed is not a
// documented progress value, T11: the task keeps the last phase it
// reached). The duration is the instance's backupSeconds for the method,
// else WithMethodDuration's, else WithBackupDuration's (snapshot backups of
// cloud disks take seconds: the 5-second Snapshot). DescribeBackupTasks
// without BackupJobId lists only unfinished tasks (T6); by BackupJobId it
// answers an ended one with its BackupId at once (T7).
//
// Set lag [TF] (B13): an ended task's set appears in DescribeBackups only
// WithSetLag (or the instance's setLagSeconds) after the task ended —
// terraform waits a minute after Finished "because the query API
// (DescribeBackups) has not been synchronized". NewServer's default is 0,
// so that the package's own tests keep their meaning; the local cloud's
// fleet file defaults to 60 s. A set is BackupMode Manual, BackupInitiator
// User (start = task creation, end = its end) [B] (B12), and, when
// Finished, its BackupId is on the task. Job ids are numeric, increasing
// from 5073731, and below 2^31 (DescribeBackupTasks takes them as int32
// [SDK]; C20).
//
// Automated backups [BT] (T13): an instance with an AutomatedBackup
// schedule gets a task every day at its UTC time (JobMode Automated,
// TaskAction NormalBackupTask), computed from the Clock when a call next
// looks (no goroutine); it blocks CreateBackup while it runs and leaves an
// Automated set (BackupInitiator System [B]) after the set lag. Its job id
// is given when the server first sees it.
//
// Faults (InjectFault; see Fault) are scripted per action and optionally
// per instance, for the next N calls or every call, each call with a
// probability (Rate, decided by a generator seeded with WithFaultSeed, so a
// run repeats): an error code and status, latency, a dropped connection (the
// SDK sees a network error), a non-JSON body, a job that fails, or (Empty)
// DescribeDBInstanceAttribute of a missing instance answered 200 with an
// empty Items.DBInstanceAttribute ([TF]: "The API return 200 for resource
// not found"; A2). With After the action runs first and only its answer is
// lost (CreateBackup makes its job, then the connection is dropped or the
// error answered). WithObserver sees every call before and after its action
// and may drop it (the local cloud's crash injection). Calls, Counts,
// CreatedBackups, Jobs, Backups, Faults and State let tests and the
// devstack see what happened.
//
// # Not modeled
//
//   - Real backup sizes, Checksum, download URLs (empty), consistent times,
//     encryption, storage classes, cross-region copies.
//   - Regions and endpoints beyond one server: RegionId filters
//     DescribeDBInstances and keys flow control; every instance answers on
//     the one endpoint.
//   - RAM authorization within an account: every key of an account may
//     call every action on every instance of it (no policies, no
//     Forbidden.RAM).
//   - The quota rows of DescribeBackupTasks, DescribeDBInstances,
//     DescribeDBInstanceAttribute and DescribeDatabases (not found [Q]; 100/s
//     assumed), Quota Center adjustments, and per-resource flow control
//     (Throttling.Resource).
//   - The real set lag's distribution: here it is one fixed delay (the
//     minute terraform waits is a bound a client observed, not a
//     measurement).
//   - DescribeBackupTasks' exact retention of finished tasks (T8): here a
//     finished task is listed only when asked for by BackupJobId, and
//     forever.
//   - The backup policy (DescribeBackupPolicy, retention, the backup window
//     as a range): an automated schedule is one UTC time a day, never
//     skipped, and it runs even beside a manual task.
//   - The HTTP status the Describe* actions use for
//     InvalidDBInstanceId.NotFound (unverified; docs show 400 and 404; they
//     answer 404, CreateBackup its page's 400) — clients must key on the
//     Code. The same holds for the codes of missing parameters
//     (Missing<Param>), InvalidParameter, InvalidTags.Format and the
//     DescribeBackups time errors, which follow the gateway's conventions but
//     were not observed.
//   - CreateBackup's messages are the API page's per-code messages, never
//     a more specific explanation (the real service may say more).
//   - Whether a failed job counts toward the daily quota (here it does),
//     whether automated ones do (here not), and the progress a failed job
//     reports (here "99", BackupProgressStatus Checking).
//   - Signature algorithms ACS3-HMAC-SM3 and ACS3-RSA-SHA256, bearer tokens,
//     XML responses (Format=XML is answered in JSON; G10), and ROA-style
//     requests.
package rds

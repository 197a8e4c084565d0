// Package rds is a local emulator of the ApsaraDB RDS OpenAPI (version
// 2014-08-15) for tests and the local cloud. It speaks the wire protocol of
// the official Go SDK (github.com/alibabacloud-go/rds-20140815/v3 with
// darabonba-openapi v2 and tea), so product code runs against it unchanged:
// point Config.Endpoint at Server.Endpoint and set Protocol "http".
//
// # Usage
//
//	srv := rds.NewServer(rds.WithClock(clock), rds.WithBackupDuration(time.Minute))
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
//	// resp.Body.BackupJobId == "5073731"; advance the clock and poll DescribeBackupTasks.
//
// # What is modeled
//
// Gateway: the SDK's default ACS3-HMAC-SHA256 signature (Authorization
// header, signed x-acs-* headers, query parameters, body hash; STS through
// x-acs-accesskey-id and x-acs-security-token) and the legacy RPC signature
// (SignatureAlgorithm "v2": HMAC-SHA1 over the query with secret+"&", STS
// through SecurityToken), verified exactly as the SDK computes them
// (wire-protocols.md 1.3, 1.4) against an auth.Store; timestamps within
// 15 minutes of real time; signature nonces used once. Action and version are
// checked first (404 InvalidAction.NotFound, 400 InvalidVersion), then the
// signature (400 SignatureDoesNotMatch, 404 InvalidAccessKeyId.NotFound, 400
// InvalidSecurityToken.Malformed / .Expired, 400 MissingAuthorization), then
// the rate limit (400 Throttling.User), then injected faults, then the
// action. Errors are the API's JSON {"RequestId","HostId","Code","Message",
// "Recommend"}, which the SDK turns into *tea.SDKError with Code and
// StatusCode.
//
// Actions: CreateBackup, DescribeBackupTasks, DescribeBackups,
// DescribeDBInstanceAttribute, DescribeDBInstances (RegionId, Engine and
// other filters, the Tags JSON filter, PageSize/PageNumber and
// MaxResults/NextToken paging, ordered by id) and DescribeDatabases.
// CreateBackup is written from its API page alone
// (reference/000_bfd9ea46a3d5b533.txt; createbackup.go) and shares no code
// with the product: the page's error table (code, HTTP status, message) is
// transcribed in apicodes.go, and the parameter checks follow the page's
// valid values, defaults and notes: BackupMethod Logical, Physical or
// Snapshot (default Physical); DBName's format; BackupStrategy db or
// instance; BackupType Auto or FullBackup, only for a SQL Server physical
// backup (default Auto, FullBackup for a database-level one); DBName and
// BackupStrategy only for a MySQL logical or SQL Server physical backup;
// Snapshot not on MariaDB nor on local disks; Logical only with databases;
// every DBName on the instance. Then the prerequisites: the instance is
// Running (IncorrectDBInstanceState), not locked, not read-only, has no
// ongoing job (BackupJobExists) and fewer than 20 backups today
// (Exceeded.BackupTimes; jobs created that day plus seeded manual sets, the
// day taken in WithQuotaLocation). An unknown instance is the page's 400
// InvalidDBInstanceId.NotFound. Where the page implies a refusal but names
// no code (an unknown BackupStrategy, db without DBName, DBName with a
// snapshot), the code is the page's generic one and marked as inferred.
//
// Jobs move NoStart → Checking → Preparing → Uploading → Finished over the
// backup duration on the server's Clock (0–10 %, 10–20 %, 20–30 %, 30–100 %),
// with Process rising from "0" to "100"; a FailJob fault makes a job end
// Failed instead. An ended job leaves a backup set in DescribeBackups
// (BackupMode Manual, BackupInitiator User, start = job creation, end =
// finish) and, when Finished, its BackupId on the job. Job ids are numeric,
// increasing from 5073731, and below 2^31 (DescribeBackupTasks takes them as
// int32).
//
// Faults (InjectFault; see Fault) are scripted per action and optionally
// per instance, for the next N calls or every call, each call with a
// probability (Rate, decided by a generator seeded with WithFaultSeed, so a
// run repeats): an error code and status, latency, a dropped connection (the
// SDK sees a network error), a non-JSON body, or a job that fails. With
// After the action runs first and only its answer is lost (CreateBackup
// makes its job, then the connection is dropped or the error answered).
// WithObserver sees every call before and after its action and may drop it
// (the local cloud's crash injection). Calls, Counts, CreatedBackups, Jobs,
// Faults and State let tests and the devstack see what happened.
//
// # Not modeled
//
//   - The automated backup schedule: only seeded sets (AddBackup) are
//     Automated; no job ever runs on its own.
//   - Real backup sizes, Checksum, download URLs (empty), consistent times,
//     encryption, storage classes, cross-region copies.
//   - Regions and endpoints beyond one server: RegionId only filters
//     DescribeDBInstances; every instance answers on the one endpoint.
//   - RAM authorization: every known key may call every action on every
//     instance (no policies, no Forbidden.RAM).
//   - DescribeBackupTasks' exact retention of finished tasks: here a finished
//     task is listed only when asked for by BackupJobId, and forever.
//   - The HTTP status the Describe* actions use for
//     InvalidDBInstanceId.NotFound (unverified; docs show 400 and 404; they
//     answer 404, CreateBackup its page's 400) — clients must key on the
//     Code. The same holds for the codes of missing parameters
//     (Missing<Param>), InvalidParameter, InvalidTags.Format and the
//     DescribeBackups time errors, which follow the gateway's conventions but
//     were not observed.
//   - CreateBackup's messages are the API page's per-code messages, never
//     a more specific explanation (the real service may say more).
//   - Whether a failed job counts toward the daily quota (here it does), and
//     the progress a failed job reports (here "99", BackupProgressStatus
//     "Failed").
//   - Signature algorithms ACS3-HMAC-SM3 and ACS3-RSA-SHA256, bearer tokens,
//     XML responses (Format=XML is answered in JSON), and ROA-style requests.
//   - Per-API or per-instance flow control: WithRateLimit is one bucket over
//     all actions.
package rds

// Package sts is a local emulator of Alibaba Cloud STS (Security Token
// Service, API version 2015-04-01) for tests and the local cloud: AssumeRole
// and GetCallerIdentity over the POP RPC gateway, as the official Go SDK
// (github.com/alibabacloud-go/sts-20150401/v2 v2.0.4 on darabonba-openapi
// v2.0.11) and credentials-go's RAM-role provider (v1.4.5) call them. The
// temporary credentials it issues go into an auth.Store; every emulator
// verifying against the same store (the RDS emulator) accepts them, as keys
// of the role's account.
//
// # Usage
//
//	store := auth.NewStore(clock.Now)
//	stsSrv := sts.NewServer(sts.WithCredentials(store), sts.WithClock(clock))
//	rdsSrv := rds.NewServer(rds.WithCredentials(store), rds.WithClock(clock))
//	hubKey := store.NewAccessKeyFor("1000000000000001")
//	_ = stsSrv.AddRole(sts.Role{AccountID: "2000000000000002", Name: "fc-rds-backup-member",
//		ExternalID: "ext-1", Trusted: []string{"1000000000000001"}})
//
//	// The official SDK: Endpoint "127.0.0.1:PORT" (no scheme), Protocol "http".
//	cli, _ := stssdk.NewClient(&openapi.Config{
//		AccessKeyId: tea.String(hubKey.AccessKeyID), AccessKeySecret: tea.String(hubKey.AccessKeySecret),
//		Endpoint: tea.String(stsSrv.Endpoint()), Protocol: tea.String("http"), RegionId: tea.String("cn-hangzhou"),
//	})
//	resp, err := cli.AssumeRole(&stssdk.AssumeRoleRequest{
//		RoleArn: tea.String("acs:ram::2000000000000002:role/fc-rds-backup-member"),
//		RoleSessionName: tea.String("run-1"), ExternalId: tea.String("ext-1"),
//	})
//	// resp.Body.Credentials: AccessKeyId "STS.…", AccessKeySecret, SecurityToken,
//	// Expiration "2006-01-02T15:04:05Z"; usable on rdsSrv for account 2000000000000002.
//
//	// credentials-go's RAM-role provider always uses https: point it at the
//	// TLS listener and make the process trust CertPEM (SSL_CERT_FILE for a
//	// child process; in-process, http.DefaultTransport's RootCAs = CertPool()).
//	cred, _ := credentials.NewCredential(new(credentials.Config).SetType("ram_role_arn").
//		SetAccessKeyId(hubKey.AccessKeyID).SetAccessKeySecret(hubKey.AccessKeySecret).
//		SetRoleArn("acs:ram::2000000000000002:role/fc-rds-backup-member").SetExternalId("ext-1").
//		SetRoleSessionName("run-1").SetSTSEndpoint(stsSrv.TLSEndpoint()))
//
// credentials-go reads no environment variable for a whole STS endpoint
// (only ALIBABA_CLOUD_STS_REGION and ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED,
// which build sts[-vpc].<region>.aliyuncs.com): code that must reach this
// emulator needs its own endpoint setting passed to STSEndpoint /
// WithStsEndpoint, or the SDK's Config.Endpoint.
//
// # What is modeled, and the source followed
//
//   - Wire protocol: the SDK's default for STS is the legacy RPC signature,
//     not ACS3: sts-20150401 v2.0.4's Client.Init sets SignatureAlgorithm
//     "v2" after the core's Init, so CallApi takes DoRPCRequest
//     (HMAC-SHA1 over the query, secret+"&"). Setting the client's
//     SignatureAlgorithm to "ACS3-HMAC-SHA256" afterwards gives DoRequest's
//     ACS3 signature; both are verified (auth.POPVerifier,
//     reference/wire-protocols.md 1.3 and 1.4). credentials-go's provider
//     (credentials/providers/ram_role_arn.go) sends the v2 signature with
//     RoleArn, RoleSessionName, DurationSeconds, ExternalId and Policy in a
//     form body, signed with the query, over https only; the TLS listener
//     (self-signed certificate for 127.0.0.1, ::1, localhost) serves it.
//   - Gateway order and codes (as the RDS emulator): Action and Version
//     (Missing*, 400 InvalidVersion, 404 InvalidAction.NotFound), then the
//     signature and key (auth.POPVerifier.Verify: SignatureDoesNotMatch,
//     InvalidAccessKeyId.NotFound, InvalidSecurityToken.*, MissingSecurityToken,
//     InvalidTimeStamp.*, SignatureNonceUsed; timestamps against real time),
//     then flow control, then injected faults, then the action. Errors are
//     {"RequestId","HostId","Code","Message","Recommend"}, which the SDK
//     turns into *tea.SDKError and credentials-go into an error holding the
//     body.
//   - AssumeRole parameters and answer: sts-20150401 v2.0.4's
//     AssumeRoleRequest and AssumeRoleResponseBody, and the AssumeRole API
//     page (RAM API reference, STS 2015-04-01, AssumeRole). RoleArn
//     acs:ram::<16-digit account>:role/<name>, the name matched without
//     regard to case; RoleSessionName 2–64 of letters, digits, ". @ - _"
//     (the SDK model; the older page says 2–32); DurationSeconds 900 to the
//     role's MaxSessionDuration, default 3600; Policy 1–2,048 characters
//     and a JSON object; ExternalId 2–1,224 of [\w+=,.@:/-]. The answer
//     carries RequestId, AssumedRoleUser{Arn
//     "acs:ram::<account>:role/<name>/<session>", AssumedRoleId
//     "<19-digit role id>:<session>"} and Credentials{AccessKeyId
//     "STS.…", AccessKeySecret, SecurityToken, Expiration
//     "2006-01-02T15:04:05Z" UTC}. The role name in ARNs is written in lower
//     case [inference from published ARNs].
//   - AssumeRole errors, from the page's error table (status, code,
//     message; errors.go): 400 InvalidParameter.RoleArn,
//     InvalidParameter.RoleSessionName, InvalidParameter.DurationSeconds
//     (below 900, or above the role's MaxSessionDuration),
//     InvalidParameter.PolicyGrammar, InvalidParameter.PolicySize, 403
//     NoPermission, 404 EntityNotExist.Role, 500 InternalError. A malformed
//     ExternalId is the page's generic 400 InvalidParameter [inference: no
//     row names ExternalId]. A caller whose account the role's trust policy
//     does not name, and a call missing or mismatching the role's
//     ExternalId, get 403 NoPermission: the page's "not authorized" row;
//     the ExternalId page (RAM, "Use ExternalId to prevent the confused
//     deputy problem") says only that such a call fails [inference].
//   - Roles (AddRole, RemoveRole): account, name, optional ExternalId
//     (the trust policy's sts:ExternalId condition), trusted accounts
//     (default: the role's own), MaxSessionDuration 3600–43200 (RAM
//     CreateRole; not verified here). The credential issued belongs to the
//     ROLE's account (auth.Store.IssueSTSFor), so the RDS emulator shows it
//     that account's instances only. Credentials already issued stay valid
//     after RemoveRole, until they expire.
//   - Flow control: 100 calls a second per API and calling account
//     (the STS quota page: AssumeRole and GetCallerIdentity 100/1(s),
//     dimension "regionId, API, ParentUid"; the 2022 notice: per Alibaba
//     Cloud account, RAM users and roles included), a token bucket holding
//     one second's worth refilled on the server's clock (WithRateLimit),
//     answered 400 Throttling.Api "Request was denied due to api flow
//     control." (help.aliyun.com knowledge_detail 257129; status per
//     accounts-quotas-observability.md §3.2). The calling account is the
//     verified key's (auth.Credential.Account).
//   - GetCallerIdentity (sts-20150401 v2.0.4's response model): AccountId
//     is exact; for a credential this server issued, IdentityType
//     AssumedRoleUser, Arn acs:ram::<account>:assumed-role/<role>/<session>,
//     PrincipalId the AssumedRoleId, RoleId; for another STS key an
//     AssumedRoleUser of role "local"; for a long-term key a RAMUser named
//     after its key id [inference: the store does not know users].
//   - Faults (InjectFault, like the RDS emulator's): per action and role
//     ARN, for N calls or every call, with a seeded probability: an error
//     code and status (default from the tables), latency (on a clock with
//     Sleep, e.g. rds.InstantLatency, the clock moves instead), a dropped
//     connection, a non-JSON body, and After (the credential is issued,
//     then the answer lost).
//   - Calls, Counts, Sessions, Roles, Faults and State (roles without
//     their ExternalId, sessions with role ARN, session name, account,
//     caller, key id and expiry; no secret or token) for tests and the
//     devstack.
//
// # Not modeled
//
//   - RAM policies beyond the trust policy's principals (as accounts) and
//     its ExternalId condition: the caller's own sts:AssumeRole permission
//     (NoPermission "You are not authorized to do this action" when it is
//     missing), other conditions, and the session Policy's effect (it is
//     checked for size and JSON, then ignored; the RDS emulator grants
//     every key every action).
//   - "Roles may not be assumed by root accounts" (NoPermission): the store
//     does not know root keys from RAM users' keys; every key may call.
//   - Role chaining limits (none documented for Alibaba Cloud), token
//     length, SourceIdentity (accepted, not echoed), the XML format.
//   - AssumeRoleWithSAML, AssumeRoleWithOIDC and other actions (404
//     InvalidAction.NotFound).
//   - Regions and endpoints: one server answers for every region; flow
//     control is per account and API, not per region.
//   - InvalidAccessKeyId.Inactive (disabled keys), and the real message
//     texts beyond the page's.
package sts

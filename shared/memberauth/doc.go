// Package memberauth hands out credentials for other Alibaba Cloud accounts
// (DESIGN.md §10): a Broker assumes acs:ram::<account>:role/<role> with the
// deployment's ExternalId through STS AssumeRole (the official SDK,
// github.com/alibabacloud-go/sts-20150401/v2 v2.0.4), and RDSClient turns
// what it hands out into an rdsclient.Client acting in that account.
// It reads no environment: the settings (BACKUP_ALLOWED_ACCOUNTS,
// BACKUP_MEMBER_ROLE, BACKUP_MEMBER_EXTERNAL_ID, BACKUP_STS_ENDPOINT) are
// config.Load's, and reach it as values.
//
// # The broker's discipline
//
//   - One credential per (account, role, ExternalId) per process (per warm
//     instance), handed out until RefreshBefore (≥ 180s, default 180s)
//     before its Expiration, then replaced.
//   - Single flight: however many goroutines ask at once, one AssumeRole
//     is made; the others wait for it (EventJoin). The flight runs in its
//     own goroutine, detached from the first asker's cancellation (bounded
//     by MaxAttempts, MaxFlight and the SDK's timeouts), so an asker whose
//     context ends leaves without failing the others.
//   - Retries: the module's one retry loop (retry.Do) with Classify: STS's
//     throttling codes (Throttling.Api: 100 calls a second per calling
//     account), 5xx and transport errors are retried with backoff and full
//     jitter, paid from one retry.Quota; terminal codes stop at once.
//     Clock, sleep and jitter are injected.
//   - Per-account isolation: the broker's lock guards its map only and is
//     never held over a call; every (account, role) has its own flight and
//     its own remembered failure. A terminal answer about the account
//     (NoPermission, EntityNotExist.Role, ...) is remembered for FailureTTL
//     (default 60s) and given again without a call; answers about the
//     functions' own key (CallerKeyCodes) are not.
//   - RoleSessionName is the plan run's id through SessionName. A
//     credential is shared by the runs that ask while it is held, so
//     ActionTrail in the member account names the run that made it.
//
// # Grammar, before anything else
//
// Get checks every field before it touches the cache, an SDK client or a
// log line, and refuses with *Error Code CodeInvalidInput naming the field
// and the rule:
//
//   - account id: 16 digits. Alibaba Cloud account ids (UIDs) are 16-digit
//     numbers in every page that shows one (e.g. GetCallerIdentity's
//     AccountId "196813200012****", RAM ARN examples
//     "acs:ram::123456789012****:role/..."); no page states the length as a
//     rule [inference]; the STS emulator holds the same grammar.
//   - role name: 1 to 64 letters, digits, '.' and '-' (RAM CreateRole,
//     RoleName).
//   - ExternalId: 2 to 1,224 of letters, digits and _ + = , . @ : / -
//     (sts-20150401 v2.0.4's AssumeRoleRequest).
//   - RoleSessionName: 2 to 64 of letters, digits and . @ _ -
//     (sts-20150401 v2.0.4; the older AssumeRole page says 2 to 32).
//     SessionName fits any run id to it deterministically.
//
// # Errors
//
// Get's failures are *Error: STS's Code (kept as data: a caller ends that
// account's asks failed with it), Message, RequestID, HTTPStatus, the
// attempts made and how the loop stopped. Terminal() says whether another
// try could help; CallerFault() whether the functions' own key, not the
// account, is at fault. The codes are the AssumeRole API page's (STS
// 2015-04-01): NoPermission 403 (a trust policy that does not name the
// caller, a missing or wrong ExternalId, a caller without
// sts:AssumeRole), EntityNotExist.Role 404, InvalidParameter.* 400,
// InternalError 500; the gateway's Throttling.Api 400 and
// ServiceUnavailable 503; the signature and key codes. ThrottleCodes,
// TransientCodes, TerminalCodes and CallerKeyCodes are exported data.
//
// # Secrets
//
// Credentials and CallerKey print (every fmt verb, slog, encoding/json)
// without AccessKeySecret and SecurityToken. Errors never carry them: a
// transport error is reported without its URL (with the SDK's default v2
// signature the query holds the caller's key id, signature and security
// token) and any secret still in a message is replaced by "[redacted]".
// The ExternalId is never repeated in an error either.
//
// # Wiring (for the integrator)
//
//	host, proto := cfg.STS() // cfg from config.Load
//	b, err := memberauth.New(memberauth.Config{
//		Caller:   func(ctx context.Context) (memberauth.CallerKey, error) { /* FC context's credentials */ },
//		Endpoint: host, Protocol: proto, RegionID: region,
//	})
//	cred, err := b.Get(ctx, memberauth.Request{AccountID: acct, Role: cfg.MemberRole,
//		ExternalID: cfg.MemberExternalID, SessionName: memberauth.SessionName(runID)})
//	if memberauth.IsTerminal(err) { /* end the account's asks failed with err's Code */ }
//	cli, err := memberauth.RDSClient(baseRDS, cred)
package memberauth

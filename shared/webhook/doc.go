// Package webhook is the HTTP API of the webhook function (DESIGN.md §5):
// FC 3.0 HTTP events in, FC 3.0 responses out, authenticated webhooks from
// GitHub, GitLab, Jira and any system that can sign JSON, mapped by routes to the
// backups they may ask for.
//
// # Endpoints
//
//	POST /v1/backups                              signed request JSON (DESIGN.md §3)
//	GET  /v1/backups/{DBInstanceId}/{BackupJobId} the job's status, signed like POST
//	GET  /v1/report[?since=24h&instances=a,b]     per instance the last Finished backup and the problems since (report.go)
//	POST /v1/hooks/github                         GitHub deployment and ping events
//	POST /v1/hooks/gitlab                         GitLab Deployment Hook and Pipeline Hook
//	POST /v1/hooks/jira                           Jira jira:issue_updated (a status transition)
//	POST /v1/hooks/token/{route}                  any tool that sends a bearer token, its body mapped by JSON pointers
//	GET  /healthz                                 {"status":"ok"}, no authentication
//
// # Status codes
//
//   - 200: ping ({"status":"pong"}), job status, healthz.
//   - 202: accepted for processing: {"requests":[{"status","DBInstanceId",
//     "BackupJobId","correlationId","error":{"code","message"}}]}, one entry
//     per outcome the Submitter returned (status accepted, coalesced,
//     rejected, failed or deferred). An authenticated event that asks for no
//     backup (another GitHub event, a finished GitLab deployment, an
//     environment no route covers) gets 202 {"status":"ignored","reason"}.
//   - 400: the body or a request is malformed or breaks a request rule
//     (the input grammar included: an id or region that is not one, a
//     region the deployment does not allow):
//     {"error":{"code","field","message"}}, the code being the RDS API's
//     or the grammar's (backup.Violation). Nothing is submitted, no
//     outcome is published.
//   - 401: missing or wrong signature or token, unknown caller, missing or
//     stale X-Timestamp, an old signature form. No outcome is published;
//     an unknown caller and a wrong signature get the same answer.
//   - 403: the route does not allow an instance the request names (or a
//     Select, unless Allow is "*"). Nothing is submitted; the RejectSink is
//     told once for the call (the first refused request), so one rejected
//     outcome is published, however many ids were refused.
//   - 404: unknown path, or unknown job. 405: wrong method (Allow header).
//   - 409: the Idempotency-Key was used by this caller for other backups.
//   - 413: body larger than Config.MaxBody, or more than MaxRequests
//     backups in one call (TooManyBackups). Nothing is submitted.
//   - 501: no JobReader (no ReportReader for the report). 502: the job
//     status (the report) could not be read.
//
// Every response has a JSON body, Content-Type: application/json and a
// non-nil headers map. Bodies never carry stack traces or secrets; logs
// carry no header values and no bodies.
//
// A call is all or nothing: if one request of a body is invalid (400) or not
// allowed (403), none is submitted.
//
// # Signed requests (POST /v1/backups, GET /v1/backups/...)
//
//	X-Caller:        the caller id of a signed route (see below)
//	X-Timestamp:     unix seconds; refused when more than ReplayWindow (5m) from now
//	X-Signature-256: v1=<hex of HMAC-SHA256(secret, canonical)>
//	Idempotency-Key: optional, POST only (at most 200 printable ASCII characters)
//
//	canonical = <X-Timestamp>\n<METHOD>\n<path>\n<canonical query>\n<hex SHA-256 of the raw body>\n<Idempotency-Key>
//
// Signature v1 (DESIGN.md §5; sign.go has the details, SignV1Key computes
// it): the path as sent (FC's rawPath), the query parameters as
// url.Values.Encode writes them (empty when there are none), the body's
// hash (of nothing for GET), the Idempotency-Key (empty without one). It
// binds the method, path, query, time, body and key, so a captured request
// cannot be replayed after the window, against another job or region, with
// another body, or with another caller's next key. The older forms ("sha256="
// over the body, or over "<ts>.<body>") are refused with a message that
// says so. The comparison is constant-time, against exactly two keys
// whatever the caller (the route's secret and its previous one, or random
// keys for an unknown caller, made at the first such check so that no start
// pays for them: that one check costs about 50 µs more), so an unknown
// X-Caller and a wrong signature get the same 401 in the same time; what
// does not depend on the caller (a
// missing or stale X-Timestamp, a malformed signature) is told as such.
//
// The caller is found from X-Caller: the signed route whose caller id
// (Route.Repository, default its Name) equals it; with Config.SignedSecret
// set, "default" (or no X-Caller at all) is the implicit caller that may
// back up every instance; without SignedSecret and with exactly one signed
// route, X-Caller may be omitted. Anything else is 401. The caller's Allow
// list bounds what its requests (and its job reads) may name.
//
// Idempotency: the requests' delivery id is the Idempotency-Key header when
// given, else derived from the body (when it carries AskedAt) or from
// everything the signature covers (time, method, path, query, body), so a
// retried or replayed signed request yields the same idempotency keys (and
// the freshness rules find the backup its first delivery made) while a new
// request is a new ask. The same key for other backups is a 409: on every
// instance when the ask ledger is configured (UseKeyLedger: a row per
// route and key holds the plan's digest), else as far as this warm
// instance remembers (idemCache). askedAt is the
// body's AskedAt, else X-Timestamp, never later than the request arrived:
// a claimed time in the future is the first arrival, which a replay of the
// same request gets again (firstSeen, per warm instance).
//
// With openssl and curl (TestOpenSSLRecipe runs this):
//
//	BODY='{"DBInstanceId":"rm-uf6wjk5xxxx","BackupMethod":"Physical"}' KEY=release-42
//	TS=$(date +%s)
//	HASH=$(printf '%s' "$BODY" | openssl dgst -sha256 -hex | sed 's/^.* //')
//	SIG=$(printf '%s\n%s\n%s\n%s\n%s\n%s' "$TS" POST /v1/backups "" "$HASH" "$KEY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')
//	curl -sS "$URL/v1/backups" -H 'Content-Type: application/json' -H 'X-Caller: release-bot' \
//	  -H "X-Timestamp: $TS" -H "X-Signature-256: v1=$SIG" -H "Idempotency-Key: $KEY" --data-binary "$BODY"
//
// # GitHub (POST /v1/hooks/github)
//
// The webhook's content type must be application/json and its secret the
// route's secret. X-Hub-Signature-256 (HMAC-SHA256 of the raw body) is
// checked against the secrets of the github routes whose Repository matches
// the payload's repository.full_name. X-GitHub-Event "deployment" takes the
// backups of every such route whose Environments match
// deployment.environment — or, when deployment.payload has an "rdsBackup"
// key holding a request JSON, those backups, bounded by the routes' Allow.
// "ping" answers 200 pong; other events 202 ignored. X-GitHub-Delivery (the
// same on a redelivery) is the delivery id.
//
// # GitLab (POST /v1/hooks/gitlab)
//
// X-Gitlab-Token must equal the secret of a gitlab route whose Repository
// matches project.path_with_namespace (constant-time). "Deployment Hook"
// with status "running" takes the backups of the matching routes without a
// Stage whose Environments match the deployment's environment; other
// statuses are ignored (202). "Pipeline Hook" takes the backups of the
// routes with a Stage when the pipeline is running or pending, has that
// stage, no job of it has started, and the stage's environment (its jobs'
// environment names, else the pipeline's ref) matches Environments. The
// delivery id is "deployment/<id>" or "pipeline/<id>", the same for every
// hook of one deployment or pipeline, so repeated hooks ask for the same
// backups.
//
// # Jira (POST /v1/hooks/jira)
//
// A Jira admin webhook (jira.go) with the route's secret: X-Hub-Signature
// (sha256=<hex HMAC-SHA256 of the raw body>) is checked against the
// secrets of the jira routes whose Project matches the issue's
// fields.project.key (the current secret or the previous one); signed with
// another route's secret it is 401, like GitHub's. An issue of a project
// no route names is checked against every jira route's secret (one Jira
// webhook serves its site's every project) and then ignored.
// webhookEvent "jira:issue_updated" whose changelog has a "status" item
// whose toString equals a route's Status (case-insensitively), of an issue
// type in the route's IssueTypes (when it has any), takes the backups of
// every such route, within their Allow; a route with InstancesField takes
// one backup per instance id that field of the issue holds (a text "rm-a,
// rm-b", a list of strings, options {"value": ...}), each by grammar
// (400), at most MaxRequests (413), within Allow (403), with the
// parameters of its one backups entry; the field missing, null or empty
// is a 400 naming issue.fields.<field> and the route. Another event, status, project or
// issue type, or an update without a status change, is 202 ignored. The
// delivery id is X-Atlassian-Webhook-Identifier (the same on Jira's
// retries; "changelog/<id>" without it), and the issue key (the trigger's
// source) and the transition ("status:<from id>-><to id>") are part of the
// idempotency key, so a retry or a replay is the same ask. askedAt is the
// payload's timestamp (unix ms), judged by MaxAskAge like GitHub's
// created_at.
//
// # Token routes (POST /v1/hooks/token/{route})
//
// For a tool that can only send a fixed header and a templated body
// (token.go): Authorization: Bearer <the route's secret>, or Basic
// base64(<user>:<secret>) when the route has a user, compared in constant
// time over SHA-256 digests (their lengths do not leak). An unknown route
// name, a wrong or missing token, basic auth on a route without a user:
// the same 401 as GitHub's. The JSON body is mapped by the route's JSON
// pointers (RFC 6901): when {pointer, equals}, if set, must hold (else
// 202 ignored with the reason); id is the delivery's identity (required;
// 400 naming id without it); askedAt an RFC 3339 string, ServiceNow's
// "2026-12-07 05:13:02" (UTC: its Table API's form), or unix seconds or
// milliseconds (required; anything else is a 400 naming askedAt); instances a string of ids separated by
// commas or spaces, or a list of strings, each by grammar (400) and within
// allow (403). The ask's identity is the route, the id and the instance
// set, so a retry or a replay of a delivery is one ask; one older than the
// route's maxAskAge (else MaxAskAge, else DefaultMaxAskAge: never
// unlimited) is 202 ignored. The route's one backups entry, if any, gives
// every instance its parameters (BackupMethod, ...). A bearer token binds
// neither the body nor the time: a leaked token can ask for any allowed
// instance until it is rotated, and without HTTPS the body can be changed
// in transit.
//
// # Routes
//
// LoadRoutes reads them from JSON or YAML ({"routes": [...]} or a list;
// YAML through the YAML variable, which the webhook function's main sets
// to shared/webhook/routesyaml's Decode, so that only that function links
// gopkg.in/yaml.v3; a plain JSON document, the usual one, is read with
// shared/plainjson at start-up instead of encoding/json, which reads
// anything else and gives the same answers and errors);
// ResolveSecrets reads the secrets their SecretEnv names. Fields (also in
// ROUTES.md):
//
//   - name: unique route name (letters, digits, ".", "_", "-").
//   - source: "github", "gitlab", "jira", "signed" or "token".
//   - repository: GitHub full_name or GitLab path_with_namespace
//     (case-insensitive glob; "*" does not cross "/"); for signed routes the
//     caller id X-Caller names (default: name).
//   - organization: github, gitlab; the route is served by one
//     organization-level hook (GitHub organization webhook, GitLab group
//     webhook) whose secret routes of different repositories may share.
//     Without it, routes of different repositories may not share a
//     secret variable, nor may routes of different sources or signed
//     callers (crossCheck): a secret authenticates only its own routes.
//   - environments: deployment environments (case-insensitive globs, "*" =
//     all); required for github and gitlab routes.
//   - stage: gitlab only; makes the route act on Pipeline Hooks before this
//     stage runs instead of on Deployment Hooks.
//   - secretEnv: the environment variable holding the route's secret.
//   - previousSecretEnv: optional, the variable holding the secret being
//     rotated out; while it is set either secret verifies.
//   - backups: the backups to take (request JSON fields); required for
//     gitlab and jira (but with instancesField), optional for github, not
//     used for signed routes.
//   - allow: instance ids or globs the route may back up ("*" = all;
//     required for signed routes; default: the instances of backups).
//   - project: jira, required; the issues' project key (case-insensitive
//     glob, "OPS", "PAY*").
//   - status: jira, required; the status a transition must reach
//     (case-insensitive, "Implementing").
//   - issueTypes: jira, optional; issue type names (case-insensitive globs)
//     the route acts on; without it, every type.
//   - instancesField: jira, optional; the id of the issue field holding
//     the instance ids (customfield_10042, labels) instead of backups,
//     which then holds at most the parameters; allow is then required,
//     never "*".
//   - user: token, optional; the user name of Basic auth (without it only
//     Bearer is accepted).
//   - instances: token, required; the JSON pointer to the instance ids.
//   - askedAt: token, required; the JSON pointer to the ask's time.
//   - id: token, required; the JSON pointer to the delivery's identity.
//   - when: token, optional; {pointer, equals}: the body's condition.
//   - maxAskAge: token, optional; a Go duration ("2h"); default MaxAskAge.
//     A token route also requires allow, never "*", and takes at most one
//     backups entry, without DBInstanceId.
//
// Every request a route produces has Trigger{Kind: "github"|"gitlab"|
// "jira"|"signed"|"token", Source: repository, issue key, caller id or token route,
// DeliveryId} and its idempotency key from the delivery id, the instance
// and the parameters (events.NormalizePlan).
package webhook

package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// bodyMAC is GitHub's X-Hub-Signature-256: HMAC-SHA256 of the raw body.
func bodyMAC(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// parseGitHubSignature decodes X-Hub-Signature-256, "sha256=<64 hex digits>".
func parseGitHubSignature(v string) ([]byte, bool) {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(v), "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return nil, false
	}
	b, err := hex.DecodeString(hexSig)
	return b, err == nil
}

// unauthorized is the one 401 answer; reason goes to the log only unless
// public, which is safe to tell the caller (it reveals no configuration).
func unauthorized(c *call, reason, public string) events.HTTPResponse {
	c.reason = reason
	if public == "" {
		public = "missing or invalid signature"
	}
	return errorResponse(401, CodeUnauthorized, "", public)
}

// caller finds the signed route a request claims to come from.
func (h *Handler) caller(ev events.HTTPEvent) (*route, string) {
	id := strings.TrimSpace(ev.Header(HeaderCaller))
	switch {
	case id != "":
		if rt, ok := h.callers[id]; ok {
			return rt, ""
		}
		if id == DefaultCaller && h.defaultCaller != nil {
			return h.defaultCaller, ""
		}
		return nil, "unknown X-Caller"
	case h.defaultCaller != nil:
		return h.defaultCaller, ""
	case h.singleSigned != nil:
		return h.singleSigned, ""
	case len(h.callers) == 0:
		return nil, "no signed callers are configured (no signed route, no SignedSecret)"
	}
	return nil, "X-Caller is required: several signed routes are configured"
}

// authSigned authenticates a signed request (signature v1, sign.go): an
// X-Timestamp inside the replay window and an X-Signature-256 that is the
// MAC of the request's method, path, query, time, body and Idempotency-Key
// with the caller's secret (or, during a rotation, its previous one).
//
// What can be told without knowing the caller is told first, with a
// message that helps (a missing or stale X-Timestamp, an old or malformed
// signature): the answer is the same whether X-Caller names a route or
// not. Then the MAC is computed against exactly two keys whatever the
// caller — the route's secrets, or random keys of this instance for an
// unknown caller or a route without a secret — and compared in constant
// time, so an unknown caller and a wrong signature take the same time and
// get the same 401.
func (h *Handler) authSigned(ev events.HTTPEvent, body []byte, c *call) (*route, string, *events.HTTPResponse) {
	fail := func(reason, public string) (*route, string, *events.HTTPResponse) {
		r := unauthorized(c, reason, public)
		return nil, "", &r
	}
	ts := strings.TrimSpace(ev.Header(HeaderTimestamp))
	if ts == "" {
		return fail("no X-Timestamp", "X-Timestamp is required (unix seconds)")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 || strings.HasPrefix(ts, "+") {
		return fail("X-Timestamp is not unix seconds", "X-Timestamp must be unix seconds")
	}
	now := h.now().Unix()
	skew := now - sec
	if skew < 0 {
		skew = -skew
	}
	if skew > int64(h.window.Seconds()) {
		return fail(fmt.Sprintf("X-Timestamp %ds away from now", now-sec),
			fmt.Sprintf("X-Timestamp is outside the %s replay window", h.window))
	}
	sigHeader := ev.Header(HeaderSignature)
	if sigHeader == "" {
		return fail("no X-Signature-256", "X-Signature-256 is required ("+SignatureV1Prefix+"<hex>)")
	}
	sig, err := ParseSignatureV1(sigHeader)
	if err != nil {
		return fail(err.Error(), err.Error())
	}
	rt, why := h.caller(ev)
	if rt == nil && strings.HasPrefix(why, "X-Caller is required") {
		return fail(why, why)
	}
	canonical := CanonicalV1(ts, ev.Method(), canonicalPath(ev.RawPath, ev.RequestContext.HTTP.Path), canonicalQuery(ev.QueryParameters), body, ev.Header(HeaderIdempotencyKey))
	keys := h.dummyKeys()
	if rt != nil {
		for i, s := range rt.secrets {
			if i < len(keys) {
				keys[i] = s
			}
		}
	}
	match := 0
	for _, k := range keys {
		match |= subtle.ConstantTimeCompare(sig, macV1(k, canonical))
	}
	switch {
	case rt == nil:
		return fail(why, "")
	case len(rt.secrets) == 0:
		c.route, c.source = rt.Name, rt.Repository
		return fail("the caller's route has no secret configured", "")
	case match != 1:
		c.route, c.source = rt.Name, rt.Repository
		return fail("signature does not match", "")
	}
	c.route, c.source = rt.Name, rt.Repository
	return rt, ts, nil
}

// derivedDelivery starts the delivery id of a signed request that carried
// no Idempotency-Key (the id is then derived from what the signature covers).
const derivedDelivery = "req-"

// HasCallerKey reports whether a signed request's trigger carries the
// caller's own Idempotency-Key, i.e. the same ask may deliberately come
// again (the executor then checks recent backups before creating one); a
// Jira delivery's too (Jira retries it under the same identifier).
func HasCallerKey(t backup.Trigger) bool {
	return jiraTrigger(t) || t.Kind == KindToken || t.Kind == events.KindSigned && t.DeliveryId != "" && !strings.HasPrefix(t.DeliveryId, derivedDelivery)
}

// maxIdempotencyKey is the longest accepted Idempotency-Key header.
const maxIdempotencyKey = 200

func (h *Handler) postBackups(ctx context.Context, ev events.HTTPEvent, body []byte, c *call) events.HTTPResponse {
	rt, ts, fail := h.authSigned(ev, body, c)
	if fail != nil {
		return *fail
	}
	plan, err := backup.ParsePlan(body)
	if err != nil {
		return parseFailure(err, c)
	}
	delivery := strings.TrimSpace(ev.Header(HeaderIdempotencyKey))
	var claimReason string // why c.claim refused the call, if it did
	if delivery != "" {
		if len(delivery) > maxIdempotencyKey || !printable(delivery) {
			c.reason = "bad Idempotency-Key"
			return errorResponse(400, backup.CodeParametersInvalid, HeaderIdempotencyKey,
				fmt.Sprintf("%s: at most %d printable ASCII characters", HeaderIdempotencyKey, maxIdempotencyKey))
		}
		// The key names the ask: the same key for other backups is refused,
		// not a second ask. What is compared is the backups the body asks
		// for (the parsed plan, AskedAt aside): a pipeline step run again
		// with its CI run's key is the same ask, whatever AskedAt it sends.
		// Scoped by the authenticated route itself: two callers never share
		// a key, whatever their names. With a KeyLedger the row of the
		// caller's key holds the digest for every instance (keyClaim);
		// without one this warm instance's memory is all (idemCache).
		params := plan
		params.AskedAt = time.Time{}
		canon, _ := json.Marshal(params)
		c.claim = func() *events.HTTPResponse {
			resp, reason := h.claimKey(ctx, rt, delivery, canon, c.received)
			claimReason = reason
			return resp
		}
	} else if !plan.AskedAt.IsZero() {
		// The body names its own time: the same body (re-POSTed by a
		// pipeline with a fresh X-Timestamp) is the same ask.
		sum := sha256.Sum256(body)
		delivery = askedDelivery + hex.EncodeToString(sum[:12])
	} else {
		// The same signed request is the same ask: the key derives from
		// everything the signature covers (time, method, path, query, body;
		// there is no key), so a retried or replayed request gets the same
		// idempotency keys.
		sum := sha256.Sum256([]byte(CanonicalV1(ts, ev.Method(), canonicalPath(ev.RawPath, ev.RequestContext.HTTP.Path),
			canonicalQuery(ev.QueryParameters), body, "")))
		delivery = derivedDelivery + ts + "-" + hex.EncodeToString(sum[:8])
	}
	c.delivery = delivery
	trig := backup.Trigger{Kind: events.KindSigned, Source: rt.Repository, DeliveryId: delivery}
	// AskedAt (DESIGN.md §2): the body's, else the signed X-Timestamp —
	// never later than the request arrived (DESIGN.md §5). A claimed time
	// in the future (a caller's clock ahead, by up to the replay window)
	// would keep the ask fresh past its backup's end, so that a replay of
	// the same bytes made a backup of its own: it is the arrival of the
	// first delivery instead, and a replay of the same request (the same
	// ask, the same claimed time) gets that same askedAt (asksSeen).
	claimed := plan.AskedAt
	if claimed.IsZero() {
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil {
			claimed = time.Unix(sec, 0).UTC()
		}
	}
	askedAt := h.asksSeen.askedAt(rt, delivery+"\x00"+strconv.FormatInt(claimed.UnixNano(), 10), claimed, c.received.Truncate(time.Second).UTC())
	resp := h.submit(ctx, c, []*route{rt}, plan, trig, events.WithAskedAt(events.NormalizePlan(plan, trig), askedAt))
	if claimReason != "" { // submit names every refusal of c.claim a reuse; say which it was
		c.reason = claimReason
	}
	return resp
}

// CodeKeyUnchecked: the ask ledger could not say whether an
// Idempotency-Key is recorded with other backups (503; nothing was
// submitted; try again).
const CodeKeyUnchecked = "IdempotencyKey.Unchecked"

// keyRetryAfter is the Retry-After of a 503 CodeKeyUnchecked, in seconds.
const keyRetryAfter = "5"

// claimKey checks caller rt's Idempotency-Key k against the backups canon
// (the canonical plan without AskedAt) and says nil to go on, or the
// answer that refuses the call and why (for the log).
//
// The warm instance's memory first (idemCache; free): another body there
// is a 409 without a call. Without a KeyLedger that is all. With one, a
// key this instance does not know is claimed in the ledger, a row per
// caller and key whose digest every instance reads: another digest is the
// same 409; a new key, or the same digest (whoever holds the row), goes
// on, and the instance remembers it.
//
// The ledger down (or contended: no answer on the digest) is a 503, and
// nothing is submitted. Going on would be the executor's "never act
// without its record": it defers the asks it cannot claim, but its
// per-ask rows are keyed by the backups asked for, so another body's asks
// are new asks there and would run once the ledger is back — the key
// reused with another body, the one thing this check exists to refuse.
// The caller keeps its key and tries again.
func (h *Handler) claimKey(ctx context.Context, rt *route, k string, canon []byte, received time.Time) (*events.HTTPResponse, string) {
	reused := func(reason string) (*events.HTTPResponse, string) {
		r := errorResponse(409, CodeKeyReused, HeaderIdempotencyKey,
			HeaderIdempotencyKey+": already used by this caller for other backups; send the same backups to repeat the ask, or a new key for a new ask")
		return &r, reason
	}
	l := h.idem.ledger
	if l == nil {
		if h.idem.claim(rt, k, canon) {
			return nil, ""
		}
		return reused("Idempotency-Key reused with another body (this instance's memory)")
	}
	sum := sha256.Sum256(canon)
	if same, known := h.idem.lookup(rt, k, sum); known {
		if same {
			return nil, ""
		}
		return reused("Idempotency-Key reused with another body (this instance's memory of the ledger)")
	}
	scope := "route:" + rt.Name
	if rt == h.defaultCaller {
		scope = keyScopeDefault
	}
	err := l.ClaimKey(ctx, KeyClaim{Scope: scope, Key: keyPrefix + k, Digest: hex.EncodeToString(sum[:]), AskedAt: received})
	switch {
	case err == nil:
		h.idem.remember(rt, k, sum)
		return nil, ""
	case errors.Is(err, ErrKeyReused):
		return reused("Idempotency-Key reused with another body (the ledger's row)")
	}
	r := errorResponse(503, CodeKeyUnchecked, HeaderIdempotencyKey,
		HeaderIdempotencyKey+": the ask ledger could not check this key; nothing was submitted; try again with the same key")
	r.Headers["Retry-After"] = keyRetryAfter
	return &r, "Idempotency-Key not checked: " + err.Error()
}

// askedDelivery starts the delivery id of a signed request whose body
// carried AskedAt (the body identifies the ask).
const askedDelivery = "asked-"

func (h *Handler) getJob(ctx context.Context, ev events.HTTPEvent, body []byte, instance, jobID string, c *call) events.HTTPResponse {
	rt, _, fail := h.authSigned(ev, body, c)
	if fail != nil {
		return *fail
	}
	// The path's ids by their grammar before the allow-list (path.Match
	// would let "*" match a comma list) and before any read.
	if !backup.ValidInstanceID(instance) {
		c.reason = "bad path: " + backup.CodeInstanceIdFormat
		return jsonResponse(400, errorBody{Error: errorInfo{Code: backup.CodeInstanceIdFormat, Field: "DBInstanceId",
			Message: "DBInstanceId " + backup.Quote(instance, 72) + " in the path: " + backup.InstanceIdRule}})
	}
	if !backup.ValidJobID(jobID) {
		c.reason = "bad path: BackupJobId"
		return jsonResponse(400, errorBody{Error: errorInfo{Code: backup.CodeParametersInvalid, Field: "BackupJobId", DBInstanceId: instance,
			Message: "BackupJobId " + backup.Quote(jobID, 32) + " in the path: " + backup.JobIdRule}})
	}
	for k := range ev.QueryParameters {
		if k != "RegionId" {
			c.reason = "unknown query parameter"
			return errorResponse(400, backup.CodeParametersInvalid, "query",
				fmt.Sprintf("query parameter %s: unknown (the status endpoint takes only RegionId)", backup.Quote(k, 32)))
		}
	}
	region := ev.Query("RegionId")
	if v := h.regions(ctx).Check("RegionId", region); v != nil {
		c.reason = "region refused: " + violationReason(v)
		return violationResponse(v, instance)
	}
	if !allowed(rt.Allow, instance) {
		c.reason = "instance not allowed"
		return jsonResponse(403, errorBody{Error: errorInfo{Code: CodeNotAllowed, Field: "DBInstanceId", DBInstanceId: instance,
			Message: fmt.Sprintf("route %q does not allow instance %s", rt.Name, instance)}})
	}
	if h.jobs == nil {
		return errorResponse(501, CodeNotConfigured, "", "job status is not available in this deployment")
	}
	job, found, err := h.jobs.JobStatus(ctx, region, instance, jobID)
	if err != nil {
		c.reason = "JobStatus: " + err.Error()
		return errorResponse(502, CodeJobStatus, "", "could not read the job status from RDS; try again")
	}
	if !found {
		return jsonResponse(404, errorBody{Error: errorInfo{Code: CodeJobNotFound, DBInstanceId: instance,
			Message: fmt.Sprintf("instance %s has no backup job %s", instance, jobID)}})
	}
	if job.BackupJobId == "" {
		job.BackupJobId = jobID
	}
	return jsonResponse(200, jobBody{
		DBInstanceId: instance,
		BackupJobId:  job.BackupJobId,
		BackupStatus: job.BackupStatus,
		Process:      job.Process,
		Terminal:     job.Terminal(),
		BackupId:     job.BackupId,
	})
}

// jobBody is the answer of GET /v1/backups/{DBInstanceId}/{BackupJobId}.
type jobBody struct {
	DBInstanceId string `json:"DBInstanceId"`
	BackupJobId  string `json:"BackupJobId"`
	BackupStatus string `json:"BackupStatus"`
	Process      string `json:"Process"`
	Terminal     bool   `json:"terminal"`
	BackupId     string `json:"BackupId"`
}

// parseFailure answers a body that is not a valid request JSON.
func parseFailure(err error, c *call) events.HTTPResponse {
	var v *backup.Violation
	if errors.As(err, &v) {
		c.reason = "bad request: " + violationReason(v)
		return violationResponse(v, "")
	}
	c.reason = "bad request: " + backup.CodeMalformed
	return errorResponse(400, backup.CodeMalformed, "body", err.Error())
}

// violationReason is what the log says of a refused request: the code and
// the field, never the value (it is the caller's input).
func violationReason(v *backup.Violation) string {
	return v.Code + " on " + backup.Quote(v.Field, 64)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

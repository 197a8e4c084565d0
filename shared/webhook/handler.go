package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// Submitter runs normalized requests (the executor implements it): it
// validates them against the instance, creates the backups or queues them,
// and returns one outcome per request (more when plan.Select expands; the
// expanded requests come from trig, like reqs).
type Submitter interface {
	Submit(ctx context.Context, trig backup.Trigger, reqs []backup.Request, plan backup.Plan) []backup.Outcome
}

// JobReader reads a backup job's state (DescribeBackupTasks). found is
// false when the instance has no such job. region may be empty (the
// function's region).
type JobReader interface {
	JobStatus(ctx context.Context, region, instance, jobID string) (job backup.Job, found bool, err error)
}

// RejectSink is told about every request refused because its route does not
// allow it (403), so a rejected outcome can be published. Unauthenticated
// callers (401) are not reported: that would let anyone spam the
// notification queue.
type RejectSink interface {
	Rejected(ctx context.Context, r backup.Request, err *backup.ErrorInfo)
}

// Defaults of Config.
const (
	DefaultMaxBody      = 1 << 20 // 1 MiB
	DefaultReplayWindow = 5 * time.Minute
	DefaultMaxRequests  = 100
	DefaultMaxAskAge    = 24 * time.Hour
)

// DefaultCaller is the caller id of signed requests authenticated with
// Config.SignedSecret.
const DefaultCaller = "default"

// Request headers the handler reads.
const (
	HeaderSignature      = "X-Signature-256"     // signed requests: v1=<hex> (sign.go)
	HeaderTimestamp      = "X-Timestamp"         // signed requests: unix seconds
	HeaderCaller         = "X-Caller"            // signed requests: the caller id of a signed route
	HeaderIdempotencyKey = "Idempotency-Key"     // signed POST: optional idempotency key base
	HeaderGitHubEvent    = "X-GitHub-Event"      // deployment, ping, ...
	HeaderGitHubDelivery = "X-GitHub-Delivery"   // the delivery GUID (same on redelivery)
	HeaderGitHubSig      = "X-Hub-Signature-256" // sha256=<hex> HMAC of the body
	HeaderGitLabEvent    = "X-Gitlab-Event"      // Deployment Hook, Pipeline Hook, ...
	HeaderGitLabToken    = "X-Gitlab-Token"      // the route's secret token, verbatim
)

// Error codes of the JSON error bodies (besides backup.Violation codes for 400).
const (
	CodeUnauthorized     = "Unauthorized"
	CodeNotAllowed       = "Forbidden.NotAllowed"
	CodeNotFound         = "NotFound"
	CodeMethodNotAllowed = "MethodNotAllowed"
	CodePayloadTooLarge  = "PayloadTooLarge"
	CodeKeyReused        = "IdempotencyKey.Reused" // 409: the key named other backups
	CodeJobNotFound      = "BackupJobNotFound"
	CodeJobStatus        = "JobStatusUnavailable"
	CodeNotConfigured    = "NotConfigured"
	CodeInternal         = "InternalError"
)

// Config configures a Handler.
type Config struct {
	// Routes, from LoadRoutes.
	Routes []Route
	// Secrets maps a route's SecretEnv (and PreviousSecretEnv) to the
	// secret's value. ResolveSecrets builds it and returns an error naming
	// every variable that is missing or empty; the webhook function
	// (shared/app) then refuses to start, so Function Compute answers every
	// call with its error, never a 401. Only a Handler built here with a
	// route whose secrets are all missing (a test, another embedder) logs a
	// warning and refuses that route's requests with 401.
	Secrets map[string]string
	// SignedSecret, when set, authenticates signed requests of the
	// implicit caller "default": it is used when a request has no X-Caller
	// header (or X-Caller: default and no signed route has that caller id),
	// and may back up every instance (Allow "*"). It is the DESIGN.md §5
	// setup with one shared secret and no routes. Leave it empty to accept
	// only the callers of signed routes.
	SignedSecret string
	// MaxBody is the largest accepted body in bytes (default 1 MiB); a
	// larger one gets 413.
	MaxBody int64
	// ReplayWindow is how far X-Timestamp may be from now (default 5m).
	ReplayWindow time.Duration
	// MaxRequests is the most backups one call may name (default 100,
	// BACKUP_MAX_REQUESTS_PER_CALL): a signed POST, a GitHub or GitLab
	// delivery. More is a 413 and nothing is submitted. The Submitter
	// applies it to a Select's expansion and answers with one rejected
	// outcome of code backup.CodeTooManyBackups, which is a 413 too.
	MaxRequests int
	// MaxAskAge is the oldest a GitHub, GitLab or Jira delivery's event
	// time (its askedAt: a GitHub deployment's created_at, a GitLab
	// deployment's status_changed_at, a pipeline's created_at, a Jira
	// event's timestamp) may be when it arrives (DefaultMaxAskAge is the recommended 24h; 0: no limit).
	// An older one is
	// answered 202 "ignored" with the reason and asks nothing: GitHub's
	// signatures carry no time, so a captured delivery could otherwise be
	// replayed after the ask ledger forgot its row.
	MaxAskAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per request (default slog.Default()). No
	// header values, secrets or bodies are logged.
	Logger *slog.Logger
	// Regions returns the regions requests may name in the invocation of
	// ctx (DESIGN.md §5): the function's own region plus the configured
	// ones. Every RegionId of a call (its backups, Defaults, Select, the
	// status endpoint's ?RegionId=) is checked against it before anything
	// is submitted or read; a call naming another region is a 400. nil
	// allows no explicit RegionId (requests then use the function's
	// region).
	Regions func(ctx context.Context) backup.Regions
}

// Handler is the HTTP API of the webhook function (DESIGN.md §5). It is safe
// for concurrent use.
type Handler struct {
	routes        []*route
	callers       map[string]*route // signed routes by caller id
	defaultCaller *route            // the implicit SignedSecret caller, or nil
	singleSigned  *route            // the only signed route, when there is one
	sub           Submitter
	jobs          JobReader
	rej           RejectSink
	reports       ReportReader // GET /v1/report (report.go); nil: 501
	maxBody       int64
	window        time.Duration
	maxReqs       int
	maxAskAge     time.Duration
	now           func() time.Time
	log           *slog.Logger
	regions       func(ctx context.Context) backup.Regions
	dummyOnce     sync.Once
	dummy         [2][]byte // random keys for unknown callers (dummyKeys)
	idem          *idemCache
	asksSeen      *firstSeen
}

// route is a Route with its secrets resolved: the current one, and the
// previous one while it is rotated out (either verifies).
type route struct {
	Route
	secrets [][]byte
}

// secretsOf resolves a route's secrets (the empty ones left out).
func secretsOf(r Route, secrets map[string]string) [][]byte {
	var out [][]byte
	for _, env := range []string{r.SecretEnv, r.PreviousSecretEnv} {
		if v := secrets[env]; env != "" && v != "" {
			out = append(out, []byte(v))
		}
	}
	return out
}

// New builds a Handler. sub is required; jobs may be nil (GET of a job then
// answers 501) and rej may be nil (refusals are then only logged). Routes
// should come from LoadRoutes; a route whose secret is missing is logged
// and refuses every request.
func New(cfg Config, sub Submitter, jobs JobReader, rej RejectSink) *Handler {
	if sub == nil {
		panic("webhook: New needs a Submitter")
	}
	h := &Handler{
		callers:   map[string]*route{},
		sub:       sub,
		jobs:      jobs,
		rej:       rej,
		maxBody:   cfg.MaxBody,
		window:    cfg.ReplayWindow,
		maxReqs:   cfg.MaxRequests,
		now:       cfg.Now,
		maxAskAge: cfg.MaxAskAge,
		log:       cfg.Logger,
		regions:   cfg.Regions,
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.window <= 0 {
		h.window = DefaultReplayWindow
	}
	if h.maxReqs <= 0 {
		h.maxReqs = DefaultMaxRequests
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.regions == nil {
		h.regions = func(context.Context) backup.Regions { return backup.Regions{} }
	}
	h.idem = newIdemCache(idemCacheSize)
	h.asksSeen = newFirstSeen(idemCacheSize)
	var signed []*route
	for _, r := range cfg.Routes {
		rt := &route{Route: r, secrets: secretsOf(r, cfg.Secrets)}
		rt.Allow = effectiveAllow(r)
		if len(rt.secrets) == 0 {
			h.log.Warn("webhook route has no secret; it refuses every request", "route", r.Name, "secretEnv", r.SecretEnv)
		}
		h.routes = append(h.routes, rt)
		if r.Source == SourceSigned {
			id := r.Repository
			if id == "" {
				id = r.Name
			}
			rt.Repository = id
			if _, dup := h.callers[id]; !dup {
				h.callers[id] = rt
			}
			signed = append(signed, rt)
		}
	}
	if cfg.SignedSecret != "" {
		h.defaultCaller = &route{
			Route:   Route{Name: DefaultCaller, Source: SourceSigned, Repository: DefaultCaller, Allow: []string{"*"}},
			secrets: [][]byte{[]byte(cfg.SignedSecret)},
		}
	}
	if len(signed) == 1 {
		h.singleSigned = signed[0]
	}
	return h
}

// effectiveAllow is the route's Allow, or for webhook routes without one,
// the instances of its Backups (what LoadRoutes would have set).
func effectiveAllow(r Route) []string {
	if len(r.Allow) > 0 || r.Source == SourceSigned {
		return r.Allow
	}
	var out []string
	for _, s := range r.Backups {
		out = append(out, s.DBInstanceId)
	}
	return out
}

// HandleRaw decodes an FC 3.0 HTTP event and handles it. An event that is
// not an HTTP event gets a 400 response and a non-nil error (the function
// was invoked by something other than its HTTP trigger).
func (h *Handler) HandleRaw(ctx context.Context, raw json.RawMessage) (events.HTTPResponse, error) {
	ev, err := events.ParseHTTP(raw)
	if err != nil {
		h.log.WarnContext(ctx, "webhook: not an HTTP trigger event", "error", err)
		return errorResponse(400, backup.CodeMalformed, "event", "not an FC 3.0 HTTP trigger event"), fmt.Errorf("webhook: %w", err)
	}
	return h.Handle(ctx, ev), nil
}

// call collects what one request's log line says.
type call struct {
	received time.Time // when Handle began (the handler's clock): askedAt is never later
	route    string
	source   string
	delivery string
	reason   string
	requests int
	// claim, when set, is called by submit right before the requests go to
	// the Submitter (the Idempotency-Key check); a non-nil answer refuses
	// the call.
	claim func() *events.HTTPResponse
}

// Handle answers one HTTP request. The response is always a valid FC 3.0
// response with a JSON body and a non-nil headers map.
func (h *Handler) Handle(ctx context.Context, ev events.HTTPEvent) (resp events.HTTPResponse) {
	start := h.now()
	c := &call{received: start}
	defer func() {
		if p := recover(); p != nil {
			c.reason = fmt.Sprintf("panic: %v", p)
			resp = errorResponse(500, CodeInternal, "", "internal error")
		}
		h.logCall(ctx, ev, resp.StatusCode, c, start)
	}()
	return h.dispatch(ctx, ev, c)
}

func (h *Handler) dispatch(ctx context.Context, ev events.HTTPEvent, c *call) events.HTTPResponse {
	segs := ev.PathSegments()
	var method string
	var serve func(body []byte) events.HTTPResponse
	switch {
	case len(segs) == 1 && segs[0] == "healthz":
		method = "GET"
		serve = func([]byte) events.HTTPResponse { return jsonResponse(200, map[string]string{"status": "ok"}) }
	case len(segs) == 2 && segs[0] == "v1" && segs[1] == "backups":
		method = "POST"
		serve = func(body []byte) events.HTTPResponse { return h.postBackups(ctx, ev, body, c) }
	case len(segs) == 4 && segs[0] == "v1" && segs[1] == "backups":
		method = "GET"
		serve = func(body []byte) events.HTTPResponse { return h.getJob(ctx, ev, body, segs[2], segs[3], c) }
	case len(segs) == 2 && segs[0] == "v1" && segs[1] == "report":
		method = "GET"
		serve = func(body []byte) events.HTTPResponse { return h.getReport(ctx, ev, body, c) }
	case len(segs) == 3 && segs[0] == "v1" && segs[1] == "hooks" && segs[2] == "github":
		method = "POST"
		serve = func(body []byte) events.HTTPResponse { return h.github(ctx, ev, body, c) }
	case len(segs) == 3 && segs[0] == "v1" && segs[1] == "hooks" && segs[2] == "gitlab":
		method = "POST"
		serve = func(body []byte) events.HTTPResponse { return h.gitlab(ctx, ev, body, c) }
	case len(segs) == 3 && segs[0] == "v1" && segs[1] == "hooks" && segs[2] == "jira":
		method = "POST"
		serve = func(body []byte) events.HTTPResponse { return h.jira(ctx, ev, body, c) }
	case len(segs) == 4 && segs[0] == "v1" && segs[1] == "hooks" && segs[2] == "token":
		method = "POST"
		serve = func(body []byte) events.HTTPResponse { return h.token(ctx, ev, body, segs[3], c) }
	default:
		return errorResponse(404, CodeNotFound, "", "no such endpoint; see the README (POST /v1/backups, GET /v1/backups/{DBInstanceId}/{BackupJobId}, GET /v1/report, POST /v1/hooks/github, POST /v1/hooks/gitlab, POST /v1/hooks/jira, POST /v1/hooks/token/{route}, GET /healthz)")
	}
	if ev.Method() != method {
		resp := errorResponse(405, CodeMethodNotAllowed, "", fmt.Sprintf("use %s", method))
		resp.Headers["Allow"] = method
		return resp
	}
	limit := h.maxBody
	if ev.IsBase64Encoded {
		limit = int64(base64.StdEncoding.EncodedLen(int(min(h.maxBody, 1<<40))))
	}
	if int64(len(ev.Body)) > limit {
		return errorResponse(413, CodePayloadTooLarge, "body", fmt.Sprintf("body is larger than %d bytes", h.maxBody))
	}
	body, err := ev.RawBody()
	if err != nil {
		return errorResponse(400, backup.CodeMalformed, "body", "body is marked isBase64Encoded but is not valid base64")
	}
	if int64(len(body)) > h.maxBody {
		return errorResponse(413, CodePayloadTooLarge, "body", fmt.Sprintf("body is larger than %d bytes", h.maxBody))
	}
	return serve(body)
}

func (h *Handler) logCall(ctx context.Context, ev events.HTTPEvent, status int, c *call, start time.Time) {
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status == 401 || status == 403 || status == 413:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("http.request.method", clip(ev.Method(), 16)),
		slog.String("url.path", clip(ev.RawPath, 160)),
		slog.Int("http.response.status_code", status),
		slog.String("fcRequestId", clip(ev.RequestContext.RequestID, 100)),
		slog.Int64("durationMs", h.now().Sub(start).Milliseconds()),
	}
	if c.route != "" {
		attrs = append(attrs, slog.String("route", c.route))
	}
	if c.source != "" {
		attrs = append(attrs, slog.String("source", clip(c.source, 128)))
	}
	if c.delivery != "" {
		attrs = append(attrs, slog.String("deliveryId", clip(c.delivery, 128)))
	}
	if c.requests > 0 {
		attrs = append(attrs, slog.Int("requests", c.requests))
	}
	if c.reason != "" {
		attrs = append(attrs, slog.String("reason", clip(c.reason, 300)))
	}
	h.log.LogAttrs(ctx, level, "webhook request", attrs...)
}

// clip bounds what a caller sent in a log line (identifiers, paths,
// reasons), on a rune boundary.
func clip(s string, n int) string { return backup.Clip(s, n) }

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error    errorInfo `json:"error"`
	Requests []entry   `json:"requests,omitempty"`
}

type errorInfo struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	Field        string `json:"field,omitempty"`
	DBInstanceId string `json:"DBInstanceId,omitempty"`
}

// entry is one request of a 202 (or 403) response.
type entry struct {
	Status        backup.Status `json:"status"`
	DBInstanceId  string        `json:"DBInstanceId"`
	BackupJobId   string        `json:"BackupJobId,omitempty"`
	BackupId      string        `json:"BackupId,omitempty"` // coalesced with a finished backup set
	BackupStatus  string        `json:"BackupStatus,omitempty"`
	CorrelationId string        `json:"correlationId"`
	// IdempotencyKey and AskedAt name the ask (DESIGN.md §2): send them
	// again (Idempotency-Key header, AskedAt field) to repeat the same ask.
	IdempotencyKey string     `json:"idempotencyKey,omitempty"`
	AskedAt        *time.Time `json:"askedAt,omitempty"`
	// NotBefore, for a deferred entry: when the ask is tried again (a
	// pipeline may re-POST the same ask then).
	NotBefore *time.Time  `json:"notBefore,omitempty"`
	Error     *entryError `json:"error,omitempty"`
}

type entryError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func errorResponse(status int, code, field, message string) events.HTTPResponse {
	return jsonResponse(status, errorBody{Error: errorInfo{Code: code, Message: message, Field: field}})
}

func violationResponse(v *backup.Violation, instance string) events.HTTPResponse {
	status := v.HTTPStatus
	if status < 400 || status > 499 {
		status = 400
	}
	return jsonResponse(status, errorBody{Error: errorInfo{Code: v.Code, Message: v.Message, Field: v.Field, DBInstanceId: backup.Clip(instance, backup.MaxInstanceIdLen)}})
}

// jsonResponse is an FC 3.0 response with v as its JSON body.
func jsonResponse(status int, v any) events.HTTPResponse {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = 500
		b.Reset()
		b.WriteString(`{"error":{"code":"InternalError","message":"internal error"}}`)
	}
	return events.HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":           "application/json",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
		Body: strings.TrimSuffix(b.String(), "\n"),
	}
}

// dummyKeys are the keys an unknown caller's signature or token is checked
// against, so that its check costs what a known caller's does. They are
// random, made at their first use rather than in New: the process's first
// read of the system's randomness would cost every cold start about 50 µs.
func (h *Handler) dummyKeys() [2][]byte {
	h.dummyOnce.Do(func() {
		for i := range h.dummy {
			h.dummy[i] = make([]byte, 32)
			rand.Read(h.dummy[i]) // never fails (it crashes the program instead)
		}
	})
	return h.dummy
}

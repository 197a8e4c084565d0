package app

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/fc-rds-backup/fc-rds-backup/shared/version"
)

type ctxKey int

const (
	keyAttrs ctxKey = iota
	keyInvocation
)

// The OpenTelemetry faas.trigger values of the functions' triggers.
const (
	triggerTimer  = "timer"  // the scheduled function's timer trigger
	triggerPubSub = "pubsub" // the queue function's MNS (EventBridge) trigger
	triggerHTTP   = "http"   // the webhook function's HTTP trigger
)

// withLogAttrs returns ctx carrying attrs that every log line written with
// that ctx gets (the faas.* and cloud.* attributes of the invocation).
func withLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(keyAttrs).([]slog.Attr)
	return context.WithValue(ctx, keyAttrs, append(append([]slog.Attr(nil), prev...), attrs...))
}

// invocationAttrs are the OpenTelemetry FaaS and cloud attributes of an
// invocation of a, by trigger (triggerTimer, …), from its FC context (nil
// outside Function Compute): written on every line of the invocation.
// faas.coldstart is true on the first invocation the App (one per
// process) serves.
func (a *App) invocationAttrs(fctx *fccontext.FcContext, trigger string) []slog.Attr {
	name, region, account, id := a.function, a.cfg.Region, "", ""
	if fctx != nil {
		id, account = fctx.RequestID, fctx.AccountId
		if fctx.Function.Name != "" {
			name = fctx.Function.Name
		}
		if fctx.Region != "" {
			region = fctx.Region
		}
	}
	attrs := []slog.Attr{
		slog.String("faas.trigger", trigger),
		slog.String("faas.invocation_id", id),
		slog.Bool("faas.coldstart", !a.invoked.Swap(true)),
		slog.String("faas.name", name),
		slog.String("service.version", version.String()),
		slog.String("cloud.provider", "alibaba_cloud"),
		slog.String("cloud.platform", "alibaba_cloud_fc"),
		slog.String("cloud.region", region),
	}
	if account != "" {
		attrs = append(attrs, slog.String("cloud.account.id", account))
	}
	return attrs
}

// ctxHandler adds the context's attributes to each record.
type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(keyAttrs).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ctxHandler{h.Handler.WithAttrs(attrs)}
}

func (h ctxHandler) WithGroup(name string) slog.Handler { return ctxHandler{h.Handler.WithGroup(name)} }

// NewLogger returns the functions' JSON logger: one object per line on w,
// with the invocation's faas.* and cloud.* attributes on every line
// written with its context. The keys are LogFields'.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	return slog.New(ctxHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: durationsInMs})})
}

// durationsInMs writes a duration that reaches the logger as milliseconds
// (a number) under its key with the suffix Ms, never as "1.5s": the code
// logs durations as slog.Int64("delayMs", d.Milliseconds()); this is the
// safety net.
func durationsInMs(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		key := a.Key
		if !strings.HasSuffix(key, "Ms") {
			key += "Ms"
		}
		return slog.Int64(key, a.Value.Duration().Milliseconds())
	}
	return a
}

// LogField is one key of the functions' log lines.
type LogField struct {
	Key, Type, Meaning string
}

// LogFields are every key the functions' log lines carry (shared/app,
// settle, planrun, reask, accounts, executor, notify, webhook, tracker),
// the OpenTelemetry names where OpenTelemetry has one, else lowerCamel;
// durations are whole
// milliseconds under a key ending in Ms. docs/logs.md shows the table
// (go test ./shared/tooling/readme -update), and TestLogLinesKeepTheTable
// holds the code to it.
var LogFields = []LogField{
	// slog's own.
	{"time", "string", "when, RFC 3339 with the local offset"},
	{"level", "string", "`DEBUG`, `INFO`, `WARN` or `ERROR`"},
	{"msg", "string", "what happened, a fixed sentence (search by it)"},
	// Every line of an invocation (OpenTelemetry FaaS and cloud).
	{"faas.trigger", "string", "`timer` (scheduled), `pubsub` (queue: MNS through EventBridge) or `http` (webhook)"},
	{"faas.invocation_id", "string", "the Function Compute request id of the invocation"},
	{"faas.coldstart", "bool", "true on the first invocation of the function's process"},
	{"faas.name", "string", "the function's name in Function Compute (`scheduled`, `queue` or `webhook` when the context lacks it)"},
	{"cloud.provider", "string", "`alibaba_cloud`"},
	{"cloud.platform", "string", "`alibaba_cloud_fc`"},
	{"cloud.region", "string", "the function's region"},
	{"cloud.account.id", "string", "the Alibaba Cloud account id, when the FC context carries it"},
	{"service.version", "string", "the build's version: its release tag (`make dist`), else the module version or VCS revision, else `dev` (every line of an invocation)"},
	{"function", "string", "which of the three functions: `scheduled`, `queue` or `webhook` (every line, also outside an invocation)"},
	// An ask.
	{"correlationId", "string", "follows an ask through logs, answers and outcomes"},
	{"idempotencyKey", "string", "the ask's idempotency key"},
	{"dbInstanceId", "string", "the RDS instance (clipped)"},
	{"backupJobId", "string", "the RDS backup job"},
	{"backupId", "string", "the backup set a finished job made"},
	{"backupStatus", "string", "RDS's status of a tracked job (e.g. `Uploading`)"},
	{"process", "string", "RDS's progress of a tracked job, in percent"},
	{"check", "int", "which check of a tracked job this is"},
	{"status", "string", "the outcome's status (`accepted`, `coalesced`, `completed`, `deferred`, `failed`, `rejected`)"},
	{"terminal", "bool", "whether the outcome ends the ask"},
	{"code", "string", "an error code (RDS's, MNS's or the product's); `\"\"` on success"},
	{"class", "string", "the retry class of an error: `transient`, `state-wait` or `terminal`"},
	{"field", "string", "the request field a rejection names"},
	{"message", "string", "an error message (clipped)"},
	{"error", "string", "what went wrong (clipped)"},
	{"action", "string", "the RDS API called (e.g. `CreateBackup`)"},
	{"attempt", "int", "which try of a call this is"},
	{"attempts", "int", "how many tries were made"},
	{"rdsCalls", "int", "RDS calls the ask made in this invocation"},
	{"rdsRequestId", "string", "RDS's request id of a call (quote it to Alibaba Cloud support)"},
	{"selector", "string", "a plan's `Select`, described"},
	{"accountId", "string", "the member account an ask or a credential is for (`AccountId`; absent in the functions' own)"},
	{"memberRole", "string", "the role assumed in a member account (`BACKUP_MEMBER_ROLE`)"},
	{"credential", "string", "what the broker of member credentials did: `issued`, `retry` or `failed`"},
	{"instances", "int", "instances a `Select` expanded to"},
	{"callsPerSecond", "float", "the pace an API's calls go at once its own quota answered Throttling.Api (retry.Pacer)"},
	// Durations, whole milliseconds.
	{"delayMs", "int", "how long until the next try (work queue delay or in-invocation wait)"},
	{"pauseMs", "int", "how long a throttled call slows down"},
	{"waitMs", "int", "how long before an outcome's publish is tried again"},
	{"nextCheckInMs", "int", "how long until a tracked job is checked again"},
	{"elapsedMs", "int", "how long a tracked job took since it was accepted"},
	{"durationMs", "int", "how long a webhook request took"},
	// A plan run and an invocation's input.
	{"triggerName", "string", "the timer trigger's name"},
	{"triggerTime", "string", "the timer trigger's time"},
	{"requests", "int", "asks in an invocation's input or a step handed on"},
	{"select", "bool", "whether a timer plan has a `Select`"},
	{"page", "int", "which page of a `Select` a step reads"},
	{"step", "string", "a parallel step of a plan run"},
	{"steps", "int", "parallel steps handed on"},
	{"bytes", "int", "the size of an event or message body"},
	{"items", "int", "`plan run summary`: the run's asks"},
	{"accepted", "int", "`plan run summary`: asks whose first outcome was `accepted`"},
	{"coalesced", "int", "`plan run summary`: … `coalesced`"},
	{"rejected", "int", "`plan run summary`: … `rejected`"},
	{"failed", "int", "`plan run summary`: … `failed`"},
	{"deferred", "int", "`plan run summary`: … `deferred`"},
	{"completed", "int", "`plan run summary`: … `completed`"},
	// Publishing (shared/notify).
	{"eventId", "string", "the outcome event's id (its CloudEvents `id`)"},
	{"type", "string", "the outcome event's type (e.g. `rds.backup.accepted`)"},
	{"subject", "string", "the outcome event's subject, the instance (clipped)"},
	{"destination", "string", "the notification queue or topic"},
	{"mnsMessageId", "string", "MNS's id of a published message"},
	{"policy", "string", "`BACKUP_NOTIFY_OUTCOMES`"},
	// The webhook (shared/webhook; OpenTelemetry HTTP names).
	{"http.request.method", "string", "the HTTP method"},
	{"url.path", "string", "the request path (clipped)"},
	{"http.response.status_code", "int", "the HTTP status answered"},
	{"fcRequestId", "string", "the HTTP event's request id (the same as faas.invocation_id in Function Compute)"},
	{"route", "string", "the webhook route that took the request"},
	{"source", "string", "the caller: a signed caller, a repository (clipped)"},
	{"deliveryId", "string", "the GitHub or GitLab delivery (clipped)"},
	{"reason", "string", "why a request was refused or ignored (clipped)"},
	{"secretEnv", "string", "the environment variable a route's secret should be in"},
}

// LogFieldsMarkdown renders LogFields as a Markdown table.
func LogFieldsMarkdown() string {
	var b strings.Builder
	b.WriteString("| key | type | meaning |\n|---|---|---|\n")
	for _, f := range LogFields {
		b.WriteString("| `" + f.Key + "` | " + f.Type + " | " + f.Meaning + " |\n")
	}
	return b.String()
}

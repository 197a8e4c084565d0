package app

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/syncbuf"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	localauth "github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

const (
	notifyQ = "rds-backup-notify"
	workQ   = "rds-backup-work"
)

// harness is one function's App on a local RDS and MNS, invoked in-process
// with an FC context carrying STS credentials.
type harness struct {
	t    *testing.T
	rds  *rds.Server
	mns  *mns.Server
	auth *localauth.Store
	role localauth.Credential
	app  *App
	logs *syncbuf.Buffer
	env  []string
}

func newHarness(t *testing.T, function string, env ...string) *harness {
	t.Helper()
	auth := localauth.NewStore(nil)
	h := &harness{t: t, logs: &syncbuf.Buffer{}, auth: auth}
	h.rds = rds.NewServer(rds.WithCredentials(auth), rds.WithBackupDuration(time.Minute))
	h.mns = mns.NewServer(mns.WithCredentials(auth))
	t.Cleanup(func() { h.rds.Close(); h.mns.Close() })
	for _, q := range []string{notifyQ, workQ} {
		if err := h.mns.CreateQueue(q, mns.QueueAttributes{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"rm-a", "rm-b", "rm-c"} {
		h.rds.AddInstance(rds.Instance{DBInstanceId: id, Engine: "MySQL", Databases: []string{"orders"}})
	}
	h.role = auth.IssueSTS(time.Hour)
	environ := append([]string{
		"BACKUP_MNS_ENDPOINT=" + h.mns.Endpoint(),
		"BACKUP_RDS_ENDPOINT=" + h.rds.Endpoint(),
		"BACKUP_RDS_PROTOCOL=http",
		"BACKUP_REGION=cn-hangzhou",
		"FC_RUNTIME_API=127.0.0.1:1", // as inside FC: credentials come per invocation
	}, env...)
	h.env = environ
	cfg, err := config.Load(environ, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.app, err = New(function, cfg, Options{Logger: NewLogger(h.logs, "debug")})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// another is the App of another function on the same local cloud.
func (h *harness) another(function string, env ...string) *App {
	h.t.Helper()
	cfg, err := config.Load(append(append([]string{}, h.env...), env...), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	a, err := New(function, cfg, Options{Logger: NewLogger(h.logs, "debug")})
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	h.t.Cleanup(cancel)
	return fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID: "1-test-" + h.t.Name(),
		Region:    "cn-hangzhou",
		Credentials: fccontext.Credentials{
			AccessKeyId: h.role.AccessKeyID, AccessKeySecret: h.role.AccessKeySecret, SecurityToken: h.role.SecurityToken,
		},
	})
}

func (h *harness) outcomes() []notify.Event {
	h.t.Helper()
	var out []notify.Event
	for _, m := range h.mns.Messages(notifyQ) {
		ev, err := notify.ParseEvent([]byte(m.Body))
		if err != nil {
			h.t.Fatalf("notification is not an outcome event: %v\n%s", err, m.Body)
		}
		out = append(out, ev)
	}
	return out
}

func (h *harness) work() []workqueue.Message {
	h.t.Helper()
	var out []workqueue.Message
	for _, m := range h.mns.Messages(workQ) {
		wm, err := workqueue.Decode([]byte(m.Body))
		if err != nil {
			h.t.Fatalf("work message is not an envelope: %v\n%s", err, m.Body)
		}
		out = append(out, wm)
	}
	return out
}

func batch(bodies ...string) []byte {
	msgs := make([]fc.MNSMessage, len(bodies))
	for i, b := range bodies {
		msgs[i] = fc.MNSMessage{Body: b}
	}
	return fc.NewMNSEvents(fc.MNSEventSource{Queue: workQ}, msgs...)
}

func types(evs []notify.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type+" "+e.Subject)
	}
	return out
}

func TestQueueMixedBatchSettlesEachMessage(t *testing.T) {
	h := newHarness(t, "queue")
	sum, err := h.app.HandleQueue(h.ctx(), batch(
		`{"DBInstanceId":"rm-a"}`,
		`{"DBInstanceId":"rm-b","DBName":"Sales-DB","BackupMethod":"Logical"}`,
		`not json at all`,
		`{"DBInstanceId":"rm-c"}`,
	))
	if err != nil {
		t.Fatalf("a batch with bad messages must not fail as a whole: %v", err)
	}
	got := strings.Join(types(h.outcomes()), ", ")
	for _, want := range []string{"rds.backup.accepted rm-a", "rds.backup.accepted rm-c", "rds.backup.rejected rm-b", "rds.backup.rejected "} {
		if !strings.Contains(got, want) {
			t.Errorf("outcomes %q lack %q", got, want)
		}
	}
	if n := len(h.outcomes()); n != 4 {
		t.Errorf("%d outcomes, want 4 (one per request): %s", n, got)
	}
	if c := h.rds.CreatedBackups(); c["rm-a"] != 1 || c["rm-c"] != 1 || c["rm-b"] != 0 {
		t.Errorf("backups created %v", c)
	}
	if sum.Messages != 4 {
		t.Errorf("summary %+v", sum)
	}
}

func TestPoisonEnvelopeIsRejectedNotRetried(t *testing.T) {
	h := newHarness(t, "queue")
	_, err := h.app.HandleQueue(h.ctx(), batch(`{"v":1,"kind":"backup"}`))
	if err != nil {
		t.Fatalf("a poison message must not fail the invocation (EventBridge would push it forever): %v", err)
	}
	evs := h.outcomes()
	if len(evs) != 1 || evs[0].Type != "rds.backup.rejected" || evs[0].Data.Error == nil || evs[0].Data.Error.Code != CodeUnauthenticated {
		t.Fatalf("want one rejected %s (an unsealed envelope), got %+v", CodeUnauthenticated, evs)
	}
}

func TestTracking(t *testing.T) {
	tests := []struct {
		name         string
		env          []string
		wantTerminal bool
		wantTrack    bool
	}{
		{"on: accepted is not terminal, a track message is scheduled", nil, false, true},
		{"off: accepted is the terminal outcome", []string{"BACKUP_TRACK_JOBS=false"}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "queue", tc.env...)
			if _, err := h.app.HandleQueue(h.ctx(), batch(`{"DBInstanceId":"rm-a"}`)); err != nil {
				t.Fatal(err)
			}
			evs := h.outcomes()
			if len(evs) != 1 || evs[0].Type != "rds.backup.accepted" {
				t.Fatalf("outcomes %v", types(evs))
			}
			if evs[0].Data.Terminal != tc.wantTerminal {
				t.Errorf("terminal = %v, want %v", evs[0].Data.Terminal, tc.wantTerminal)
			}
			var tracks int
			for _, m := range h.work() {
				if m.Kind == workqueue.KindTrack && m.BackupJobId == evs[0].Data.BackupJobId {
					tracks++
				}
			}
			if (tracks == 1) != tc.wantTrack {
				t.Errorf("%d track messages for the job, want track=%v", tracks, tc.wantTrack)
			}
			for _, r := range h.mns.Messages(workQ) {
				if r.DelaySeconds < 1 {
					t.Errorf("track message not delayed: %+v", r)
				}
			}
		})
	}
}

func TestPublishFailureParksTheOutcome(t *testing.T) {
	h := newHarness(t, "queue", "BACKUP_DEADLINE_MARGIN=2s")
	h.mns.InjectFault(mns.Fault{Op: "SendMessage", Queue: notifyQ, Status: 500, Code: "InternalError", Times: -1})
	ctx, cancel := context.WithTimeout(h.ctx(), 5*time.Second)
	defer cancel()
	if _, err := h.app.HandleQueue(ctx, batch(`{"DBInstanceId":"rm-a"}`)); err != nil {
		t.Fatalf("an outcome that could be parked must not fail the invocation: %v", err)
	}
	var parked []workqueue.Message
	for _, m := range h.work() {
		if m.Kind == workqueue.KindOutcome {
			parked = append(parked, m)
		}
	}
	if len(parked) != 1 {
		t.Fatalf("want the accepted outcome parked once, got %d", len(parked))
	}
	ev, err := notify.ParseEvent(parked[0].Event)
	if err != nil || ev.Type != "rds.backup.accepted" {
		t.Fatalf("parked %v %v", ev.Type, err)
	}
	// Once MNS recovers, the queue function publishes it byte for byte.
	h.mns.ClearFaults()
	body := h.seal(parked[0])
	if _, err := h.app.HandleQueue(h.ctx(), batch(body)); err != nil {
		t.Fatal(err)
	}
	evs := h.outcomes()
	if len(evs) != 1 || evs[0].ID != ev.ID {
		t.Fatalf("republished %v, want the parked event %s", types(evs), ev.ID)
	}
	if h.rds.CreatedBackups()["rm-a"] != 1 {
		t.Fatal("republishing must not create another backup")
	}
}

func TestPublishAndParkFailureFailsTheInvocation(t *testing.T) {
	h := newHarness(t, "queue", "BACKUP_DEADLINE_MARGIN=2s")
	h.mns.InjectFault(mns.Fault{Op: "SendMessage", Status: 500, Code: "InternalError", Times: -1})
	ctx, cancel := context.WithTimeout(h.ctx(), 5*time.Second)
	defer cancel()
	_, err := h.app.HandleQueue(ctx, batch(`{"DBInstanceId":"rm-a"}`))
	if err == nil {
		t.Fatal("nothing could be published or parked: the invocation must fail so the trigger redelivers")
	}
	// The redelivery (MNS healthy again) coalesces instead of a second backup.
	h.mns.ClearFaults()
	if _, err := h.app.HandleQueue(h.ctx(), batch(`{"DBInstanceId":"rm-a"}`)); err != nil {
		t.Fatal(err)
	}
	if n := h.rds.CreatedBackups()["rm-a"]; n != 1 {
		t.Fatalf("%d backups after redelivery, want 1", n)
	}
	if evs := h.outcomes(); len(evs) != 1 || evs[0].Type != "rds.backup.coalesced" {
		t.Fatalf("outcomes after redelivery %v", types(evs))
	}
}

func TestTimerPlanWithSelector(t *testing.T) {
	h := newHarness(t, "scheduled")
	h.rds.AddInstance(rds.Instance{DBInstanceId: "rm-tagged", Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}})
	ev := fc.NewTimerEvent(time.Now(), "nightly", `{"Backups":[{"DBInstanceId":"rm-a"}],"Select":{"Tags":{"backup":"nightly"}}}`)
	sum, err := h.app.HandleTimer(h.ctx(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 2 || sum.Outcomes["accepted"] != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if h.rds.Counts()["DescribeDBInstances"] != 1 {
		t.Fatalf("calls %v", h.rds.Counts())
	}
}

// A plan larger than BACKUP_INLINE_LIMIT runs in steps: the scheduled
// function runs the first asks and hands the rest on with the run's summary
// so far; the queue function's step runs them and publishes the run's one
// rds.backup.run event, whose counts are the asks' first outcomes.
func TestTimerPlanRunsInStepsAndEndsInOneSummary(t *testing.T) {
	h := newHarness(t, "scheduled", "BACKUP_INLINE_LIMIT=2")
	h.rds.AddInstance(rds.Instance{DBInstanceId: "rm-ro", Engine: "MySQL", DBInstanceType: "Readonly"})
	ev := fc.NewTimerEvent(time.Now(), "nightly", `{"Backups":[{"DBInstanceId":"rm-a"},{"DBInstanceId":"rm-b"},{"DBInstanceId":"rm-c"},{"DBInstanceId":"rm-ro"}]}`)
	sum, err := h.app.HandleTimer(h.ctx(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 2 || sum.Continued != 1 || h.rds.Counts()["CreateBackup"] != 2 {
		t.Fatalf("summary %+v, calls %v", sum, h.rds.Counts())
	}
	var next []workqueue.Message
	for _, m := range h.work() {
		if m.Kind == workqueue.KindPlan {
			next = append(next, m)
		}
	}
	if len(next) != 1 || len(next[0].Specs) != 2 || next[0].Trigger.Source != "nightly" || next[0].Run == nil || next[0].Run.Items != 2 || next[0].AskedAt.IsZero() {
		t.Fatalf("next step %+v", next)
	}
	if runs := runEvents(h.outcomes()); len(runs) != 0 {
		t.Fatalf("a run summary before the run ended: %v", runs)
	}
	q := h.another("queue")
	body := h.seal(next[0]) // the functions' envelopes are sealed (trust_test.go)
	if _, err := q.HandleQueue(h.ctx(), batch(body)); err != nil {
		t.Fatal(err)
	}
	runs := runEvents(h.outcomes())
	if len(runs) != 1 {
		t.Fatalf("%d run summaries, want 1", len(runs))
	}
	r := runs[0].Data.Run
	if r.Items != 4 || r.Counts["accepted"] != 3 || r.Counts["rejected"] != 1 || len(r.Problems) != 1 ||
		r.Problems[0].DBInstanceId != "rm-ro" || r.Problems[0].Code != "ReadDBInstanceNotSupport" || runs[0].Subject != "nightly" {
		t.Errorf("run summary %+v %+v", runs[0], r)
	}
}

func runEvents(evs []notify.Event) []notify.Event {
	var out []notify.Event
	for _, e := range evs {
		if e.Type == notify.TypeRun {
			out = append(out, e)
		}
	}
	return out
}

func TestBadTimerPayloadIsRejected(t *testing.T) {
	h := newHarness(t, "scheduled")
	ev := fc.NewTimerEvent(time.Now(), "nightly", `{"Backups":[{"DBInstanceId":"rm-a","Method":"Logical"}]}`)
	if _, err := h.app.HandleTimer(h.ctx(), ev); err != nil {
		t.Fatalf("a bad plan is not worth an FC retry: %v", err)
	}
	evs := h.outcomes()
	if len(evs) != 1 || evs[0].Type != "rds.backup.rejected" || !strings.Contains(evs[0].Data.Error.Message, "Method") {
		t.Fatalf("outcomes %+v", evs)
	}
}

func TestEveryLogLineHasTheRequestID(t *testing.T) {
	h := newHarness(t, "queue")
	if _, err := h.app.HandleQueue(h.ctx(), batch(`{"DBInstanceId":"rm-a"}`, `{"DBInstanceId":""}`)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(h.logs.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("too few log lines: %q", lines)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		if m["faas.invocation_id"] != "1-test-"+t.Name() {
			t.Errorf("line without the request id: %s", l)
		}
		for _, secret := range []string{h.role.AccessKeySecret, h.role.SecurityToken} {
			if strings.Contains(l, secret) {
				t.Fatalf("a credential leaked into the logs: %s", l)
			}
		}
	}
}

func TestNewFailsFast(t *testing.T) {
	base := []string{"BACKUP_MNS_ENDPOINT=http://127.0.0.1:1/.", "BACKUP_ENVELOPE_KEY=" + deployedKey}
	tests := []struct {
		name, function string
		env            []string
		want           string
	}{
		{"no credentials outside FC", "queue", base, "ALIBABA_CLOUD_ACCESS_KEY_ID"},
		{"bad routes", "webhook", append(base, "FC_RUNTIME_API=x", `BACKUP_ROUTES={"routes":[{"name":"r","source":"svn"}]}`), "source"},
		// A token binds nothing: its route needs a max ask age, its own or
		// BACKUP_MAX_ASK_AGE's.
		{"token route without any max ask age", "webhook", append(base, "FC_RUNTIME_API=x", "BACKUP_MAX_ASK_AGE=0", "SNOW_TOKEN=t0ken",
			`BACKUP_ROUTES={"routes":[{"name":"snow","source":"token","secretEnv":"SNOW_TOKEN","allow":["rm-a"],"instances":"/ci","id":"/sys_id","askedAt":"/at"}]}`), "snow"},
		{"unusable MNS endpoint", "queue", []string{"BACKUP_MNS_ENDPOINT=http://127.0.0.1:1", "FC_RUNTIME_API=x", "BACKUP_ENVELOPE_KEY=" + deployedKey}, "BACKUP_MNS_ENDPOINT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
			t.Setenv("HOME", t.TempDir())
			cfg, err := config.Load(tc.env, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = New(tc.function, cfg, Options{Logger: NewLogger(&syncbuf.Buffer{}, "info")})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// signedPost is a signed POST /v1/backups as FC delivers it.
func signedPost(body string) json.RawMessage {
	ts := time.Now().Unix()
	ev := map[string]any{
		"version": "v1", "rawPath": "/v1/backups", "body": body, "isBase64Encoded": false,
		"headers": map[string]string{"X-Caller": "ops", "X-Timestamp": strconv.FormatInt(ts, 10),
			"X-Signature-256": webhook.SignV1("s3cret", ts, "POST", "/v1/backups", nil, []byte(body)), "Content-Type": "application/json"},
		"queryParameters": map[string]string{},
		"requestContext":  map[string]any{"http": map[string]string{"method": "POST", "path": "/v1/backups"}, "requestId": "r1"},
	}
	raw, _ := json.Marshal(ev)
	return raw
}

// DESIGN.md §2: the webhook never answers "deferred" for work it could
// not park. Here RDS keeps failing (the ask would be deferred) and the work
// queue refuses the deferral: the entry says failed with NotParked, so the
// caller sends the same ask again.
func TestWebhookNeverDefersUnparkedWork(t *testing.T) {
	h := newHarness(t, "webhook",
		`BACKUP_ROUTES={"routes":[{"name":"ops","source":"signed","repository":"ops","secretEnv":"OPS_SECRET","allow":["*"]}]}`,
		"OPS_SECRET=s3cret", "BACKUP_ATTEMPTS_PER_INVOCATION=1")
	h.rds.InjectFault(rds.Fault{Action: "CreateBackup", Status: 503, Code: "ServiceUnavailable"})
	h.mns.InjectFault(mns.Fault{Op: "SendMessage", Queue: workQ, Status: 500, Code: "InternalError", Times: -1})
	resp, err := h.app.HandleHTTP(h.ctx(), signedPost(`{"DBInstanceId":"rm-a"}`))
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Requests []struct {
			Status string `json:"status"`
			Error  *struct {
				Code      string `json:"code"`
				Retryable bool   `json:"retryable"`
			} `json:"error"`
		} `json:"requests"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &ans); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	if strings.Contains(resp.Body, "InternalError") || strings.Contains(resp.Body, "queues/") {
		t.Errorf("the answer echoes the work queue's error: %s", resp.Body)
	}
	if len(ans.Requests) != 1 || ans.Requests[0].Status == "deferred" {
		t.Fatalf("HTTP %d %s: the unparked ask must not be reported deferred", resp.StatusCode, resp.Body)
	}
	if r := ans.Requests[0]; r.Status != "failed" || r.Error == nil || r.Error.Code != CodeNotParked {
		t.Errorf("entry %s %+v (%s), want failed, %s", r.Status, r.Error, resp.Body, CodeNotParked)
	}
}

func TestWebhookSelectOnlyPlanIsExpanded(t *testing.T) {
	h := newHarness(t, "webhook",
		`BACKUP_ROUTES={"routes":[{"name":"ops","source":"signed","repository":"ops","secretEnv":"OPS_SECRET","allow":["*"]}]}`,
		"OPS_SECRET=s3cret")
	h.rds.AddInstance(rds.Instance{DBInstanceId: "rm-tagged", Engine: "MySQL", Tags: map[string]string{"team": "pay"}})
	resp, err := h.app.HandleHTTP(h.ctx(), signedPost(`{"Select":{"Tags":{"team":"pay"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(resp)
	if !strings.Contains(string(b), `"statusCode":202`) || !strings.Contains(string(b), `rm-tagged`) {
		t.Fatalf("response %s", b)
	}
	if h.rds.CreatedBackups()["rm-tagged"] != 1 {
		t.Fatalf("backups %v", h.rds.CreatedBackups())
	}
}

func TestUnreadableSelectorStillEndsEveryRequest(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		code      string
		wantType  string
		retryable bool
	}{
		{"RDS unavailable: deferred to the work queue, expanded again later", 503, "ServiceUnavailable", "rds.backup.deferred", true},
		{"not permitted: rejected", 403, "Forbidden.RAM", "rds.backup.rejected", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "scheduled", "BACKUP_ATTEMPTS_PER_INVOCATION=2")
			h.rds.InjectFault(rds.Fault{Action: "DescribeDBInstances", Status: tc.status, Code: tc.code})
			ev := fc.NewTimerEvent(time.Now(), "nightly", `{"Backups":[{"DBInstanceId":"rm-a"}],"Select":{"Tags":{"backup":"nightly"}}}`)
			if _, err := h.app.HandleTimer(h.ctx(), ev); err != nil {
				t.Fatalf("the selector's outcome was published; the invocation must not fail: %v", err)
			}
			got := map[string]notify.Event{}
			for _, e := range h.outcomes() {
				got[e.Type+" "+e.Subject] = e
			}
			if _, ok := got["rds.backup.accepted rm-a"]; !ok {
				t.Errorf("the plan's explicit backup did not run: %v", types(h.outcomes()))
			}
			sel, ok := got[tc.wantType+" "]
			if !ok || sel.Data.Error == nil || sel.Data.Error.Field != "Select" || sel.Data.Error.Code != tc.code || sel.Data.Error.Retryable != tc.retryable {
				t.Fatalf("want %s for the selector with %s, got %v %+v", tc.wantType, tc.code, types(h.outcomes()), sel.Data.Error)
			}
			// The run ends when the selector does: a summary now when it was
			// refused for good (counting it), none yet when it is read again.
			runs := runEvents(h.outcomes())
			if n := len(h.outcomes()) - len(runs); n != 2 {
				t.Errorf("%d outcomes, want 2: %v", n, types(h.outcomes()))
			}
			if want := map[bool]int{true: 0, false: 1}[tc.retryable]; len(runs) != want {
				t.Errorf("%d run summaries, want %d", len(runs), want)
			} else if want == 1 && (runs[0].Data.Run.Items != 2 || runs[0].Data.Run.Counts["rejected"] != 1) {
				t.Errorf("run summary %+v", runs[0].Data.Run)
			}
			selects := 0
			for _, m := range h.work() {
				if m.Kind == workqueue.KindSelect {
					selects++
					if m.Select == nil || m.Select.Tags["backup"] != "nightly" || m.Trigger.Kind != "timer" || m.AskedAt.IsZero() {
						t.Errorf("select message %+v", m)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tc.retryable]; selects != want {
				t.Errorf("%d select messages in the work queue, want %d", selects, want)
			}
		})
	}
}

// DESIGN.md §2, a deadline that holds: with a 2s invocation and an RDS that
// takes 3s to answer, the call is cut at the stop time (2s − the 1s
// margin), the ask is deferred, and the deferral is both parked in the work
// queue and published — nothing is settled on a dead context.
func TestDeadlineDefersAndSettles(t *testing.T) {
	h := newHarness(t, "queue", "BACKUP_DEADLINE_MARGIN=1s")
	h.rds.InjectFault(rds.Fault{Action: "CreateBackup", Latency: 3 * time.Second})
	h.rds.InjectFault(rds.Fault{Action: "DescribeBackupTasks", Latency: 3 * time.Second})
	ctx, cancel := context.WithTimeout(h.ctx(), 2*time.Second)
	defer cancel()
	sum, err := h.app.HandleQueue(ctx, batch(`{"DBInstanceId":"rm-a"}`))
	if err != nil {
		t.Fatalf("the deferral was parked; the invocation must not fail: %v", err)
	}
	if sum.Outcomes["deferred"] != 1 {
		t.Fatalf("summary %+v, want one deferred", sum)
	}
	var resumed []workqueue.Message
	for _, m := range h.work() {
		if m.Kind == workqueue.KindBackup {
			resumed = append(resumed, m)
		}
	}
	if len(resumed) != 1 || resumed[0].Request.DBInstanceId != "rm-a" || resumed[0].Request.AskedAt.IsZero() {
		t.Fatalf("parked for resumption: %+v", resumed)
	}
	evs := h.outcomes()
	if len(evs) != 1 || evs[0].Type != "rds.backup.deferred" || evs[0].Data.AskedAt == nil {
		t.Fatalf("published %v, want the deferred outcome with its askedAt", types(evs))
	}
}

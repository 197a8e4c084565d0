package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// fakeTransport answers sends with scripted errors, then success.
type fakeTransport struct {
	mu     sync.Mutex
	errs   []error // one per call, nil = success; after the script, success
	calls  int
	bodies []string
	dests  []string
}

func (f *fakeTransport) next(dest, body string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.dests = append(f.dests, dest)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		if err != nil {
			return "", err
		}
	}
	f.bodies = append(f.bodies, body)
	return fmt.Sprintf("MID-%d", f.calls), nil
}

func (f *fakeTransport) Send(_ context.Context, queue, body string, _ time.Duration) (string, error) {
	return f.next("queue:"+queue, body)
}

func (f *fakeTransport) Publish(_ context.Context, topic, body string) (string, error) {
	return f.next("topic:"+topic, body)
}

// fakeClock is a clock that sleep advances.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestPublisher(t *testing.T, tr Transport, cfg Config) (*Publisher, *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: time.Now()}
	if cfg.Queue == "" && cfg.Topic == "" {
		cfg.Queue = "notify"
	}
	cfg.Function = "queue"
	cfg.Now, cfg.Sleep, cfg.Logger = clk.Now, clk.Sleep, quiet
	cfg.Backoff.Rand = func() float64 { return 1 } // the cap: deterministic
	p, err := New(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, clk
}

var (
	errInternal = &mnsq.Error{Op: "SendMessage", Code: "InternalError", Retryable: true, Err: errors.New("boom")}
	errNoQueue  = &mnsq.Error{Op: "SendMessage", Code: "QueueNotExist", Err: errors.New("gone")}
)

func TestPolicy(t *testing.T) {
	fx := fixtures()
	// The accepted fixture is tracked (terminal false); untracked is the
	// same outcome when no tracking follows.
	untracked := fx[backup.StatusAccepted]
	untracked.Terminal = true
	want := map[Policy]map[backup.Status]bool{
		PolicyAll:      {"accepted": true, "coalesced": true, "rejected": true, "failed": true, "deferred": true, "completed": true},
		PolicyTerminal: {"accepted": false, "coalesced": true, "rejected": true, "failed": true, "deferred": false, "completed": true},
		PolicyFailures: {"accepted": false, "coalesced": false, "rejected": true, "failed": true, "deferred": false, "completed": false},
	}
	for pol, byStatus := range want {
		for st, w := range byStatus {
			tr := &fakeTransport{}
			p, _ := newTestPublisher(t, tr, Config{Policy: pol})
			if err := p.Publish(context.Background(), fx[st]); err != nil {
				t.Fatal(err)
			}
			if got := tr.calls == 1; got != w {
				t.Errorf("policy %s, status %s: published %v, want %v", pol, st, got, w)
			}
		}
	}
	if !PolicyTerminal.Allows(untracked) || PolicyFailures.Allows(untracked) {
		t.Error("untracked accepted: terminal policy must publish it, failures must not")
	}
	for _, s := range []string{"", "all", "terminal", "failures"} {
		if _, err := ParsePolicy(s); err != nil {
			t.Errorf("ParsePolicy(%q) = %v", s, err)
		}
	}
	if _, err := ParsePolicy("errors"); err == nil {
		t.Error("ParsePolicy(errors) = nil")
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		tr   Transport
		cfg  Config
		want string
	}{
		{"no transport", nil, Config{Queue: "q"}, "no transport"},
		{"neither", &fakeTransport{}, Config{}, "exactly one"},
		{"both", &fakeTransport{}, Config{Queue: "q", Topic: "t"}, "exactly one"},
		{"bad policy", &fakeTransport{}, Config{Queue: "q", Policy: "some"}, "unknown policy"},
	}
	for _, tt := range tests {
		if _, err := New(tt.tr, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want %q", tt.name, err, tt.want)
		}
	}
	p, err := New(&fakeTransport{}, Config{Topic: "t"})
	if err != nil || p.Destination() != `topic "t"` {
		t.Fatalf("New(topic) = %v, %v", p, err)
	}
}

func TestRetries(t *testing.T) {
	o := fixtures()[backup.StatusFailed]
	wantID := BuildEvent("queue", o).ID
	tests := []struct {
		name         string
		errs         []error
		maxAttempts  int
		deadline     time.Duration // 0: no deadline
		wantErr      bool
		wantCalls    int
		wantSleeps   []time.Duration
		wantAttempts int
	}{
		{name: "first try", wantCalls: 1},
		{name: "500, 500, 500, 201 → success after 3 retries", errs: []error{errInternal, errInternal, errInternal},
			wantCalls: 4, wantSleeps: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}},
		{name: "terminal error → no retry", errs: []error{errNoQueue}, wantErr: true, wantCalls: 1, wantAttempts: 1},
		{name: "500 × 6 → attempts exhausted", errs: []error{errInternal, errInternal, errInternal, errInternal, errInternal, errInternal},
			wantErr: true, wantCalls: 6, wantAttempts: 6,
			wantSleeps: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond}},
		{name: "500 × 3, max 2", errs: []error{errInternal, errInternal, errInternal}, maxAttempts: 2, wantErr: true, wantCalls: 2, wantAttempts: 2,
			wantSleeps: []time.Duration{200 * time.Millisecond}},
		{name: "deadline leaves no room to retry", errs: []error{errInternal}, deadline: 1100 * time.Millisecond, wantErr: true, wantCalls: 1, wantAttempts: 1},
		{name: "deadline leaves room for two retries", errs: []error{errInternal, errInternal, errInternal}, deadline: 2 * time.Second,
			wantErr: true, wantCalls: 3, wantAttempts: 3, wantSleeps: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &fakeTransport{errs: tt.errs}
			p, clk := newTestPublisher(t, tr, Config{MaxAttempts: tt.maxAttempts})
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, clk.Now().Add(tt.deadline))
				defer cancel()
			}
			err := p.Publish(ctx, o)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Publish = %v", err)
			}
			if tr.calls != tt.wantCalls || fmt.Sprint(clk.sleeps) != fmt.Sprint(tt.wantSleeps) {
				t.Fatalf("%d calls, sleeps %v; want %d, %v", tr.calls, clk.sleeps, tt.wantCalls, tt.wantSleeps)
			}
			if err == nil {
				if len(tr.bodies) != 1 || !strings.Contains(tr.bodies[0], `"id":"`+wantID+`"`) {
					t.Fatalf("delivered %v, want one body with id %s", tr.bodies, wantID)
				}
				return
			}
			var pe *PublishError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T, want *PublishError", err)
			}
			if pe.Attempts != tt.wantAttempts || pe.Event.ID != wantID || len(pe.Body) == 0 || pe.Destination != `queue "notify"` {
				t.Fatalf("PublishError %+v", pe)
			}
			if mnsq.Code(err) != mnsq.Code(tt.errs[0]) {
				t.Fatalf("code %q", mnsq.Code(err))
			}
			if !strings.Contains(err.Error(), "rds.backup.failed "+wantID+" (rm-uf6wjk5xxxx)") {
				t.Fatalf("Error() = %q", err)
			}
		})
	}
}

func TestCanceledDuringBackoff(t *testing.T) {
	tr := &fakeTransport{errs: []error{errInternal, errInternal}}
	ctx, cancel := context.WithCancel(context.Background())
	p, _ := newTestPublisher(t, tr, Config{})
	p.cfg.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	err := p.Publish(ctx, fixtures()[backup.StatusFailed])
	var pe *PublishError
	if !errors.As(err, &pe) || tr.calls != 1 {
		t.Fatalf("Publish = %v after %d calls", err, tr.calls)
	}
}

func TestRetryQuotaStorm(t *testing.T) {
	// A bucket of 10 tokens pays two retries (5 each): in an MNS storm the
	// first event makes 3 attempts, the next ones 1, and all are returned
	// to be parked; a success refills the bucket.
	storm := make([]error, 5)
	for i := range storm {
		storm[i] = errInternal
	}
	tr := &fakeTransport{errs: storm}
	q := retry.NewQuota(10)
	p, clk := newTestPublisher(t, tr, Config{Quota: q})
	var attempts []int
	for range 3 {
		var pe *PublishError
		if err := p.Publish(context.Background(), fixtures()[backup.StatusFailed]); !errors.As(err, &pe) {
			t.Fatalf("Publish = %v", err)
		}
		attempts = append(attempts, pe.Attempts)
	}
	if fmt.Sprint(attempts) != "[3 1 1]" || tr.calls != 5 || len(clk.sleeps) != 2 || q.Available() != 0 {
		t.Fatalf("attempts %v, %d calls, sleeps %v, %d tokens", attempts, tr.calls, clk.sleeps, q.Available())
	}
	if err := p.Publish(context.Background(), fixtures()[backup.StatusFailed]); err != nil || q.Available() != 1 {
		t.Fatalf("Publish = %v, %d tokens", err, q.Available())
	}
}

func TestTopicDestination(t *testing.T) {
	tr := &fakeTransport{}
	p, _ := newTestPublisher(t, tr, Config{Topic: "outcomes"})
	if err := p.Publish(context.Background(), fixtures()[backup.StatusCompleted]); err != nil {
		t.Fatal(err)
	}
	if len(tr.dests) != 1 || tr.dests[0] != "topic:outcomes" {
		t.Fatalf("sent to %v", tr.dests)
	}
}

func TestPublishStampsTime(t *testing.T) {
	tr := &fakeTransport{}
	p, clk := newTestPublisher(t, tr, Config{})
	o := fixtures()[backup.StatusRejected]
	o.Time = time.Time{}
	if err := p.Publish(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	ev, err := ParseEvent([]byte(tr.bodies[0]))
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Time.Equal(clk.Now()) {
		t.Fatalf("time %v, want the publisher's clock %v", ev.Time, clk.Now())
	}
}

func bigOutcome(attempts, msgLen int) backup.Outcome {
	o := fixtures()[backup.StatusFailed]
	o.Attempts = nil
	for i := range attempts {
		o.Attempts = append(o.Attempts, backup.Attempt{Time: t0.Add(time.Duration(i) * time.Second), Action: "CreateBackup",
			Code: "ServiceUnavailable", Message: fmt.Sprintf("try %d: %s", i, strings.Repeat("é", msgLen)), Retryable: true, Class: "transient"})
	}
	return o
}

func TestTrimming(t *testing.T) {
	tests := []struct {
		name          string
		o             backup.Outcome
		wantAttempts  int
		wantNote      string
		wantCut       bool
		wantTooLarger bool
	}{
		{name: "small: untouched", o: bigOutcome(5, 10), wantAttempts: 5},
		{name: "many attempts: first and last kept", o: bigOutcome(300, 200), wantAttempts: 2, wantNote: "kept the first and the last of 300 (298 dropped)"},
		{name: "two huge attempts: messages cut", o: bigOutcome(2, 40000), wantAttempts: 2, wantNote: "long messages cut to 1024 bytes", wantCut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &fakeTransport{}
			p, _ := newTestPublisher(t, tr, Config{})
			if err := p.Publish(context.Background(), tt.o); err != nil {
				t.Fatal(err)
			}
			body := tr.bodies[0]
			if len(body) > DefaultMaxBytes {
				t.Fatalf("body of %d bytes", len(body))
			}
			ev, err := ParseEvent([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Data.Attempts) != tt.wantAttempts || !strings.Contains(ev.Data.Note, tt.wantNote) {
				t.Fatalf("%d attempts, note %q", len(ev.Data.Attempts), ev.Data.Note)
			}
			if ev.ID != EventID(tt.o) {
				t.Fatal("trimming changed the id")
			}
			if tt.wantAttempts == 2 && len(tt.o.Attempts) > 2 && (!strings.HasPrefix(ev.Data.Attempts[0].Message, "try 0:") || !strings.HasPrefix(ev.Data.Attempts[1].Message, "try 299:")) {
				t.Fatalf("kept %q and %q", ev.Data.Attempts[0].Message[:8], ev.Data.Attempts[1].Message[:8])
			}
			if tt.wantCut && (!strings.HasSuffix(ev.Data.Attempts[0].Message, "…(cut)") || len(ev.Data.Attempts[0].Message) > maxString) {
				t.Fatalf("message not cut: %d bytes", len(ev.Data.Attempts[0].Message))
			}
		})
	}
	// Nothing left to trim: refused with ErrTooLarge, nothing sent.
	o := fixtures()[backup.StatusFailed]
	o.Request.DBName = []string{strings.Repeat("d", 70000)}
	tr := &fakeTransport{}
	p, _ := newTestPublisher(t, tr, Config{})
	err := p.Publish(context.Background(), o)
	var pe *PublishError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &pe) || pe.Body != nil || tr.calls != 0 {
		t.Fatalf("Publish(huge request) = %v, %d calls", err, tr.calls)
	}
}

func TestCut(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("a", 1024), strings.Repeat("a", 1025), strings.Repeat("é", 600), strings.Repeat("ab€", 500)} {
		got := cut(s)
		if len(got) > maxString || !strings.HasPrefix(s, strings.TrimSuffix(got, "…(cut)")) || !utf8Valid(got) {
			t.Errorf("cut(%d bytes) = %d bytes", len(s), len(got))
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestParkAndPublishParked(t *testing.T) {
	o := fixtures()[backup.StatusCompleted]
	o.Attempts = []backup.Attempt{{Time: t0, Action: "DescribeBackupTasks", Message: `a <b> & "c"`}}
	tr := &fakeTransport{errs: []error{errNoQueue}}
	p, _ := newTestPublisher(t, tr, Config{})
	err := p.Publish(context.Background(), o)
	var pe *PublishError
	if !errors.As(err, &pe) {
		t.Fatalf("Publish = %v", err)
	}
	// The caller parks the event in the work queue ...
	body, err := workqueue.Encode(pe.Park())
	if err != nil {
		t.Fatal(err)
	}
	m, err := workqueue.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	// ... and later publishes it: the same bytes, so the same id.
	if err := p.PublishParked(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(tr.bodies) != 1 || tr.bodies[0] != string(pe.Body) {
		t.Fatalf("parked event published as\n%s\nwant\n%s", tr.bodies, pe.Body)
	}
	if err := p.PublishParked(context.Background(), workqueue.Plan([]backup.Request{{DBInstanceId: "x"}})); err == nil {
		t.Fatal("PublishParked(plan) = nil")
	}
	if err := p.PublishParked(context.Background(), workqueue.Outcome([]byte(`{"specversion":"0.3"}`))); err == nil {
		t.Fatal("PublishParked(not ours) = nil")
	}
	// PublishEvent re-marshals; the event is the same.
	ev := BuildEvent("queue", o)
	if err := p.PublishEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	want, _ := ev.JSON()
	if tr.bodies[1] != string(want) {
		t.Fatalf("PublishEvent sent %s", tr.bodies[1])
	}
}

func TestEventID(t *testing.T) {
	fx := fixtures()
	ids := map[string]backup.Status{}
	for st, o := range fx {
		id := EventID(o)
		if len(id) != 32 {
			t.Errorf("%s: id %q", st, id)
		}
		if other, dup := ids[id]; dup && Verdict(other) != Verdict(st) || dup && !Terminal(st, o.Terminal) {
			t.Errorf("%s and %s share id %s", st, other, id)
		}
		ids[id] = st
		if EventID(o) != id || BuildEvent("other", o).ID != id {
			t.Errorf("%s: id not deterministic", st)
		}
	}
	// DESIGN.md §2: one distinct terminal id per ask. A redelivery that
	// finds the set its first delivery's job made (terminal coalesced)
	// publishes the id of that job's completed outcome; a failed verdict
	// has an id of its own.
	done, found := fx[backup.StatusCompleted], fx[backup.StatusCoalesced]
	found.Request = done.Request
	found.Terminal = true
	if EventID(found) != EventID(done) {
		t.Error("terminal coalesced and completed of one ask have different ids")
	}
	failed := fx[backup.StatusFailed]
	failed.Request = done.Request
	if EventID(failed) == EventID(done) {
		t.Error("failed and completed of one ask share an id")
	}
	o := fx[backup.StatusDeferred]
	later := o
	later.Attempts = append(append([]backup.Attempt(nil), o.Attempts...), backup.Attempt{Time: t0.Add(time.Hour)})
	if EventID(later) == EventID(o) {
		t.Error("a second deferral has the id of the first")
	}
	noAttempts := o
	noAttempts.Attempts = nil
	other := noAttempts
	other.NotBefore = o.NotBefore.Add(time.Minute)
	if EventID(noAttempts) == EventID(other) {
		t.Error("deferrals without attempts and different notBefore share an id")
	}
	// Without an idempotency key the correlation id, then the instance, decide.
	a, b := fx[backup.StatusFailed], fx[backup.StatusFailed]
	a.Request.IdempotencyKey, b.Request.IdempotencyKey = "", ""
	b.Request.CorrelationId = "other"
	if EventID(a) == EventID(b) {
		t.Error("different correlation ids share an id")
	}
	a.Request.CorrelationId, b.Request.CorrelationId = "", ""
	b.Request.DBInstanceId = "rm-other"
	if EventID(a) == EventID(b) {
		t.Error("different instances share an id")
	}
}

func TestTerminal(t *testing.T) {
	tests := []struct {
		s        backup.Status
		producer bool
		want     bool
	}{
		{backup.StatusAccepted, false, false},
		{backup.StatusAccepted, true, true},
		{backup.StatusCoalesced, true, true},
		{backup.StatusRejected, false, true},
		{backup.StatusFailed, false, true},
		{backup.StatusCompleted, false, true},
		{backup.StatusDeferred, true, false},
	}
	for _, tt := range tests {
		if got := Terminal(tt.s, tt.producer); got != tt.want {
			t.Errorf("Terminal(%s, %v) = %v", tt.s, tt.producer, got)
		}
	}
	if Source("") != "fc-rds-backup" || Source("queue") != "fc-rds-backup/queue" {
		t.Error("Source")
	}
}

func TestParseEventErrors(t *testing.T) {
	good, _ := BuildEvent("queue", fixtures()[backup.StatusAccepted]).JSON()
	tests := []struct {
		name, body, want string
	}{
		{"not json", `x`, "parse event"},
		{"unknown key", strings.Replace(string(good), `"subject"`, `"extra":1,"subject"`, 1), "unknown field"},
		{"trailing", string(good) + `{}`, "trailing"},
		{"specversion", strings.Replace(string(good), `"1.0"`, `"0.3"`, 1), "specversion"},
		{"no id", strings.Replace(string(good), `"id":"`, `"id":"`+`"`+`,"x":"`, 1), "parse event"},
		{"type", strings.Replace(string(good), `rds.backup.accepted`, `other`, 1), "type"},
		{"source", strings.Replace(string(good), `fc-rds-backup/queue`, `elsewhere`, 1), "source"},
	}
	for _, tt := range tests {
		if _, err := ParseEvent([]byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ParseEvent = %v, want %q", tt.name, err, tt.want)
		}
	}
	empty := strings.Replace(string(good), `"id":"`+BuildEvent("queue", fixtures()[backup.StatusAccepted]).ID+`"`, `"id":""`, 1)
	if _, err := ParseEvent([]byte(empty)); err == nil || !strings.Contains(err.Error(), "id is empty") {
		t.Errorf("empty id: %v", err)
	}
}

package fc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
)

// holder is an HTTP server that echofn's "call" directive reaches: each
// request reports its path on arrived and is held until release is closed.
type holder struct {
	srv     *httptest.Server
	arrived chan string
	release chan struct{}
	once    sync.Once
}

func newHolder(t *testing.T) *holder {
	t.Helper()
	h := &holder{arrived: make(chan string, 64), release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.arrived <- r.URL.Path
		if r.URL.Path != "/pass" {
			<-h.release
		}
	}))
	t.Cleanup(func() { h.let(); h.srv.Close() })
	return h
}

// let releases every held request, now and later.
func (h *holder) let() { h.once.Do(func() { close(h.release) }) }

// wait returns the path of the next request to arrive.
func (h *holder) wait(t *testing.T) string {
	t.Helper()
	select {
	case p := <-h.arrived:
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("no invocation reached the holder in 30 s")
		return ""
	}
}

func (h *holder) call(path string) string { return h.srv.URL + path }

// mnsOps returns an MNS observer that reports the successful calls of ops.
func mnsOps(ops ...string) (chan string, mns.Option) {
	ch := make(chan string, 256)
	return ch, mns.WithObserver(func(ev mns.CallEvent) bool {
		if ev.Phase == mns.PhaseAfter && ev.Code == "" && slices.Contains(ops, ev.Op) {
			ch <- ev.Op
		}
		return false
	})
}

func waitOp(t *testing.T, ch chan string, op string, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for n > 0 {
		select {
		case got := <-ch:
			if got == op {
				n--
			}
		case <-timeout:
			t.Fatalf("still waiting for %d %s calls", n, op)
		}
	}
}

func runTrigger(t *testing.T, trig *MNSTrigger, f *Function) (cancel func(), done chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- trig.Run(ctx, f) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return cancel, done
}

// TestMNSTriggerAsyncRunsBatchesAtOnce: in async mode Run does not wait
// for a batch's invocation before pushing the next one, so two batches run
// at once on two instances; their messages are gone from the queue while
// the invocations still run.
func TestMNSTriggerAsyncRunsBatchesAtOnce(t *testing.T) {
	f := startEcho(t, FunctionConfig{Instances: 2})
	h := newHolder(t)
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}})
	trig := env.trigger("work")
	trig.Async = true
	trig.BatchSize = 1
	cancel, done := runTrigger(t, trig, f)

	env.send(t, "work", `{"fctest":{"call":"`+h.call("/one")+`"}}`, `{"fctest":{"call":"`+h.call("/two")+`"}}`)
	got := []string{h.wait(t), h.wait(t)} // both held at once: neither waited for the other
	slices.Sort(got)
	if strings.Join(got, ",") != "/one,/two" {
		t.Fatalf("held %v", got)
	}
	if n := len(env.srv.Visible("work")); n != 0 {
		t.Errorf("%d messages visible while their invocations run", n)
	}
	if n := trig.Pending(); n != 2 {
		t.Errorf("Pending = %d while two invocations run, want 2 (their queue is empty)", n)
	}
	for _, m := range env.srv.Messages("work") {
		if !m.Deleted {
			t.Errorf("message %s not deleted once handed over (state %s)", m.MessageID, m.State)
		}
	}
	h.let()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil // for the cleanup
	if n := trig.Pending(); n != 0 {
		t.Errorf("Pending = %d once the invocations ended, want 0", n)
	}

	b := trig.Batches()
	if len(b) != 2 {
		t.Fatalf("batches %+v", b)
	}
	for _, x := range b {
		if !x.Async || !x.Delivered || !x.Deleted || x.Abandoned || len(x.Attempts) != 1 || len(x.MessageIDs) != 1 {
			t.Errorf("batch %+v", x)
		}
	}
	log := f.Invocations()
	if len(log) != 2 || log[0].Instance == log[1].Instance {
		t.Fatalf("invocations on instances %+v, want two instances", log)
	}
	if !log[0].Start.Before(log[1].End) || !log[1].Start.Before(log[0].End) {
		t.Errorf("the invocations did not overlap: %s-%s and %s-%s", log[0].Start, log[0].End, log[1].Start, log[1].End)
	}
}

// TestMNSTriggerAsyncRetries: FC retries a failed asynchronous invocation
// (function error, crash, timeout) MaxAsyncRetryAttempts times with
// x-fc-retry-count 1, 2, … and one request id, then sends the bodies to the
// failure destination; the source queue is empty from the start.
func TestMNSTriggerAsyncRetries(t *testing.T) {
	cases := []struct {
		name         string
		body         string
		maxRetries   int
		wantAttempts int
		delivered    bool
		failure      string // in every failed attempt's error
	}{
		{"function error, 2 retries", `{"fctest":{"fail":"cannot"}}`, 2, 3, false, "cannot"},
		{"function error, default 3 retries", `{"fctest":{"fail":"cannot"}}`, 0, 4, false, "cannot"},
		{"no retry", `{"fctest":{"fail":"cannot"}}`, -1, 1, false, "cannot"},
		{"succeeds at retry 2", `{"fctest":{"failUntilRetry":2}}`, 0, 3, true, "failing at retry"},
		{"crash", `{"fctest":{"exit":3}}`, 1, 2, false, "Process exited unexpectedly"},
		{"timeout", `{"fctest":{"sleepMs":5000}}`, 1, 2, false, "timed out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startEcho(t, FunctionConfig{Timeout: 500 * time.Millisecond})
			env := newMNS(t, map[string]mns.QueueAttributes{"work": {}, "dlq": {}})
			env.send(t, "work", tc.body, "second")
			trig := env.trigger("work")
			trig.Async = true
			trig.MaxAsyncRetryAttempts = tc.maxRetries
			trig.AsyncRetryDelay = 5 * time.Millisecond
			trig.DeadLetterQueue = "dlq"
			drain(t, trig, f, 2)

			b := trig.Batches()
			if len(b) != 1 || !b[0].Async || !b[0].Deleted || b[0].Abandoned || len(b[0].Attempts) != tc.wantAttempts ||
				b[0].Delivered != tc.delivered || b[0].DeadLettered == tc.delivered {
				t.Fatalf("batches %+v", b)
			}
			for i, a := range b[0].Attempts {
				if a.Failed() != (i < tc.wantAttempts-1 || !tc.delivered) {
					t.Errorf("attempt %d: %+v", i, a)
				}
				if a.Failed() && (a.Error == nil || !strings.Contains(a.Error.ErrorMessage, tc.failure)) {
					t.Errorf("attempt %d: error %+v, want %q", i, a.Error, tc.failure)
				}
			}
			log := slices.DeleteFunc(f.Invocations(), func(inv Invocation) bool { return inv.Initializer })
			if len(log) != tc.wantAttempts {
				t.Fatalf("%d invocations, want %d", len(log), tc.wantAttempts)
			}
			for i, inv := range log {
				if inv.RetryCount != i || inv.RequestID != log[0].RequestID || string(inv.Payload) != string(b[0].Event) {
					t.Errorf("invocation %d: retry count %d, request id %s (first %s)", i, inv.RetryCount, inv.RequestID, log[0].RequestID)
				}
			}
			wantDLQ := []string{tc.body, "second"}
			if tc.delivered {
				wantDLQ = nil
			}
			if got := env.bodies("dlq"); !slices.Equal(got, wantDLQ) {
				t.Errorf("dead-letter queue %q, want %q", got, wantDLQ)
			}
			if left := env.bodies("work"); len(left) != 0 {
				t.Errorf("left in queue: %v", left)
			}
		})
	}
}

// TestMNSTriggerAsyncSplitsByPayload: 100 messages of 2 KB in one batch
// are one synchronous push (32 MB limit) but several asynchronous
// invocations, each at most 128 KB and as full as the limit allows, every
// message delivered exactly once and in order.
func TestMNSTriggerAsyncSplitsByPayload(t *testing.T) {
	body := strings.Repeat("x", 2048)
	for _, async := range []bool{false, true} {
		t.Run(map[bool]string{false: "sync", true: "async"}[async], func(t *testing.T) {
			t.Parallel()
			f := startEcho(t, FunctionConfig{})
			env := newMNS(t, map[string]mns.QueueAttributes{"work": {}})
			bodies := make([]string, 100)
			for i := range bodies {
				bodies[i] = body
			}
			ids := env.send(t, "work", bodies...)
			trig := env.trigger("work")
			trig.Async = async
			trig.BatchSize = 100
			drain(t, trig, f, 100)

			var seen []string
			for _, inv := range f.Invocations() {
				if async && len(inv.Payload) > maxAsyncPayload {
					t.Errorf("an async invocation of %d bytes", len(inv.Payload))
				}
				var events []mnsCloudEvent
				if err := json.Unmarshal(inv.Payload, &events); err != nil {
					t.Fatal(err)
				}
				for _, e := range events {
					seen = append(seen, e.ID)
				}
			}
			slices.Sort(seen)
			want := slices.Sorted(slices.Values(ids))
			if !slices.Equal(seen, want) {
				t.Errorf("delivered %d messages (%d distinct), want each of %d once", len(seen), len(slices.Compact(slices.Clone(seen))), len(want))
			}
			b := trig.Batches()
			if !async {
				if len(b) != 1 || len(b[0].MessageIDs) != 100 || b[0].Async {
					t.Fatalf("sync: %d batches, want one of 100", len(b))
				}
				return
			}
			if len(b) < 2 {
				t.Fatalf("async: %d invocations, want the batch split", len(b))
			}
			for i, x := range b {
				if !x.Async || !x.Delivered || !x.Deleted {
					t.Errorf("batch %d: %+v", i, x)
				}
			}
			// Batches are recorded as their invocations end; in the order of
			// the queue, every part but the last is full: one message more
			// would have gone over 128 KB.
			slices.SortFunc(b, func(x, y MNSBatch) int {
				return slices.Index(ids, x.MessageIDs[0]) - slices.Index(ids, y.MessageIDs[0])
			})
			var order []string
			for i, x := range b {
				order = append(order, x.MessageIDs...)
				if i == len(b)-1 {
					continue
				}
				var events []json.RawMessage
				if err := json.Unmarshal(b[i+1].Event, &events); err != nil {
					t.Fatal(err)
				}
				if grown := len(x.Event) + 1 + len(events[0]); grown <= maxAsyncPayload {
					t.Errorf("part %d (%d messages, %d bytes) could have taken the next message (%d bytes)", i, len(x.MessageIDs), len(x.Event), grown)
				}
			}
			if !slices.Equal(order, ids) {
				t.Errorf("parts out of the queue's order")
			}
			if left := env.bodies("work"); len(left) != 0 {
				t.Errorf("%d messages left in the queue", len(left))
			}
		})
	}
}

// TestMNSTriggerAsyncStops: after cancel, Run stops receiving, lets the
// invocation that runs finish, abandons the one waiting for an instance and
// the one waiting for its retry, and returns with nothing running.
func TestMNSTriggerAsyncStops(t *testing.T) {
	f := startEcho(t, FunctionConfig{Instances: 1})
	h := newHolder(t)
	ops, observe := mnsOps("BatchDeleteMessage")
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}, "dlq": {}}, observe)
	trig := env.trigger("work")
	trig.Async = true
	trig.BatchSize = 1
	trig.AsyncRetryDelay = time.Hour
	trig.DeadLetterQueue = "dlq"
	cancel, done := runTrigger(t, trig, f)

	failing := env.send(t, "work", `{"fctest":{"call":"`+h.call("/pass")+`","fail":"x"}}`)[0]
	if p := h.wait(t); p != "/pass" {
		t.Fatalf("arrived %s", p)
	}
	held := env.send(t, "work", `{"fctest":{"call":"`+h.call("/held")+`"}}`)[0]
	if p := h.wait(t); p != "/held" { // the failed one gave the instance back, waiting an hour to retry
		t.Fatalf("arrived %s", p)
	}
	queued := env.send(t, "work", "no instance for me")[0]
	waitOp(t, ops, "BatchDeleteMessage", 3)

	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while an invocation ran", err)
	default:
	}
	h.let()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	done <- nil // for the cleanup

	byID := map[string]MNSBatch{}
	for _, b := range trig.Batches() {
		byID[b.MessageIDs[0]] = b
	}
	if b := byID[failing]; len(byID) != 3 || !b.Abandoned || len(b.Attempts) != 1 || b.Delivered || b.DeadLettered {
		t.Errorf("the failing batch %+v (of %d)", b, len(byID))
	}
	if b := byID[held]; !b.Delivered || b.Abandoned || len(b.Attempts) != 1 {
		t.Errorf("the held batch %+v", b)
	}
	if b := byID[queued]; !b.Abandoned || len(b.Attempts) != 0 {
		t.Errorf("the queued batch %+v", b)
	}
	log := f.Invocations()
	if len(log) != 2 {
		t.Fatalf("%d invocations, want the failing one and the held one", len(log))
	}
	for _, inv := range log {
		if inv.End.IsZero() {
			t.Errorf("invocation %s did not end", inv.RequestID)
		}
	}
	if n := len(env.srv.Visible("dlq")); n != 0 {
		t.Errorf("%d dead letters; an abandoned batch is not dead-lettered", n)
	}
	if n := len(env.srv.Visible("work")); n != 0 {
		t.Errorf("%d messages back in the queue", n)
	}
}

// TestMNSTriggerAsyncStopsWhenTheFunctionIsClosed: with the function gone
// no invocation can run, so Run stops and leaves the message in the queue
// rather than deleting it for nothing.
func TestMNSTriggerAsyncStopsWhenTheFunctionIsClosed(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	_ = f.Close()
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}})
	env.send(t, "work", "kept")
	trig := env.trigger("work")
	trig.Async = true
	if err := trig.Run(context.Background(), f); err != ErrClosed {
		t.Fatalf("Run = %v, want ErrClosed", err)
	}
	for _, m := range env.srv.Messages("work") {
		if m.Deleted {
			t.Errorf("message %s deleted with no function to run it", m.MessageID)
		}
	}
	if len(trig.Batches()) != 0 {
		t.Errorf("batches %+v", trig.Batches())
	}
}

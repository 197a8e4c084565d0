package fc

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
)

// gate is an HTTP endpoint that echofn's "call" directive blocks on: each
// request is announced on arrived and answered once released (or when the
// test ends). It turns "the function is inside its handler" into an explicit
// event, with no sleeps.
type gate struct {
	srv     *httptest.Server
	arrived chan string // the request's path
	release chan struct{}
	done    chan struct{}
}

func newGate(t *testing.T) *gate {
	t.Helper()
	g := &gate{arrived: make(chan string, 16), release: make(chan struct{}, 16), done: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.arrived <- r.URL.Path
		select {
		case <-g.release:
		case <-r.Context().Done(): // the caller died
		case <-g.done:
		}
	}))
	t.Cleanup(func() { close(g.done); g.srv.Close() })
	return g
}

// event is an event whose handler calls the gate at path first.
func (g *gate) event(path string) []byte {
	return directive(fmt.Sprintf(`{"call":%q}`, g.srv.URL+path))
}

func (g *gate) wait(t *testing.T) string {
	t.Helper()
	return <-g.arrived
}

func TestKillFailsTheInvocationAndTheNextGetsANewInstance(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	g := newGate(t)
	first := invokeOK(t, f, []byte(`{}`), InvokeOptions{})

	type outcome struct {
		res Result
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		res, err := f.Invoke(context.Background(), g.event("/held"), InvokeOptions{RequestID: "held"})
		out <- outcome{res, err}
	}()
	g.wait(t) // the handler is running
	if n := f.Kill(); n != 1 {
		t.Fatalf("Kill killed %d processes, want 1", n)
	}
	o := <-out
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.res.Error == nil || !strings.Contains(o.res.Error.ErrorMessage, "Process exited unexpectedly") ||
		!strings.Contains(o.res.Error.ErrorMessage, "killed") || o.res.ErrorHeader != UnhandledInvocationError || o.res.TimedOut {
		t.Fatalf("killed invocation: %+v, error %+v", o.res, o.res.Error)
	}
	if f.Running() != 0 {
		t.Errorf("%d instances running after Kill", f.Running())
	}
	if f.Kill() != 0 {
		t.Error("Kill with nothing running killed something")
	}
	second := invokeOK(t, f, []byte(`{}`), InvokeOptions{})
	if second.PID == first.PID {
		t.Error("the invocation after Kill ran in the killed process")
	}
	log := f.Invocations()
	if len(log) != 3 || log[1].RequestID != "held" || log[1].Instance != 1 || log[2].Instance != 2 || log[2].Result.Failed() {
		t.Errorf("log %+v", log)
	}
}

// TestInstancesServeConcurrently: with Instances 2, two invocations run at
// once on two processes, and never a third.
func TestInstancesServeConcurrently(t *testing.T) {
	f := startEcho(t, FunctionConfig{Instances: 2})
	g := newGate(t)
	const n = 4
	var wg sync.WaitGroup
	results := make([]Result, n)
	for i := range n {
		wg.Go(func() {
			res, err := f.Invoke(context.Background(), g.event(fmt.Sprintf("/%d", i)), InvokeOptions{})
			if err != nil {
				t.Errorf("invocation %d: %v", i, err)
			}
			results[i] = res
		})
	}
	// Release the calls in pairs: each pair is in flight at once, which
	// needs two instances; a third call cannot arrive while a pair waits,
	// because both instances are busy.
	for range n / 2 {
		g.wait(t)
		g.wait(t)
		select {
		case p := <-g.arrived:
			t.Fatalf("a third invocation (%s) ran while two instances were busy", p)
		default:
		}
		g.release <- struct{}{}
		g.release <- struct{}{}
	}
	wg.Wait()
	distinct := map[int]bool{}
	for i, res := range results {
		if res.Failed() {
			t.Fatalf("invocation %d failed: %+v", i, res.Error)
		}
		distinct[decodeReply(t, res.Response).PID] = true
	}
	if len(distinct) != 2 {
		t.Errorf("%d processes served the invocations, want 2", len(distinct))
	}
	if f.Running() != 2 {
		t.Errorf("%d instances running, want 2", f.Running())
	}
	for _, inv := range f.Invocations() {
		if inv.Instance < 1 || inv.Instance > 2 {
			t.Errorf("invocation on instance %d", inv.Instance)
		}
	}
}

// TestMNSTriggerRetriesABatchWhoseInstanceWasKilled: the platform loses the
// instance in the middle of a batch; the push fails like a crash in FC, the
// trigger pushes the same batch again, and a new instance handles it.
func TestMNSTriggerRetriesABatchWhoseInstanceWasKilled(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	g := newGate(t)
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}, "dlq": {}})
	env.send(t, "work", string(g.event("/batch")))
	trig := env.trigger("work")
	trig.Retries = 2
	trig.DeadLetterQueue = "dlq"

	go func() {
		g.wait(t) // first push: the handler is running
		f.Kill()
		g.wait(t) // the retry, on a new instance
		g.release <- struct{}{}
	}()
	drain(t, trig, f, 1)

	b := trig.Batches()
	if len(b) != 1 || len(b[0].Attempts) != 2 || !b[0].Delivered || b[0].DeadLettered || !b[0].Deleted {
		t.Fatalf("batches %+v", b)
	}
	if e := b[0].Attempts[0].Error; e == nil || !strings.Contains(e.ErrorMessage, "Process exited unexpectedly") {
		t.Errorf("first attempt: %+v", b[0].Attempts[0])
	}
	log := f.Invocations()
	if len(log) != 2 || log[0].Instance != 1 || log[1].Instance != 2 || string(log[0].Payload) != string(log[1].Payload) {
		t.Errorf("invocations %+v", log)
	}
	if left := env.bodies("work"); len(left) != 0 {
		t.Errorf("left in queue: %v", left)
	}
}

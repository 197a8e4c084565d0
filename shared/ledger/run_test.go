package ledger

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// addOne is a merge that counts merged steps in the summary bytes.
func addOne(stored []byte) ([]byte, error) {
	n, _ := strconv.Atoi(string(stored))
	return []byte(strconv.Itoa(n + 1)), nil
}

// A run of a root step that registers three children: complete only when
// the root and every child finished; a redelivered step counts once; the
// published mark sticks.
func TestRunSteps(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	const run = "run-key-1"
	if s, err := e.l.RegisterSteps(ctx, run, []string{"0", "0.1", "0.2", "0.3"}); err != nil || s.Complete() {
		t.Fatalf("register: %+v %v", s, err)
	}
	for _, id := range []string{"0.2", "0", "0.2", "0.1"} {
		s, err := e.l.StepDone(ctx, run, id, addOne)
		must(t, err)
		if s.Complete() {
			t.Fatalf("complete after %s: %+v", id, s)
		}
	}
	s, err := e.l.StepDone(ctx, run, "0.3", addOne)
	must(t, err)
	if !s.Complete() || string(s.Summary) != "4" || s.Published {
		t.Fatalf("after the last step: complete %v summary %q published %v, want complete with 4 steps merged, unpublished", s.Complete(), s.Summary, s.Published)
	}
	s, err = e.l.StepDone(ctx, run, "0.3", addOne) // the last step redelivered
	must(t, err)
	if !s.Complete() || string(s.Summary) != "4" {
		t.Fatalf("redelivered last step: %+v", s)
	}
	must(t, e.l.MarkPublished(ctx, run))
	if s, err := e.l.GetRun(ctx, run); err != nil || !s.Published || !s.Complete() {
		t.Fatalf("after MarkPublished: %+v %v", s, err)
	}
	m := e.reset()
	if _, err := e.l.StepDone(ctx, run, "a,b", addOne); err == nil || e.since(m) != "" {
		t.Errorf("a step id with a comma: %v with calls %q, want refused before any call", err, e.since(m))
	}
}

// Several steps of one run recorded together (a batch of a fleet's steps
// ending in one invocation): one GetRow and one PutRow for all of them,
// each step's part merged once, in the order given, and a step recorded
// before (or named twice) not merged again.
func TestStepsDoneTogether(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	const run = "run-key-3"
	_, err := e.l.RegisterSteps(ctx, run, []string{"0", "0.1", "0.2", "0.3", "0.4"})
	must(t, err)
	var merged []string
	merge := func(stored []byte, id string) ([]byte, error) {
		merged = append(merged, id)
		return addOne(stored)
	}
	m := e.reset()
	s, err := e.l.StepsDone(ctx, run, []string{"0.2", "0.1", "0.2"}, merge)
	must(t, err)
	if got := e.since(m); got != "GetRow PutRow" {
		t.Errorf("calls for two steps recorded together: %q, want one GetRow and one PutRow", got)
	}
	if s.Complete() || string(s.Summary) != "2" || !slices.Equal(merged, []string{"0.2", "0.1"}) {
		t.Fatalf("after 0.2 and 0.1: complete %v, summary %q, merged %q; want incomplete, 2 parts merged in order", s.Complete(), s.Summary, merged)
	}
	merged = nil
	s, err = e.l.StepsDone(ctx, run, []string{"0.1", "0.3", "0", "0.4"}, merge)
	must(t, err)
	if !s.Complete() || string(s.Summary) != "5" || !slices.Equal(merged, []string{"0.3", "0", "0.4"}) {
		t.Fatalf("after the rest: complete %v, summary %q, merged %q; want complete with 5 parts, 0.1 not merged again", s.Complete(), s.Summary, merged)
	}
	m = e.reset()
	merged = nil
	if s, err := e.l.StepsDone(ctx, run, []string{"0.3", "0.4"}, merge); err != nil || !s.Complete() || len(merged) > 0 || e.since(m) != "GetRow" {
		t.Errorf("the batch redelivered: %+v %v, merged %q, calls %q; want the complete state, nothing merged, no write", s, err, merged, e.since(m))
	}
	m = e.reset()
	for _, ids := range [][]string{nil, {"0.5", "a,b"}} {
		if _, err := e.l.StepsDone(ctx, run, ids, merge); err == nil {
			t.Errorf("StepsDone(%q): no error, want refused", ids)
		}
	}
	if got := e.since(m); got != "" {
		t.Errorf("refused StepsDone made calls %q", got)
	}
}

// Steps finishing at once (one invocation runs a batch of them): every
// step is merged exactly once, and exactly one of them sees the run
// complete.
func TestRunStepsConcurrently(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	const run, n = "run-key-2", 12
	ids := []string{"0"}
	for i := range n {
		ids = append(ids, fmt.Sprintf("0.%d", i))
	}
	_, err := e.l.RegisterSteps(ctx, run, ids)
	must(t, err)
	_, err = e.l.StepDone(ctx, run, "0", addOne)
	must(t, err)
	var mu sync.Mutex
	completes := 0
	var wg sync.WaitGroup
	for _, id := range ids[1:] {
		wg.Go(func() {
			s, err := e.l.StepDone(ctx, run, id, addOne)
			if err != nil {
				t.Errorf("step %s: %v", id, err)
				return
			}
			if s.Complete() {
				mu.Lock()
				completes++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s, err := e.l.GetRun(ctx, run)
	must(t, err)
	if completes != 1 || string(s.Summary) != strconv.Itoa(n+1) || !s.Complete() {
		t.Errorf("%d steps saw the run complete (want 1); summary %q (want %d merges)", completes, s.Summary, n+1)
	}
}

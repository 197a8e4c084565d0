package ledger

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// A delivery that ends without a job releases its lease: the next delivery
// takes the row over at once (no Busy wait), and only the holder can
// release.
func TestReleaseLetsTheNextDeliveryTakeOver(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.claim(ask("a"))
	if c := e.claim(ask("b")); !c.Busy {
		t.Fatalf("before release: %+v, want Busy", c)
	}
	if err := e.l.Release(ctx, "route:demo-pipeline", "k-0001", "b"); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("release by a non-holder: %v, want ErrLeaseLost", err)
	}
	m := e.reset()
	must(t, e.l.Release(ctx, "route:demo-pipeline", "k-0001", "a"))
	if got := e.since(m); got != "UpdateRow" {
		t.Errorf("release calls %q, want one UpdateRow", got)
	}
	c := e.claim(ask("b"))
	if !c.Won || !c.TakenOver {
		t.Fatalf("after release: %+v, want won by takeover", c)
	}
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "b", "5073731"))
	if err := e.l.Release(ctx, "route:demo-pipeline", "k-0001", "b"); !errors.Is(err, ErrJobConflict) {
		t.Errorf("release of a row with a job: %v, want ErrJobConflict", err)
	}
}

// A row whose job failed is reopened once: the winner holds the lease
// without a job and records its new one; a second reopen of the same
// failed job sees the new job instead.
func TestReopenAFailedJob(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.claim(ask("a"))
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "a", "5073731"))

	m := e.reset()
	c, err := e.l.Reopen(ctx, ask("b"), "5073731")
	if err != nil || !c.Won || !c.TakenOver {
		t.Fatalf("Reopen: %+v, %v; want won by takeover", c, err)
	}
	if got := e.since(m); got != "UpdateRow" {
		t.Errorf("reopen calls %q, want one UpdateRow", got)
	}
	row, _, err := e.l.Get(ctx, "route:demo-pipeline", "k-0001")
	must(t, err)
	if row.JobID != "" || row.LeaseOwner != "b" {
		t.Fatalf("row after reopen: job %q owner %q, want no job, owner b", row.JobID, row.LeaseOwner)
	}
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "b", "5073740"))

	c, err = e.l.Reopen(ctx, ask("c"), "5073731")
	if err != nil || c.Won || c.Row.JobID != "5073740" {
		t.Fatalf("second reopen of the failed job: %+v, %v; want lost, seeing job 5073740", c, err)
	}
}

// Of concurrent reopens of one failed job exactly one wins.
func TestConcurrentReopensOneWinner(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.claim(ask("a"))
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "a", "5073731"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.l.Reopen(ctx, ask(string(rune('p'+i))), "5073731")
			if err != nil {
				t.Error(err)
				return
			}
			if c.Won {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d reopens won, want 1", won)
	}
}

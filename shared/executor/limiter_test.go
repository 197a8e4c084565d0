package executor

import (
	"context"
	"testing"
)

// waitInLine starts an acquire that has to wait and returns the channel
// its result arrives on, once it is in line.
func waitInLine(t *testing.T, l *limiter, ctx context.Context) <-chan error {
	t.Helper()
	l.mu.Lock()
	n := len(l.waiting)
	l.mu.Unlock()
	got := make(chan error, 1)
	go func() { got <- l.acquire(ctx) }()
	for {
		l.mu.Lock()
		in := len(l.waiting) > n
		l.mu.Unlock()
		if in {
			return got
		}
	}
}

func TestLimiterLetsWaitersInFirstComeFirstServedOnePerFreedSlot(t *testing.T) {
	l := newLimiter(2, 2)
	ctx := context.Background()
	for range 2 {
		if err := l.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first := waitInLine(t, l, ctx)
	second := waitInLine(t, l, ctx)
	third := waitInLine(t, l, ctx)

	l.release(false, false) // neither a success nor throttled: the limit stays 2
	if err := <-first; err != nil {
		t.Fatalf("first in line: %v", err)
	}
	select {
	case <-second:
		t.Fatal("one freed slot let in two waiters")
	case <-third:
		t.Fatal("the third waiter went before the second")
	default:
	}
	l.release(false, false)
	if err := <-second; err != nil {
		t.Fatalf("second in line: %v", err)
	}
	select {
	case <-third:
		t.Fatal("a waiter got in with no slot free")
	default:
	}
	l.release(false, false)
	<-third
	if limit, peak := l.stats(); limit != 2 || peak != 2 {
		t.Fatalf("limit %d peak %d, want 2 and 2", limit, peak)
	}
}

func TestLimiterSuccessInSlowStartLetsTwoIn(t *testing.T) {
	l := newLimiter(1, 8)
	ctx := context.Background()
	if err := l.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	a := waitInLine(t, l, ctx)
	b := waitInLine(t, l, ctx)
	l.release(false, true) // slow start: the limit grows to 2, and the slot is free
	<-a
	<-b
	if limit, _ := l.stats(); limit != 2 {
		t.Fatalf("limit %d, want 2", limit)
	}
}

func TestLimiterWaiterThatGivesUpLeavesTheLineAndKeepsNoSlot(t *testing.T) {
	l := newLimiter(1, 1)
	bg := context.Background()
	if err := l.acquire(bg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	quitter := waitInLine(t, l, ctx)
	next := waitInLine(t, l, bg)
	cancel()
	if err := <-quitter; err == nil {
		t.Fatal("a cancelled waiter got a slot")
	}
	l.release(false, false)
	if err := <-next; err != nil {
		t.Fatalf("the waiter behind the one that gave up: %v", err)
	}
	l.release(false, false)
	// Nothing in flight now: a new caller gets in at once.
	if err := l.acquire(bg); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight != 1 || len(l.waiting) != 0 {
		t.Fatalf("in flight %d, waiting %d; want 1 and 0", l.inflight, len(l.waiting))
	}
}

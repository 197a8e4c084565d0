package executor

import (
	"context"
	"sync"
)

// limiter bounds the RDS calls in flight with an adaptive limit, as TCP's
// congestion window does: slow start (one more per success, so the limit
// doubles every round trip) until the first throttling answer, then
// additive increase (one more after as many successes in a row as the
// limit) and multiplicative decrease (half on every throttling answer),
// between 1 and max.
//
// Callers that find no slot wait in line, first come first served, and a
// freed slot goes to the first of them: a release wakes only the callers
// it lets in, not every waiter (a fleet's hundreds of asks wait here; waking
// them all on every release cost the queue function a tenth of its CPU).
type limiter struct {
	mu       sync.Mutex
	limit    int
	max      int
	inflight int
	okStreak int
	slowEnd  bool // slow start ended: the account throttled once
	peak     int  // highest number of calls in flight
	waiting  []chan struct{}
}

func newLimiter(initial, ceiling int) *limiter {
	return &limiter{limit: max(initial, 1), max: ceiling}
}

// acquire waits for a slot or for ctx to end.
func (l *limiter) acquire(ctx context.Context) error {
	l.mu.Lock()
	if l.inflight < l.limit && len(l.waiting) == 0 {
		l.take()
		l.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	l.waiting = append(l.waiting, turn)
	l.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, w := range l.waiting {
		if w == turn { // not let in: leave the line
			l.waiting = append(l.waiting[:i], l.waiting[i+1:]...)
			return ctx.Err()
		}
	}
	// Let in as ctx ended: the slot is this caller's to give back.
	l.inflight--
	l.admit()
	return ctx.Err()
}

// take counts one more call in flight; l.mu is held.
func (l *limiter) take() {
	l.inflight++
	l.peak = max(l.peak, l.inflight)
}

// admit lets in the first waiters while the limit has room; l.mu is held.
func (l *limiter) admit() {
	for l.inflight < l.limit && len(l.waiting) > 0 {
		l.take()
		close(l.waiting[0])
		l.waiting[0] = nil
		l.waiting = l.waiting[1:]
	}
}

// release gives the slot back and adapts the limit to how the call went.
func (l *limiter) release(throttled, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	switch {
	case throttled:
		l.limit = max(l.limit/2, 1)
		l.okStreak, l.slowEnd = 0, true
	case ok && !l.slowEnd:
		l.limit = min(l.limit+1, l.max)
	case ok:
		l.okStreak++
		if l.okStreak >= l.limit && l.limit < l.max {
			l.limit++
			l.okStreak = 0
		}
	}
	l.admit()
}

func (l *limiter) stats() (limit, peak int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.peak
}

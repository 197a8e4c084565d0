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
type limiter struct {
	mu       sync.Mutex
	limit    int
	max      int
	inflight int
	okStreak int
	slowEnd  bool // slow start ended: the account throttled once
	peak     int  // highest number of calls in flight
	wake     chan struct{}
}

func newLimiter(initial, ceiling int) *limiter {
	return &limiter{limit: max(initial, 1), max: ceiling, wake: make(chan struct{})}
}

// acquire waits for a slot or for ctx to end.
func (l *limiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		if l.inflight < l.limit {
			l.inflight++
			l.peak = max(l.peak, l.inflight)
			l.mu.Unlock()
			return nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives the slot back and adapts the limit to how the call went.
func (l *limiter) release(throttled, ok bool) {
	l.mu.Lock()
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
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
}

func (l *limiter) stats() (limit, peak int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.peak
}

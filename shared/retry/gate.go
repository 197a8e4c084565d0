package retry

import (
	"context"
	"sync"
	"time"
)

// Gate is the throttle gate shared by every worker of one executor: a
// throttling answer to any of them closes it for a while, and every worker
// waits for it before its next call. Each throttling answer doubles the
// pause (from Base up to Max) and pushes "not before" out to now + pause;
// each success halves the pause, and below Base it drops to zero.
//
// A Gate is safe for concurrent use. The zero value is not usable; use
// NewGate.
type Gate struct {
	base, max time.Duration
	now       func() time.Time

	mu        sync.Mutex
	pause     time.Duration
	notBefore time.Time
}

// Default gate pauses.
const (
	GateBase = 500 * time.Millisecond
	GateMax  = 10 * time.Second
)

// NewGate returns an open gate. Zero base or max take GateBase and GateMax;
// a nil now takes time.Now.
func NewGate(base, max time.Duration, now func() time.Time) *Gate {
	if base <= 0 {
		base = GateBase
	}
	if max <= 0 {
		max = GateMax
	}
	if max < base {
		max = base
	}
	if now == nil {
		now = time.Now
	}
	return &Gate{base: base, max: max, now: now}
}

// Throttled records a throttling answer and returns the new pause.
func (g *Gate) Throttled() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.pause < g.base:
		g.pause = g.base
	default:
		g.pause = min(g.pause*2, g.max)
	}
	if nb := g.now().Add(g.pause); nb.After(g.notBefore) {
		g.notBefore = nb
	}
	return g.pause
}

// Succeeded records a successful call: the pause relaxes.
func (g *Gate) Succeeded() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pause /= 2
	if g.pause < g.base {
		g.pause = 0
	}
}

// Pause returns the current pause (zero when not throttled lately).
func (g *Gate) Pause() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pause
}

// Wait returns how long a caller must still wait before its next call.
func (g *Gate) Wait() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d := g.notBefore.Sub(g.now()); d > 0 {
		return d
	}
	return 0
}

// NotBefore returns the time before which no call should be made.
func (g *Gate) NotBefore() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.notBefore
}

// Pass sleeps (with sleep, which must honour ctx) until the gate is open.
// It loops because another worker may push the gate out while this one
// sleeps (at most 64 times, so a sleep that does not move the clock cannot
// spin it for ever).
func (g *Gate) Pass(ctx context.Context, sleep func(context.Context, time.Duration) error) error {
	for range 64 {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := g.Wait()
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	return ctx.Err()
}

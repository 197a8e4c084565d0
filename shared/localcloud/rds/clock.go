package rds

import (
	"sync"
	"time"
)

// Clock is the server's notion of "now": job progress, backup times, the
// daily quota, the rate limit's refill and (for the default credential store)
// STS expiry are all read from it. Signature timestamps are checked against
// real time, since the SDK always stamps requests with time.Now.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// FakeClock is a Clock that only moves when told to. Safe for concurrent use.
// The zero value reads the zero time; use NewFakeClock.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a clock reading t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// InstantLatency is a FakeClock on which faults' latency passes at once:
// a call with a latency fault moves the clock forward by it instead of
// waiting, so that a scripted latency costs a test no wall time. (On any
// other clock a latency is a real wait.)
type InstantLatency struct{ *FakeClock }

// Sleep moves the clock forward by d.
func (c InstantLatency) Sleep(d time.Duration) { c.Advance(d) }

package emukit

import (
	"sync"
	"time"
)

// Clock is an emulator's notion of "now".
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// FakeClock is a Clock that only moves when told to. Safe for concurrent use.
// The zero value reads the zero time; use NewFakeClock. It has no Sleep
// method: on it an injected latency is a real wait (see Sleeper).
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

// Sleeper is a clock on whose time an injected latency passes: Sleep(d)
// replaces the wait (rds.InstantLatency, tablestore.FakeClock).
type Sleeper interface{ Sleep(time.Duration) }

// Sleep spends an injected latency d and returns it (0 when d <= 0). On a
// clock that is a Sleeper it calls c.Sleep(d); otherwise it waits d of real
// time, cut short when done or cancel is closed (the server closing, the
// client going away).
func Sleep(c Clock, d time.Duration, done, cancel <-chan struct{}) time.Duration {
	if d <= 0 {
		return 0
	}
	if s, ok := c.(Sleeper); ok {
		s.Sleep(d)
		return d
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	case <-cancel:
	}
	return d
}

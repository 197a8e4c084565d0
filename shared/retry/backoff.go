package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter says how a Backoff spreads its delays.
type Jitter int

const (
	// FullJitter: a delay anywhere in [0, cap). Best for transient errors:
	// callers that failed together retry apart.
	FullJitter Jitter = iota
	// EqualJitter: a delay in [cap/2, cap). For state waits, where a retry
	// a few milliseconds later is pointless.
	EqualJitter
)

// Backoff is capped exponential backoff: before retry n (0 for the first
// retry) the cap is min(Max, Base·2ⁿ), and the delay is spread below it by
// Jitter with Rand (math/rand/v2's Float64 when nil).
type Backoff struct {
	Base   time.Duration
	Max    time.Duration
	Jitter Jitter
	Rand   func() float64
}

// Default policies.
var (
	// TransientBackoff: 200ms, 400ms, 800ms ... up to 5s, full jitter.
	TransientBackoff = Backoff{Base: 200 * time.Millisecond, Max: 5 * time.Second, Jitter: FullJitter}
	// StateWaitBackoff: 5s, 10s, 20s, then 30s, equal jitter.
	StateWaitBackoff = Backoff{Base: 5 * time.Second, Max: 30 * time.Second, Jitter: EqualJitter}
)

// Cap returns min(Max, Base·2ⁿ), the largest delay before retry n.
func (b Backoff) Cap(n int) time.Duration {
	if n < 0 {
		n = 0
	}
	d := b.Base
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	return d
}

// Delay returns the delay before retry n.
func (b Backoff) Delay(n int) time.Duration {
	c := b.Cap(n)
	r := b.rand()
	if b.Jitter == EqualJitter {
		return c/2 + time.Duration(r*float64(c-c/2))
	}
	return time.Duration(r * float64(c))
}

func (b Backoff) rand() float64 {
	f := b.Rand
	if f == nil {
		f = rand.Float64
	}
	r := f()
	switch {
	case r < 0:
		return 0
	case r >= 1:
		return 1
	}
	return r
}

// Policy picks the backoff for a class.
type Policy struct {
	Transient Backoff
	StateWait Backoff
}

// DefaultPolicy uses TransientBackoff and StateWaitBackoff.
var DefaultPolicy = Policy{Transient: TransientBackoff, StateWait: StateWaitBackoff}

// Delay returns the delay before retry n of an error of class c; zero for a
// class that is not retried.
func (p Policy) Delay(c Class, n int) time.Duration {
	switch c {
	case Transient:
		return p.Transient.Delay(n)
	case StateWait:
		return p.StateWait.Delay(n)
	}
	return 0
}

// WithRand returns p with both backoffs drawing from r.
func (p Policy) WithRand(r func() float64) Policy {
	p.Transient.Rand = r
	p.StateWait.Rand = r
	return p
}

// Sleep waits for d or until ctx ends, whichever is first; it returns
// ctx.Err() in the second case. It is the default sleep of the executor;
// tests inject their own.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package rds

import (
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/emukit"
)

// Clock is the server's notion of "now": job progress, backup times, the
// daily quota, the rate limit's refill and (for the default credential store)
// STS expiry are all read from it. Signature timestamps are checked against
// real time, since the SDK always stamps requests with time.Now.
type Clock = emukit.Clock

// ClockFunc adapts a function to Clock.
type ClockFunc = emukit.ClockFunc

// FakeClock is a Clock that only moves when told to (emukit.FakeClock).
// Safe for concurrent use. The zero value reads the zero time; use
// NewFakeClock. On it a fault's latency is a real wait.
type FakeClock = emukit.FakeClock

// NewFakeClock returns a clock reading t.
func NewFakeClock(t time.Time) *FakeClock { return emukit.NewFakeClock(t) }

// InstantLatency is a FakeClock on which faults' latency passes at once:
// a call with a latency fault moves the clock forward by it instead of
// waiting, so that a scripted latency costs a test no wall time. (On any
// other clock a latency is a real wait.)
type InstantLatency struct{ *FakeClock }

// Sleep moves the clock forward by d.
func (c InstantLatency) Sleep(d time.Duration) { c.Advance(d) }

package tablestore

import (
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/emukit"
)

// Clock is the server's "now": cell timestamps the server assigns, TTL
// expiry, auto-increment values and (for the default credential store) STS
// expiry are read from it. The x-ots-date check uses real time, since the
// SDK always stamps requests with time.Now.
type Clock = emukit.Clock

// ClockFunc adapts a function to Clock.
type ClockFunc = emukit.ClockFunc

// FakeClock is a Clock that moves only when told to (Now, Advance and Set
// of emukit.FakeClock). Safe for concurrent use. Unlike rds.FakeClock it
// has Sleep: on it an injected fault's latency moves the clock instead of
// waiting.
type FakeClock struct{ emukit.FakeClock }

// NewFakeClock returns a clock reading t.
func NewFakeClock(t time.Time) *FakeClock {
	c := &FakeClock{}
	c.Set(t)
	return c
}

// Sleep advances the clock by d instead of waiting: on a FakeClock an
// injected fault's latency costs no wall time.
func (c *FakeClock) Sleep(d time.Duration) { c.Advance(d) }

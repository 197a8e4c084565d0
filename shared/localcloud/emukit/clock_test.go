package emukit

import (
	"testing"
	"time"
)

type sleeper struct{ *FakeClock }

func (c sleeper) Sleep(d time.Duration) { c.Advance(d) }

func TestSleep(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fc := NewFakeClock(t0)
	if got := Sleep(sleeper{fc}, time.Hour, nil, nil); got != time.Hour || !fc.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("on a Sleeper: got %v, clock %v", got, fc.Now())
	}
	if got := Sleep(fc, 0, nil, nil); got != 0 {
		t.Fatalf("zero latency: got %v", got)
	}
	// A FakeClock alone cannot sleep: a real wait, cut short by done.
	done := make(chan struct{})
	close(done)
	start := time.Now()
	if got := Sleep(fc, time.Hour, done, nil); got != time.Hour || time.Since(start) > 10*time.Second || !fc.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("real wait: got %v after %v, clock %v", got, time.Since(start), fc.Now())
	}
	fc.Set(t0)
	if !fc.Now().Equal(t0) || !(ClockFunc(func() time.Time { return t0 })).Now().Equal(t0) {
		t.Fatal("Set or ClockFunc")
	}
}

package retry

import (
	"testing"
	"time"
)

// quotaServer is RDS's flow control as the RDS emulator models it: a token
// bucket of rate calls per second holding one second's worth, refilled on
// the clock; a call above it is throttled.
type quotaServer struct {
	rate, tokens float64
	last         time.Time
}

func (s *quotaServer) call(now time.Time) (throttled bool) {
	if !s.last.IsZero() {
		s.tokens = min(s.tokens+now.Sub(s.last).Seconds()*s.rate, s.rate)
	}
	s.last = now
	if s.tokens >= 1 {
		s.tokens--
		return false
	}
	return true
}

// pace sends n calls through a pacer to a quota server of rate calls a
// second, as fast as the pacer lets them go, each answered after latency
// (at most inflight at once), and returns when the last one succeeded and
// how many were throttled.
func pace(t *testing.T, n int, rate float64, latency time.Duration, inflight int) (time.Duration, int) {
	t.Helper()
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	now := start
	p := NewPacer(func() time.Time { return now })
	srv := &quotaServer{rate: rate, tokens: rate}
	type answer struct {
		at        time.Time
		throttled bool
	}
	var out []answer
	done, throttles, backlog := 0, 0, n
	for step := 0; done < n; step++ {
		if step > 10_000_000 {
			t.Fatalf("no end: %d of %d done at %v", done, n, now.Sub(start))
		}
		// Answers due now.
		keep := out[:0]
		for _, a := range out {
			if a.at.After(now) {
				keep = append(keep, a)
				continue
			}
			p.Update(a.throttled)
			if a.throttled {
				throttles++
				backlog++ // retried
			} else {
				done++
			}
		}
		out = keep
		// Send what the pacer lets go.
		for backlog > 0 && len(out) < inflight && p.Take() == 0 {
			backlog--
			out = append(out, answer{at: now.Add(latency), throttled: srv.call(now)})
		}
		now = now.Add(time.Millisecond)
	}
	return now.Sub(start), throttles
}

// Against RDS's per-API quota the pacer settles near the quota: 100 calls
// at 10/s (the server's bucket starts full: the floor is 9 s) end within
// 1.2× of the 10 s the quota allows, with few calls wasted on throttling
// after the first burst; 300 at 10/s and 1,000 at 50/s the same.
func TestPacerSettlesNearTheQuota(t *testing.T) {
	for _, c := range []struct {
		n    int
		rate float64
	}{{100, 10}, {1000, 50}, {300, 10}} {
		took, throttles := pace(t, c.n, c.rate, 20*time.Millisecond, 64)
		floor := time.Duration(float64(c.n) / c.rate * float64(time.Second))
		t.Logf("%d calls at %v/s: %v (floor %v, %.2f×), %d throttled", c.n, c.rate, took, floor, took.Seconds()/floor.Seconds(), throttles)
		if took > floor*12/10 {
			t.Errorf("%d calls at %v/s took %v, over 1.2× the quota's %v", c.n, c.rate, took, floor)
		}
		// The first burst (64 at once, before any throttling answer) is
		// throttled beyond the bucket; after it, few calls are.
		if throttles > 64+c.n/5 {
			t.Errorf("%d of %d calls throttled", throttles, c.n)
		}
	}
}

// Without throttling answers nothing is paced.
func TestPacerLetsEverythingGoUntilThrottled(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	p := NewPacer(func() time.Time { return now })
	for range 1000 {
		if d := p.Take(); d != 0 {
			t.Fatalf("Take = %v before any throttling", d)
		}
		p.Update(false)
	}
	if _, on := p.Rate(); on {
		t.Fatal("pacing without a throttling answer")
	}
	p.Update(true)
	if r, on := p.Rate(); !on || r <= 0 {
		t.Fatalf("after a throttling answer: rate %v on %v", r, on)
	}
}

// The first burst of a fleet is thrown back within its first half-second,
// before the answers' rate is known: the pacer takes the calls the quota
// let through in the second before (its bucket, 10), not the unknown
// answered rate (aws-sdk-go-v2's way paced at its least, 0.5 calls a
// second, and cut again at each throttling answer of the burst).
func TestPacerLearnsTheQuotaFromTheFirstBurst(t *testing.T) {
	start := time.Date(2026, 12, 7, 0, 0, 0, 100e6, time.UTC)
	now := start
	p := NewPacer(func() time.Time { return now })
	srv := &quotaServer{rate: 10, tokens: 10}
	var answers []bool
	for range 64 {
		if d := p.Take(); d != 0 {
			t.Fatalf("Take = %v before any answer", d)
		}
		answers = append(answers, srv.call(now))
	}
	now = now.Add(20 * time.Millisecond)
	for _, throttled := range answers {
		p.Update(throttled)
	}
	r, on := p.Rate()
	if !on || r < 5 || r > 10 {
		t.Fatalf("after a burst of 64 at a quota of 10/s: pace %.2f/s (on %v), want 5 to 10", r, on)
	}
	// The next call goes within one pace, not seconds later.
	if d, pace := p.Take(), time.Duration(float64(time.Second)/r); d > pace+time.Millisecond {
		t.Errorf("Take = %v right after the burst, want at most one pace (%v)", d, pace)
	}
}

// burstAt sends n calls at once through a new pacer to a fresh quota
// server of 10 calls a second (its bucket full), on a clock the caller
// moves: the pacer, the server and each call's answer (true: throttled),
// not yet handed to the pacer.
func burstAt(now *time.Time, n int) (*Pacer, *quotaServer, []bool) {
	p := NewPacer(func() time.Time { return *now })
	srv := &quotaServer{rate: 10, tokens: 10}
	var answers []bool
	for range n {
		p.Take()
		answers = append(answers, srv.call(*now))
	}
	return p, srv, answers
}

// The answers of one burst come back in any order (each call on its own
// connection, its answer handled when its goroutine runs): when the
// throttling answers are handled before the successes, the second before
// them held few successes. The successes that follow within the moment
// count for that throttling answer: the pace is the quota's, not what the
// first answers showed (a fleet's pair went at 1.4 calls/s for seconds).
func TestPacerCountsTheBurstsLateSuccesses(t *testing.T) {
	for _, first := range []int{0, 2} {
		now := time.Date(2026, 12, 7, 0, 0, 0, 100e6, time.UTC)
		p, _, answers := burstAt(&now, 16)
		now = now.Add(20 * time.Millisecond)
		// first successes, then every throttling answer, then the rest.
		var ok, thr int
		for _, a := range answers {
			if a {
				thr++
			} else {
				ok++
			}
		}
		for range first {
			p.Update(false)
		}
		for range thr {
			p.Update(true)
		}
		now = now.Add(5 * time.Millisecond)
		for range ok - first {
			p.Update(false)
		}
		if r, on := p.Rate(); !on || r < 5 || r > 10 {
			t.Errorf("%d successes handled before the %d throttling answers, %d after: pace %.2f/s (on %v), want 5 to 10",
				first, thr, ok-first, r, on)
		}
	}
}

// Answers that stop for a while (the callers look for backups, wait for
// the ledger, or give up their turn) do not drag the pace below what the
// quota let through: the answered rate caps the pace only above that.
// (Capped by twice the answered rate alone, answers 3 s apart paced at
// 0.67 calls/s, and a fleet's pair stayed at 0.5 calls/s for minutes with no
// throttling answer to lift it.)
func TestPacerKeepsTheQuotaThroughALull(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 100e6, time.UTC)
	p, srv, answers := burstAt(&now, 30)
	now = now.Add(20 * time.Millisecond)
	for _, throttled := range answers {
		p.Update(throttled)
	}
	// Paced calls for a second.
	for range 8 {
		now = now.Add(125 * time.Millisecond)
		p.Take()
		p.Update(srv.call(now))
	}
	// Then answers every 3 s for a while: the callers took their turns and
	// sent nothing, or were elsewhere.
	for range 6 {
		now = now.Add(3 * time.Second)
		p.Take()
		p.Update(srv.call(now))
	}
	if r, _ := p.Rate(); r < 5 {
		t.Fatalf("after answers 3 s apart: pace %.2f/s, want at least 5 (the quota let 10 through)", r)
	}
}

// A call that took its turn and did not go out (its look went stale while
// it waited) gives the turn back: the next call goes at once instead of a
// token's time later, and no more turns exist than the bucket holds.
func TestPacerReturnGivesTheTurnBack(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	p := NewPacer(func() time.Time { return now })
	p.Return() // not pacing yet: nothing to give back
	p.Update(false)
	now = now.Add(time.Second)
	p.Update(true) // paced at 0.7 × the one call let through: the least rate
	drain := func() {
		for p.Take() == 0 {
		}
	}
	drain()
	if d := p.Take(); d <= 0 {
		t.Fatalf("the bucket is empty and Take says go")
	}
	p.Return()
	if d := p.Take(); d != 0 {
		t.Fatalf("a returned turn: Take says wait %v, want go", d)
	}
	for range 10 {
		p.Return()
	}
	n := 0
	for p.Take() == 0 {
		n++
	}
	if r, _ := p.Rate(); float64(n) > max(r, 1) {
		t.Errorf("%d turns after ten returns, want at most the bucket's %v", n, max(r, 1))
	}
}

package retry

import (
	"math"
	"sync"
	"time"
)

// Pacer paces the calls of one API (for one account and region) to the
// rate the service allows, learnt from its throttling answers: the client
// rate limiter of aws-sdk-go-v2's adaptive retry mode (CUBIC, as TCP's
// congestion control). Until the first throttling answer it lets every
// call go. A throttling answer sets the rate to 0.7 × the rate the service
// let calls through at; each later answer moves it along a cubic curve back
// up to that rate and past it, probing for more, until the next throttling
// answer. Calls then take tokens from a bucket filled at that rate.
//
// Where aws-sdk-go-v2 takes the rate calls were answered at (smoothed over
// half-second buckets, and the lower of it and the pace before), the
// pacer takes the calls that succeeded in the second before the throttling
// answer: a rate quota ("N/1(s)", a bucket refilled at N a second) lets N
// through in a second once its burst is spent, whatever was sent. The
// answers' rate is unknown until a half-second has passed, and the first
// burst is thrown back within it: the SDK's way paced a fleet's first
// throttling answer at its least, 0.5 calls a second, and each throttling
// answer of that burst cut the pace again (make bench, fleet across
// accounts: the pairs' 100 asks at 10/s took 14 s at the median, 37 s at
// worst, where the quota allows 9.9 s; with the calls let through: 9.2 s).
// Until the answers' rate is known it does not cap the pace either. A
// burst's answers are handled in any order: the successes handled within
// half a second after a throttling answer count for it too.
//
// A Pacer is safe for concurrent use; the zero value is not usable (use
// NewPacer). All times come from its clock.
type Pacer struct {
	now func() time.Time

	mu           sync.Mutex
	enabled      bool    // a throttling answer was seen: the bucket paces calls
	fillRate     float64 // tokens per second
	capacity     float64
	tokens       float64
	lastRefill   time.Time
	measured     float64     // calls answered per second, smoothed over half-second buckets
	okTimes      []time.Time // when the calls of the last second succeeded, oldest first
	lastBucket   float64     // start of the current half-second bucket, in seconds
	count        int         // answers in the current bucket
	calculated   float64     // the cubic curve's rate
	lastMax      float64     // the rate at the last throttling answer
	lastThrottle time.Time
	window       float64 // seconds from a throttling answer back to lastMax
}

// burstAnswers is how long after a throttling answer a success is taken to
// be of the same burst, answered late.
const burstAnswers = 500 * time.Millisecond

// The constants of aws-sdk-go-v2's adaptive rate limit.
const (
	pacerBeta    = 0.7 // the rate kept after a throttling answer
	pacerScale   = 0.4 // the cubic curve's scale
	pacerSmooth  = 0.8 // weight of the newest half-second in the measured rate
	pacerMinRate = 0.5 // calls per second, at the least
)

// NewPacer returns a pacer that lets every call go until the first
// throttling answer; a nil now takes time.Now.
func NewPacer(now func() time.Time) *Pacer {
	if now == nil {
		now = time.Now
	}
	return &Pacer{now: now}
}

// Take asks to send one call now. It returns 0 when the call may go (a
// token is taken), else how long to wait before asking again.
func (p *Pacer) Take() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.enabled {
		return 0
	}
	p.refill()
	if p.tokens >= 1 {
		p.tokens--
		return 0
	}
	wait := time.Duration((1 - p.tokens) / p.fillRate * float64(time.Second))
	return max(wait, time.Millisecond)
}

// Return gives back the token Take gave a call that then did not go out
// (its caller chose not to send after all: an ask whose look went stale
// while it waited looks again first), so that the quota's pace is not
// lost to it.
func (p *Pacer) Return() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.enabled {
		return
	}
	p.refill()
	p.tokens = math.Min(p.tokens+1, p.capacity)
}

// Update records the answer to a call that went out: throttled or not.
func (p *Pacer) Update(throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.measure(now)
	p.countSuccess(now, !throttled)
	if throttled {
		rate := float64(len(p.okTimes)) // calls let through in the last second
		p.lastMax = rate
		p.window = math.Cbrt(p.lastMax * (1 - pacerBeta) / pacerScale)
		p.lastThrottle = now
		p.calculated = rate * pacerBeta
		p.enabled = true
	} else {
		if p.enabled && now.Sub(p.lastThrottle) < burstAnswers {
			// Likely of the burst the throttling answer came from, handled
			// after it (a burst's answers come back in any order): it counts
			// for what the quota let through. Counted only at the throttling
			// answer, a burst whose successes came last set the pace at
			// 0.5–1.4 calls/s (make bench, fleet across accounts: a pair
			// sent 2 a second for 3 s).
			p.lastMax = math.Max(p.lastMax, float64(len(p.okTimes)))
		}
		p.window = math.Cbrt(p.lastMax * (1 - pacerBeta) / pacerScale)
		dt := now.Sub(p.lastThrottle).Seconds()
		p.calculated = pacerScale*math.Pow(dt-p.window, 3) + p.lastMax
	}
	if !p.enabled {
		return
	}
	p.refill()
	rate := p.calculated
	if p.measured > 0 { // not above twice the rate calls are answered at, once that is known,
		// unless that is below the rate the service let through when it
		// last throttled: answers stop when callers do other things or give
		// up their turn, and the answered rate alone then held a pair of a
		// fleet at 0.5 calls/s for minutes with no throttling answer.
		rate = math.Min(rate, math.Max(2*p.measured, p.lastMax))
	}
	p.fillRate = math.Max(rate, pacerMinRate)
	p.capacity = math.Max(p.fillRate, 1)
	p.tokens = math.Min(p.tokens, p.capacity)
}

// Rate returns the pace calls go at (calls per second) and whether the
// pacer paces at all yet.
func (p *Pacer) Rate() (float64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fillRate, p.enabled
}

// measure counts an answer into the measured rate.
func (p *Pacer) measure(now time.Time) {
	bucket := math.Floor(float64(now.UnixNano())/1e9*2) / 2
	p.count++
	if p.lastBucket == 0 {
		p.lastBucket = bucket
		return
	}
	if bucket > p.lastBucket {
		cur := float64(p.count) / (bucket - p.lastBucket)
		p.measured = cur*pacerSmooth + p.measured*(1-pacerSmooth)
		p.count = 0
		p.lastBucket = bucket
	}
}

// countSuccess keeps the times of the last second's successes.
func (p *Pacer) countSuccess(now time.Time, ok bool) {
	cut := 0
	for cut < len(p.okTimes) && now.Sub(p.okTimes[cut]) >= time.Second {
		cut++
	}
	if cut > 0 {
		p.okTimes = append(p.okTimes[:0], p.okTimes[cut:]...)
	}
	if ok {
		p.okTimes = append(p.okTimes, now)
	}
}

// refill adds the tokens earned since the last refill.
func (p *Pacer) refill() {
	now := p.now()
	if !p.lastRefill.IsZero() {
		p.tokens = math.Min(p.tokens+now.Sub(p.lastRefill).Seconds()*p.fillRate, p.capacity)
	}
	p.lastRefill = now
}

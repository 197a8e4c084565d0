package emukit

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"time"
)

// Faults is an emulator's scripted faults of type F, in the order they were
// injected, and the seeded generator that decides those with a Rate below
// 1. The zero value is an empty list seeded with 1. It is not safe for
// concurrent use: the emulator guards it with its own lock.
type Faults[F any] struct {
	list []*pending[F]
	rng  *rand.Rand
}

type pending[F any] struct {
	f     F
	rate  float64
	left  int // 0: unlimited
	fired int
}

// Seed reseeds the generator (rand.NewPCG(seed, seed)): the same seed and
// the same sequence of calls give the same faults.
func (l *Faults[F]) Seed(seed uint64) { l.rng = rand.New(rand.NewPCG(seed, seed)) }

// Add appends f, which fires on the next times matching calls (0 or less:
// every one), each with probability rate (0, or 1 and above: always).
func (l *Faults[F]) Add(f F, times int, rate float64) {
	l.list = append(l.list, &pending[F]{f: f, rate: rate, left: max(times, 0)})
}

// Clear removes every fault, used up or not.
func (l *Faults[F]) Clear() { l.list = nil }

// Each calls yield with every fault not used up, in order, with the calls
// it still fires on (0: every call) and those it fired on.
func (l *Faults[F]) Each(yield func(f F, left, fired int)) {
	for _, p := range l.list {
		yield(p.f, p.left, p.fired)
	}
}

// Take returns the first fault that matches and fires, and counts it down
// (a fault whose Times are used up is removed). A matching fault with a
// rate strictly between 0 and 1 draws one number from the generator and
// fires when it is below the rate; one that does not fire lets the next
// matching fault decide.
func (l *Faults[F]) Take(match func(F) bool) (F, bool) {
	for i, p := range l.list {
		if !match(p.f) {
			continue
		}
		if p.rate > 0 && p.rate < 1 && l.generator().Float64() >= p.rate {
			continue
		}
		p.fired++
		if p.left > 0 {
			p.left--
			if p.left == 0 {
				l.list = slices.Delete(l.list, i, i+1)
			}
		}
		return p.f, true
	}
	var zero F
	return zero, false
}

func (l *Faults[F]) generator() *rand.Rand {
	if l.rng == nil {
		l.Seed(1)
	}
	return l.rng
}

// Latency is a fault's injected latency: d when positive, else ms
// milliseconds.
func Latency(d time.Duration, ms int) time.Duration {
	if d > 0 {
		return d
	}
	return time.Duration(ms) * time.Millisecond
}

// Outcome is what a fired fault answers in place of the action.
type Outcome int

// Outcomes of a fault.
const (
	OutcomeServe Outcome = iota // latency only: the call is served normally
	OutcomeDrop                 // the connection is closed without an answer
	OutcomeError                // the service's error body with a code
	OutcomeRaw                  // a non-service (HTML) body with an error status
)

// FaultOutcome decides what a fired fault answers, by precedence: drop;
// then a code, with status (default: the status table gives the code, else
// 500) and message (default: the table's message, else "Injected fault.");
// then a status of 300 or more, answered raw; else the call is served.
// table looks a code up in the service's error table (zero when absent).
func FaultOutcome(drop bool, code string, status int, message string, table func(code string) (int, string)) (Outcome, int, string) {
	switch {
	case drop:
		return OutcomeDrop, 0, ""
	case code != "":
		rowStatus, rowMsg := table(code)
		if status == 0 {
			status = rowStatus
		}
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if message == "" {
			message = rowMsg
		}
		if message == "" {
			message = "Injected fault."
		}
		return OutcomeError, status, message
	case status >= 300:
		return OutcomeRaw, status, ""
	}
	return OutcomeServe, 0, ""
}

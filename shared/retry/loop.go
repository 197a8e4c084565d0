package retry

import (
	"context"
	"time"
)

// Stop says why a Loop ended.
type Stop string

// Stop reasons.
const (
	// StopSucceeded: an attempt succeeded.
	StopSucceeded Stop = "succeeded"
	// StopTerminal: the classifier said the error cannot pass (Terminal, or
	// any class that is not retryable).
	StopTerminal Stop = "terminal"
	// StopAttemptsSpent: MaxAttempts attempts were made.
	StopAttemptsSpent Stop = "attempts-spent"
	// StopNoTimeLeft: the wait before the next attempt would end within
	// Reserve of the context's deadline (or after StopAt).
	StopNoTimeLeft Stop = "no-time-left"
	// StopCanceled: the context ended (before a retry or during a wait), or
	// the classifier said Canceled.
	StopCanceled Stop = "canceled"
	// StopQuotaSpent: the Loop's Quota could not pay for another retry.
	StopQuotaSpent Stop = "quota-spent"
)

// Loop is the one retry loop: call, classify the error, back off by class,
// try again — until an attempt succeeds or a stop rule says no. Its zero
// value makes one attempt. See the package doc.
type Loop struct {
	// MaxAttempts is the number of attempts in all, the first included;
	// 0 or less is 1.
	MaxAttempts int
	// Policy is the backoff per class, used as it is: a zero Backoff retries
	// at once (without calling Sleep). The exponent is the number of
	// retries of that class so far.
	Policy Policy
	// Classify sorts an error; nil is the package's Classify (RDS). Only
	// Transient and StateWait are retried.
	Classify func(error) Class
	// Reserve: a wait that would end within Reserve of ctx's deadline is not
	// started (StopNoTimeLeft), so the caller keeps time to settle.
	Reserve time.Duration
	// StopAt, when set, is the stop time on Now's clock and replaces ctx's
	// deadline less Reserve.
	StopAt time.Time
	// Floor, when set, is the shortest wait before the next attempt (the
	// executor's throttle gate).
	Floor func() time.Duration
	// Quota, when set, pays for every retry (see Quota).
	Quota *Quota
	// Seams: the clock (time.Now), sleeping (Sleep; it must honour ctx) and
	// randomness for jitter (when set, it replaces both backoffs' Rand).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
	// OnRetry, when set, is told of each retry before its wait (for the
	// caller's log line).
	OnRetry func(Retry)
}

// Retry is what OnRetry is told: attempt Attempt (from 1) failed with Err of
// Class, and the next one follows after Delay.
type Retry struct {
	Attempt int
	Err     error
	Class   Class
	Delay   time.Duration
}

// Result is how a Loop ended.
type Result struct {
	Stop     Stop
	Attempts int   // attempts made
	Class    Class // the last error's class ("" after a success)
	// Delay is the last wait decided, also when it was not taken
	// (StopAttemptsSpent, StopNoTimeLeft, StopQuotaSpent): a caller that
	// defers the work can use it as "not before".
	Delay time.Duration
}

// Tally is what a Loop counts between attempts: the retries of each class
// (the backoff exponents) and the tokens the last retry took from the
// Quota. Do keeps its own; a caller whose loop is its own keeps one for
// Decide. The zero value is ready.
type Tally struct {
	transient, stateWait int
	held                 int
}

// Decision is what follows a failed attempt: Stop is "" when the next
// attempt follows after Delay.
type Decision struct {
	Stop  Stop
	Class Class
	Delay time.Duration
}

// Decide applies the stop rules to failed attempt number attempt (from 1)
// whose error err is of class cl, in this order: a class that is not
// retryable (StopCanceled for Canceled, else StopTerminal); then the delay
// of the class (its backoff, at least Floor; the class's retry count goes
// up); then MaxAttempts (StopAttemptsSpent), the stop time (StopNoTimeLeft)
// and the Quota (StopQuotaSpent, taking the retry's tokens otherwise).
// Decide does not look at whether ctx ended (Do checks that first) and
// takes only its deadline.
func (l *Loop) Decide(ctx context.Context, t *Tally, attempt int, err error, cl Class) Decision {
	switch {
	case cl == Canceled:
		return Decision{Stop: StopCanceled, Class: cl}
	case !cl.Retryable():
		return Decision{Stop: StopTerminal, Class: cl}
	}
	p := l.Policy
	if l.Rand != nil {
		p = p.WithRand(l.Rand)
	}
	var d time.Duration
	if cl == StateWait {
		d = p.Delay(StateWait, t.stateWait)
		t.stateWait++
	} else {
		d = p.Delay(Transient, t.transient)
		t.transient++
	}
	if l.Floor != nil {
		d = max(d, l.Floor())
	}
	dec := Decision{Class: cl, Delay: d}
	if attempt >= max(l.MaxAttempts, 1) {
		dec.Stop = StopAttemptsSpent
		return dec
	}
	if stop := l.stopAt(ctx); !stop.IsZero() && l.now().Add(d).After(stop) {
		dec.Stop = StopNoTimeLeft
		return dec
	}
	cost, ok := l.Quota.take(err)
	if !ok {
		dec.Stop = StopQuotaSpent
		return dec
	}
	t.held = cost
	return dec
}

// Do calls f (attempt counts from 1) until it returns nil or a stop rule
// ends the loop, and returns the last error (nil after a success). The
// first attempt is always made; before each retry the context is checked
// first (StopCanceled), then Decide's rules; then OnRetry is told and the
// loop sleeps the delay.
func Do(ctx context.Context, l Loop, f func(ctx context.Context, attempt int) error) (Result, error) {
	var t Tally
	var res Result
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		err := f(ctx, attempt)
		if err == nil {
			l.Quota.succeeded(t.held)
			res.Stop, res.Class = StopSucceeded, ""
			return res, nil
		}
		t.held = 0
		res.Class = l.classify(err)
		if ctx.Err() != nil {
			res.Stop = StopCanceled
			return res, err
		}
		dec := l.Decide(ctx, &t, attempt, err, res.Class)
		res.Delay = dec.Delay
		if dec.Stop != "" {
			res.Stop = dec.Stop
			return res, err
		}
		if l.OnRetry != nil {
			l.OnRetry(Retry{Attempt: attempt, Err: err, Class: res.Class, Delay: dec.Delay})
		}
		var serr error
		if dec.Delay > 0 {
			serr = l.sleep()(ctx, dec.Delay)
		} else {
			serr = ctx.Err()
		}
		if serr != nil {
			l.Quota.put(t.held) // the retry was not made
			res.Stop = StopCanceled
			return res, err
		}
	}
}

func (l *Loop) classify(err error) Class {
	if l.Classify != nil {
		return l.Classify(err)
	}
	return Classify(err)
}

func (l *Loop) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Loop) sleep() func(context.Context, time.Duration) error {
	if l.Sleep != nil {
		return l.Sleep
	}
	return Sleep
}

// stopAt is StopAt, else ctx's deadline less Reserve, else zero.
func (l *Loop) stopAt(ctx context.Context) time.Time {
	if !l.StopAt.IsZero() {
		return l.StopAt
	}
	if dl, ok := ctx.Deadline(); ok {
		return dl.Add(-l.Reserve)
	}
	return time.Time{}
}

// ClassifyRetryable makes a Loop classifier of a yes/no retryable test
// (mnsq.IsRetryable, ledger.IsRetryable): Transient or Terminal.
func ClassifyRetryable(retryable func(error) bool) func(error) Class {
	return func(err error) Class {
		if retryable(err) {
			return Transient
		}
		return Terminal
	}
}

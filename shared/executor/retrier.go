package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"time"
	"weak"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// retrier is the one retry loop of the executor (Run, Expand and JobStatus
// all use it): every RDS call goes through the throttle gate and the
// adaptive limit, is bounded by the invocation's stop time, and a failed
// one waits the backoff of its class — unless the stop time or the
// attempts of this invocation would be passed, which the caller turns into
// a deferral.
type retrier struct {
	e      *Executor
	flow   *flow  // the gate and limit its calls go through; nil: the own account's
	region string // the region its calls are counted in (RDS's quotas are per region)
	log    *slog.Logger
	logCtx context.Context // the invocation's context, for the log lines' request id

	stopAt   time.Time   // on the injected clock; zero: no deadline
	tries    int         // failed tries recorded in this invocation
	tally    retry.Tally // retries so far, per class (the backoff exponents)
	rdsCalls int         // calls sent in this invocation
}

func (t *retrier) now() time.Time { return t.e.o.Now() }

// fl is the flow the retrier's calls go through.
func (t *retrier) fl() *flow {
	if t.flow == nil {
		return &t.e.own
	}
	return t.flow
}

// bound derives the context every call runs under: it ends DeadlineMargin
// before ctx's deadline, so that no call (nor the SDK's own timeout, cut to
// match) runs into the time kept for settling outcomes. ok is false when
// that stop time has already passed.
func (t *retrier) bound(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	dl, has := ctx.Deadline()
	if !has {
		return ctx, func() {}, true
	}
	left := time.Until(dl) - t.e.o.DeadlineMargin
	// The deadline is wall-clock time; the rest of the run reads the
	// injected clock, so carry the remaining time over.
	t.stopAt = t.now().Add(left)
	if left <= 0 {
		return ctx, func() {}, false
	}
	bctx, cancel := context.WithDeadline(ctx, dl.Add(-t.e.o.DeadlineMargin))
	return bctx, cancel, true
}

// timeUp reports whether the stop time has come.
func (t *retrier) timeUp() bool { return !t.stopAt.IsZero() && !t.now().Before(t.stopAt) }

// gateClosedError: the throttle gate stays closed past the stop time.
type gateClosedError struct{ wait time.Duration }

func (g gateClosedError) Error() string {
	return fmt.Sprintf("the API is throttling this account; the next call may go in %s, after this invocation's stop time", g.wait.Round(time.Millisecond))
}
func (gateClosedError) ErrorCode() string    { return "Throttling" }
func (gateClosedError) RetryableError() bool { return true }

// call makes one RDS call: it waits for the throttle gate (unless that
// runs past the stop time), takes a slot of the adaptive limit for as long
// as the call runs, and feeds the answer back to both.
func (t *retrier) call(ctx context.Context, action string, f func(ctx context.Context) (string, error)) (string, error) {
	fl := t.fl()
	if d := fl.gate.Wait(); d > 0 {
		if !t.stopAt.IsZero() && t.now().Add(d).After(t.stopAt) {
			return "", gateClosedError{d}
		}
		if err := fl.gate.Pass(ctx, t.e.o.Sleep); err != nil {
			return "", err
		}
	}
	pc := fl.pacer(t.region, action, t.e.o.Now)
	for range 64 { // its own API's pace (a sleep that does not move the clock cannot spin it)
		d := pc.Take()
		if d <= 0 {
			break
		}
		if !t.stopAt.IsZero() && t.now().Add(d).After(t.stopAt) {
			return "", gateClosedError{d}
		}
		if err := t.e.o.Sleep(ctx, d); err != nil {
			return "", err
		}
	}
	if err := fl.limit.acquire(ctx); err != nil {
		return "", err
	}
	t.rdsCalls++
	reqID, err := f(ctx)
	if errors.Is(err, errStale) { // f chose not to send: its turn goes to the next call
		t.rdsCalls--
		pc.Return()
		fl.limit.release(false, false)
		return "", err
	}
	throttled := err != nil && retry.IsThrottle(err)
	quota := throttled && retry.IsAPIQuota(err) // this API's quota: its pacer learns, the flow goes on
	if quota || !throttled {                    // the account's flow control is the gate's, not this API's pacer's
		pc.Update(quota)
	}
	fl.limit.release(throttled && !quota, err == nil)
	switch {
	case err == nil:
		fl.gate.Succeeded()
	case quota:
		r, _ := pc.Rate()
		t.log.InfoContext(t.logCtx, "API quota reached: pacing its calls", slog.String("action", action), slog.Float64("callsPerSecond", math.Round(r*10)/10))
	case throttled:
		p := fl.gate.Throttled()
		t.log.WarnContext(t.logCtx, "throttled: slowing down", slog.String("action", action), slog.Int64("pauseMs", p.Milliseconds()))
	}
	return reqID, err
}

// pause waits the backoff of class cl before the next try. It returns the
// delay and, when it did not wait, why: this invocation's attempts are
// spent, or the wait would pass the stop time.
//
// The decision is retry.Loop's (Decide): the class's backoff from the
// executor's policy, at least the throttle gate's wait, then the attempts of
// the invocation (t.tries, counted across all its calls) and the stop time.
// The retrier keeps no quota: its budgets (per invocation and over the
// ask's life) and the throttle gate bound its retries.
func (t *retrier) pause(ctx context.Context, cl retry.Class) (time.Duration, string) {
	l := retry.Loop{
		MaxAttempts: t.e.o.MaxAttemptsPerInvocation,
		Policy:      t.e.policy,
		StopAt:      t.stopAt,
		Floor:       t.fl().gate.Wait,
		Now:         t.e.o.Now,
	}
	// The stop time is t.stopAt on the injected clock, never ctx's
	// deadline: Decide gets a context without one.
	dec := l.Decide(context.WithoutCancel(ctx), &t.tally, t.tries, nil, cl)
	d := dec.Delay
	switch dec.Stop {
	case "":
	case retry.StopAttemptsSpent:
		return d, fmt.Sprintf("%d attempts in this invocation; resuming later", t.tries)
	case retry.StopNoTimeLeft:
		return d, fmt.Sprintf("deadline near: the next try (in %s) would pass the stop time", d.Round(time.Millisecond))
	default: // a class that is not retried: the callers never pause for one
		return d, fmt.Sprintf("%s: not retried", dec.Class)
	}
	t.log.InfoContext(t.logCtx, "waiting before the next try", slog.String("class", string(cl)), slog.Int64("delayMs", d.Milliseconds()))
	if err := t.e.o.Sleep(ctx, d); err != nil {
		return d, "the invocation reached its stop time while waiting to retry"
	}
	return d, ""
}

// retrying runs f until it succeeds, fails for good, or this invocation
// cannot try again (the last error is returned).
func (t *retrier) retrying(ctx context.Context, action string, f func(ctx context.Context) (string, error)) error {
	for {
		_, err := t.call(ctx, action, f)
		if err == nil {
			return nil
		}
		cl := retry.Classify(err)
		t.tries++
		t.log.WarnContext(t.logCtx, "attempt failed", slog.String("action", action), slog.Int("attempt", t.tries),
			slog.String("code", apiCode(err)), slog.String("class", string(cl)), slog.String("error", clipMessage(err.Error())))
		if !cl.Retryable() {
			return err
		}
		if _, stop := t.pause(ctx, cl); stop != "" {
			return err
		}
	}
}

// ledgerAttempts is how many times a ledger call that records what a run
// did (jobMade, recordJob, noteInstanceJob) is tried.
const ledgerAttempts = 3

// ledgerLoop is the retry of such a ledger call: ledgerAttempts attempts
// in a row, without waiting (the call's own timeout, ledgerCallTimeout,
// bounds them all), while ledger.IsRetryable says the error may pass and
// the executor's ledger quota pays for the retry.
func (e *Executor) ledgerLoop() retry.Loop {
	return retry.Loop{
		MaxAttempts: ledgerAttempts,
		Classify:    retry.ClassifyRetryable(ledger.IsRetryable),
		Quota:       e.ledgerQuota(),
	}
}

// ledgerQuotas holds each executor's retry quota for its ledger calls, so
// that a Tablestore storm is not met with three calls for every one. The
// key is a weak pointer, and the entry goes when its executor does.
var ledgerQuotas sync.Map // weak.Pointer[Executor] → *retry.Quota

func (e *Executor) ledgerQuota() *retry.Quota {
	key := weak.Make(e)
	if q, ok := ledgerQuotas.Load(key); ok {
		return q.(*retry.Quota)
	}
	q, loaded := ledgerQuotas.LoadOrStore(key, retry.NewQuota(0))
	if !loaded {
		runtime.AddCleanup(e, func(k weak.Pointer[Executor]) { ledgerQuotas.Delete(k) }, key)
	}
	return q.(*retry.Quota)
}

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// loopClock is a fake clock: Sleep records the wait and moves the clock.
type loopClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newLoopClock() *loopClock {
	return &loopClock{t: time.Now()} // a context deadline from it is in the future
}

func (c *loopClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *loopClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	return nil
}

// script returns f for Do that answers errs in turn, then nil, counting
// calls.
func script(calls *int, errs ...error) func(context.Context, int) error {
	return func(_ context.Context, attempt int) error {
		*calls++
		if attempt != *calls {
			panic(fmt.Sprintf("attempt %d on call %d", attempt, *calls))
		}
		if attempt <= len(errs) {
			return errs[attempt-1]
		}
		return nil
	}
}

var (
	err500      = apiErr{"InternalError", 500}
	errThrottle = apiErr{"Throttling", 400}
	errBusy     = apiErr{"IncorrectDBInstanceState", 403}
	errDenied   = apiErr{"Forbidden.RAM", 403}
)

func loopFor(clk *loopClock) retry.Loop {
	return retry.Loop{MaxAttempts: 6, Policy: retry.DefaultPolicy, Now: clk.Now, Sleep: clk.Sleep, Rand: fixed(1)}
}

func TestDoStops(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	cases := []struct {
		name       string
		errs       []error
		max        int
		deadline   time.Duration // from the clock's start; 0: none
		reserve    time.Duration
		wantStop   retry.Stop
		wantCalls  int
		wantClass  retry.Class
		wantSleeps []time.Duration
		wantErr    error
	}{
		{name: "first try", wantStop: retry.StopSucceeded, wantCalls: 1},
		{name: "transient then success", errs: []error{err500, errThrottle}, wantStop: retry.StopSucceeded, wantCalls: 3,
			wantSleeps: ms(200, 400)},
		{name: "terminal at once", errs: []error{errDenied}, wantStop: retry.StopTerminal, wantCalls: 1, wantClass: retry.Terminal, wantErr: errDenied},
		{name: "state-wait has its own exponent", errs: []error{err500, errBusy, errBusy, err500}, wantStop: retry.StopSucceeded, wantCalls: 5,
			wantSleeps: ms(200, 5000, 10000, 400)},
		{name: "attempts spent", errs: []error{err500, err500, err500}, max: 3, wantStop: retry.StopAttemptsSpent, wantCalls: 3,
			wantClass: retry.Transient, wantSleeps: ms(200, 400), wantErr: err500},
		{name: "zero MaxAttempts is one attempt", errs: []error{err500}, max: -1, wantStop: retry.StopAttemptsSpent, wantCalls: 1,
			wantClass: retry.Transient, wantErr: err500},
		{name: "no time left: the wait would end within the reserve", errs: []error{err500, err500}, deadline: 1500 * time.Millisecond,
			reserve: time.Second, wantStop: retry.StopNoTimeLeft, wantCalls: 2, wantClass: retry.Transient, wantSleeps: ms(200), wantErr: err500},
		{name: "canceled class", errs: []error{context.Canceled}, wantStop: retry.StopCanceled, wantCalls: 1, wantClass: retry.Canceled, wantErr: context.Canceled},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			clk := newLoopClock()
			l := loopFor(clk)
			if tt.max != 0 {
				l.MaxAttempts = max(tt.max, 0)
			}
			l.Reserve = tt.reserve
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, clk.Now().Add(tt.deadline))
				defer cancel()
			}
			calls := 0
			res, err := retry.Do(ctx, l, script(&calls, tt.errs...))
			if res.Stop != tt.wantStop || res.Attempts != tt.wantCalls || calls != tt.wantCalls || res.Class != tt.wantClass {
				t.Errorf("result %+v after %d calls; want stop %s, %d attempts, class %q", res, calls, tt.wantStop, tt.wantCalls, tt.wantClass)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(clk.sleeps, tt.wantSleeps) {
				t.Errorf("sleeps %v, want %v", clk.sleeps, tt.wantSleeps)
			}
		})
	}
}

func TestDoCancellationFirst(t *testing.T) {
	clk := newLoopClock()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	res, err := retry.Do(ctx, loopFor(clk), func(context.Context, int) error {
		calls++
		cancel() // the context ends during the attempt: a retryable error is not retried
		return err500
	})
	if res.Stop != retry.StopCanceled || calls != 1 || !errors.Is(err, err500) || len(clk.sleeps) != 0 {
		t.Fatalf("result %+v, %d calls, err %v, sleeps %v", res, calls, err, clk.sleeps)
	}

	// Canceled during the wait: no further attempt.
	ctx, cancel = context.WithCancel(context.Background())
	l := loopFor(clk)
	l.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	calls = 0
	res, err = retry.Do(ctx, l, script(&calls, err500))
	if res.Stop != retry.StopCanceled || calls != 1 || !errors.Is(err, err500) {
		t.Fatalf("result %+v, %d calls, err %v", res, calls, err)
	}
}

func TestDoHooksAndSeams(t *testing.T) {
	clk := newLoopClock()
	l := loopFor(clk)
	l.Rand = fixed(0.5)
	l.Floor = func() time.Duration { return 300 * time.Millisecond }
	var seen []retry.Retry
	l.OnRetry = func(r retry.Retry) { seen = append(seen, r) }
	calls := 0
	res, err := retry.Do(context.Background(), l, script(&calls, err500, err500))
	if err != nil || res.Stop != retry.StopSucceeded || res.Attempts != 3 {
		t.Fatalf("result %+v, err %v", res, err)
	}
	// rand 0.5: 100ms and 200ms, raised to the 300ms floor.
	want := []retry.Retry{
		{Attempt: 1, Err: err500, Class: retry.Transient, Delay: 300 * time.Millisecond},
		{Attempt: 2, Err: err500, Class: retry.Transient, Delay: 300 * time.Millisecond},
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) || !slices.Equal(clk.sleeps, []time.Duration{300 * time.Millisecond, 300 * time.Millisecond}) {
		t.Fatalf("OnRetry saw %v, sleeps %v", seen, clk.sleeps)
	}

	// A classifier of its own, and a zero policy: retried at once, Sleep
	// never called.
	l = retry.Loop{MaxAttempts: 3, Classify: retry.ClassifyRetryable(func(err error) bool { return err.Error() == "busy" }),
		Sleep: func(context.Context, time.Duration) error { t.Fatal("slept"); return nil }}
	calls = 0
	res, err = retry.Do(context.Background(), l, script(&calls, errors.New("busy"), errors.New("busy"), errors.New("busy")))
	if res.Stop != retry.StopAttemptsSpent || calls != 3 || err == nil {
		t.Fatalf("result %+v, %d calls, err %v", res, calls, err)
	}
	calls = 0
	res, _ = retry.Do(context.Background(), l, script(&calls, errors.New("gone")))
	if res.Stop != retry.StopTerminal || calls != 1 || res.Class != retry.Terminal {
		t.Fatalf("result %+v, %d calls", res, calls)
	}
}

func TestDecideStopAtAndDelayReported(t *testing.T) {
	clk := newLoopClock()
	l := loopFor(clk)
	l.MaxAttempts = 2
	l.StopAt = clk.Now().Add(time.Second)
	var tally retry.Tally
	// Attempt 1, state-wait: 5s would pass the stop time.
	dec := l.Decide(context.Background(), &tally, 1, errBusy, retry.StateWait)
	if dec.Stop != retry.StopNoTimeLeft || dec.Delay != 5*time.Second {
		t.Fatalf("decision %+v", dec)
	}
	// The state-wait exponent moved on even so; a transient retry fits.
	dec = l.Decide(context.Background(), &tally, 1, err500, retry.Transient)
	if dec.Stop != "" || dec.Delay != 200*time.Millisecond {
		t.Fatalf("decision %+v", dec)
	}
	// Attempts spent: the delay is still reported (a not-before).
	dec = l.Decide(context.Background(), &tally, 2, errBusy, retry.StateWait)
	if dec.Stop != retry.StopAttemptsSpent || dec.Delay != 10*time.Second {
		t.Fatalf("decision %+v", dec)
	}
}

// timeoutErr is a client timeout (not the caller's context).
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestQuotaStorm(t *testing.T) {
	clk := newLoopClock()
	q := retry.NewQuota(20) // four retries at 5, two after timeouts at 10
	l := loopFor(clk)
	l.Quota = q
	calls := 0
	res, err := retry.Do(context.Background(), l, script(&calls, err500, err500, err500, err500, err500, err500))
	// 20 tokens pay four retries; the fifth is refused at once.
	if res.Stop != retry.StopQuotaSpent || calls != 5 || !errors.Is(err, err500) || q.Available() != 0 || len(clk.sleeps) != 4 {
		t.Fatalf("result %+v, %d calls, err %v, %d tokens, sleeps %v", res, calls, err, q.Available(), clk.sleeps)
	}
	// The bucket is the owner's: the next loop fails at its first error.
	calls = 0
	res, _ = retry.Do(context.Background(), l, script(&calls, err500))
	if res.Stop != retry.StopQuotaSpent || calls != 1 {
		t.Fatalf("result %+v, %d calls", res, calls)
	}
	// A first try that succeeds adds one token; terminal errors cost none.
	calls = 0
	if res, _ = retry.Do(context.Background(), l, script(&calls)); res.Stop != retry.StopSucceeded || q.Available() != 1 {
		t.Fatalf("result %+v, %d tokens", res, q.Available())
	}
	for range 4 {
		calls = 0
		retry.Do(context.Background(), l, script(&calls))
	}
	calls = 0
	if res, _ = retry.Do(context.Background(), l, script(&calls, errDenied)); res.Stop != retry.StopTerminal || q.Available() != 5 {
		t.Fatalf("result %+v, %d tokens", res, q.Available())
	}
	// A retry that succeeds gives its tokens back.
	calls = 0
	if res, _ = retry.Do(context.Background(), l, script(&calls, err500)); res.Stop != retry.StopSucceeded || calls != 2 || q.Available() != 5 {
		t.Fatalf("result %+v, %d calls, %d tokens", res, calls, q.Available())
	}
	// A timeout costs more than the bucket holds.
	calls = 0
	if res, _ = retry.Do(context.Background(), l, script(&calls, timeoutErr{})); res.Stop != retry.StopQuotaSpent || calls != 1 || q.Available() != 5 {
		t.Fatalf("result %+v, %d calls, %d tokens", res, calls, q.Available())
	}
}

func TestQuotaNeverAboveSize(t *testing.T) {
	q := retry.NewQuota(0)
	if q.Available() != retry.DefaultQuotaSize {
		t.Fatalf("%d tokens", q.Available())
	}
	l := retry.Loop{Quota: q}
	for range 10 {
		retry.Do(context.Background(), l, func(context.Context, int) error { return nil })
	}
	if q.Available() != retry.DefaultQuotaSize {
		t.Fatalf("%d tokens after successes", q.Available())
	}
	var nilQuota *retry.Quota
	if nilQuota.Available() != 0 {
		t.Fatal("nil quota has tokens")
	}
}

func TestQuotaConcurrent(t *testing.T) {
	q := retry.NewQuota(1000)
	l := retry.Loop{MaxAttempts: 3, Quota: q, Classify: func(error) retry.Class { return retry.Transient }}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				calls := 0
				retry.Do(context.Background(), l, script(&calls, err500, err500))
			}
		})
	}
	wg.Wait()
	// Each loop: two retries (10 tokens), the second succeeds (5 back).
	if got := q.Available(); got != 1000-8*10*5 {
		t.Fatalf("%d tokens", got)
	}
}

func TestIsTimeout(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"nil":             {nil, false},
		"the context":     {context.DeadlineExceeded, false},
		"wrapped context": {fmt.Errorf("call: %w", context.Canceled), false},
		"a net timeout":   {fmt.Errorf("read: %w", timeoutErr{}), true},
		"a 500":           {err500, false},
		"matches, is not": {clientTimeout{}, true},
		"Timeout() false": {notTimeout{}, false},
	}
	for name, c := range cases {
		if got := retry.IsTimeout(c.err); got != c.want {
			t.Errorf("%s: IsTimeout = %v, want %v", name, got, c.want)
		}
	}
}

// clientTimeout matches context.DeadlineExceeded without being it, like
// net/http's client timeout.
type clientTimeout struct{}

func (clientTimeout) Error() string        { return "Client.Timeout exceeded" }
func (clientTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

type notTimeout struct{}

func (notTimeout) Error() string { return "reset" }
func (notTimeout) Timeout() bool { return false }

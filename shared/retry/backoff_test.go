package retry_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

func fixed(f float64) func() float64 { return func() float64 { return f } }

func TestBackoffCap(t *testing.T) {
	b := retry.Backoff{Base: 200 * time.Millisecond, Max: 5 * time.Second}
	want := []time.Duration{200, 400, 800, 1600, 3200, 5000, 5000, 5000}
	for n, w := range want {
		if got := b.Cap(n); got != w*time.Millisecond {
			t.Errorf("Cap(%d) = %v, want %v", n, got, w*time.Millisecond)
		}
	}
	if got := b.Cap(1000); got != 5*time.Second {
		t.Errorf("Cap(1000) = %v (overflow?)", got)
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	cases := map[string]struct {
		b    retry.Backoff
		n    int
		rand float64
		want time.Duration
	}{
		"full, rand 0":          {retry.TransientBackoff, 3, 0, 0},
		"full, rand 0.5":        {retry.TransientBackoff, 3, 0.5, 800 * time.Millisecond},
		"full, rand 0.999":      {retry.TransientBackoff, 0, 0.999, 199800 * time.Microsecond},
		"full, rand 1 clamps":   {retry.TransientBackoff, 0, 1, 200 * time.Millisecond},
		"full, rand -1 clamps":  {retry.TransientBackoff, 2, -1, 0},
		"full, capped":          {retry.TransientBackoff, 10, 0.5, 2500 * time.Millisecond},
		"equal, rand 0":         {retry.StateWaitBackoff, 0, 0, 2500 * time.Millisecond},
		"equal, rand 1":         {retry.StateWaitBackoff, 1, 1, 10 * time.Second},
		"equal, capped, rand 0": {retry.StateWaitBackoff, 9, 0, 15 * time.Second},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			c.b.Rand = fixed(c.rand)
			if got := c.b.Delay(c.n); got != c.want {
				t.Errorf("Delay(%d) = %v, want %v", c.n, got, c.want)
			}
		})
	}
}

// With the real random source every delay stays inside [0, cap) for full
// jitter and [cap/2, cap] for equal jitter.
func TestBackoffRandomWithinBounds(t *testing.T) {
	for n := range 8 {
		for range 200 {
			tc := retry.TransientBackoff.Cap(n)
			if d := retry.TransientBackoff.Delay(n); d < 0 || d > tc {
				t.Fatalf("transient Delay(%d) = %v outside [0, %v]", n, d, tc)
			}
			sc := retry.StateWaitBackoff.Cap(n)
			if d := retry.StateWaitBackoff.Delay(n); d < sc/2 || d > sc {
				t.Fatalf("state-wait Delay(%d) = %v outside [%v, %v]", n, d, sc/2, sc)
			}
		}
	}
}

func TestPolicyDelay(t *testing.T) {
	p := retry.DefaultPolicy.WithRand(fixed(1))
	cases := []struct {
		c    retry.Class
		n    int
		want time.Duration
	}{
		{retry.Transient, 0, 200 * time.Millisecond},
		{retry.Transient, 5, 5 * time.Second},
		{retry.StateWait, 0, 5 * time.Second},
		{retry.StateWait, 3, 30 * time.Second},
		{retry.Terminal, 0, 0},
		{retry.Canceled, 0, 0},
	}
	for _, c := range cases {
		if got := p.Delay(c.c, c.n); got != c.want {
			t.Errorf("Delay(%s, %d) = %v, want %v", c.c, c.n, got, c.want)
		}
	}
}

func TestSleep(t *testing.T) {
	if err := retry.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := retry.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on a canceled ctx = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Sleep did not return at once on a canceled ctx")
	}
	if err := retry.Sleep(ctx, 0); err != context.Canceled {
		t.Fatalf("Sleep(0) on a canceled ctx = %v", err)
	}
}

// fakeClock is a clock advanced only by its sleep.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func TestGate(t *testing.T) {
	clk := &fakeClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := retry.NewGate(100*time.Millisecond, 800*time.Millisecond, clk.Now)
	if d := g.Wait(); d != 0 {
		t.Fatalf("new gate closed for %v", d)
	}
	// Each throttling answer doubles the pause up to max.
	want := []time.Duration{100, 200, 400, 800, 800}
	for i, w := range want {
		if got := g.Throttled(); got != w*time.Millisecond {
			t.Errorf("Throttled #%d pause = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if d := g.Wait(); d != 800*time.Millisecond {
		t.Errorf("Wait = %v, want 800ms", d)
	}
	// Pass sleeps until the gate opens.
	before := clk.Now()
	if err := g.Pass(context.Background(), clk.Sleep); err != nil {
		t.Fatal(err)
	}
	if slept := clk.Now().Sub(before); slept != 800*time.Millisecond {
		t.Errorf("Pass slept %v, want 800ms", slept)
	}
	// Successes relax the pause: halved each time, then zero below base.
	for i, w := range []time.Duration{400, 200, 100, 0} {
		g.Succeeded()
		if got := g.Pause(); got != w*time.Millisecond {
			t.Errorf("after success #%d pause = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if d := g.Wait(); d != 0 {
		t.Errorf("gate still closed for %v", d)
	}
	// A canceled context leaves Pass at once.
	g.Throttled()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Pass(ctx, clk.Sleep); err != context.Canceled {
		t.Errorf("Pass on canceled ctx = %v", err)
	}
}

// A sleep that does not move the clock cannot make Pass spin for ever.
func TestGatePassBounded(t *testing.T) {
	clk := &fakeClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := retry.NewGate(0, 0, clk.Now)
	g.Throttled()
	calls := 0
	_ = g.Pass(context.Background(), func(context.Context, time.Duration) error { calls++; return nil })
	if calls == 0 || calls > 64 {
		t.Errorf("Pass called sleep %d times", calls)
	}
}

// Concurrent workers share one gate; run with -race.
func TestGateConcurrent(t *testing.T) {
	clk := &fakeClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := retry.NewGate(time.Millisecond, 10*time.Millisecond, clk.Now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if (i+j)%3 == 0 {
					g.Throttled()
				} else {
					g.Succeeded()
				}
				_ = g.Pass(context.Background(), clk.Sleep)
			}
		}()
	}
	wg.Wait()
	if p := g.Pause(); p > 10*time.Millisecond {
		t.Errorf("pause %v over max", p)
	}
}

func TestClassTableMarkdown(t *testing.T) {
	md := retry.ClassTableMarkdown()
	for _, want := range []string{
		"| error | class | retried | why |",
		"| `Throttling.User` | transient |",
		"| `InvokeProxyFailure` | transient |",
		"| `IncorrectDBInstanceState` | state-wait |",
		"| `Exceeded.BackupTimes` | terminal | no |",
		"HTTP 5xx or 429 | transient",
		"HTTP 4xx | terminal",
		"| canceled | no |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	rows := strings.Count(md, "\n")
	codes := len(retry.ThrottleCodes) + len(retry.TransientCodes) + len(retry.StateWaitCodes) + len(retry.TerminalCodes)
	if rows != codes+2+4 {
		t.Errorf("table has %d lines, want %d", rows, codes+6)
	}
}

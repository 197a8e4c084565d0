package emukit

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestFaultsTimesAndOrder(t *testing.T) {
	var l Faults[string]
	l.Add("a", 2, 0)
	l.Add("b", 0, 1)
	all := func(string) bool { return true }
	for i, want := range []string{"a", "a", "b", "b"} {
		if f, ok := l.Take(all); !ok || f != want {
			t.Fatalf("take %d: %q %v, want %q", i, f, ok, want)
		}
	}
	n := 0
	l.Each(func(f string, left, fired int) {
		n++
		if f != "b" || left != 0 || fired != 2 {
			t.Errorf("pending %q left %d fired %d", f, left, fired)
		}
	})
	if n != 1 {
		t.Fatalf("%d pending, want 1", n)
	}
	if _, ok := l.Take(func(f string) bool { return f == "c" }); ok {
		t.Fatal("no fault matches c")
	}
	l.Clear()
	if _, ok := l.Take(all); ok {
		t.Fatal("cleared")
	}
}

// A rate draws from rand.NewPCG(seed, seed), one number per matching fault
// with a rate strictly between 0 and 1, as the emulators always did.
func TestFaultsRateDrawsTheSeededSequence(t *testing.T) {
	for _, seed := range []uint64{1, 42} {
		var l Faults[int]
		if seed != 1 {
			l.Seed(seed)
		}
		l.Add(1, 0, 0.3)
		l.Add(2, 0, 0.6)
		rng := rand.New(rand.NewPCG(seed, seed))
		for i := range 200 {
			want, wantOK := 0, false
			if rng.Float64() < 0.3 {
				want, wantOK = 1, true
			} else if rng.Float64() < 0.6 {
				want, wantOK = 2, true
			}
			if got, ok := l.Take(func(int) bool { return true }); got != want || ok != wantOK {
				t.Fatalf("seed %d call %d: %d %v, want %d %v", seed, i, got, ok, want, wantOK)
			}
		}
	}
}

func TestFaultOutcome(t *testing.T) {
	table := func(code string) (int, string) {
		if code == "Known" {
			return 403, "known message"
		}
		return 0, ""
	}
	for _, c := range []struct {
		drop    bool
		code    string
		status  int
		msg     string
		want    Outcome
		wantSt  int
		wantMsg string
	}{
		{drop: true, want: OutcomeDrop},
		{code: "Known", want: OutcomeError, wantSt: 403, wantMsg: "known message"},
		{code: "Known", status: 503, msg: "m", want: OutcomeError, wantSt: 503, wantMsg: "m"},
		{code: "Unknown", want: OutcomeError, wantSt: 500, wantMsg: "Injected fault."},
		{status: 502, want: OutcomeRaw, wantSt: 502},
		{status: 200, want: OutcomeServe},
	} {
		o, st, msg := FaultOutcome(c.drop, c.code, c.status, c.msg, table)
		if o != c.want || st != c.wantSt || msg != c.wantMsg {
			t.Errorf("%+v: %v %d %q", c, o, st, msg)
		}
	}
	if Latency(time.Second, 5) != time.Second || Latency(0, 5) != 5*time.Millisecond {
		t.Error("Latency")
	}
}

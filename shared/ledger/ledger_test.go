package ledger

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

var bg = context.Background()

func TestFirstClaimWinsWithOnePutRow(t *testing.T) {
	e := newEnv(t, 0)
	m := e.reset()
	c := e.claim(ask("A"))
	if !c.Won || c.TakenOver || c.Busy || c.Resumed {
		t.Fatalf("claim = %+v, want a plain win", c)
	}
	if got := e.since(m); got != "PutRow" {
		t.Fatalf("calls = %q, want one PutRow", got)
	}
	if want := start.Add(DefaultLease); !c.Row.LeaseUntil.Equal(want) || c.Row.LeaseOwner != "A" || c.Row.State != StateClaimed {
		t.Fatalf("row = %+v, want leased to A until %v", c.Row, want)
	}
	got, found, err := e.l.Get(bg, "route:demo-pipeline", "k-0001")
	must(t, err)
	if !found || got != c.Row {
		t.Fatalf("Get = %+v %v, want the row Claim wrote %+v", got, found, c.Row)
	}
}

func TestRepeatLosesAndSeesTheJob(t *testing.T) {
	e := newEnv(t, 0)
	e.claim(ask("A"))

	m := e.reset()
	c := e.claim(ask("B"))
	if c.Won || !c.Busy || c.Row.LeaseOwner != "A" {
		t.Fatalf("repeat while A works = %+v, want lost and busy (A's lease)", c)
	}
	if got := e.since(m); got != "PutRow GetRow" {
		t.Fatalf("calls = %q, want PutRow GetRow", got)
	}

	m = e.reset()
	must(t, e.l.RecordJob(bg, "route:demo-pipeline", "k-0001", "A", "job-1"))
	if got := e.since(m); got != "UpdateRow" {
		t.Fatalf("RecordJob calls = %q, want one UpdateRow", got)
	}
	c = e.claim(ask("C"))
	if c.Won || c.Busy || c.Row.JobID != "job-1" || c.Row.State != StateActing {
		t.Fatalf("repeat after the job = %+v, want lost, not busy, job-1 visible", c)
	}
	if c.Row.Digest != "d1" || c.Row.Method != "Physical" || c.Row.Target != "rm-demo-mysql1" || !c.Row.AskedAt.Equal(start.Add(-time.Minute)) || c.Row.RunID != "run-1" {
		t.Fatalf("row = %+v, want the ask's columns", c.Row)
	}
}

func TestSameKeyOtherDigestConflicts(t *testing.T) {
	e := newEnv(t, 0)
	e.claim(ask("A"))
	other := ask("B")
	other.Digest = "d2"
	c, err := e.l.Claim(bg, other)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Recorded != "d1" || ce.Requested != "d2" {
		t.Fatalf("err = %#v, want both digests", err)
	}
	if c.Won || IsRetryable(err) {
		t.Fatalf("claim %+v retryable %v: want lost, terminal", c, IsRetryable(err))
	}
	// Even once the first has its job and outcome.
	must(t, e.l.RecordJob(bg, "route:demo-pipeline", "k-0001", "A", "job-1"))
	must(t, e.l.RecordOutcome(bg, "route:demo-pipeline", "k-0001", "out-1"))
	if _, err := e.l.Claim(bg, other); !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
}

func TestConcurrentClaimsOneWinner(t *testing.T) {
	e := newEnv(t, 0)
	const n = 20
	var wg sync.WaitGroup
	claims := make([]Claim, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := ask("owner-" + string(rune('a'+i)))
			claims[i], errs[i] = e.l.Claim(bg, a)
		}()
	}
	wg.Wait()
	won := 0
	for i, c := range claims {
		if errs[i] != nil {
			t.Fatalf("claim %d: %v", i, errs[i])
		}
		if c.Won {
			won++
			continue
		}
		if !c.Busy {
			t.Fatalf("loser %d = %+v, want busy", i, c)
		}
	}
	if won != 1 {
		t.Fatalf("%d winners of %d concurrent claims, want exactly 1", won, n)
	}
}

func TestExpiredLeaseWithoutJobIsTakenOverOnce(t *testing.T) {
	e := newEnv(t, 0)
	e.claim(ask("A"))
	e.clock.Advance(DefaultLease) // leaseUntil is exclusive: expired now

	m := e.reset()
	c := e.claim(ask("B"))
	if !c.Won || !c.TakenOver || c.Row.LeaseOwner != "B" || !c.Row.LeaseUntil.Equal(e.clock.Now().Add(DefaultLease)) {
		t.Fatalf("takeover = %+v, want won by B with a fresh lease", c)
	}
	if got := e.since(m); got != "PutRow GetRow UpdateRow" {
		t.Fatalf("calls = %q, want PutRow GetRow UpdateRow", got)
	}
	if c.Row.ClaimedAt != start || c.Row.Digest != "d1" {
		t.Fatalf("row = %+v, want the first claim's columns kept", c.Row)
	}
	// Once: the next repeat finds B's live lease.
	if c := e.claim(ask("C")); c.Won || !c.Busy || c.Row.LeaseOwner != "B" {
		t.Fatalf("after the takeover = %+v, want busy on B's lease", c)
	}
	// A, back from the dead, may not record a job.
	if err := e.l.RecordJob(bg, "route:demo-pipeline", "k-0001", "A", "job-A"); !errors.Is(err, ErrLeaseLost) ||
		!strings.Contains(err.Error(), `leased to "B", not "A"`) {
		t.Fatalf("RecordJob by the old owner = %v, want ErrLeaseLost naming B", err)
	}
	must(t, e.l.RecordJob(bg, "route:demo-pipeline", "k-0001", "B", "job-B"))
}

func TestConcurrentTakeoversOneWinner(t *testing.T) {
	e := newEnv(t, 0)
	e.claim(ask("A"))
	e.clock.Advance(DefaultLease + time.Second)
	read, _, err := e.l.Get(bg, "route:demo-pipeline", "k-0001")
	must(t, err)

	// Both read the same expired lease, then race their conditional updates.
	const n = 8
	var wg sync.WaitGroup
	claims := make([]Claim, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, again, err := e.l.takeOver(bg, ask("T"+string(rune('0'+i))), read, e.clock.Now())
			if err != nil || again {
				t.Errorf("takeover %d: again %v err %v", i, again, err)
			}
			claims[i] = c
		}()
	}
	wg.Wait()
	won := 0
	for i, c := range claims {
		switch {
		case c.Won && c.TakenOver:
			won++
		case !c.Busy || c.Row.LeaseOwner == "A":
			t.Errorf("loser %d = %+v, want busy on the winner's lease", i, c)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent takeovers won, want exactly 1", won, n)
	}

	// And through Claim itself, from scratch.
	e2 := newEnv(t, 0)
	e2.claim(ask("A"))
	e2.clock.Advance(DefaultLease)
	var wg2 sync.WaitGroup
	results := make([]Claim, 2)
	for i := range 2 {
		wg2.Add(1)
		go func() { defer wg2.Done(); results[i] = e2.claim(ask([]string{"B", "C"}[i])) }()
	}
	wg2.Wait()
	if results[0].Won == results[1].Won || !(results[0].TakenOver || results[1].TakenOver) {
		t.Fatalf("two concurrent takeovers = %+v, want exactly one won", results)
	}
}

func TestRowWithJobIsNeverTakenOver(t *testing.T) {
	e := newEnv(t, 0)
	e.claim(ask("A"))
	read, _, err := e.l.Get(bg, "route:demo-pipeline", "k-0001") // a repeat reads before the job lands…
	must(t, err)
	must(t, e.l.RecordJob(bg, "route:demo-pipeline", "k-0001", "A", "job-1"))
	e.clock.Advance(10 * DefaultLease)

	if c := e.claim(ask("B")); c.Won || c.Busy || c.Row.JobID != "job-1" || c.Row.LeaseOwner != "A" {
		t.Fatalf("claim of an expired lease with a job = %+v, want lost with job-1", c)
	}
	// …and its takeover, conditioned on the lease it read, still fails:
	// the condition also wants no job.
	c, again, err := e.l.takeOver(bg, ask("B"), read, e.clock.Now())
	if err != nil || again || c.Won || c.Row.JobID != "job-1" {
		t.Fatalf("stale takeover = %+v again %v err %v, want lost with job-1", c, again, err)
	}
	// The same with an outcome and no job (a rejected ask).
	a := ask("A")
	a.Key = "k-0002"
	e.claim(a)
	must(t, e.l.RecordOutcome(bg, a.Scope, a.Key, "rejected-1"))
	e.clock.Advance(10 * DefaultLease)
	a.Owner = "B"
	if c := e.claim(a); c.Won || c.Row.OutcomeID != "rejected-1" || c.Row.State != StateDone {
		t.Fatalf("claim of a settled ask = %+v, want lost with its outcome", c)
	}
}

func TestRecordJob(t *testing.T) {
	e := newEnv(t, 0)
	e.claim(ask("A"))
	const s, k = "route:demo-pipeline", "k-0001"
	tests := []struct {
		name, owner, job string
		want             error
	}{
		{"not the owner", "B", "job-1", ErrLeaseLost},
		{"the owner", "A", "job-1", nil},
		{"the same job again", "A", "job-1", nil},
		{"another job", "A", "job-2", ErrJobConflict},
	}
	for _, tt := range tests {
		m := e.reset()
		err := e.l.RecordJob(bg, s, k, tt.owner, tt.job)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		want := "UpdateRow"
		if tt.want != nil {
			want = "UpdateRow GetRow"
			if IsRetryable(err) {
				t.Fatalf("%s: %v is retryable", tt.name, err)
			}
		}
		if got := e.since(m); got != want {
			t.Fatalf("%s: calls %q, want %q", tt.name, got, want)
		}
	}
	if err := e.l.RecordJob(bg, s, "no-such-key", "A", "job-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RecordJob on no row = %v, want ErrNotFound", err)
	}
	// An expired lease nobody took over is still the owner's.
	e.clock.Advance(time.Hour)
	a := ask("A")
	a.Key = "k-0002"
	e.claim(a)
	e.clock.Advance(time.Hour)
	must(t, e.l.RecordJob(bg, s, a.Key, "A", "job-3"))
}

func TestRecordOutcome(t *testing.T) {
	e := newEnv(t, 0)
	const s, k = "route:demo-pipeline", "k-0001"
	if err := e.l.RecordOutcome(bg, s, k, "out-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RecordOutcome on no row = %v, want ErrNotFound", err)
	}
	e.claim(ask("A"))
	must(t, e.l.RecordJob(bg, s, k, "A", "job-1"))
	must(t, e.l.RecordOutcome(bg, s, k, "out-1"))
	m := e.reset()
	must(t, e.l.RecordOutcome(bg, s, k, "out-1")) // at-least-once: the same id again
	if got := e.since(m); got != "UpdateRow" {
		t.Fatalf("calls = %q, want one UpdateRow", got)
	}
	err := e.l.RecordOutcome(bg, s, k, "out-2")
	if !errors.Is(err, ErrOutcomeConflict) || !strings.Contains(err.Error(), `"out-1"`) || !strings.Contains(err.Error(), `"out-2"`) || IsRetryable(err) {
		t.Fatalf("a second terminal id = %v, want ErrOutcomeConflict naming both, terminal", err)
	}
	r, _, err := e.l.Get(bg, s, k)
	must(t, err)
	if r.OutcomeID != "out-1" || r.State != StateDone || r.JobID != "job-1" {
		t.Fatalf("row = %+v, want out-1, done, job-1", r)
	}
}

func TestRenew(t *testing.T) {
	e := newEnv(t, 0, WithLease(time.Minute))
	const s, k = "route:demo-pipeline", "k-0001"
	e.claim(ask("A"))
	e.clock.Advance(50 * time.Second)
	until, err := e.l.Renew(bg, s, k, "A", 2*time.Minute)
	must(t, err)
	if want := e.clock.Now().Add(2 * time.Minute); !until.Equal(want) {
		t.Fatalf("renewed until %v, want %v", until, want)
	}
	e.clock.Advance(time.Minute) // past the first lease, within the renewed one
	if c := e.claim(ask("B")); !c.Busy {
		t.Fatalf("claim within the renewed lease = %+v, want busy", c)
	}
	if _, err := e.l.Renew(bg, s, k, "B", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Renew by another = %v, want ErrLeaseLost", err)
	}
	if _, err := e.l.Renew(bg, s, k, "A", 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Renew by 0 = %v, want ErrInvalid", err)
	}
}

func TestTTL(t *testing.T) {
	e := newEnv(t, 24*time.Hour) // the shortest TimeToLive Tablestore takes
	const s, k = "route:demo-pipeline", "k-0001"
	e.claim(ask("A"))
	must(t, e.l.RecordJob(bg, s, k, "A", "job-1"))
	must(t, e.l.RecordOutcome(bg, s, k, "out-1"))
	e.clock.Advance(24*time.Hour + time.Second)
	if _, found, err := e.l.Get(bg, s, k); err != nil || found {
		t.Fatalf("Get past the TTL: found %v err %v, want gone", found, err)
	}
	if c := e.claim(ask("B")); !c.Won || c.Row.JobID != "" {
		t.Fatalf("claim past the TTL = %+v, want a fresh win", c)
	}
}

// A row's cells expire one by one (TTL counts from each cell's write): the
// claim's cells go first, a job recorded later stays. The remnant is no
// record of the ask any more and is replaced, whatever its digest was.
func TestTTLRemnantIsReplaced(t *testing.T) {
	e := newEnv(t, 24*time.Hour)
	const s, k = "route:demo-pipeline", "k-0001"
	e.claim(ask("A"))
	e.clock.Advance(12 * time.Hour)
	must(t, e.l.RecordJob(bg, s, k, "A", "job-1"))
	e.clock.Advance(12*time.Hour + time.Second)
	r, found, err := e.l.Get(bg, s, k)
	must(t, err)
	if !found || r.Digest != "" || r.JobID != "job-1" {
		t.Fatalf("remnant = %+v found %v, want job-1 without digest (else this test tests nothing)", r, found)
	}
	other := ask("B")
	other.Digest = "d2"
	c := e.claim(other)
	if !c.Won || c.Row.Digest != "d2" {
		t.Fatalf("claim on a remnant = %+v, want won", c)
	}
	r, _, err = e.l.Get(bg, s, k)
	must(t, err)
	if r.JobID != "" || r.Digest != "d2" || r.LeaseOwner != "B" {
		t.Fatalf("row = %+v, want the remnant replaced whole", r)
	}
	if err := e.l.RecordOutcome(bg, s, "gone", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestValidationBeforeAnyCall(t *testing.T) {
	e := newEnv(t, 0)
	m := e.reset()
	long := strings.Repeat("k", MaxKey+1)
	tests := []struct {
		name  string
		edit  func(*Ask)
		field string
	}{
		{"empty scope", func(a *Ask) { a.Scope = "" }, "scope"},
		{"scope too long", func(a *Ask) { a.Scope = strings.Repeat("s", MaxScope+1) }, "scope"},
		{"space in scope", func(a *Ask) { a.Scope = "route: x" }, "scope"},
		{"empty key", func(a *Ask) { a.Key = "" }, "key"},
		{"key too long", func(a *Ask) { a.Key = long }, "key"},
		{"newline in key", func(a *Ask) { a.Key = "k\n1" }, "key"},
		{"non-ASCII key", func(a *Ask) { a.Key = "clé" }, "key"},
		{"NUL in key", func(a *Ask) { a.Key = "k\x00" }, "key"},
		{"no digest", func(a *Ask) { a.Digest = "" }, "digest"},
		{"no owner", func(a *Ask) { a.Owner = "" }, "owner"},
		{"no askedAt", func(a *Ask) { a.AskedAt = time.Time{} }, "askedAt"},
	}
	for _, tt := range tests {
		a := ask("A")
		tt.edit(&a)
		_, err := e.l.Claim(bg, a)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tt.field || !errors.Is(err, ErrInvalid) || IsRetryable(err) {
			t.Fatalf("%s: err = %v, want a terminal ValidationError on %s", tt.name, err, tt.field)
		}
		if !strings.HasPrefix(err.Error(), "ledger: "+tt.field+": ") {
			t.Fatalf("%s: message %q does not name the field", tt.name, err)
		}
	}
	// The other calls check scope and key the same way.
	for name, err := range map[string]error{
		"Get":           func() error { _, _, err := e.l.Get(bg, "s", long); return err }(),
		"RecordJob":     e.l.RecordJob(bg, "s", long, "A", "j"),
		"RecordOutcome": e.l.RecordOutcome(bg, "bad scope", "k", "o"),
		"Renew":         func() error { _, err := e.l.Renew(bg, "s", "k\t", "A", time.Minute); return err }(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if got := e.since(m); got != "" {
		t.Fatalf("calls = %q, want none", got)
	}
	// The bounds themselves are accepted.
	a := ask("A")
	a.Scope, a.Key = strings.Repeat("s", MaxScope), strings.Repeat("k", MaxKey-1)+" "
	if c := e.claim(a); !c.Won {
		t.Fatalf("claim at the bounds = %+v", c)
	}
}

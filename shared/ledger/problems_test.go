package ledger

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func problem(instance string, at time.Time, id, status, code string) Problem {
	return Problem{Region: "cn-hangzhou", Instance: instance, At: at, OutcomeID: id, Status: status, Code: code,
		BackupMethod: "Physical", AskedAt: at.Add(-time.Minute)}
}

// Problem rows: one PutRow each; one GetRange lists an instance's problems
// since a time, oldest first, with their columns, and no other instance's.
func TestProblemsListedPerInstanceInTimeOrder(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	ps := []Problem{
		problem("rm-a", start.Add(-3*time.Hour), "e3", "rejected", "ReadDBInstanceNotSupport"),
		problem("rm-a", start.Add(-time.Hour), "e1", "deferred", "IncorrectDBInstanceState"),
		problem("rm-a", start.Add(-2*time.Hour), "e2", "failed", "BackupJobFailed"),
		problem("rm-a", start.Add(-48*time.Hour), "old", "failed", "X"),
		problem("rm-ab", start.Add(-time.Hour), "other", "rejected", "Y"), // a prefix of another id must not leak
		problem("rm-b", start.Add(-time.Hour), "b1", "rejected", "Z"),
	}
	m := e.reset()
	for _, p := range ps {
		must(t, e.l.NoteProblem(ctx, p))
	}
	if got := e.since(m); got != "PutRow PutRow PutRow PutRow PutRow PutRow" {
		t.Fatalf("calls = %s", got)
	}
	// The same outcome again writes the same row.
	must(t, e.l.NoteProblem(ctx, ps[0]))

	m = e.reset()
	got, err := e.l.Problems(ctx, "cn-hangzhou", "rm-a", start.Add(-24*time.Hour), 0)
	must(t, err)
	if calls := e.since(m); calls != "GetRange" {
		t.Errorf("calls = %s, want one GetRange", calls)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.OutcomeID+":"+p.Status+":"+p.Code)
	}
	want := "[e3:rejected:ReadDBInstanceNotSupport e2:failed:BackupJobFailed e1:deferred:IncorrectDBInstanceState]"
	if fmt.Sprint(ids) != want {
		t.Fatalf("Problems = %v, want %s", ids, want)
	}
	p := got[0]
	if !p.At.Equal(start.Add(-3*time.Hour)) || p.BackupMethod != "Physical" || !p.AskedAt.Equal(start.Add(-3*time.Hour-time.Minute)) ||
		p.Region != "cn-hangzhou" || p.Instance != "rm-a" {
		t.Errorf("first problem = %+v", p)
	}
	// since is inclusive.
	got, err = e.l.Problems(ctx, "cn-hangzhou", "rm-a", start.Add(-time.Hour), 0)
	must(t, err)
	if len(got) != 1 || got[0].OutcomeID != "e1" {
		t.Errorf("Problems since the newest's time = %+v", got)
	}
	// Another region is another instance.
	got, err = e.l.Problems(ctx, "cn-shanghai", "rm-a", time.Time{}, 0)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("cn-shanghai: %+v", got)
	}
}

// More problems than the limit: the newest are kept, over several pages.
func TestProblemsLimitKeepsTheNewest(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	for i := 0; i < 250; i++ {
		must(t, e.l.NoteProblem(ctx, problem("rm-a", start.Add(-time.Duration(250-i)*time.Minute), fmt.Sprintf("e%03d", i), "deferred", "Throttling")))
	}
	m := e.reset()
	got, err := e.l.Problems(ctx, "cn-hangzhou", "rm-a", time.Time{}, 220)
	must(t, err)
	if len(got) != 220 || got[0].OutcomeID != "e030" || got[219].OutcomeID != "e249" {
		t.Fatalf("got %d problems, first %v last %v", len(got), got[0].OutcomeID, got[len(got)-1].OutcomeID)
	}
	if calls := e.since(m); calls != "GetRange GetRange GetRange" {
		t.Errorf("calls = %s, want three pages", calls)
	}
	got, err = e.l.Problems(ctx, "cn-hangzhou", "rm-a", time.Time{}, 0)
	must(t, err)
	if len(got) != DefaultProblemLimit || got[len(got)-1].OutcomeID != "e249" {
		t.Errorf("default limit: %d problems", len(got))
	}
}

// since and limit together: the newest at or after since.
func TestProblemsSinceAndLimit(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		must(t, e.l.NoteProblem(ctx, problem("rm-a", start.Add(time.Duration(i)*time.Second), fmt.Sprintf("e%d", i), "failed", "")))
	}
	got, err := e.l.Problems(ctx, "cn-hangzhou", "rm-a", start.Add(time.Second), 3)
	must(t, err)
	if len(got) != 3 || got[0].OutcomeID != "e2" || got[2].OutcomeID != "e4" {
		t.Fatalf("got %+v", got)
	}
}

// Arguments are checked by grammar before any call.
func TestProblemsValidateBeforeAnyCall(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	ok := problem("rm-a", start, "e1", "rejected", "C")
	bad := map[string]func(p *Problem){
		"region":    func(p *Problem) { p.Region = "" },
		"instance":  func(p *Problem) { p.Instance = "rm-a/../x" },
		"outcomeId": func(p *Problem) { p.OutcomeID = "a b" },
		"status":    func(p *Problem) { p.Status = "" },
		"code":      func(p *Problem) { p.Code = "a\nb" },
		"at":        func(p *Problem) { p.At = time.Time{} },
	}
	m := e.reset()
	for field, mut := range bad {
		p := ok
		mut(&p)
		err := e.l.NoteProblem(ctx, p)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != field || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	if p := ok; true {
		p.At = time.Unix(0, 0).Add(-time.Second)
		if err := e.l.NoteProblem(ctx, p); !errors.Is(err, ErrInvalid) {
			t.Errorf("before 1970: %v", err)
		}
	}
	for _, args := range [][2]string{{"", "rm-a"}, {"cn-hangzhou", "a/b"}, {"cn hangzhou", "rm-a"}} {
		if _, err := e.l.Problems(ctx, args[0], args[1], start, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("Problems(%q, %q): %v", args[0], args[1], err)
		}
	}
	if _, err := e.l.Problems(ctx, "cn-hangzhou", "rm-a", start, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit -1: %v", err)
	}
	if calls := e.since(m); calls != "" {
		t.Errorf("calls = %q, want none", calls)
	}
}

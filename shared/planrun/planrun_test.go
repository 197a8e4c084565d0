package planrun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/settle"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

type fakeQueue struct{ sent []workqueue.Message }

func (q *fakeQueue) Send(_ context.Context, m workqueue.Message, _ time.Duration) error {
	q.sent = append(q.sent, m)
	return nil
}

func (q *fakeQueue) SendBatch(_ context.Context, ms []workqueue.Message) error {
	q.sent = append(q.sent, ms...)
	return nil
}

type fakePub struct{ events []notify.Event }

func (p *fakePub) PublishEvent(_ context.Context, ev notify.Event) error {
	p.events = append(p.events, ev)
	return nil
}

// fakeRuns is a run ledger in memory.
type fakeRuns struct {
	planned, done []string
	summary       []byte
	published     bool
	recorded      []string // each StepsDone call: "run: id,id"
}

func (f *fakeRuns) state() ledger.RunState {
	return ledger.RunState{Planned: f.planned, Done: f.done, Summary: f.summary, Published: f.published}
}

func (f *fakeRuns) RegisterSteps(_ context.Context, _ string, ids []string) (ledger.RunState, error) {
	for _, id := range ids {
		if !slices.Contains(f.planned, id) {
			f.planned = append(f.planned, id)
		}
	}
	return f.state(), nil
}

func (f *fakeRuns) StepsDone(_ context.Context, run string, ids []string, merge func([]byte, string) ([]byte, error)) (ledger.RunState, error) {
	f.recorded = append(f.recorded, run+": "+strings.Join(ids, ","))
	for _, id := range ids {
		if !slices.Contains(f.done, id) {
			b, err := merge(f.summary, id)
			if err != nil {
				return ledger.RunState{}, err
			}
			f.summary, f.done = b, append(f.done, id)
		}
	}
	return f.state(), nil
}

func (f *fakeRuns) MarkPublished(context.Context, string) error { f.published = true; return nil }

func stepper(q *fakeQueue, p *fakePub, runs RunLedger) *Stepper {
	now := func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &Stepper{Function: "scheduled", Work: q, Pub: p, Region: "cn-hangzhou", MaxAge: time.Hour, Now: now, Log: log,
		Settle: &settle.Settler{Work: q, Now: now, Log: log}}
	if runs != nil {
		s.Ledger = runs
	}
	return s
}

func plan(n int) (backup.Trigger, []backup.Request) {
	trig := backup.Trigger{Kind: events.KindTimer, Source: "nightly", DeliveryId: "2026-12-01T10:00:00Z"}
	specs := make([]backup.Spec, n)
	for i := range specs {
		specs[i] = backup.Spec{DBInstanceId: fmt.Sprintf("rm-%03d", i)}
	}
	return trig, events.NormalizePlan(backup.Plan{Backups: specs}, trig)
}

// Without the ledger a run goes step after step: a step takes its limit
// and hands the rest on as one plan message carrying the summary so far;
// the step that takes the last ask publishes the run's summary.
func TestStepAfterStep(t *testing.T) {
	q, p := &fakeQueue{}, &fakePub{}
	s := stepper(q, p, nil)
	trig, reqs := plan(250)
	pr := &Run{Trigger: trig, Reqs: reqs, Summary: NewSummary(trig)}
	s.Parallel(pr) // no ledger: stays sequential
	var sum settle.Summary
	jobs, errs := s.Step(context.Background(), pr, ChunkSize, executor.History{}, &sum)
	if len(errs) != 0 || len(jobs) != ChunkSize || sum.Requests != ChunkSize || jobs[0].Run != pr.Summary {
		t.Fatalf("%d jobs, errors %v, summary %+v", len(jobs), errs, sum)
	}
	if err := s.Finish(context.Background(), []*Run{pr}); err != nil {
		t.Fatal(err)
	}
	if Continued(pr) != 1 || len(q.sent) != 1 || q.sent[0].Kind != workqueue.KindPlan || len(q.sent[0].Specs) != 150 || q.sent[0].Step != "" {
		t.Fatalf("handed on %+v", q.sent)
	}
	// The next step, from its message: the rest, then the last.
	next := FromMessage(q.sent[0])
	jobs, _ = s.Step(context.Background(), next, 200, executor.History{}, &sum)
	if len(jobs) != 150 || jobs[0].Req.IdempotencyKey != reqs[100].IdempotencyKey {
		t.Fatalf("the next step took %d asks (want 150, the same keys)", len(jobs))
	}
	if err := s.Finish(context.Background(), []*Run{next}); err != nil {
		t.Fatal(err)
	}
	if len(p.events) != 1 || len(q.sent) != 1 {
		t.Fatalf("%d run events, %d messages: want the summary once and nothing more handed on", len(p.events), len(q.sent))
	}
}

// With the ledger the first step hands the rest on at once, in chunks
// whose ids derive from its own, registered before they are sent; the
// step that finds every registered step done publishes the summary, once.
func TestStepsInParallel(t *testing.T) {
	q, p, runs := &fakeQueue{}, &fakePub{}, &fakeRuns{}
	s := stepper(q, p, runs)
	trig, reqs := plan(230)
	pr := &Run{Trigger: trig, Reqs: reqs, Summary: NewSummary(trig)}
	s.Parallel(pr)
	var sum settle.Summary
	if jobs, _ := s.Step(context.Background(), pr, 10, executor.History{}, &sum); len(jobs) != 10 {
		t.Fatalf("%d jobs, want the inline limit 10", len(jobs))
	}
	if err := s.Finish(context.Background(), []*Run{pr}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range q.sent {
		ids = append(ids, m.Step)
	}
	if fmt.Sprint(ids) != "[0.c1 0.c2 0.c3]" || fmt.Sprint(runs.planned) != "[0.c1 0.c2 0.c3 0]" || Continued(pr) != 3 {
		t.Fatalf("steps sent %v, registered %v", ids, runs.planned)
	}
	for _, m := range append(q.sent, q.sent[1]) { // a step delivered twice
		st := FromMessage(m)
		s.Step(context.Background(), st, ChunkSize, executor.History{}, &sum)
		if err := s.Finish(context.Background(), []*Run{st}); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.events) != 1 || !runs.published {
		t.Fatalf("%d run events, want 1", len(p.events))
	}
}

// The steps of a run that end in one invocation (a batch of the work
// queue) are recorded in one StepsDone, and the run's summary is published
// once; a batch holding steps of two runs records each run's steps
// together.
func TestStepsOfABatchRecordedTogether(t *testing.T) {
	q, p, runs := &fakeQueue{}, &fakePub{}, &fakeRuns{}
	s := stepper(q, p, runs)
	ctx := context.Background()
	first := func(n int, delivery string) (*Run, []workqueue.Message) {
		trig, reqs := plan(n)
		trig.DeliveryId = delivery
		for i := range reqs {
			reqs[i].Trigger = trig
		}
		pr := &Run{Trigger: trig, Reqs: reqs, Summary: NewSummary(trig)}
		s.Parallel(pr)
		var sum settle.Summary
		s.Step(ctx, pr, 10, executor.History{}, &sum)
		sent := len(q.sent)
		if err := s.Finish(ctx, []*Run{pr}); err != nil {
			t.Fatal(err)
		}
		return pr, q.sent[sent:]
	}
	steps := func(msgs []workqueue.Message) []*Run {
		var out []*Run
		for _, m := range msgs {
			st := FromMessage(m)
			var sum settle.Summary
			s.Step(ctx, st, ChunkSize, executor.History{}, &sum)
			out = append(out, st)
		}
		return out
	}
	a, aSent := first(230, "2026-12-01T10:00:00Z")
	keyA := a.Summary.Key
	if err := s.Finish(ctx, steps(aSent)); err != nil {
		t.Fatal(err)
	}
	want := []string{keyA + ": 0", keyA + ": 0.c1,0.c2,0.c3"}
	if !slices.Equal(runs.recorded, want) || len(p.events) != 1 || !runs.published {
		t.Fatalf("recorded %q, %d run events, published %v; want %q and the summary once", runs.recorded, len(p.events), runs.published, want)
	}

	b, bSent := first(130, "2026-12-01T11:00:00Z")
	c, cSent := first(130, "2026-12-01T12:00:00Z")
	keyB, keyC := b.Summary.Key, c.Summary.Key
	if keyB == keyC || keyB == keyA {
		t.Fatalf("run keys %q, %q, %q: want three runs", keyA, keyB, keyC)
	}
	runs.recorded = nil
	mixed := steps([]workqueue.Message{bSent[0], cSent[0], bSent[1]})
	if err := s.Finish(ctx, mixed); err != nil {
		t.Fatal(err)
	}
	want = []string{keyB + ": 0.c1,0.c2", keyC + ": 0.c1"}
	if !slices.Equal(runs.recorded, want) {
		t.Fatalf("a batch of two runs' steps recorded %q, want %q", runs.recorded, want)
	}
}

func TestStepIDs(t *testing.T) {
	sel := &backup.Selector{Tags: map[string]string{"backup": "nightly"}}
	pr := &Run{Select: sel, Summary: &backup.RunSummary{Key: "r"}, step: "t3"}
	if id := pr.pageStep(7).Step; id != "t3.p7" {
		t.Errorf("page 7 of target 3: %q", id)
	}
	pr.step = "0"
	if id := pr.pageStep(2).Step; id != "p2" {
		t.Errorf("page 2: %q", id)
	}
	if m := FromMessage(workqueue.Message{Kind: workqueue.KindSelect, Select: sel, Step: "p2"}); m.step != "" {
		t.Errorf("a step with no run to count it in kept its id %q", m.step)
	}
	if !FleetSelect(backup.Selector{Regions: []string{"cn-hangzhou"}}) || FleetSelect(backup.Selector{Accounts: []string{"1"}}) {
		t.Error("FleetSelect")
	}
	if got := Dedupe([]backup.Request{{IdempotencyKey: "a"}, {IdempotencyKey: "b"}, {IdempotencyKey: "a"}}); len(got) != 2 {
		t.Errorf("Dedupe kept %d", len(got))
	}
}

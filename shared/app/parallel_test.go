package app

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// Issue 18, "runs in parallel": with the ask ledger, a plan run's steps
// are handed on all at once — the first step's other explicit asks in a
// chunk, the Select's page 1, and, once page 1 is read, every other page —
// and counted in the run's ledger row, so they can run in any order, at
// once, or twice (a redelivery): the run ends in exactly one summary
// counting every ask once, published by the step that finished last.
func TestPlanRunStepsRunInParallelWithTheLedger(t *testing.T) {
	h := newHarness(t, "scheduled")
	_, env := h.withLedger(time.Minute)
	for i := range 230 {
		h.rds.AddInstance(rds.Instance{DBInstanceId: fmt.Sprintf("rm-t%03d", i), Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}})
	}
	sched := h.another("scheduled", append(env, "BACKUP_INLINE_LIMIT=2")...)
	ev := fc.NewTimerEvent(time.Now(), "nightly",
		`{"Backups":[{"DBInstanceId":"rm-a"},{"DBInstanceId":"rm-b"},{"DBInstanceId":"rm-c"}],"Select":{"Tags":{"backup":"nightly"}}}`)
	if _, err := sched.HandleTimer(h.ctx(), ev); err != nil {
		t.Fatal(err)
	}
	steps := func() map[string]string {
		out := map[string]string{}
		for _, m := range h.mns.Messages(workQ) {
			wm, err := workqueue.Decode([]byte(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			if wm.Kind == workqueue.KindPlan || wm.Kind == workqueue.KindSelect {
				out[wm.Step] = m.Body
			}
		}
		return out
	}
	if got := slices.Sorted(maps.Keys(steps())); fmt.Sprint(got) != "[0.c1 p1]" {
		t.Fatalf("the first step handed on %v, want [0.c1 p1] (rm-c, and the Select's page 1)", got)
	}
	q := h.another("queue", env...)
	done := map[string]bool{}
	// Page 1 first: its reader hands on pages 2 and 3. Then the rest in
	// reverse order, all in one batch, with page 2 delivered twice.
	if _, err := q.HandleQueue(h.ctx(), batch(steps()["p1"])); err != nil {
		t.Fatal(err)
	}
	done["p1"] = true
	if runs := runEvents(h.outcomes()); len(runs) != 0 {
		t.Fatalf("a summary before the run ended: %v", runs)
	}
	all := steps()
	if got := slices.Sorted(maps.Keys(all)); fmt.Sprint(got) != "[0.c1 p1 p2 p3]" {
		t.Fatalf("steps %v, want page 1's reader to hand on pages 2 and 3", got)
	}
	if _, err := q.HandleQueue(h.ctx(), batch(all["p3"], all["p2"], all["0.c1"], all["p2"])); err != nil {
		t.Fatal(err)
	}
	runs := runEvents(h.outcomes())
	if len(runs) != 1 {
		t.Fatalf("%d run summaries, want 1", len(runs))
	}
	if r := runs[0].Data.Run; r.Items != 233 || r.Counts["accepted"] != 233 {
		t.Errorf("summary: %d items %v, want 233 accepted (3 named + 230 selected, each once)", r.Items, r.Counts)
	}
	// A late redelivery of the last step publishes nothing more.
	if _, err := q.HandleQueue(h.ctx(), batch(all["p3"])); err != nil {
		t.Fatal(err)
	}
	if n := len(runEvents(h.outcomes())); n != 1 {
		t.Errorf("%d run summaries after a redelivered step, want 1", n)
	}
	if n := h.rds.Counts()["CreateBackup"]; n != 233 {
		t.Errorf("%d CreateBackup calls, want 233 (the repeats are coalesced by the ledger)", n)
	}
}

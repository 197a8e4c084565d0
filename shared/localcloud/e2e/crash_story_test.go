package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

// DESIGN.md §2, one story per ask, crash-safe: the local cloud SIGKILLs the
// queue function at each step of an ask (no hook in the product: the
// emulators see the call and the local FC kills the process), FC retries
// the batch's asynchronous invocation, and the ask still ends in exactly one distinct
// terminal outcome id, with one backup.
func TestCrashAtEveryStepKeepsOneStory(t *testing.T) {
	t.Parallel()
	const id = "rm-demo-pg1"
	steps := []localcloud.Crash{
		{Action: "CreateBackup", DBInstanceId: id, Function: "queue", When: "before"},
		{Action: "CreateBackup", DBInstanceId: id, Function: "queue", When: "after"},
		{Action: "SendMessage", Queue: localcloud.WorkQueue, Function: "queue", When: "after", Nth: 2}, // tracking scheduled (the 1st is the ask itself)
		{Action: "SendMessage", Queue: localcloud.NotifyQueue, Function: "queue", When: "after"},       // accepted published
	}
	for _, c := range steps {
		name := fmt.Sprintf("%s %s %s%s", c.When, c.Action, c.DBInstanceId, c.Queue)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Without the set lag: killed before its CreateBackup went out, an
			// ask's row says it was being sent, so the delivery that takes it
			// over waits until RDS would have listed any backup it made (the
			// lag plus 10 s here), which the executor's ledger tests cover;
			// this test is about one story per ask across kills.
			fleet := withoutSetLag(demoFleet(t, 2*time.Second))
			fleet.Crashes = []localcloud.Crash{c}
			s := startStack(t, fleet, localcloud.Options{})
			if err := s.SendMessage(`{"DBInstanceId":"` + id + `"}`); err != nil {
				t.Fatal(err)
			}
			s.waitOutcomes(60*time.Second, "completed", func(evs []notify.Event) bool { return haveAll(evs, "completed", id) })
			evs := s.settle(15*time.Second, time.Second)
			if cr := s.Cloud.Faults().Crashes; len(cr) != 1 || !cr[0].Fired || cr[0].Killed == 0 {
				t.Fatalf("the crash did not happen: %+v", cr)
			}
			terminal := map[string]string{}
			keys := map[string]bool{}
			for _, e := range evs {
				keys[e.Data.IdempotencyKey] = true
				if e.Data.Terminal {
					terminal[e.ID] = e.Type
				}
			}
			if len(keys) != 1 {
				t.Errorf("outcomes name %d asks, want 1:\n%s", len(keys), describe(evs))
			}
			if len(terminal) != 1 {
				t.Errorf("%d distinct terminal outcome ids, want 1: %v\n%s", len(terminal), terminal, describe(evs))
			}
			for _, typ := range terminal {
				if typ != typ2("completed") {
					t.Errorf("terminal %s, want completed", typ)
				}
			}
			wantCreated(t, s, map[string]int{id: 1})
		})
	}
}

func typ2(status string) string { return notify.TypePrefix + status }

package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// fire fires the scheduled function's timer with a plan, checks that the
// invocation succeeded the first time, and returns its summary.
func (s *stack) fire(plan string) timerSummary {
	s.t.Helper()
	results, err := s.FireTimer(s.ctx, plan)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(results) != 1 || results[0].Failed() {
		s.t.Fatalf("scheduled function: want one successful invocation, got %+v", results)
	}
	var sum timerSummary
	if err := json.Unmarshal(results[0].Response, &sum); err != nil {
		s.t.Fatalf("scheduled function returned %s: %v", results[0].Response, err)
	}
	return sum
}

// timerSummary is what the scheduled function returns (app.Summary).
type timerSummary struct {
	Requests  int            `json:"requests"`
	Outcomes  map[string]int `json:"outcomes"`
	Continued int            `json:"continued"`
}

func TestTimerPlanOfThreeInstancesIsAcceptedThenCompleted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, plan string }{
		{"explicit backups", `{"Defaults":{"BackupMethod":"Physical"},"Backups":[{"DBInstanceId":"rm-demo-mysql1"},{"DBInstanceId":"rm-demo-pg1"},{"DBInstanceId":"rm-demo-mssql1"}]}`},
		{"tag select", `{"Defaults":{"BackupMethod":"Physical"},"Select":{"RegionId":"cn-hangzhou","Tags":{"backup":"nightly"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Jobs take 10 minutes of a clock that only the test moves, so
			// "accepted" is seen while every job is still running.
			clock := rds.NewFakeClock(time.Now())
			s := startStack(t, demoFleet(t, 10*time.Minute), localcloud.Options{RDSClock: clock})

			if sum := s.fire(tc.plan); sum.Requests != 3 || sum.Outcomes["accepted"] != 3 || sum.Continued != 0 {
				t.Errorf("scheduled function returned %+v, want 3 requests accepted inline", sum)
			}
			evs := s.waitOutcomes(10*time.Second, "3 accepted", func(evs []notify.Event) bool {
				return haveAll(evs, "accepted", nightly...)
			})
			if n := len(ofType(evs, "completed")); n != 0 {
				t.Fatalf("%d completed before any job could finish", n)
			}
			for _, id := range nightly {
				if jobs := s.Cloud.RDS.Jobs(id); len(jobs) != 1 || jobs[0].Terminal() {
					t.Fatalf("%s: want one running job, got %+v", id, jobs)
				}
			}

			clock.Advance(11 * time.Minute)
			s.waitOutcomes(15*time.Second, "3 completed", func(evs []notify.Event) bool {
				return haveAll(evs, "completed", nightly...)
			})
			evs = s.settle(15*time.Second, 500*time.Millisecond)

			if got := countTypes(evs); len(got) != 2 || got["accepted"] != 3 || got["completed"] != 3 {
				t.Errorf("outcomes %v, want 3 accepted and 3 completed:\n%s", got, describe(evs))
			}
			accepted, completed := bySubject(t, evs, "accepted"), bySubject(t, evs, "completed")
			for _, id := range nightly {
				a, c := accepted[id], completed[id]
				job := s.Cloud.RDS.Jobs(id)[0]
				if a.Data.BackupJobId != job.BackupJobId || a.Data.Terminal || a.Source != "fc-rds-backup/scheduled" {
					t.Errorf("%s accepted: job %q terminal %v source %s; want job %s, not terminal (tracked), from scheduled",
						id, a.Data.BackupJobId, a.Data.Terminal, a.Source, job.BackupJobId)
				}
				if c.Data.BackupJobId != job.BackupJobId || c.Data.BackupStatus != "Finished" || c.Data.BackupId == "" ||
					c.Data.BackupId != job.BackupId || !c.Data.Terminal {
					t.Errorf("%s completed: job %q status %q backupId %q terminal %v; want job %s Finished with backup %s, terminal",
						id, c.Data.BackupJobId, c.Data.BackupStatus, c.Data.BackupId, c.Data.Terminal, job.BackupJobId, job.BackupId)
				}
				if a.Data.Request.BackupMethod != "Physical" || a.Data.Trigger.Kind != "timer" {
					t.Errorf("%s accepted: request %+v trigger %+v", id, a.Data.Request, a.Data.Trigger)
				}
			}
			if n := s.Cloud.RDS.Counts()["CreateBackup"]; n != 3 {
				t.Errorf("CreateBackup called %d times, want 3", n)
			}
			wantCreated(t, s, map[string]int{"rm-demo-mssql1": 1, "rm-demo-mysql1": 1, "rm-demo-pg1": 1})
		})
	}
}

func TestInvalidRequestOnWorkQueueIsRejectedWithoutCreateBackup(t *testing.T) {
	t.Parallel()
	s := startStack(t, demoFleet(t, time.Second), localcloud.Options{})
	if err := s.SendMessage(`{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"Sales-DB"}`); err != nil {
		t.Fatal(err)
	}
	s.waitOutcomes(10*time.Second, "a rejected outcome", func(evs []notify.Event) bool { return len(evs) > 0 })
	evs := s.settle(10*time.Second, 700*time.Millisecond)

	if len(evs) != 1 || evs[0].Type != typ("rejected") {
		t.Fatalf("want exactly 1 rejected outcome, got:\n%s", describe(evs))
	}
	d := evs[0].Data
	if d.Error == nil || d.Error.Code != "InvalidDBName.Format" || d.Error.Field != "DBName" || d.Error.Retryable {
		t.Errorf("error = %+v, want InvalidDBName.Format on field DBName, not retryable", d.Error)
	}
	if evs[0].Subject != "rm-demo-mysql1" || d.Request.DBName != "Sales-DB" || !d.Terminal || d.Trigger.Kind != "mns" {
		t.Errorf("subject %s request %+v terminal %v trigger %+v", evs[0].Subject, d.Request, d.Terminal, d.Trigger)
	}
	if n := s.Cloud.RDS.Counts()["CreateBackup"]; n != 0 {
		t.Errorf("CreateBackup called %d times, want 0", n)
	}
	// Validation needs no API call at all.
	if calls := s.rdsCalls(""); len(calls) != 0 {
		t.Errorf("RDS was called for an invalid request:\n%s", s.callLog(""))
	}
}

// DESIGN.md §2: a failed backup satisfies no ask. When the job an ask was
// accepted with ends Failed, the failure is published (deferred,
// BackupJobFailed, the job's status) and the ask runs again: it gets a
// backup of its own that completes, and ends in one terminal outcome.
func TestJobThatRDSFailsDoesNotEndTheAsk(t *testing.T) {
	t.Parallel()
	const id = "rm-demo-pg1"
	clock := rds.NewFakeClock(time.Now())
	s := startStack(t, demoFleet(t, 10*time.Minute), localcloud.Options{RDSClock: clock})
	s.Cloud.RDS.InjectFault(rds.Fault{Action: "CreateBackup", DBInstanceId: id, FailJob: true, Times: 1})

	if err := s.SendMessage(`{"DBInstanceId":"` + id + `"}`); err != nil {
		t.Fatal(err)
	}
	s.waitOutcomes(10*time.Second, "accepted", func(evs []notify.Event) bool { return haveAll(evs, "accepted", id) })
	clock.Advance(11 * time.Minute) // the first job ends Failed
	s.waitOutcomes(15*time.Second, "a second accepted", func(evs []notify.Event) bool { return len(ofType(evs, "accepted")) == 2 })
	clock.Advance(11 * time.Minute) // the second one Finished
	s.waitOutcomes(15*time.Second, "completed", func(evs []notify.Event) bool { return haveAll(evs, "completed", id) })
	evs := s.settle(10*time.Second, 500*time.Millisecond)

	jobs := s.Cloud.RDS.Jobs(id)
	if len(jobs) != 2 || jobs[0].BackupStatus != "Failed" || jobs[1].BackupStatus != "Finished" {
		t.Fatalf("jobs %+v, want one Failed then one Finished", jobs)
	}
	var deferred notify.Event
	for _, e := range ofType(evs, "deferred") {
		if e.Data.Error != nil && e.Data.Error.Code == "BackupJobFailed" {
			deferred = e
		}
	}
	if deferred.ID == "" || deferred.Data.BackupJobId != jobs[0].BackupJobId || deferred.Data.BackupStatus != "Failed" || deferred.Data.Terminal {
		t.Errorf("the failure was not published as a non-terminal deferred outcome naming job %s:\n%s", jobs[0].BackupJobId, describe(evs))
	}
	terminal := map[string]string{}
	for _, e := range evs {
		if e.Data.Terminal {
			terminal[e.ID] = e.Type
		}
	}
	if len(terminal) != 1 || len(ofType(evs, "failed")) != 0 {
		t.Errorf("terminal outcomes %v, want one completed and no failed:\n%s", terminal, describe(evs))
	}
	if c := ofType(evs, "completed"); len(c) == 0 || c[0].Data.BackupJobId != jobs[1].BackupJobId {
		t.Errorf("completed does not name the second job %s:\n%s", jobs[1].BackupJobId, describe(evs))
	}
	wantCreated(t, s, map[string]int{id: 2})
}

func TestOutcomesSurviveAFailingNotificationQueue(t *testing.T) {
	t.Parallel()
	// The publisher tries an event notify.DefaultMaxAttempts (6) times
	// within an invocation, and the three accepted events are published at
	// once (each as soon as its ask ended): 18 failures would exhaust it
	// for each of them, so they are parked in the work queue and
	// re-published by the queue function — all three, or fewer when the
	// queue function, re-publishing the first parked one meanwhile, meets a
	// failure of its own. The jobs only end when the test moves the RDS
	// clock, so nothing else publishes while the faults last.
	const failures = 18
	// MNS runs 120x faster, so tracking checks the frozen jobs at most
	// every 2.5 s of real time (5 m on the MNS clock) and the parked event
	// comes back after 125 ms (15 s).
	clock := rds.NewFakeClock(time.Now())
	s := startStack(t, demoFleet(t, 10*time.Minute), localcloud.Options{RDSClock: clock, MNSSpeed: 120})
	s.Cloud.MNS.InjectFault(mns.Fault{Op: "SendMessage", Queue: localcloud.NotifyQueue, Status: 500, Code: "InternalError", Times: failures})

	s.fire(`{"Backups":[{"DBInstanceId":"rm-demo-mysql1"},{"DBInstanceId":"rm-demo-pg1"},{"DBInstanceId":"rm-demo-mssql1"}]}`)
	start := time.Now()
	s.waitOutcomes(15*time.Second, "accepted for all 3", func(evs []notify.Event) bool { return haveAll(evs, "accepted", nightly...) })
	t.Logf("all accepted after %v", time.Since(start).Round(time.Millisecond))
	clock.Advance(11 * time.Minute)
	s.waitOutcomes(15*time.Second, "completed for all 3", func(evs []notify.Event) bool { return haveAll(evs, "completed", nightly...) })
	t.Logf("all completed after %v", time.Since(start).Round(time.Millisecond))
	evs := s.settle(15*time.Second, 700*time.Millisecond)
	t.Logf("settled after %v", time.Since(start).Round(time.Millisecond))

	faulted := 0
	for _, c := range s.Cloud.MNS.Calls() {
		if c.Fault {
			faulted++
		}
	}
	if faulted != failures {
		t.Errorf("%d sends failed, want %d", faulted, failures)
	}
	var parked []workMessage
	for _, m := range s.workMessages() {
		if m.Kind == workqueue.KindOutcome {
			parked = append(parked, m)
		}
	}
	if len(parked) == 0 || len(parked) > 3 {
		t.Fatalf("%d outcome(s) parked in the work queue, want 1 to 3 (accepted ones)", len(parked))
	}
	// Every outcome arrived, an outcome that arrived twice kept its id, and
	// the parked one kept the id it was built with.
	accepted := bySubject(t, evs, "accepted")
	bySubject(t, evs, "completed")
	if got := countTypes(evs); len(got) != 2 || got["accepted"] < 3 || got["completed"] < 3 {
		t.Errorf("outcomes %v, want accepted and completed for each instance:\n%s", got, describe(evs))
	}
	var ids []string
	for _, e := range accepted {
		ids = append(ids, e.ID)
	}
	for _, p := range parked {
		pe, err := notify.ParseEvent(p.Event)
		if err != nil {
			t.Fatalf("parked event: %v", err)
		}
		if pe.Type != typ("accepted") || !slices.Contains(ids, pe.ID) {
			t.Errorf("the parked %s event %s was not re-published with its id (accepted ids %v)", pe.Type, pe.ID, ids)
		}
	}
	wantCreated(t, s, map[string]int{"rm-demo-mssql1": 1, "rm-demo-mysql1": 1, "rm-demo-pg1": 1})
}

func TestShortDeadlineDefersToWorkQueueAndQueueFunctionResumes(t *testing.T) {
	t.Parallel()
	const id = "rm-demo-mysql1"
	fleet := demoFleet(t, time.Second)
	for i := range fleet.Instances {
		if fleet.Instances[i].DBInstanceId == id {
			fleet.Instances[i].DBInstanceStatus = "Rebooting"
		}
	}
	// The scheduled function has 4 s and keeps 2 s free: an instance that
	// is Rebooting needs a state wait of 2.5 s or more
	// (retry.StateWaitBackoff), which does not fit. MNS runs 5x faster:
	// the deferred message (3-5 s) comes back after about a second, and
	// accepted is terminal (no tracking) so nothing else follows.
	s := startStack(t, fleet, localcloud.Options{
		MNSSpeed:    5,
		Env:         []string{"BACKUP_TRACK_JOBS=false"},
		Timeouts:    map[string]time.Duration{"scheduled": 4 * time.Second},
		FunctionEnv: map[string][]string{"scheduled": {"BACKUP_DEADLINE_MARGIN=2s"}},
	})

	start := time.Now()
	s.fire(`{"Backups":[{"DBInstanceId":"` + id + `","BackupMethod":"Physical"}]}`)
	s.Cloud.RDS.SetStatus(id, "Running")
	t.Logf("scheduled function returned after %v", time.Since(start).Round(time.Millisecond))

	s.waitOutcomes(15*time.Second, "accepted", func(evs []notify.Event) bool { return haveAll(evs, "accepted", id) })
	evs := s.settle(10*time.Second, 500*time.Millisecond)

	if got := countTypes(evs); len(got) != 2 || got["deferred"] != 1 || got["accepted"] != 1 || evs[0].Type != typ("deferred") {
		t.Fatalf("outcomes %v, want deferred then accepted:\n%s", got, describe(evs))
	}
	deferred, accepted := evs[0], evs[1]
	d := deferred.Data
	if d.Terminal || d.NotBefore == nil || !d.NotBefore.After(deferred.Time) || deferred.Source != "fc-rds-backup/scheduled" {
		t.Errorf("deferred: terminal %v notBefore %v time %v source %s; want not terminal, a notBefore after its time, from scheduled",
			d.Terminal, d.NotBefore, deferred.Time, deferred.Source)
	}
	if len(d.Attempts) == 0 {
		t.Errorf("deferred lists no attempt (the Rebooting observation)")
	}

	var parked []workMessage
	for _, m := range s.workMessages() {
		if m.Kind == workqueue.KindBackup && m.Request.DBInstanceId == id {
			parked = append(parked, m)
		}
	}
	if len(parked) != 1 || parked[0].DelaySeconds <= 0 || len(parked[0].Attempts) != len(d.Attempts) {
		t.Fatalf("want one delayed backup message carrying the deferred attempts, got %+v", parked)
	}
	if accepted.Source != "fc-rds-backup/queue" || accepted.Data.BackupJobId == "" || !accepted.Data.Terminal {
		t.Errorf("accepted: source %s job %q terminal %v; want the queue function's terminal accepted with a job",
			accepted.Source, accepted.Data.BackupJobId, accepted.Data.Terminal)
	}
	// The resumed run carries the deferred attempts and ends with the
	// successful CreateBackup.
	got, before := attemptCodes(accepted), attemptCodes(deferred)
	if len(got) <= len(before) || !slices.Equal(got[:len(before)], before) || got[len(got)-1] != "CreateBackup:" {
		t.Errorf("accepted lists attempts %v, want the deferred ones %v first and CreateBackup last", got, before)
	}
	if accepted.Data.CorrelationId != d.CorrelationId || accepted.Data.IdempotencyKey != d.IdempotencyKey {
		t.Errorf("the resumed request lost its identity: correlation %s/%s, key %s/%s",
			d.CorrelationId, accepted.Data.CorrelationId, d.IdempotencyKey, accepted.Data.IdempotencyKey)
	}
	wantCreated(t, s, map[string]int{id: 1})
}

func TestFleetOf500TaggedInstancesFansOutThroughTheWorkQueue(t *testing.T) {
	t.Parallel()
	fleet, err := localcloud.LoadFleet(filepath.Join(root, "testdata/fleet/fleet500.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tagged, untagged []string
	for _, in := range fleet.Instances {
		if in.Tags["backup"] == "nightly" {
			tagged = append(tagged, in.DBInstanceId)
		} else {
			untagged = append(untagged, in.DBInstanceId)
		}
	}
	if len(tagged) != 500 || len(untagged) != 120 {
		t.Fatalf("fleet500.json: %d tagged, %d not; want 500 and 120", len(tagged), len(untagged))
	}
	s := startStack(t, fleet, localcloud.Options{Env: []string{"BACKUP_TRACK_JOBS=false"}})

	start := time.Now()
	// The scheduled function runs the first BACKUP_INLINE_LIMIT (10) asks
	// of page 1 and, with the ask ledger, hands the rest on at once: the
	// 90 left of page 1 and pages 2 to 5, a step each, run in parallel.
	if sum := s.fire(`{"Select":{"RegionId":"cn-hangzhou","Tags":{"backup":"nightly"}}}`); sum.Requests != 10 || sum.Continued != 5 {
		t.Errorf("scheduled function returned %+v, want 10 asks run and the run handed on in 5 steps", sum)
	}
	s.waitOutcomes(60*time.Second, "500 accepted and the run summary", func(evs []notify.Event) bool { return len(evs) >= 500 && len(s.runs()) > 0 })
	t.Logf("500 outcomes and the run summary after %v", time.Since(start).Round(time.Millisecond))
	evs := s.settle(10*time.Second, 500*time.Millisecond)

	accepted := bySubject(t, evs, "accepted")
	if got := countTypes(evs); len(got) != 1 || len(accepted) != 500 {
		t.Errorf("outcomes %v for %d instances, want 500 accepted, one each", got, len(accepted))
	}
	counts := s.Cloud.RDS.Counts()
	if counts["CreateBackup"] != 500 {
		t.Errorf("RDS calls %v, want CreateBackup 500", counts)
	}
	created := s.Cloud.RDS.CreatedBackups()
	if len(created) != 500 {
		t.Errorf("CreatedBackups has %d instances, want 500", len(created))
	}
	for id, n := range created {
		if n != 1 || !slices.Contains(tagged, id) {
			t.Errorf("CreatedBackups[%s] = %d, want 1 for tagged instances only", id, n)
		}
	}
	// Exactly one rds.backup.run, whose counts equal the outcomes.
	runs := s.runs()
	if len(runs) != 1 {
		t.Fatalf("%d run summaries, want 1", len(runs))
	}
	r := runs[0].Data.Run
	if r.Items != 500 || r.Counts["accepted"] != 500 || len(r.Problems) != 0 || runs[0].Subject != runs[0].Data.Trigger.Source || runs[0].Data.AskedAt == nil {
		t.Errorf("run summary %+v %+v, want 500 asks, 500 accepted", runs[0], r)
	}
	kinds := map[workqueue.Kind]int{}
	for _, m := range s.workMessages() {
		kinds[m.Kind]++
	}
	// Steps of at most 100: 10 inline, then the 90 left of page 1, pages 2
	// to 5: five steps, no per-instance message.
	if kinds[workqueue.KindBackup] != 0 || kinds[workqueue.KindPlan]+kinds[workqueue.KindSelect] != 5 {
		t.Errorf("work queue messages by kind %v, want the run's 5 next steps and no per-instance message", kinds)
	}
}

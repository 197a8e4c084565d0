package e2e

import (
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

// DESIGN.md §2, fleet: a DescribeDBInstances outage while a timer plan's
// Select is read does not skip the fleet: the selector is deferred through
// the work queue, read again later, and the fleet is backed up; the run
// still ends in one summary.
func TestSelectOutageDefersThenRunsTheFleet(t *testing.T) {
	t.Parallel()
	s := startStack(t, demoFleet(t, time.Second), localcloud.Options{Env: []string{"BACKUP_ATTEMPTS_PER_INVOCATION=2"}})
	s.Cloud.RDS.InjectFault(rds.Fault{Action: "DescribeDBInstances", Status: 503, Code: "ServiceUnavailable", Times: 2})
	s.fire(`{"Select":{"Tags":{"backup":"nightly"}}}`)
	s.waitOutcomes(60*time.Second, "the nightly fleet accepted after the outage", func(evs []notify.Event) bool {
		return haveAll(evs, "accepted", nightly...) && len(s.runs()) == 1
	})
	evs := s.outcomes()
	var deferred bool
	for _, e := range ofType(evs, "deferred") {
		if e.Data.Error != nil && e.Data.Error.Field == "Select" && e.Data.Error.Code == "ServiceUnavailable" {
			deferred = true
		}
	}
	if !deferred {
		t.Errorf("the unreadable selector was not published as deferred:\n%s", describe(evs))
	}
	r := s.runs()[0].Data.Run
	// The deferred selector is no ask: the run counts the asks it made.
	if r.Items != len(nightly) || r.Counts["accepted"] != len(nightly) {
		t.Errorf("run summary %+v: want the %d accepted asks", r, len(nightly))
	}
	want := map[string]int{}
	for _, id := range nightly {
		want[id] = 1
	}
	wantCreated(t, s, want)
}

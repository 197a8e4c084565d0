package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

// downRegion is the region whose RDS endpoint is down in the region-down
// test.
const downRegion = "cn-beijing"

// TestRegionDownInAPlanAcrossAccounts (issue 21's second "Done when") on
// the local cloud, through the built functions: a timer plan over three
// member accounts × three regions, one account's role expecting another
// ExternalId and one region's RDS endpoint down (every RDS call counted in
// cn-beijing dropped unanswered, whatever the account).
//
// The down region's (account, region) steps cannot list their instances:
// each is deferred ("the selector will be read again") until the ask
// budget ends — BACKUP_MAX_ATTEMPTS reads (12 by default; the step carries
// them) or BACKUP_MAX_AGE (1 minute here, the least it may be), whichever
// comes first — then ends failed with the code of the last try (a dropped
// connection has none of RDS's: Network, "the connection closed without an
// answer", naming the region and not the endpoint). Meanwhile every tagged
// instance of the other accounts' other regions is backed up once, its
// outcome published before the down region's pairs fail; the wrong
// ExternalId's account fails NoPermission in every region without an RDS
// call; the run summary is partial, counts each down pair failed and names
// it (account, region and code in its problems) and the account.
func TestRegionDownInAPlanAcrossAccounts(t *testing.T) {
	t.Parallel()
	// accountsFleet's three member accounts (C's role expecting another
	// ExternalId) in three regions.
	fleet := accountsFleetIn(append(slices.Clone(fleetRegions), downRegion)...)
	fleet.Faults = []rds.Fault{{RegionId: downRegion, Drop: true}}
	s := startStack(t, fleet, localcloud.Options{Env: []string{"BACKUP_ATTEMPTS_PER_INVOCATION=2", "BACKUP_MAX_AGE=1m"}})

	plan := fmt.Sprintf(`{"Select":{"Tags":{"backup":"nightly"},"Accounts":["%s","%s","%s"],"Regions":["cn-hangzhou","cn-shanghai","%s"]}}`,
		memberA, memberB, memberC, downRegion)
	s.fire(plan)
	// The summary waits for the down region's pairs: their reads' budget.
	s.waitOutcomes(150*time.Second, "the run summary", func(evs []notify.Event) bool { return len(s.runs()) == 1 })
	evs := s.settle(30*time.Second, 2*time.Second)

	// Every tagged instance of A and B outside the down region: accepted
	// and backed up once; nothing in the down region or in C.
	want := map[string]int{}
	for _, in := range fleet.Instances {
		if in.Tags["backup"] == "nightly" && in.AccountId != memberC && in.RegionId != downRegion {
			want[in.DBInstanceId] = 1
		}
	}
	wantCreated(t, s, want)
	accepted := bySubject(t, evs, "accepted")
	if len(accepted) != len(want) {
		t.Errorf("%d accepted outcomes, want %d:\n%s", len(accepted), len(want), describe(evs))
	}
	for _, c := range s.rdsCalls("") {
		if c.Status != 0 && c.DBInstanceId != "" && strings.Contains(c.DBInstanceId, "-beijing-") {
			t.Errorf("an RDS call about %s was answered (%s %d) while its region is down", c.DBInstanceId, c.Action, c.Status)
		}
	}

	// The down pairs: deferred with the code, then failed; C: NoPermission
	// in each region. The other pairs' outcomes came first.
	lastAccepted, firstDownFailed := -1, -1
	failedDown, deferredDown, failedC := map[string]int{}, map[string]int{}, 0
	for i, e := range evs {
		d := e.Data
		switch {
		case d.Status == "accepted":
			lastAccepted = i
		case d.Request.AccountId == memberC:
			if d.Status != "failed" || d.Error == nil || d.Error.Code != "NoPermission" {
				t.Errorf("outcome of %s: %s %+v, want failed NoPermission", memberC, d.Status, d.Error)
			}
			failedC++
		case d.Status == "failed" || d.Status == "deferred":
			if d.Error == nil || d.Error.Field != "Select" || d.Error.Code != "Network" || !strings.Contains(d.Error.Message, downRegion) || strings.Contains(d.Error.Message, "127.0.0.1") {
				t.Errorf("%s outcome %s: error %+v, want the Select of %s with Network, no endpoint", d.Status, e.Subject, d.Error, downRegion)
				continue
			}
			if d.Status == "failed" {
				failedDown[d.Request.AccountId]++
				if firstDownFailed < 0 {
					firstDownFailed = i
				}
			} else {
				deferredDown[d.Request.AccountId]++
			}
		case d.Status == "completed":
		default:
			t.Errorf("unexpected outcome %s %s: %+v", d.Status, e.Subject, d.Error)
		}
	}
	for _, acct := range []string{memberA, memberB} {
		if failedDown[acct] != 1 || deferredDown[acct] == 0 {
			t.Errorf("account %s in %s: %d failed and %d deferred Select outcomes, want 1 failed after deferrals", acct, downRegion, failedDown[acct], deferredDown[acct])
		}
	}
	if failedC != 3 {
		t.Errorf("%d failed outcomes for %s, want one per region (3)", failedC, memberC)
	}
	if firstDownFailed < lastAccepted {
		t.Errorf("a down region's pair failed (outcome %d) before the last accepted ask (outcome %d): the rest waited for it", firstDownFailed, lastAccepted)
	}

	runs := s.runs()
	if len(runs) != 1 {
		t.Fatalf("%d run summaries, want 1", len(runs))
	}
	r := runs[0].Data.Run
	if r.Verdict != "partial" || r.Counts["accepted"] != len(want) || r.Counts["failed"] != 3+2 {
		t.Errorf("run summary: verdict %q, counts %v; want partial, %d accepted, 5 failed", r.Verdict, r.Counts, len(want))
	}
	for _, acct := range []string{memberA, memberB} {
		for _, reg := range fleetRegions {
			if n := r.Targets[acct+"/"+reg]["accepted"]; n != 2 {
				t.Errorf("run summary targets[%s/%s] = %v, want 2 accepted", acct, reg, r.Targets[acct+"/"+reg])
			}
		}
		if n := r.Targets[acct+"/"+downRegion]["failed"]; n != 1 {
			t.Errorf("run summary targets[%s/%s] = %v, want 1 failed", acct, downRegion, r.Targets[acct+"/"+downRegion])
		}
		named := false
		for _, p := range r.Problems {
			named = named || (p.AccountId == acct && p.RegionId == downRegion && p.Status == "failed" && p.Code == "Network")
		}
		if !named {
			t.Errorf("run summary problems %+v do not name %s/%s failed", r.Problems, acct, downRegion)
		}
	}
	if len(r.Accounts) != 1 || r.Accounts[0].AccountId != memberC || r.Accounts[0].Code != "NoPermission" {
		t.Errorf("run summary accounts %+v, want [%s NoPermission]", r.Accounts, memberC)
	}
}

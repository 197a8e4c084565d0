package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

// Member accounts of the fleet test: two whose role trusts the functions
// with the deployment's ExternalId, one whose role expects another.
const (
	memberA    = "2000000000000002"
	memberB    = "3000000000000003"
	memberC    = "5000000000000005" // its role expects another ExternalId
	outsider   = "9000000000000009" // not in BACKUP_ALLOWED_ACCOUNTS
	fleetExtID = "ext-e2e-fleet"
	memberRole = "fc-rds-backup-member"
)

var fleetRegions = []string{"cn-hangzhou", "cn-shanghai"}

// accountsFleet is three member accounts × two regions, two instances
// tagged backup=nightly in each (account, region) and one untagged; the
// roles of A and B expect fleetExtID, C's another ExternalId. Backups take
// a second.
func accountsFleet() localcloud.Fleet { return accountsFleetIn(fleetRegions...) }

// accountsFleetIn is accountsFleet in regions.
func accountsFleetIn(regions ...string) localcloud.Fleet {
	f := localcloud.Fleet{Region: region, BackupSeconds: 1, MemberExternalID: fleetExtID}
	for _, acct := range []string{memberA, memberB, memberC} {
		ext := fleetExtID
		if acct == memberC {
			ext = "ext-someone-elses"
		}
		f.Roles = append(f.Roles, sts.Role{AccountID: acct, Name: memberRole, ExternalID: ext, Trusted: []string{localcloud.AccountID}})
		for _, reg := range regions {
			for i := range 3 {
				in := rds.Instance{DBInstanceId: fmt.Sprintf("rm-%s-%s-%d", acct[:1], strings.TrimPrefix(reg, "cn-"), i), AccountId: acct, RegionId: reg,
					Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}}
				if i == 2 {
					in.Tags = map[string]string{"backup": "never"}
				}
				f.Instances = append(f.Instances, in)
			}
		}
	}
	return f
}

// TestFleetAcrossAccountsThroughTheFunctions (DESIGN.md §10, issue 21) on
// the local cloud, through the built functions: a timer plan over three
// member accounts × two regions. Every tagged instance of the members whose
// role trusts the deployment's ExternalId is accepted and backed up once,
// with a key of its own account (the RDS emulator is the oracle); the
// member whose role expects another ExternalId ends failed with STS's
// NoPermission in both regions, without an RDS call in it; the run summary
// is partial and names that account; each member role is assumed at most
// once in the run. Before it, a plan naming an account outside
// BACKUP_ALLOWED_ACCOUNTS is refused with no STS call at all.
func TestFleetAcrossAccountsThroughTheFunctions(t *testing.T) {
	t.Parallel()
	fleet := accountsFleet()
	s := startStack(t, fleet, localcloud.Options{})

	// An account the deployment does not allow: refused before STS.
	s.fire(`{"Select":{"Tags":{"backup":"nightly"},"Accounts":["` + memberA + `","` + outsider + `"],"Regions":["cn-hangzhou"]}}`)
	evs := s.waitOutcomes(30*time.Second, "the plan naming an outsider refused", func(evs []notify.Event) bool {
		return len(ofType(evs, "rejected")) == 1
	})
	if e := ofType(evs, "rejected")[0]; e.Data.Error == nil || e.Data.Error.Code != "InvalidAccountId.NotAllowed" || !strings.Contains(e.Data.Error.Message, outsider) {
		t.Fatalf("the refusal: %+v, want InvalidAccountId.NotAllowed naming %s", e.Data.Error, outsider)
	}
	if calls := s.Cloud.STS.Calls(); len(calls) != 0 {
		t.Fatalf("STS was called for a plan that was refused: %+v", calls)
	}

	plan := fmt.Sprintf(`{"Select":{"Tags":{"backup":"nightly"},"Accounts":["%s","%s","%s"],"Regions":["cn-hangzhou","cn-shanghai"]}}`, memberA, memberB, memberC)
	s.fire(plan)
	var want []string // the tagged instances of A and B
	for _, in := range fleet.Instances {
		if in.Tags["backup"] == "nightly" && in.AccountId != memberC {
			want = append(want, in.DBInstanceId)
		}
	}
	s.waitOutcomes(90*time.Second, "the fleet's run summary", func(evs []notify.Event) bool {
		return haveAll(evs, "accepted", want...) && len(s.runs()) == 1
	})
	evs = s.settle(60*time.Second, 2*time.Second)

	accepted := bySubject(t, evs, "accepted")
	for _, id := range want {
		if e := accepted[id]; e.Data.Request.AccountId != id2account(fleet, id) {
			t.Errorf("%s accepted naming account %q, want %s", id, e.Data.Request.AccountId, id2account(fleet, id))
		}
	}
	wantBackups := map[string]int{}
	for _, id := range want {
		wantBackups[id] = 1
	}
	wantCreated(t, s, wantBackups)
	for _, c := range s.rdsCalls("") {
		if c.Action != "CreateBackup" {
			continue
		}
		if got, wantAcct := s.Cloud.Auth.AccountOf(c.AccessKeyId), id2account(fleet, c.DBInstanceId); got != wantAcct {
			t.Errorf("CreateBackup %s signed by account %s, want %s", c.DBInstanceId, got, wantAcct)
		}
	}

	var failedC int
	for _, e := range ofType(evs, "failed") {
		if e.Data.Request.AccountId != memberC || e.Data.Error == nil || e.Data.Error.Code != "NoPermission" {
			t.Errorf("failed outcome %s: account %q, error %+v; want only %s, NoPermission", e.Subject, e.Data.Request.AccountId, e.Data.Error, memberC)
			continue
		}
		failedC++
	}
	if failedC != len(fleetRegions) {
		t.Errorf("%d failed outcomes for %s, want one per region (%d):\n%s", failedC, memberC, len(fleetRegions), describe(evs))
	}

	runs := s.runs()
	if len(runs) != 1 {
		t.Fatalf("%d run summaries, want 1", len(runs))
	}
	r := runs[0].Data.Run
	if r.Verdict != "partial" || r.Counts["accepted"] != len(want) || r.Counts["failed"] != len(fleetRegions) {
		t.Errorf("run summary: verdict %q, counts %v; want partial, %d accepted, %d failed", r.Verdict, r.Counts, len(want), len(fleetRegions))
	}
	if len(r.Accounts) != 1 || r.Accounts[0].AccountId != memberC || r.Accounts[0].Code != "NoPermission" {
		t.Errorf("run summary accounts %+v, want [%s NoPermission]", r.Accounts, memberC)
	}
	for _, acct := range []string{memberA, memberB} {
		for _, reg := range fleetRegions {
			if n := r.Targets[acct+"/"+reg]["accepted"]; n != 2 {
				t.Errorf("run summary targets[%s/%s] = %v, want 2 accepted", acct, reg, r.Targets[acct+"/"+reg])
			}
		}
	}

	// STS: at most one AssumeRole per (account, role) in the run, every
	// one named after the run, none for the refused plan.
	perRole := map[string]int{}
	for _, c := range s.Cloud.STS.Calls() {
		if c.Action != "AssumeRole" {
			t.Errorf("STS call %s, want only AssumeRole", c.Action)
		}
		perRole[c.RoleArn]++
	}
	for arn, n := range perRole {
		if n > 1 {
			t.Errorf("%d AssumeRole calls for %s in one run, want at most 1", n, arn)
		}
	}
	if len(perRole) != 3 {
		t.Errorf("AssumeRole per role %v, want the three members' roles", perRole)
	}
	sessions := map[string]bool{}
	for _, c := range s.Cloud.STS.Calls() {
		sessions[c.RoleSessionName] = true
	}
	if len(sessions) != 1 {
		t.Errorf("session names %v, want one: the run's", sortedKeys(sessions))
	}
	if strings.Contains(s.logs.String(), fleetExtID) {
		t.Error("the functions' logs hold the ExternalId")
	}
}

// id2account is the account of a fleet instance ("" the functions' own).
func id2account(f localcloud.Fleet, id string) string {
	i := slices.IndexFunc(f.Instances, func(in rds.Instance) bool { return in.DBInstanceId == id })
	if i < 0 || f.Instances[i].AccountId == localcloud.AccountID {
		return ""
	}
	return f.Instances[i].AccountId
}

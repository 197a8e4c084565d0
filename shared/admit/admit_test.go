package admit

import (
	"errors"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

func rules(t *testing.T) Rules {
	regions, err := backup.NewRegions("cn-hangzhou", "cn-shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return Rules{Regions: regions, Fleet: backup.Fleet{Own: "1000000000000001", Accounts: []string{"2000000000000002"}, MaxFanout: 10}, MaxRequests: 2}
}

func code(err error) string {
	var v *backup.Violation
	if errors.As(err, &v) {
		return v.Code
	}
	return ""
}

func TestRules(t *testing.T) {
	r := rules(t)
	sel := &backup.Selector{Tags: map[string]string{"backup": "nightly"}}
	fleet := &backup.Selector{Tags: map[string]string{"backup": "nightly"}, Regions: []string{"cn-hangzhou", "cn-shanghai"}}
	three := []backup.Request{{DBInstanceId: "rm-a"}, {DBInstanceId: "rm-b"}, {DBInstanceId: "rm-c"}}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"within bounds", r.Call(three[:2], backup.Plan{}), ""},
		{"too many", r.Call(three, backup.Plan{}), "TooManyBackups"},
		{"a region not allowed", r.Call([]backup.Request{{DBInstanceId: "rm-a", RegionId: "us-west-1"}}, backup.Plan{}), "InvalidRegionId.NotAllowed"},
		{"a fleet Select without the ledger", r.Call(nil, backup.Plan{Select: fleet}), CodeFleetSelectNotAllowed},
		{"an MNS Select, refused by default", r.MNS(nil, backup.Plan{Select: sel}), CodeSelectNotAllowed},
		{"an MNS fleet Select", r.MNS(nil, backup.Plan{Select: fleet}), CodeFleetSelectNotAllowed},
		{"a webhook naming a member", r.Webhook([]backup.Request{{DBInstanceId: "rm-a", AccountId: "2000000000000002"}}, backup.Plan{}), backup.CodeAccountNotAllowed},
		{"a work message in a region not allowed", r.Work(workqueue.Message{Kind: workqueue.KindBackup, Request: backup.Request{DBInstanceId: "rm-a", RegionId: "us-west-1"}}), "InvalidRegionId.NotAllowed"},
	} {
		if got := code(c.err); got != c.want {
			t.Errorf("%s: %q (%v), want %q", c.name, got, c.err, c.want)
		}
	}
	r.Ledger, r.MNSSelect = true, true
	if err := r.Call(nil, backup.Plan{Select: fleet}); err != nil {
		t.Errorf("a fleet Select with the ledger: %v", err)
	}
	if err := r.MNS(nil, backup.Plan{Select: sel}); err != nil {
		t.Errorf("an MNS Select with BACKUP_MNS_SELECT=allow: %v", err)
	}
}

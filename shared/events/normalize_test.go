package events

import (
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

func TestNormalizePlan(t *testing.T) {
	trig := backup.Trigger{Kind: KindMNS, Source: "q", DeliveryId: "m-1"}
	p := backup.Plan{
		Defaults: backup.Spec{BackupMethod: "Logical", RegionId: "cn-shanghai"},
		Backups: []backup.Spec{
			{DBInstanceId: "rm-1", DBName: "a,b"},
			{DBInstanceId: "rm-2", BackupMethod: "Physical"},
			{DBInstanceId: "rm-1", DBName: "a,b"},                          // same ask again: collapses
			{DBInstanceId: "rm-1", DBName: "a,b", BackupMethod: "Logical"}, // the same after defaults
		},
	}
	reqs := NormalizePlan(p, trig)
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2 (duplicates collapse): %+v", len(reqs), reqs)
	}
	checkIDs(t, reqs, KindMNS)
	r := reqs[0]
	if r.DBInstanceId != "rm-1" || r.BackupMethod != "Logical" || r.RegionId != "cn-shanghai" || len(r.DBName) != 2 || r.Trigger != trig {
		t.Fatalf("first request = %+v", r)
	}

	again := NormalizePlan(p, trig)
	if again[0].IdempotencyKey != r.IdempotencyKey || again[0].CorrelationId != r.CorrelationId {
		t.Fatal("the same ask must yield the same key and correlation id")
	}

	changes := map[string][]backup.Request{
		"other delivery": NormalizePlan(p, backup.Trigger{Kind: KindMNS, Source: "q", DeliveryId: "m-2"}),
		"other source":   NormalizePlan(p, backup.Trigger{Kind: KindMNS, Source: "q2", DeliveryId: "m-1"}),
		"other kind":     NormalizePlan(p, backup.Trigger{Kind: KindTimer, Source: "q", DeliveryId: "m-1"}),
		"key part":       NormalizePlan(p, trig, "caller-a"),
		"other params":   NormalizePlan(backup.Plan{Backups: []backup.Spec{{DBInstanceId: "rm-1", DBName: "a", BackupMethod: "Logical", RegionId: "cn-shanghai"}}}, trig),
	}
	for name, other := range changes {
		if other[0].IdempotencyKey == r.IdempotencyKey {
			t.Errorf("%s: key unchanged", name)
		}
	}
}

func TestNormalizePlanSelectOnly(t *testing.T) {
	p := backup.Plan{Select: &backup.Selector{Engine: "MySQL"}}
	if got := NormalizePlan(p, backup.Trigger{Kind: KindTimer}); len(got) != 0 {
		t.Fatalf("a Select-only plan has no explicit requests, got %+v", got)
	}
}

func TestCorrelationIDShort(t *testing.T) {
	if got := CorrelationID("abc"); got != "abc" {
		t.Fatalf("CorrelationID(short) = %q", got)
	}
}

package backup_test

import (
	"fmt"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// benchRequests are valid requests of each shape the rules distinguish.
var benchRequests = map[string]backup.Request{
	"mysql-logical-db": {DBInstanceId: "rm-bench1", BackupMethod: "Logical", BackupStrategy: "db",
		DBName: []string{"orders", "billing", "audit_log"}, RegionId: "cn-hangzhou"},
	"physical-instance": {DBInstanceId: "rm-bench2", BackupMethod: "Physical", RegionId: "cn-hangzhou"},
	"sqlserver-db-full": {DBInstanceId: "rm-bench3", BackupMethod: "Physical", BackupStrategy: "db",
		DBName: []string{"sales"}, BackupType: "FullBackup"},
}

var benchFacts = map[string]backup.InstanceFacts{
	"mysql-logical-db": {DBInstanceId: "rm-bench1", Engine: "MySQL", EngineVersion: "8.0", Status: "Running",
		LockMode: "Unlock", InstanceType: "Primary", StorageType: "cloud_essd",
		Databases: []string{"orders", "billing", "audit_log", "app"}, DatabasesKnown: true,
		OngoingJobs: []backup.Job{}, BackupsToday: 3, BackupsTodayKnown: true},
	"physical-instance": {DBInstanceId: "rm-bench2", Engine: "PostgreSQL", EngineVersion: "16.0", Status: "Running",
		LockMode: "Unlock", InstanceType: "Primary", StorageType: "cloud_essd"},
	"sqlserver-db-full": {DBInstanceId: "rm-bench3", Engine: "SQLServer", EngineVersion: "2019_std_ha", Status: "Running",
		LockMode: "Unlock", InstanceType: "Primary", StorageType: "cloud_ssd",
		Databases: []string{"sales"}, DatabasesKnown: true, BackupsToday: 19, BackupsTodayKnown: true},
}

// BenchmarkValidate is the request-stage rules (R1-R8) on valid requests:
// every rule runs, none fails.
func BenchmarkValidate(b *testing.B) {
	for _, name := range []string{"mysql-logical-db", "physical-instance", "sqlserver-db-full"} {
		r := benchRequests[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v := backup.Validate(r); v != nil {
					b.Fatal(v)
				}
			}
		})
	}
}

// BenchmarkCheckInstance is the instance-stage rules (I1-I12) against the
// facts preflight read.
func BenchmarkCheckInstance(b *testing.B) {
	for _, name := range []string{"mysql-logical-db", "physical-instance", "sqlserver-db-full"} {
		r, f := benchRequests[name], benchFacts[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v := backup.CheckInstance(r, f); v != nil {
					b.Fatal(v)
				}
			}
		})
	}
}

// BenchmarkParsePlan decodes the request JSON of each form: one request, a
// plan with defaults, a selector and three backups, and a list of 500.
func BenchmarkParsePlan(b *testing.B) {
	list := []byte(`{"Defaults":{"BackupMethod":"Physical"},"Backups":[`)
	for i := range 500 {
		if i > 0 {
			list = append(list, ',')
		}
		list = fmt.Appendf(list, `{"DBInstanceId":"rm-fleet%04d"}`, i)
	}
	list = append(list, "]}"...)
	for _, c := range []struct {
		name string
		doc  []byte
		want int
	}{
		{"request", []byte(`{"DBInstanceId":"rm-uf6wjk5xxxx","BackupMethod":"Logical","BackupStrategy":"db","DBName":"orders,billing","RegionId":"cn-shanghai"}`), 1},
		{"plan", []byte(`{"Defaults":{"BackupMethod":"Physical","RegionId":"cn-hangzhou"},` +
			`"Backups":[{"DBInstanceId":"rm-a"},{"DBInstanceId":"rm-b","BackupMethod":"Logical","BackupStrategy":"db","DBName":"orders"},{"DBInstanceId":"rm-c","BackupType":"FullBackup"}],` +
			`"Select":{"RegionId":"cn-hangzhou","Engine":"MySQL","Tags":{"backup":"nightly"}}}`), 3},
		{"backups=500", list, 500},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := backup.ParsePlan(c.doc)
				if err != nil || len(p.Backups) != c.want {
					b.Fatalf("ParsePlan: %d backups, %v", len(p.Backups), err)
				}
			}
		})
	}
}

package notify_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

// BenchmarkBuildEvent builds an outcome's CloudEvent and encodes it
// (BuildEvent + JSON): what every published outcome costs before it is
// sent. "accepted" is the common case; "failed" carries the most: an error
// and twelve attempts (BACKUP_MAX_ATTEMPTS).
func BenchmarkBuildEvent(b *testing.B) {
	t0 := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	req := backup.Request{DBInstanceId: "rm-uf6wjk5xxxx", BackupMethod: "Logical", BackupStrategy: "db",
		DBName: []string{"orders", "billing"}, RegionId: "cn-hangzhou",
		Trigger:        backup.Trigger{Kind: "mns", Source: "rds-backup-work", DeliveryId: "C6DB60D1574661357FA227277445A001"},
		IdempotencyKey: backup.Key("bench", "rm-uf6wjk5xxxx"), CorrelationId: "3f2c5e1d9a7b6c4e"}
	accepted := backup.Outcome{Status: backup.StatusAccepted, Terminal: true, Request: req,
		BackupJobId: "347621853", RequestId: "606EA3074344430D4C810001", Time: t0,
		Attempts: []backup.Attempt{{Time: t0, Action: "CreateBackup", RequestId: "606EA3074344430D4C810001"}}}
	failed := backup.Outcome{Status: backup.StatusFailed, Terminal: true, Request: req, Time: t0,
		Error: &backup.ErrorInfo{Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server.", Retryable: true}}
	for i := range 12 {
		failed.Attempts = append(failed.Attempts, backup.Attempt{Time: t0.Add(time.Duration(i) * time.Minute), Action: "CreateBackup",
			Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server.",
			Retryable: true, Class: "transient", RequestId: fmt.Sprintf("606EA3074344430D4C81%04d", i)})
	}
	for _, c := range []struct {
		name string
		o    backup.Outcome
	}{{"accepted", accepted}, {"failed-12-attempts", failed}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				raw, err := notify.BuildEvent("queue", c.o).JSON()
				if err != nil {
					b.Fatal(err)
				}
				n = len(raw)
			}
			b.ReportMetric(float64(n), "event-bytes")
		})
	}
}

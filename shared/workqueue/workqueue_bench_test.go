package workqueue_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// benchMessages are the work queue's messages as the functions write them:
// a fan-out item (backup, no attempts yet), a deferred request with three
// failed attempts, a tracking check and a plan chunk of 16 requests.
func benchMessages() map[string]workqueue.Message {
	t0 := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	req := func(i int) backup.Request {
		id := fmt.Sprintf("rm-fleet%04d", i)
		return backup.Request{DBInstanceId: id, BackupMethod: "Physical", RegionId: "cn-hangzhou",
			Trigger:        backup.Trigger{Kind: "timer", Source: "nightly", DeliveryId: "2026-11-24T18:00:00Z"},
			IdempotencyKey: backup.Key("bench", id), CorrelationId: fmt.Sprintf("3f2c5e1d9a7b%04d", i)}
	}
	var attempts []backup.Attempt
	for i := range 3 {
		attempts = append(attempts, backup.Attempt{Time: t0.Add(time.Duration(i) * 10 * time.Second), Action: "CreateBackup",
			Code: "Throttling.User", Message: "Request was denied due to user flow control.", Retryable: true, Class: "transient",
			RequestId: fmt.Sprintf("606EA3074344430D4C81%04d", i)})
	}
	plan := make([]backup.Request, 16)
	for i := range plan {
		plan[i] = req(i)
	}
	return map[string]workqueue.Message{
		"backup":           workqueue.Backup(req(1), nil, t0),
		"backup-3-tries":   workqueue.Backup(req(2), attempts, t0),
		"track":            workqueue.Track(req(3), "347621853", t0),
		"plan-16-requests": workqueue.Plan(plan),
	}
}

var benchKinds = []string{"backup", "backup-3-tries", "track", "plan-16-requests"}

func BenchmarkEncode(b *testing.B) {
	msgs := benchMessages()
	for _, name := range benchKinds {
		m := msgs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				body, err := workqueue.Encode(m)
				if err != nil {
					b.Fatal(err)
				}
				n = len(body)
			}
			b.ReportMetric(float64(n), "body-bytes")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	msgs := benchMessages()
	for _, name := range benchKinds {
		body, err := workqueue.Encode(msgs[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := workqueue.Decode([]byte(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

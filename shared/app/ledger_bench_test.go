package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// BenchmarkQueueBatchLedger is the queue function's invocation for a batch
// of 64 fresh asks with the ask ledger (Tablestore emulator) and
// BACKUP_RDS_CONCURRENCY 64, as a plan run's steps bring them: per ask a
// claim, a send marker, CreateBackup, the job noted, the outcome published.
// Everything (functions' code, SDKs, emulators) runs in this process, so a
// CPU profile shows what each ask costs on both sides of the wire.
func BenchmarkQueueBatchLedger(b *testing.B) {
	const n = 64
	b.ReportAllocs()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("rm-l%06d-", i)
		cloud := newBenchCloud(fleet(prefix, n))
		m := cloud.mns(b)
		srv := tablestore.NewServer(tablestore.WithCredentials(cloud.auth))
		admin := cloud.auth.NewAccessKey()
		client := ots.NewClientWithConfig(srv.Endpoint(), srv.Instance(), admin.AccessKeyID, admin.AccessKeySecret, "", ledger.ClientConfig())
		if err := ledger.CreateTable(context.Background(), client, "asks", 0); err != nil {
			b.Fatal(err)
		}
		a := cloud.app(b, "queue", m, "BACKUP_RDS_CONCURRENCY=64", "BACKUP_LEDGER_ENDPOINT="+srv.Endpoint(),
			"BACKUP_LEDGER_INSTANCE="+srv.Instance(), "BACKUP_LEDGER_TABLE=asks", "BACKUP_TRACK_JOBS=false")
		msgs := make([]fc.MNSMessage, n)
		for j := range msgs {
			id := fmt.Sprintf("%s%04d", prefix, j)
			r := backup.Request{DBInstanceId: id, BackupMethod: "Physical", RegionId: benchRegion,
				Trigger:        backup.Trigger{Kind: "timer", Source: "nightly", DeliveryId: "2026-11-24T18:00:00Z"},
				IdempotencyKey: backup.Key("bench", id), CorrelationId: fmt.Sprintf("%016d", j), AskedAt: time.Now().UTC()}
			body, err := localSealer.Seal(workqueue.Backup(r, nil, time.Now()))
			if err != nil {
				b.Fatal(err)
			}
			msgs[j] = fc.MNSMessage{Body: body}
		}
		ev := fc.NewMNSEvents(fc.MNSEventSource{Queue: benchWorkQ}, msgs...)
		ctx, cancel := cloud.ctx(120 * time.Second)
		b.StartTimer()
		sum, err := a.HandleQueue(ctx, ev)
		b.StopTimer()
		cancel()
		if err != nil || sum.Outcomes["accepted"] != n {
			b.Fatalf("summary %+v, %v", sum, err)
		}
		if i == 0 {
			b.Logf("calls: RDS %v, Tablestore %d, MNS %d", cloud.rds.Counts(), len(srv.Calls()), len(m.Calls()))
		}
		m.Close()
		srv.Close()
		cloud.rds.Close()
	}
}

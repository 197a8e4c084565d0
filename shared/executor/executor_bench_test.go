package executor_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// BenchmarkRunHappyPath is one request through Run against the RDS
// emulator over loopback HTTP with the real SDK (signing, JSON, the
// rdsclient adapter): preflight (DescribeDBInstanceAttribute and
// DescribeBackupTasks, concurrently) then CreateBackup, accepted. The fake
// clock moves a day between runs, so every run finds the previous job
// finished and the daily quota fresh. The RDS round trips dominate; in the
// cloud, add the network's latency per call.
func BenchmarkRunHappyPath(b *testing.B) {
	clk := rds.NewFakeClock(time.Date(2024, 6, 3, 2, 0, 0, 0, time.UTC))
	srv := rds.NewServer(rds.WithClock(clk), rds.WithBackupDuration(time.Minute))
	b.Cleanup(func() { go srv.Close() })
	srv.AddInstance(rds.Instance{DBInstanceId: "rm-bench", RegionId: "cn-hangzhou", Engine: "MySQL", Databases: []string{"orders"}})
	cred := srv.Credential()
	cli, err := rdsclient.New(rdsclient.Config{
		RegionID: "cn-hangzhou", Endpoint: srv.Endpoint(), Protocol: "http",
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret,
	})
	if err != nil {
		b.Fatal(err)
	}
	o := executor.DefaultOptions()
	o.Now = clk.Now
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	exec := executor.New(o)
	r := backup.Request{DBInstanceId: "rm-bench", BackupMethod: "Physical", RegionId: "cn-hangzhou",
		Trigger:        backup.Trigger{Kind: "timer", Source: "nightly", DeliveryId: "2024-06-03T02:00:00Z"},
		IdempotencyKey: backup.Key("bench", "rm-bench"), CorrelationId: "bench"}
	ctx := context.Background()

	b.ReportAllocs()
	for b.Loop() {
		clk.Advance(25 * time.Hour)
		out := exec.Run(ctx, cli, r, executor.History{})
		if out.Status != backup.StatusAccepted {
			b.Fatalf("outcome %+v", out)
		}
	}
	b.StopTimer()
	if calls := len(srv.Calls()); calls != 3*b.N {
		b.Fatalf("%d RDS calls for %d runs, want 3 a run (%v)", calls, b.N, srv.Counts())
	}
}

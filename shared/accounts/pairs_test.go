package accounts

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// RDS counts quotas per account and region, so each (account, region) of
// a batch has workers of its own: while cn-hangzhou's asks wait (its
// CreateBackup answered Throttling.Api, its pacer and their backoffs hold
// them in sleeps that end only when cn-shanghai is done), the asks in
// cn-shanghai run and end. With one pool per account (four workers here,
// five asks in cn-hangzhou), cn-hangzhou's waiting asks would hold every
// worker and cn-shanghai's would never start.
func TestEachRegionOfAnAccountHasItsOwnWorkers(t *testing.T) {
	shanghaiDone := make(chan struct{})
	var mu sync.Mutex
	heldTooLong := false
	srv := rds.NewServer()
	t.Cleanup(func() { go srv.Close() })
	srv.InjectFault(rds.Fault{Action: "CreateBackup", RegionId: "cn-hangzhou", Code: "Throttling.Api", Times: 5})
	var reqs []backup.Request
	for _, id := range []string{"rm-hz1", "rm-hz2", "rm-hz3", "rm-hz4", "rm-hz5", "rm-sh1", "rm-sh2"} {
		region := "cn-hangzhou"
		if strings.HasPrefix(id, "rm-sh") {
			region = "cn-shanghai"
		}
		srv.AddInstance(rds.Instance{DBInstanceId: id, RegionId: region, Engine: "MySQL"})
		reqs = append(reqs, backup.Request{DBInstanceId: id, RegionId: region, BackupMethod: "Physical",
			IdempotencyKey: "k-" + id, CorrelationId: "c-" + id, AskedAt: time.Now(), Trigger: backup.Trigger{Kind: "timer"}})
	}
	cred := srv.Credential()
	cli, err := rdsclient.New(rdsclient.Config{RegionID: "cn-hangzhou", Endpoint: srv.Endpoint(), Protocol: "http",
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, ReadTimeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	o := executor.DefaultOptions()
	o.Concurrency, o.FreshFor = 2, time.Hour // four workers a group; no look between tries
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o.Sleep = func(ctx context.Context, d time.Duration) error { // only cn-hangzhou's asks wait
		select {
		case <-shanghaiDone:
		case <-time.After(10 * time.Second): // only when the test fails: no hang
			mu.Lock()
			heldTooLong = true
			mu.Unlock()
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	a := accts()
	a.Own, a.Exec = cli, executor.New(o)

	var once sync.Once
	left := 2
	outs := a.RunEach(context.Background(), reqs, func(int) executor.History { return executor.History{} },
		func(int) string { return "run" }, func(i int, o *backup.Outcome) {
			mu.Lock()
			defer mu.Unlock()
			if reqs[i].RegionId == "cn-shanghai" {
				if left--; left == 0 {
					once.Do(func() { close(shanghaiDone) })
				}
			}
		})
	if heldTooLong {
		t.Fatal("cn-shanghai's asks waited for the workers cn-hangzhou's asks held")
	}
	for i, o := range outs {
		if o.Status != backup.StatusAccepted {
			t.Errorf("%s: %s %+v", reqs[i].DBInstanceId, o.Status, o.Error)
		}
	}
}

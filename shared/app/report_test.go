package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// Through the App: a rejected outcome published by an invocation is noted
// as a problem of its instance in the ledger, and the report of the
// webhook's ReportReader lists it beside the instance's last Finished set
// from RDS; an instance RDS does not know carries RDS's code.
func TestReportThroughTheApp(t *testing.T) {
	h := newHarness(t, "webhook", "BACKUP_ROUTES=[]")
	_, env := h.withLedger(time.Minute)
	a := h.another("webhook", env...)
	ctx := h.invocation(a, "1-report", h.role.AccessKeyID, h.role.AccessKeySecret, h.role.SecurityToken)
	inv := invocationFrom(ctx)

	start := time.Now().Add(-time.Hour)
	h.rds.AddBackup("rm-a", rds.Backup{BackupStartTime: start.Add(-30 * time.Hour), BackupEndTime: start.Add(-29 * time.Hour)})
	h.rds.AddBackup("rm-a", rds.Backup{BackupMethod: "Logical", BackupStatus: "Failed", BackupStartTime: start, BackupEndTime: start.Add(time.Minute)})

	r := backup.Request{DBInstanceId: "rm-a", BackupMethod: "Physical", IdempotencyKey: "k1", CorrelationId: "c1", AskedAt: start}
	if err := inv.settle.PublishRejected(ctx, r, &backup.ErrorInfo{Code: backup.CodeReadOnly, Message: "read-only"}, &Summary{}); err != nil {
		t.Fatal(err)
	}
	// Accepted outcomes and outcomes without an instance are no problems.
	if err := inv.settle.Publish(ctx, backup.Outcome{Status: backup.StatusAccepted, Request: backup.Request{DBInstanceId: "rm-b", IdempotencyKey: "k2"}, Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := inv.settle.PublishRejected(ctx, backup.Request{}, &backup.ErrorInfo{Code: backup.CodeMalformed, Message: "bad"}, &Summary{}); err != nil {
		t.Fatal(err)
	}

	// One instance a call: concurrent reads would dial connections the
	// emulator's Close then waits 5 s for (report.Build's concurrency is
	// TestReportInstanceError's).
	var reps []webhook.InstanceReport
	for _, id := range []string{"rm-a", "rm-b", "rm-nosuch"} {
		rep, err := reporter{a}.Report(ctx, "", "", []string{id}, start.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, rep...)
	}
	if len(reps) != 3 {
		t.Fatalf("%+v", reps)
	}
	ra := reps[0]
	if ra.LastFinished == nil || ra.LastFinished.BackupMethod != "Physical" || !ra.LastFinished.BackupEndTime.Equal(start.Add(-29*time.Hour).Truncate(time.Second)) {
		t.Errorf("rm-a's last Finished = %+v", ra.LastFinished)
	}
	if len(ra.Problems) != 1 || ra.Problems[0].Status != "rejected" || ra.Problems[0].Code != backup.CodeReadOnly || ra.Problems[0].BackupMethod != "Physical" {
		t.Errorf("rm-a's problems = %+v", ra.Problems)
	}
	if rb := reps[1]; rb.LastFinished != nil || len(rb.Problems) != 0 || rb.Error != nil {
		t.Errorf("rm-b = %+v", rb)
	}
	if rn := reps[2]; rn.Error == nil || rn.Error.Code == "" {
		t.Errorf("rm-nosuch = %+v", rn)
	} else {
		t.Logf("rm-nosuch: %s", rn.Error.Code)
	}
	// A region the deployment does not allow is refused.
	if _, err := (reporter{a}).Report(ctx, "", "us-west-1", []string{"rm-a"}, start); err == nil {
		t.Error("us-west-1 was read")
	}
	// Without the ledger in the invocation nothing is read.
	if _, err := (reporter{a}).Report(context.Background(), "", "", []string{"rm-a"}, start); !errors.Is(err, errNoInvocation) {
		t.Errorf("outside an invocation: %v", err)
	}
}

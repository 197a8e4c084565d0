package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// fakeLister lists the sets whose start lies in [since, since+72h), as
// RecentBackups does, and records each since.
type fakeLister struct {
	mu     sync.Mutex
	sets   []rdsclient.BackupSet
	err    error
	sinces []time.Time
}

func (f *fakeLister) RecentBackups(_ context.Context, _, _ string, since time.Time) ([]rdsclient.BackupSet, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sinces = append(f.sinces, since)
	if f.err != nil {
		return nil, "", f.err
	}
	from := since.Truncate(time.Minute)
	var out []rdsclient.BackupSet
	for _, s := range f.sets {
		if !s.Start.Before(from) && !s.Start.After(from.Add(72*time.Hour)) {
			out = append(out, s)
		}
	}
	return out, "req", nil
}

type noProblems struct{}

func (noProblems) Problems(context.Context, string, string, time.Time, int) ([]ledger.Problem, error) {
	return nil, nil
}

// The last Finished backup: the newest window first, one call when it
// holds a set that succeeded; older windows down to 8 days otherwise;
// failed sets never count.
func TestLastFinishedWindows(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 30, 0, time.UTC)
	set := func(id, status string, end time.Duration) rdsclient.BackupSet {
		return rdsclient.BackupSet{BackupId: id, Method: "Physical", Status: status, Start: now.Add(-end - 10*time.Minute), End: now.Add(-end)}
	}
	for _, c := range []struct {
		name  string
		sets  []rdsclient.BackupSet
		want  string
		calls int
	}{
		{"recent", []rdsclient.BackupSet{set("1", "Success", 30*time.Hour), set("2", "Success", 2*time.Hour), set("3", "Failed", time.Hour)}, "2", 1},
		{"started this very minute", []rdsclient.BackupSet{{BackupId: "4", Method: "Logical", Status: "Success", Start: now.Add(-20 * time.Second), End: now}}, "4", 1},
		{"five days ago", []rdsclient.BackupSet{set("5", "Success", 120*time.Hour), set("6", "Failed", time.Hour)}, "5", 2},
		{"eight days ago", []rdsclient.BackupSet{set("7", "Success", 190*time.Hour)}, "7", 3},
		{"none", []rdsclient.BackupSet{set("8", "Failed", time.Hour)}, "", 3},
	} {
		f := &fakeLister{sets: c.sets}
		got, err := lastFinished(context.Background(), f, "", "rm-a", now)
		if err != nil {
			t.Fatal(err)
		}
		id := ""
		if got != nil {
			id = got.BackupId
		}
		if id != c.want || len(f.sinces) != c.calls {
			t.Errorf("%s: got %q in %d calls, want %q in %d", c.name, id, len(f.sinces), c.want, c.calls)
		}
	}
}

// An instance RDS cannot read carries the error; the others are read.
func TestReportInstanceError(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Now()
	f := &fakeLister{err: &rdsclient.APIError{Code: "Throttling.User", Message: "slow down"}}
	reps := buildReport(context.Background(), log, f, noProblems{}, "", "cn-hangzhou", []string{"rm-a", "rm-b"}, now.Add(-time.Hour), now)
	if len(reps) != 2 || reps[0].DBInstanceId != "rm-a" || reps[1].DBInstanceId != "rm-b" {
		t.Fatalf("%+v", reps)
	}
	for _, r := range reps {
		if r.Error == nil || r.Error.Code != "Throttling.User" || r.LastFinished != nil || r.Problems == nil {
			t.Errorf("%+v", r)
		}
	}
}

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
	// emulator's Close then waits 5 s for (buildReport's concurrency is
	// TestReportInstanceError's).
	var reps []webhook.InstanceReport
	for _, id := range []string{"rm-a", "rm-b", "rm-nosuch"} {
		rep, err := reporter{a}.Report(ctx, "", []string{id}, start.Add(-time.Minute))
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
	if _, err := (reporter{a}).Report(ctx, "us-west-1", []string{"rm-a"}, start); err == nil {
		t.Error("us-west-1 was read")
	}
	// Without the ledger in the invocation nothing is read.
	if _, err := (reporter{a}).Report(context.Background(), "", []string{"rm-a"}, start); !errors.Is(err, errNoInvocation) {
		t.Errorf("outside an invocation: %v", err)
	}
}

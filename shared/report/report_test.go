package report

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
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
	reps := Build(context.Background(), log, f, noProblems{}, "", "cn-hangzhou", []string{"rm-a", "rm-b"}, now.Add(-time.Hour), now)
	if len(reps) != 2 || reps[0].DBInstanceId != "rm-a" || reps[1].DBInstanceId != "rm-b" {
		t.Fatalf("%+v", reps)
	}
	for _, r := range reps {
		if r.Error == nil || r.Error.Code != "Throttling.User" || r.LastFinished != nil || r.Problems == nil {
			t.Errorf("%+v", r)
		}
	}
}

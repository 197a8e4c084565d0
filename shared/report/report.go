package report

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// lookback is how far back the report looks for an instance's last
// Finished backup; window is the span of one DescribeBackups
// (rdsclient.RecentBackups lists the sets that started within 72 h of its
// since), so the windows are read newest first and the first that holds a
// set that succeeded ends the search: one call for an instance backed up
// in the last 3 days, at most 3.
const (
	lookback = 8 * 24 * time.Hour
	window   = 72 * time.Hour
	// ahead puts the newest window's end past now: RecentBackups
	// truncates its since to the minute and ends 72 h later, which would
	// leave out a set started in the current minute.
	ahead = 2 * time.Minute
	// concurrency bounds the instances read at once.
	concurrency = 4
)

// BackupLister is what the report reads of RDS (rdsclient.Client).
type BackupLister interface {
	RecentBackups(ctx context.Context, region, id string, since time.Time) ([]rdsclient.BackupSet, string, error)
}

// ProblemLister is what the report reads of the ledger (ledger.Ledger).
type ProblemLister interface {
	Problems(ctx context.Context, region, instance string, since time.Time, limit int) ([]ledger.Problem, error)
}

// Build reads each instance (at most concurrency at once): its last
// Finished backup from rds, its problems from the ledger (in ledgerRegion). An
// instance that could not be read carries the error.
func Build(ctx context.Context, log *slog.Logger, rds BackupLister, problems ProblemLister, region, ledgerRegion string,
	instances []string, since, now time.Time) []webhook.InstanceReport {
	out := make([]webhook.InstanceReport, len(instances))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, id := range instances {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = reportInstance(ctx, log, rds, problems, region, ledgerRegion, id, since, now)
		}()
	}
	wg.Wait()
	return out
}

func reportInstance(ctx context.Context, log *slog.Logger, rds BackupLister, problems ProblemLister, region, ledgerRegion, id string,
	since, now time.Time) webhook.InstanceReport {
	rep := webhook.InstanceReport{DBInstanceId: id, Problems: []webhook.ReportProblem{}}
	ps, err := problems.Problems(ctx, ledgerRegion, id, since, ledger.DefaultProblemLimit)
	if err != nil {
		log.WarnContext(ctx, "report: the ledger's problems could not be read", slog.String("dbInstanceId", id), slog.String("error", err.Error()))
		rep.Error = &webhook.ReportError{Code: errorCode(err, "LedgerUnavailable"), Message: "the ask ledger could not be read; try again"}
	}
	for _, p := range ps {
		rep.Problems = append(rep.Problems, webhook.ReportProblem{Time: p.At, Status: p.Status, Code: p.Code, BackupMethod: p.BackupMethod})
	}
	last, err := lastFinished(ctx, rds, region, id, now)
	if err != nil {
		log.WarnContext(ctx, "report: the instance's backups could not be read", slog.String("dbInstanceId", id), slog.String("error", err.Error()))
		if rep.Error == nil {
			rep.Error = &webhook.ReportError{Code: errorCode(err, "InternalError"), Message: "RDS could not list the instance's backups (DescribeBackups); see the webhook function's log"}
		}
		return rep
	}
	rep.LastFinished = last
	return rep
}

// lastFinished is the instance's backup set that succeeded with the
// latest BackupEndTime in the last lookback, nil when none: the
// windows newest first, the first that holds one ends the
// search.
func lastFinished(ctx context.Context, rds BackupLister, region, id string, now time.Time) (*webhook.FinishedBackup, error) {
	for end := now.Add(ahead); now.Sub(end) < lookback; end = end.Add(-window) {
		sets, _, err := rds.RecentBackups(ctx, region, id, end.Add(-window))
		if err != nil {
			return nil, err
		}
		var best *rdsclient.BackupSet
		for i, s := range sets {
			if s.Status == "Success" && !s.End.IsZero() && (best == nil || s.End.After(best.End)) {
				best = &sets[i]
			}
		}
		if best != nil {
			return &webhook.FinishedBackup{BackupId: best.BackupId, BackupMethod: best.Method, BackupEndTime: best.End.UTC()}, nil
		}
	}
	return nil, nil
}

// errorCode is err's service code (an RDS or Tablestore code), else def.
func errorCode(err error, def string) string {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) && c.ErrorCode() != "" {
		return c.ErrorCode()
	}
	return def
}

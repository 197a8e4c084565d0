package executor

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// RunAll runs every request, Options.Concurrency at a time, and returns the
// outcomes in input order. history may be nil (no history). All runs share
// the executor's throttle gate and its bound on RDS calls in flight.
func (e *Executor) RunAll(ctx context.Context, reqs []backup.Request, history func(i int) History) []backup.Outcome {
	out := make([]backup.Outcome, len(reqs))
	workers := min(e.o.Concurrency, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				var h History
				if history != nil {
					h = history(i)
				}
				out[i] = e.Run(ctx, reqs[i], h)
			}
		}()
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// ExpandPageSize is the DescribeDBInstances page size Expand uses (the
// largest the API allows).
const ExpandPageSize = 100

// Expand lists every instance sel picks (DescribeDBInstances with its Tags
// and Engine, 100 a page, every page: 500 instances are 5 calls) and
// returns one Spec per instance: Spec{DBInstanceId: id, RegionId:
// sel.RegionId}.Over(defaults). Each page is retried by class like any call;
// an error that cannot be retried, or retries that run out, end it.
func (e *Executor) Expand(ctx context.Context, sel backup.Selector, defaults backup.Spec) ([]backup.Spec, error) {
	var specs []backup.Spec
	seen := map[string]bool{}
	total := -1
	for page := 1; total < 0 || len(seen) < total; page++ {
		var ids []string
		var n int
		err := e.retrying(ctx, rdsclient.ActionDescribeDBInstances, func(ctx context.Context) (string, error) {
			var reqID string
			var err error
			ids, n, reqID, err = e.rds.ListInstances(ctx, sel, page, ExpandPageSize)
			return reqID, err
		})
		if err != nil {
			return specs, fmt.Errorf("executor: expanding %s page %d: %w", describeSelector(sel), page, err)
		}
		total = n
		fresh := 0
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			fresh++
			specs = append(specs, backup.Spec{DBInstanceId: id, RegionId: sel.RegionId}.Over(defaults))
		}
		if len(ids) < ExpandPageSize || fresh == 0 {
			break // the last page (or a server that ignores paging)
		}
	}
	e.log.InfoContext(ctx, "expanded selector", slog.String("selector", describeSelector(sel)), slog.Int("instances", len(specs)))
	return specs, nil
}

func describeSelector(sel backup.Selector) string {
	return fmt.Sprintf("region %q engine %q tags %v", sel.RegionId, sel.Engine, sel.Tags)
}

// JobStatus reads one backup job (DescribeBackupTasks with BackupJobId),
// for the status endpoint and the job tracker. found is false when RDS does
// not list the job. When the job is Finished and RDS left BackupId empty,
// one DescribeBackups call over the last 24 hours names it if exactly one
// manual backup set succeeded in that time (otherwise it stays empty rather
// than be guessed).
func (e *Executor) JobStatus(ctx context.Context, region, instance, jobID string) (backup.Job, bool, error) {
	var j backup.Job
	var found bool
	err := e.once(ctx, func(ctx context.Context) (string, error) {
		var reqID string
		var err error
		j, found, reqID, err = e.rds.Job(ctx, region, instance, jobID)
		return reqID, err
	})
	if err != nil || !found || j.BackupStatus != "Finished" || j.BackupId != "" {
		return j, found, err
	}
	var sets []rdsclient.BackupSet
	err = e.once(ctx, func(ctx context.Context) (string, error) {
		var reqID string
		var err error
		sets, reqID, err = e.rds.RecentBackups(ctx, region, instance, e.o.Now().Add(-24*time.Hour))
		return reqID, err
	})
	if err != nil {
		e.log.WarnContext(ctx, "could not name the backup set of a finished job", slog.String("instance", instance),
			slog.String("backupJobId", jobID), slog.String("error", err.Error()))
		return j, found, nil
	}
	var match []rdsclient.BackupSet
	for _, s := range sets {
		if s.Mode == "Manual" && s.Status == "Success" {
			match = append(match, s)
		}
	}
	if len(match) == 1 {
		j.BackupId = match[0].BackupId
	}
	return j, found, nil
}

// once makes one RDS call inside the concurrency bound and the gate.
func (e *Executor) once(ctx context.Context, f func(ctx context.Context) (string, error)) error {
	if err := e.gate.Pass(ctx, e.o.Sleep); err != nil {
		return err
	}
	if err := e.acquire(ctx); err != nil {
		return err
	}
	_, err := f(ctx)
	e.release()
	switch {
	case err == nil:
		e.gate.Succeeded()
	case retry.IsThrottle(err):
		e.gate.Throttled()
	}
	return err
}

// retrying makes one RDS call, retried by class (transient and state-wait)
// up to MaxAttemptsPerInvocation times inside the context's deadline minus
// DeadlineMargin.
func (e *Executor) retrying(ctx context.Context, action string, f func(ctx context.Context) (string, error)) error {
	var stopAt time.Time
	if dl, ok := ctx.Deadline(); ok {
		stopAt = e.o.Now().Add(time.Until(dl) - e.o.DeadlineMargin)
	}
	transientN, stateN := 0, 0
	for attempt := 1; ; attempt++ {
		err := e.once(ctx, f)
		if err == nil {
			return nil
		}
		cl := retry.Classify(err)
		e.log.WarnContext(ctx, "attempt failed", slog.String("action", action), slog.Int("attempt", attempt),
			slog.String("code", apiCode(err)), slog.String("class", string(cl)), slog.String("error", err.Error()))
		if !cl.Retryable() || attempt >= e.o.MaxAttemptsPerInvocation {
			return err
		}
		var d time.Duration
		if cl == retry.StateWait {
			d = e.policy.Delay(cl, stateN)
			stateN++
		} else {
			d = e.policy.Delay(cl, transientN)
			transientN++
		}
		d = max(d, e.gate.Wait())
		if !stopAt.IsZero() && e.o.Now().Add(d).After(stopAt) {
			return err
		}
		if serr := e.o.Sleep(ctx, d); serr != nil {
			return err
		}
	}
}

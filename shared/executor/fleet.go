package executor

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// RunAll runs the asks, up to twice Options.Concurrency at once (the
// adaptive limit decides how many RDS calls are really in flight; the
// others meanwhile make their ledger calls), with the invocation's client
// rds, and returns their outcomes in input order.
func (e *Executor) RunAll(ctx context.Context, rds RDS, reqs []backup.Request, history func(i int) History) []backup.Outcome {
	return e.RunEach(ctx, rds, reqs, history, nil)
}

// RunEach is RunAll, calling done (when not nil) with each outcome as soon
// as its ask ended, in the worker that ran it (so at once with the others):
// the caller settles it there, and may change it.
//
// Asks start as their account and region can take them (admission): at
// most twice the adaptive limit's calls at once, and, once CreateBackup's
// quota paces the pair (retry.Pacer), about two seconds' worth of its
// pace. An ask started long before its turn would claim its row, mark its
// send and wait in the pacer for seconds, while the first asks of the
// batch's other pairs waited behind its ledger writes (make bench, fleet
// across accounts: 100 asks of a pair at once spread the pairs' first
// CreateBackups over 4.4 s; admitted, over 1.5 s).
func (e *Executor) RunEach(ctx context.Context, rds RDS, reqs []backup.Request, history func(i int) History, done func(i int, o *backup.Outcome)) []backup.Outcome {
	out := make([]backup.Outcome, len(reqs))
	workers := min(2*e.o.Concurrency, len(reqs))
	next := make(chan int)
	adm := map[string]*admission{}
	admOf := func(r backup.Request) *admission {
		k := r.AccountId + "/" + r.RegionId
		a, ok := adm[k]
		if !ok {
			a = e.newAdmission(r.AccountId, r.RegionId)
			adm[k] = a
		}
		return a
	}
	for _, r := range reqs {
		admOf(r)
	}
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
				out[i] = e.Run(ctx, rds, reqs[i], h)
				if done != nil {
					done(i, &out[i])
				}
				admOf(reqs[i]).end()
			}
		}()
	}
	for i := range reqs {
		admOf(reqs[i]).wait(ctx)
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// minPacedAsks is the fewest asks of a paced pair admitted at once.
const minPacedAsks = 8

// admission bounds the asks of one account and region running at once
// (RunEach).
type admission struct {
	limit  func() int // how many may run now
	mu     sync.Mutex
	active int
	freed  chan struct{} // closed (and replaced) when an ask ends
}

func (e *Executor) newAdmission(account, region string) *admission {
	fl := e.flowFor(account, region)
	pc := fl.pacer(region, rdsclient.ActionCreateBackup, e.o.Now)
	return &admission{freed: make(chan struct{}), limit: func() int {
		if r, paced := pc.Rate(); paced {
			return max(minPacedAsks, int(math.Ceil(2*r)))
		}
		l, _ := fl.limit.stats()
		return 2 * l
	}}
}

// wait returns when one more ask may start (at once when ctx ends: the ask
// then ends at once, deferred, and gets its outcome).
func (a *admission) wait(ctx context.Context) {
	for {
		ok, freed := a.try(ctx.Err() != nil)
		if ok {
			return
		}
		select {
		case <-freed:
		case <-ctx.Done():
		}
	}
}

// try starts one more ask if the limit (or force) lets it; when not, freed
// is closed as soon as an ask ends.
func (a *admission) try(force bool) (ok bool, freed <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.active < a.limit() || force {
		a.active++
		return true, nil
	}
	return false, a.freed
}

// end says an ask ended.
func (a *admission) end() {
	a.mu.Lock()
	a.active--
	close(a.freed)
	a.freed = make(chan struct{})
	a.mu.Unlock()
}

// ExpandPageSize is the DescribeDBInstances page size Expand uses (the
// largest the API allows).
const ExpandPageSize = 100

// Target is one instance a selector picked, with what the listing says of
// it (DESIGN.md §2: a fan-out item's rules need no read of their own).
type Target struct {
	Spec  backup.Spec
	Facts backup.InstanceFacts
}

// Expand lists the instances sel picks (DescribeDBInstances with its Tags
// and Engine, 100 a page, every page: 500 instances are 5 calls), each as
// Spec{DBInstanceId: id, RegionId: sel.RegionId}.Over(defaults) with the
// listing's facts. Failed pages are retried by class inside the
// invocation's stop time; the error says the selector could not be read.
func (e *Executor) Expand(ctx context.Context, rds RDS, sel backup.Selector, defaults backup.Spec) ([]Target, error) {
	var out []Target
	seen := map[string]bool{}
	for page := 1; ; page++ {
		targets, more, err := e.ExpandPage(ctx, rds, sel, defaults, page)
		if err != nil {
			return out, err
		}
		fresh := 0
		for _, t := range targets {
			if !seen[t.Facts.DBInstanceId] {
				seen[t.Facts.DBInstanceId] = true
				fresh++
				out = append(out, t)
			}
		}
		if !more || fresh == 0 {
			break // the last page (or a server that ignores paging)
		}
	}
	e.log.InfoContext(ctx, "expanded selector", slog.String("selector", describeSelector(sel)), slog.Int("instances", len(out)))
	return out, nil
}

// ExpandPage lists one page (1-based, ExpandPageSize instances) of the
// instances sel picks, each as a Target, and whether more pages follow.
// The page is retried by class inside the invocation's stop time.
func (e *Executor) ExpandPage(ctx context.Context, rds RDS, sel backup.Selector, defaults backup.Spec, page int) ([]Target, bool, error) {
	out, pages, err := e.ExpandPageOf(ctx, rds, sel, defaults, page)
	return out, err == nil && len(out) == ExpandPageSize && page < pages, err
}

// ExpandPageOf is ExpandPage, saying how many pages the listing has in all
// (from its TotalRecordCount), so that the rest can be read in parallel.
func (e *Executor) ExpandPageOf(ctx context.Context, rds RDS, sel backup.Selector, defaults backup.Spec, page int) ([]Target, int, error) {
	t := &retrier{e: e, region: sel.RegionId, log: e.log, logCtx: ctx}
	ctx, cancel, ok := t.bound(ctx)
	defer cancel()
	if !ok {
		return nil, 0, fmt.Errorf("executor: expanding %s: %w", describeSelector(sel), context.DeadlineExceeded)
	}
	var items []backup.InstanceFacts
	var total int
	err := t.retrying(ctx, rdsclient.ActionDescribeDBInstances, func(ctx context.Context) (string, error) {
		var reqID string
		var err error
		items, total, reqID, err = rds.ListInstances(ctx, sel, page, ExpandPageSize)
		return reqID, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("executor: expanding %s page %d: %w", describeSelector(sel), page, err)
	}
	out := make([]Target, 0, len(items))
	for _, f := range items {
		out = append(out, Target{Spec: backup.Spec{DBInstanceId: f.DBInstanceId, RegionId: sel.RegionId}.Over(defaults), Facts: f})
	}
	return out, (total + ExpandPageSize - 1) / ExpandPageSize, nil
}

// describeSelector names a selector in a log line or an error: every part
// clipped and quoted (a caller wrote it).
func describeSelector(sel backup.Selector) string {
	keys := make([]string, 0, len(sel.Tags))
	for k := range sel.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tags := make([]string, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, backup.Quote(k, 48)+":"+backup.Quote(sel.Tags[k], 48))
	}
	if len(tags) > backup.MaxSelectorTags {
		tags = append(tags[:backup.MaxSelectorTags], "…")
	}
	return fmt.Sprintf("region %s engine %s tags [%s]", backup.Quote(sel.RegionId, 48), backup.Quote(sel.Engine, 48), strings.Join(tags, " "))
}

// JobStatus reads one job for the status endpoint and the job tracker,
// with the invocation's client rds; a Finished job without a BackupId gets
// one from one DescribeBackups call when exactly one manual set succeeded
// in the last 24 hours.
func (e *Executor) JobStatus(ctx context.Context, rds RDS, region, instance, jobID string) (backup.Job, bool, error) {
	t := &retrier{e: e, region: region, log: e.log, logCtx: ctx}
	ctx, cancel, ok := t.bound(ctx)
	defer cancel()
	if !ok {
		return backup.Job{}, false, context.DeadlineExceeded
	}
	var j backup.Job
	var found bool
	_, err := t.call(ctx, rdsclient.ActionDescribeBackupTasks, func(ctx context.Context) (string, error) {
		var reqID string
		var err error
		j, found, reqID, err = rds.Job(ctx, region, instance, jobID)
		return reqID, err
	})
	if err != nil || !found || j.BackupStatus != "Finished" || j.BackupId != "" {
		return j, found, err
	}
	var sets []rdsclient.BackupSet
	_, err = t.call(ctx, rdsclient.ActionDescribeBackups, func(ctx context.Context) (string, error) {
		var reqID string
		var err error
		sets, reqID, err = rds.RecentBackups(ctx, region, instance, e.o.Now().Add(-24*time.Hour))
		return reqID, err
	})
	if err != nil {
		e.log.WarnContext(ctx, "could not name the backup set of a finished job", slog.String("dbInstanceId", clip(instance)),
			slog.String("backupJobId", clip(jobID)), slog.String("error", clipMessage(err.Error())))
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

// Reader binds JobStatus to an invocation's client, for the tracker and the
// status endpoint.
func (e *Executor) Reader(rds RDS) JobReader { return JobReader{e, rds} }

// JobReader is JobStatus with a bound client.
type JobReader struct {
	e   *Executor
	rds RDS
}

// JobStatus reads one job (Executor.JobStatus).
func (r JobReader) JobStatus(ctx context.Context, region, instance, jobID string) (backup.Job, bool, error) {
	return r.e.JobStatus(ctx, r.rds, region, instance, jobID)
}

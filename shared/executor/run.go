package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// Codes of outcomes the executor decides itself (the API's codes are used
// everywhere else).
const (
	// CodeCanceled: the invocation's context ended; the request is deferred.
	CodeCanceled = "Canceled"
	// CodeDeadlineNear: too little of the invocation was left to start;
	// the request is deferred.
	CodeDeadlineNear = "DeadlineNear"
	// CodeBudgetExhausted: the request's life budget (Options.Budget) is
	// spent; it fails. The message names the last error.
	CodeBudgetExhausted = "RetryBudgetExhausted"
)

// TerminalStatuses are instance statuses that will not turn into Running
// by waiting: such an instance is rejected (IncorrectDBInstanceState). Any
// other status but Running (Rebooting, DBInstanceClassChanging, Restoring,
// TRANSING...) is waited out with the state-wait backoff, then deferred.
var TerminalStatuses = map[string]string{
	"Stopped":  "stopped by its owner; it is started on demand only",
	"Stopping": "being stopped",
	"Deleting": "being released",
	"Released": "released",
	"Locked":   "locked",
}

// Run takes one request to an outcome. Steps (DESIGN.md §2):
//
//  1. a context that has already ended → deferred (CodeCanceled);
//  2. backup.Validate → rejected, no RDS call;
//  3. the life budget spent → failed, every attempt listed;
//  4. preflight, concurrently: DescribeDBInstanceAttribute and
//     DescribeBackupTasks, plus DescribeDatabases when the request names
//     databases or is Logical (unless cached), plus one DescribeBackups when
//     it matters (Options.RecentCheck);
//  5. an ongoing job, or a backup of the same method started within
//     CoalesceWindow → coalesced with its id;
//  6. an instance in a transitional status → waited out (state-wait);
//     backup.CheckInstance → rejected with the API's code;
//  7. backup.Resolve, then CreateBackup, retried by class inside the
//     deadline. BackupJobExists → the running job is looked up → coalesced.
//
// When time (the context's deadline minus DeadlineMargin) or
// MaxAttemptsPerInvocation runs out while the error is still retryable, the
// outcome is deferred with NotBefore. Every failed call and every
// CreateBackup is recorded as an attempt.
func (e *Executor) Run(ctx context.Context, r backup.Request, h History) backup.Outcome {
	rn := &run{
		logCtx:   ctx,
		e:        e,
		r:        r,
		h:        h,
		attempts: slices.Clone(h.Attempts),
		log: e.log.With(slog.String("instance", r.DBInstanceId), slog.String("correlationId", r.CorrelationId),
			slog.String("idempotencyKey", r.IdempotencyKey)),
	}
	if rn.attempts == nil {
		rn.attempts = []backup.Attempt{}
	}
	o := rn.do(ctx)
	level := slog.LevelInfo
	if o.Status == backup.StatusFailed {
		level = slog.LevelWarn
	}
	attrs := []any{slog.String("status", string(o.Status)), slog.String("backupJobId", o.BackupJobId),
		slog.String("rdsRequestId", o.RequestId), slog.Int("attempts", len(o.Attempts))}
	if o.Error != nil {
		attrs = append(attrs, slog.String("code", o.Error.Code))
	}
	rn.log.Log(context.WithoutCancel(ctx), level, "backup outcome", attrs...)
	return o
}

// run is one Run's state.
type run struct {
	e        *Executor
	r        backup.Request
	h        History
	attempts []backup.Attempt
	log      *slog.Logger
	logCtx   context.Context // the invocation's context, for the log lines' request id

	stopAt     time.Time // zero: no deadline
	calls      int       // attempts recorded in this invocation
	transientN int       // retries so far, per backoff
	stateN     int
	ambiguous  bool // a CreateBackup may have reached RDS without our knowing
}

func (rn *run) now() time.Time { return rn.e.o.Now() }

func (rn *run) do(ctx context.Context) backup.Outcome {
	r := rn.r
	if err := ctx.Err(); err != nil {
		return rn.deferred(rn.now(), canceledInfo(err), "the invocation ended before the request was started")
	}
	if vs := backup.Validate(r); len(vs) > 0 {
		return rn.rejected(backup.ErrorFromViolation(vs.First()), "")
	}
	if o, over := rn.overBudget(nil); over {
		return o
	}
	if dl, ok := ctx.Deadline(); ok {
		// The deadline is wall-clock time; the rest of the run reads the
		// injected clock, so carry the remaining time over.
		rn.stopAt = rn.now().Add(time.Until(dl) - rn.e.o.DeadlineMargin)
		if !rn.now().Before(rn.stopAt) {
			return rn.deferred(rn.now(), &backup.ErrorInfo{Code: CodeDeadlineNear, Message: "too little time left in this invocation to start", Retryable: true},
				"deadline near: deferred before any call")
		}
	}
	unlock, err := rn.e.locks.lock(ctx, cacheKey(r.RegionId, r.DBInstanceId))
	if err != nil {
		return rn.deferred(rn.now(), canceledInfo(err), "the invocation ended while another request for the instance ran")
	}
	defer unlock()

	for {
		pf, o := rn.preflight(ctx)
		if o != nil {
			return *o
		}
		o, again := rn.decide(ctx, pf)
		switch {
		case o != nil:
			return *o
		case again:
			continue
		}
		return rn.create(ctx, pf)
	}
}

// preflightResult is what preflight learned.
type preflightResult struct {
	facts     backup.InstanceFacts
	factsReq  string
	jobs      []backup.Job
	jobsReq   string
	sets      []rdsclient.BackupSet
	setsReq   string
	setsKnown bool
}

// needsRecent says whether DescribeBackups is read in preflight.
func (rn *run) needsRecent() bool {
	switch rn.e.o.RecentCheck {
	case RecentAlways:
		return true
	case RecentNever:
		return false
	}
	h := rn.h
	return len(h.Attempts) > 0 || h.RetryCount > 0 || h.CallerKey || RedeliveringKinds[rn.r.Trigger.Kind]
}

func (rn *run) needsDatabases() bool {
	return len(rn.r.DBName) > 0 || rn.r.Method() == backup.MethodLogical
}

// since is where DescribeBackups starts: the earlier of the start of today
// (QuotaLocation) and now − CoalesceWindow.
func (rn *run) since(now time.Time) time.Time {
	today := startOfDay(now, rn.e.o.QuotaLocation)
	if w := now.Add(-rn.e.o.CoalesceWindow); w.Before(today) {
		return w
	}
	return today
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// preflight reads the facts, retrying transient failures of the calls that
// failed (state-wait failures make it start over). It returns an outcome
// when the request ends here.
func (rn *run) preflight(ctx context.Context) (preflightResult, *backup.Outcome) {
	r := rn.r
	var (
		pf                           preflightResult
		haveFacts, haveJobs, haveDBs bool
		haveSets                     = !rn.needsRecent()
		dbs                          []string
	)
	if rn.needsDatabases() {
		if cached, ok := rn.e.cache.databases(r.RegionId, r.DBInstanceId, r, rn.now()); ok {
			dbs, haveDBs = cached, true
		}
	} else {
		haveDBs = true
	}
	for {
		if o := rn.passGate(ctx); o != nil {
			return pf, o
		}
		type result struct {
			action string
			reqID  string
			err    error
			start  time.Time
		}
		var (
			mu      sync.Mutex
			results []result
			wg      sync.WaitGroup
		)
		launch := func(action string, f func(ctx context.Context) (string, error)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := rn.now()
				reqID, err := rn.call(ctx, f)
				mu.Lock()
				results = append(results, result{action, reqID, err, start})
				mu.Unlock()
			}()
		}
		now := rn.now()
		if !haveFacts {
			launch(rdsclient.ActionDescribeDBInstanceAttribute, func(ctx context.Context) (string, error) {
				f, reqID, err := rn.e.rds.DescribeInstance(ctx, r.RegionId, r.DBInstanceId)
				if err == nil {
					pf.facts, pf.factsReq, haveFacts = f, reqID, true
				}
				return reqID, err
			})
		}
		if !haveJobs {
			launch(rdsclient.ActionDescribeBackupTasks, func(ctx context.Context) (string, error) {
				jobs, reqID, err := rn.e.rds.OngoingJobs(ctx, r.RegionId, r.DBInstanceId)
				if err == nil {
					pf.jobs, pf.jobsReq, haveJobs = jobs, reqID, true
				}
				return reqID, err
			})
		}
		if !haveDBs {
			launch(rdsclient.ActionDescribeDatabases, func(ctx context.Context) (string, error) {
				names, reqID, err := rn.e.rds.Databases(ctx, r.RegionId, r.DBInstanceId)
				if err == nil {
					dbs, haveDBs = names, true
				}
				return reqID, err
			})
		}
		if !haveSets {
			since := rn.since(now)
			launch(rdsclient.ActionDescribeBackups, func(ctx context.Context) (string, error) {
				sets, reqID, err := rn.e.rds.RecentBackups(ctx, r.RegionId, r.DBInstanceId, since)
				if err == nil {
					pf.sets, pf.setsReq, pf.setsKnown, haveSets = sets, reqID, true, true
				}
				return reqID, err
			})
		}
		wg.Wait()

		// Record the failures; the worst class decides.
		worst := retry.Class("")
		var worstErr error
		var worstReq string
		slices.SortFunc(results, func(a, b result) int { return strings.Compare(a.action, b.action) })
		for _, res := range results {
			if res.err == nil {
				continue
			}
			cl := rn.record(res.start, res.action, res.reqID, res.err)
			if rank(cl) > rank(worst) {
				worst, worstErr, worstReq = cl, res.err, res.reqID
			}
		}
		switch worst {
		case "":
			pf.facts.OngoingJobs = pf.jobs
			if rn.needsDatabases() {
				pf.facts.Databases, pf.facts.DatabasesKnown = dbs, true
			}
			rn.e.cache.store(r.RegionId, pf.facts, rn.now())
			return pf, nil
		case retry.Canceled:
			o := rn.deferred(rn.now(), canceledInfo(worstErr), "the invocation ended during preflight")
			return pf, &o
		case retry.Terminal:
			info := errorInfo(worstErr, false)
			if info.Code == backup.CodeInstanceNotFound || info.Code == "InvalidDBInstanceName.NotFound" {
				o := rn.rejected(info, requestID(worstErr, worstReq))
				return pf, &o
			}
			o := rn.failed(info, requestID(worstErr, worstReq), "preflight failed")
			return pf, &o
		case retry.StateWait:
			haveFacts, haveJobs = false, false
		}
		if o := rn.wait(ctx, worst, errorInfo(worstErr, true)); o != nil {
			return pf, o
		}
	}
}

func rank(c retry.Class) int {
	switch c {
	case retry.Transient:
		return 1
	case retry.StateWait:
		return 2
	case retry.Terminal:
		return 3
	case retry.Canceled:
		return 4
	}
	return 0
}

// decide applies what preflight learned. It returns the request's outcome,
// or again (after waiting) to run preflight again, or neither to go on to
// CreateBackup.
func (rn *run) decide(ctx context.Context, pf preflightResult) (o *backup.Outcome, again bool) {
	r, f := rn.r, pf.facts
	coalescing := rn.e.o.CoalesceWindow > 0
	var ongoing *backup.Job
	for i := range pf.jobs {
		if !pf.jobs[i].Terminal() {
			ongoing = &pf.jobs[i]
			break
		}
	}
	if coalescing && ongoing != nil {
		o := rn.coalescedJob(*ongoing, pf.jobsReq, "preflight")
		return &o, false
	}
	now := rn.now()
	if pf.setsKnown {
		today := startOfDay(now, rn.e.o.QuotaLocation)
		n := 0
		for _, s := range pf.sets {
			// The quota is on the backups users create: manual sets count,
			// the automatic policy's do not.
			if !s.Start.Before(today) && s.Mode != "Automated" {
				n++
			}
		}
		f.BackupsToday, f.BackupsTodayKnown = n, true
		if coalescing {
			if s, ok := rn.recentSet(pf.sets, now); ok {
				o := rn.coalescedSet(s, pf.setsReq, now)
				return &o, false
			}
		}
	}
	if f.Status != "Running" {
		if _, final := TerminalStatuses[f.Status]; !final && f.Status != "" {
			info := &backup.ErrorInfo{Code: backup.CodeInstanceState, Retryable: true,
				Message: fmt.Sprintf("DBInstanceId %q: instance is %s; waiting for Running", r.DBInstanceId, f.Status)}
			rn.recordInfo(now, rdsclient.ActionDescribeDBInstanceAttribute, pf.factsReq, info, retry.StateWait)
			return rn.wait(ctx, retry.StateWait, info), true
		}
	}
	if !coalescing && ongoing != nil && f.Status == "Running" {
		info := &backup.ErrorInfo{Code: backup.CodeJobExists, Retryable: true,
			Message: fmt.Sprintf("DBInstanceId %q: backup job %s is %s; coalescing is off, waiting for it to end", r.DBInstanceId, ongoing.BackupJobId, ongoing.BackupStatus)}
		rn.recordInfo(now, rdsclient.ActionDescribeBackupTasks, pf.jobsReq, info, retry.StateWait)
		return rn.wait(ctx, retry.StateWait, info), true
	}
	if vs := backup.CheckInstance(r, f); len(vs) > 0 {
		o := rn.rejected(backup.ErrorFromViolation(vs.First()), pf.factsReq)
		return &o, false
	}
	return nil, false
}

// recentSet finds a backup set of the request's method that started within
// CoalesceWindow and did not fail.
func (rn *run) recentSet(sets []rdsclient.BackupSet, now time.Time) (rdsclient.BackupSet, bool) {
	from := now.Add(-rn.e.o.CoalesceWindow)
	var best rdsclient.BackupSet
	found := false
	for _, s := range sets {
		if s.Method != rn.r.Method() || s.Status == "Failed" || s.Start.Before(from) || s.Start.After(now.Add(time.Minute)) {
			continue
		}
		if !found || s.Start.After(best.Start) {
			best, found = s, true
		}
	}
	return best, found
}

// create resolves the request and sends CreateBackup, retrying by class.
func (rn *run) create(ctx context.Context, pf preflightResult) backup.Outcome {
	req := backup.Resolve(rn.r, pf.facts)
	coalescing := rn.e.o.CoalesceWindow > 0
	for {
		if o := rn.passGate(ctx); o != nil {
			return *o
		}
		if o, over := rn.overBudget(nil); over {
			return o
		}
		start := rn.now()
		var jobID string
		reqID, err := rn.call(ctx, func(ctx context.Context) (string, error) {
			var reqID string
			var err error
			jobID, reqID, err = rn.e.rds.CreateBackup(ctx, req)
			return reqID, err
		})
		if err == nil {
			rn.recordInfo(start, rdsclient.ActionCreateBackup, reqID, nil, "")
			return rn.accepted(jobID, reqID)
		}
		cl := rn.record(start, rdsclient.ActionCreateBackup, reqID, err)
		code := apiCode(err)
		if code == backup.CodeJobExists && (coalescing || rn.ambiguous) {
			o, done := rn.lookupRunning(ctx)
			if done {
				return o
			}
			cl = retry.StateWait
		}
		switch cl {
		case retry.Canceled:
			return rn.deferred(rn.now(), canceledInfo(err), "the invocation ended during CreateBackup")
		case retry.Terminal:
			if code == backup.CodeDBNotFound {
				rn.e.cache.forget(rn.r.RegionId, rn.r.DBInstanceId)
			}
			return rn.failed(errorInfo(err, false), requestID(err, reqID), "")
		}
		if isAmbiguous(err) {
			rn.ambiguous = true
		}
		if o := rn.wait(ctx, cl, errorInfo(err, true)); o != nil {
			return *o
		}
	}
}

// lookupRunning answers BackupJobExists: the running job (or, when it has
// just ended, a backup set of the same method inside the window) is
// reported as coalesced. done is false when nothing was found.
func (rn *run) lookupRunning(ctx context.Context) (backup.Outcome, bool) {
	r := rn.r
	start := rn.now()
	var jobs []backup.Job
	reqID, err := rn.call(ctx, func(ctx context.Context) (string, error) {
		var reqID string
		var err error
		jobs, reqID, err = rn.e.rds.OngoingJobs(ctx, r.RegionId, r.DBInstanceId)
		return reqID, err
	})
	if err != nil {
		rn.record(start, rdsclient.ActionDescribeBackupTasks, reqID, err)
		return backup.Outcome{}, false
	}
	for _, j := range jobs {
		if !j.Terminal() {
			return rn.coalescedJob(j, reqID, "CreateBackup answered BackupJobExists"), true
		}
	}
	if rn.e.o.CoalesceWindow <= 0 {
		return backup.Outcome{}, false
	}
	now := rn.now()
	var sets []rdsclient.BackupSet
	reqID, err = rn.call(ctx, func(ctx context.Context) (string, error) {
		var reqID string
		var err error
		sets, reqID, err = rn.e.rds.RecentBackups(ctx, r.RegionId, r.DBInstanceId, now.Add(-rn.e.o.CoalesceWindow))
		return reqID, err
	})
	if err != nil {
		rn.record(now, rdsclient.ActionDescribeBackups, reqID, err)
		return backup.Outcome{}, false
	}
	if s, ok := rn.recentSet(sets, now); ok {
		return rn.coalescedSet(s, reqID, now), true
	}
	return backup.Outcome{}, false
}

// call runs one RDS call inside the concurrency bound, and feeds the
// throttle gate.
func (rn *run) call(ctx context.Context, f func(ctx context.Context) (string, error)) (string, error) {
	if err := rn.e.acquire(ctx); err != nil {
		return "", err
	}
	reqID, err := f(ctx)
	rn.e.release()
	switch {
	case err == nil:
		rn.e.gate.Succeeded()
	case retry.IsThrottle(err):
		p := rn.e.gate.Throttled()
		rn.log.WarnContext(rn.logCtx, "throttled: slowing down", slog.Duration("pause", p), slog.String("code", apiCode(err)))
	}
	return reqID, err
}

// passGate waits for the throttle gate, unless that runs past the deadline.
func (rn *run) passGate(ctx context.Context) *backup.Outcome {
	d := rn.e.gate.Wait()
	if d <= 0 {
		return nil
	}
	now := rn.now()
	if !rn.stopAt.IsZero() && now.Add(d).After(rn.stopAt) {
		o := rn.deferred(now.Add(d), &backup.ErrorInfo{Code: "Throttling", Message: "the API is throttling this account; deadline near", Retryable: true},
			"throttled: deferred rather than waiting past the deadline")
		return &o
	}
	if err := rn.e.gate.Pass(ctx, rn.e.o.Sleep); err != nil {
		o := rn.deferred(rn.now(), canceledInfo(err), "the invocation ended while throttled")
		return &o
	}
	return nil
}

// wait sleeps before the next try of a retryable failure, or returns the
// outcome when there is no next try here: failed when the life budget is
// spent, deferred when this invocation's attempts or time are.
func (rn *run) wait(ctx context.Context, cl retry.Class, last *backup.ErrorInfo) *backup.Outcome {
	if o, over := rn.overBudget(last); over {
		return &o
	}
	var d time.Duration
	if cl == retry.StateWait {
		d = rn.e.policy.Delay(retry.StateWait, rn.stateN)
		rn.stateN++
	} else {
		d = rn.e.policy.Delay(retry.Transient, rn.transientN)
		rn.transientN++
	}
	d = max(d, rn.e.gate.Wait())
	now := rn.now()
	last.Retryable = true
	if rn.calls >= rn.e.o.MaxAttemptsPerInvocation {
		o := rn.deferred(now.Add(d), last, fmt.Sprintf("%d attempts in this invocation; resuming later", rn.calls))
		return &o
	}
	if !rn.stopAt.IsZero() && now.Add(d).After(rn.stopAt) {
		o := rn.deferred(now.Add(d), last, fmt.Sprintf("deadline near: the next try (in %s) would pass it", d.Round(time.Millisecond)))
		return &o
	}
	rn.log.InfoContext(rn.logCtx, "waiting before the next try", slog.String("class", string(cl)), slog.String("code", last.Code), slog.Duration("delay", d))
	if err := rn.e.o.Sleep(ctx, d); err != nil {
		o := rn.deferred(now.Add(d), canceledInfo(err), "the invocation ended while waiting to retry")
		o.Error = last
		return &o
	}
	return nil
}

// overBudget reports whether the request's life budget is spent.
func (rn *run) overBudget(last *backup.ErrorInfo) (backup.Outcome, bool) {
	b := rn.e.o.Budget
	now := rn.now()
	why := ""
	switch {
	case len(rn.attempts) >= b.MaxAttempts:
		why = fmt.Sprintf("%d attempts, the budget is %d", len(rn.attempts), b.MaxAttempts)
	case !rn.h.FirstSeen.IsZero() && now.Sub(rn.h.FirstSeen) > b.MaxAge:
		why = fmt.Sprintf("first seen %s ago, the budget is %s", now.Sub(rn.h.FirstSeen).Round(time.Second), b.MaxAge)
	default:
		return backup.Outcome{}, false
	}
	info := &backup.ErrorInfo{Code: CodeBudgetExhausted, Message: "retry budget exhausted: " + why}
	if last == nil && len(rn.attempts) > 0 {
		a := rn.attempts[len(rn.attempts)-1]
		if a.Code != "" {
			last = &backup.ErrorInfo{Code: a.Code, Message: a.Message}
		}
	}
	if last != nil {
		info.Message += fmt.Sprintf("; last error %s: %s", last.Code, last.Message)
	}
	return rn.failed(info, "", "retry budget exhausted"), true
}

// record adds a failed call to the attempts and returns its class.
func (rn *run) record(start time.Time, action, reqID string, err error) retry.Class {
	cl := retry.Classify(err)
	info := errorInfo(err, cl.Retryable())
	rn.recordInfo(start, action, requestID(err, reqID), info, cl)
	return cl
}

func (rn *run) recordInfo(start time.Time, action, reqID string, info *backup.ErrorInfo, cl retry.Class) {
	a := backup.Attempt{Time: start, Action: action, RequestId: reqID, Class: string(cl)}
	if info != nil {
		a.Code, a.Message, a.Retryable = info.Code, info.Message, info.Retryable
	}
	rn.attempts = append(rn.attempts, a)
	rn.calls++
	attrs := []any{slog.String("action", action), slog.Int("attempt", len(rn.attempts)), slog.String("rdsRequestId", reqID)}
	if info == nil {
		rn.log.InfoContext(rn.logCtx, "attempt succeeded", attrs...)
		return
	}
	attrs = append(attrs, slog.String("code", info.Code), slog.String("class", string(cl)), slog.String("message", info.Message))
	rn.log.WarnContext(rn.logCtx, "attempt failed", attrs...)
}

// Outcomes.

func (rn *run) base(status backup.Status, terminal bool) backup.Outcome {
	return backup.Outcome{Status: status, Terminal: terminal, Request: rn.r, Attempts: rn.attempts, Time: rn.now()}
}

func (rn *run) accepted(jobID, reqID string) backup.Outcome {
	o := rn.base(backup.StatusAccepted, !rn.e.o.TrackJobs)
	o.BackupJobId, o.RequestId = jobID, reqID
	return o
}

func (rn *run) coalescedJob(j backup.Job, reqID, why string) backup.Outcome {
	o := rn.base(backup.StatusCoalesced, !rn.e.o.TrackJobs)
	o.BackupJobId, o.RequestId, o.BackupStatus, o.Process, o.BackupId = j.BackupJobId, reqID, j.BackupStatus, j.Process, j.BackupId
	mode := j.JobMode
	if mode == "" {
		mode = "backup"
	} else {
		mode = strings.ToLower(mode) + " backup"
	}
	o.Note = fmt.Sprintf("%s: a %s job (%s) is already %s on the instance; reporting it instead of creating another", why, mode, j.BackupJobId, j.BackupStatus)
	if j.Process != "" {
		o.Note += fmt.Sprintf(" (%s%%)", j.Process)
	}
	return o
}

func (rn *run) coalescedSet(s rdsclient.BackupSet, reqID string, now time.Time) backup.Outcome {
	o := rn.base(backup.StatusCoalesced, !rn.e.o.TrackJobs)
	o.BackupId, o.RequestId = s.BackupId, reqID
	o.BackupStatus = "Finished"
	if s.Status != "" && s.Status != "Success" {
		o.BackupStatus = s.Status
	}
	o.Note = fmt.Sprintf("a %s backup (set %s) started %s ago at %s, inside the %s coalescing window; not creating another",
		s.Method, s.BackupId, now.Sub(s.Start).Round(time.Second), s.Start.UTC().Format(time.RFC3339), rn.e.o.CoalesceWindow)
	return o
}

func (rn *run) rejected(info *backup.ErrorInfo, reqID string) backup.Outcome {
	o := rn.base(backup.StatusRejected, true)
	info.Retryable = false
	o.Error, o.RequestId = info, reqID
	return o
}

func (rn *run) failed(info *backup.ErrorInfo, reqID, note string) backup.Outcome {
	o := rn.base(backup.StatusFailed, true)
	info.Retryable = false
	o.Error, o.RequestId, o.Note = info, reqID, note
	return o
}

func (rn *run) deferred(notBefore time.Time, info *backup.ErrorInfo, note string) backup.Outcome {
	o := rn.base(backup.StatusDeferred, false)
	if info != nil {
		info.Retryable = true
	}
	o.Error, o.NotBefore, o.Note = info, notBefore, note
	if len(rn.attempts) > 0 {
		o.RequestId = rn.attempts[len(rn.attempts)-1].RequestId
	}
	return o
}

// Errors.

type coder interface{ ErrorCode() string }

func apiCode(err error) string {
	var c coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return ""
}

func requestID(err error, fallback string) string {
	var ae *rdsclient.APIError
	if errors.As(err, &ae) && ae.RequestID != "" {
		return ae.RequestID
	}
	return fallback
}

// errorInfo is the outcome's error for err. Errors without an API code get
// a descriptive code: Network for transport failures.
func errorInfo(err error, retryable bool) *backup.ErrorInfo {
	var ae *rdsclient.APIError
	if errors.As(err, &ae) {
		msg := ae.Message
		if msg == "" {
			msg = ae.Code
		}
		return &backup.ErrorInfo{Code: ae.Code, Message: msg, Retryable: retryable}
	}
	if c := apiCode(err); c != "" {
		return &backup.ErrorInfo{Code: c, Message: err.Error(), Retryable: retryable}
	}
	var cre *rdsclient.CredentialsError
	var cfe *rdsclient.ConfigError
	switch {
	case errors.As(err, &cre):
		return &backup.ErrorInfo{Code: "Credentials", Message: err.Error(), Retryable: false}
	case errors.As(err, &cfe):
		return &backup.ErrorInfo{Code: "Configuration", Message: err.Error(), Retryable: false}
	case retry.Classify(err) == retry.Canceled:
		return canceledInfo(err)
	}
	return &backup.ErrorInfo{Code: "Network", Message: err.Error(), Retryable: retryable}
}

func canceledInfo(err error) *backup.ErrorInfo {
	return &backup.ErrorInfo{Code: CodeCanceled, Message: "invocation ended: " + err.Error(), Retryable: true}
}

// isAmbiguous: the request may have reached RDS and been carried out
// although we got no answer (a transport failure or a 5xx).
func isAmbiguous(err error) bool {
	var ae *rdsclient.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatus >= 500
	}
	return true
}

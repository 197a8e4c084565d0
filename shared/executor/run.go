package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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
	// CodeDeadlineNear: too little of the invocation was left to start or
	// go on; the request is deferred.
	CodeDeadlineNear = "DeadlineNear"
	// CodeBudgetExhausted: the request's life budget (Options.Budget) is
	// spent; it fails. The message names the last error.
	CodeBudgetExhausted = "RetryBudgetExhausted"
)

// TerminalStatuses are instance statuses that will not turn into Running
// by waiting: when CreateBackup answers IncorrectDBInstanceState and the
// instance is in one of them, the ask is rejected. Any other status but
// Running (Rebooting, DBInstanceClassChanging, Restoring, TRANSING...) is
// waited out with the state-wait backoff, then deferred.
var TerminalStatuses = map[string]string{
	"Stopped":  "stopped by its owner; it is started on demand only",
	"Stopping": "being stopped",
	"Deleting": "being released",
	"Released": "released",
	"Locked":   "locked",
}

// lookback is how far before AskedAt DescribeBackups starts: a set that
// started up to this long before the ask and ended after it satisfies it.
const lookback = 24 * time.Hour

// Run takes one ask to an outcome (DESIGN.md §2; the package doc lists the
// steps). rds is the invocation's own client.
func (e *Executor) Run(ctx context.Context, rds RDS, r backup.Request, h History) backup.Outcome {
	log := e.log.With(slog.String("dbInstanceId", clip(r.DBInstanceId)), slog.String("correlationId", r.CorrelationId),
		slog.String("idempotencyKey", r.IdempotencyKey))
	rn := &run{
		retrier:  retrier{e: e, flow: e.flowFor(r.AccountId, r.RegionId), region: r.RegionId, log: log, logCtx: ctx},
		rds:      rds,
		r:        r,
		h:        h,
		attempts: slices.Clone(h.Attempts),
	}
	if rn.attempts == nil {
		rn.attempts = []backup.Attempt{}
	}
	if e.o.Ledger != nil {
		rn.owner = newOwner()
	}
	o := rn.do(ctx)
	rn.finishClaim(ctx, o)
	// Debug unless failed: the functions log each outcome once at info
	// (shared/settle's "outcome", with the same ids); this line adds the
	// executor's own counts (rdsCalls) for a developer.
	level := slog.LevelDebug
	if o.Status == backup.StatusFailed {
		level = slog.LevelWarn
	}
	attrs := []any{slog.String("status", string(o.Status)), slog.String("backupJobId", o.BackupJobId),
		slog.String("rdsRequestId", o.RequestId), slog.Int("attempts", len(o.Attempts)), slog.Int("rdsCalls", rn.rdsCalls)}
	if o.Error != nil {
		attrs = append(attrs, slog.String("code", o.Error.Code))
	}
	rn.log.Log(context.WithoutCancel(ctx), level, "backup outcome", attrs...)
	return o
}

// clip bounds an identifier for a log line (ids are validated before they
// reach the executor; this keeps a log line short whatever happens).
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// run is one Run's state.
type run struct {
	retrier
	rds      RDS
	r        backup.Request
	h        History
	attempts []backup.Attempt
	facts    backup.InstanceFacts
	factsReq string
	// ambiguous: a CreateBackup may have reached RDS without our knowing
	// (no answer, or a 5xx): look before sending another.
	ambiguous bool
	// clearAt: the last time nothing satisfied the ask, as far as this run
	// knows — AskedAt for a fresh ask, else when the last look that found
	// nothing sent its DescribeBackupTasks. Zero: never known.
	clearAt  time.Time
	clearFor time.Duration // how long clearAt holds: FreshFor, or LookHolds after a look
	// relooks counts the CreateBackups not sent because they were held up
	// past the time a look holds.
	relooks int

	// The ask ledger (Options.Ledger): this run's name as a lease holder,
	// whether it holds the ask's row and until when, and whether the row
	// names the job of the outcome.
	owner      string
	holding    bool
	leaseUntil time.Time
	recorded   bool
	// sendOpen: a CreateBackup this run marked as sending (at sentAt) may
	// have made a job it does not know (not answered, or answered
	// ambiguously).
	sendOpen bool
	sentAt   time.Time
	// unsureFrom, unsureTo: the first and the last CreateBackup of this
	// run whose answer was ambiguous, while what they made is not known
	// (zero: none). A later send that RDS refuses does not settle them: an
	// earlier one may have made a job that ended since.
	unsureFrom, unsureTo time.Time
	// sendNoted: this run's send marker (NoteInstanceSend) may be in the
	// ledger; it is forgotten once no send of this run is unsure.
	sendNoted bool
	// keepSend: the job a send made could not be noted (NoteInstanceJob
	// failed): the marker stays, the only word other asks have of it.
	keepSend bool
	// joinedAt: when the look that found the running job the outcome
	// names began (it was running then or started after).
	joinedAt time.Time
	// rowSent: the ask's row said a delivery had sent CreateBackup.
	rowSent bool
	// premarkAt: when this run's claim said it was sending CreateBackup
	// (ClaimSending wrote the row's SentAt and the send marker); zero once
	// the first send used it, or when the claim did not.
	premarkAt time.Time
}

// errStale: CreateBackup was not sent because what the run knew had aged
// past the time it holds (the throttle gate or the adaptive limit held the
// call up): a whole backup may have run since.
var errStale = errors.New("not sent: the last look is too old")

// maxRelooks bounds the looks one run makes because its CreateBackup was
// held up; past it the ask is deferred rather than kept looking.
const maxRelooks = 3

func (rn *run) do(ctx context.Context) backup.Outcome {
	r := rn.r
	if err := ctx.Err(); err != nil {
		return rn.deferred(rn.now(), canceledInfo(err), "the invocation ended before the request was started")
	}
	if vs := backup.Validate(r); len(vs) > 0 {
		return rn.rejected(backup.ErrorFromViolation(vs.First()), "")
	}
	// With the ledger the budget is checked after the claim: a repeat whose
	// row names a job is coalesced with it however much its history spent
	// (else a late redelivery would end failed while the job completes:
	// two terminal ids for one ask, which the soak found).
	if o, over := rn.overBudget(nil); over && rn.e.o.Ledger == nil {
		return o
	}
	ctx, cancel, ok := rn.bound(ctx)
	defer cancel()
	if !ok {
		return rn.deferred(rn.now(), deadlineInfo("too little time left in this invocation to start"), "deadline near: deferred before any call")
	}
	unlock, err := rn.e.locks.lock(ctx, cacheKey(r.RegionId, r.DBInstanceId))
	if err != nil {
		return rn.deferred(rn.now(), deadlineInfo("the stop time came while another request for the instance ran"),
			"deferred while waiting for another request for the instance")
	}
	defer unlock()
	if rn.timeUp() {
		return rn.deferred(rn.now(), deadlineInfo("the stop time came while another request for the instance ran"),
			"deferred after waiting for another request for the instance")
	}

	look, why := false, ""
	if rn.e.o.Ledger != nil {
		// Claim before anything else: a repeat of this ask is told for
		// certain, before any RDS call. What is left to look for is another
		// ask's backup that began after this one was made (an ask that is
		// not fresh), or what a delivery that died after its claim may have
		// made (a takeover).
		o, takenOver, sentAt := rn.claim(ctx)
		if o != nil {
			return *o
		}
		if o, over := rn.overBudget(nil); over {
			return o
		}
		look, why = takenOver || rn.notFresh(), "the ask is not fresh"
		if takenOver {
			why = "an earlier delivery of the ask died before it recorded a job"
		}
		if !sentAt.IsZero() {
			// That delivery sent CreateBackup: a job it made that has ended
			// may not be listed yet. Look; until RDS must list it, wait.
			if o := rn.lookForSatisfier(ctx, why); o != nil {
				return *o
			}
			if until := sentAt.Add(rn.e.o.SetLagBound); rn.now().Before(until) {
				return rn.deferred(until, &backup.ErrorInfo{Code: CodeNotListedYet,
					Message: "an earlier delivery of this ask sent CreateBackup and died before it recorded the job; RDS may not list that backup yet"},
					"deferred until RDS must list any backup that delivery made")
			}
		}
	} else {
		look, why = rn.mayBeRepeat(), "the ask may be a repeat"
	}
	if o := rn.readFacts(ctx); o != nil {
		return *o
	}
	if vs := backup.CheckInstance(r, rn.facts); len(vs) > 0 {
		return rn.rejected(backup.ErrorFromViolation(vs.First()), rn.factsReq)
	}
	if look {
		if o := rn.lookForSatisfier(ctx, why); o != nil {
			return *o
		}
	} else {
		rn.clearAt, rn.clearFor = rn.r.AskedAt, rn.e.o.FreshFor
	}
	return rn.create(ctx)
}

// mayBeRepeat says whether the ask may already be satisfied, so that state
// is read before CreateBackup (DESIGN.md §2 (c)): it has a history, FC
// retried it, its trigger redelivers, the caller chose its key or time, or
// it is not fresh: more than FreshFor has passed since AskedAt, so a backup
// may have run and ended since (a later step of a plan run, say). Only
// AskedAt counts, never when the ask was first seen: the soak found that a
// plan's later step, taken as fresh, made a backup that one which ran
// meanwhile already satisfied.
func (rn *run) mayBeRepeat() bool {
	h := rn.h
	switch {
	case len(h.Attempts) > 0, h.RetryCount > 0, h.CallerKey, RedeliveringKinds[rn.r.Trigger.Kind]:
		return true
	}
	return rn.notFresh()
}

// notFresh: more than FreshFor has passed since AskedAt (or it has none, or
// every ask looks), so a backup may have begun and ended since.
func (rn *run) notFresh() bool {
	if rn.e.o.FreshFor < 0 || rn.r.AskedAt.IsZero() {
		return true
	}
	return rn.now().Sub(rn.r.AskedAt) > rn.e.o.FreshFor
}

// stale says whether CreateBackup, about to go out now, would rest on too
// old a knowledge that nothing satisfies the ask: a fresh ask's AskedAt
// holds for FreshFor, a look that found nothing for LookHolds (a backup
// that started after it and ended before the send would take less than
// that). Without this, a CreateBackup re-sent after a throttling backoff
// made a second backup when one made meanwhile by another invocation had
// already ended (the soak found it).
func (rn *run) stale() bool {
	return rn.clearAt.IsZero() || rn.now().Sub(rn.clearAt) > rn.clearFor
}

// readFacts gets what the rules need of the instance (backup.NeedsFacts):
// from the trigger (a fan-out item's listing), the warm cache, else one
// read — DescribeDatabases (names and engine) for a db-level or Logical ask,
// DescribeDBInstanceAttribute (engine and storage) for the rest.
func (rn *run) readFacts(ctx context.Context) *backup.Outcome {
	r := rn.r
	if rn.h.Facts != nil && rn.h.Facts.DBInstanceId == r.DBInstanceId {
		rn.facts = *rn.h.Facts
		rn.facts.OngoingJobs, rn.facts.Databases, rn.facts.DatabasesKnown = nil, nil, false
	} else {
		rn.facts = backup.InstanceFacts{DBInstanceId: r.DBInstanceId}
	}
	rn.e.cache.fill(r.RegionId, &rn.facts, rn.now())
	needEngine, needStorage, needDBs := backup.NeedsFacts(r)
	for {
		switch {
		case needDBs && !rn.facts.DatabasesKnown:
			var names []string
			var engine string
			reqID, err := rn.call(ctx, rdsclient.ActionDescribeDatabases, func(ctx context.Context) (string, error) {
				var reqID string
				var err error
				names, engine, reqID, err = rn.rds.Databases(ctx, r.RegionId, r.DBInstanceId)
				return reqID, err
			})
			if err != nil {
				if o := rn.onError(ctx, rdsclient.ActionDescribeDatabases, reqID, err); o != nil {
					return o
				}
				continue
			}
			rn.facts.Databases, rn.facts.DatabasesKnown, rn.factsReq = names, true, reqID
			if rn.facts.Engine == "" {
				rn.facts.Engine = engine
			}
		case (needEngine && rn.facts.Engine == "") || (needStorage && rn.facts.StorageType == ""):
			var f backup.InstanceFacts
			reqID, err := rn.call(ctx, rdsclient.ActionDescribeDBInstanceAttribute, func(ctx context.Context) (string, error) {
				var reqID string
				var err error
				f, reqID, err = rn.rds.DescribeInstance(ctx, r.RegionId, r.DBInstanceId)
				return reqID, err
			})
			if err != nil {
				if o := rn.onError(ctx, rdsclient.ActionDescribeDBInstanceAttribute, reqID, err); o != nil {
					return o
				}
				continue
			}
			rn.factsReq = reqID
			rn.facts.Engine, rn.facts.StorageType, rn.facts.EngineVersion = f.Engine, f.StorageType, f.EngineVersion
			rn.facts.Status, rn.facts.LockMode, rn.facts.InstanceType, rn.facts.Category = f.Status, f.LockMode, f.InstanceType, f.Category
			if rn.facts.Engine == "" {
				rn.facts.Engine = "unknown" // answered without one: do not ask again
			}
		default:
			if needEngine || needStorage || needDBs {
				rn.e.cache.store(r.RegionId, rn.facts, rn.now())
			}
			return nil
		}
	}
}

// lookForSatisfier reads, one after the other, the instance's running jobs
// and then the backup sets that ended at or after AskedAt, and returns the
// coalesced outcome when one satisfies the ask (backup.SatisfiedBy). The
// order matters: a job that ends between the two reads is seen as a set.
// nil: nothing satisfies the ask (yet).
func (rn *run) lookForSatisfier(ctx context.Context, why string) *backup.Outcome {
	r := rn.r
	var lookedAt time.Time
	var waitedOn string
	for {
		var jobs []backup.Job
		reqID, err := rn.call(ctx, rdsclient.ActionDescribeBackupTasks, func(ctx context.Context) (string, error) {
			var reqID string
			var err error
			lookedAt = rn.now() // RDS answers for a moment no earlier than this
			jobs, reqID, err = rn.rds.OngoingJobs(ctx, r.RegionId, r.DBInstanceId)
			return reqID, err
		})
		if err != nil {
			if o := rn.onError(ctx, rdsclient.ActionDescribeBackupTasks, reqID, err); o != nil {
				return o
			}
			continue
		}
		waiting := false
		for _, j := range jobs {
			if j.Terminal() {
				continue
			}
			proven, out := rn.satisfiesByMethod(ctx, j)
			if out != nil {
				return out
			}
			if proven {
				o := rn.coalescedJob(j, reqID, why)
				rn.joinedAt = lookedAt
				return &o
			}
			waiting = true
			if waitedOn != j.BackupJobId {
				waitedOn = j.BackupJobId
				rn.noteUnknownJob(ctx, j.BackupJobId, lookedAt)
			}
		}
		if waiting {
			// A job whose method cannot be proven to be the ask's runs: RDS
			// refuses another until it ends, then its set says its method.
			info := &backup.ErrorInfo{Code: backup.CodeJobExists, Retryable: true,
				Message: fmt.Sprintf("a backup job (%s) runs on the instance, of a method not known to be the ask's; waiting for it to end", waitedOn)}
			if o := rn.wait(ctx, retry.StateWait, info); o != nil {
				return o
			}
			continue
		}
		break
	}
	since := r.AskedAt
	if since.IsZero() {
		since = rn.now()
	}
	since = since.Add(-lookback)
	for {
		var sets []rdsclient.BackupSet
		reqID, err := rn.call(ctx, rdsclient.ActionDescribeBackups, func(ctx context.Context) (string, error) {
			var reqID string
			var err error
			sets, reqID, err = rn.rds.RecentBackups(ctx, r.RegionId, r.DBInstanceId, since)
			return reqID, err
		})
		if err != nil {
			if o := rn.onError(ctx, rdsclient.ActionDescribeBackups, reqID, err); o != nil {
				return o
			}
			continue
		}
		var best *rdsclient.BackupSet
		for i, s := range sets {
			if !backup.SatisfiedBy(r, s.Method, s.Status, s.End) {
				continue
			}
			if best == nil || s.End.Before(best.End) {
				best = &sets[i]
			}
		}
		if best != nil {
			o := rn.coalescedSet(*best, reqID, why)
			return &o
		}
		if o := rn.unlistedJob(ctx, sets, why); o != nil {
			return o
		}
		rn.clearAt, rn.clearFor = lookedAt, rn.e.o.LookHolds
		return nil
	}
}

// create sends CreateBackup and reads only what its answer calls for.
func (rn *run) create(ctx context.Context) backup.Outcome {
	req := backup.Resolve(rn.r, rn.facts)
	for {
		if o, over := rn.overBudget(nil); over {
			return o
		}
		if rn.stale() {
			// A retry's wait (or a held-up send) aged the last look.
			if o := rn.lookForSatisfier(ctx, "time passed since the last look"); o != nil {
				return *o
			}
		}
		if held, err := rn.markSending(ctx); err != nil || !held {
			info := &backup.ErrorInfo{Code: CodeAskInProgress, Message: "another delivery of this ask took it over"}
			if err != nil {
				info = &backup.ErrorInfo{Code: CodeLedgerUnavailable, Message: "the ask ledger could not renew the lease: " + clipMessage(err.Error())}
			}
			return rn.deferred(rn.now(), info, "deferred: CreateBackup goes out only under a live lease")
		}
		start := rn.now()
		var jobID string
		reqID, err := rn.call(ctx, rdsclient.ActionCreateBackup, func(ctx context.Context) (string, error) {
			if rn.stale() {
				return "", errStale
			}
			var reqID string
			var err error
			jobID, reqID, err = rn.rds.CreateBackup(ctx, req)
			return reqID, err
		})
		if err != nil && (errors.Is(err, errStale) || !isAmbiguous(err)) && rn.unsureFrom.IsZero() {
			// Not sent, or refused, and no earlier send is unsure: no job
			// came of this run's sends.
			rn.sendOpen = false
			rn.forgetSend(ctx)
		}
		if errors.Is(err, errStale) {
			// Held up by the throttle gate or the adaptive limit: look again
			// (at the top of the loop), a few times at most.
			if rn.relooks++; rn.relooks > maxRelooks {
				info := &backup.ErrorInfo{Code: "Throttling", Retryable: true,
					Message: fmt.Sprintf("CreateBackup was held up past the time a look holds (%d times): the account is being throttled", rn.relooks)}
				return rn.deferred(rn.now().Add(rn.fl().gate.Wait()), info, "deferred: CreateBackup could not follow a look soon enough")
			}
			continue
		}
		if err == nil {
			rn.recordInfo(start, rdsclient.ActionCreateBackup, reqID, nil, "")
			rn.jobMade(ctx, jobID, start)
			return rn.accepted(jobID, reqID)
		}
		switch apiCode(err) {
		case backup.CodeJobExists:
			// RDS refused a second backup: the running job (or, when it
			// has just ended, its set) is looked up.
			rn.record(start, rdsclient.ActionCreateBackup, reqID, err)
			if o := rn.lookForSatisfier(ctx, "CreateBackup answered BackupJobExists"); o != nil {
				return *o
			}
			if o := rn.wait(ctx, retry.StateWait, errorInfo(err, true)); o != nil {
				return *o
			}
			continue
		case backup.CodeInstanceState:
			if o := rn.instanceState(ctx, start, err, reqID); o != nil {
				return *o
			}
			continue
		case backup.CodeDBNotFound:
			rn.e.cache.forgetDatabases(rn.r.RegionId, rn.r.DBInstanceId)
		}
		if isAmbiguous(err) && retry.Classify(err) != retry.Canceled {
			rn.ambiguous = true
			if rn.unsureFrom.IsZero() {
				rn.unsureFrom = start
			}
			rn.unsureTo = start
		}
		if o := rn.onErrorAt(ctx, start, rdsclient.ActionCreateBackup, reqID, err); o != nil {
			return *o
		}
		if rn.ambiguous {
			// The last CreateBackup may have made a job: find it before
			// sending another.
			if o := rn.lookForSatisfier(ctx, "an earlier CreateBackup of this ask got no answer"); o != nil {
				return *o
			}
			if rn.e.o.Ledger != nil && !rn.unsureFrom.IsZero() {
				until := rn.unsureTo.Add(rn.e.o.SetLagBound)
				if rn.clearAt.Sub(rn.unsureFrom) > rn.e.o.LookHolds && rn.now().Before(until) {
					// Nothing runs and nothing is listed, and the look came
					// later than the shortest backup takes (LookHolds) after
					// the first unsure send: a job it made can have ended
					// already, unlisted (RDS's lag). Wait until RDS must list
					// it. The row and the send marker keep the send.
					return rn.deferred(until, &backup.ErrorInfo{Code: CodeNotListedYet,
						Message: "a CreateBackup of this ask got no answer and RDS shows no job of it; it may have made one that RDS does not list yet"},
						"deferred until RDS must list any backup that send made")
				}
				// A look sooner than that would have seen such a job
				// running: none was made.
				rn.unsureFrom, rn.unsureTo, rn.sendOpen = time.Time{}, time.Time{}, false
				rn.forgetSend(ctx)
			}
		}
	}
}

// instanceState answers IncorrectDBInstanceState: the instance is read to
// tell a status that will not change by waiting (rejected, with the API's
// code) from a transitional one (waited out, then deferred). The refused
// CreateBackup is recorded with the status it met.
func (rn *run) instanceState(ctx context.Context, start time.Time, cause error, createReq string) *backup.Outcome {
	r := rn.r
	var f backup.InstanceFacts
	reqID, err := rn.call(ctx, rdsclient.ActionDescribeDBInstanceAttribute, func(ctx context.Context) (string, error) {
		var reqID string
		var err error
		f, reqID, err = rn.rds.DescribeInstance(ctx, r.RegionId, r.DBInstanceId)
		return reqID, err
	})
	info := errorInfo(cause, true)
	if err == nil && f.Status != "" && f.Status != "Running" {
		info.Message = fmt.Sprintf("DBInstanceId %q: instance is %s; waiting for Running", r.DBInstanceId, f.Status)
	}
	if why, final := TerminalStatuses[f.Status]; err == nil && final {
		info.Message = fmt.Sprintf("DBInstanceId %q: instance is %s (%s), must be Running", r.DBInstanceId, f.Status, why)
		info.Retryable, info.Field = false, "DBInstanceId"
		rn.recordInfo(start, rdsclient.ActionCreateBackup, requestID(cause, createReq), info, retry.Terminal)
		return ptr(rn.rejected(info, requestID(cause, createReq)))
	}
	rn.recordInfo(start, rdsclient.ActionCreateBackup, requestID(cause, createReq), info, retry.StateWait)
	if err != nil {
		if o := rn.onError(ctx, rdsclient.ActionDescribeDBInstanceAttribute, reqID, err); o != nil {
			return o
		}
		return nil
	}
	return rn.wait(ctx, retry.StateWait, info)
}

func ptr[T any](v T) *T { return &v }

// onError records a failed call and decides: the outcome when the ask ends
// here (canceled → deferred; refused by a rule → rejected with RDS's code;
// access or configuration → failed), nil after waiting for the next try.
func (rn *run) onError(ctx context.Context, action, reqID string, err error) *backup.Outcome {
	return rn.onErrorAt(ctx, rn.now(), action, reqID, err)
}

func (rn *run) onErrorAt(ctx context.Context, start time.Time, action, reqID string, err error) *backup.Outcome {
	cl := rn.record(start, action, reqID, err)
	switch cl {
	case retry.Canceled:
		return ptr(rn.deferred(rn.now(), canceledInfo(err), "the invocation reached its stop time during "+action))
	case retry.Terminal:
		info := errorInfo(err, false)
		if code := apiCode(err); code != "" && retry.Refusal(code) {
			return ptr(rn.rejected(info, requestID(err, reqID)))
		}
		return ptr(rn.failed(info, requestID(err, reqID), action+" failed"))
	}
	return rn.wait(ctx, cl, errorInfo(err, true))
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

// wait sleeps before the next try of a retryable failure, or returns the
// outcome when there is no next try here: failed when the life budget is
// spent, deferred when this invocation's attempts or time are.
func (rn *run) wait(ctx context.Context, cl retry.Class, last *backup.ErrorInfo) *backup.Outcome {
	if o, over := rn.overBudget(last); over {
		return &o
	}
	last.Retryable = true
	d, stop := rn.pause(ctx, cl)
	if stop != "" {
		o := rn.deferred(rn.now().Add(d), last, stop)
		return &o
	}
	return nil
}

// record adds a failed call to the attempts and returns its class.
func (rn *run) record(start time.Time, action, reqID string, err error) retry.Class {
	cl := retry.Classify(err)
	info := errorInfo(err, cl.Retryable())
	if info.Code == "Network" { // the outcome says what kind; the log keeps the detail
		rn.log.WarnContext(rn.logCtx, "transport failure", slog.String("action", action), slog.String("error", clipMessage(err.Error())))
	}
	rn.recordInfo(start, action, requestID(err, reqID), info, cl)
	return cl
}

func (rn *run) recordInfo(start time.Time, action, reqID string, info *backup.ErrorInfo, cl retry.Class) {
	a := backup.Attempt{Time: start, Action: action, RequestId: reqID, Class: string(cl)}
	if info != nil {
		a.Code, a.Message, a.Retryable = info.Code, info.Message, info.Retryable
	}
	rn.attempts = append(rn.attempts, a)
	rn.tries++
	attrs := []any{slog.String("action", action), slog.Int("attempt", len(rn.attempts)), slog.String("rdsRequestId", reqID)}
	if info == nil {
		rn.log.DebugContext(rn.logCtx, "attempt succeeded", attrs...) // the outcome's line says it at info
		return
	}
	attrs = append(attrs, slog.String("code", info.Code), slog.String("class", string(cl)), slog.String("message", clipMessage(info.Message)))
	rn.log.WarnContext(rn.logCtx, "attempt failed", attrs...)
}

func clipMessage(s string) string {
	if len(s) > 512 {
		return s[:512] + "…"
	}
	return s
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
	// A Finished job leaves nothing to track: the outcome is terminal.
	o := rn.base(backup.StatusCoalesced, !rn.e.o.TrackJobs || j.BackupStatus == "Finished")
	o.BackupJobId, o.RequestId, o.BackupStatus, o.Process, o.BackupId = j.BackupJobId, reqID, j.BackupStatus, j.Process, j.BackupId
	mode := j.JobMode
	if mode == "" {
		mode = "backup"
	} else {
		mode = strings.ToLower(mode) + " backup"
	}
	o.Note = fmt.Sprintf("%s: a %s job (%s) is %s on the instance, so it was running at or after the ask; reporting it instead of creating another", why, mode, j.BackupJobId, j.BackupStatus)
	if j.Process != "" {
		o.Note += fmt.Sprintf(" (%s%%)", j.Process)
	}
	return o
}

// coalescedSet: a finished set satisfies the ask. Nothing is left to track,
// so the outcome is terminal.
func (rn *run) coalescedSet(s rdsclient.BackupSet, reqID, why string) backup.Outcome {
	o := rn.base(backup.StatusCoalesced, true)
	o.BackupId, o.RequestId = s.BackupId, reqID
	o.BackupStatus = "Finished"
	if s.Status != "" && s.Status != "Success" {
		o.BackupStatus = s.Status
	}
	o.Note = fmt.Sprintf("%s: a %s backup (set %s) ran from %s to %s, ending at or after the ask (%s); not creating another",
		why, s.Method, s.BackupId, s.Start.UTC().Format(time.RFC3339), s.End.UTC().Format(time.RFC3339), rn.r.AskedAt.UTC().Format(time.RFC3339))
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

// ErrorInfoOf is the outcome's error for err as the executor writes it
// (errorInfo), retryable by its class: what other parts of the functions
// put in an outcome for an RDS call that failed — the API's code and
// message, or Network with what kind of transport failure it was and no
// endpoint.
func ErrorInfoOf(err error) *backup.ErrorInfo {
	return errorInfo(err, retry.Classify(err).Retryable())
}

// errorInfo is the outcome's error for err. Errors without an API code get
// a descriptive code: Network for transport failures. Transport details
// (hosts, ports) are not repeated beyond the error's own text.
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
	return &backup.ErrorInfo{Code: "Network", Message: networkMessage(err), Retryable: retryable}
}

// networkMessage says what kind of transport failure err is, without the
// URL, host or port it names: outcome messages travel to other systems,
// and the endpoint is the deployment's business (logs keep the detail).
func networkMessage(err error) string {
	msg := err.Error()
	for _, k := range []struct{ needle, say string }{
		{"connection refused", "connection refused"},
		{"connection reset", "connection reset by the peer"},
		{"Client.Timeout", "no answer before the timeout"},
		{"i/o timeout", "no answer before the timeout"},
		{"deadline exceeded", "no answer before the timeout"},
		{"no such host", "the endpoint's host name does not resolve"},
		{"EOF", "the connection closed without an answer"},
		{"broken pipe", "the connection broke"},
		{"tls:", "TLS handshake failed"},
		{"x509:", "the endpoint's certificate was refused"},
	} {
		if strings.Contains(msg, k.needle) {
			return "network error: " + k.say
		}
	}
	return "network error: the call got no answer"
}

func canceledInfo(err error) *backup.ErrorInfo {
	return &backup.ErrorInfo{Code: CodeCanceled, Message: "invocation ended: " + err.Error(), Retryable: true}
}

func deadlineInfo(msg string) *backup.ErrorInfo {
	return &backup.ErrorInfo{Code: CodeDeadlineNear, Message: msg, Retryable: true}
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

package executor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// AskLedger is the ask ledger (DESIGN.md §2a) as Run uses it; a
// *ledger.Ledger is one. With Options.Ledger set, Run claims the ask's row
// before it acts, so a repeat of the ask — however late, whatever RDS lists
// yet — finds the job its first delivery made (see the package doc).
type AskLedger interface {
	Claim(ctx context.Context, a ledger.Ask) (ledger.Claim, error)
	ClaimSending(ctx context.Context, a ledger.Ask, instKey string) (ledger.Claim, error)
	RecordJob(ctx context.Context, scope, key, owner, jobID string) error
	MarkSending(ctx context.Context, scope, key, owner string, d time.Duration) (time.Time, error)
	Release(ctx context.Context, scope, key, owner string, forgetSend bool) error
	Reopen(ctx context.Context, a ledger.Ask, failedJob string) (ledger.Claim, error)
	NoteInstanceJob(ctx context.Context, key, jobID string, created time.Time) error
	LastInstanceJob(ctx context.Context, key string) (jobID string, created time.Time, found bool, err error)
	NoteInstanceSend(ctx context.Context, key, owner string, at time.Time) error
	ForgetInstanceSend(ctx context.Context, key, owner string) error
	ReadInstance(ctx context.Context, region, instance string) (ledger.InstanceView, error)
	SendBegin(ctx context.Context, scope, key, owner string, d time.Duration, instKey string) (until, at time.Time, err error)
	JobMade(ctx context.Context, scope, key, owner, jobID, instKey string, created time.Time) (noted, forgot bool, err error)
	Lease() time.Duration
}

// Codes of outcomes the ledger decides.
const (
	// CodeAskInProgress: another delivery of the ask holds its ledger row
	// and has not made a job yet; this one is deferred until that lease
	// ends (then it takes the row over if that delivery died).
	CodeAskInProgress = "AskInProgress"
	// CodeLedgerUnavailable: the ask ledger could not be read or written;
	// the ask is deferred, never acted on without its record.
	CodeLedgerUnavailable = "LedgerUnavailable"
	// CodeKeyConflict: the ask's key is recorded with other parameters.
	CodeKeyConflict = "IdempotencyKeyConflict"
	// CodeNotListedYet: a delivery of the ask that died had sent
	// CreateBackup; no job of it runs and RDS lists no set of it yet, but
	// it may still list one (Options.SetLagBound): the ask waits for that
	// before it creates another.
	CodeNotListedYet = "BackupNotListedYet"
)

// askScope is the ledger scope of per-ask rows. An ask's key is already a
// 128-bit digest of its trigger (kind, source, delivery) and parameters, so
// keys of different callers cannot meet; plan rows and caller-chosen keys
// (the HTTP 409) will get scopes of their own.
const askScope = "ask"

// ledgerCallTimeout bounds the ledger calls made after the run decided
// (recording its job, releasing its lease): they run in the time kept for
// settling, whatever is left of the run's context.
const ledgerCallTimeout = 3 * time.Second

// ledgerAsk is r as the ledger records it.
func ledgerAsk(r backup.Request, owner string) ledger.Ask {
	dbs := strings.Join(r.DBName, ",")
	return ledger.Ask{
		Scope:   askScope,
		Key:     r.IdempotencyKey,
		Digest:  backup.Key(r.DBInstanceId, r.RegionId, r.Method(), r.BackupStrategy, dbs, r.BackupType),
		Method:  r.Method(),
		Target:  strings.TrimSuffix(r.DBInstanceId+"/"+r.BackupStrategy+"/"+dbs, "//"),
		AskedAt: r.AskedAt,
		Owner:   owner,
	}
}

// newOwner names one delivery attempt (one Run) as a lease holder.
func newOwner() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "run-" + hex.EncodeToString(b)
}

// claim claims the ask's ledger row (DESIGN.md §2a). It returns the outcome
// when the ask ends here — coalesced with the job its row names, deferred
// while another delivery holds it or the ledger fails, rejected when its
// key is recorded with other parameters — or nil when this run holds the
// row and may act; takenOver says it took the row over from a delivery that
// may have called RDS (then it looks first), sentAt when that delivery said
// it was sending CreateBackup.
//
// A fresh ask goes straight to CreateBackup once it wins, so its claim
// says so too (ClaimSending): the row's SentAt and the send marker that
// markSending would write next leave with the claim, one round trip
// instead of two. The first send then needs no SendBegin while the lease
// the claim took is young (premarkFor); a run that sends nothing after all
// (refused by the rules, deferred) forgets both as a refused send does.
func (rn *run) claim(ctx context.Context) (o *backup.Outcome, takenOver bool, sentAt time.Time) {
	led := rn.e.o.Ledger
	a := ledgerAsk(rn.r, rn.owner)
	sending := !rn.notFresh()
	claimAt := rn.now()
	var c ledger.Claim
	var err error
	if sending {
		rn.sendNoted = true // the marker may be written whatever the answer
		c, err = led.ClaimSending(ctx, a, rn.instanceKey())
	} else {
		c, err = led.Claim(ctx, a)
	}
	for round := 0; ; round++ {
		var conflict *ledger.ConflictError
		switch {
		case errors.As(err, &conflict):
			return ptr(rn.rejected(&backup.ErrorInfo{Code: CodeKeyConflict, Field: "idempotencyKey",
				Message: "the ask's idempotency key is recorded with other backup parameters"}, "")), false, time.Time{}
		case err != nil:
			return rn.ledgerDown(err), false, time.Time{}
		case c.Won:
			rn.holding, rn.leaseUntil = true, c.Row.LeaseUntil
			if sending && !c.TakenOver {
				// A row this delivery wrote (new, or its own claim's
				// answer lost): its SentAt is this claim's word, no earlier
				// send.
				if c.Sending {
					rn.premarkAt = claimAt
				}
				return nil, false, time.Time{}
			}
			rn.rowSent = !c.Row.SentAt.IsZero()
			return nil, c.TakenOver, c.Row.SentAt
		case c.Busy:
			if rn.rowSent = !c.Row.SentAt.IsZero(); rn.rowSent {
				// The holder has sent CreateBackup: its job, if it runs, is
				// found now (the holder may have died before recording it).
				o := rn.lookForSatisfier(ctx, "another delivery of this ask sent CreateBackup")
				if o != nil && o.Status != backup.StatusDeferred {
					return o, false, time.Time{}
				}
				// Deferred (another send's backup may not be listed yet, or
				// RDS failed): the holder's lease says when to come back.
			}
			return ptr(rn.deferred(c.Row.LeaseUntil, &backup.ErrorInfo{Code: CodeAskInProgress,
				Message: "another delivery of this ask is at work on it"},
				"deferred until that delivery's lease ends")), false, time.Time{}
		case c.Row.JobID != "" && round < 2:
			j, found, reqID, out := rn.jobByID(ctx, c.Row.JobID)
			if out != nil {
				return out, false, time.Time{}
			}
			if found && j.BackupStatus != "Failed" {
				rn.recorded = true
				return ptr(rn.coalescedJob(j, reqID, "the ask ledger records this ask's job")), false, time.Time{}
			}
			// A failed backup satisfies no ask (and a job RDS does not know
			// satisfies nothing): the ask runs again.
			c, err = led.Reopen(ctx, a, c.Row.JobID)
		default:
			return ptr(rn.deferred(rn.now(), &backup.ErrorInfo{Code: CodeAskInProgress,
				Message: "the ask's ledger row changed while it was read"}, "deferred: the ask ledger is contended")), false, time.Time{}
		}
	}
}

// jobByID reads one job by its id (exact whether it finished or not: no
// lag), with the run's retries. out is the outcome when the ask ends here.
func (rn *run) jobByID(ctx context.Context, jobID string) (j backup.Job, found bool, reqID string, out *backup.Outcome) {
	r := rn.r
	for {
		var err error
		reqID, err = rn.call(ctx, rdsclient.ActionDescribeBackupTasks, func(ctx context.Context) (string, error) {
			var reqID string
			var err error
			j, found, reqID, err = rn.rds.Job(ctx, r.RegionId, r.DBInstanceId, jobID)
			return reqID, err
		})
		if err == nil {
			return j, found, reqID, nil
		}
		if o := rn.onError(ctx, rdsclient.ActionDescribeBackupTasks, reqID, err); o != nil {
			return j, false, reqID, o
		}
	}
}

// markSending says in the row, just before CreateBackup, that this run is
// sending it, and renews the lease: a delivery that finds the row later
// without a job then knows a job may exist that RDS does not list yet.
// false: the lease was taken over (this run was too slow), so another
// delivery acts instead.
func (rn *run) markSending(ctx context.Context) (bool, error) {
	if !rn.holding {
		return true, nil
	}
	lease := rn.e.o.Ledger.Lease()
	if at := rn.premarkAt; !at.IsZero() {
		// The claim wrote what SendBegin would, and its lease is as good
		// as renewed: the send goes out under it.
		rn.premarkAt = time.Time{}
		if rn.now().Sub(at) < premarkFor(lease) {
			rn.sendOpen, rn.sentAt = true, at
			return true, nil
		}
	}
	// The ask's row says a send is on its way (for this ask's later
	// deliveries), and the instance's send marker says so to other asks of
	// the method (a job may exist that nobody has seen): one BatchWriteRow.
	// Without both the send does not go out.
	rn.sendNoted = true // the marker may be written whatever the answer
	until, _, err := rn.e.o.Ledger.SendBegin(ctx, askScope, rn.r.IdempotencyKey, rn.owner, lease, rn.instanceKey())
	if errors.Is(err, ledger.ErrLeaseLost) || errors.Is(err, ledger.ErrNotFound) {
		rn.holding = false
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rn.sendOpen, rn.sentAt, rn.leaseUntil = true, rn.now(), until
	return true, nil
}

// premarkFor is how young a claim's lease must be for the first send to go
// out under it without SendBegin renewing it: a tenth of the lease, at
// most a second, so the send goes out with at least nine tenths of a lease
// left, as if just renewed.
func premarkFor(lease time.Duration) time.Duration { return min(time.Second, lease/10) }

// jobMade records the job this run's CreateBackup made: on the ask's row
// (a repeat finds it by id), as the instance's latest of the method (other
// asks find it while RDS does not list it) and the send marker forgotten —
// one BatchWriteRow (recordJob and noteInstanceJob when the run does not
// hold the row). A failure is logged, not fatal: the job exists; the
// marker then stays, other asks' word of it.
func (rn *run) jobMade(ctx context.Context, jobID string, created time.Time) {
	if !rn.holding || rn.recorded || jobID == "" {
		rn.recordJob(ctx, jobID)
		rn.noteInstanceJob(ctx, jobID, created)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ledgerCallTimeout)
	defer cancel()
	var noted, forgot bool
	var err error
	_, err = retry.Do(ctx, rn.e.ledgerLoop(), func(ctx context.Context, _ int) error {
		var err error
		noted, forgot, err = rn.e.o.Ledger.JobMade(ctx, askScope, rn.r.IdempotencyKey, rn.owner, jobID, rn.instanceKey(), created)
		return err
	})
	if err != nil {
		rn.keepSend = true
		rn.log.WarnContext(rn.logCtx, "could not record the ask's job in the ledger", slog.String("backupJobId", jobID),
			slog.String("error", clipMessage(err.Error())))
		return
	}
	rn.recorded = true
	if forgot {
		rn.sendNoted = false
	}
	if !noted {
		rn.noteInstanceJob(ctx, jobID, created)
		if rn.keepSend && forgot {
			// The job is noted nowhere and the marker went with the batch:
			// put the marker back, the only word of the job.
			rn.sendNoted = true
			_ = rn.e.o.Ledger.NoteInstanceSend(ctx, rn.instanceKey(), rn.owner, rn.sentAt)
		}
	}
}

// instanceKey is the ask's instance row key (its method's).
func (rn *run) instanceKey() string {
	return ledger.InstanceKey(rn.r.RegionId, rn.r.DBInstanceId, rn.r.Method())
}

// forgetSend deletes this run's send marker, if it may have written one:
// no send of it is unsure any more. Best effort: a marker left behind
// makes other asks wait at most SetLagBound past it.
func (rn *run) forgetSend(ctx context.Context) {
	if !rn.sendNoted || rn.keepSend {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ledgerCallTimeout)
	defer cancel()
	if err := rn.e.o.Ledger.ForgetInstanceSend(ctx, rn.instanceKey(), rn.owner); err != nil {
		rn.log.InfoContext(rn.logCtx, "could not forget the run's send marker; other asks of the instance wait it out",
			slog.String("error", clipMessage(err.Error())))
		return
	}
	rn.sendNoted = false
}

// recordJob records the job this run made or joined on its row, right
// away: a repeat then finds it by id. A failure is logged, not fatal: the
// job exists, and a repeat that cannot read it from the row looks as it
// would without a ledger.
func (rn *run) recordJob(ctx context.Context, jobID string) {
	if !rn.holding || rn.recorded || jobID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ledgerCallTimeout)
	defer cancel()
	var err error
	_, err = retry.Do(ctx, rn.e.ledgerLoop(), func(ctx context.Context, _ int) error {
		return rn.e.o.Ledger.RecordJob(ctx, askScope, rn.r.IdempotencyKey, rn.owner, jobID)
	})
	if err != nil {
		rn.log.WarnContext(rn.logCtx, "could not record the ask's job in the ledger", slog.String("backupJobId", jobID),
			slog.String("error", clipMessage(err.Error())))
		return
	}
	rn.recorded = true
}

// finishClaim ends the run's hold on its row: the job the outcome names is
// recorded (a job it coalesced with, found by looking), else the lease is
// released, so the next delivery of the ask need not wait it out.
func (rn *run) finishClaim(ctx context.Context, o backup.Outcome) {
	if !rn.holding {
		return
	}
	settled := o.BackupJobId != "" && (o.Status == backup.StatusAccepted || o.Status == backup.StatusCoalesced)
	if settled || rn.unsureFrom.IsZero() {
		// What the run's sends made is known (the outcome's job, noted
		// below), or they made nothing.
		defer rn.forgetSend(ctx)
	}
	if o.BackupJobId != "" && (o.Status == backup.StatusAccepted || o.Status == backup.StatusCoalesced) {
		rn.recordJob(ctx, o.BackupJobId)
		if !rn.joinedAt.IsZero() {
			// A job a look found running: the latest on the instance, as
			// far as anyone knows, from then on.
			rn.noteInstanceJob(ctx, o.BackupJobId, rn.joinedAt)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ledgerCallTimeout)
	defer cancel()
	// The row's send is forgotten only when it is this run's and RDS
	// refused it: an earlier delivery's open send (the row said so, and
	// this run sent nothing since) still counts for the next delivery.
	forget := !rn.sendOpen && (!rn.rowSent || !rn.sentAt.IsZero())
	if err := rn.e.o.Ledger.Release(ctx, askScope, rn.r.IdempotencyKey, rn.owner, forget); err != nil {
		rn.log.InfoContext(rn.logCtx, "could not release the ask's ledger lease; the next delivery waits it out",
			slog.String("error", clipMessage(err.Error())))
	}
}

// noteInstanceJob records the job this run made as the latest on its
// instance for its method, for other asks that find it ended but not yet
// listed (unlistedJob). Best effort: a failure is logged.
func (rn *run) noteInstanceJob(ctx context.Context, jobID string, created time.Time) {
	if rn.e.o.Ledger == nil || jobID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ledgerCallTimeout)
	defer cancel()
	key := ledger.InstanceKey(rn.r.RegionId, rn.r.DBInstanceId, rn.r.Method())
	var err error
	_, err = retry.Do(ctx, rn.e.ledgerLoop(), func(ctx context.Context, _ int) error {
		return rn.e.o.Ledger.NoteInstanceJob(ctx, key, jobID, created)
	})
	if err != nil {
		// The send marker then stays: other asks keep waiting on it (until
		// RDS must list the job) instead of learning of the job here.
		rn.keepSend = true
		rn.log.WarnContext(rn.logCtx, "could not note the instance's latest job in the ledger", slog.String("backupJobId", jobID),
			slog.String("error", clipMessage(err.Error())))
	}
}

// unlistedJob is the last part of a look with the ledger: RDS shows no
// running job and no set that satisfies the ask, but the latest job the
// product made on the instance with the ask's method may have ended while
// RDS does not list its set yet (DescribeBackups lags). Started at or after
// AskedAt → it satisfies the ask: coalesced with it. Started before and
// ended unlisted → whether it ran past AskedAt is known only from its set:
// deferred until RDS lists it. nil: nothing of ours to wait for. What the
// ledger holds of the instance (its job of each method, the unknown one,
// open send markers) is one read (ledger.ReadInstance).
func (rn *run) unlistedJob(ctx context.Context, sets []rdsclient.BackupSet, why string) *backup.Outcome {
	led := rn.e.o.Ledger
	if led == nil {
		return nil
	}
	r := rn.r
	// The instance's rows of every method and its send markers: one read.
	view, err := led.ReadInstance(ctx, r.RegionId, r.DBInstanceId)
	if err != nil {
		return rn.ledgerDown(err)
	}
	if o := rn.unknownJobUnlisted(ctx, sets, view); o != nil {
		return o
	}
	var coveredUntil time.Time // send markers up to this are the noted job's, or older than it
	if noted, found := view.Jobs[r.Method()]; found && !noted.Created.Before(r.AskedAt.Add(-lookback)) {
		jobID, created := noted.JobID, noted.Created
		j, known, reqID, out := rn.jobByID(ctx, jobID)
		switch {
		case out != nil:
			return out
		case !known || j.BackupStatus == "Failed":
		case !j.Terminal():
			return ptr(rn.coalescedJob(j, reqID, why))
		case slices.ContainsFunc(sets, func(s rdsclient.BackupSet) bool { return s.BackupId != "" && s.BackupId == j.BackupId }):
			// Listed, and judged: it does not satisfy the ask; a job of an
			// earlier send ended before it, so does not either.
			coveredUntil = created
		case !created.Before(r.AskedAt):
			return ptr(rn.coalescedJob(j, reqID, why+"; RDS does not list its set yet"))
		default:
			wait := rn.e.o.SetLagBound / 4
			return ptr(rn.deferred(rn.now().Add(wait), &backup.ErrorInfo{Code: CodeNotListedYet,
				Message: fmt.Sprintf("backup job %s, made before the ask, has ended but RDS does not list its set yet: whether it ran past the ask is known once it does", jobID)},
				"deferred until RDS lists the backup"))
		}
	}
	return rn.openSends(view.Sends[r.Method()], coveredUntil)
}

// openSends is the last check of a look with the ledger: another delivery
// (of any ask of the method) marked a CreateBackup on the instance
// (NoteInstanceSend) and has not said what it made: it may have got no
// answer, made a job that ended before anyone saw it run, and died or not
// looked yet — RDS lists that job's set only after its lag. The ask is
// deferred until RDS must list it (the marker's time + SetLagBound).
// Markers up to coveredUntil are settled by a job the ledger noted.
func (rn *run) openSends(sends []ledger.Send, coveredUntil time.Time) *backup.Outcome {
	var until time.Time
	for _, s := range sends {
		if s.Owner == rn.owner || !s.At.After(coveredUntil) {
			continue
		}
		if u := s.At.Add(rn.e.o.SetLagBound); rn.now().Before(u) && u.After(until) {
			until = u
		}
	}
	if until.IsZero() {
		return nil
	}
	return ptr(rn.deferred(until, &backup.ErrorInfo{Code: CodeNotListedYet,
		Message: "another delivery sent CreateBackup on the instance with the ask's method and has not said what it made; RDS may not list that backup yet"},
		"deferred until RDS must list any backup that send made"))
}

// satisfiesByMethod says whether a running job j satisfies the ask as far
// as its method goes (DESIGN.md §2a "what satisfies what"):
// DescribeBackupTasks says no method, so without the ledger any running job
// does (RDS runs one at a time). With it, j does when a CreateBackup of
// this very ask may have made it (this run's send is open, or the row says
// a delivery sent one), or when the ledger noted j as the instance's latest
// job of the ask's method. A job noted under another method, or not noted
// at all (console, another tool, automated backups), does not: the ask
// waits for it to end. out: the outcome when the ledger cannot be read.
func (rn *run) satisfiesByMethod(ctx context.Context, j backup.Job) (bool, *backup.Outcome) {
	led := rn.e.o.Ledger
	if led == nil || rn.sendOpen || rn.rowSent {
		return true, nil
	}
	r := rn.r
	jobID, _, found, err := led.LastInstanceJob(ctx, ledger.InstanceKey(r.RegionId, r.DBInstanceId, r.Method()))
	if err != nil {
		return false, rn.ledgerDown(err)
	}
	return found && jobID == j.BackupJobId, nil
}

// unknownMethod is the instance-row method under which a run notes a
// running job it could not prove to be of any ask's method (not made by
// the product, as far as the ledger knows), so that every later ask judges
// it by its set once it ends — RDS may not list that set yet.
const unknownMethod = "Unknown"

// noteUnknownJob notes j, seen running at seen, as the instance's latest
// job of a method nobody knows yet. Best effort.
func (rn *run) noteUnknownJob(ctx context.Context, jobID string, seen time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ledgerCallTimeout)
	defer cancel()
	key := ledger.InstanceKey(rn.r.RegionId, rn.r.DBInstanceId, unknownMethod)
	if err := rn.e.o.Ledger.NoteInstanceJob(ctx, key, jobID, seen); err != nil {
		rn.log.WarnContext(rn.logCtx, "could not note a running job of unknown method in the ledger", slog.String("backupJobId", jobID),
			slog.String("error", clipMessage(err.Error())))
	}
}

// unknownJobUnlisted: the latest running job of unknown method seen on the
// instance (noteUnknownJob), once ended, says its method only through its
// set, which RDS may not list yet. Ended unlisted → deferred until RDS lists
// it; nil otherwise (none, not ended, listed and judged, or known by now to
// be one of ours).
func (rn *run) unknownJobUnlisted(ctx context.Context, sets []rdsclient.BackupSet, view ledger.InstanceView) *backup.Outcome {
	r := rn.r
	unknown, found := view.Jobs[unknownMethod]
	if !found || unknown.Created.Before(r.AskedAt.Add(-lookback)) {
		return nil
	}
	for _, m := range []string{backup.MethodPhysical, backup.MethodLogical, backup.MethodSnapshot} {
		if view.Jobs[m].JobID == unknown.JobID {
			return nil // ours after all, of method m: known without its set
		}
	}
	j, known, _, out := rn.jobByID(ctx, unknown.JobID)
	switch {
	case out != nil:
		return out
	case !known || j.BackupStatus != "Finished":
		return nil
	}
	for _, s := range sets {
		if s.BackupId != "" && s.BackupId == j.BackupId {
			return nil // listed and judged
		}
	}
	return ptr(rn.deferred(rn.now().Add(rn.e.o.SetLagBound/4), &backup.ErrorInfo{Code: CodeNotListedYet,
		Message: fmt.Sprintf("backup job %s, of a method not known to be the ask's, has ended but RDS does not list its set yet: whether it satisfies the ask is known once it does", unknown.JobID)},
		"deferred until RDS lists the backup"))
}

// ledgerDown: the ledger could not be read: the ask is deferred, never
// acted on without its record.
func (rn *run) ledgerDown(err error) *backup.Outcome {
	rn.log.WarnContext(rn.logCtx, "ask ledger unavailable", slog.String("error", clipMessage(err.Error())))
	return ptr(rn.deferred(rn.now().Add(rn.e.policy.Delay(retry.Transient, 0)), &backup.ErrorInfo{Code: CodeLedgerUnavailable,
		Message: "the ask ledger could not be read: " + clipMessage(err.Error())}, "deferred: an ask is never acted on without its record"))
}

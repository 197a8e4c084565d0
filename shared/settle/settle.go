package settle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// ParkDelay is how long a parked outcome waits before it is published again.
const ParkDelay = 15 * time.Second

// logIDLen bounds identifiers in log lines (an instance id is at most 64
// characters; anything longer was refused and is clipped).
const logIDLen = 80

// noteTimeout bounds noting one problem (best effort).
const noteTimeout = 3 * time.Second

// ErrUnsettled is returned when some work could not be settled (neither
// published nor parked): the trigger must redeliver.
var ErrUnsettled = errors.New("some outcomes could not be published or parked; failing the invocation so that the trigger redelivers")

// CodeNotParked: a deferred request could not be written to the work
// queue; the caller must ask again.
const CodeNotParked = "NotParked"

// Publisher publishes outcomes (notify.Publisher).
type Publisher interface {
	Publish(ctx context.Context, o backup.Outcome) error
}

// ProblemNoter records the report's problem rows (ledger.Ledger).
type ProblemNoter interface {
	NoteProblem(ctx context.Context, p ledger.Problem) error
}

// JobTracker starts following an accepted job (tracker.Tracker).
type JobTracker interface {
	Start(r backup.Request, jobID string, started time.Time) (workqueue.Message, time.Duration)
}

// Runner runs asks and calls done as each ends (accounts.Accounts: by
// account, each with its account's client).
type Runner interface {
	RunEach(ctx context.Context, reqs []backup.Request, history func(i int) executor.History, runKey func(i int) string,
		done func(i int, o *backup.Outcome)) []backup.Outcome
}

// A Settler settles the outcomes of one invocation with its clients.
type Settler struct {
	Pub  Publisher
	Work workqueue.Sender
	// Problems is the invocation's ask ledger; nil without
	// BACKUP_LEDGER_ENDPOINT.
	Problems ProblemNoter
	// Tracker starts tracking accepted jobs when TrackJobs
	// (BACKUP_TRACK_JOBS).
	Tracker   JobTracker
	TrackJobs bool
	// Region is the invocation's: requests without a RegionId run there,
	// and their problems are filed there.
	Region string
	// RetryCount is the trigger's redelivery count (FC's RetryCount).
	RetryCount int
	Now        func() time.Time
	Log        *slog.Logger
}

// Job is one request to run with its history, and the summary of the plan
// run it belongs to (nil when none).
type Job struct {
	Req  backup.Request
	Hist executor.History
	Run  *backup.RunSummary
}

// runKey names the run a job belongs to, for a member's session name.
func (j Job) runKey() string {
	if j.Run != nil {
		return j.Run.Key
	}
	return j.Req.CorrelationId
}

// Run runs jobs (bounded, in parallel) with runner and settles every
// outcome. Settling runs on a context of its own (Context), so that work
// the executor deferred at the stop time is still parked and published. An
// outcome that could be neither published nor parked is reported in the
// returned error (the trigger must deliver again) and, for a caller that
// waits (the webhook), turned into a failed outcome that says so.
func (s *Settler) Run(ctx context.Context, runner Runner, jobs []Job, sum *Summary) ([]backup.Outcome, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	reqs := make([]backup.Request, len(jobs))
	now := s.Now()
	for i, j := range jobs {
		if jobs[i].Hist.FirstSeen.IsZero() {
			jobs[i].Hist.FirstSeen = now
		}
		if jobs[i].Hist.RetryCount == 0 {
			jobs[i].Hist.RetryCount = s.RetryCount
		}
		reqs[i] = j.Req
		if reqs[i].AskedAt.IsZero() {
			// A source that does not say when it asked: the ask is as old as
			// its first sight (DESIGN.md §2).
			reqs[i].AskedAt = jobs[i].Hist.FirstSeen.UTC()
		}
	}
	for i := range reqs {
		if reqs[i].RegionId == "" {
			reqs[i].RegionId = s.Region
		}
	}
	// Each outcome is settled (parked, tracked, published: an MNS round
	// trip) as soon as its ask ended, by the worker that ran it, while the
	// others run.
	sctx, cancel := Context(ctx)
	defer cancel()
	settleErrs := make([]error, len(jobs))
	outcomes := runner.RunEach(ctx, reqs, func(i int) executor.History { return jobs[i].Hist }, func(i int) string { return jobs[i].runKey() },
		func(i int, o *backup.Outcome) {
			settleErrs[i] = s.Settle(sctx, o, jobs[i].Hist.FirstSeen)
		})
	var errs []error
	for i := range outcomes {
		if err := settleErrs[i]; err != nil {
			errs = append(errs, err)
			outcomes[i] = unsettled(outcomes[i], err)
		}
		sum.Add(outcomes[i])
		if r := jobs[i].Run; r != nil {
			r.Add(outcomes[i])
		}
	}
	if len(errs) > 0 {
		return outcomes, fmt.Errorf("%w: %w", ErrUnsettled, errors.Join(errs...))
	}
	return outcomes, nil
}

// Context is the context outcomes are settled on: the invocation's
// values (request id for logs), not the stop time the work ran under, and
// a deadline of its own: the invocation's real deadline (the platform
// stops the function then), or config.SettleTimeout when there is none.
// The executor stopped DeadlineMargin before that deadline, so settling has
// at least the margin.
func Context(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), dl)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), config.SettleTimeout)
}

// unsettled is what a waiting caller is told of an outcome that could not
// be settled: it failed, retryably, and the caller should send the same ask
// again (the freshness rules find whatever the first try made).
func unsettled(o backup.Outcome, _ error) backup.Outcome {
	if o.Status != backup.StatusDeferred {
		return o // it happened (accepted, rejected...); only the message was lost
	}
	o.Status, o.Terminal = backup.StatusFailed, true
	// The cause (a work-queue error) is logged, not echoed to the caller.
	o.Error = &backup.ErrorInfo{Code: CodeNotParked, Retryable: true,
		Message: "the request could not be parked for a later try; send the same ask again (the same Idempotency-Key or AskedAt finds whatever this try made)"}
	return o
}

// Settle parks, schedules tracking for, and publishes one outcome.
func (s *Settler) Settle(ctx context.Context, o *backup.Outcome, firstSeen time.Time) error {
	log := s.Log.With(slog.String("correlationId", o.Request.CorrelationId), slog.String("dbInstanceId", backup.Clip(o.Request.DBInstanceId, logIDLen)))
	if o.BackupJobId != "" {
		log = log.With(slog.String("backupJobId", o.BackupJobId))
	}
	switch o.Status {
	case backup.StatusDeferred:
		delay := max(o.NotBefore.Sub(s.Now()), 0)
		if err := s.Work.Send(ctx, workqueue.Backup(o.Request, o.Attempts, firstSeen), delay); err != nil {
			log.ErrorContext(ctx, "could not defer the request to the work queue", slog.String("error", err.Error()))
			return err
		}
		log.InfoContext(ctx, "request deferred", slog.Int64("delayMs", delay.Milliseconds()), slog.Int("attempts", len(o.Attempts)))
	case backup.StatusAccepted, backup.StatusCoalesced:
		if o.Terminal || !s.TrackJobs {
			break
		}
		if o.BackupJobId == "" { // coalesced with a finished backup set: nothing to follow
			o.Terminal = true
			break
		}
		m, d := s.Tracker.Start(o.Request, o.BackupJobId, s.Now())
		if err := s.Work.Send(ctx, m, d); err != nil {
			// Not tracked: the outcome is published non-terminal and the
			// invocation fails, so the trigger delivers the ask again; the
			// redelivery finds the job (or its set) and tracks it. Marking
			// it terminal here would give the ask a second terminal outcome
			// later (DESIGN.md §2).
			log.WarnContext(ctx, "job tracking not scheduled", slog.String("error", err.Error()))
			if perr := s.Publish(ctx, *o); perr != nil {
				return errors.Join(err, perr)
			}
			return fmt.Errorf("job tracking not scheduled: %w", err)
		}
	}
	// The ask's one line at info (the executor's own lines of a call that
	// succeeded are debug): with the ids support and a search need.
	log.InfoContext(ctx, "outcome", slog.String("status", string(o.Status)), slog.Bool("terminal", o.Terminal),
		slog.Int("attempts", len(o.Attempts)), slog.String("code", errCode(o)),
		slog.String("idempotencyKey", backup.Clip(o.Request.IdempotencyKey, logIDLen)), slog.String("rdsRequestId", backup.Clip(o.RequestId, logIDLen)))
	return s.Publish(ctx, *o)
}

// Publish publishes an outcome, parking it in the work queue when MNS keeps
// failing; it fails only when both fail.
func (s *Settler) Publish(ctx context.Context, o backup.Outcome) error {
	defer s.noteProblem(ctx, o) // the report's problem rows, best effort
	err := s.Pub.Publish(ctx, o)
	if err == nil {
		return nil
	}
	var pe *notify.PublishError
	if errors.As(err, &pe) && len(pe.Body) > 0 {
		if perr := s.Work.Send(ctx, pe.Park(), ParkDelay); perr == nil {
			s.Log.WarnContext(ctx, "outcome parked in the work queue", slog.String("eventId", pe.Event.ID), slog.String("error", err.Error()))
			return nil
		} else {
			err = errors.Join(err, perr)
		}
	}
	s.Log.ErrorContext(ctx, "outcome could neither be published nor parked", slog.String("error", err.Error()))
	return err
}

// Reject publishes the rejected outcome of something that never became a
// runnable request (an undecodable message, a bad plan).
func (s *Settler) Reject(ctx context.Context, r backup.Request, err error, sum *Summary) error {
	var info *backup.ErrorInfo
	var v *backup.Violation
	var de *workqueue.DecodeError
	switch {
	case errors.As(err, &v):
		info = backup.ErrorFromViolation(v)
	case errors.As(err, &de):
		info = &backup.ErrorInfo{Code: backup.CodeMalformed, Message: de.Error(), Field: de.Field}
	default:
		info = &backup.ErrorInfo{Code: backup.CodeMalformed, Message: err.Error()}
	}
	return s.PublishRejected(ctx, r, info, sum)
}

// PublishRejected publishes the terminal rejected outcome of r.
func (s *Settler) PublishRejected(ctx context.Context, r backup.Request, info *backup.ErrorInfo, sum *Summary) error {
	_, err := s.PublishEnd(ctx, backup.StatusRejected, r, info, sum)
	return err
}

// PublishEnd publishes the terminal outcome of something that never became
// a runnable request (its idempotency key is derived from the trigger and
// the error when it has none).
func (s *Settler) PublishEnd(ctx context.Context, status backup.Status, r backup.Request, info *backup.ErrorInfo, sum *Summary) (backup.Outcome, error) {
	o := backup.Outcome{Status: status, Terminal: true, Request: r, Error: info, Time: s.Now(), Attempts: []backup.Attempt{}}
	if r.IdempotencyKey == "" {
		o.Request.IdempotencyKey = backup.Key(r.Trigger.Kind, r.Trigger.Source, r.Trigger.DeliveryId, o.Error.Field, o.Error.Message)
		o.Request.CorrelationId = events.CorrelationID(o.Request.IdempotencyKey)
	}
	sum.Add(o)
	// The message is not logged: it may quote the caller's input (the
	// outcome on the notification queue carries it).
	s.Log.WarnContext(ctx, "request "+string(status), slog.String("code", o.Error.Code), slog.String("field", backup.Clip(o.Error.Field, 64)),
		slog.String("correlationId", o.Request.CorrelationId))
	return o, s.Publish(ctx, o)
}

// noteProblem records, best effort, an outcome that refused, failed or
// deferred an ask on an instance as a problem row of the ledger (the
// report's); without a ledger, or for another outcome, it does nothing. A
// failure is logged and never fails the invocation.
func (s *Settler) noteProblem(ctx context.Context, o backup.Outcome) {
	switch o.Status {
	case backup.StatusRejected, backup.StatusFailed, backup.StatusDeferred:
	default:
		return
	}
	if s.Problems == nil || !backup.ValidInstanceID(o.Request.DBInstanceId) {
		return
	}
	p := ledger.Problem{Region: o.Request.RegionId, Instance: o.Request.DBInstanceId, At: o.Time, OutcomeID: notify.EventID(o),
		Status: string(o.Status), Code: errCode(&o), BackupMethod: o.Request.BackupMethod, AskedAt: o.Request.AskedAt}
	if p.Region == "" {
		p.Region = s.Region
	}
	if p.At.IsZero() {
		p.At = s.Now()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), noteTimeout)
	defer cancel()
	if err := s.Problems.NoteProblem(ctx, p); err != nil {
		s.Log.WarnContext(ctx, "problem not noted in the ask ledger (the report will not list it)",
			slog.String("dbInstanceId", p.Instance), slog.String("status", p.Status), slog.String("error", err.Error()))
	}
}

func errCode(o *backup.Outcome) string {
	if o.Error != nil {
		return o.Error.Code
	}
	return ""
}

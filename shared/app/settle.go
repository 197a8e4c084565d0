package app

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
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// parkDelay is how long a parked outcome waits before it is published again.
const parkDelay = 15 * time.Second

// job is one request to run with its history, and the plan run it belongs
// to (nil when none).
type job struct {
	req  backup.Request
	hist executor.History
	run  *planRun
}

// run runs jobs (bounded, in parallel) with the invocation's RDS client and
// settles every outcome. Settling runs on a context of its own (detached
// from the invocation's, bounded by config.SettleTimeout), so that work the
// executor deferred at the stop time is still parked and published. An
// outcome that could be neither published nor parked is reported in the
// returned error (the trigger must deliver again) and, for a caller that
// waits (the webhook), turned into a failed outcome that says so.
func (a *App) run(ctx context.Context, inv *invocation, jobs []job, sum *Summary) ([]backup.Outcome, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	reqs := make([]backup.Request, len(jobs))
	now := a.now()
	for i, j := range jobs {
		if jobs[i].hist.FirstSeen.IsZero() {
			jobs[i].hist.FirstSeen = now
		}
		if jobs[i].hist.RetryCount == 0 {
			jobs[i].hist.RetryCount = inv.retryCount
		}
		reqs[i] = j.req
		if reqs[i].AskedAt.IsZero() {
			// A source that does not say when it asked: the ask is as old as
			// its first sight (DESIGN.md §2).
			reqs[i].AskedAt = jobs[i].hist.FirstSeen.UTC()
		}
	}
	inv.defaultRegion(reqs)
	// Each outcome is settled (parked, tracked, published: an MNS round
	// trip) as soon as its ask ended, by the worker that ran it, while the
	// others run.
	sctx, cancel := settleContext(ctx)
	defer cancel()
	settleErrs := make([]error, len(jobs))
	outcomes := a.runByAccount(ctx, inv, jobs, reqs, func(i int, o *backup.Outcome) {
		settleErrs[i] = a.settle(sctx, inv, o, jobs[i].hist.FirstSeen)
	})
	var errs []error
	for i := range outcomes {
		if err := settleErrs[i]; err != nil {
			errs = append(errs, err)
			outcomes[i] = unsettled(outcomes[i], err)
		}
		sum.add(outcomes[i])
		if pr := jobs[i].run; pr != nil && pr.summary != nil {
			pr.summary.Add(outcomes[i])
		}
	}
	if len(errs) > 0 {
		return outcomes, fmt.Errorf("%w: %w", errUnsettled, errors.Join(errs...))
	}
	return outcomes, nil
}

// settleContext is the context outcomes are settled on: the invocation's
// values (request id for logs), not the stop time the work ran under, and
// a deadline of its own: the invocation's real deadline (the platform
// stops the function then), or config.SettleTimeout when there is none.
// The executor stopped DeadlineMargin before that deadline, so settling has
// at least the margin.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
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

// CodeNotParked: a deferred request could not be written to the work
// queue; the caller must ask again.
const CodeNotParked = "NotParked"

func clipErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// settle parks, schedules tracking for, and publishes one outcome.
func (a *App) settle(ctx context.Context, inv *invocation, o *backup.Outcome, firstSeen time.Time) error {
	log := a.log.With(slog.String("correlationId", o.Request.CorrelationId), slog.String("dbInstanceId", backup.Clip(o.Request.DBInstanceId, logIDLen)))
	if o.BackupJobId != "" {
		log = log.With(slog.String("backupJobId", o.BackupJobId))
	}
	switch o.Status {
	case backup.StatusDeferred:
		delay := max(o.NotBefore.Sub(a.now()), 0)
		if err := inv.work.Send(ctx, workqueue.Backup(o.Request, o.Attempts, firstSeen), delay); err != nil {
			log.ErrorContext(ctx, "could not defer the request to the work queue", slog.String("error", err.Error()))
			return err
		}
		log.InfoContext(ctx, "request deferred", slog.Int64("delayMs", delay.Milliseconds()), slog.Int("attempts", len(o.Attempts)))
	case backup.StatusAccepted, backup.StatusCoalesced:
		if o.Terminal || !a.cfg.TrackJobs {
			break
		}
		if o.BackupJobId == "" { // coalesced with a finished backup set: nothing to follow
			o.Terminal = true
			break
		}
		m, d := a.track.Start(o.Request, o.BackupJobId, a.now())
		if err := inv.work.Send(ctx, m, d); err != nil {
			// Not tracked: the outcome is published non-terminal and the
			// invocation fails, so the trigger delivers the ask again; the
			// redelivery finds the job (or its set) and tracks it. Marking
			// it terminal here would give the ask a second terminal outcome
			// later (DESIGN.md §2).
			log.WarnContext(ctx, "job tracking not scheduled", slog.String("error", err.Error()))
			if perr := a.publish(ctx, inv, *o); perr != nil {
				return errors.Join(err, perr)
			}
			return fmt.Errorf("job tracking not scheduled: %w", err)
		}
	}
	log.InfoContext(ctx, "outcome", slog.String("status", string(o.Status)), slog.Bool("terminal", o.Terminal),
		slog.Int("attempts", len(o.Attempts)), slog.String("code", errCode(o)))
	return a.publish(ctx, inv, *o)
}

// publish publishes an outcome, parking it in the work queue when MNS keeps
// failing; it fails only when both fail.
func (a *App) publish(ctx context.Context, inv *invocation, o backup.Outcome) error {
	defer a.noteProblem(ctx, inv, o) // the report's problem rows (report.go), best effort
	err := inv.pub.Publish(ctx, o)
	if err == nil {
		return nil
	}
	var pe *notify.PublishError
	if errors.As(err, &pe) && len(pe.Body) > 0 {
		if perr := inv.work.Send(ctx, pe.Park(), parkDelay); perr == nil {
			a.log.WarnContext(ctx, "outcome parked in the work queue", slog.String("eventId", pe.Event.ID), slog.String("error", err.Error()))
			return nil
		} else {
			err = errors.Join(err, perr)
		}
	}
	a.log.ErrorContext(ctx, "outcome could neither be published nor parked", slog.String("error", err.Error()))
	return err
}

// reject publishes the rejected outcome of something that never became a
// runnable request (an undecodable message, a bad plan).
func (a *App) reject(ctx context.Context, inv *invocation, r backup.Request, err error, sum *Summary) error {
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
	return a.publishRejected(ctx, inv, r, info, sum)
}

// publishRejected publishes the terminal rejected outcome of r.
func (a *App) publishRejected(ctx context.Context, inv *invocation, r backup.Request, info *backup.ErrorInfo, sum *Summary) error {
	_, err := a.publishEnd(ctx, inv, backup.StatusRejected, r, info, sum)
	return err
}

// publishEnd publishes the terminal outcome of something that never became
// a runnable request (its idempotency key is derived from the trigger and
// the error when it has none).
func (a *App) publishEnd(ctx context.Context, inv *invocation, status backup.Status, r backup.Request, info *backup.ErrorInfo, sum *Summary) (backup.Outcome, error) {
	o := backup.Outcome{Status: status, Terminal: true, Request: r, Error: info, Time: a.now(), Attempts: []backup.Attempt{}}
	if r.IdempotencyKey == "" {
		o.Request.IdempotencyKey = backup.Key(r.Trigger.Kind, r.Trigger.Source, r.Trigger.DeliveryId, o.Error.Field, o.Error.Message)
		o.Request.CorrelationId = events.CorrelationID(o.Request.IdempotencyKey)
	}
	sum.add(o)
	// The message is not logged: it may quote the caller's input (the
	// outcome on the notification queue carries it).
	a.log.WarnContext(ctx, "request "+string(status), slog.String("code", o.Error.Code), slog.String("field", backup.Clip(o.Error.Field, 64)),
		slog.String("correlationId", o.Request.CorrelationId))
	return o, a.publish(ctx, inv, o)
}

func errCode(o *backup.Outcome) string {
	if o.Error != nil {
		return o.Error.Code
	}
	return ""
}

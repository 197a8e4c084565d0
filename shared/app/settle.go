package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// parkDelay is how long a parked outcome waits before it is published again.
const parkDelay = 15 * time.Second

// job is one request to run with its history.
type job struct {
	req  backup.Request
	hist executor.History
}

// run runs jobs (bounded, in parallel) and settles every outcome.
func (a *App) run(ctx context.Context, inv *invocation, jobs []job, sum *Summary) ([]backup.Outcome, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	reqs := make([]backup.Request, len(jobs))
	for i, j := range jobs {
		reqs[i] = j.req
		if jobs[i].hist.FirstSeen.IsZero() {
			jobs[i].hist.FirstSeen = a.now()
		}
		if jobs[i].hist.RetryCount == 0 {
			jobs[i].hist.RetryCount = inv.retryCount
		}
	}
	inv.defaultRegion(reqs)
	outcomes := a.exec.RunAll(ctx, reqs, func(i int) executor.History { return jobs[i].hist })
	var errs []error
	for i := range outcomes {
		if err := a.settle(ctx, inv, &outcomes[i], jobs[i].hist.FirstSeen); err != nil {
			errs = append(errs, err)
		}
		sum.add(outcomes[i])
	}
	if len(errs) > 0 {
		return outcomes, fmt.Errorf("%w: %w", errUnsettled, errors.Join(errs...))
	}
	return outcomes, nil
}

// settle parks, schedules tracking for, and publishes one outcome.
func (a *App) settle(ctx context.Context, inv *invocation, o *backup.Outcome, firstSeen time.Time) error {
	log := a.log.With(slog.String("correlationId", o.Request.CorrelationId), slog.String("DBInstanceId", o.Request.DBInstanceId))
	if o.BackupJobId != "" {
		log = log.With(slog.String("BackupJobId", o.BackupJobId))
	}
	switch o.Status {
	case backup.StatusDeferred:
		delay := o.NotBefore.Sub(a.now())
		if err := inv.work.Send(ctx, workqueue.Backup(o.Request, o.Attempts, firstSeen), delay); err != nil {
			log.ErrorContext(ctx, "could not defer the request to the work queue", slog.String("error", err.Error()))
			return err
		}
		log.InfoContext(ctx, "request deferred", slog.Duration("delay", delay), slog.Int("attempts", len(o.Attempts)))
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
			o.Terminal = true
			o.Note = backup.JoinNote(o.Note, "job tracking could not be scheduled ("+err.Error()+"); this outcome is final")
			log.WarnContext(ctx, "job tracking not scheduled", slog.String("error", err.Error()))
		}
	}
	log.InfoContext(ctx, "outcome", slog.String("status", string(o.Status)), slog.Bool("terminal", o.Terminal),
		slog.Int("attempts", len(o.Attempts)), slog.String("code", errCode(o)))
	return a.publish(ctx, inv, *o)
}

// publish publishes an outcome, parking it in the work queue when MNS keeps
// failing; it fails only when both fail.
func (a *App) publish(ctx context.Context, inv *invocation, o backup.Outcome) error {
	err := inv.pub.Publish(ctx, o)
	if err == nil {
		return nil
	}
	var pe *notify.PublishError
	if errors.As(err, &pe) && len(pe.Body) > 0 {
		if perr := inv.work.Send(ctx, pe.Park(), parkDelay); perr == nil {
			a.log.WarnContext(ctx, "outcome parked in the work queue", slog.String("event", pe.Event.ID), slog.String("error", err.Error()))
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

// selectorFailed ends a plan's Select that could not be expanded into
// instances: rejected when the API refused it for good (a bad region, no
// permission), failed (retryable) when RDS could not be read even after
// the executor's retries. The plan's explicit backups run regardless, so
// every request still ends in one outcome; the selector is tried again on
// the next run or redelivery.
func (a *App) selectorFailed(ctx context.Context, inv *invocation, trig backup.Trigger, sel backup.Selector, err error, sum *Summary) (backup.Outcome, error) {
	if sel.RegionId == "" {
		sel.RegionId = inv.region
	}
	cl := retry.Classify(err)
	status := backup.StatusFailed
	if cl == retry.Terminal {
		status = backup.StatusRejected
	}
	code := "InternalError"
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) && c.ErrorCode() != "" {
		code = c.ErrorCode()
	}
	info := &backup.ErrorInfo{Code: code, Message: "Select could not be expanded: " + err.Error(), Retryable: cl.Retryable(), Field: "Select"}
	return a.publishEnd(ctx, inv, status, backup.Request{Trigger: trig, RegionId: sel.RegionId}, info, sum)
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
	a.log.WarnContext(ctx, "request "+string(status), slog.String("code", o.Error.Code), slog.String("field", o.Error.Field),
		slog.String("message", o.Error.Message), slog.String("correlationId", o.Request.CorrelationId))
	return o, a.publish(ctx, inv, o)
}

// fanOut writes requests to the work queue as "backup" messages (16 per
// BatchSendMessage), for the queue function to run in parallel.
func (a *App) fanOut(ctx context.Context, inv *invocation, reqs []backup.Request, sum *Summary) error {
	inv.defaultRegion(reqs)
	now := a.now()
	msgs := make([]workqueue.Message, len(reqs))
	for i, r := range reqs {
		msgs[i] = workqueue.Backup(r, nil, now)
	}
	var err error
	for try := 0; try < 3; try++ {
		if err = inv.work.SendBatch(ctx, msgs); err == nil {
			sum.FannedOut += len(reqs)
			a.log.InfoContext(ctx, "fanned out to the work queue", slog.Int("requests", len(reqs)))
			return nil
		}
		// Resend only the entries that failed; the others are queued.
		var failed []workqueue.Message
		var be interface{ Failed() []int }
		if errors.As(err, &be) {
			for _, i := range be.Failed() {
				failed = append(failed, msgs[i])
			}
			sum.FannedOut += len(msgs) - len(failed)
			msgs = failed
		}
		if ctx.Err() != nil {
			break
		}
	}
	a.log.ErrorContext(ctx, "fan-out to the work queue failed", slog.Int("unsent", len(msgs)), slog.String("error", err.Error()))
	return fmt.Errorf("%w: fan-out: %w", errUnsettled, err)
}

func errCode(o *backup.Outcome) string {
	if o.Error != nil {
		return o.Error.Code
	}
	return ""
}

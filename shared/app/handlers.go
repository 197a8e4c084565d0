package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// HandleTimer runs the backup plan in a timer event's payload.
func (a *App) HandleTimer(ctx context.Context, raw json.RawMessage) (Summary, error) {
	var sum Summary
	ctx, inv, err := a.begin(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "invocation cannot start", slog.String("error", err.Error()))
		return sum, err
	}
	ev, err := events.ParseTimer(raw)
	if err != nil {
		return sum, a.reject(ctx, inv, backup.Request{Trigger: backup.Trigger{Kind: events.KindTimer}}, err, &sum)
	}
	reqs, plan, err := ev.Requests()
	if err != nil {
		return sum, a.reject(ctx, inv, backup.Request{Trigger: ev.Trigger()}, err, &sum)
	}
	more, err := a.expand(ctx, inv, plan, ev.Trigger())
	if err != nil {
		if _, perr := a.selectorFailed(ctx, inv, ev.Trigger(), *plan.Select, err, &sum); perr != nil {
			return sum, perr
		}
	}
	reqs = dedupe(append(reqs, more...))
	sum.Requests = len(reqs)
	a.log.InfoContext(ctx, "timer plan", slog.String("trigger", ev.TriggerName), slog.String("triggerTime", ev.TriggerTime),
		slog.Int("requests", len(reqs)))
	if len(reqs) > a.cfg.InlineLimit {
		return sum, a.fanOut(ctx, inv, reqs, &sum)
	}
	_, err = a.run(ctx, inv, jobsOf(reqs, executor.History{}), &sum)
	return sum, err
}

// expand turns a plan's Select into requests (DescribeDBInstances, paged).
func (a *App) expand(ctx context.Context, inv *invocation, plan backup.Plan, trig backup.Trigger) ([]backup.Request, error) {
	if plan.Select == nil {
		return nil, nil
	}
	sel := *plan.Select
	if sel.RegionId == "" {
		sel.RegionId = inv.region
	}
	specs, err := a.exec.Expand(ctx, sel, plan.Defaults)
	if err != nil {
		return nil, err
	}
	for i := range specs {
		if specs[i].RegionId == "" {
			specs[i].RegionId = sel.RegionId
		}
	}
	return events.NormalizePlan(backup.Plan{Backups: specs}, trig), nil
}

// HandleQueue settles every message of an EventBridge batch on its own:
// user requests, and the work queue's own messages (resumed requests, job
// tracking, parked outcomes, fan-out chunks). It returns an error only when
// a message could not be settled at all, so that EventBridge pushes the
// batch again (duplicates then coalesce).
func (a *App) HandleQueue(ctx context.Context, raw json.RawMessage) (Summary, error) {
	var sum Summary
	ctx, inv, err := a.begin(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "invocation cannot start", slog.String("error", err.Error()))
		return sum, err
	}
	msgs, err := events.ParseMNS(raw)
	if err != nil {
		// Not one message can be told apart: nothing to settle or retry.
		a.log.ErrorContext(ctx, "undecodable MNS event dropped", slog.String("error", err.Error()), slog.Int("bytes", len(raw)))
		return sum, a.reject(ctx, inv, backup.Request{Trigger: backup.Trigger{Kind: events.KindMNS}}, err, &sum)
	}
	sum.Messages = len(msgs)
	var jobs []job
	var errs []error
	for _, m := range msgs {
		body := m.Payload()
		if m.Err == nil && workqueue.IsEnvelope(body) {
			js, err := a.workMessage(ctx, inv, m, body, &sum)
			jobs = append(jobs, js...)
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		reqs, plan, err := m.Requests()
		if err != nil {
			if rerr := a.reject(ctx, inv, backup.Request{Trigger: m.Trigger()}, err, &sum); rerr != nil {
				errs = append(errs, rerr)
			}
			continue
		}
		more, err := a.expand(ctx, inv, plan, m.Trigger())
		if err != nil {
			if _, perr := a.selectorFailed(ctx, inv, m.Trigger(), *plan.Select, err, &sum); perr != nil {
				errs = append(errs, perr)
			}
		}
		reqs = dedupe(append(reqs, more...))
		sum.Requests += len(reqs)
		if len(reqs) > a.cfg.InlineLimit {
			if err := a.fanOut(ctx, inv, reqs, &sum); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		jobs = append(jobs, jobsOf(reqs, executor.History{RetryCount: inv.retryCount})...)
	}
	if _, err := a.run(ctx, inv, jobs, &sum); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return sum, errors.Join(errs...)
	}
	return sum, nil
}

// workMessage handles one of the work queue's own messages; a backup
// message becomes a job for the batch's run.
func (a *App) workMessage(ctx context.Context, inv *invocation, m events.MNSMessage, body []byte, sum *Summary) ([]job, error) {
	wm, err := workqueue.Decode(body)
	if err != nil {
		// A broken internal message is poison: reject it, never retry it.
		return nil, a.reject(ctx, inv, backup.Request{Trigger: backup.Trigger{Kind: "work", Source: m.Source, DeliveryId: m.ID}}, err, sum)
	}
	switch wm.Kind {
	case workqueue.KindBackup:
		sum.Requests++
		return []job{{req: wm.Request, hist: executor.History{Attempts: wm.Attempts, FirstSeen: wm.FirstSeen, RetryCount: inv.retryCount}}}, nil
	case workqueue.KindPlan:
		sum.Requests += len(wm.Requests)
		return jobsOf(wm.Requests, executor.History{RetryCount: inv.retryCount}), nil
	case workqueue.KindTrack:
		res := a.track.Check(ctx, wm, a.now())
		if res.Done() {
			o := *res.Outcome
			sum.add(o)
			return nil, a.publish(ctx, inv, o)
		}
		if res.Next == nil {
			return nil, a.reject(ctx, inv, wm.Request, res.Err, sum)
		}
		sum.Tracking++
		if err := inv.work.Send(ctx, *res.Next, res.Delay); err != nil {
			return nil, fmt.Errorf("%w: re-schedule tracking of job %s: %w", errUnsettled, wm.BackupJobId, err)
		}
		return nil, nil
	case workqueue.KindOutcome:
		if err := inv.pub.PublishParked(ctx, wm); err != nil {
			if perr := inv.work.Send(ctx, wm, parkDelay); perr != nil {
				return nil, fmt.Errorf("%w: parked outcome: %w", errUnsettled, errors.Join(err, perr))
			}
		}
		sum.Republished++
		return nil, nil
	}
	return nil, a.reject(ctx, inv, wm.Request, fmt.Errorf("unknown work message kind %q", wm.Kind), sum)
}

// HandleHTTP serves the webhook function's HTTP API.
func (a *App) HandleHTTP(ctx context.Context, raw json.RawMessage) (events.HTTPResponse, error) {
	if a.hook == nil {
		return events.HTTPResponse{}, errors.New("app: HandleHTTP is served by the webhook function")
	}
	ctx, _, err := a.begin(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "invocation cannot start", slog.String("error", err.Error()))
		return events.HTTPResponse{StatusCode: 503, Headers: map[string]string{"Content-Type": "application/json"},
			Body: `{"error":{"code":"ServiceUnavailable","message":"the function cannot reach its dependencies"}}`}, nil
	}
	return a.hook.HandleRaw(ctx, raw)
}

// submitter runs a webhook's requests inline (never fanned out: the caller
// waits for job ids) and settles them.
type submitter struct{ a *App }

func (s submitter) Submit(ctx context.Context, trig backup.Trigger, reqs []backup.Request, plan backup.Plan) []backup.Outcome {
	a, inv := s.a, invocationFrom(ctx)
	var sum Summary
	more, err := a.expand(ctx, inv, plan, trig)
	if err != nil {
		// The caller gets an entry for the selector and can retry.
		o, perr := a.selectorFailed(ctx, inv, trig, *plan.Select, err, &sum)
		if perr != nil {
			a.log.ErrorContext(ctx, "selector outcome not published", slog.String("error", perr.Error()))
		}
		return append(s.runAll(ctx, inv, reqs, &sum), o)
	}
	return s.runAll(ctx, inv, dedupe(append(reqs, more...)), &sum)
}

func (s submitter) runAll(ctx context.Context, inv *invocation, reqs []backup.Request, sum *Summary) []backup.Outcome {
	a := s.a
	jobs := make([]job, len(reqs))
	for i, r := range reqs {
		jobs[i] = job{req: r, hist: executor.History{CallerKey: webhook.HasCallerKey(r.Trigger)}}
	}
	outcomes, err := a.run(ctx, inv, jobs, sum)
	if err != nil {
		a.log.ErrorContext(ctx, "webhook outcomes not settled", slog.String("error", err.Error()))
	}
	return outcomes
}

// rejecter publishes the rejected outcome of a request a route refused.
type rejecter struct{ a *App }

func (r rejecter) Rejected(ctx context.Context, req backup.Request, e *backup.ErrorInfo) {
	if err := r.a.publishRejected(ctx, invocationFrom(ctx), req, e, &Summary{}); err != nil {
		r.a.log.ErrorContext(ctx, "rejected outcome not published", slog.String("error", err.Error()))
	}
}

func jobsOf(reqs []backup.Request, h executor.History) []job {
	js := make([]job, len(reqs))
	for i, r := range reqs {
		js[i] = job{req: r, hist: h}
	}
	return js
}

// dedupe drops requests with the same idempotency key (an instance named
// both explicitly and by a selector with the same parameters: the key
// covers the trigger, the instance and every parameter).
func dedupe(reqs []backup.Request) []backup.Request {
	seen := map[string]bool{}
	out := make([]backup.Request, 0, len(reqs))
	for _, r := range reqs {
		if r.IdempotencyKey != "" && seen[r.IdempotencyKey] {
			continue
		}
		seen[r.IdempotencyKey] = true
		out = append(out, r)
	}
	return out
}

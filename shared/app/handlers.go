package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fc-rds-backup/fc-rds-backup/shared/admit"
	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/planrun"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/settle"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// HandleTimer runs the backup plan in a timer event's payload: the first
// BACKUP_INLINE_LIMIT asks inline, the rest in steps of the queue function
// (run.go); the run ends in one rds.backup.run event.
func (a *App) HandleTimer(ctx context.Context, raw json.RawMessage) (Summary, error) {
	var sum Summary
	ctx, inv, err := a.begin(ctx, triggerTimer)
	if err != nil {
		a.log.ErrorContext(ctx, "invocation cannot start", slog.String("error", err.Error()))
		return sum, err
	}
	ev, err := events.ParseTimer(raw)
	if err != nil {
		return sum, inv.settle.Reject(ctx, backup.Request{Trigger: backup.Trigger{Kind: events.KindTimer}}, err, &sum)
	}
	reqs, plan, err := ev.Requests()
	if err == nil {
		err = inv.admit.Call(reqs, plan)
	}
	if err != nil {
		return sum, inv.settle.Reject(ctx, backup.Request{Trigger: ev.Trigger()}, err, &sum)
	}
	a.log.InfoContext(ctx, "timer plan", slog.String("triggerName", ev.TriggerName), slog.String("triggerTime", ev.TriggerTime),
		slog.Int("requests", len(reqs)), slog.Bool("select", plan.Select != nil))
	pr := &planrun.Run{Trigger: ev.Trigger(), AskedAt: events.ParseAskedAt(ev.TriggerTime), Reqs: reqs, Select: plan.Select,
		Defaults: plan.Defaults, Summary: planrun.NewSummary(ev.Trigger())}
	inv.steps.Parallel(pr)
	jobs, errs := inv.steps.Step(ctx, pr, a.cfg.InlineLimit, executor.History{}, &sum)
	inv.steps.HandOn(ctx, []*planrun.Run{pr})
	if _, err := inv.settle.Run(ctx, inv.accounts, jobs, &sum); err != nil {
		errs = append(errs, err)
	}
	if err := inv.steps.Finish(ctx, []*planrun.Run{pr}); err != nil {
		errs = append(errs, err)
	}
	sum.Continued += planrun.Continued(pr)
	return sum, errors.Join(errs...)
}

// CodeUnauthenticated: a work-queue envelope that is not sealed with the
// functions' key (issue 12).
const CodeUnauthenticated = "WorkMessage.Unauthenticated"

// The admission codes (shared/admit).
const (
	CodeSelectNotAllowed      = admit.CodeSelectNotAllowed
	CodeFleetSelectNotAllowed = admit.CodeFleetSelectNotAllowed
)

// HandleQueue settles every message of an EventBridge batch on its own:
// user requests, and the work queue's own messages (resumed requests, job
// tracking, parked outcomes, fan-out chunks). It returns an error only when
// a message could not be settled at all, so that EventBridge pushes the
// batch again (duplicates then coalesce).
func (a *App) HandleQueue(ctx context.Context, raw json.RawMessage) (Summary, error) {
	var sum Summary
	ctx, inv, err := a.begin(ctx, triggerPubSub)
	if err != nil {
		a.log.ErrorContext(ctx, "invocation cannot start", slog.String("error", err.Error()))
		return sum, err
	}
	msgs, err := events.ParseMNS(raw)
	if err != nil {
		// Not one message can be told apart: nothing to settle or retry.
		a.log.ErrorContext(ctx, "undecodable MNS event dropped", slog.String("error", err.Error()), slog.Int("bytes", len(raw)))
		return sum, inv.settle.Reject(ctx, backup.Request{Trigger: backup.Trigger{Kind: events.KindMNS}}, err, &sum)
	}
	sum.Messages = len(msgs)
	var jobs []settle.Job
	var errs []error
	var runs []*planrun.Run
	// The steps of parallel plan runs in the batch read their Select pages
	// at once (each a DescribeDBInstances call), and each step's asks run
	// as soon as its page is read, while the batch's other messages are
	// handled.
	wms, stepped := a.parallelSteps(inv, msgs)
	var steps []planrun.StepResult
	stepsDone := make(chan struct{})
	go func() {
		defer close(stepsDone)
		steps = inv.steps.StepAll(ctx, wms, executor.History{RetryCount: inv.retryCount}, func(r *planrun.StepResult) {
			inv.steps.HandOn(ctx, []*planrun.Run{r.Run})
			if _, err := inv.settle.Run(ctx, inv.accounts, r.Jobs, &r.Sum); err != nil {
				r.Errs = append(r.Errs, err)
			}
		})
	}()
	for i, m := range msgs {
		if stepped[i] {
			continue
		}
		body := m.Payload()
		if m.Err == nil && workqueue.IsEnvelope(body) {
			js, pr, err := a.workMessage(ctx, inv, m, body, &sum)
			jobs = append(jobs, js...)
			if pr != nil {
				runs = append(runs, pr)
			}
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		reqs, plan, err := m.Requests()
		if err == nil {
			err = inv.admit.MNS(reqs, plan)
		}
		if err != nil {
			if rerr := inv.settle.Reject(ctx, backup.Request{Trigger: m.Trigger()}, err, &sum); rerr != nil {
				errs = append(errs, rerr)
			}
			continue
		}
		pr := &planrun.Run{Trigger: m.Trigger(), AskedAt: m.Time, Reqs: reqs, Select: plan.Select, Defaults: plan.Defaults}
		if plan.Select != nil {
			// Allowed (admitMNS): the whole Select is read first and the
			// call is bounded like any other; nothing runs past the bound.
			more, facts, err := inv.steps.Expand(ctx, plan, m.Trigger(), m.Time)
			if err == nil {
				reqs = planrun.Dedupe(append(reqs, more...))
				if v := backup.TooMany("Select", len(reqs), a.cfg.MaxRequests); v != nil {
					err = v
				}
			}
			if err != nil {
				// Past the bound: rejected. A Select that cannot be read is
				// not handed on page by page (that would run unbounded): the
				// message ends failed, and its sender may send it again.
				r := backup.Request{Trigger: m.Trigger(), AskedAt: m.Time}
				var perr error
				var v *backup.Violation
				if errors.As(err, &v) {
					perr = inv.settle.Reject(ctx, r, err, &sum)
				} else {
					_, perr = inv.settle.PublishEnd(ctx, backup.StatusFailed, r, &backup.ErrorInfo{Code: "InternalError", Field: "Select",
						Message: "Select could not be read: " + clipErr(err), Retryable: retry.Classify(err).Retryable()}, &sum)
				}
				if perr != nil {
					errs = append(errs, perr)
				}
				continue
			}
			pr.Reqs, pr.Select, pr.Facts = reqs, nil, facts
		}
		if len(plan.Backups) > 1 || plan.Select != nil {
			pr.Summary = planrun.NewSummary(m.Trigger()) // a plan: its run ends in a summary
			inv.steps.Parallel(pr)
		}
		js, perrs := inv.steps.Step(ctx, pr, a.cfg.InlineLimit, executor.History{RetryCount: inv.retryCount}, &sum)
		jobs = append(jobs, js...)
		errs = append(errs, perrs...)
		runs = append(runs, pr)
	}
	inv.steps.HandOn(ctx, runs)
	if _, err := inv.settle.Run(ctx, inv.accounts, jobs, &sum); err != nil {
		errs = append(errs, err)
	}
	<-stepsDone
	for _, st := range steps {
		runs = append(runs, st.Run)
		errs = append(errs, st.Errs...)
		sum.Merge(st.Sum)
	}
	if err := inv.steps.Finish(ctx, runs); err != nil {
		errs = append(errs, err)
	}
	sum.Continued += planrun.Continued(runs...)
	if len(errs) > 0 {
		return sum, errors.Join(errs...)
	}
	return sum, nil
}

// parallelSteps picks the batch's parallel plan-run steps (sealed plan or
// select messages that name a step, when the ledger counts them), to be
// run at once (planrun's StepAll); stepped marks the messages it took.
// Any other message, or one that does not open or admit, is left to
// workMessage. A step that is in the batch twice (delivered again before
// its first delivery was acknowledged) is run once: the two would race
// for its asks, and the run counts a step once anyway.
func (a *App) parallelSteps(inv *invocation, msgs []events.MNSMessage) ([]workqueue.Message, map[int]bool) {
	stepped := map[int]bool{}
	if inv.ledger == nil {
		return nil, stepped
	}
	var wms []workqueue.Message
	seen := map[string]bool{}
	for i, m := range msgs {
		body := m.Payload()
		if m.Err != nil || !workqueue.IsEnvelope(body) {
			continue
		}
		wm, err := a.sealer.Open(body)
		if err != nil || wm.Step == "" || (wm.Kind != workqueue.KindPlan && wm.Kind != workqueue.KindSelect) || inv.admit.Work(wm) != nil {
			continue
		}
		stepped[i] = true
		id := wm.Step
		if wm.Run != nil {
			id = wm.Run.Key + "/" + wm.Step
		}
		if !seen[id] {
			seen[id] = true
			wms = append(wms, wm)
		}
	}
	return wms, stepped
}

// workMessage handles one of the work queue's own messages; a backup
// message becomes a job for the batch's run, a plan step runs its part
// (planrun), a track or outcome message is a follow-up (reask).
func (a *App) workMessage(ctx context.Context, inv *invocation, m events.MNSMessage, body []byte, sum *Summary) ([]settle.Job, *planrun.Run, error) {
	wm, err := a.sealer.Open(body)
	if errors.Is(err, workqueue.ErrUnauthenticated) {
		// Not the functions' own (forged, altered, unsigned): one rejected
		// outcome naming the message, and nothing of it is acted on,
		// republished or logged.
		r := backup.Request{Trigger: backup.Trigger{Kind: "work", Source: m.Source, DeliveryId: m.ID}}
		return nil, nil, inv.settle.PublishRejected(ctx, r, &backup.ErrorInfo{Code: CodeUnauthenticated, Field: "mac",
			Message: "a work-queue envelope that is not sealed with the functions' key (forged, altered or unsigned) was not acted on"}, sum)
	}
	if err != nil {
		// A broken internal message is poison: reject it, never retry it.
		return nil, nil, inv.settle.Reject(ctx, backup.Request{Trigger: backup.Trigger{Kind: "work", Source: m.Source, DeliveryId: m.ID}}, err, sum)
	}
	if err := inv.admit.Work(wm); err != nil {
		r := wm.Request
		if r.Trigger.Kind == "" {
			r.Trigger = backup.Trigger{Kind: "work", Source: m.Source, DeliveryId: m.ID}
		}
		return nil, nil, inv.settle.Reject(ctx, r, err, sum)
	}
	switch wm.Kind {
	case workqueue.KindBackup:
		sum.Requests++
		return []settle.Job{{Req: wm.Request, Hist: executor.History{Attempts: wm.Attempts, FirstSeen: wm.FirstSeen, RetryCount: inv.retryCount, Facts: wm.Facts}}}, nil, nil
	case workqueue.KindPlan, workqueue.KindSelect:
		// The next step of a plan run.
		pr := planrun.FromMessage(wm)
		js, errs := inv.steps.Step(ctx, pr, planrun.ChunkSize, executor.History{RetryCount: inv.retryCount}, sum)
		return js, pr, errors.Join(errs...)
	case workqueue.KindTrack:
		return nil, nil, inv.reask.Track(ctx, wm, sum)
	case workqueue.KindOutcome:
		return nil, nil, inv.reask.Republish(ctx, wm, sum)
	}
	return nil, nil, inv.settle.Reject(ctx, wm.Request, fmt.Errorf("unknown work message kind %q", wm.Kind), sum)
}

// HandleHTTP serves the webhook function's HTTP API.
func (a *App) HandleHTTP(ctx context.Context, raw json.RawMessage) (events.HTTPResponse, error) {
	if a.hook == nil {
		return events.HTTPResponse{}, errors.New("app: HandleHTTP is served by the webhook function")
	}
	ctx, _, err := a.begin(ctx, triggerHTTP)
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
	if v := inv.admit.Webhook(reqs, plan); v != nil {
		o, perr := inv.settle.PublishEnd(ctx, backup.StatusRejected, backup.Request{Trigger: trig, AskedAt: plan.AskedAt}, backup.ErrorFromViolation(v), &sum)
		if perr != nil {
			a.log.ErrorContext(ctx, "rejected outcome not published", slog.String("error", perr.Error()))
		}
		return []backup.Outcome{o}
	}
	askedAt := plan.AskedAt
	for _, r := range reqs {
		if !r.AskedAt.IsZero() {
			askedAt = r.AskedAt
			break
		}
	}
	more, facts, err := inv.steps.Expand(ctx, plan, trig, askedAt)
	var extra []backup.Outcome
	if err != nil {
		// The caller gets an entry for the selector: deferred (it is read
		// again by the queue function) or final.
		pr := &planrun.Run{Trigger: trig, AskedAt: askedAt, Select: plan.Select, Defaults: plan.Defaults}
		o, _, perr := inv.steps.SelectorFailed(ctx, pr, err, &sum)
		if perr == nil {
			perr = inv.steps.Finish(ctx, []*planrun.Run{pr})
		}
		if perr != nil {
			a.log.ErrorContext(ctx, "selector outcome not settled", slog.String("error", perr.Error()))
		}
		extra = append(extra, o)
	}
	reqs = planrun.Dedupe(append(reqs, more...))
	if v := backup.TooMany("Select", len(reqs), a.cfg.MaxRequests); v != nil {
		// A Select that expands past the limit runs nothing: one rejected
		// outcome (the webhook answers 413).
		o, perr := inv.settle.PublishEnd(ctx, backup.StatusRejected, backup.Request{Trigger: trig, AskedAt: askedAt},
			backup.ErrorFromViolation(v), &sum)
		if perr != nil {
			a.log.ErrorContext(ctx, "rejected outcome not published", slog.String("error", perr.Error()))
		}
		return []backup.Outcome{o}
	}
	jobs := make([]settle.Job, len(reqs))
	for i, r := range reqs {
		jobs[i] = settle.Job{Req: r, Hist: executor.History{CallerKey: webhook.HasCallerKey(r.Trigger)}}
		if f, ok := facts[r.DBInstanceId]; ok {
			jobs[i].Hist.Facts = &f
		}
	}
	outcomes, err := inv.settle.Run(ctx, inv.accounts, jobs, &sum)
	if err != nil {
		// Outcomes that could not be settled come back as failed entries
		// (run): the caller sends the same ask again.
		a.log.ErrorContext(ctx, "webhook outcomes not settled", slog.String("error", err.Error()))
	}
	return append(outcomes, extra...)
}

// rejecter publishes the rejected outcome of a request a route refused.
type rejecter struct{ a *App }

func (r rejecter) Rejected(ctx context.Context, req backup.Request, e *backup.ErrorInfo) {
	if err := invocationFrom(ctx).settle.PublishRejected(ctx, req, e, &Summary{}); err != nil {
		r.a.log.ErrorContext(ctx, "rejected outcome not published", slog.String("error", err.Error()))
	}
}

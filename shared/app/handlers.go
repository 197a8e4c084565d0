package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tracker"
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
		return sum, a.reject(ctx, inv, backup.Request{Trigger: backup.Trigger{Kind: events.KindTimer}}, err, &sum)
	}
	reqs, plan, err := ev.Requests()
	if err == nil {
		err = a.admit(inv, reqs, plan)
	}
	if err != nil {
		return sum, a.reject(ctx, inv, backup.Request{Trigger: ev.Trigger()}, err, &sum)
	}
	a.log.InfoContext(ctx, "timer plan", slog.String("triggerName", ev.TriggerName), slog.String("triggerTime", ev.TriggerTime),
		slog.Int("requests", len(reqs)), slog.Bool("select", plan.Select != nil))
	pr := &planRun{trig: ev.Trigger(), askedAt: events.ParseAskedAt(ev.TriggerTime), reqs: reqs, sel: plan.Select,
		defaults: plan.Defaults, summary: newRun(ev.Trigger())}
	a.parallel(pr)
	jobs, errs := a.step(ctx, inv, pr, a.cfg.InlineLimit, executor.History{}, &sum)
	if _, err := a.run(ctx, inv, jobs, &sum); err != nil {
		errs = append(errs, err)
	}
	if err := a.finishRuns(ctx, inv, []*planRun{pr}); err != nil {
		errs = append(errs, err)
	}
	sum.Continued += countNext(pr)
	return sum, errors.Join(errs...)
}

func countNext(prs ...*planRun) int {
	n := 0
	for _, pr := range prs {
		if pr.next != nil {
			n++
		}
		n += len(pr.children)
	}
	return n
}

// CodeUnauthenticated: a work-queue envelope that is not sealed with the
// functions' key (issue 12).
const CodeUnauthenticated = "WorkMessage.Unauthenticated"

// CodeSelectNotAllowed: an MNS message carries a Select and the deployment
// does not let the work queue's senders select instances
// (BACKUP_MNS_SELECT, default refuse).
const CodeSelectNotAllowed = "Select.NotAllowed"

// admitMNS checks a user's MNS message like admit, and its Select against
// the deployment: anyone with SendMessage on the work queue may send one,
// so a Select there is refused unless BACKUP_MNS_SELECT=allow (its
// expansion is then bounded like any call, in HandleQueue). A timer plan's
// Select is the operator's and is not refused; the functions' own sealed
// plan steps never come here (workMessage).
func (a *App) admitMNS(inv *invocation, reqs []backup.Request, plan backup.Plan) error {
	if plan.Select != nil && (len(plan.Select.Accounts) > 0 || len(plan.Select.Regions) > 0) {
		return &backup.Violation{Code: CodeFleetSelectNotAllowed, HTTPStatus: 403, Field: "Select",
			Message: "Select: Accounts and Regions are for timer plans (a Select across accounts or regions runs in steps the ask ledger counts); name the backups, with their AccountId, instead"}
	}
	if plan.Select != nil && !a.cfg.MNSSelect {
		return &backup.Violation{Code: CodeSelectNotAllowed, HTTPStatus: 403, Field: "Select",
			Message: "Select: an MNS message may not select instances (BACKUP_MNS_SELECT=refuse, the default): name the backups, or select by tag in a timer plan; an operator who wants it sets BACKUP_MNS_SELECT=allow, bounded by BACKUP_MAX_REQUESTS_PER_CALL"}
	}
	return a.admit(inv, reqs, plan)
}

// admit checks a call (a timer plan, an MNS message) against the
// deployment before any of it runs, is logged by name or reaches an RDS
// client (DESIGN.md §5): at most BACKUP_MAX_REQUESTS_PER_CALL explicit
// backups, and every RegionId it names one the deployment allows. A refused
// call ends in one rejected outcome, not one per request. The error is a
// *backup.Violation.
func (a *App) admit(inv *invocation, reqs []backup.Request, plan backup.Plan) error {
	if v := backup.TooMany("Backups", max(len(reqs), len(plan.Backups)), a.cfg.MaxRequests); v != nil {
		return v
	}
	if err := admitRegions(inv, reqs, plan); err != nil {
		return err // an account or region not allowed is named first, ledger or not
	}
	if plan.Select != nil && fleetSelect(*plan.Select) && a.runs == nil {
		return &backup.Violation{Code: CodeFleetSelectNotAllowed, HTTPStatus: 400, Field: "Select",
			Message: "Select: a Select across accounts or regions runs in parallel steps that the ask ledger counts; set BACKUP_LEDGER_ENDPOINT, or name one account and region"}
	}
	return nil
}

func admitRegions(inv *invocation, reqs []backup.Request, plan backup.Plan) error {
	if _, v := inv.regions.CheckRequests(reqs); v != nil {
		return v
	}
	if v := inv.regions.CheckPlan(plan); v != nil {
		return v
	}
	// The accounts, after the regions and before anything is built or any
	// STS call is made (DESIGN.md §10).
	if _, v := inv.fleet.CheckRequests(reqs); v != nil {
		return v
	}
	if v := inv.fleet.CheckPlan(plan, inv.regions); v != nil {
		return v
	}
	return nil
}

// CodeFleetSelectNotAllowed: a Select with Accounts or Regions anywhere
// but in a timer plan (an MNS message, a webhook).
const CodeFleetSelectNotAllowed = "Select.FleetNotAllowed"

// admitWebhook keeps webhooks in the functions' own account: a route's
// caller may not name another account (AccountId) or a Select across
// accounts or regions. The choice (docs/fleets.md): a route's allow-list
// names instance ids, not accounts, so a delivery naming a member account
// is refused before any STS call; a route opt-in is future work.
func admitWebhook(inv *invocation, reqs []backup.Request, plan backup.Plan) *backup.Violation {
	if plan.Select != nil && (len(plan.Select.Accounts) > 0 || len(plan.Select.Regions) > 0) {
		return &backup.Violation{Code: CodeFleetSelectNotAllowed, HTTPStatus: 403, Field: "Select",
			Message: "Select: a webhook may not select across accounts or regions (Accounts, Regions); use a timer plan"}
	}
	for _, r := range append(reqs, backup.Request{AccountId: plan.Defaults.AccountId}) {
		if inv.fleet.Member(r.AccountId) {
			return &backup.Violation{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403, Field: "AccountId",
				Message: fmt.Sprintf("AccountId %s: a webhook may not reach another account than the functions' own; use a timer plan", backup.Quote(r.AccountId, 48))}
		}
	}
	return nil
}

// admitWork checks a work-queue message's regions like admit (defence in
// depth: the functions wrote it, and it is authenticated).
func admitWork(inv *invocation, wm workqueue.Message) error {
	reqs := wm.Requests
	if wm.Kind == workqueue.KindBackup || wm.Kind == workqueue.KindTrack {
		reqs = []backup.Request{wm.Request}
	}
	plan := backup.Plan{Defaults: wm.Defaults, Select: wm.Select}
	return admitRegions(inv, reqs, plan)
}

// expand turns a plan's Select into requests (DescribeDBInstances, paged),
// each with the plan's askedAt, and the listing's facts per instance.
func (a *App) expand(ctx context.Context, inv *invocation, plan backup.Plan, trig backup.Trigger, askedAt time.Time) ([]backup.Request, map[string]backup.InstanceFacts, error) {
	if plan.Select == nil {
		return nil, nil, nil
	}
	sel := *plan.Select
	if sel.RegionId == "" {
		sel.RegionId = inv.region
	}
	targets, err := a.exec.Expand(ctx, inv.rds, sel, plan.Defaults)
	if err != nil {
		return nil, nil, err
	}
	specs := make([]backup.Spec, len(targets))
	facts := make(map[string]backup.InstanceFacts, len(targets))
	for i, t := range targets {
		specs[i] = t.Spec
		if specs[i].RegionId == "" {
			specs[i].RegionId = sel.RegionId
		}
		facts[t.Facts.DBInstanceId] = t.Facts
	}
	return events.WithAskedAt(events.NormalizePlan(backup.Plan{Backups: specs}, trig), askedAt), facts, nil
}

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
		return sum, a.reject(ctx, inv, backup.Request{Trigger: backup.Trigger{Kind: events.KindMNS}}, err, &sum)
	}
	sum.Messages = len(msgs)
	var jobs []job
	var errs []error
	var runs []*planRun
	// The steps of parallel plan runs in the batch read their Select pages
	// at once (each a DescribeDBInstances call); their asks then run with
	// the batch's others.
	steps, stepped := a.parallelSteps(ctx, inv, msgs)
	for _, st := range steps {
		jobs = append(jobs, st.jobs...)
		runs = append(runs, st.pr)
		errs = append(errs, st.errs...)
		sum.merge(st.sum)
	}
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
			err = a.admitMNS(inv, reqs, plan)
		}
		if err != nil {
			if rerr := a.reject(ctx, inv, backup.Request{Trigger: m.Trigger()}, err, &sum); rerr != nil {
				errs = append(errs, rerr)
			}
			continue
		}
		pr := &planRun{trig: m.Trigger(), askedAt: m.Time, reqs: reqs, sel: plan.Select, defaults: plan.Defaults}
		if plan.Select != nil {
			// Allowed (admitMNS): the whole Select is read first and the
			// call is bounded like any other; nothing runs past the bound.
			more, facts, err := a.expand(ctx, inv, plan, m.Trigger(), m.Time)
			if err == nil {
				reqs = dedupe(append(reqs, more...))
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
					perr = a.reject(ctx, inv, r, err, &sum)
				} else {
					_, perr = a.publishEnd(ctx, inv, backup.StatusFailed, r, &backup.ErrorInfo{Code: "InternalError", Field: "Select",
						Message: "Select could not be read: " + clipErr(err), Retryable: retry.Classify(err).Retryable()}, &sum)
				}
				if perr != nil {
					errs = append(errs, perr)
				}
				continue
			}
			pr.reqs, pr.sel, pr.facts = reqs, nil, facts
		}
		if len(plan.Backups) > 1 || plan.Select != nil {
			pr.summary = newRun(m.Trigger()) // a plan: its run ends in a summary
			a.parallel(pr)
		}
		js, perrs := a.step(ctx, inv, pr, a.cfg.InlineLimit, executor.History{RetryCount: inv.retryCount}, &sum)
		jobs = append(jobs, js...)
		errs = append(errs, perrs...)
		runs = append(runs, pr)
	}
	if _, err := a.run(ctx, inv, jobs, &sum); err != nil {
		errs = append(errs, err)
	}
	if err := a.finishRuns(ctx, inv, runs); err != nil {
		errs = append(errs, err)
	}
	sum.Continued += countNext(runs...)
	if len(errs) > 0 {
		return sum, errors.Join(errs...)
	}
	return sum, nil
}

// stepResult is what one parallel step of a batch gave.
type stepResult struct {
	pr   *planRun
	jobs []job
	errs []error
	sum  Summary
}

// parallelSteps takes the batch's parallel plan-run steps (sealed plan or
// select messages that name a step, when the ledger counts them) and runs
// their a.step at once; stepped marks the messages it took. Any other
// message, or one that does not open or admit, is left to workMessage.
func (a *App) parallelSteps(ctx context.Context, inv *invocation, msgs []events.MNSMessage) ([]stepResult, map[int]bool) {
	stepped := map[int]bool{}
	if a.runs == nil {
		return nil, stepped
	}
	var idx []int
	var wms []workqueue.Message
	for i, m := range msgs {
		body := m.Payload()
		if m.Err != nil || !workqueue.IsEnvelope(body) {
			continue
		}
		wm, err := a.sealer.Open(body)
		if err != nil || wm.Step == "" || (wm.Kind != workqueue.KindPlan && wm.Kind != workqueue.KindSelect) || admitWork(inv, wm) != nil {
			continue
		}
		stepped[i] = true
		idx, wms = append(idx, i), append(wms, wm)
	}
	out := make([]stepResult, len(wms))
	var wg sync.WaitGroup
	for i, wm := range wms {
		wg.Go(func() {
			r := &out[i]
			r.pr = fromMessage(wm)
			r.jobs, r.errs = a.step(ctx, inv, r.pr, ChunkSize, executor.History{RetryCount: inv.retryCount}, &r.sum)
		})
	}
	wg.Wait()
	return out, stepped
}

// workMessage handles one of the work queue's own messages; a backup
// message becomes a job for the batch's run.
func (a *App) workMessage(ctx context.Context, inv *invocation, m events.MNSMessage, body []byte, sum *Summary) ([]job, *planRun, error) {
	wm, err := a.sealer.Open(body)
	if errors.Is(err, workqueue.ErrUnauthenticated) {
		// Not the functions' own (forged, altered, unsigned): one rejected
		// outcome naming the message, and nothing of it is acted on,
		// republished or logged.
		r := backup.Request{Trigger: backup.Trigger{Kind: "work", Source: m.Source, DeliveryId: m.ID}}
		return nil, nil, a.publishRejected(ctx, inv, r, &backup.ErrorInfo{Code: CodeUnauthenticated, Field: "mac",
			Message: "a work-queue envelope that is not sealed with the functions' key (forged, altered or unsigned) was not acted on"}, sum)
	}
	if err != nil {
		// A broken internal message is poison: reject it, never retry it.
		return nil, nil, a.reject(ctx, inv, backup.Request{Trigger: backup.Trigger{Kind: "work", Source: m.Source, DeliveryId: m.ID}}, err, sum)
	}
	if err := admitWork(inv, wm); err != nil {
		r := wm.Request
		if r.Trigger.Kind == "" {
			r.Trigger = backup.Trigger{Kind: "work", Source: m.Source, DeliveryId: m.ID}
		}
		return nil, nil, a.reject(ctx, inv, r, err, sum)
	}
	switch wm.Kind {
	case workqueue.KindBackup:
		sum.Requests++
		return []job{{req: wm.Request, hist: executor.History{Attempts: wm.Attempts, FirstSeen: wm.FirstSeen, RetryCount: inv.retryCount, Facts: wm.Facts}}}, nil, nil
	case workqueue.KindPlan, workqueue.KindSelect:
		// The next step of a plan run (run.go).
		pr := fromMessage(wm)
		js, errs := a.step(ctx, inv, pr, ChunkSize, executor.History{RetryCount: inv.retryCount}, sum)
		return js, pr, errors.Join(errs...)
	case workqueue.KindTrack:
		// A job in a member account is read there (member.go).
		cli, err := a.rdsIn(ctx, inv, wm.Request.AccountId, wm.Request.CorrelationId)
		if err != nil {
			if memberauth.IsTerminal(err) {
				o := a.noClient(inv, wm.Request, executor.History{FirstSeen: wm.FirstSeen}, err)
				o.Status, o.Terminal, o.BackupJobId = backup.StatusFailed, true, wm.BackupJobId
				sum.add(o)
				return nil, nil, a.publish(ctx, inv, o)
			}
			sum.Tracking++
			if err := inv.work.Send(ctx, wm, retry.DefaultPolicy.Delay(retry.StateWait, 0)); err != nil {
				return nil, nil, fmt.Errorf("%w: re-schedule tracking of job %s: %w", errUnsettled, wm.BackupJobId, err)
			}
			return nil, nil, nil
		}
		res := a.track.With(a.exec.Reader(cli)).Check(ctx, wm, a.now())
		if res.Done() && res.Outcome.Error != nil && res.Outcome.Error.Code == tracker.CodeJobFailed {
			return nil, nil, a.jobFailed(ctx, inv, wm, *res.Outcome, sum)
		}
		if res.Done() {
			o := *res.Outcome
			sum.add(o)
			return nil, nil, a.publish(ctx, inv, o)
		}
		if res.Next == nil {
			return nil, nil, a.reject(ctx, inv, wm.Request, res.Err, sum)
		}
		sum.Tracking++
		if err := inv.work.Send(ctx, *res.Next, res.Delay); err != nil {
			return nil, nil, fmt.Errorf("%w: re-schedule tracking of job %s: %w", errUnsettled, wm.BackupJobId, err)
		}
		return nil, nil, nil
	case workqueue.KindOutcome:
		if err := inv.pub.PublishParked(ctx, wm); err != nil {
			if perr := inv.work.Send(ctx, wm, parkDelay); perr != nil {
				return nil, nil, fmt.Errorf("%w: parked outcome: %w", errUnsettled, errors.Join(err, perr))
			}
		}
		sum.Republished++
		return nil, nil, nil
	}
	return nil, nil, a.reject(ctx, inv, wm.Request, fmt.Errorf("unknown work message kind %q", wm.Kind), sum)
}

// jobFailed: the job an ask was accepted or coalesced with ended Failed. A
// failed backup satisfies no ask (DESIGN.md §2), so the ask is not over: it
// goes back to the work queue with the failure as an attempt, and runs
// again like any repeat — coalesced with a backup that satisfies it, or a
// backup of its own — until its budget is spent. Its verdict then depends
// only on its askedAt and the instance's backups, whichever delivery gives
// it: a redelivery of the ask and this retry reach the same one. The
// failure is published as a non-terminal deferred outcome.
func (a *App) jobFailed(ctx context.Context, inv *invocation, m workqueue.Message, failed backup.Outcome, sum *Summary) error {
	att := backup.Attempt{Time: failed.Time, Action: "BackupJob", Code: failed.Error.Code, Message: failed.Error.Message,
		Retryable: true, Class: "state-wait", RequestId: failed.RequestId}
	delay := retry.DefaultPolicy.Delay(retry.StateWait, 0)
	o := failed
	o.Status, o.Terminal, o.NotBefore = backup.StatusDeferred, false, a.now().Add(delay)
	o.Attempts = []backup.Attempt{att}
	o.Error = &backup.ErrorInfo{Code: failed.Error.Code, Message: failed.Error.Message, Retryable: true}
	o.Note = backup.JoinNote(failed.Note, "a failed backup satisfies no ask: the ask runs again")
	if err := inv.work.Send(ctx, workqueue.Backup(m.Request, []backup.Attempt{att}, m.Started), delay); err != nil {
		return fmt.Errorf("%w: retry the ask of failed job %s: %w", errUnsettled, m.BackupJobId, err)
	}
	sum.add(o)
	return a.publish(ctx, inv, o)
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
	if v := admitWebhook(inv, reqs, plan); v != nil {
		o, perr := a.publishEnd(ctx, inv, backup.StatusRejected, backup.Request{Trigger: trig, AskedAt: plan.AskedAt}, backup.ErrorFromViolation(v), &sum)
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
	more, facts, err := a.expand(ctx, inv, plan, trig, askedAt)
	var extra []backup.Outcome
	if err != nil {
		// The caller gets an entry for the selector: deferred (it is read
		// again by the queue function) or final.
		pr := &planRun{trig: trig, askedAt: askedAt, sel: plan.Select, defaults: plan.Defaults}
		o, _, perr := a.selectorFailed(ctx, inv, pr, err, &sum)
		if perr == nil {
			perr = a.finishRuns(ctx, inv, []*planRun{pr})
		}
		if perr != nil {
			a.log.ErrorContext(ctx, "selector outcome not settled", slog.String("error", perr.Error()))
		}
		extra = append(extra, o)
	}
	reqs = dedupe(append(reqs, more...))
	if v := backup.TooMany("Select", len(reqs), a.cfg.MaxRequests); v != nil {
		// A Select that expands past the limit runs nothing: one rejected
		// outcome (the webhook answers 413).
		o, perr := a.publishEnd(ctx, inv, backup.StatusRejected, backup.Request{Trigger: trig, AskedAt: askedAt},
			backup.ErrorFromViolation(v), &sum)
		if perr != nil {
			a.log.ErrorContext(ctx, "rejected outcome not published", slog.String("error", perr.Error()))
		}
		return []backup.Outcome{o}
	}
	jobs := make([]job, len(reqs))
	for i, r := range reqs {
		jobs[i] = job{req: r, hist: executor.History{CallerKey: webhook.HasCallerKey(r.Trigger)}}
		if f, ok := facts[r.DBInstanceId]; ok {
			jobs[i].hist.Facts = &f
		}
	}
	outcomes, err := a.run(ctx, inv, jobs, &sum)
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

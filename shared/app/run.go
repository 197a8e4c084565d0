package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// ChunkSize is how many asks of a plan run one step of the queue function
// runs (a DescribeDBInstances page is 100 instances).
const ChunkSize = 100

// A plan run (DESIGN.md §6) is run in steps. Each step runs up to a limit
// of the plan's asks — its explicit requests first, then the instances its
// Select picks, one DescribeDBInstances page at a time — and hands the rest
// on to the next step as one work-queue message (a "plan" or "select"
// message) that carries the run's summary so far. The step that runs the
// last ask publishes the run's one rds.backup.run event. So a plan of any
// size ends in exactly one summary without any state outside the queue,
// and one invocation never runs more than a step.

// planRun is one step of a plan run.
type planRun struct {
	trig      backup.Trigger
	askedAt   time.Time
	firstSeen time.Time
	reqs      []backup.Request // explicit requests not run yet
	sel       *backup.Selector
	defaults  backup.Spec
	facts     map[string]backup.InstanceFacts // what a listing already said of reqs' instances
	page      int
	// summary is nil for an ask that is no plan (one request in a
	// message): no run event then.
	summary *backup.RunSummary
	next    *workqueue.Message // the next step; nil when this one is the last
	delay   time.Duration      // before the next step

	// step names this step in a run whose steps run in parallel (a.runs,
	// the ask ledger's run row): "0" the first; "" when the run goes step
	// after step. summary is then this step's own part of the run's.
	step string
	// children are the steps this one hands on, all at once (parallel).
	children []workqueue.Message
}

// A plan run with the ask ledger runs in parallel: the first step runs up
// to its limit of asks and hands the rest on at once — its other explicit
// asks in chunks ("c1", "c2", ...), the Select's page 1 ("p1") when it did
// not read it itself; whoever reads page 1 learns how many pages the
// listing has (TotalRecordCount) and hands on every other page ("p2",
// ...). Each step is registered in the run's ledger row before it is
// sent, and recorded there with its part of the summary when it finished;
// the step that finds every registered step finished publishes the run's
// one rds.backup.run (its id is the run's: a repeat is the same event). So
// a fleet's pages and chunks run on as many function instances, and as
// many at once in one, as the work queue's trigger gives.

func newRun(trig backup.Trigger) *backup.RunSummary {
	return &backup.RunSummary{Key: backup.RunKey(trig), Trigger: trig, Counts: map[backup.Status]int{}}
}

// step takes up to limit asks of the run and returns their jobs; pr.next
// is then the rest of the run, if any. Outcomes the step decides itself (a
// Select that cannot be read) are published and counted here.
func (a *App) step(ctx context.Context, inv *invocation, pr *planRun, limit int, h executor.History, sum *Summary) ([]job, []error) {
	var errs []error
	var items []backup.Request
	facts := map[string]backup.InstanceFacts{}
	for id, f := range pr.facts {
		facts[id] = f
	}
	take := func(reqs []backup.Request) []backup.Request {
		n := min(len(reqs), limit-len(items))
		items = append(items, reqs[:n]...)
		return reqs[n:]
	}
	if a.runs == nil {
		pr.step = "" // a parallel step arriving where no ledger counts it: it goes on step after step
	}
	if pr.step != "" && pr.firstSeen.IsZero() {
		pr.firstSeen = a.now() // the steps it hands on carry it (a Select's MaxAge)
	}
	pr.reqs = take(pr.reqs)
	if pr.page < 1 {
		pr.page = 1
	}
	if pr.sel != nil && fleetSelect(*pr.sel) && pr.step != "" {
		// A Select across accounts or regions: one step per (account,
		// region), each reading its own pages (DESIGN.md §10).
		for i, t := range pr.sel.Targets() {
			if t.Region == "" {
				t.Region = inv.region
			}
			at := pr.sel.At(t)
			pr.children = append(pr.children, workqueue.Message{Kind: workqueue.KindSelect, Select: &at, Defaults: pr.defaults, Trigger: pr.trig,
				AskedAt: pr.askedAt, FirstSeen: pr.firstSeen, Page: 1, Step: fmt.Sprintf("t%d", i+1), Run: partOf(pr.summary)})
		}
		pr.sel = nil
	}
	for len(items) < limit && len(pr.reqs) == 0 && pr.sel != nil {
		sel := *pr.sel
		if sel.RegionId == "" {
			sel.RegionId = inv.region
		}
		cli, err := a.rdsIn(ctx, inv, sel.Account(), pr.runKey())
		if err != nil && memberauth.IsTerminal(err) {
			// The member role cannot be assumed: this (account, region)
			// ends failed with STS's code; the run's other steps go on.
			o := a.targetFailed(pr, sel, err)
			sum.add(o)
			if pr.summary != nil {
				pr.summary.Add(o)
			}
			sctx, cancel := settleContext(ctx)
			if perr := a.publish(sctx, inv, o); perr != nil {
				errs = append(errs, perr)
			}
			cancel()
			pr.sel = nil
			break
		}
		var targets []executor.Target
		var pages int
		if err == nil {
			targets, pages, err = a.exec.ExpandPageOf(ctx, cli, sel, pr.defaults, pr.page)
		}
		more := err == nil && len(targets) == executor.ExpandPageSize && pr.page < pages
		if err != nil {
			o, deferred, perr := a.selectorFailed(ctx, inv, pr, err, sum)
			if perr != nil {
				errs = append(errs, perr)
			}
			if !deferred {
				pr.sel = nil // refused for good: the run goes on without it
				if pr.summary != nil {
					pr.summary.Add(o)
				}
			}
			break
		}
		specs := make([]backup.Spec, len(targets))
		for i, t := range targets {
			specs[i] = t.Spec
			if specs[i].RegionId == "" {
				specs[i].RegionId = sel.RegionId
			}
			specs[i].AccountId = "" // listed there, whatever Defaults says: the own account is ""
			if acct := sel.Account(); inv.fleet.Member(acct) {
				specs[i].AccountId = acct
			}
			facts[t.Facts.DBInstanceId] = t.Facts
		}
		pr.reqs = take(events.WithAskedAt(events.NormalizePlan(backup.Plan{Backups: specs}, pr.trig), pr.askedAt))
		if pr.step != "" {
			// Parallel: one page per step; page 1's reader hands on the
			// others, each a step of its own.
			if pr.page == 1 && more {
				for p := 2; p <= pages; p++ {
					pr.children = append(pr.children, pr.pageStep(p))
				}
			}
			pr.sel = nil
			break
		}
		pr.page++
		if !more {
			pr.sel = nil
		}
	}
	if pr.step != "" && pr.next == nil {
		pr.handOn()
	} else if pr.next == nil && (len(pr.reqs) > 0 || pr.sel != nil) {
		pr.next = pr.continuation()
	}
	items = dedupe(items)
	sum.Requests += len(items)
	jobs := jobsOf(items, h)
	for i := range jobs {
		jobs[i].run = pr
		if f, ok := facts[jobs[i].req.DBInstanceId]; ok {
			jobs[i].hist.Facts = &f
		}
	}
	return jobs, errs
}

// parallel makes pr, the first step of a plan run, the root of a run whose
// steps run in parallel, when the ask ledger can count them.
func (a *App) parallel(pr *planRun) {
	if a.runs != nil && pr.summary != nil {
		pr.step = "0"
	}
}

// pageStep is the parallel step that runs page p of the Select alone: "p7",
// or "t3.p7" for page 7 of a fleet's third (account, region).
func (pr *planRun) pageStep(p int) workqueue.Message {
	id := fmt.Sprintf("p%d", p)
	if t, _, _ := strings.Cut(pr.step, "."); strings.HasPrefix(t, "t") {
		id = t + "." + id
	}
	return workqueue.Message{Kind: workqueue.KindSelect, Select: pr.sel, Defaults: pr.defaults, Trigger: pr.trig,
		AskedAt: pr.askedAt, FirstSeen: pr.firstSeen, Page: p, Step: id, Run: partOf(pr.summary)}
}

// fleetSelect reports whether s reaches more than one (account, region):
// it is then read in one step per pair, never by one step.
func fleetSelect(s backup.Selector) bool { return len(s.Regions) > 0 || len(s.Accounts) > 1 }

// runKey names the plan run (a member account's session name).
func (pr *planRun) runKey() string {
	if pr.summary != nil {
		return pr.summary.Key
	}
	return backup.RunKey(pr.trig)
}

// handOn makes the rest of a parallel step's asks steps of their own: the
// asks it did not take, in chunks, and the Select when it did not read
// its page. Ids are derived from the step's, so a redelivered step hands
// on the same steps.
func (pr *planRun) handOn() {
	for i := 0; len(pr.reqs) > 0; i++ {
		n := min(len(pr.reqs), ChunkSize)
		specs := make([]backup.Spec, n)
		for j, r := range pr.reqs[:n] {
			specs[j] = r.Spec()
		}
		pr.reqs = pr.reqs[n:]
		pr.children = append(pr.children, workqueue.Message{Kind: workqueue.KindPlan, Specs: specs, Defaults: pr.defaults,
			Trigger: pr.trig, AskedAt: pr.askedAt, FirstSeen: pr.firstSeen, Step: fmt.Sprintf("%s.c%d", pr.step, i+1), Run: partOf(pr.summary)})
	}
	if pr.sel != nil {
		pr.children = append(pr.children, pr.pageStep(max(pr.page, 1)))
		pr.sel = nil
	}
}

// partOf is an empty part of the run s counts.
func partOf(s *backup.RunSummary) *backup.RunSummary {
	return &backup.RunSummary{Key: s.Key, Trigger: s.Trigger, Counts: map[backup.Status]int{}}
}

// continuation is the message of the next step.
func (pr *planRun) continuation() *workqueue.Message {
	specs := make([]backup.Spec, len(pr.reqs))
	for i, r := range pr.reqs {
		specs[i] = r.Spec()
	}
	m := workqueue.Message{Kind: workqueue.KindPlan, Specs: specs, Select: pr.sel, Defaults: pr.defaults,
		Trigger: pr.trig, AskedAt: pr.askedAt, FirstSeen: pr.firstSeen, Run: pr.summary}
	if pr.sel != nil {
		m.Page = pr.page // the next page of the Select, once the requests are run
	}
	if len(pr.reqs) == 0 {
		m.Kind, m.Specs = workqueue.KindSelect, nil
	}
	if pr.step != "" {
		// A parallel step that could not read its page: the same step,
		// later, with what it counted so far.
		m.Step = pr.step
	}
	return &m
}

// fromMessage is the step a "plan" or "select" message continues.
func fromMessage(m workqueue.Message) *planRun {
	pr := &planRun{trig: m.Trigger, askedAt: m.AskedAt, firstSeen: m.FirstSeen, reqs: m.Requests, sel: m.Select,
		defaults: m.Defaults, page: m.Page, summary: m.Run, step: m.Step}
	if pr.step != "" && pr.summary == nil {
		pr.step = "" // no run to count it in
	}
	if pr.trig == (backup.Trigger{}) && len(m.Requests) > 0 {
		pr.trig = m.Requests[0].Trigger
	}
	if len(m.Specs) > 0 {
		// The same asks as the step that handed them on: the keys come
		// from the trigger and the parameters.
		pr.reqs = append(pr.reqs, events.WithAskedAt(events.NormalizePlan(backup.Plan{Backups: m.Specs}, pr.trig), pr.askedAt)...)
	}
	return pr
}

// selectorFailed settles a Select page that could not be read: rejected
// when the API refused it for good (a bad region, no permission);
// otherwise the step is handed on (the same page, after the state-wait
// delay) with a deferred outcome, until BACKUP_MAX_AGE since the run began —
// then it fails. The plan's other asks run regardless.
func (a *App) selectorFailed(ctx context.Context, inv *invocation, pr *planRun, err error, sum *Summary) (backup.Outcome, bool, error) {
	firstSeen := pr.firstSeen
	if firstSeen.IsZero() {
		firstSeen = a.now()
		pr.firstSeen = firstSeen
	}
	sel := *pr.sel
	if sel.RegionId == "" {
		sel.RegionId = inv.region
	}
	cl := retry.Classify(err)
	code := "InternalError"
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) && c.ErrorCode() != "" {
		code = c.ErrorCode()
	}
	info := &backup.ErrorInfo{Code: code, Message: fmt.Sprintf("Select (page %d) could not be read: %s", pr.page, clipErr(err)),
		Retryable: cl.Retryable(), Field: "Select"}
	r := backup.Request{Trigger: pr.trig, RegionId: sel.RegionId, AccountId: sel.Account(), AskedAt: pr.askedAt}
	r.IdempotencyKey = backup.Key(pr.trig.Kind, pr.trig.Source, pr.trig.DeliveryId, "Select", fmt.Sprint(pr.page))
	if strings.HasPrefix(pr.step, "t") { // one of a fleet's (account, region): its pages are its own
		r.IdempotencyKey = backup.Key(pr.trig.Kind, pr.trig.Source, pr.trig.DeliveryId, "Select", fmt.Sprint(pr.page), r.AccountId, r.RegionId)
	}
	r.CorrelationId = events.CorrelationID(r.IdempotencyKey)
	if cl != retry.Terminal && a.now().Sub(firstSeen) <= a.cfg.MaxAge {
		pr.delay = retry.DefaultPolicy.Delay(retry.StateWait, 0)
		pr.next = pr.continuation()
		o := backup.Outcome{Status: backup.StatusDeferred, Request: r, Error: info, Time: a.now(), NotBefore: a.now().Add(pr.delay),
			Attempts: []backup.Attempt{}, Note: "the selector will be read again"}
		sum.add(o)
		a.log.WarnContext(ctx, "selector deferred", slog.String("code", code), slog.Int("page", pr.page), slog.Int64("delayMs", pr.delay.Milliseconds()))
		sctx, cancel := settleContext(ctx)
		defer cancel()
		return o, true, a.publish(sctx, inv, o)
	}
	status := backup.StatusFailed
	if cl == retry.Terminal {
		status = backup.StatusRejected
	}
	o, perr := a.publishEnd(ctx, inv, status, r, info, sum)
	return o, false, perr
}

// finishRuns ends each step: the next step is sent with the summary so
// far, or, when this was the last, the run's summary is published. A step
// that cannot be handed on fails the invocation (the trigger delivers it
// again; its asks are then repeats).
func (a *App) finishRuns(ctx context.Context, inv *invocation, runs []*planRun) error {
	sctx, cancel := settleContext(ctx)
	defer cancel()
	var errs []error
	for _, pr := range runs {
		if pr.step != "" && pr.next == nil && (len(pr.children) > 0 || pr.step != "0") {
			if err := a.finishStep(sctx, inv, pr); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		switch {
		case pr.next != nil:
			pr.next.Run = pr.summary
			if err := inv.work.Send(sctx, *pr.next, pr.delay); err != nil {
				errs = append(errs, fmt.Errorf("%w: the rest of plan run %s: %w", errUnsettled, pr.trig.Source, err))
				continue
			}
			a.log.InfoContext(ctx, "plan run goes on in the next step", slog.Int("requests", len(pr.next.Requests)), slog.Int("page", pr.next.Page))
		case pr.summary != nil:
			ev := notify.BuildRunEvent(a.function, *pr.summary, pr.askedAt, a.now())
			if err := inv.pub.PublishEvent(sctx, ev); err != nil {
				errs = append(errs, fmt.Errorf("%w: run summary: %w", errUnsettled, err))
				continue
			}
			a.log.InfoContext(ctx, "plan run summary", append(runCounts(*pr.summary), slog.String("eventId", ev.ID))...)
		}
	}
	return errors.Join(errs...)
}

// finishStep ends a parallel step: the steps it hands on are registered
// in the run's ledger row, then sent; then the step is recorded finished
// with its part of the summary, and the step that finds the run complete
// publishes its summary. Any failure fails the invocation: the trigger
// delivers the step again, its asks are then repeats, and a step recorded
// already is not counted twice.
func (a *App) finishStep(ctx context.Context, inv *invocation, pr *planRun) error {
	run := pr.summary.Key
	if len(pr.children) > 0 {
		ids := make([]string, len(pr.children))
		for i, c := range pr.children {
			ids[i] = c.Step
		}
		if _, err := a.runs.RegisterSteps(ctx, run, append(ids, pr.step)); err != nil {
			return fmt.Errorf("%w: register the steps of plan run %s: %w", errUnsettled, pr.trig.Source, err)
		}
		if err := inv.work.SendBatch(ctx, pr.children); err != nil {
			return fmt.Errorf("%w: send the steps of plan run %s: %w", errUnsettled, pr.trig.Source, err)
		}
		a.log.InfoContext(ctx, "plan run goes on in parallel steps", slog.String("step", pr.step), slog.Int("steps", len(ids)))
	}
	part := *pr.summary
	st, err := a.runs.StepDone(ctx, run, pr.step, func(stored []byte) ([]byte, error) {
		var sum backup.RunSummary
		if len(stored) > 0 {
			if err := json.Unmarshal(stored, &sum); err != nil {
				return nil, fmt.Errorf("the run's summary in the ledger: %w", err)
			}
		}
		sum.Merge(part)
		return json.Marshal(sum)
	})
	if err != nil {
		return fmt.Errorf("%w: record step %s of plan run %s: %w", errUnsettled, pr.step, pr.trig.Source, err)
	}
	if !st.Complete() || st.Published {
		return nil
	}
	var sum backup.RunSummary
	if err := json.Unmarshal(st.Summary, &sum); err != nil {
		return fmt.Errorf("%w: the summary of plan run %s: %w", errUnsettled, pr.trig.Source, err)
	}
	ev := notify.BuildRunEvent(a.function, sum, pr.askedAt, a.now())
	if err := inv.pub.PublishEvent(ctx, ev); err != nil {
		return fmt.Errorf("%w: run summary: %w", errUnsettled, err)
	}
	a.log.InfoContext(ctx, "plan run summary", append(runCounts(sum), slog.String("eventId", ev.ID), slog.String("step", pr.step))...)
	if err := a.runs.MarkPublished(ctx, run); err != nil {
		a.log.InfoContext(ctx, "could not mark the run's summary published; a repeat of the last step publishes it again (same id)",
			slog.String("error", clipErr(err)))
	}
	return nil
}

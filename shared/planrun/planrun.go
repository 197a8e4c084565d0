package planrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/settle"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// ChunkSize is how many asks of a plan run one step of the queue function
// runs (a DescribeDBInstances page is 100 instances).
const ChunkSize = 100

// RunLedger is the ask ledger's run rows as plan runs use them: the steps
// of a run registered before they are sent, each recorded once when it
// finished, with its part of the summary, the steps of one run that end in
// one invocation together (ledger.Ledger's methods).
type RunLedger interface {
	RegisterSteps(ctx context.Context, run string, ids []string) (ledger.RunState, error)
	StepsDone(ctx context.Context, run string, ids []string, merge func(stored []byte, id string) ([]byte, error)) (ledger.RunState, error)
	MarkPublished(ctx context.Context, run string) error
}

// Clients gives the RDS client that acts in an account
// (accounts.Accounts).
type Clients interface {
	Client(ctx context.Context, account, runKey string) (*rdsclient.Client, error)
}

// Expander reads a Select (executor.Executor).
type Expander interface {
	Expand(ctx context.Context, rds executor.RDS, sel backup.Selector, defaults backup.Spec) ([]executor.Target, error)
	ExpandPageOf(ctx context.Context, rds executor.RDS, sel backup.Selector, defaults backup.Spec, page int) ([]executor.Target, int, error)
}

// EventPublisher publishes a run's summary event (notify.Publisher).
type EventPublisher interface {
	PublishEvent(ctx context.Context, ev notify.Event) error
}

// A Stepper runs the plan-run steps of one invocation with its clients.
type Stepper struct {
	// Function is the function's name, the run event's source.
	Function string
	Settle   *settle.Settler
	// Own is the invocation's RDS client; Clients the one of an account.
	Own     executor.RDS
	Clients Clients
	Exec    Expander
	// Ledger counts the steps of runs that run in parallel; nil without
	// BACKUP_LEDGER_ENDPOINT: a run then goes step after step.
	Ledger RunLedger
	Work   workqueue.Sender
	Pub    EventPublisher
	// Region is the invocation's: a Select without a RegionId lists there.
	Region string
	// Fleet is the accounts requests may name.
	Fleet backup.Fleet
	// MaxAge is BACKUP_MAX_AGE: how long a Select page that cannot be
	// read is tried again; MaxAttempts (BACKUP_MAX_ATTEMPTS, 0: no bound)
	// how many times.
	MaxAge      time.Duration
	MaxAttempts int
	Now         func() time.Time
	Log         *slog.Logger
}

// Run is one step of a plan run.
type Run struct {
	Trigger   backup.Trigger
	AskedAt   time.Time
	FirstSeen time.Time
	Reqs      []backup.Request // explicit requests not run yet
	Select    *backup.Selector
	Defaults  backup.Spec
	Facts     map[string]backup.InstanceFacts // what a listing already said of Reqs' instances
	Page      int
	// Attempts are the failed reads of the Select page so far (they
	// travel with the step, as a backup's do).
	Attempts []backup.Attempt
	// Summary is nil for an ask that is no plan (one request in a
	// message): no run event then.
	Summary *backup.RunSummary

	next  *workqueue.Message // the next step; nil when this one is the last
	delay time.Duration      // before the next step

	// step names this step in a run whose steps run in parallel (the ask
	// ledger's run row): "0" the first; "" when the run goes step after
	// step. Summary is then this step's own part of the run's.
	step string
	// children are the steps this one hands on, all at once (parallel).
	children []workqueue.Message
	// handedOn: the children are registered and sent (HandOn), before
	// this step's own asks ran.
	handedOn bool
}

// NewSummary is the empty summary of the plan run trig starts.
func NewSummary(trig backup.Trigger) *backup.RunSummary {
	return &backup.RunSummary{Key: backup.RunKey(trig), Trigger: trig, Counts: map[backup.Status]int{}}
}

// Continued counts the steps runs hand on.
func Continued(runs ...*Run) int {
	n := 0
	for _, pr := range runs {
		if pr.next != nil {
			n++
		}
		n += len(pr.children)
	}
	return n
}

// Step takes up to limit asks of the run and returns their jobs; the rest
// of the run, if any, is handed on by Finish. Outcomes the step decides
// itself (a Select that cannot be read) are published and counted here.
func (s *Stepper) Step(ctx context.Context, pr *Run, limit int, h executor.History, sum *settle.Summary) ([]settle.Job, []error) {
	var errs []error
	var items []backup.Request
	facts := map[string]backup.InstanceFacts{}
	for id, f := range pr.Facts {
		facts[id] = f
	}
	take := func(reqs []backup.Request) []backup.Request {
		n := min(len(reqs), limit-len(items))
		items = append(items, reqs[:n]...)
		return reqs[n:]
	}
	if s.Ledger == nil {
		pr.step = "" // a parallel step arriving where no ledger counts it: it goes on step after step
	}
	if pr.step != "" && pr.FirstSeen.IsZero() {
		pr.FirstSeen = s.Now() // the steps it hands on carry it (a Select's MaxAge)
	}
	pr.Reqs = take(pr.Reqs)
	if pr.Page < 1 {
		pr.Page = 1
	}
	if pr.Select != nil && FleetSelect(*pr.Select) && pr.step != "" {
		// A Select across accounts or regions: one step per (account,
		// region), each reading its own pages (DESIGN.md §10).
		for i, t := range pr.Select.Targets() {
			if t.Region == "" {
				t.Region = s.Region
			}
			at := pr.Select.At(t)
			pr.children = append(pr.children, workqueue.Message{Kind: workqueue.KindSelect, Select: &at, Defaults: pr.Defaults, Trigger: pr.Trigger,
				AskedAt: pr.AskedAt, FirstSeen: pr.FirstSeen, Page: 1, Step: fmt.Sprintf("t%d", i+1), Run: partOf(pr.Summary)})
		}
		pr.Select = nil
	}
	for len(items) < limit && len(pr.Reqs) == 0 && pr.Select != nil {
		sel := *pr.Select
		if sel.RegionId == "" {
			sel.RegionId = s.Region
		}
		cli, err := s.Clients.Client(ctx, sel.Account(), pr.runKey())
		if err != nil && memberauth.IsTerminal(err) {
			// The member role cannot be assumed: this (account, region)
			// ends failed with STS's code; the run's other steps go on.
			o := s.targetFailed(pr, sel, err)
			sum.Add(o)
			if pr.Summary != nil {
				pr.Summary.Add(o)
			}
			sctx, cancel := settle.Context(ctx)
			if perr := s.Settle.Publish(sctx, o); perr != nil {
				errs = append(errs, perr)
			}
			cancel()
			pr.Select = nil
			break
		}
		var targets []executor.Target
		var pages int
		if err == nil {
			targets, pages, err = s.Exec.ExpandPageOf(ctx, cli, sel, pr.Defaults, pr.Page)
		}
		more := err == nil && len(targets) == executor.ExpandPageSize && pr.Page < pages
		if err != nil {
			o, deferred, perr := s.SelectorFailed(ctx, pr, err, sum)
			if perr != nil {
				errs = append(errs, perr)
			}
			if !deferred {
				pr.Select = nil // refused for good: the run goes on without it
				if pr.Summary != nil {
					pr.Summary.Add(o)
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
			if acct := sel.Account(); s.Fleet.Member(acct) {
				specs[i].AccountId = acct
			}
			facts[t.Facts.DBInstanceId] = t.Facts
		}
		pr.Reqs = take(events.WithAskedAt(events.NormalizePlan(backup.Plan{Backups: specs}, pr.Trigger), pr.AskedAt))
		if pr.step != "" {
			// Parallel: one page per step; page 1's reader hands on the
			// others, each a step of its own.
			if pr.Page == 1 && more {
				for p := 2; p <= pages; p++ {
					pr.children = append(pr.children, pr.pageStep(p))
				}
			}
			pr.Select = nil
			break
		}
		pr.Page++
		if !more {
			pr.Select = nil
		}
	}
	if pr.step != "" && pr.next == nil {
		pr.handOn()
	} else if pr.next == nil && (len(pr.Reqs) > 0 || pr.Select != nil) {
		pr.next = pr.continuation()
	}
	items = Dedupe(items)
	sum.Requests += len(items)
	jobs := make([]settle.Job, len(items))
	for i, r := range items {
		jobs[i] = settle.Job{Req: r, Hist: h, Run: pr.Summary}
		if f, ok := facts[r.DBInstanceId]; ok {
			jobs[i].Hist.Facts = &f
		}
	}
	return jobs, errs
}

// Parallel makes pr, the first step of a plan run, the root of a run whose
// steps run in parallel, when the ask ledger can count them.
func (s *Stepper) Parallel(pr *Run) {
	if s.Ledger != nil && pr.Summary != nil {
		pr.step = "0"
	}
}

// StepAll runs the steps of msgs (sealed "plan" or "select" messages of a
// batch) at once, limit ChunkSize each, with history h; each step, as soon
// as it is taken, goes on in its own goroutine with then (nil: nothing),
// which runs its jobs: a step's asks start while other steps still read
// their pages. StepAll returns when every step and its then are done.
func (s *Stepper) StepAll(ctx context.Context, msgs []workqueue.Message, h executor.History, then func(*StepResult)) []StepResult {
	out := make([]StepResult, len(msgs))
	var wg sync.WaitGroup
	for i, wm := range msgs {
		wg.Go(func() {
			r := &out[i]
			r.Run = FromMessage(wm)
			r.Jobs, r.Errs = s.Step(ctx, r.Run, ChunkSize, h, &r.Sum)
			if then != nil {
				then(r)
			}
		})
	}
	wg.Wait()
	return out
}

// StepResult is what one step of a batch gave.
type StepResult struct {
	Run  *Run
	Jobs []settle.Job
	Errs []error
	Sum  settle.Summary
}

// pageStep is the parallel step that runs page p of the Select alone: "p7",
// or "t3.p7" for page 7 of a fleet's third (account, region).
func (pr *Run) pageStep(p int) workqueue.Message {
	id := fmt.Sprintf("p%d", p)
	if t, _, _ := strings.Cut(pr.step, "."); strings.HasPrefix(t, "t") {
		id = t + "." + id
	}
	return workqueue.Message{Kind: workqueue.KindSelect, Select: pr.Select, Defaults: pr.Defaults, Trigger: pr.Trigger,
		AskedAt: pr.AskedAt, FirstSeen: pr.FirstSeen, Page: p, Step: id, Run: partOf(pr.Summary)}
}

// FleetSelect reports whether s reaches more than one (account, region):
// it is then read in one step per pair, never by one step.
func FleetSelect(s backup.Selector) bool { return len(s.Regions) > 0 || len(s.Accounts) > 1 }

// runKey names the plan run (a member account's session name).
func (pr *Run) runKey() string {
	if pr.Summary != nil {
		return pr.Summary.Key
	}
	return backup.RunKey(pr.Trigger)
}

// handOn makes the rest of a parallel step's asks steps of their own: the
// asks it did not take, in chunks, and the Select when it did not read
// its page. Ids are derived from the step's, so a redelivered step hands
// on the same steps.
func (pr *Run) handOn() {
	for i := 0; len(pr.Reqs) > 0; i++ {
		n := min(len(pr.Reqs), ChunkSize)
		specs := make([]backup.Spec, n)
		for j, r := range pr.Reqs[:n] {
			specs[j] = r.Spec()
		}
		pr.Reqs = pr.Reqs[n:]
		pr.children = append(pr.children, workqueue.Message{Kind: workqueue.KindPlan, Specs: specs, Defaults: pr.Defaults,
			Trigger: pr.Trigger, AskedAt: pr.AskedAt, FirstSeen: pr.FirstSeen, Step: fmt.Sprintf("%s.c%d", pr.step, i+1), Run: partOf(pr.Summary)})
	}
	if pr.Select != nil {
		pr.children = append(pr.children, pr.pageStep(max(pr.Page, 1)))
		pr.Select = nil
	}
}

// partOf is an empty part of the run s counts.
func partOf(s *backup.RunSummary) *backup.RunSummary {
	return &backup.RunSummary{Key: s.Key, Trigger: s.Trigger, Counts: map[backup.Status]int{}}
}

// continuation is the message of the next step.
func (pr *Run) continuation() *workqueue.Message {
	specs := make([]backup.Spec, len(pr.Reqs))
	for i, r := range pr.Reqs {
		specs[i] = r.Spec()
	}
	m := workqueue.Message{Kind: workqueue.KindPlan, Specs: specs, Select: pr.Select, Defaults: pr.Defaults,
		Trigger: pr.Trigger, AskedAt: pr.AskedAt, FirstSeen: pr.FirstSeen, Run: pr.Summary}
	if len(pr.Reqs) == 0 {
		m.Attempts = pr.Attempts
	}
	if pr.Select != nil {
		m.Page = pr.Page // the next page of the Select, once the requests are run
	}
	if len(pr.Reqs) == 0 {
		m.Kind, m.Specs = workqueue.KindSelect, nil
	}
	if pr.step != "" {
		// A parallel step that could not read its page: the same step,
		// later, with what it counted so far.
		m.Step = pr.step
	}
	return &m
}

// FromMessage is the step a "plan" or "select" message continues.
func FromMessage(m workqueue.Message) *Run {
	pr := &Run{Trigger: m.Trigger, AskedAt: m.AskedAt, FirstSeen: m.FirstSeen, Reqs: m.Requests, Select: m.Select,
		Defaults: m.Defaults, Page: m.Page, Summary: m.Run, step: m.Step, Attempts: m.Attempts}
	if pr.step != "" && pr.Summary == nil {
		pr.step = "" // no run to count it in
	}
	if pr.Trigger == (backup.Trigger{}) && len(m.Requests) > 0 {
		pr.Trigger = m.Requests[0].Trigger
	}
	if len(m.Specs) > 0 {
		// The same asks as the step that handed them on: the keys come
		// from the trigger and the parameters.
		pr.Reqs = append(pr.Reqs, events.WithAskedAt(events.NormalizePlan(backup.Plan{Backups: m.Specs}, pr.Trigger), pr.AskedAt)...)
	}
	return pr
}

// Expand turns a plan's whole Select into requests at once
// (DescribeDBInstances, paged), each with the plan's askedAt, and the
// listing's facts per instance: for an MNS message or a webhook's plan,
// whose expansion is bounded like any call.
func (s *Stepper) Expand(ctx context.Context, plan backup.Plan, trig backup.Trigger, askedAt time.Time) ([]backup.Request, map[string]backup.InstanceFacts, error) {
	if plan.Select == nil {
		return nil, nil, nil
	}
	sel := *plan.Select
	if sel.RegionId == "" {
		sel.RegionId = s.Region
	}
	targets, err := s.Exec.Expand(ctx, s.Own, sel, plan.Defaults)
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

// maxSelectAttempts bounds the reads of one Select page whatever
// BACKUP_MAX_ATTEMPTS says (each travels in the step's message).
const maxSelectAttempts = 50

// SelectorFailed settles a Select page that could not be read: rejected
// when the API refused it for good (a bad region, no permission);
// otherwise the step is handed on (the same page, after the state-wait
// delay) with a deferred outcome, until BACKUP_MAX_AGE since the run began
// or BACKUP_MAX_ATTEMPTS reads (at most 50) — then it fails. The plan's other asks run regardless. It reports whether
// the page was deferred.
func (s *Stepper) SelectorFailed(ctx context.Context, pr *Run, err error, sum *settle.Summary) (backup.Outcome, bool, error) {
	firstSeen := pr.FirstSeen
	if firstSeen.IsZero() {
		firstSeen = s.Now()
		pr.FirstSeen = firstSeen
	}
	sel := *pr.Select
	if sel.RegionId == "" {
		sel.RegionId = s.Region
	}
	cl := retry.Classify(err)
	// The API's code and message, or Network with the kind of transport
	// failure (an endpoint down, a timeout) and not the endpoint itself.
	info := executor.ErrorInfoOf(err)
	code := info.Code
	info = &backup.ErrorInfo{Code: code, Message: fmt.Sprintf("Select in region %s (page %d) could not be read: %s", sel.RegionId, pr.Page, backup.Clip(info.Message, 300)),
		Retryable: cl.Retryable(), Field: "Select"}
	r := backup.Request{Trigger: pr.Trigger, RegionId: sel.RegionId, AccountId: sel.Account(), AskedAt: pr.AskedAt}
	r.IdempotencyKey = backup.Key(pr.Trigger.Kind, pr.Trigger.Source, pr.Trigger.DeliveryId, "Select", fmt.Sprint(pr.Page))
	if strings.HasPrefix(pr.step, "t") { // one of a fleet's (account, region): its pages are its own
		r.IdempotencyKey = backup.Key(pr.Trigger.Kind, pr.Trigger.Source, pr.Trigger.DeliveryId, "Select", fmt.Sprint(pr.Page), r.AccountId, r.RegionId)
	}
	r.CorrelationId = events.CorrelationID(r.IdempotencyKey)
	// The page's failed reads travel with the step (at most
	// maxSelectAttempts, so that it stays well inside one message): the
	// page is read again until BACKUP_MAX_AGE or BACKUP_MAX_ATTEMPTS reads.
	pr.Attempts = append(pr.Attempts, backup.Attempt{Time: s.Now(), Action: "DescribeDBInstances", Code: code,
		Message: backup.Clip(info.Message, 160), Retryable: cl.Retryable(), Class: string(cl)})
	bound := maxSelectAttempts
	if s.MaxAttempts > 0 {
		bound = min(s.MaxAttempts, maxSelectAttempts)
	}
	if cl != retry.Terminal && s.Now().Sub(firstSeen) <= s.MaxAge && len(pr.Attempts) < bound {
		pr.delay = retry.DefaultPolicy.Delay(retry.StateWait, 0)
		pr.next = pr.continuation()
		o := backup.Outcome{Status: backup.StatusDeferred, Request: r, Error: info, Time: s.Now(), NotBefore: s.Now().Add(pr.delay),
			Attempts: []backup.Attempt{}, Note: "the selector will be read again"}
		sum.Add(o)
		s.Log.WarnContext(ctx, "selector deferred", slog.String("code", code), slog.Int("page", pr.Page), slog.Int64("delayMs", pr.delay.Milliseconds()))
		sctx, cancel := settle.Context(ctx)
		defer cancel()
		return o, true, s.Settle.Publish(sctx, o)
	}
	status := backup.StatusFailed
	if cl == retry.Terminal {
		status = backup.StatusRejected
	}
	o, perr := s.Settle.PublishEnd(ctx, status, r, info, sum)
	return o, false, perr
}

// targetFailed is the outcome of a Select target (an account and region)
// whose member role could not be assumed: failed with STS's code, named by
// the account and region so the run's summary counts it there.
func (s *Stepper) targetFailed(pr *Run, sel backup.Selector, err error) backup.Outcome {
	code := "InternalError"
	var me *memberauth.Error
	if errors.As(err, &me) {
		code = me.Code
	}
	r := backup.Request{Trigger: pr.Trigger, RegionId: sel.RegionId, AccountId: sel.Account(), AskedAt: pr.AskedAt}
	r.IdempotencyKey = backup.Key(pr.Trigger.Kind, pr.Trigger.Source, pr.Trigger.DeliveryId, "Select", r.AccountId, r.RegionId)
	r.CorrelationId = events.CorrelationID(r.IdempotencyKey)
	return backup.Outcome{Status: backup.StatusFailed, Terminal: true, Request: r, Time: s.Now(), Attempts: []backup.Attempt{},
		Error: &backup.ErrorInfo{Code: code, Field: "Select.Accounts", Message: fmt.Sprintf("Select in account %s, region %s: the member role could not be assumed: %s",
			r.AccountId, r.RegionId, clipErr(err))}}
}

// Finish ends each step: the next step is sent with the summary so far,
// or, when this was the last, the run's summary is published. A step that
// cannot be handed on fails the invocation (the trigger delivers it again;
// its asks are then repeats). The parallel steps of one run that end here
// are recorded in its ledger row together (finishSteps).
func (s *Stepper) Finish(ctx context.Context, runs []*Run) error {
	sctx, cancel := settle.Context(ctx)
	defer cancel()
	var errs []error
	var parallel [][]*Run // by run, in the order first seen
	for _, pr := range runs {
		if pr.step != "" && pr.next == nil && (len(pr.children) > 0 || pr.step != "0") {
			i := slices.IndexFunc(parallel, func(g []*Run) bool { return g[0].Summary.Key == pr.Summary.Key })
			if i < 0 {
				parallel = append(parallel, nil)
				i = len(parallel) - 1
			}
			parallel[i] = append(parallel[i], pr)
			continue
		}
		switch {
		case pr.next != nil:
			pr.next.Run = pr.Summary
			if err := s.Work.Send(sctx, *pr.next, pr.delay); err != nil {
				errs = append(errs, fmt.Errorf("%w: the rest of plan run %s: %w", settle.ErrUnsettled, pr.Trigger.Source, err))
				continue
			}
			s.Log.InfoContext(ctx, "plan run goes on in the next step", slog.Int("requests", len(pr.next.Requests)), slog.Int("page", pr.next.Page))
		case pr.Summary != nil:
			ev := notify.BuildRunEvent(s.Function, *pr.Summary, pr.AskedAt, s.Now())
			if err := s.Pub.PublishEvent(sctx, ev); err != nil {
				errs = append(errs, fmt.Errorf("%w: run summary: %w", settle.ErrUnsettled, err))
				continue
			}
			s.Log.InfoContext(ctx, "plan run summary", append(runCounts(*pr.Summary), slog.String("eventId", ev.ID))...)
		}
	}
	for _, steps := range parallel {
		errs = append(errs, s.finishSteps(sctx, steps)...)
	}
	return errors.Join(errs...)
}

// HandOn registers and sends the steps each parallel step of runs hands
// on, before the step's own asks run, so that they start elsewhere at
// once (the first step of a fleet hands on its pages while it runs its
// inline asks). It never fails the invocation: a step it could not hand
// on is handed on by Finish, which fails the invocation if it cannot
// either.
func (s *Stepper) HandOn(ctx context.Context, runs []*Run) {
	sctx, cancel := settle.Context(ctx)
	defer cancel()
	for _, pr := range runs {
		if pr.step == "" || pr.next != nil || len(pr.children) == 0 {
			continue
		}
		if err := s.handOnSteps(sctx, pr); err != nil {
			s.Log.InfoContext(ctx, "plan run steps not handed on before the asks; handed on after them", slog.String("step", pr.step), slog.String("error", clipErr(err)))
		}
	}
}

// handOnSteps registers pr's children in the run's ledger row, then sends
// them; once only.
func (s *Stepper) handOnSteps(ctx context.Context, pr *Run) error {
	if len(pr.children) == 0 || pr.handedOn {
		return nil
	}
	run := pr.Summary.Key
	ids := make([]string, len(pr.children))
	for i, c := range pr.children {
		ids[i] = c.Step
	}
	if _, err := s.Ledger.RegisterSteps(ctx, run, append(ids, pr.step)); err != nil {
		return fmt.Errorf("%w: register the steps of plan run %s: %w", settle.ErrUnsettled, pr.Trigger.Source, err)
	}
	if err := s.Work.SendBatch(ctx, pr.children); err != nil {
		return fmt.Errorf("%w: send the steps of plan run %s: %w", settle.ErrUnsettled, pr.Trigger.Source, err)
	}
	pr.handedOn = true
	s.Log.InfoContext(ctx, "plan run goes on in parallel steps", slog.String("step", pr.step), slog.Int("steps", len(ids)))
	return nil
}

// finishSteps ends parallel steps of one run: the steps each hands on
// are registered in the run's ledger row, then sent; then the steps are
// recorded finished with their parts of the summary (one read and one
// write of the row for all of them), and the invocation that finds the
// run complete publishes its summary. Any failure fails the invocation:
// the trigger delivers the steps again, their asks are then repeats, and a
// step recorded already is not counted twice. A step that could not hand
// on its own steps is not recorded (its redelivery hands them on).
func (s *Stepper) finishSteps(ctx context.Context, steps []*Run) []error {
	var errs []error
	parts := map[string]backup.RunSummary{}
	var ids []string
	for _, pr := range steps {
		if err := s.handOnSteps(ctx, pr); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := parts[pr.step]; !dup {
			ids = append(ids, pr.step)
		}
		parts[pr.step] = *pr.Summary
	}
	if len(ids) == 0 {
		return errs
	}
	pr := steps[0]
	run := pr.Summary.Key
	st, err := s.Ledger.StepsDone(ctx, run, ids, func(stored []byte, id string) ([]byte, error) {
		var sum backup.RunSummary
		if len(stored) > 0 {
			if err := json.Unmarshal(stored, &sum); err != nil {
				return nil, fmt.Errorf("the run's summary in the ledger: %w", err)
			}
		}
		sum.Merge(parts[id])
		return json.Marshal(sum)
	})
	if err != nil {
		return append(errs, fmt.Errorf("%w: record steps %s of plan run %s: %w", settle.ErrUnsettled, strings.Join(ids, ","), pr.Trigger.Source, err))
	}
	if !st.Complete() || st.Published {
		return errs
	}
	var sum backup.RunSummary
	if err := json.Unmarshal(st.Summary, &sum); err != nil {
		return append(errs, fmt.Errorf("%w: the summary of plan run %s: %w", settle.ErrUnsettled, pr.Trigger.Source, err))
	}
	ev := notify.BuildRunEvent(s.Function, sum, pr.AskedAt, s.Now())
	if err := s.Pub.PublishEvent(ctx, ev); err != nil {
		return append(errs, fmt.Errorf("%w: run summary: %w", settle.ErrUnsettled, err))
	}
	s.Log.InfoContext(ctx, "plan run summary", append(runCounts(sum), slog.String("eventId", ev.ID), slog.String("steps", strings.Join(ids, ",")))...)
	if err := s.Ledger.MarkPublished(ctx, run); err != nil {
		s.Log.InfoContext(ctx, "could not mark the run's summary published; a repeat of the last step publishes it again (same id)",
			slog.String("error", clipErr(err)))
	}
	return errs
}

// runCounts are the counts of a plan run's summary line: the asks (items)
// and, per status, how many asks had it as first outcome (0 when none).
func runCounts(sum backup.RunSummary) []any {
	out := []any{slog.Int("items", sum.Items)}
	for _, st := range backup.Statuses {
		out = append(out, slog.Int(string(st), sum.Counts[st]))
	}
	return out
}

// Dedupe drops requests with the same idempotency key (an instance named
// both explicitly and by a selector with the same parameters: the key
// covers the trigger, the instance and every parameter).
func Dedupe(reqs []backup.Request) []backup.Request {
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

// clipErr is err's text, clipped for an outcome's message or a log line.
func clipErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

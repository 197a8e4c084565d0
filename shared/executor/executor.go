package executor

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// RDS is what the executor needs of RDS: the smallest interface over
// *rdsclient.Client, so tests and other adapters can stand in. Each
// invocation passes its own client (its own STS credentials) to Run, RunAll,
// Expand and JobStatus; the executor keeps none.
type RDS interface {
	DescribeInstance(ctx context.Context, region, id string) (backup.InstanceFacts, string, error)
	OngoingJobs(ctx context.Context, region, id string) ([]backup.Job, string, error)
	Job(ctx context.Context, region, id, jobID string) (backup.Job, bool, string, error)
	RecentBackups(ctx context.Context, region, id string, since time.Time) ([]rdsclient.BackupSet, string, error)
	Databases(ctx context.Context, region, id string) (names []string, engine, requestID string, err error)
	CreateBackup(ctx context.Context, r backup.Request) (jobID, requestID string, err error)
	ListInstances(ctx context.Context, sel backup.Selector, pageNumber, pageSize int) ([]backup.InstanceFacts, int, string, error)
}

// Budget bounds one request over its whole life, across invocations.
type Budget struct {
	MaxAttempts int           // attempts in all (History.Attempts plus this run's)
	MaxAge      time.Duration // since History.FirstSeen
}

// Options tune the executor. Start from DefaultOptions: FactsCacheTTL takes
// 0 as "off"; every other zero field takes its default.
type Options struct {
	// FreshFor: an ask on its first delivery (no history, not redelivered,
	// from a trigger kind that does not redeliver) whose AskedAt is at most
	// this old goes straight to CreateBackup: one RDS call. Any other ask may
	// be a repeat and first looks for a backup that satisfies it (running
	// jobs, then sets that ended at or after AskedAt). Default 2s: time for
	// a timer plan's inline asks, a signed POST or a fleet's first step,
	// and far below EventBridge's first retry (10–20 s), so a redelivery is
	// never fresh.
	// The cost of the shortcut: a backup that began before AskedAt and ended
	// within FreshFor after it is not looked for. 0 takes the default; use a
	// negative value to look on every ask.
	FreshFor time.Duration
	// LookHolds: how long a look that found nothing satisfying the ask is
	// trusted. A CreateBackup that would go out later (after a retry's
	// backoff, or held up by the throttle gate) looks again first, so that
	// a backup made and ended meanwhile by another invocation is found.
	// Keep it below the shortest time a backup takes (default 10s).
	LookHolds time.Duration
	// MaxAttemptsPerInvocation caps the attempts of one Run (default 6);
	// past it a retryable request is deferred.
	MaxAttemptsPerInvocation int
	// Budget caps a request over its life (default 12 attempts, 2h); past it
	// the request fails.
	Budget Budget
	// DeadlineMargin is kept free before the context's deadline (default 5s)
	// for settling outcomes: no sleep, no wait and no RDS call runs into it
	// (every call's own timeout is cut to end before it).
	DeadlineMargin time.Duration
	// Concurrency is the ceiling of the adaptive limit on RDS calls in
	// flight across everything the executor does (default 64). The limit
	// starts at InitialConcurrency and grows by one with every success (it
	// doubles every round trip) until the first throttling answer; from
	// then on it grows by one after as many successes in a row as the
	// limit, and it halves on every throttling answer of the account's flow
	// control, so a fleet runs as fast as the account's API limits allow.
	// RunAll runs up to twice Concurrency requests at once.
	Concurrency int
	// InitialConcurrency is where the adaptive limit starts (default 8,
	// at most Concurrency).
	InitialConcurrency int
	// FactsCacheTTL keeps what the rules need of an instance for a warm
	// function: engine and storage type (they never change) and the database
	// names (they do: kept this long; default 60s; 0 off). Status, lock mode
	// and jobs are never cached: CreateBackup checks them.
	FactsCacheTTL time.Duration
	// TrackJobs: accepted and coalesced outcomes are followed to completion
	// by a tracker, so they are not terminal.
	TrackJobs bool
	// Ledger is the ask ledger (nil: none, and a repeat is told by what RDS
	// lists, which lags): Run claims an ask's row before acting on it.
	Ledger AskLedger
	// SetLagBound: how long after a CreateBackup RDS may take to list the
	// backup it made, once ended (default 2m: terraform-provider-alicloud
	// waits a minute after Finished for DescribeBackups to catch up). An
	// ask whose earlier delivery sent CreateBackup and died before it
	// recorded the job waits this long before it creates another.
	SetLagBound time.Duration

	// Seams: the clock, sleeping (must honour ctx), randomness for jitter,
	// and the logger. Defaults: time.Now, retry.Sleep, math/rand/v2,
	// slog.Default().
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Rand   func() float64
	Logger *slog.Logger

	// Policy is the backoff per class (default retry.DefaultPolicy); its
	// Rand is replaced by Rand.
	Policy *retry.Policy
	// Gate is the throttle gate (default: a new one per executor). Share
	// one between executors to slow them down together.
	Gate *retry.Gate
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{
		FreshFor:                 2 * time.Second,
		LookHolds:                10 * time.Second,
		MaxAttemptsPerInvocation: 6,
		Budget:                   Budget{MaxAttempts: 12, MaxAge: 2 * time.Hour},
		DeadlineMargin:           5 * time.Second,
		Concurrency:              64,
		InitialConcurrency:       8,
		FactsCacheTTL:            60 * time.Second,
		SetLagBound:              2 * time.Minute,
	}
}

// RedeliveringKinds are the trigger kinds whose asks may arrive again
// (at-least-once queues, re-sent webhooks, resumed work): their asks are
// never taken as fresh.
var RedeliveringKinds = map[string]bool{
	"mns": true, "github": true, "gitlab": true, "deferred": true,
}

// History is what a resumed or redelivered ask brings along.
type History struct {
	// Attempts of earlier invocations (from the work-queue message).
	Attempts []backup.Attempt
	// FirstSeen is when the ask was first received (budget age).
	FirstSeen time.Time
	// RetryCount is FC's retry count for async invocations.
	RetryCount int
	// CallerKey says the ask's IdempotencyKey or AskedAt came from the
	// caller (not derived by a trigger), so the same ask may come again.
	CallerKey bool
	// Facts the trigger already knows of the instance (a fan-out item
	// carries what the DescribeDBInstances listing said).
	Facts *backup.InstanceFacts
}

// Executor turns valid requests into backup jobs. Safe for concurrent use;
// keep one per warm function instance: the facts cache, the throttle gate
// and the adaptive concurrency limit then outlive an invocation.
type Executor struct {
	o       Options
	policy  retry.Policy
	own     flow  // the functions' own account (Options.Gate, Concurrency)
	members flows // each member account and region (flow.go)
	locks   *keyedLocks
	cache   *factsCache
	log     *slog.Logger
}

// New returns an executor.
func New(opts Options) *Executor {
	d := DefaultOptions()
	if opts.FreshFor == 0 {
		opts.FreshFor = d.FreshFor
	}
	if opts.SetLagBound <= 0 {
		opts.SetLagBound = d.SetLagBound
	}
	if opts.LookHolds <= 0 {
		opts.LookHolds = d.LookHolds
	}
	if opts.MaxAttemptsPerInvocation <= 0 {
		opts.MaxAttemptsPerInvocation = d.MaxAttemptsPerInvocation
	}
	if opts.Budget.MaxAttempts <= 0 {
		opts.Budget.MaxAttempts = d.Budget.MaxAttempts
	}
	if opts.Budget.MaxAge <= 0 {
		opts.Budget.MaxAge = d.Budget.MaxAge
	}
	if opts.DeadlineMargin <= 0 {
		opts.DeadlineMargin = d.DeadlineMargin
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = d.Concurrency
	}
	if opts.InitialConcurrency <= 0 {
		opts.InitialConcurrency = d.InitialConcurrency
	}
	opts.InitialConcurrency = min(opts.InitialConcurrency, opts.Concurrency)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = retry.Sleep
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	policy := retry.DefaultPolicy
	if opts.Policy != nil {
		policy = *opts.Policy
	}
	policy = policy.WithRand(opts.Rand)
	gate := opts.Gate
	if gate == nil {
		gate = retry.NewGate(0, 0, opts.Now)
	}
	return &Executor{
		o:      opts,
		policy: policy,
		own:    flow{gate: gate, limit: newLimiter(opts.InitialConcurrency, opts.Concurrency)},
		locks:  newKeyedLocks(),
		cache:  newFactsCache(opts.FactsCacheTTL),
		log:    opts.Logger,
	}
}

// Concurrency reports the adaptive limit of the functions' own account now
// and the highest it reached.
func (e *Executor) Concurrency() (now, peak int) { return e.own.limit.stats() }

// Gate returns the throttle gate of the functions' own account.
func (e *Executor) Gate() *retry.Gate { return e.own.gate }

// keyedLocks serialises the runs for one instance inside one executor, so
// that two requests for it in one invocation see each other's job instead of
// racing to CreateBackup (the API's BackupJobExists still guards across
// invocations).
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	ch   chan struct{}
	refs int
}

func newKeyedLocks() *keyedLocks { return &keyedLocks{m: map[string]*keyedLock{}} }

func (k *keyedLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	l := k.m[key]
	if l == nil {
		l = &keyedLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	done := func() {
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}

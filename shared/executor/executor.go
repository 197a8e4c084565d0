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
// *rdsclient.Client, so tests and other adapters can stand in.
type RDS interface {
	DescribeInstance(ctx context.Context, region, id string) (backup.InstanceFacts, string, error)
	OngoingJobs(ctx context.Context, region, id string) ([]backup.Job, string, error)
	Job(ctx context.Context, region, id, jobID string) (backup.Job, bool, string, error)
	RecentBackups(ctx context.Context, region, id string, since time.Time) ([]rdsclient.BackupSet, string, error)
	Databases(ctx context.Context, region, id string) ([]string, string, error)
	CreateBackup(ctx context.Context, r backup.Request) (jobID, requestID string, err error)
	ListInstances(ctx context.Context, sel backup.Selector, pageNumber, pageSize int) ([]string, int, string, error)
}

// RecentCheck values: when preflight reads DescribeBackups.
const (
	RecentAuto   = "auto"   // when the request may be a repeat (see Options.RecentCheck)
	RecentAlways = "always" // on every request (counts today's backups against the 20 a day)
	RecentNever  = "never"
)

// Budget bounds one request over its whole life, across invocations.
type Budget struct {
	MaxAttempts int           // attempts in all (History.Attempts plus this run's)
	MaxAge      time.Duration // since History.FirstSeen
}

// Options tune the executor. Start from DefaultOptions: CoalesceWindow and
// FactsCacheTTL take 0 as "off"; every other zero field takes its default.
type Options struct {
	// CoalesceWindow: a backup of the same method that started this recently
	// is reported instead of creating another (default 10m; 0 disables
	// coalescing: an ongoing job or BackupJobExists is then waited out).
	CoalesceWindow time.Duration
	// RecentCheck says when preflight reads DescribeBackups (one call, from
	// min(start of today in QuotaLocation, now − CoalesceWindow)): "auto"
	// (default) when the request may be a repeat — it has a history, FC
	// retried it, its trigger redelivers (RedeliveringKinds), or
	// History.CallerKey — "always", or "never".
	RecentCheck string
	// MaxAttemptsPerInvocation caps the attempts of one Run (default 6);
	// past it a retryable request is deferred.
	MaxAttemptsPerInvocation int
	// Budget caps a request over its life (default 12 attempts, 2h); past it
	// the request fails.
	Budget Budget
	// DeadlineMargin is kept free before the context's deadline (default 5s):
	// no sleep and no new call runs into it.
	DeadlineMargin time.Duration
	// Concurrency bounds the RDS calls in flight across everything the
	// executor does (default 4). RunAll runs as many requests at once.
	Concurrency int
	// FactsCacheTTL keeps an instance's static facts (engine, storage,
	// type, category, databases) for a warm function (default 60s; 0 off).
	// Status, lock mode and jobs are always read fresh.
	FactsCacheTTL time.Duration
	// QuotaLocation is the time zone of "today" for the 20-a-day quota
	// (default UTC).
	QuotaLocation *time.Location
	// TrackJobs: accepted and coalesced outcomes are followed to completion
	// by a tracker, so they are not terminal.
	TrackJobs bool

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
		CoalesceWindow:           10 * time.Minute,
		RecentCheck:              RecentAuto,
		MaxAttemptsPerInvocation: 6,
		Budget:                   Budget{MaxAttempts: 12, MaxAge: 2 * time.Hour},
		DeadlineMargin:           5 * time.Second,
		Concurrency:              4,
		FactsCacheTTL:            60 * time.Second,
		QuotaLocation:            time.UTC,
	}
}

// RedeliveringKinds are the trigger kinds whose requests may arrive again
// (at-least-once queues, re-sent webhooks, resumed work): for them
// RecentCheck "auto" reads DescribeBackups.
var RedeliveringKinds = map[string]bool{
	"mns": true, "github": true, "gitlab": true, "deferred": true,
}

// History is what a resumed request brings along: the attempts of earlier
// invocations (from the work queue message), when it was first seen, and
// FC's retry count for async invocations.
type History struct {
	Attempts   []backup.Attempt
	FirstSeen  time.Time
	RetryCount int
	// CallerKey says the request's IdempotencyKey came from the caller
	// (not derived by a trigger), so the same ask may come again.
	CallerKey bool
}

// Executor turns valid requests into backup jobs. Safe for concurrent use;
// keep one per invocation (or per warm instance: the facts cache and the
// throttle gate then outlive an invocation).
type Executor struct {
	rds    RDS
	o      Options
	policy retry.Policy
	gate   *retry.Gate
	sem    chan struct{}
	locks  *keyedLocks
	cache  *factsCache
	log    *slog.Logger
}

// New returns an executor over rds.
func New(rds RDS, opts Options) *Executor {
	d := DefaultOptions()
	if opts.RecentCheck == "" {
		opts.RecentCheck = d.RecentCheck
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
	if opts.CoalesceWindow < 0 {
		opts.CoalesceWindow = 0
	}
	if opts.QuotaLocation == nil {
		opts.QuotaLocation = time.UTC
	}
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
		rds:    rds,
		o:      opts,
		policy: policy,
		gate:   gate,
		sem:    make(chan struct{}, opts.Concurrency),
		locks:  newKeyedLocks(),
		cache:  newFactsCache(opts.FactsCacheTTL),
		log:    opts.Logger,
	}
}

// Gate returns the executor's throttle gate.
func (e *Executor) Gate() *retry.Gate { return e.gate }

// acquire takes a slot for one RDS call.
func (e *Executor) acquire(ctx context.Context) error {
	select {
	case e.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Executor) release() { <-e.sem }

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

package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aliyun/credentials-go/credentials"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/fc-rds-backup/fc-rds-backup/shared/accounts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/admit"
	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/planrun"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/reask"
	"github.com/fc-rds-backup/fc-rds-backup/shared/settle"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tracker"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// Options are the seams of an App; zero values are the production ones.
type Options struct {
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// App serves one function.
type App struct {
	function string
	cfg      config.Config
	log      *slog.Logger
	invoked  atomic.Bool // an invocation has begun: the next is not a cold start
	now      func() time.Time
	exec     *executor.Executor
	// asks is the executor's ask ledger (executor.Options.Ledger): the
	// invocation's ledger, found from the context; nil without
	// BACKUP_LEDGER_ENDPOINT.
	asks  executor.AskLedger
	track *tracker.Tracker
	hook  *webhook.Handler
	// regions are the regions requests may name besides the invocation's
	// own (BACKUP_REGION and BACKUP_ALLOWED_REGIONS, DESIGN.md §5).
	regions backup.Regions
	// sealer seals the work queue's envelopes and opens them: only the
	// functions hold its key (BACKUP_ENVELOPE_KEY).
	sealer *workqueue.Sealer
	// broker hands out member-account credentials (member.go, used by
	// shared/accounts); nil when BACKUP_ALLOWED_ACCOUNTS names none.
	broker *memberauth.Broker

	mu       sync.Mutex
	chainRDS *rdsclient.Client // default-chain client, when the chain has a source
	chainErr error
	rdsBy    map[string]*rdsclient.Client // per credential
	mnsBy    map[string]*mnsq.Client      // per credential
	ledgerBy map[string]*ledger.Ledger    // per credential, when BACKUP_LEDGER_ENDPOINT is set
}

// New builds the App of function ("scheduled", "queue" or "webhook"). It
// fails fast on what would fail every invocation: bad routes, and no
// credentials at all outside Function Compute.
func New(function string, cfg config.Config, opts Options) (*App, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = NewLogger(os.Stderr, cfg.LogLevel)
	}
	log := opts.Logger.With("function", function)
	a := &App{function: function, cfg: cfg, log: log, now: opts.Now,
		rdsBy: map[string]*rdsclient.Client{}, mnsBy: map[string]*mnsq.Client{}, ledgerBy: map[string]*ledger.Ledger{}}

	var err error
	a.chainRDS, a.chainErr = rdsclient.New(a.rdsConfig())
	_, inFC := cfg.Env["FC_RUNTIME_API"]
	if a.chainErr != nil && !inFC {
		return nil, fmt.Errorf("no credentials: outside Function Compute the default credential chain is used and it has no source (set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or a profile): %w", a.chainErr)
	}
	if a.sealer, err = workqueue.NewSealer([]byte(cfg.EnvelopeKey), []byte(cfg.EnvelopeKeyPrevious)); err != nil {
		return nil, fmt.Errorf("BACKUP_ENVELOPE_KEY: %w", err)
	}
	if a.regions, err = backup.NewRegions(append([]string{cfg.Region}, cfg.AllowedRegions...)...); err != nil {
		return nil, fmt.Errorf("BACKUP_ALLOWED_REGIONS: %w", err)
	}
	if _, err := mnsq.NormalizeEndpoint(cfg.MNSEndpoint); err != nil {
		return nil, fmt.Errorf("BACKUP_MNS_ENDPOINT: %w", err)
	}
	if a.broker, err = newBroker(cfg, opts, log); err != nil {
		return nil, fmt.Errorf("member accounts: %w", err)
	}

	fresh := cfg.FreshFor
	if fresh == 0 {
		fresh = -1 // look for a satisfying backup on every ask
	}
	if cfg.LedgerEndpoint != "" { // else nil: no ledger (an interface holding a nil value would not be)
		a.asks = invocationLedger{lease: cfg.LedgerLease}
	}
	a.exec = executor.New(executor.Options{
		FreshFor:                 fresh,
		LookHolds:                cfg.LookHolds,
		SetLagBound:              cfg.SetLagBound,
		MaxAttemptsPerInvocation: cfg.AttemptsPerCall,
		Budget:                   executor.Budget{MaxAttempts: cfg.MaxAttempts, MaxAge: cfg.MaxAge},
		DeadlineMargin:           cfg.DeadlineMargin,
		Concurrency:              cfg.RDSConcurrency,
		FactsCacheTTL:            cfg.FactsCacheTTL,
		TrackJobs:                cfg.TrackJobs,
		Now:                      opts.Now,
		Sleep:                    opts.Sleep,
		Logger:                   log,
		Ledger:                   a.asks,
	})
	a.track = tracker.New(nil, tracker.Options{MaxAge: cfg.TrackMaxAge, Logger: log})

	if function == "webhook" {
		routes, err := webhook.LoadRoutes(cfg.Routes)
		if err == nil {
			// A token route binds nothing but its token: it needs a max
			// ask age, its own or BACKUP_MAX_ASK_AGE.
			err = webhook.CheckTokenRoutes(routes, cfg.MaxAskAge)
		}
		if err != nil {
			return nil, fmt.Errorf("webhook routes: %w", err)
		}
		secrets, err := webhook.ResolveSecrets(routes, func(k string) string { return cfg.Env[k] })
		if err != nil {
			return nil, fmt.Errorf("webhook routes: %w", err)
		}
		a.hook = webhook.New(webhook.Config{
			Routes: routes, Secrets: secrets, MaxBody: cfg.MaxBody, ReplayWindow: cfg.ReplayWindow, MaxRequests: cfg.MaxRequests,
			MaxAskAge: cfg.MaxAskAge,
			Now:       opts.Now, Logger: log, Regions: a.regionsOf,
		}, submitter{a}, jobReader{a}, rejecter{a})
		if cfg.LedgerEndpoint != "" { // the Idempotency-Key's 409 on every instance, not only this one
			a.hook.UseKeyLedger(invocationKeys{})
			a.hook.UseReports(reporter{a}) // GET /v1/report (report.go): its problems are the ledger's
		}
	}
	return a, nil
}

func (a *App) rdsConfig() rdsclient.Config {
	return rdsclient.Config{
		RegionID:        a.cfg.Region,
		Endpoint:        a.cfg.RDSEndpoint,
		Protocol:        a.cfg.RDSProtocol,
		UseDefaultChain: true,
		ConnectTimeout:  a.cfg.ConnectTimeout,
		ReadTimeout:     a.cfg.ReadTimeout,
		MaxIdleConns:    a.cfg.RDSConcurrency,
	}
}

// invocation is what one invocation works with.
type invocation struct {
	requestID  string
	region     string
	regions    backup.Regions // the regions requests may name: the deployment's and the function's own
	fleet      backup.Fleet   // the accounts requests may name: the own (from the FC context) and BACKUP_ALLOWED_ACCOUNTS
	key        memberauth.CallerKey
	retryCount int
	rds        *rdsclient.Client
	pub        *notify.Publisher
	work       workqueue.Sender
	ledger     *ledger.Ledger // the ask ledger with this invocation's credentials; nil without BACKUP_LEDGER_ENDPOINT
	log        *slog.Logger

	// The parts, wired to this invocation's clients (parts).
	admit    admit.Rules       // what the invocation admits
	accounts accounts.Accounts // asks in the accounts they name
	settle   *settle.Settler   // settling outcomes
	steps    *planrun.Stepper  // plan runs
	reask    reask.Handler     // the work queue's follow-ups
}

func invocationFrom(ctx context.Context) *invocation {
	inv, _ := ctx.Value(keyInvocation).(*invocation)
	return inv
}

// begin prepares an invocation by trigger (triggerTimer, …) from the FC
// context.
func (a *App) begin(ctx context.Context, trigger string) (context.Context, *invocation, error) {
	inv := &invocation{region: a.cfg.Region, regions: a.regions,
		fleet: backup.Fleet{Accounts: a.cfg.AllowedAccounts, MaxFanout: a.cfg.MaxFanout}}
	var ak, sk, token string
	fctx, _ := fccontext.FromContext(ctx)
	if fctx != nil {
		inv.requestID = fctx.RequestID
		inv.retryCount = fctx.RetryCount
		if inv.region == "" {
			inv.region = fctx.Region
		}
		inv.regions = inv.regions.With(fctx.Region) // the function's own region
		ak, sk, token = fctx.Credentials.AccessKeyId, fctx.Credentials.AccessKeySecret, fctx.Credentials.SecurityToken
		if backup.ValidAccountID(fctx.AccountId) {
			inv.fleet.Own = fctx.AccountId
		}
	}
	inv.key = memberauth.CallerKey{AccessKeyID: ak, AccessKeySecret: sk, SecurityToken: token}
	ctx = withLogAttrs(ctx, a.invocationAttrs(fctx, trigger)...)
	inv.log = a.log
	var err error
	if inv.rds, err = a.rdsFor(ak, sk, token); err != nil {
		return ctx, nil, err
	}
	mc, err := a.mnsFor(ak, sk, token)
	if err != nil {
		return ctx, nil, err
	}
	dest := notify.Config{Function: a.function, Policy: notify.Policy(a.cfg.NotifyOutcomes), Now: a.now, Logger: a.log}
	if a.cfg.NotifyTopic != "" {
		dest.Topic = a.cfg.NotifyTopic
	} else {
		dest.Queue = a.cfg.NotifyQueue
	}
	inv.pub, err = notify.New(mc, dest)
	if err != nil {
		return ctx, nil, err
	}
	inv.work = workqueue.NewMNSSender(mc, a.cfg.WorkQueue, a.sealer)
	if inv.ledger, err = a.ledgerFor(ak, sk, token); err != nil {
		return ctx, nil, err
	}
	a.parts(inv)
	return context.WithValue(ctx, keyInvocation, inv), inv, nil
}

// parts wires the packages that do the invocation's work to its clients:
// each gets the clients it uses as values, none reaches them through the
// App.
func (a *App) parts(inv *invocation) {
	inv.admit = admit.Rules{Regions: inv.regions, Fleet: inv.fleet, MaxRequests: a.cfg.MaxRequests, MNSSelect: a.cfg.MNSSelect,
		Ledger: inv.ledger != nil}
	inv.accounts = accounts.Accounts{Own: inv.rds, Fleet: inv.fleet, Broker: a.broker, Role: a.cfg.MemberRole, ExternalID: a.cfg.MemberExternalID,
		Exec: a.exec, MaxAge: a.cfg.MaxAge, MaxAttempts: a.cfg.MaxAttempts, Now: a.now, Log: inv.log}
	inv.settle = &settle.Settler{Pub: inv.pub, Work: inv.work, Tracker: a.track, TrackJobs: a.cfg.TrackJobs,
		Region: inv.region, RetryCount: inv.retryCount, Now: a.now, Log: a.log}
	inv.steps = &planrun.Stepper{Function: a.function, Settle: inv.settle, Own: inv.rds, Clients: inv.accounts, Exec: a.exec,
		Work: inv.work, Pub: inv.pub, Region: inv.region, Fleet: inv.fleet, MaxAge: a.cfg.MaxAge, MaxAttempts: a.cfg.MaxAttempts,
		Now: a.now, Log: a.log}
	if inv.ledger != nil { // else nil interfaces: no ledger (an interface holding a nil value would not be)
		inv.settle.Problems = inv.ledger
		inv.steps.Ledger = inv.ledger
	}
	inv.reask = reask.Handler{Settle: inv.settle, Work: inv.work, Pub: inv.pub, Accounts: inv.accounts, Tracker: a.track,
		Readers: a.exec, Now: a.now}
}

func (a *App) rdsFor(ak, sk, token string) (*rdsclient.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ak == "" {
		if a.chainRDS == nil {
			return nil, fmt.Errorf("no credentials: the invocation carries no role credentials (give the function a RAM role) and the default chain has no source: %w", a.chainErr)
		}
		return a.chainRDS, nil
	}
	key := ak + "\x00" + token
	if c, ok := a.rdsBy[key]; ok {
		return c, nil
	}
	cfg := a.rdsConfig()
	cfg.UseDefaultChain = false
	cfg.AccessKeyID, cfg.AccessKeySecret, cfg.SecurityToken = ak, sk, token
	c, err := rdsclient.New(cfg)
	if err != nil {
		return nil, err
	}
	if len(a.rdsBy) > 8 { // STS credentials rotate; keep the cache small
		clear(a.rdsBy)
	}
	a.rdsBy[key] = c
	return c, nil
}

func (a *App) mnsFor(ak, sk, token string) (*mnsq.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ak == "" {
		var err error
		if ak, sk, token, err = chainCredential(); err != nil {
			return nil, fmt.Errorf("no credentials for MNS: %w", err)
		}
	}
	key := ak + "\x00" + token
	if c, ok := a.mnsBy[key]; ok {
		return c, nil
	}
	c, err := mnsq.New(mnsq.Config{Endpoint: a.cfg.MNSEndpoint, AccessKeyID: ak, AccessKeySecret: sk, SecurityToken: token})
	if err != nil {
		return nil, err
	}
	if len(a.mnsBy) > 8 {
		clear(a.mnsBy)
	}
	a.mnsBy[key] = c
	return c, nil
}

// chainCredential is the default credential chain's key (outside Function
// Compute, where an invocation carries no role credentials).
func chainCredential() (ak, sk, token string, err error) {
	cred, err := credentials.NewCredential(nil)
	if err != nil {
		return "", "", "", err
	}
	m, err := cred.GetCredential()
	if err != nil {
		return "", "", "", err
	}
	return deref(m.AccessKeyId), deref(m.AccessKeySecret), deref(m.SecurityToken), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// regionsOf returns the regions requests may name in the invocation of ctx.
func (a *App) regionsOf(ctx context.Context) backup.Regions {
	if inv := invocationFrom(ctx); inv != nil {
		return inv.regions
	}
	return a.regions
}

// Summary is what the timer and queue functions return (their invocation
// result, visible in FC's logs and to a synchronous caller).
type Summary = settle.Summary

// CodeNotParked: a deferred request could not be written to the work
// queue; the caller must ask again.
const CodeNotParked = settle.CodeNotParked

func clipErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

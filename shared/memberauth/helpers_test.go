package memberauth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
)

// Accounts of the tests: the hub (where the functions run) and members.
const (
	hub     = "1000000000000001"
	memberA = "2000000000000002"
	memberB = "3000000000000003"
	extID   = "ext-123"
	role    = DefaultRole
)

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// gateClock is the STS emulator's clock in tests that hold a call: a fault's
// latency (emukit.Sleeper) announces itself on entered and waits for
// release, so a test decides when a held call answers.
type gateClock struct {
	*rds.FakeClock
	entered chan string
	release chan struct{}
}

func (g gateClock) Sleep(time.Duration) {
	g.entered <- "held"
	<-g.release
}

type env struct {
	t     *testing.T
	srv   *sts.Server
	clock *rds.FakeClock
	store *auth.Store
	hub   auth.Credential

	mu     sync.Mutex
	events []Event
	sleeps []time.Duration
	onEv   func(Event) // extra hook, called outside mu
}

// newEnv starts the STS emulator on a fake clock, with role DefaultRole in
// memberA and memberB trusting the hub with ExternalId ext-123.
func newEnv(t *testing.T, opts ...sts.Option) *env {
	t.Helper()
	clock := rds.NewFakeClock(t0)
	return newEnvClock(t, clock, clock, opts...)
}

func newEnvClock(t *testing.T, fc *rds.FakeClock, c sts.Clock, opts ...sts.Option) *env {
	t.Helper()
	store := auth.NewStore(fc.Now)
	srv := sts.NewServer(append([]sts.Option{sts.WithClock(c), sts.WithCredentials(store)}, opts...)...)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, clock: fc, store: store, hub: store.NewAccessKeyFor(hub)}
	for _, acct := range []string{memberA, memberB} {
		if err := srv.AddRole(sts.Role{AccountID: acct, Name: role, ExternalID: extID, Trusted: []string{hub}}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) record(ev Event) {
	e.mu.Lock()
	e.events = append(e.events, ev)
	hook := e.onEv
	e.mu.Unlock()
	if hook != nil {
		hook(ev)
	}
}

// broker is a Broker against e's emulator, signing with e.hub, on e's
// clock; its sleep records the wait and moves the clock by it (no real
// waiting), and jitter is fixed.
func (e *env) broker(mod func(*Config)) *Broker {
	e.t.Helper()
	cfg := Config{
		Caller: func(context.Context) (CallerKey, error) {
			return CallerKey{AccessKeyID: e.hub.AccessKeyID, AccessKeySecret: e.hub.AccessKeySecret, SecurityToken: e.hub.SecurityToken}, nil
		},
		Endpoint: e.srv.Endpoint(),
		Protocol: "http",
		Now:      e.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.mu.Unlock()
			e.clock.Advance(d)
			return ctx.Err()
		},
		Rand:    func() float64 { return 0.99 },
		OnEvent: e.record,
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// assumeCalls counts AssumeRole calls the emulator saw for account's role.
func (e *env) assumeCalls(account string) int {
	n := 0
	for _, c := range e.srv.Calls() {
		if c.Action == "AssumeRole" && c.RoleArn == RoleArn(account, role) {
			n++
		}
	}
	return n
}

func (e *env) eventsOf(kind EventKind, account string) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for _, ev := range e.events {
		if ev.Kind == kind && ev.Account == account {
			out = append(out, ev)
		}
	}
	return out
}

func req(account string) Request {
	return Request{AccountID: account, Role: role, ExternalID: extID, SessionName: "run-1"}
}

// testCtx bounds a test's waits; it is a safety net against a hang, not a
// measure of anything.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

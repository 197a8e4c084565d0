package executor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// The adapter satisfies the executor's interface.
var _ executor.RDS = (*rdsclient.Client)(nil)

// t0 is the fake clock's start: 02:00 UTC, two hours into the quota day.
var t0 = time.Date(2024, 6, 3, 2, 0, 0, 0, time.UTC)

// harness is the RDS emulator on a fake clock, a real rdsclient over it, and
// an executor whose Sleep advances the fake clock (no real sleeping).
type harness struct {
	t   *testing.T
	srv *rds.Server
	clk *rds.FakeClock
	cli *rdsclient.Client

	mu     sync.Mutex
	slept  []time.Duration
	onTick func(now time.Time) // called after each Sleep
}

func newHarness(t *testing.T, srvOpts ...rds.Option) *harness {
	t.Helper()
	return newHarnessOn(t, func(c *rds.FakeClock) rds.Clock { return c }, srvOpts...)
}

// newHarnessOn is newHarness whose emulator reads clock(the fake clock),
// e.g. an rds.InstantLatency.
func newHarnessOn(t *testing.T, clock func(*rds.FakeClock) rds.Clock, srvOpts ...rds.Option) *harness {
	t.Helper()
	h := &harness{t: t, clk: rds.NewFakeClock(t0)}
	h.srv = rds.NewServer(append([]rds.Option{rds.WithClock(clock(h.clk))}, srvOpts...)...)
	// rdstest's Close is a graceful http.Server.Shutdown, which waits up to
	// 5s for connections the client dialed but never used (StateNew):
	// close in the background so the test does not wait for it.
	t.Cleanup(func() { go h.srv.Close() })
	cred := h.srv.Credential()
	cli, err := rdsclient.New(rdsclient.Config{
		RegionID: "cn-hangzhou", Endpoint: h.srv.Endpoint(), Protocol: "http",
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret,
		ReadTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.cli = cli
	return h
}

func (h *harness) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.clk.Advance(d)
	h.mu.Lock()
	h.slept = append(h.slept, d)
	tick := h.onTick
	h.mu.Unlock()
	if tick != nil {
		tick(h.clk.Now())
	}
	return nil
}

func (h *harness) sleeps() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.slept)
}

// options are the defaults with the fake clock, the recording sleep, a
// fixed random source and a quiet logger.
func (h *harness) options(mod ...func(*executor.Options)) executor.Options {
	o := executor.DefaultOptions()
	o.Now = h.clk.Now
	o.Sleep = h.sleep
	o.Rand = func() float64 { return 1 }
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, m := range mod {
		m(&o)
	}
	return o
}

func (h *harness) executor(mod ...func(*executor.Options)) boundExec {
	return boundExec{executor.New(h.options(mod...)), h.cli}
}

// boundExec is an executor with the harness's client, as an invocation
// passes its own.
type boundExec struct {
	*executor.Executor
	rds executor.RDS
}

func (b boundExec) Run(ctx context.Context, r backup.Request, h executor.History) backup.Outcome {
	return b.Executor.Run(ctx, b.rds, r, h)
}

func (b boundExec) RunAll(ctx context.Context, reqs []backup.Request, h func(int) executor.History) []backup.Outcome {
	return b.Executor.RunAll(ctx, b.rds, reqs, h)
}

func (b boundExec) JobStatus(ctx context.Context, region, id, job string) (backup.Job, bool, error) {
	return b.Executor.JobStatus(ctx, b.rds, region, id, job)
}

func (b boundExec) Expand(ctx context.Context, sel backup.Selector, d backup.Spec) ([]executor.Target, error) {
	return b.Executor.Expand(ctx, b.rds, sel, d)
}

func (h *harness) add(in rds.Instance) {
	if in.RegionId == "" {
		in.RegionId = "cn-hangzhou"
	}
	h.srv.AddInstance(in)
}

func (h *harness) count(action string) int { return h.srv.Counts()[action] }

// actions lists the calls' actions in order.
func actions(calls []rds.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Action
	}
	return out
}

func (h *harness) callsOf(action string) []rds.Call {
	var out []rds.Call
	for _, c := range h.srv.Calls() {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

func req(id string, mod ...func(*backup.Request)) backup.Request {
	r := backup.Request{DBInstanceId: id, Trigger: backup.Trigger{Kind: "http", Source: "test"},
		IdempotencyKey: backup.Key("test", id), CorrelationId: "corr-" + id, AskedAt: t0}
	for _, m := range mod {
		m(&r)
	}
	return r
}

func codes(o backup.Outcome) []string {
	var out []string
	for _, a := range o.Attempts {
		c := a.Code
		if c == "" {
			c = "ok"
		}
		out = append(out, a.Action+":"+c)
	}
	return out
}

// DESIGN.md §2: a fresh instance-level ask costs exactly one RDS call,
// counted by the emulator.
func TestFreshAskOneCall(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-happy", Engine: "MySQL"})
	r := req("rm-happy")
	r.Trigger.Kind, r.AskedAt = "timer", t0
	o := h.executor().Run(context.Background(), r, executor.History{})
	if o.Status != backup.StatusAccepted || o.BackupJobId == "" || !o.Terminal {
		t.Fatalf("outcome = %+v", o)
	}
	if got := len(h.srv.Calls()); got != 1 {
		t.Errorf("%d RDS calls (%v), want 1", got, h.srv.Counts())
	}
	create := h.callsOf("CreateBackup")
	if len(create) != 1 || o.RequestId != create[0].RequestId {
		t.Fatalf("CreateBackup calls %d, RequestId %q", len(create), o.RequestId)
	}
	if len(o.Attempts) != 1 || o.Attempts[0].Action != "CreateBackup" || o.Attempts[0].Code != "" || o.Attempts[0].RequestId != o.RequestId {
		t.Errorf("attempts = %+v", o.Attempts)
	}
	if jobs := h.srv.Jobs("rm-happy"); len(jobs) != 1 || jobs[0].BackupJobId != o.BackupJobId || jobs[0].BackupMethod != "Physical" {
		t.Errorf("server jobs = %+v", jobs)
	}
}

// A redelivery of an ask after its backup finished creates none, at any
// delay; a new ask made after that backup ended gets its own.
func TestRedeliveryAfterTheBackupFinished(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-r", Engine: "MySQL"})
	ex := h.executor()
	r := req("rm-r")
	r.Trigger.Kind, r.AskedAt = "mns", t0
	if o := ex.Run(context.Background(), r, executor.History{}); o.Status != backup.StatusAccepted {
		t.Fatalf("first delivery: %s %+v", o.Status, o.Error)
	}
	h.clk.Advance(5 * time.Hour) // the job finished long ago
	o := ex.Run(context.Background(), r, executor.History{})
	if o.Status != backup.StatusCoalesced || o.BackupId == "" || h.count("CreateBackup") != 1 {
		t.Fatalf("redelivery 5h later: %s set %q, %d creates", o.Status, o.BackupId, h.count("CreateBackup"))
	}
	next := req("rm-r")
	next.Trigger.Kind, next.AskedAt, next.IdempotencyKey = "mns", h.clk.Now(), "next-ask"
	if o := ex.Run(context.Background(), next, executor.History{}); o.Status != backup.StatusAccepted || h.count("CreateBackup") != 2 {
		t.Fatalf("a new ask after the backup ended: %s, %d creates", o.Status, h.count("CreateBackup"))
	}
}

// With latency on DescribeBackupTasks, an ask that arrives as a job ends
// still creates no second backup: the jobs are read before the sets.
func TestAskAsTheJobEnds(t *testing.T) {
	h := newHarness(t, rds.WithBackupDuration(2*time.Second))
	h.add(rds.Instance{DBInstanceId: "rm-race", Engine: "MySQL"})
	ex := h.executor()
	first := req("rm-race")
	first.Trigger.Kind, first.AskedAt, first.IdempotencyKey = "timer", t0, "first"
	if o := ex.Run(context.Background(), first, executor.History{}); o.Status != backup.StatusAccepted {
		t.Fatalf("first: %s", o.Status)
	}
	second := req("rm-race")
	second.Trigger.Kind, second.AskedAt, second.IdempotencyKey = "mns", t0.Add(time.Second), "second" // asked while it ran
	h.clk.Advance(3 * time.Second)                                                                    // processed after it ended
	o := ex.Run(context.Background(), second, executor.History{})
	if o.Status != backup.StatusCoalesced || h.count("CreateBackup") != 1 {
		t.Fatalf("second: %s, %d creates", o.Status, h.count("CreateBackup"))
	}
}

// The race of issue 11, with a scripted latency: an ask that arrives as a
// job ends reads the running jobs slowly (3 s, on the emulator's clock);
// the job ends while that read is under way, so the read sees none
// running. The sets are read after it, not beside it, and hold the one
// the job made: no second backup.
func TestSlowJobsReadAsTheJobEnds(t *testing.T) {
	h := newHarnessOn(t, func(c *rds.FakeClock) rds.Clock { return rds.InstantLatency{FakeClock: c} }, rds.WithBackupDuration(2*time.Second))
	h.add(rds.Instance{DBInstanceId: "rm-slow", Engine: "MySQL"})
	ex := h.executor()
	first := req("rm-slow")
	first.Trigger.Kind, first.IdempotencyKey = "timer", "first"
	if o := ex.Run(context.Background(), first, executor.History{}); o.Status != backup.StatusAccepted {
		t.Fatalf("first: %s", o.Status)
	}
	h.clk.Advance(1900 * time.Millisecond) // the job ends in 100 ms
	h.srv.InjectFault(rds.Fault{Action: "DescribeBackupTasks", Latency: 3 * time.Second, Times: 1})
	second := req("rm-slow")
	second.Trigger.Kind, second.AskedAt, second.IdempotencyKey = "mns", h.clk.Now(), "second"
	o := ex.Run(context.Background(), second, executor.History{})
	if o.Status != backup.StatusCoalesced || h.count("CreateBackup") != 1 {
		t.Fatalf("second: %s %+v, %d CreateBackup calls, want coalesced with the first's set and 1", o.Status, o.Error, h.count("CreateBackup"))
	}
	if o.BackupId == "" {
		t.Errorf("coalesced without the set the job made: %+v", o)
	}
	tasks := h.callsOf("DescribeBackupTasks")
	if len(tasks) != 1 || !tasks[0].Fault {
		t.Errorf("DescribeBackupTasks calls = %+v, want the one slow read", tasks)
	}
}

// Every prerequisite and parameter rule of the API page that preflight can
// see is refused before CreateBackup, with the API's code.
func TestPreflightRefusals(t *testing.T) {
	logical := func(dbs ...string) func(*backup.Request) {
		return func(r *backup.Request) {
			r.BackupMethod = "Logical"
			if len(dbs) > 0 {
				r.BackupStrategy, r.DBName = "db", dbs
			}
		}
	}
	cases := []struct {
		name   string
		inst   rds.Instance
		seed   func(h *harness)
		mod    []func(*backup.Request)
		opts   func(*executor.Options)
		status backup.Status
		code   string
		field  string
	}{
		{name: "not Running (Stopped)", inst: rds.Instance{DBInstanceStatus: "Stopped"},
			status: backup.StatusRejected, code: "IncorrectDBInstanceState", field: "DBInstanceId"},
		{name: "locked", inst: rds.Instance{LockMode: "ManualLock"},
			status: backup.StatusRejected, code: "IncorrectDBInstanceLockMode.ValueNotSupported"},
		{name: "locked by expiration", inst: rds.Instance{LockMode: "LockByExpiration"},
			status: backup.StatusRejected, code: "IncorrectDBInstanceLockMode.ValueNotSupported"},
		{name: "read-only", inst: rds.Instance{DBInstanceType: "Readonly"},
			status: backup.StatusRejected, code: "ReadDBInstanceNotSupport"},
		{name: "BackupType on MySQL", inst: rds.Instance{Engine: "MySQL"},
			mod:    []func(*backup.Request){func(r *backup.Request) { r.BackupMethod, r.BackupType = "Physical", "FullBackup" }},
			status: backup.StatusRejected, code: "BackupType.NotSupport", field: "BackupType"},
		{name: "DB-level on PostgreSQL", inst: rds.Instance{Engine: "PostgreSQL", Databases: []string{"app"}},
			mod: []func(*backup.Request){logical("app")}, status: backup.StatusRejected, code: "Parameters.Invalid"},
		{name: "Snapshot on MariaDB", inst: rds.Instance{Engine: "MariaDB"},
			mod:    []func(*backup.Request){func(r *backup.Request) { r.BackupMethod = "Snapshot" }},
			status: backup.StatusRejected, code: "InvalidBackupMethod.ValueNotSupport", field: "BackupMethod"},
		{name: "Snapshot on local disk", inst: rds.Instance{Engine: "MySQL", DBInstanceStorageType: "local_ssd"},
			mod:    []func(*backup.Request){func(r *backup.Request) { r.BackupMethod = "Snapshot" }},
			status: backup.StatusRejected, code: "InvalidBackupMethod.ValueNotSupport"},
		{name: "Logical with no databases", inst: rds.Instance{Engine: "MySQL"},
			mod: []func(*backup.Request){logical()}, status: backup.StatusRejected, code: "InvalidBackupMethod.ValueNotSupport"},
		{name: "unknown DBName", inst: rds.Instance{Engine: "MySQL", Databases: []string{"orders"}},
			mod: []func(*backup.Request){logical("orders", "nope")}, status: backup.StatusRejected, code: "InvalidDB.NotFound", field: "DBName"},
		// The pages disagree on database names (CreateBackup: 16 without
		// hyphens; the database pages: 64 with them): ours passes what one
		// page allows and RDS, whose emulator follows the CreateBackup page,
		// refuses it — rejected with RDS's own code, no job.
		{name: "DBName only the database pages allow: refused by RDS", inst: rds.Instance{Engine: "MySQL", Databases: []string{"customer_orders_2024"}},
			mod: []func(*backup.Request){logical("customer_orders_2024")}, status: backup.StatusRejected, code: "InvalidDBName.Format"},
		{name: "no such instance", inst: rds.Instance{DBInstanceId: "rm-other"},
			status: backup.StatusRejected, code: "InvalidDBInstanceId.NotFound"},
		{name: "20 today: refused by CreateBackup", inst: rds.Instance{},
			seed: func(h *harness) {
				for i := range 20 {
					h.srv.AddBackup("rm-x", rds.Backup{BackupStartTime: t0.Add(-time.Duration(100+i) * time.Minute)})
				}
			},
			status: backup.StatusRejected, code: "Exceeded.BackupTimes"},
		{name: "ongoing job is coalesced, not rejected", inst: rds.Instance{},
			seed: func(h *harness) {
				if _, _, err := h.cli.CreateBackup(context.Background(), backup.Request{DBInstanceId: "rm-x"}); err != nil {
					h.t.Fatal(err)
				}
			},
			status: backup.StatusCoalesced},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			in := c.inst
			if in.DBInstanceId == "" {
				in.DBInstanceId = "rm-x"
			}
			h.add(in)
			seeded := 0
			if c.seed != nil {
				c.seed(h)
				seeded = h.count("CreateBackup")
			}
			mods := []func(*executor.Options){}
			if c.opts != nil {
				mods = append(mods, c.opts)
			}
			o := h.executor(mods...).Run(context.Background(), req("rm-x", c.mod...), executor.History{})
			if o.Status != c.status {
				t.Fatalf("status = %s (%+v, error %+v), want %s", o.Status, o.Note, o.Error, c.status)
			}
			if n := len(h.srv.Jobs("rm-x")) - seeded; n != 0 {
				t.Errorf("%d jobs created, want 0", n)
			}
			switch c.status {
			case backup.StatusRejected:
				if o.Error == nil || o.Error.Code != c.code || o.Error.Retryable || o.Error.Message == "" {
					t.Errorf("error = %+v, want code %s, not retryable, with a message", o.Error, c.code)
				}
				if c.field != "" && o.Error.Field != c.field {
					t.Errorf("field = %q, want %q", o.Error.Field, c.field)
				}
				if !o.Terminal || o.RequestId == "" {
					t.Errorf("terminal=%v requestId=%q", o.Terminal, o.RequestId)
				}
			case backup.StatusCoalesced:
				jobs := h.srv.Jobs("rm-x")
				if len(jobs) != 1 || o.BackupJobId != jobs[0].BackupJobId || o.BackupStatus == "" || o.Note == "" {
					t.Errorf("outcome = %+v, want the seeded job %+v", o, jobs)
				}
			}
		})
	}
}

func TestRejectedByValidateMakesNoCall(t *testing.T) {
	h := newHarness(t)
	o := h.executor().Run(context.Background(), req("rm-x", func(r *backup.Request) { r.BackupMethod = "Incremental" }), executor.History{})
	if o.Status != backup.StatusRejected || o.Error.Code != "InvalidBackupMethod.ValueNotSupport" || !o.Terminal {
		t.Fatalf("outcome = %+v", o)
	}
	if n := len(h.srv.Calls()); n != 0 {
		t.Errorf("%d RDS calls, want 0", n)
	}
}

func TestTransientThenAccepted(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-t"})
	h.srv.InjectFault(rds.Fault{Action: "CreateBackup", Code: "InvokeProxyFailure", Times: 2})
	o := h.executor().Run(context.Background(), req("rm-t"), executor.History{})
	if o.Status != backup.StatusAccepted || o.BackupJobId == "" {
		t.Fatalf("outcome = %+v", o)
	}
	if got, want := codes(o), []string{"CreateBackup:InvokeProxyFailure", "CreateBackup:InvokeProxyFailure", "CreateBackup:ok"}; !slices.Equal(got, want) {
		t.Errorf("attempts = %v, want %v", got, want)
	}
	for i, a := range o.Attempts[:2] {
		if !a.Retryable || a.Class != "transient" || a.RequestId == "" || a.Message == "" {
			t.Errorf("attempt %d = %+v", i, a)
		}
	}
	if n := h.srv.CreatedBackups()["rm-t"]; n != 1 {
		t.Errorf("%d backups created, want 1", n)
	}
	// Full jitter with rand 1: 200ms, then 400ms.
	if got := h.sleeps(); !slices.Equal(got, []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}) {
		t.Errorf("sleeps = %v", got)
	}
}

func TestThrottlingBackoffGrows(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-th"})
	h.srv.InjectFault(rds.Fault{Action: "CreateBackup", Code: "Throttling.User", Times: 4})
	// Fresh for the whole test, so that no look (whose successes relax
	// the gate) comes between the tries.
	ex := h.executor(func(o *executor.Options) { o.FreshFor = time.Minute })
	o := ex.Run(context.Background(), req("rm-th"), executor.History{})
	if o.Status != backup.StatusAccepted {
		t.Fatalf("outcome = %+v", o)
	}
	if len(o.Attempts) != 5 {
		t.Errorf("attempts = %v", codes(o))
	}
	s := h.sleeps()
	if len(s) < 4 {
		t.Fatalf("sleeps = %v", s)
	}
	for i := 1; i < len(s); i++ {
		if s[i] <= s[i-1] {
			t.Errorf("backoff did not grow: %v", s)
		}
	}
	if ex.Gate().Pause() >= 4*time.Second {
		t.Errorf("gate pause %v did not relax after the success", ex.Gate().Pause())
	}
}

// A CreateBackup held up past the time what the ask knows holds (a
// fresh ask's FreshFor, a look's LookHolds) looks again before it goes out:
// a backup another invocation made and finished meanwhile satisfies the
// ask, and no second one is made. The soak found the duplicate this
// prevents: a CreateBackup re-sent after a Throttling backoff made a
// backup one second after another had ended.
func TestHeldUpCreateBackupLooksAgain(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    executor.History
	}{
		{"fresh ask, held past FreshFor", executor.History{}},
		{"after a look, held past LookHolds", executor.History{RetryCount: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, rds.WithBackupDuration(2*time.Second))
			h.add(rds.Instance{DBInstanceId: "rm-held"})
			h.srv.InjectFault(rds.Fault{Action: "CreateBackup", Code: "Throttling.User", Times: 1})
			other := ""
			h.onTick = func(time.Time) {
				if other != "" {
					return
				}
				// During the backoff another invocation backs the instance
				// up, and its 2 s backup ends before the retry.
				var err error
				other, _, err = h.cli.CreateBackup(context.Background(), backup.Request{DBInstanceId: "rm-held", BackupMethod: "Physical"})
				if err != nil {
					t.Errorf("the other invocation's CreateBackup: %v", err)
				}
				h.clk.Advance(3 * time.Second)
			}
			o := h.executor(func(o *executor.Options) { o.LookHolds = time.Second }).Run(context.Background(), req("rm-held"), tc.h)
			if o.Status != backup.StatusCoalesced {
				t.Fatalf("outcome = %s %+v, attempts %v; want coalesced with the backup made meanwhile", o.Status, o.Error, codes(o))
			}
			if n := h.srv.CreatedBackups()["rm-held"]; n != 1 {
				t.Errorf("%d backups made, want 1 (the other invocation's)", n)
			}
			if jobs := h.srv.Jobs("rm-held"); len(jobs) != 1 || jobs[0].BackupJobId != other {
				t.Errorf("jobs = %+v, want only %s", jobs, other)
			}
		})
	}
}

// A fresh ask whose CreateBackup waits at the throttle gate past FreshFor
// is not sent on the old knowledge: it looks first, then sends.
func TestGateHeldFreshAskLooksFirst(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-gate"})
	g := retry.NewGate(3*time.Second, 10*time.Second, h.clk.Now)
	g.Throttled() // another worker was throttled: the gate opens in 3 s
	o := h.executor(func(o *executor.Options) { o.Gate = g }).Run(context.Background(), req("rm-gate"), executor.History{})
	if o.Status != backup.StatusAccepted {
		t.Fatalf("outcome = %s %+v", o.Status, o.Error)
	}
	if got := actions(h.srv.Calls()); !slices.Equal(got, []string{"DescribeBackupTasks", "DescribeBackups", "CreateBackup"}) {
		t.Errorf("calls = %v, want the look before the held-up CreateBackup", got)
	}
}

// When the gate holds every CreateBackup past the time its look holds, the
// run does not look for ever: after three looks the ask is deferred
// (retryable, code Throttling) with no backup made.
func TestGateHeldAgainAndAgainDefers(t *testing.T) {
	var g *retry.Gate
	h := newHarness(t, rds.WithObserver(func(ev rds.CallEvent) bool {
		if ev.Action == "DescribeBackups" && ev.Phase == rds.PhaseAfter {
			g.Throttled() // someone else is throttled right after each look
		}
		return false
	}))
	g = retry.NewGate(2*time.Second, 10*time.Second, h.clk.Now)
	h.add(rds.Instance{DBInstanceId: "rm-gate"})
	o := h.executor(func(o *executor.Options) { o.Gate, o.LookHolds = g, time.Second }).Run(context.Background(), req("rm-gate"), executor.History{RetryCount: 1})
	if o.Status != backup.StatusDeferred || o.Terminal || o.Error == nil || o.Error.Code != "Throttling" || !o.Error.Retryable {
		t.Fatalf("outcome = %s %+v, want deferred, Throttling", o.Status, o.Error)
	}
	if n, looks := h.count("CreateBackup"), h.count("DescribeBackupTasks"); n != 0 || looks != 4 {
		t.Errorf("CreateBackup calls = %d, looks = %d; want 0 and 4 (the first, then three more)", n, looks)
	}
}

// A CreateBackup sent within LookHolds of the look goes out without
// another: a Throttling retry costs no extra reads.
func TestQuickRetryDoesNotLookAgain(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-quick"})
	h.srv.InjectFault(rds.Fault{Action: "CreateBackup", Code: "Throttling.User", Times: 1})
	o := h.executor().Run(context.Background(), req("rm-quick"), executor.History{RetryCount: 1})
	if o.Status != backup.StatusAccepted {
		t.Fatalf("outcome = %s %+v", o.Status, o.Error)
	}
	if n := h.count("DescribeBackupTasks"); n != 1 {
		t.Errorf("DescribeBackupTasks called %d times, want 1 (one look, before the first try)", n)
	}
}

// A fleet against a rate-limited API: throttling answers close the shared
// gate, everyone slows down, and every request still ends accepted.
func TestThrottlingStormCompletes(t *testing.T) {
	h := newHarness(t, rds.WithRateLimit(3))
	var reqs []backup.Request
	for i := range 16 {
		id := fmt.Sprintf("rm-storm-%02d", i)
		h.add(rds.Instance{DBInstanceId: id})
		reqs = append(reqs, req(id))
	}
	ex := h.executor(func(o *executor.Options) {
		o.MaxAttemptsPerInvocation, o.Budget.MaxAttempts = 30, 60
		o.Rand = func() float64 { return 0.5 }
		// 48 calls at 3 a second: an ask's look may age past the default
		// 10 s at the gate; it then looks again (the subject of
		// TestHeldUpCreateBackupLooksAgain), and after a few times is
		// deferred to the work queue, which made this test's outcome
		// depend on goroutine order (2 runs in 8 failed).
		o.LookHolds = time.Hour
	})
	outs := ex.RunAll(context.Background(), reqs, nil)
	throttled := 0
	for _, c := range h.srv.Calls() {
		if c.Code == "Throttling.User" {
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatal("the storm never throttled; raise the load")
	}
	for i, o := range outs {
		if o.Status != backup.StatusAccepted {
			t.Errorf("%s: %s %+v", reqs[i].DBInstanceId, o.Status, o.Error)
		}
	}
	for id, n := range h.srv.CreatedBackups() {
		if n != 1 {
			t.Errorf("%s: %d backups", id, n)
		}
	}
	t.Logf("%d calls, %d throttled, slept %v in all", len(h.srv.Calls()), throttled, sum(h.sleeps()))
}

func sum(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s
}

func TestDroppedConnectionRetried(t *testing.T) {
	for _, action := range []string{"CreateBackup", "DescribeBackupTasks"} {
		t.Run(action, func(t *testing.T) {
			h := newHarness(t)
			h.add(rds.Instance{DBInstanceId: "rm-drop"})
			h.srv.InjectFault(rds.Fault{Action: action, Drop: true, Times: 1})
			o := h.executor().Run(context.Background(), req("rm-drop", func(r *backup.Request) { r.Trigger.Kind = "mns" }), executor.History{})
			if o.Status != backup.StatusAccepted && o.Status != backup.StatusCoalesced {
				t.Fatalf("outcome = %+v", o)
			}
			if n := h.srv.CreatedBackups()["rm-drop"]; n != 1 {
				t.Errorf("%d backups created, want 1", n)
			}
			if len(o.Attempts) < 2 || o.Attempts[0].Action != action || o.Attempts[0].Code != "Network" || !o.Attempts[0].Retryable {
				t.Errorf("attempts = %+v", o.Attempts)
			}
		})
	}
}

// DESIGN.md §2: refused is rejected, whoever refuses — the 21st backup of
// the day is rejected with RDS's code after one call, never retried.
func TestQuotaFromCreateBackupRejectedAtOnce(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-q"})
	h.srv.InjectFault(rds.Fault{Action: "CreateBackup", Code: "Exceeded.BackupTimes"})
	o := h.executor().Run(context.Background(), req("rm-q"), executor.History{})
	if o.Status != backup.StatusRejected || !o.Terminal || o.Error == nil || o.Error.Code != "Exceeded.BackupTimes" || o.Error.Retryable {
		t.Fatalf("outcome = %+v err %+v", o, o.Error)
	}
	if len(o.Attempts) != 1 || h.count("CreateBackup") != 1 || len(h.sleeps()) != 0 {
		t.Errorf("attempts = %v, CreateBackup calls = %d, sleeps = %v", codes(o), h.count("CreateBackup"), h.sleeps())
	}
	if o.RequestId == "" || o.RequestId != h.callsOf("CreateBackup")[0].RequestId {
		t.Errorf("RequestId = %q", o.RequestId)
	}
}

func TestRebootingIsWaitedOut(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-reboot", DBInstanceStatus: "Rebooting"})
	h.onTick = func(now time.Time) {
		if !now.Before(t0.Add(30 * time.Second)) {
			h.srv.SetStatus("rm-reboot", "Running")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // FC's longest timeout
	defer cancel()
	o := h.executor(func(o *executor.Options) { o.Rand = func() float64 { return 0.5 } }).Run(ctx, req("rm-reboot"), executor.History{})
	if o.Status != backup.StatusAccepted {
		t.Fatalf("outcome = %+v err %+v attempts %v", o, o.Error, codes(o))
	}
	waits := 0
	for _, a := range o.Attempts {
		if a.Code == "IncorrectDBInstanceState" {
			waits++
			if a.Class != "state-wait" || !a.Retryable || !strings.Contains(a.Message, "Rebooting") {
				t.Errorf("wait attempt = %+v", a)
			}
		}
	}
	if waits < 2 || o.Attempts[len(o.Attempts)-1].Action != "CreateBackup" {
		t.Errorf("attempts = %v", codes(o))
	}
	if total := sum(h.sleeps()); total < 30*time.Second || total > 2*time.Minute {
		t.Errorf("slept %v (%v), want the 30s reboot waited out with the state-wait backoff", total, h.sleeps())
	}
	if h.sleeps()[0] < 2*time.Second {
		t.Errorf("first state-wait sleep %v is not the longer backoff", h.sleeps()[0])
	}
}

func TestShortDeadlineDefers(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-dl"})
	h.srv.InjectFault(rds.Fault{Action: "CreateBackup", Code: "InvokeProxyFailure"})
	// 5s margin + 1s to work with (on the fake clock).
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	o := h.executor().Run(ctx, req("rm-dl"), executor.History{})
	if o.Status != backup.StatusDeferred || o.Terminal {
		t.Fatalf("outcome = %+v", o)
	}
	// rand 1: 200ms + 400ms slept, the next 800ms would pass the deadline.
	if got := codes(o); len(got) != 3 || got[2] != "CreateBackup:InvokeProxyFailure" {
		t.Errorf("attempts = %v", got)
	}
	if o.Error == nil || o.Error.Code != "InvokeProxyFailure" || !o.Error.Retryable {
		t.Errorf("error = %+v", o.Error)
	}
	now := h.clk.Now()
	if want := now.Add(800 * time.Millisecond); !o.NotBefore.Equal(want) {
		t.Errorf("NotBefore = %v, want %v", o.NotBefore, want)
	}
	if total := sum(h.sleeps()); total > time.Second {
		t.Errorf("slept %v past the deadline", total)
	}

	// Resumed later with its history: the budget counts the old attempts.
	h.srv.ClearFaults()
	h.clk.Advance(time.Minute)
	before := h.count("DescribeBackups")
	o2 := h.executor().Run(context.Background(), req("rm-dl", func(r *backup.Request) { r.Trigger.Kind = "deferred" }),
		executor.History{Attempts: o.Attempts, FirstSeen: t0})
	if o2.Status != backup.StatusAccepted || len(o2.Attempts) != 4 {
		t.Errorf("resumed: %s %v", o2.Status, codes(o2))
	}
	if h.count("DescribeBackups") <= before {
		t.Errorf("a resumed request must look for a satisfying backup first: %v", h.srv.Counts())
	}
}

func TestMaxAttemptsPerInvocationDefers(t *testing.T) {
	h := newHarness(t)
	h.add(rds.Instance{DBInstanceId: "rm-m"})
	h.srv.InjectFault(rds.Fault{Action: "CreateBackup", Code: "ServiceUnavailable"})
	o := h.executor(func(o *executor.Options) { o.MaxAttemptsPerInvocation = 3 }).Run(context.Background(), req("rm-m"), executor.History{})
	if o.Status != backup.StatusDeferred || len(o.Attempts) != 3 || o.NotBefore.IsZero() {
		t.Fatalf("outcome = %s %v notBefore %v", o.Status, codes(o), o.NotBefore)
	}
}

func TestSameRequestFiveTimesOneBackup(t *testing.T) {
	cases := map[string]struct {
		kind     string
		duration time.Duration
		gap      time.Duration
	}{
		// The job is still running: DescribeBackupTasks finds it.
		"job still running": {kind: "http", duration: time.Hour, gap: time.Minute},
		// The job has finished: a redelivering trigger reads DescribeBackups.
		"job finished, redelivered": {kind: "mns", duration: 30 * time.Second, gap: time.Minute},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, rds.WithBackupDuration(c.duration))
			h.add(rds.Instance{DBInstanceId: "rm-5"})
			ex := h.executor()
			var statuses []backup.Status
			for range 5 {
				o := ex.Run(context.Background(), req("rm-5", func(r *backup.Request) { r.Trigger.Kind = c.kind }), executor.History{})
				statuses = append(statuses, o.Status)
				if o.Status == backup.StatusCoalesced && o.BackupJobId == "" && o.BackupId == "" {
					t.Errorf("coalesced without an id: %+v", o)
				}
				h.clk.Advance(c.gap)
			}
			want := []backup.Status{"accepted", "coalesced", "coalesced", "coalesced", "coalesced"}
			if !slices.Equal(statuses, want) {
				t.Errorf("statuses = %v, want %v", statuses, want)
			}
			if n := h.srv.CreatedBackups()["rm-5"]; n != 1 || h.count("CreateBackup") != 1 {
				t.Errorf("%d backups created in %d calls, want 1", n, h.count("CreateBackup"))
			}
		})
	}
}

// barrierRDS holds the first n OngoingJobs answers until all n are in, so
// that n runs pass preflight before any of them creates a backup.
type barrierRDS struct {
	*rdsclient.Client
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func newBarrierRDS(c *rdsclient.Client, n int) *barrierRDS {
	return &barrierRDS{Client: c, waiting: n, release: make(chan struct{})}
}

func (b *barrierRDS) OngoingJobs(ctx context.Context, region, id string) ([]backup.Job, string, error) {
	jobs, reqID, err := b.Client.OngoingJobs(ctx, region, id)
	b.mu.Lock()
	hold := b.waiting > 0
	if hold {
		b.waiting--
		if b.waiting == 0 {
			close(b.release)
		}
	}
	b.mu.Unlock()
	if hold {
		select {
		case <-b.release:
		case <-time.After(5 * time.Second):
		}
	}
	return jobs, reqID, err
}

func TestConcurrentRunsOneBackup(t *testing.T) {
	cases := map[string]bool{"one executor": true, "two executors (two invocations)": false}
	for name, shared := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.add(rds.Instance{DBInstanceId: "rm-c"})
			var exs [2]boundExec
			if shared {
				exs[0] = h.executor()
				exs[1] = exs[0]
			} else {
				// Two invocations: both pass preflight (no job yet), then
				// race to CreateBackup.
				b := newBarrierRDS(h.cli, 2)
				exs[0] = boundExec{executor.New(h.options()), b}
				exs[1] = boundExec{executor.New(h.options()), b}
			}
			var wg sync.WaitGroup
			outs := make([]backup.Outcome, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Redelivered asks (mns) look first: in two invocations
					// both see no job, then race to CreateBackup.
					outs[i] = exs[i].Run(context.Background(), req("rm-c", func(r *backup.Request) { r.Trigger.Kind = "mns" }), executor.History{})
				}()
			}
			wg.Wait()
			got := []string{string(outs[0].Status), string(outs[1].Status)}
			sort.Strings(got)
			if !slices.Equal(got, []string{"accepted", "coalesced"}) {
				t.Errorf("statuses = %v (%+v / %+v)", got, outs[0], outs[1])
			}
			if outs[0].BackupJobId != outs[1].BackupJobId {
				t.Errorf("job ids differ: %q %q", outs[0].BackupJobId, outs[1].BackupJobId)
			}
			if n := h.srv.CreatedBackups()["rm-c"]; n != 1 {
				t.Errorf("%d backups created, want 1", n)
			}
			// One executor serialises the runs per instance, so the second
			// sees the job when it looks; two invocations race to
			// CreateBackup and the loser gets BackupJobExists.
			wantCalls := map[bool]int{true: 1, false: 2}[shared]
			if n := h.count("CreateBackup"); n != wantCalls {
				t.Errorf("%d CreateBackup calls, want %d", n, wantCalls)
			}
			if !shared {
				c := outs[0]
				if c.Status != backup.StatusCoalesced {
					c = outs[1]
				}
				if got := codes(c); !slices.Equal(got, []string{"CreateBackup:BackupJobExists"}) {
					t.Errorf("coalesced attempts = %v, want the BackupJobExists", got)
				}
				if !strings.Contains(c.Note, "BackupJobExists") {
					t.Errorf("note = %q", c.Note)
				}
			}
		})
	}
}

func TestExpandFiveHundred(t *testing.T) {
	h := newHarness(t)
	for i := range 500 {
		h.add(rds.Instance{DBInstanceId: fmt.Sprintf("rm-fleet-%03d", i), Tags: map[string]string{"backup": "nightly", "team": fmt.Sprint(i % 3)}})
	}
	for i := range 40 {
		h.add(rds.Instance{DBInstanceId: fmt.Sprintf("rm-other-%02d", i), Tags: map[string]string{"backup": "weekly"}})
	}
	for i := range 10 {
		h.add(rds.Instance{DBInstanceId: fmt.Sprintf("rm-pg-%02d", i), Engine: "PostgreSQL", Tags: map[string]string{"backup": "nightly"}})
		h.add(rds.Instance{DBInstanceId: fmt.Sprintf("rm-sh-%02d", i), RegionId: "cn-shanghai", Tags: map[string]string{"backup": "nightly"}})
	}
	specs, err := h.executor().Expand(context.Background(),
		backup.Selector{RegionId: "cn-hangzhou", Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}},
		backup.Spec{BackupMethod: "Physical", RegionId: "ignored-when-selector-has-one"})
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 500 {
		t.Fatalf("%d specs, want 500", len(specs))
	}
	if n := h.count("DescribeDBInstances"); n != 5 {
		t.Errorf("%d DescribeDBInstances calls, want 5", n)
	}
	seen := map[string]bool{}
	for _, tg := range specs {
		s := tg.Spec
		if tg.Facts.DBInstanceId != s.DBInstanceId || tg.Facts.Engine == "" || tg.Facts.Status == "" {
			t.Fatalf("facts %+v", tg.Facts)
		}
		if !strings.HasPrefix(s.DBInstanceId, "rm-fleet-") || s.BackupMethod != "Physical" || s.RegionId != "cn-hangzhou" || seen[s.DBInstanceId] {
			t.Fatalf("spec %+v", s)
		}
		seen[s.DBInstanceId] = true
	}
}

// RunAll over 50 fresh asks with a Concurrency ceiling of 4: one call each,
// never more than 4 RDS calls in flight (measured on the server), outcomes
// in input order.
func TestRunAllBoundedConcurrency(t *testing.T) {
	h := newHarness(t)
	var reqs []backup.Request
	for i := range 50 {
		id := fmt.Sprintf("rm-all-%02d", i)
		h.add(rds.Instance{DBInstanceId: id})
		r := req(id)
		r.Trigger.Kind, r.AskedAt = "timer", t0
		reqs = append(reqs, r)
	}
	h.srv.InjectFault(rds.Fault{Latency: 3 * time.Millisecond}) // every call, served normally after 3ms
	outs := h.executor(func(o *executor.Options) { o.Concurrency = 4 }).RunAll(context.Background(), reqs, nil)
	for i, o := range outs {
		if o.Request.DBInstanceId != reqs[i].DBInstanceId || o.Status != backup.StatusAccepted {
			t.Fatalf("outcome %d = %s for %s", i, o.Status, o.Request.DBInstanceId)
		}
	}
	calls := h.srv.Calls()
	if len(calls) != 50 {
		t.Errorf("%d calls, want 50 (1 per fresh ask)", len(calls))
	}
	peak := maxInFlight(calls)
	if peak > 4 {
		t.Errorf("%d RDS calls in flight at once, want at most 4", peak)
	}
	if peak < 2 {
		t.Errorf("peak in flight %d: RunAll did not run concurrently", peak)
	}
	t.Logf("peak in flight: %d", peak)
}

func maxInFlight(calls []rds.Call) int {
	type ev struct {
		t     time.Time
		delta int
	}
	var evs []ev
	for _, c := range calls {
		evs = append(evs, ev{c.Start, +1}, ev{c.End, -1})
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].t.Equal(evs[j].t) {
			return evs[i].delta < evs[j].delta // ends first
		}
		return evs[i].t.Before(evs[j].t)
	})
	n, peak := 0, 0
	for _, e := range evs {
		n += e.delta
		peak = max(peak, n)
	}
	return peak
}

func TestJobStatus(t *testing.T) {
	h := newHarness(t, rds.WithBackupDuration(time.Minute))
	h.add(rds.Instance{DBInstanceId: "rm-js"})
	ex := h.executor()
	o := ex.Run(context.Background(), req("rm-js"), executor.History{})
	if o.Status != backup.StatusAccepted {
		t.Fatal(o)
	}
	j, found, err := ex.JobStatus(context.Background(), "", "rm-js", o.BackupJobId)
	if err != nil || !found || j.BackupJobId != o.BackupJobId || j.Terminal() {
		t.Fatalf("running job: %+v %v %v", j, found, err)
	}
	h.clk.Advance(2 * time.Minute)
	j, found, err = ex.JobStatus(context.Background(), "", "rm-js", o.BackupJobId)
	if err != nil || !found || j.BackupStatus != "Finished" || j.BackupId == "" {
		t.Fatalf("finished job: %+v %v %v", j, found, err)
	}
	if _, found, err = ex.JobStatus(context.Background(), "", "rm-js", "999999"); err != nil || found {
		t.Errorf("unknown job: found=%v err=%v", found, err)
	}
}

func TestFailJobStillAccepted(t *testing.T) {
	h := newHarness(t, rds.WithBackupDuration(time.Minute))
	h.add(rds.Instance{DBInstanceId: "rm-fj"})
	h.srv.InjectFault(rds.Fault{Action: "CreateBackup", FailJob: true, Times: 1})
	ex := h.executor(func(o *executor.Options) { o.TrackJobs = true })
	o := ex.Run(context.Background(), req("rm-fj"), executor.History{})
	if o.Status != backup.StatusAccepted || o.Terminal {
		t.Fatalf("outcome = %+v (TrackJobs: accepted is not terminal)", o)
	}
	h.clk.Advance(2 * time.Minute)
	j, _, err := ex.JobStatus(context.Background(), "", "rm-fj", o.BackupJobId)
	if err != nil || j.BackupStatus != "Failed" {
		t.Errorf("job = %+v %v, want Failed", j, err)
	}
}

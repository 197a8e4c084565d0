package executor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// fakeRDS answers from funcs (defaults: a Running MySQL instance, no jobs,
// no backups, CreateBackup succeeds) and counts calls.
type fakeRDS struct {
	mu     sync.Mutex
	counts map[string]int
	since  []time.Time

	facts     func(n int) (backup.InstanceFacts, error)
	jobs      func(n int) ([]backup.Job, error)
	job       func(id string) (backup.Job, bool, error)
	sets      func(n int) ([]rdsclient.BackupSet, error)
	databases func(n int) ([]string, error)
	create    func(n int) (string, error)
	list      func(page int) ([]string, int, error)
	// order records every call in the order it was made.
	order []string
}

func newFake() *fakeRDS { return &fakeRDS{counts: map[string]int{}} }

func (f *fakeRDS) inc(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[action]++
	f.order = append(f.order, action)
	return f.counts[action]
}

func (f *fakeRDS) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[action]
}

func (f *fakeRDS) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.counts {
		n += c
	}
	return n
}

func apiErr(code string, status int) error {
	return &rdsclient.APIError{Code: code, HTTPStatus: status, Message: code + " message", RequestID: "req-" + code}
}

func (f *fakeRDS) DescribeInstance(_ context.Context, _, id string) (backup.InstanceFacts, string, error) {
	n := f.inc("DescribeDBInstanceAttribute")
	if f.facts != nil {
		fa, err := f.facts(n)
		fa.DBInstanceId = id
		return fa, "req-attr", err
	}
	return backup.InstanceFacts{DBInstanceId: id, Engine: "MySQL", Status: "Running", LockMode: "Unlock", InstanceType: "Primary", StorageType: "cloud_essd"}, "req-attr", nil
}

func (f *fakeRDS) OngoingJobs(context.Context, string, string) ([]backup.Job, string, error) {
	n := f.inc("DescribeBackupTasks")
	if f.jobs != nil {
		j, err := f.jobs(n)
		return j, "req-tasks", err
	}
	return nil, "req-tasks", nil
}

func (f *fakeRDS) Job(_ context.Context, _, _, id string) (backup.Job, bool, string, error) {
	f.inc("DescribeBackupTasks")
	if f.job != nil {
		j, ok, err := f.job(id)
		return j, ok, "req-job", err
	}
	return backup.Job{}, false, "req-job", nil
}

func (f *fakeRDS) RecentBackups(_ context.Context, _, _ string, since time.Time) ([]rdsclient.BackupSet, string, error) {
	n := f.inc("DescribeBackups")
	f.mu.Lock()
	f.since = append(f.since, since)
	f.mu.Unlock()
	if f.sets != nil {
		s, err := f.sets(n)
		return s, "req-sets", err
	}
	return nil, "req-sets", nil
}

func (f *fakeRDS) Databases(context.Context, string, string) ([]string, string, string, error) {
	n := f.inc("DescribeDatabases")
	if f.databases != nil {
		d, err := f.databases(n)
		return d, "MySQL", "req-dbs", err
	}
	return []string{"orders", "billing"}, "MySQL", "req-dbs", nil
}

func (f *fakeRDS) CreateBackup(context.Context, backup.Request) (string, string, error) {
	n := f.inc("CreateBackup")
	if f.create != nil {
		id, err := f.create(n)
		if err != nil {
			return "", "", err
		}
		return id, "req-create", nil
	}
	return "5073731", "req-create", nil
}

func (f *fakeRDS) ListInstances(_ context.Context, _ backup.Selector, page, _ int) ([]backup.InstanceFacts, int, string, error) {
	f.inc("DescribeDBInstances")
	if f.list != nil {
		ids, total, err := f.list(page)
		out := make([]backup.InstanceFacts, len(ids))
		for i, id := range ids {
			out[i] = backup.InstanceFacts{DBInstanceId: id, Engine: "MySQL", Status: "Running", StorageType: "cloud_essd"}
		}
		return out, total, "req-list", err
	}
	return nil, 0, "req-list", nil
}

// clock is a fake clock advanced by its Sleep.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return nil
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newExec(f *fakeRDS, mod ...func(*executor.Options)) (*executor.Executor, *clock) {
	c := &clock{now: t0}
	o := executor.DefaultOptions()
	o.Now, o.Sleep, o.Rand = c.Now, c.Sleep, func() float64 { return 1 }
	o.Logger = slog.New(slog.DiscardHandler)
	for _, m := range mod {
		m(&o)
	}
	return executor.New(o), c
}

// fresh is a first-time ask made now (t0): it may go straight to
// CreateBackup.
func fresh(id string, mod ...func(*backup.Request)) backup.Request {
	r := req(id, mod...)
	r.Trigger.Kind = "timer"
	r.AskedAt = t0
	return r
}

func (f *fakeRDS) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.order)
}

func TestCanceledContextMakesNoCall(t *testing.T) {
	f := newFake()
	ex, _ := newExec(f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := ex.Run(ctx, f, fresh("rm-1"), executor.History{})
	if o.Status != backup.StatusDeferred || o.Terminal || o.Error == nil || o.Error.Code != executor.CodeCanceled || !o.Error.Retryable {
		t.Fatalf("outcome = %+v %+v", o, o.Error)
	}
	if f.total() != 0 {
		t.Errorf("%d calls on a canceled context", f.total())
	}
}

func TestDeadlineInsideMarginDefersAtOnce(t *testing.T) {
	f := newFake()
	ex, _ := newExec(f)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // margin is 5s
	defer cancel()
	o := ex.Run(ctx, f, fresh("rm-1"), executor.History{})
	if o.Status != backup.StatusDeferred || o.Error.Code != executor.CodeDeadlineNear || f.total() != 0 {
		t.Fatalf("outcome = %+v, %d calls", o, f.total())
	}
}

// DESIGN.md §2: CreateBackup is the check. The number and order of RDS
// calls per kind of ask.
func TestCallsPerAsk(t *testing.T) {
	running := func(int) ([]backup.Job, error) {
		return []backup.Job{{BackupJobId: "77", BackupStatus: "Uploading"}}, nil
	}
	cases := map[string]struct {
		r     backup.Request
		h     executor.History
		setup func(f *fakeRDS)
		want  []string
		st    backup.Status
	}{
		"fresh instance-level ask: one call": {fresh("rm-1"), executor.History{}, nil,
			[]string{"CreateBackup"}, backup.StatusAccepted},
		"fresh Logical ask: one read for the rules": {fresh("rm-1", func(r *backup.Request) { r.BackupMethod = "Logical" }), executor.History{}, nil,
			[]string{"DescribeDatabases", "CreateBackup"}, backup.StatusAccepted},
		"fresh db-level ask: one read for the rules": {fresh("rm-1", func(r *backup.Request) {
			r.BackupMethod, r.BackupStrategy, r.DBName = "Logical", "db", []string{"orders"}
		}), executor.History{}, nil, []string{"DescribeDatabases", "CreateBackup"}, backup.StatusAccepted},
		"fresh Snapshot ask: the storage is read": {fresh("rm-1", func(r *backup.Request) { r.BackupMethod = "Snapshot" }), executor.History{}, nil,
			[]string{"DescribeDBInstanceAttribute", "CreateBackup"}, backup.StatusAccepted},
		"fan-out item with the listing's facts: one call": {fresh("rm-1", func(r *backup.Request) { r.BackupMethod = "Snapshot" }),
			executor.History{Facts: &backup.InstanceFacts{DBInstanceId: "rm-1", Engine: "MySQL", StorageType: "cloud_essd"}}, nil,
			[]string{"CreateBackup"}, backup.StatusAccepted},
		"an MNS ask may be a repeat: jobs, then sets, then create": {func() backup.Request { r := fresh("rm-1"); r.Trigger.Kind = "mns"; return r }(),
			executor.History{}, nil, []string{"DescribeBackupTasks", "DescribeBackups", "CreateBackup"}, backup.StatusAccepted},
		"a repeat with a running job: one read": {func() backup.Request { r := fresh("rm-1"); r.Trigger.Kind = "mns"; return r }(),
			executor.History{}, func(f *fakeRDS) { f.jobs = running }, []string{"DescribeBackupTasks"}, backup.StatusCoalesced},
		"BackupJobExists: the running job is looked up": {fresh("rm-1"), executor.History{}, func(f *fakeRDS) {
			f.create = func(int) (string, error) { return "", apiErr("BackupJobExists", 400) }
			f.jobs = running
		}, []string{"CreateBackup", "DescribeBackupTasks"}, backup.StatusCoalesced},
		"Stopped: IncorrectDBInstanceState, the instance is read, rejected": {fresh("rm-1"), executor.History{}, func(f *fakeRDS) {
			f.create = func(int) (string, error) { return "", apiErr("IncorrectDBInstanceState", 403) }
			f.facts = func(int) (backup.InstanceFacts, error) {
				return backup.InstanceFacts{Engine: "MySQL", Status: "Stopped"}, nil
			}
		}, []string{"CreateBackup", "DescribeDBInstanceAttribute"}, backup.StatusRejected},
		"read-only: refused by CreateBackup, rejected with its code": {fresh("rm-1"), executor.History{}, func(f *fakeRDS) {
			f.create = func(int) (string, error) { return "", apiErr("ReadDBInstanceNotSupport", 400) }
		}, []string{"CreateBackup"}, backup.StatusRejected},
		"21st of the day: rejected": {fresh("rm-1"), executor.History{}, func(f *fakeRDS) {
			f.create = func(int) (string, error) { return "", apiErr("Exceeded.BackupTimes", 403) }
		}, []string{"CreateBackup"}, backup.StatusRejected},
		"no permission: failed, not rejected": {fresh("rm-1"), executor.History{}, func(f *fakeRDS) {
			f.create = func(int) (string, error) { return "", apiErr("Forbidden.RAM", 403) }
		}, []string{"CreateBackup"}, backup.StatusFailed},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			if c.setup != nil {
				c.setup(f)
			}
			ex, _ := newExec(f)
			o := ex.Run(context.Background(), f, c.r, c.h)
			if o.Status != c.st {
				t.Fatalf("status %s, want %s (%+v)", o.Status, c.st, o.Error)
			}
			if got := f.calls(); !slices.Equal(got, c.want) {
				t.Errorf("calls %v, want %v", got, c.want)
			}
		})
	}
}

// DESIGN.md §2, freshness: the verdict depends on AskedAt and the
// instance's backups only.
func TestFreshness(t *testing.T) {
	asked := t0
	set := func(start, end time.Time, method, status string) []rdsclient.BackupSet {
		return []rdsclient.BackupSet{{BackupId: "set-1", Method: method, Mode: "Manual", Status: status, Start: start, End: end}}
	}
	cases := map[string]struct {
		sets     []rdsclient.BackupSet
		later    time.Duration // how long after AskedAt the ask is processed
		coalesce bool
	}{
		"a set that ended before the ask: a backup of its own": {set(asked.Add(-time.Hour), asked.Add(-time.Second), "Physical", "Success"), time.Minute, false},
		"a set running at the ask, ended since: coalesced":     {set(asked.Add(-time.Minute), asked.Add(time.Minute), "Physical", "Success"), 2 * time.Minute, true},
		"a redelivery hours later finds the set its ask made":  {set(asked.Add(time.Second), asked.Add(5*time.Minute), "Physical", "Success"), 6 * time.Hour, true},
		"a failed set never satisfies":                         {set(asked.Add(time.Second), asked.Add(5*time.Minute), "Physical", "Failed"), time.Hour, false},
		"another method never satisfies":                       {set(asked.Add(time.Second), asked.Add(5*time.Minute), "Logical", "Success"), time.Hour, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.sets = func(int) ([]rdsclient.BackupSet, error) { return c.sets, nil }
			ex, clk := newExec(f)
			clk.Advance(c.later)
			r := fresh("rm-1")
			r.Trigger.Kind = "mns"
			o := ex.Run(context.Background(), f, r, executor.History{})
			if c.coalesce {
				if o.Status != backup.StatusCoalesced || !o.Terminal || o.BackupId != "set-1" || f.count("CreateBackup") != 0 {
					t.Errorf("want coalesced with set-1 and no CreateBackup, got %s %q, %d creates", o.Status, o.BackupId, f.count("CreateBackup"))
				}
				return
			}
			if o.Status != backup.StatusAccepted || f.count("CreateBackup") != 1 {
				t.Errorf("want a backup of its own, got %s, %d creates", o.Status, f.count("CreateBackup"))
			}
		})
	}
}

// An ask is taken as fresh only on its first delivery and within FreshFor
// of AskedAt; everything else looks first.
func TestMayBeRepeat(t *testing.T) {
	cases := map[string]struct {
		r     backup.Request
		h     executor.History
		later time.Duration
		look  bool
	}{
		"fresh":                                 {fresh("rm-1"), executor.History{}, 0, false},
		"askedAt older than 2s":                 {fresh("rm-1"), executor.History{}, 3 * time.Second, true},
		"askedAt 1s ago":                        {fresh("rm-1"), executor.History{}, time.Second, false},
		"a later step of a plan, asked 35s ago": {fresh("rm-1"), executor.History{FirstSeen: t0.Add(30 * time.Second)}, 35 * time.Second, true},
		"FC retried it":                         {fresh("rm-1"), executor.History{RetryCount: 1}, 0, true},
		"it has attempts":                       {fresh("rm-1"), executor.History{Attempts: []backup.Attempt{{Action: "CreateBackup", Code: "InternalError"}}}, 0, true},
		"the caller chose its key":              {fresh("rm-1"), executor.History{CallerKey: true}, 0, true},
		"a GitHub delivery":                     {func() backup.Request { r := fresh("rm-1"); r.Trigger.Kind = "github"; return r }(), executor.History{}, 0, true},
		"no askedAt":                            {func() backup.Request { r := fresh("rm-1"); r.AskedAt = time.Time{}; return r }(), executor.History{}, 0, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			ex, clk := newExec(f)
			clk.Advance(c.later)
			ex.Run(context.Background(), f, c.r, c.h)
			if looked := f.count("DescribeBackups") > 0; looked != c.look {
				t.Errorf("looked for a satisfying backup: %v, want %v (calls %v)", looked, c.look, f.calls())
			}
		})
	}
}

// The reads that decide coalescing are sequential, jobs first: a job that
// ends between them is seen as a set, never missed.
func TestJobEndingBetweenReadsIsSeen(t *testing.T) {
	f := newFake()
	f.jobs = func(int) ([]backup.Job, error) { return nil, nil } // it ended just now...
	f.sets = func(int) ([]rdsclient.BackupSet, error) {          // ...so it is a set by the time we look
		return []rdsclient.BackupSet{{BackupId: "s9", Method: "Physical", Status: "Success", Start: t0.Add(-time.Minute), End: t0.Add(time.Second)}}, nil
	}
	ex, clk := newExec(f)
	clk.Advance(2 * time.Second)
	r := fresh("rm-1")
	r.Trigger.Kind = "mns"
	o := ex.Run(context.Background(), f, r, executor.History{})
	if o.Status != backup.StatusCoalesced || f.count("CreateBackup") != 0 {
		t.Fatalf("outcome %s, %d creates", o.Status, f.count("CreateBackup"))
	}
	if got := f.calls(); !slices.Equal(got, []string{"DescribeBackupTasks", "DescribeBackups"}) {
		t.Errorf("calls %v: want the jobs read before the sets", got)
	}
}

// A CreateBackup without an answer may have made a job: before sending
// another, the executor looks for it.
func TestLostAnswerFindsItsJob(t *testing.T) {
	f := newFake()
	f.create = func(n int) (string, error) { return "", errors.New("read: connection reset by peer") }
	f.jobs = func(int) ([]backup.Job, error) {
		return []backup.Job{{BackupJobId: "88", BackupStatus: "Checking"}}, nil
	}
	ex, _ := newExec(f)
	o := ex.Run(context.Background(), f, fresh("rm-1"), executor.History{})
	if o.Status != backup.StatusCoalesced || o.BackupJobId != "88" || f.count("CreateBackup") != 1 {
		t.Fatalf("outcome %s job %q, %d creates", o.Status, o.BackupJobId, f.count("CreateBackup"))
	}
}

// Rules that need facts are checked before any coalescing: a missing
// database is rejected even when a fresh backup exists.
func TestRulesBeforeCoalescing(t *testing.T) {
	f := newFake()
	f.jobs = func(int) ([]backup.Job, error) {
		return []backup.Job{{BackupJobId: "1", BackupStatus: "Uploading"}}, nil
	}
	ex, _ := newExec(f)
	r := fresh("rm-1", func(r *backup.Request) {
		r.BackupMethod, r.BackupStrategy, r.DBName = "Logical", "db", []string{"nosuchdb"}
	})
	r.Trigger.Kind = "mns"
	o := ex.Run(context.Background(), f, r, executor.History{})
	if o.Status != backup.StatusRejected || o.Error.Code != "InvalidDB.NotFound" || f.count("CreateBackup") != 0 || f.count("DescribeBackupTasks") != 0 {
		t.Fatalf("outcome %s %+v, calls %v", o.Status, o.Error, f.calls())
	}
}

// A transitional status is waited out, then the create goes through.
func TestRebootingIsWaitedOutUnit(t *testing.T) {
	f := newFake()
	f.create = func(n int) (string, error) {
		if n == 1 {
			return "", apiErr("IncorrectDBInstanceState", 403)
		}
		return "9", nil
	}
	f.facts = func(int) (backup.InstanceFacts, error) {
		return backup.InstanceFacts{Engine: "MySQL", Status: "Rebooting"}, nil
	}
	ex, clk := newExec(f)
	o := ex.Run(context.Background(), f, fresh("rm-1"), executor.History{})
	if o.Status != backup.StatusAccepted || len(clk.slept) != 1 {
		t.Fatalf("outcome %s, slept %v", o.Status, clk.slept)
	}
}

// The adaptive limit grows on success and halves on throttling.
func TestAdaptiveConcurrency(t *testing.T) {
	f := newFake()
	ex, _ := newExec(f, func(o *executor.Options) { o.InitialConcurrency, o.Concurrency = 2, 8 })
	reqs := make([]backup.Request, 200)
	for i := range reqs {
		reqs[i] = fresh(fmt.Sprintf("rm-%03d", i))
	}
	ex.RunAll(context.Background(), f, reqs, nil)
	if now, _ := ex.Concurrency(); now != 8 {
		t.Errorf("after 200 successes the limit is %d, want the ceiling 8", now)
	}
	f.create = func(int) (string, error) { return "", apiErr("Throttling.User", 400) }
	ex.Run(context.Background(), f, fresh("rm-x"), executor.History{})
	if now, _ := ex.Concurrency(); now >= 8 {
		t.Errorf("after throttling the limit is %d, want it lower than 8", now)
	}
}

func TestBudget(t *testing.T) {
	old := make([]backup.Attempt, 12)
	for i := range old {
		old[i] = backup.Attempt{Time: t0.Add(-time.Duration(12-i) * time.Minute), Action: "CreateBackup", Code: "InvokeProxyFailure", Retryable: true, Class: "transient"}
	}
	cases := map[string]struct {
		h    executor.History
		want string
	}{
		"attempts spent": {executor.History{Attempts: old, FirstSeen: t0.Add(-time.Hour)}, "12 attempts, the budget is 12; last error InvokeProxyFailure"},
		"too old":        {executor.History{Attempts: old[:2], FirstSeen: t0.Add(-3 * time.Hour)}, "first seen 3h0m0s ago, the budget is 2h0m0s"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			ex, _ := newExec(f)
			o := ex.Run(context.Background(), f, req("rm-1"), c.h)
			if o.Status != backup.StatusFailed || !o.Terminal || o.Error.Code != executor.CodeBudgetExhausted || o.Error.Retryable {
				t.Fatalf("outcome = %+v %+v", o, o.Error)
			}
			if !strings.Contains(o.Error.Message, c.want) {
				t.Errorf("message %q lacks %q", o.Error.Message, c.want)
			}
			if len(o.Attempts) != len(c.h.Attempts) || f.total() != 0 {
				t.Errorf("%d attempts listed, %d calls", len(o.Attempts), f.total())
			}
		})
	}
	// The budget also ends a run that is retrying.
	f := newFake()
	f.create = func(int) (string, error) { return "", apiErr("InternalError", 500) }
	ex, _ := newExec(f, func(o *executor.Options) { o.Budget.MaxAttempts = 4 })
	o := ex.Run(context.Background(), f, fresh("rm-1"), executor.History{Attempts: old[:2]})
	if o.Status != backup.StatusFailed || len(o.Attempts) != 4 || f.count("CreateBackup") != 2 {
		t.Errorf("retrying into the budget: %s, %d attempts, %d calls", o.Status, len(o.Attempts), f.count("CreateBackup"))
	}
}

func TestThrottleGateNearDeadlineDefers(t *testing.T) {
	f := newFake()
	ex, _ := newExec(f)
	for range 6 {
		ex.Gate().Throttled() // 500ms doubling to 10s
	}
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Second) // 2s of work after the margin
	defer cancel()
	o := ex.Run(ctx, f, fresh("rm-1"), executor.History{})
	if o.Status != backup.StatusDeferred || f.total() != 0 || o.NotBefore.Before(t0.Add(9*time.Second)) {
		t.Fatalf("outcome = %s notBefore %v, %d calls", o.Status, o.NotBefore, f.total())
	}
}

func TestTerminalFlags(t *testing.T) {
	for _, track := range []bool{false, true} {
		f := newFake()
		ex, _ := newExec(f, func(o *executor.Options) { o.TrackJobs = track })
		if o := ex.Run(context.Background(), f, fresh("rm-1"), executor.History{}); o.Terminal == track {
			t.Errorf("TrackJobs %v: accepted Terminal = %v", track, o.Terminal)
		}
		f.jobs = func(int) ([]backup.Job, error) { return []backup.Job{{BackupJobId: "1", BackupStatus: "NoStart"}}, nil }
		r := fresh("rm-1")
		r.Trigger.Kind = "mns"
		if o := ex.Run(context.Background(), f, r, executor.History{}); o.Status != backup.StatusCoalesced || o.Terminal == track {
			t.Errorf("TrackJobs %v: coalesced %s Terminal = %v", track, o.Status, o.Terminal)
		}
	}
}

func TestJobStatusNamesTheBackupSet(t *testing.T) {
	cases := map[string]struct {
		sets []rdsclient.BackupSet
		want string
	}{
		"one manual success":    {[]rdsclient.BackupSet{{BackupId: "b1", Mode: "Manual", Status: "Success"}, {BackupId: "a1", Mode: "Automated", Status: "Success"}}, "b1"},
		"ambiguous: left empty": {[]rdsclient.BackupSet{{BackupId: "b1", Mode: "Manual", Status: "Success"}, {BackupId: "b2", Mode: "Manual", Status: "Success"}}, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.job = func(id string) (backup.Job, bool, error) {
				return backup.Job{BackupJobId: id, BackupStatus: "Finished", Process: "100"}, true, nil
			}
			f.sets = func(int) ([]rdsclient.BackupSet, error) { return c.sets, nil }
			ex, _ := newExec(f)
			j, found, err := ex.JobStatus(context.Background(), f, "", "rm-1", "5")
			if err != nil || !found || j.BackupId != c.want || f.count("DescribeBackups") != 1 {
				t.Errorf("JobStatus = %+v %v %v, want BackupId %q", j, found, err, c.want)
			}
		})
	}
	// A running job: one call, no lookup.
	f := newFake()
	f.job = func(id string) (backup.Job, bool, error) {
		return backup.Job{BackupJobId: id, BackupStatus: "Uploading"}, true, nil
	}
	ex, _ := newExec(f)
	if _, _, err := ex.JobStatus(context.Background(), f, "", "rm-1", "5"); err != nil || f.total() != 1 {
		t.Errorf("running job: %v, %d calls", err, f.total())
	}
}

func TestExpandErrors(t *testing.T) {
	cases := map[string]struct {
		list    func(page int) ([]string, int, error)
		wantErr bool
		specs   int
		calls   int
	}{
		"single page": {func(page int) ([]string, int, error) {
			if page == 1 {
				return []string{"rm-a"}, 1, nil
			}
			return nil, 0, nil
		}, false, 1, 1},
		"terminal error": {func(int) ([]string, int, error) { return nil, 0, apiErr("InvalidRegionId.NotFound", 400) }, true, 0, 1},
		"server ignores paging": {func(int) ([]string, int, error) {
			ids := make([]string, 100)
			for i := range ids {
				ids[i] = fmt.Sprintf("rm-%03d", i)
			}
			return ids, 300, nil
		}, false, 100, 2},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.list = c.list
			ex, _ := newExec(f)
			specs, err := ex.Expand(context.Background(), f, backup.Selector{RegionId: "cn-hangzhou", Tags: map[string]string{"a": "b"}}, backup.Spec{})
			if (err != nil) != c.wantErr || len(specs) != c.specs || f.count("DescribeDBInstances") != c.calls {
				t.Errorf("Expand = %d specs, err %v, %d calls", len(specs), err, f.count("DescribeDBInstances"))
			}
		})
	}
	// A transient failure is retried.
	f := newFake()
	n := 0
	f.list = func(int) ([]string, int, error) {
		n++
		if n == 1 {
			return nil, 0, apiErr("Throttling.User", 400)
		}
		return []string{"rm-a"}, 1, nil
	}
	ex, clk := newExec(f)
	specs, err := ex.Expand(context.Background(), f, backup.Selector{RegionId: "cn-hangzhou", Engine: "MySQL"}, backup.Spec{BackupMethod: "Logical"})
	if err != nil || len(specs) != 1 || specs[0].Spec != (backup.Spec{DBInstanceId: "rm-a", RegionId: "cn-hangzhou", BackupMethod: "Logical"}) || specs[0].Facts.Engine != "MySQL" || len(clk.slept) != 1 {
		t.Errorf("retried Expand = %+v %v, slept %v", specs, err, clk.slept)
	}
}

func TestLogs(t *testing.T) {
	var buf bytes.Buffer
	f := newFake()
	f.create = func(n int) (string, error) {
		if n == 1 {
			return "", apiErr("InvokeProxyFailure", 500)
		}
		return "42", nil
	}
	// At debug: a call that succeeded and the outcome are debug lines (the
	// functions log each outcome once at info, in shared/settle).
	ex, _ := newExec(f, func(o *executor.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ex.Run(context.Background(), f, fresh("rm-log"), executor.History{})
	out := buf.String()
	for _, want := range []string{`"dbInstanceId":"rm-log"`, `"correlationId":"corr-rm-log"`, `"code":"InvokeProxyFailure"`,
		`"attempt":1`, `"action":"CreateBackup"`, `"status":"accepted"`, `"backupJobId":"42"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

// A transport failure is told without the endpoint it names: outcome
// messages leave the deployment.
func TestNetworkErrorsNameNoEndpoint(t *testing.T) {
	f := newFake()
	f.create = func(n int) (string, error) {
		if n == 1 {
			return "", fmt.Errorf("rdsclient: CreateBackup rm-1: %w", errors.New(`Post "http://10.1.2.3:8443/?DBInstanceId=rm-1": dial tcp 10.1.2.3:8443: connect: connection refused`))
		}
		return "9", nil
	}
	ex, _ := newExec(f)
	o := ex.Run(context.Background(), f, fresh("rm-1"), executor.History{})
	if len(o.Attempts) == 0 || o.Attempts[0].Code != "Network" || o.Attempts[0].Message != "network error: connection refused" {
		t.Fatalf("attempts %+v", o.Attempts)
	}
	for _, a := range o.Attempts {
		if strings.Contains(a.Message, "10.1.2.3") || strings.Contains(a.Message, "8443") {
			t.Errorf("attempt message names the endpoint: %q", a.Message)
		}
	}
}

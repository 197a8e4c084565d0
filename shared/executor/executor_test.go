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
}

func newFake() *fakeRDS { return &fakeRDS{counts: map[string]int{}} }

func (f *fakeRDS) inc(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[action]++
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

func (f *fakeRDS) Databases(context.Context, string, string) ([]string, string, error) {
	n := f.inc("DescribeDatabases")
	if f.databases != nil {
		d, err := f.databases(n)
		return d, "req-dbs", err
	}
	return []string{"orders", "billing"}, "req-dbs", nil
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

func (f *fakeRDS) ListInstances(_ context.Context, _ backup.Selector, page, _ int) ([]string, int, string, error) {
	f.inc("DescribeDBInstances")
	if f.list != nil {
		ids, total, err := f.list(page)
		return ids, total, "req-list", err
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
	return executor.New(f, o), c
}

func TestCanceledContextMakesNoCall(t *testing.T) {
	f := newFake()
	ex, _ := newExec(f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := ex.Run(ctx, req("rm-1"), executor.History{})
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
	o := ex.Run(ctx, req("rm-1"), executor.History{})
	if o.Status != backup.StatusDeferred || o.Error.Code != executor.CodeDeadlineNear || f.total() != 0 {
		t.Fatalf("outcome = %+v, %d calls", o, f.total())
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
			o := ex.Run(context.Background(), req("rm-1"), c.h)
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
	o := ex.Run(context.Background(), req("rm-1"), executor.History{Attempts: old[:2]})
	if o.Status != backup.StatusFailed || len(o.Attempts) != 4 || f.count("CreateBackup") != 2 {
		t.Errorf("retrying into the budget: %s, %d attempts, %d calls", o.Status, len(o.Attempts), f.count("CreateBackup"))
	}
}

func TestRecentCheckWhenItMatters(t *testing.T) {
	cases := []struct {
		name  string
		kind  string
		h     executor.History
		check string
		want  bool
	}{
		{"first ask over http", "http", executor.History{}, "", false},
		{"timer", "timer", executor.History{}, "", false},
		{"signed webhook", "signed", executor.History{}, "", false},
		{"mns redelivers", "mns", executor.History{}, "", true},
		{"github re-sends", "github", executor.History{}, "", true},
		{"gitlab re-sends", "gitlab", executor.History{}, "", true},
		{"deferred work", "deferred", executor.History{}, "", true},
		{"FC async retry", "http", executor.History{RetryCount: 1}, "", true},
		{"has history", "timer", executor.History{Attempts: []backup.Attempt{{Action: "CreateBackup", Code: "InternalError"}}}, "", true},
		{"caller's idempotency key", "signed", executor.History{CallerKey: true}, "", true},
		{"always", "http", executor.History{}, executor.RecentAlways, true},
		{"never", "mns", executor.History{}, executor.RecentNever, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			ex, _ := newExec(f, func(o *executor.Options) { o.RecentCheck = c.check })
			o := ex.Run(context.Background(), req("rm-1", func(r *backup.Request) { r.Trigger.Kind = c.kind }), c.h)
			if o.Status != backup.StatusAccepted {
				t.Fatalf("outcome %+v", o)
			}
			if got := f.count("DescribeBackups") == 1; got != c.want {
				t.Errorf("DescribeBackups called: %v, want %v", got, c.want)
			}
			wantCalls := 3
			if c.want {
				wantCalls = 4
			}
			if f.total() != wantCalls {
				t.Errorf("%d calls, want %d", f.total(), wantCalls)
			}
		})
	}
}

func TestRecentBackupsSince(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	cases := map[string]struct {
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		"start of day in UTC":         {t0, time.UTC, time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC)},
		"start of day in Shanghai":    {t0, cst, time.Date(2024, 6, 2, 16, 0, 0, 0, time.UTC)},
		"window reaches into the day": {time.Date(2024, 6, 3, 0, 5, 0, 0, time.UTC), time.UTC, time.Date(2024, 6, 2, 23, 55, 0, 0, time.UTC)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			ex, clk := newExec(f, func(o *executor.Options) { o.RecentCheck, o.QuotaLocation = executor.RecentAlways, c.loc })
			clk.now = c.now
			ex.Run(context.Background(), req("rm-1"), executor.History{})
			if len(f.since) != 1 || !f.since[0].Equal(c.want) {
				t.Errorf("since = %v, want %v", f.since, c.want)
			}
		})
	}
}

func TestRecentSets(t *testing.T) {
	set := func(method, mode, status string, ago time.Duration) rdsclient.BackupSet {
		return rdsclient.BackupSet{BackupId: fmt.Sprint("set-", method, ago), Method: method, Mode: mode, Status: status, Start: t0.Add(-ago)}
	}
	twenty := func(mode string) []rdsclient.BackupSet {
		var out []rdsclient.BackupSet
		for i := range 20 {
			out = append(out, set("Physical", mode, "Success", time.Duration(30+i)*time.Minute))
		}
		return out
	}
	cases := map[string]struct {
		sets   []rdsclient.BackupSet
		status backup.Status
		id     string
		code   string
	}{
		"same method 5m ago":           {[]rdsclient.BackupSet{set("Physical", "Manual", "Success", 5*time.Minute)}, backup.StatusCoalesced, "set-Physical5m0s", ""},
		"same method 20m ago":          {[]rdsclient.BackupSet{set("Physical", "Manual", "Success", 20*time.Minute)}, backup.StatusAccepted, "", ""},
		"other method 5m ago":          {[]rdsclient.BackupSet{set("Logical", "Manual", "Success", 5*time.Minute)}, backup.StatusAccepted, "", ""},
		"failed set 5m ago":            {[]rdsclient.BackupSet{set("Physical", "Manual", "Failed", 5*time.Minute)}, backup.StatusAccepted, "", ""},
		"20 manual today":              {twenty("Manual"), backup.StatusRejected, "", "Exceeded.BackupTimes"},
		"20 automated today not count": {twenty("Automated"), backup.StatusAccepted, "", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.sets = func(int) ([]rdsclient.BackupSet, error) { return c.sets, nil }
			ex, _ := newExec(f, func(o *executor.Options) { o.RecentCheck = executor.RecentAlways })
			o := ex.Run(context.Background(), req("rm-1"), executor.History{})
			if o.Status != c.status {
				t.Fatalf("status = %s (%+v), want %s", o.Status, o.Error, c.status)
			}
			if c.id != "" && (o.BackupId != c.id || o.BackupJobId != "" || o.BackupStatus != "Finished" || !strings.Contains(o.Note, "coalescing window") || o.RequestId != "req-sets") {
				t.Errorf("coalesced = %+v", o)
			}
			if c.code != "" && o.Error.Code != c.code {
				t.Errorf("code = %s, want %s", o.Error.Code, c.code)
			}
			if o.Status != backup.StatusAccepted && f.count("CreateBackup") != 0 {
				t.Error("CreateBackup sent")
			}
		})
	}
}

func TestFactsCache(t *testing.T) {
	logical := func(r *backup.Request) {
		r.BackupMethod, r.BackupStrategy, r.DBName = "Logical", "db", []string{"orders"}
	}
	cases := map[string]struct {
		ttl     time.Duration
		gap     time.Duration
		second  func(*backup.Request)
		wantDBs int
	}{
		"warm: second run uses the cache":    {60 * time.Second, 10 * time.Second, logical, 1},
		"cache off":                          {0, 10 * time.Second, logical, 2},
		"expired":                            {60 * time.Second, 61 * time.Second, logical, 2},
		"a database the cache does not know": {60 * time.Second, 10 * time.Second, func(r *backup.Request) { logical(r); r.DBName = []string{"newdb"} }, 2},
		"physical needs no databases at all": {60 * time.Second, 10 * time.Second, func(*backup.Request) {}, 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.databases = func(n int) ([]string, error) {
				if n == 1 {
					return []string{"orders"}, nil
				}
				return []string{"orders", "newdb"}, nil
			}
			// The job of the first run ends before the second.
			ex, clk := newExec(f, func(o *executor.Options) { o.FactsCacheTTL = c.ttl })
			if o := ex.Run(context.Background(), req("rm-1", logical), executor.History{}); o.Status != backup.StatusAccepted {
				t.Fatal(o)
			}
			clk.Advance(c.gap)
			if o := ex.Run(context.Background(), req("rm-1", c.second), executor.History{}); o.Status != backup.StatusAccepted {
				t.Fatalf("second: %+v %+v", o, o.Error)
			}
			if n := f.count("DescribeDatabases"); n != c.wantDBs {
				t.Errorf("%d DescribeDatabases calls, want %d", n, c.wantDBs)
			}
			if n := f.count("DescribeDBInstanceAttribute"); n != 2 {
				t.Errorf("status must be read fresh: %d attribute calls", n)
			}
		})
	}
}

func TestCoalescingOffWaitsForTheJob(t *testing.T) {
	f := newFake()
	f.jobs = func(n int) ([]backup.Job, error) {
		if n <= 2 {
			return []backup.Job{{BackupJobId: "7", BackupStatus: "Uploading", Process: "40", JobMode: "Automated"}}, nil
		}
		return nil, nil
	}
	ex, clk := newExec(f, func(o *executor.Options) { o.CoalesceWindow = 0 })
	o := ex.Run(context.Background(), req("rm-1"), executor.History{})
	if o.Status != backup.StatusAccepted {
		t.Fatalf("outcome = %+v", o)
	}
	if got := codes(o); !slices.Equal(got, []string{"DescribeBackupTasks:BackupJobExists", "DescribeBackupTasks:BackupJobExists", "CreateBackup:ok"}) {
		t.Errorf("attempts = %v", got)
	}
	if clk.slept[0] != 5*time.Second || clk.slept[1] != 10*time.Second {
		t.Errorf("state-wait sleeps = %v, want 5s, 10s", clk.slept)
	}
}

func TestBackupJobExistsLookup(t *testing.T) {
	cases := map[string]struct {
		window   time.Duration
		jobs     []backup.Job
		sets     []rdsclient.BackupSet
		firstNet bool // the first CreateBackup is a dropped connection
		status   backup.Status
		wantJob  string
		wantSet  string
	}{
		"running job reported":             {10 * time.Minute, []backup.Job{{BackupJobId: "9", BackupStatus: "Checking"}}, nil, false, backup.StatusCoalesced, "9", ""},
		"just finished: recent set":        {10 * time.Minute, nil, []rdsclient.BackupSet{{BackupId: "s1", Method: "Physical", Status: "Success", Start: t0.Add(-time.Minute)}}, false, backup.StatusCoalesced, "", "s1"},
		"coalescing off, our own lost try": {0, []backup.Job{{BackupJobId: "9", BackupStatus: "Checking"}}, nil, true, backup.StatusCoalesced, "9", ""},
		"nothing found: waited, deferred":  {10 * time.Minute, nil, nil, false, backup.StatusDeferred, "", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.jobs = func(n int) ([]backup.Job, error) {
				if n == 1 {
					return nil, nil // preflight: nothing yet
				}
				return c.jobs, nil
			}
			f.sets = func(int) ([]rdsclient.BackupSet, error) { return c.sets, nil }
			f.create = func(n int) (string, error) {
				if c.firstNet && n == 1 {
					return "", fmt.Errorf("rdsclient: CreateBackup rm-1: %w", errors.New("read: connection reset by peer"))
				}
				return "", apiErr("BackupJobExists", 400)
			}
			ex, _ := newExec(f, func(o *executor.Options) { o.CoalesceWindow, o.MaxAttemptsPerInvocation = c.window, 3 })
			o := ex.Run(context.Background(), req("rm-1"), executor.History{})
			if o.Status != c.status || o.BackupJobId != c.wantJob || o.BackupId != c.wantSet {
				t.Fatalf("outcome = %s job %q set %q (%v), want %s %q %q", o.Status, o.BackupJobId, o.BackupId, codes(o), c.status, c.wantJob, c.wantSet)
			}
		})
	}
}

func TestPreflightErrors(t *testing.T) {
	cases := map[string]struct {
		attrErr  func(n int) error
		tasksErr func(n int) error
		status   backup.Status
		code     string
		attr     int
		tasks    int
	}{
		"not found is rejected": {attrErr: func(int) error { return apiErr("InvalidDBInstanceId.NotFound", 404) },
			status: backup.StatusRejected, code: "InvalidDBInstanceId.NotFound", attr: 1, tasks: 1},
		"permission fails": {tasksErr: func(int) error { return apiErr("Forbidden.RAM", 403) },
			status: backup.StatusFailed, code: "Forbidden.RAM", attr: 1, tasks: 1},
		"only the failed call is retried": {tasksErr: func(n int) error {
			if n == 1 {
				return apiErr("ServiceUnavailable", 503)
			}
			return nil
		}, status: backup.StatusAccepted, attr: 1, tasks: 2},
		"network error retried": {attrErr: func(n int) error {
			if n <= 2 {
				return errors.New("dial tcp: connection refused")
			}
			return nil
		}, status: backup.StatusAccepted, attr: 3, tasks: 1},
		"credentials fail at once": {attrErr: func(int) error { return &rdsclient.CredentialsError{Err: errors.New("no chain")} },
			status: backup.StatusFailed, code: "Credentials", attr: 1, tasks: 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.facts = func(n int) (backup.InstanceFacts, error) {
				fa := backup.InstanceFacts{Engine: "MySQL", Status: "Running", LockMode: "Unlock", InstanceType: "Primary"}
				if c.attrErr != nil {
					return fa, c.attrErr(n)
				}
				return fa, nil
			}
			f.jobs = func(n int) ([]backup.Job, error) {
				if c.tasksErr != nil {
					return nil, c.tasksErr(n)
				}
				return nil, nil
			}
			ex, _ := newExec(f)
			o := ex.Run(context.Background(), req("rm-1"), executor.History{})
			if o.Status != c.status {
				t.Fatalf("status = %s %+v (%v), want %s", o.Status, o.Error, codes(o), c.status)
			}
			if c.code != "" && (o.Error == nil || o.Error.Code != c.code || o.Error.Retryable) {
				t.Errorf("error = %+v, want %s", o.Error, c.code)
			}
			if f.count("DescribeDBInstanceAttribute") != c.attr || f.count("DescribeBackupTasks") != c.tasks {
				t.Errorf("calls = %v, want attribute %d tasks %d", f.counts, c.attr, c.tasks)
			}
			if o.Status != backup.StatusAccepted && f.count("CreateBackup") != 0 {
				t.Error("CreateBackup sent")
			}
		})
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
	o := ex.Run(ctx, req("rm-1"), executor.History{})
	if o.Status != backup.StatusDeferred || f.total() != 0 || o.NotBefore.Before(t0.Add(9*time.Second)) {
		t.Fatalf("outcome = %s notBefore %v, %d calls", o.Status, o.NotBefore, f.total())
	}
}

func TestTerminalFlags(t *testing.T) {
	for _, track := range []bool{false, true} {
		f := newFake()
		ex, _ := newExec(f, func(o *executor.Options) { o.TrackJobs = track })
		if o := ex.Run(context.Background(), req("rm-1"), executor.History{}); o.Terminal == track {
			t.Errorf("TrackJobs %v: accepted Terminal = %v", track, o.Terminal)
		}
		f.jobs = func(int) ([]backup.Job, error) { return []backup.Job{{BackupJobId: "1", BackupStatus: "NoStart"}}, nil }
		if o := ex.Run(context.Background(), req("rm-1"), executor.History{}); o.Status != backup.StatusCoalesced || o.Terminal == track {
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
			j, found, err := ex.JobStatus(context.Background(), "", "rm-1", "5")
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
	if _, _, err := ex.JobStatus(context.Background(), "", "rm-1", "5"); err != nil || f.total() != 1 {
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
			specs, err := ex.Expand(context.Background(), backup.Selector{RegionId: "cn-hangzhou", Tags: map[string]string{"a": "b"}}, backup.Spec{})
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
	specs, err := ex.Expand(context.Background(), backup.Selector{RegionId: "cn-hangzhou", Engine: "MySQL"}, backup.Spec{BackupMethod: "Logical"})
	if err != nil || len(specs) != 1 || specs[0] != (backup.Spec{DBInstanceId: "rm-a", RegionId: "cn-hangzhou", BackupMethod: "Logical"}) || len(clk.slept) != 1 {
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
	ex, _ := newExec(f, func(o *executor.Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	ex.Run(context.Background(), req("rm-log"), executor.History{})
	out := buf.String()
	for _, want := range []string{`"instance":"rm-log"`, `"correlationId":"corr-rm-log"`, `"code":"InvokeProxyFailure"`,
		`"attempt":1`, `"action":"CreateBackup"`, `"status":"accepted"`, `"backupJobId":"42"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

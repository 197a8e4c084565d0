package executor_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// The ledger satisfies the executor's port.
var _ executor.AskLedger = (*ledger.Ledger)(nil)

const ledgerTable = "rds_backup_asks"

// ledgerHarness is the harness with RDS's one-minute set lag and 5-second
// Snapshot backups, and an ask ledger in the Tablestore emulator, both on
// the harness's fake clock.
type ledgerHarness struct {
	*harness
	ots *tablestore.Server
	cli *ots.TableStoreClient
	led *ledger.Ledger
}

func newLedgerHarness(t *testing.T, opts ...rds.Option) *ledgerHarness {
	t.Helper()
	return newLedgerHarnessOn(t, func(c *rds.FakeClock) rds.Clock { return c }, opts...)
}

// newLedgerHarnessOn is newLedgerHarness whose RDS emulator reads
// clock(the fake clock), e.g. an rds.InstantLatency.
func newLedgerHarnessOn(t *testing.T, clock func(*rds.FakeClock) rds.Clock, opts ...rds.Option) *ledgerHarness {
	t.Helper()
	h := newHarnessOn(t, clock, append([]rds.Option{rds.WithSetLag(time.Minute), rds.WithMethodDuration("Snapshot", 5*time.Second)}, opts...)...)
	store := auth.NewStore(nil)
	key := store.NewAccessKey()
	srv := tablestore.NewServer(tablestore.WithClock(tablestore.ClockFunc(h.clk.Now)), tablestore.WithCredentials(store))
	t.Cleanup(srv.Close)
	cfg := ledger.ClientConfig()
	tr := &http.Transport{}
	cfg.Transport = tr
	t.Cleanup(tr.CloseIdleConnections)
	cli := ots.NewClientWithConfig(srv.Endpoint(), srv.Instance(), key.AccessKeyID, key.AccessKeySecret, "", cfg)
	if err := ledger.CreateTable(context.Background(), cli, ledgerTable, 0); err != nil {
		t.Fatal(err)
	}
	lh := &ledgerHarness{harness: h, ots: srv, cli: cli, led: ledger.New(cli, ledgerTable, ledger.WithClock(h.clk.Now))}
	h.add(rds.Instance{DBInstanceId: "rm-l", Engine: "MySQL"})
	return lh
}

func (lh *ledgerHarness) exec(mod ...func(*executor.Options)) boundExec {
	return lh.executor(append([]func(*executor.Options){func(o *executor.Options) { o.Ledger = lh.led }}, mod...)...)
}

// snapshot is a fresh MNS ask for a Snapshot backup of rm-l made now.
func (lh *ledgerHarness) snapshot() backup.Request {
	return req("rm-l", func(r *backup.Request) {
		r.BackupMethod, r.Trigger, r.AskedAt = "Snapshot", backup.Trigger{Kind: "mns", Source: "rds-backup-work", DeliveryId: "M1"}, lh.clk.Now()
	})
}

// Issue 18: the first delivery of a fresh MNS ask costs one RDS call; its
// redelivery 15 s later — the 5-second backup has ended, RDS lists its set
// only a minute later — is coalesced with that job by id, and so is one an
// hour later; no second backup. Without the ledger the redelivery makes a
// second backup (the control, so the test can fail).
func TestLedgerRedeliveryInTheSetLag(t *testing.T) {
	lh := newLedgerHarness(t)
	ex := lh.exec()
	r := lh.snapshot()
	first := ex.Run(context.Background(), r, executor.History{})
	if first.Status != backup.StatusAccepted || first.BackupJobId == "" {
		t.Fatalf("first delivery: %+v", first)
	}
	// A Snapshot ask reads the instance's storage once (cached per warm
	// instance), then creates.
	if got := actions(lh.srv.Calls()); len(got) != 2 || got[1] != "CreateBackup" {
		t.Errorf("first delivery's RDS calls %v, want [DescribeDBInstanceAttribute CreateBackup]", got)
	}
	for _, after := range []time.Duration{15 * time.Second, time.Hour} {
		lh.clk.Set(r.AskedAt.Add(after))
		o := ex.Run(context.Background(), r, executor.History{RetryCount: 1})
		if o.Status != backup.StatusCoalesced || o.BackupJobId != first.BackupJobId || o.BackupStatus != "Finished" {
			t.Errorf("redelivery %s later: %s job %q (%s), want coalesced with job %s, Finished", after, o.Status, o.BackupJobId, o.BackupStatus, first.BackupJobId)
		}
	}
	if n := lh.count("CreateBackup"); n != 1 {
		t.Errorf("%d backups, want 1", n)
	}
	if got := actions(lh.srv.Calls()[2:]); len(got) != 2 || got[0] != "DescribeBackupTasks" || got[1] != "DescribeBackupTasks" {
		t.Errorf("the redeliveries' RDS calls %v, want one DescribeBackupTasks (by job id) each", got)
	}

	// The control: the same story without the ledger.
	h := newHarness(t, rds.WithSetLag(time.Minute), rds.WithMethodDuration("Snapshot", 5*time.Second))
	h.add(rds.Instance{DBInstanceId: "rm-l", Engine: "MySQL"})
	plain := h.executor()
	r.AskedAt = h.clk.Now()
	plain.Run(context.Background(), r, executor.History{})
	h.clk.Advance(15 * time.Second)
	plain.Run(context.Background(), r, executor.History{RetryCount: 1})
	if n := h.count("CreateBackup"); n != 2 {
		t.Errorf("without the ledger: %d backups, want the 2 the set lag makes (else this test proves nothing)", n)
	}
}

// Issue 18: a fresh MNS ask costs one RDS call on its first delivery, and
// one message delivered three times makes one backup with at most three
// RDS calls in all.
func TestLedgerMNSAskCalls(t *testing.T) {
	lh := newLedgerHarness(t)
	ex := lh.exec()
	r := lh.snapshot()
	r.BackupMethod = "Physical"
	for i := range 3 {
		o := ex.Run(context.Background(), r, executor.History{RetryCount: i})
		if i == 0 && len(lh.srv.Calls()) != 1 {
			t.Errorf("first delivery: RDS calls %v, want [CreateBackup]", actions(lh.srv.Calls()))
		}
		if o.BackupJobId == "" {
			t.Errorf("delivery %d: %s (%s), want the job", i+1, o.Status, o.Note)
		}
		lh.clk.Advance(10 * time.Second)
	}
	if n, c := lh.count("CreateBackup"), len(lh.srv.Calls()); n != 1 || c > 3 {
		t.Errorf("%d backups and %d RDS calls (%v), want 1 and at most 3", n, c, actions(lh.srv.Calls()))
	}
}

// A delivery that died right after CreateBackup, before it recorded the
// job (issue 18's first "done when"): a redelivery 15 s later, while its
// lease runs, looks (the row says CreateBackup was sent) and, finding
// neither the ended job nor its unlisted set, is deferred until the lease
// ends, with no backup; after it, the ask is taken over and looks again:
// the set is listed by then (5 s backup + 60 s lag < the lease), so no
// second backup.
func TestLedgerCrashBeforeTheJobWasRecorded(t *testing.T) {
	lh := newLedgerHarness(t)
	r := lh.snapshot()
	// The dead delivery: its claim, and the job it made.
	dead := lh.exec()
	dead.Executor = executor.New(lh.options(func(o *executor.Options) { o.Ledger = crashAfterCreate{lh.led} }))
	first := dead.Run(context.Background(), r, executor.History{})
	if first.Status != backup.StatusAccepted {
		t.Fatalf("first delivery: %+v", first)
	}
	lh.clk.Advance(15 * time.Second)
	before := len(lh.srv.Calls())
	ex := lh.exec()
	o := ex.Run(context.Background(), r, executor.History{RetryCount: 1})
	if o.Status != backup.StatusDeferred || o.Error == nil || o.Error.Code != executor.CodeAskInProgress {
		t.Fatalf("redelivery in the lease: %s %+v, want deferred AskInProgress", o.Status, o.Error)
	}
	if !o.NotBefore.After(lh.clk.Now().Add(2 * time.Minute)) {
		t.Errorf("NotBefore %s, want the lease's end (about %s)", o.NotBefore, r.AskedAt.Add(ledger.DefaultLease))
	}
	if got := actions(lh.srv.Calls()[before:]); len(got) != 2 || got[0] != "DescribeBackupTasks" || got[1] != "DescribeBackups" {
		t.Errorf("RDS calls while the lease runs %v, want the look [DescribeBackupTasks DescribeBackups]", got)
	}
	lh.clk.Set(o.NotBefore.Add(time.Second))
	o = ex.Run(context.Background(), r, executor.History{RetryCount: 2})
	if o.Status != backup.StatusCoalesced || o.BackupId == "" {
		t.Fatalf("after the lease: %s (%s), want coalesced with the listed set", o.Status, o.Note)
	}
	if n := lh.count("CreateBackup"); n != 1 {
		t.Errorf("%d backups, want 1", n)
	}
}

// The same crash with a lease shorter than the set lag: the delivery that
// takes the row over finds the row saying CreateBackup was sent, looks,
// finds nothing RDS lists yet and waits (BackupNotListedYet) until RDS must
// list it (SetLagBound after the send); then it finds the set. A
// redelivery while the job still runs is coalesced with it at once.
func TestLedgerCrashWithAShortLease(t *testing.T) {
	lh := newLedgerHarness(t)
	lh.led = ledger.New(lh.cli, ledgerTable, ledger.WithClock(lh.clk.Now), ledger.WithLease(20*time.Second))
	r := lh.snapshot()
	dead := lh.exec()
	dead.Executor = executor.New(lh.options(func(o *executor.Options) { o.Ledger = crashAfterCreate{lh.led} }))
	first := dead.Run(context.Background(), r, executor.History{})
	ex := lh.exec()

	lh.clk.Advance(2 * time.Second) // the 5-second job runs
	o := ex.Run(context.Background(), r, executor.History{RetryCount: 1})
	if o.Status != backup.StatusCoalesced || o.BackupJobId != first.BackupJobId {
		t.Fatalf("redelivery while the job runs: %s job %q (%s), want coalesced with %s", o.Status, o.BackupJobId, o.Note, first.BackupJobId)
	}

	lh.clk.Set(r.AskedAt.Add(25 * time.Second)) // the lease has ended, the set is not listed
	o = ex.Run(context.Background(), r, executor.History{RetryCount: 2})
	if o.Status != backup.StatusDeferred || o.Error == nil || o.Error.Code != executor.CodeNotListedYet {
		t.Fatalf("after the lease: %s %+v, want deferred BackupNotListedYet", o.Status, o.Error)
	}
	if want := r.AskedAt.Add(2 * time.Minute); o.NotBefore.Before(want.Add(-time.Second)) || o.NotBefore.After(want.Add(time.Second)) {
		t.Errorf("NotBefore %s, want about %s (the send + SetLagBound)", o.NotBefore, want)
	}
	// A delivery before then takes the row over again and still waits:
	// the deferral kept the dead delivery's send in the row.
	lh.clk.Set(r.AskedAt.Add(40 * time.Second)) // still unlisted (65 s)
	if o2 := ex.Run(context.Background(), r, executor.History{RetryCount: 3}); o2.Status != backup.StatusDeferred || o2.Error == nil || o2.Error.Code != executor.CodeNotListedYet {
		t.Fatalf("a delivery before RDS must list it: %s %+v, want deferred BackupNotListedYet again", o2.Status, o2.Error)
	}
	lh.clk.Set(o.NotBefore)
	o = ex.Run(context.Background(), r, executor.History{RetryCount: 4})
	if o.Status != backup.StatusCoalesced || o.BackupId == "" {
		t.Fatalf("once RDS must list it: %s (%s), want coalesced with the set", o.Status, o.Note)
	}
	if n := lh.count("CreateBackup"); n != 1 {
		t.Errorf("%d backups, want 1", n)
	}
}

// A CreateBackup that RDS refused made no job: the run that deferred
// afterwards (the instance is Rebooting) releases the row forgetting the
// send, so the next delivery takes over and goes on at once, without
// waiting out RDS's listing lag.
func TestLedgerRefusedSendIsForgotten(t *testing.T) {
	lh := newLedgerHarness(t)
	lh.srv.SetStatus("rm-l", "Rebooting")
	ex := lh.exec(func(o *executor.Options) { o.MaxAttemptsPerInvocation = 1 })
	r := lh.snapshot()
	r.BackupMethod = "Physical"
	o := ex.Run(context.Background(), r, executor.History{})
	if o.Status != backup.StatusDeferred {
		t.Fatalf("while Rebooting: %s (%+v)", o.Status, o.Error)
	}
	lh.srv.SetStatus("rm-l", "Running")
	lh.clk.Advance(30 * time.Second)
	o = ex.Run(context.Background(), r, executor.History{Attempts: o.Attempts})
	if o.Status != backup.StatusAccepted {
		t.Fatalf("resumed: %s (%+v %s), want accepted at once", o.Status, o.Error, o.Note)
	}
}

// Across asks: a second ask of the method, made while the first ask's
// 5-second backup ran and processed after it ended — RDS lists neither a
// running job nor its set (the lag) — is not given a second backup: it
// waits until RDS lists the set, then is satisfied by it. An ask made after
// that backup ended gets its own backup.
func TestLedgerAnotherAskInTheSetLag(t *testing.T) {
	lh := newLedgerHarness(t)
	ex := lh.exec()
	first := lh.snapshot()
	if o := ex.Run(context.Background(), first, executor.History{}); o.Status != backup.StatusAccepted {
		t.Fatalf("first ask: %s", o.Status)
	}
	second := first
	second.Trigger.DeliveryId, second.IdempotencyKey, second.AskedAt = "M2", backup.Key("second"), first.AskedAt.Add(2*time.Second)
	lh.clk.Set(first.AskedAt.Add(20 * time.Second)) // ended at 5 s, listed at 65 s
	o := ex.Run(context.Background(), second, executor.History{})
	if o.Status != backup.StatusDeferred || o.Error == nil || o.Error.Code != executor.CodeNotListedYet {
		t.Fatalf("second ask in the lag: %s %+v (%s), want deferred BackupNotListedYet", o.Status, o.Error, o.Note)
	}
	lh.clk.Set(first.AskedAt.Add(70 * time.Second))
	o = ex.Run(context.Background(), second, executor.History{Attempts: o.Attempts})
	if o.Status != backup.StatusCoalesced || o.BackupId == "" {
		t.Fatalf("second ask once listed: %s (%s), want coalesced with the set", o.Status, o.Note)
	}
	third := first
	third.Trigger.DeliveryId, third.IdempotencyKey, third.AskedAt = "M3", backup.Key("third"), first.AskedAt.Add(30*time.Second)
	lh.clk.Set(first.AskedAt.Add(75 * time.Second))
	if o := ex.Run(context.Background(), third, executor.History{}); o.Status != backup.StatusAccepted {
		t.Errorf("an ask made after the backup ended: %s (%s), want its own backup", o.Status, o.Note)
	}
	if n := lh.count("CreateBackup"); n != 2 {
		t.Errorf("%d backups, want 2", n)
	}
}

// Issue 18, "what satisfies what": a Physical ask while a Logical
// single-database job the ledger made runs waits for it and gets its own
// Physical backup; a Physical ask while a Physical job the ledger made runs
// is coalesced with it.
func TestLedgerRunningJobOfAnotherMethodDoesNotSatisfy(t *testing.T) {
	lh := newLedgerHarness(t)
	lh.srv.AddInstance(rds.Instance{DBInstanceId: "rm-m", RegionId: "cn-hangzhou", Engine: "MySQL", Databases: []string{"billing"}})
	ex := lh.exec()
	logical := req("rm-m", func(r *backup.Request) {
		r.BackupMethod, r.BackupStrategy, r.DBName, r.AskedAt = "Logical", "db", []string{"billing"}, lh.clk.Now()
		r.IdempotencyKey = backup.Key("logical")
	})
	lj := ex.Run(context.Background(), logical, executor.History{})
	if lj.Status != backup.StatusAccepted {
		t.Fatalf("logical: %s (%+v)", lj.Status, lj.Error)
	}
	physical := req("rm-m", func(r *backup.Request) {
		r.BackupMethod, r.AskedAt, r.IdempotencyKey = "Physical", lh.clk.Now(), backup.Key("physical")
	})
	o := ex.Run(context.Background(), physical, executor.History{})
	if o.Status != backup.StatusAccepted || o.BackupJobId == lj.BackupJobId {
		t.Fatalf("physical while a logical job runs: %s job %q (%s), want its own backup after the logical one", o.Status, o.BackupJobId, o.Note)
	}
	if len(lh.sleeps()) == 0 {
		t.Errorf("no state-wait: the physical ask did not wait for the logical job")
	}
	again := req("rm-m", func(r *backup.Request) {
		r.BackupMethod, r.AskedAt, r.IdempotencyKey = "Physical", lh.clk.Now(), backup.Key("physical-2")
	})
	o2 := ex.Run(context.Background(), again, executor.History{})
	if o2.Status != backup.StatusCoalesced || o2.BackupJobId != o.BackupJobId {
		t.Errorf("physical while our physical job runs: %s job %q, want coalesced with %s", o2.Status, o2.BackupJobId, o.BackupJobId)
	}
	if n := lh.count("CreateBackup"); n < 3 || len(lh.srv.Jobs("rm-m")) != 2 {
		t.Errorf("%d jobs, want 2 (logical, physical)", len(lh.srv.Jobs("rm-m")))
	}
}

// A running job the ledger did not make (the console's) may be of any
// method: the ask waits for it to end, then judges its set once RDS lists
// it; a Physical set that ran past the ask satisfies it.
func TestLedgerUnknownRunningJobIsJudgedByItsSet(t *testing.T) {
	lh := newLedgerHarness(t)
	if _, _, err := lh.harness.cli.CreateBackup(context.Background(), backup.Request{DBInstanceId: "rm-l", BackupMethod: "Physical"}); err != nil {
		t.Fatal(err) // the console's Physical backup, 60 s by default
	}
	ex := lh.exec(func(o *executor.Options) { o.MaxAttemptsPerInvocation = 1 })
	r := req("rm-l", func(r *backup.Request) {
		r.BackupMethod, r.AskedAt, r.IdempotencyKey = "Physical", lh.clk.Now(), backup.Key("p")
	})
	var o backup.Outcome
	for i := 0; i < 20; i++ {
		o = ex.Run(context.Background(), r, executor.History{})
		if o.Status != backup.StatusDeferred {
			break
		}
		lh.clk.Set(o.NotBefore)
	}
	if o.Status != backup.StatusCoalesced || o.BackupId == "" {
		t.Fatalf("outcome %s (%s), want coalesced with the console's set once listed", o.Status, o.Note)
	}
	if n := lh.count("CreateBackup"); n != 2 { // the console's, and the ask's first try refused (BackupJobExists)
		t.Errorf("%d CreateBackup calls, want 2 (no backup of the ask's own)", n)
	}
	if n := len(lh.srv.Jobs("rm-l")); n != 1 {
		t.Errorf("%d jobs, want the console's only", n)
	}
}

// A CreateBackup whose answer is lost made a job that ends before the run
// looks (a fast snapshot): RDS shows no running job and lists no set yet,
// so the run does not send another; it waits until RDS must list it, then
// the set satisfies the ask. (A look sooner after the send than the
// shortest backup takes would have seen the job running: the webhook's
// InvokeProxyFailure retries, end to end, show that case.)
func TestLedgerLostAnswerOfAFastBackup(t *testing.T) {
	lh := newLedgerHarness(t, rds.WithMethodDuration("Snapshot", 100*time.Millisecond))
	lh.srv.InjectFault(rds.Fault{Action: "CreateBackup", After: true, Drop: true, Times: 1})
	// Backups here take 100 ms: a look trusted for less (as LookHolds must
	// be) comes too late to see the lost send's job running.
	ex := lh.exec(func(o *executor.Options) { o.LookHolds = 50 * time.Millisecond })
	r := lh.snapshot()
	o := ex.Run(context.Background(), r, executor.History{})
	if o.Status != backup.StatusDeferred || o.Error == nil || o.Error.Code != executor.CodeNotListedYet {
		t.Fatalf("after the lost answer: %s %+v (%s), want deferred BackupNotListedYet", o.Status, o.Error, o.Note)
	}
	lh.clk.Set(o.NotBefore)
	o = ex.Run(context.Background(), r, executor.History{Attempts: o.Attempts})
	if o.Status != backup.StatusCoalesced || o.BackupId == "" {
		t.Fatalf("once RDS must list it: %s (%s), want coalesced with the set", o.Status, o.Note)
	}
	if n := len(lh.srv.Jobs("rm-l")); n != 1 {
		t.Errorf("%d jobs, want 1", n)
	}
}

// Across asks, a lost answer: ask A's CreateBackup made a 5-second job
// whose answer was lost, and A stopped before it looked (its invocation's
// attempts spent: it died, or waits for its next delivery). Ask B, run
// after that job ended and before RDS lists its set, sees no running job,
// no set and no job the ledger noted: only A's send marker tells it a
// backup may exist. B waits until RDS must list it, then is satisfied by
// it: one backup for both. (The soak found B making a second one.)
func TestLedgerAnotherAskAfterALostAnswer(t *testing.T) {
	lh := newLedgerHarness(t)
	lh.srv.InjectFault(rds.Fault{Action: "CreateBackup", After: true, Drop: true, Times: 1})
	a := lh.snapshot()
	oa := lh.exec(func(o *executor.Options) { o.MaxAttemptsPerInvocation = 1 }).Run(context.Background(), a, executor.History{})
	if oa.Status != backup.StatusDeferred || len(lh.srv.Jobs("rm-l")) != 1 {
		t.Fatalf("ask A: %s (%s) with %d jobs, want deferred after the lost answer, with its job made", oa.Status, oa.Note, len(lh.srv.Jobs("rm-l")))
	}
	b := a
	b.Trigger.DeliveryId, b.IdempotencyKey = "M2", backup.Key("b")
	lh.clk.Set(a.AskedAt.Add(20 * time.Second)) // A's job ended at 5 s; listed at 65 s
	ex := lh.exec()
	o := ex.Run(context.Background(), b, executor.History{})
	if o.Status != backup.StatusDeferred || o.Error == nil || o.Error.Code != executor.CodeNotListedYet {
		t.Fatalf("ask B in the lag: %s %+v (%s), want deferred BackupNotListedYet", o.Status, o.Error, o.Note)
	}
	if want := a.AskedAt.Add(2 * time.Minute); o.NotBefore.Before(want.Add(-time.Second)) || o.NotBefore.After(want.Add(time.Second)) {
		t.Errorf("NotBefore %s, want about %s (A's send + SetLagBound)", o.NotBefore, want)
	}
	lh.clk.Set(o.NotBefore)
	o = ex.Run(context.Background(), b, executor.History{Attempts: o.Attempts})
	if o.Status != backup.StatusCoalesced || o.BackupId == "" {
		t.Fatalf("ask B once RDS must list it: %s (%s), want coalesced with A's set", o.Status, o.Note)
	}
	if n := len(lh.srv.Jobs("rm-l")); n != 1 {
		t.Errorf("%d jobs, want A's only", n)
	}
}

// A send marker is forgotten once its send is settled: an ask whose
// CreateBackup was answered, or refused, leaves none behind, so later asks
// do not wait on it.
func TestLedgerSettledSendsLeaveNoMarker(t *testing.T) {
	lh := newLedgerHarness(t)
	ex := lh.exec()
	a := lh.snapshot()
	if o := ex.Run(context.Background(), a, executor.History{}); o.Status != backup.StatusAccepted {
		t.Fatalf("ask A: %s (%s)", o.Status, o.Note)
	}
	lh.srv.SetStatus("rm-l", "Rebooting")
	b := a
	b.Trigger.DeliveryId, b.IdempotencyKey, b.AskedAt = "M2", backup.Key("b"), a.AskedAt.Add(10*time.Second)
	lh.clk.Set(b.AskedAt)
	if o := lh.exec(func(o *executor.Options) { o.MaxAttemptsPerInvocation = 1 }).Run(context.Background(), b, executor.History{}); o.Status != backup.StatusDeferred {
		t.Fatalf("ask B while Rebooting: %s (%s), want deferred", o.Status, o.Note)
	}
	sends, err := lh.led.InstanceSends(context.Background(), ledger.InstanceKey("cn-hangzhou", "rm-l", "Snapshot"))
	if err != nil || len(sends) != 0 {
		t.Errorf("send markers left %v (%v), want none", sends, err)
	}
}

// A repeat whose history spent the life budget is still coalesced with the
// job its row names: failing it would give the ask a second terminal
// outcome next to the job's completed one.
func TestLedgerSpentRepeatIsCoalesced(t *testing.T) {
	lh := newLedgerHarness(t)
	ex := lh.exec()
	r := lh.snapshot()
	first := ex.Run(context.Background(), r, executor.History{})
	spent := make([]backup.Attempt, 12)
	for i := range spent {
		spent[i] = backup.Attempt{Action: "DescribeBackupTasks", Code: "Throttling.User", Retryable: true}
	}
	o := ex.Run(context.Background(), r, executor.History{Attempts: spent})
	if o.Status != backup.StatusCoalesced || o.BackupJobId != first.BackupJobId {
		t.Fatalf("spent repeat: %s (%+v), want coalesced with %s", o.Status, o.Error, first.BackupJobId)
	}
	other := req("rm-l", func(r *backup.Request) { r.AskedAt, r.IdempotencyKey = lh.clk.Now(), backup.Key("other") })
	if o := ex.Run(context.Background(), other, executor.History{Attempts: spent}); o.Status != backup.StatusFailed {
		t.Errorf("a spent ask without a job: %s, want failed (budget)", o.Status)
	}
}

// crashAfterCreate is a ledger whose writes after CreateBackup never
// arrive: the delivery died right after it.
type crashAfterCreate struct{ *ledger.Ledger }

func (crashAfterCreate) NoteInstanceJob(context.Context, string, string, time.Time) error { return nil }

func (crashAfterCreate) RecordJob(context.Context, string, string, string, string) error { return nil }
func (crashAfterCreate) Release(context.Context, string, string, string, bool) error     { return nil }
func (crashAfterCreate) ForgetInstanceSend(context.Context, string, string) error        { return nil }
func (crashAfterCreate) JobMade(context.Context, string, string, string, string, string, time.Time) (bool, bool, error) {
	return false, false, context.Canceled
}

// A job that failed satisfies no ask: the ask's next run reopens the row,
// looks, makes a new backup and records it; a later repeat is coalesced
// with the new job.
func TestLedgerFailedJobRunsTheAskAgain(t *testing.T) {
	lh := newLedgerHarness(t)
	lh.srv.InjectFault(rds.Fault{Action: "CreateBackup", FailJob: true, Times: 1})
	ex := lh.exec()
	r := lh.snapshot()
	first := ex.Run(context.Background(), r, executor.History{})
	lh.clk.Advance(10 * time.Second) // the job has ended Failed
	again := ex.Run(context.Background(), r, executor.History{Attempts: []backup.Attempt{{Action: "BackupJob", Code: "BackupJobFailed"}}})
	if again.Status != backup.StatusAccepted || again.BackupJobId == first.BackupJobId {
		t.Fatalf("after the failed job %s: %s job %q (%s), want a new job", first.BackupJobId, again.Status, again.BackupJobId, again.Note)
	}
	lh.clk.Advance(time.Second)
	o := ex.Run(context.Background(), r, executor.History{RetryCount: 1})
	if o.Status != backup.StatusCoalesced || o.BackupJobId != again.BackupJobId {
		t.Errorf("repeat: %s job %q, want coalesced with %s", o.Status, o.BackupJobId, again.BackupJobId)
	}
	if n := lh.count("CreateBackup"); n != 2 {
		t.Errorf("%d backups, want 2 (the failed one and its replacement)", n)
	}
}

// Two warm instances get the same ask at once: one acts, the other is
// deferred while the first holds the row; then it is coalesced.
func TestLedgerConcurrentDeliveries(t *testing.T) {
	lh := newLedgerHarness(t)
	r := lh.snapshot()
	a, b := lh.exec(), lh.exec() // two executors: two FC instances
	results := make(chan backup.Outcome, 2)
	for _, ex := range []boundExec{a, b} {
		go func() { results <- ex.Run(context.Background(), r, executor.History{}) }()
	}
	got := map[backup.Status]int{}
	for range 2 {
		got[(<-results).Status]++
	}
	if got[backup.StatusAccepted] != 1 || got[backup.StatusDeferred]+got[backup.StatusCoalesced] != 1 {
		t.Errorf("outcomes %v, want one accepted and one deferred or coalesced", got)
	}
	if n := lh.count("CreateBackup"); n != 1 {
		t.Errorf("%d backups, want 1", n)
	}
}

// When the ledger cannot be written the ask is deferred, never acted on:
// a fresh ask's claim (the row and its send marker, one BatchWriteRow) and
// an older ask's (a PutRow: it looks before it sends).
func TestLedgerDownDefers(t *testing.T) {
	for _, tc := range []struct {
		name, action string
		age          time.Duration
	}{
		{"fresh ask", "BatchWriteRow", 0},
		{"ask older than FreshFor", "PutRow", 2 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lh := newLedgerHarness(t)
			lh.ots.InjectFault(tablestore.Fault{Action: tc.action, Code: "OTSServerBusy"})
			r := lh.snapshot()
			r.AskedAt = r.AskedAt.Add(-tc.age)
			o := lh.exec().Run(context.Background(), r, executor.History{})
			if o.Status != backup.StatusDeferred || o.Error == nil || o.Error.Code != executor.CodeLedgerUnavailable || o.NotBefore.IsZero() {
				t.Fatalf("outcome %s %+v, want deferred LedgerUnavailable with a NotBefore", o.Status, o.Error)
			}
			if n := len(lh.srv.Calls()); n != 0 {
				t.Errorf("%d RDS calls, want 0", n)
			}
		})
	}
}

// A look with the ledger (an ask older than FreshFor, on an instance where
// nothing runs and no set satisfies it) reads what the ledger holds of the
// instance — its latest job of each method, the one of unknown method and
// the open send markers — in one Tablestore read, and still finds another
// delivery's open send (the ask waits for RDS to list what it made).
func TestLedgerLookReadsTheInstanceOnce(t *testing.T) {
	lh := newLedgerHarness(t)
	ex := lh.exec()
	r := req("rm-l", func(r *backup.Request) {
		r.BackupMethod, r.Trigger, r.AskedAt = "Snapshot", backup.Trigger{Kind: "timer", Source: "nightly", DeliveryId: "T1"}, lh.clk.Now().Add(-time.Minute)
	})
	reads := func(from int) (out []string) {
		for _, c := range lh.ots.Calls()[from:] {
			if strings.HasPrefix(c.Action, "Get") {
				out = append(out, c.Action)
			}
		}
		return out
	}
	from := len(lh.ots.Calls())
	o := ex.Run(context.Background(), r, executor.History{})
	if o.Status != backup.StatusAccepted {
		t.Fatalf("outcome %s %+v, want accepted", o.Status, o.Error)
	}
	if got := actions(lh.srv.Calls()); len(got) != 4 || got[1] != "DescribeBackupTasks" || got[2] != "DescribeBackups" || got[3] != "CreateBackup" {
		t.Errorf("RDS calls %v, want the storage read, the look's two reads, then CreateBackup", got)
	}
	if got := reads(from); len(got) != 1 || got[0] != "GetRange" {
		t.Errorf("the look's ledger reads %v, want one GetRange", got)
	}

	// Another delivery's open send on the instance: found by the same read.
	lh.clk.Advance(time.Hour)
	other := req("rm-l", func(r *backup.Request) {
		r.BackupMethod, r.Trigger, r.AskedAt = "Snapshot", backup.Trigger{Kind: "timer", Source: "nightly", DeliveryId: "T2"}, lh.clk.Now().Add(-time.Minute)
		r.IdempotencyKey += "-T2"
	})
	if err := lh.led.NoteInstanceSend(context.Background(), ledger.InstanceKey("", "rm-l", other.Method()), "someone-else", lh.clk.Now()); err != nil {
		t.Fatal(err)
	}
	from = len(lh.ots.Calls())
	o = ex.Run(context.Background(), other, executor.History{})
	if o.Status != backup.StatusDeferred || o.Error == nil || o.Error.Code != executor.CodeNotListedYet {
		t.Errorf("with another delivery's open send: %s %+v, want deferred %s", o.Status, o.Error, executor.CodeNotListedYet)
	}
	if got := reads(from); len(got) != 1 || got[0] != "GetRange" {
		t.Errorf("the look's ledger reads %v, want one GetRange", got)
	}
}

// A fresh ask's claim says at once that its CreateBackup is on its way
// (the row's SentAt and the instance's send marker, one BatchWriteRow with
// the claim). When the rules then refuse the ask, nothing was sent: the
// row and the marker forget it, so a later ask of the method that looks is
// not held up waiting for RDS to list a backup that was never made.
func TestLedgerRefusedFreshAskLeavesNoSend(t *testing.T) {
	lh := newLedgerHarness(t)
	lh.add(rds.Instance{DBInstanceId: "rm-db", Engine: "MySQL", Databases: []string{"billing"}})
	ctx := context.Background()
	r := lh.snapshot()
	r.DBInstanceId, r.IdempotencyKey = "rm-db", backup.Key("test", "refused")
	r.BackupMethod, r.BackupStrategy, r.DBName = "Logical", "db", []string{"nosuchdb"}
	o := lh.exec().Run(ctx, r, executor.History{})
	if o.Status != backup.StatusRejected || o.Error == nil || o.Error.Code != "InvalidDB.NotFound" {
		t.Fatalf("outcome %s %+v, want rejected InvalidDB.NotFound", o.Status, o.Error)
	}
	row, found, err := lh.led.Get(ctx, "ask", r.IdempotencyKey)
	if err != nil || !found || !row.SentAt.IsZero() {
		t.Errorf("the refused ask's row %+v (found %v, %v), want it without SentAt", row, found, err)
	}
	view, err := lh.led.ReadInstance(ctx, r.RegionId, r.DBInstanceId)
	if err != nil || len(view.Sends["Logical"]) != 0 {
		t.Errorf("send markers %v (%v), want none", view.Sends, err)
	}
	if n := lh.count("CreateBackup"); n != 0 {
		t.Fatalf("%d CreateBackups, want none", n)
	}
	later := lh.snapshot()
	later.DBInstanceId, later.IdempotencyKey, later.BackupMethod = "rm-db", backup.Key("test", "later"), "Logical"
	later.AskedAt = later.AskedAt.Add(-2 * time.Hour) // not fresh: it looks, and reads the markers
	if o := lh.exec().Run(ctx, later, executor.History{}); o.Status != backup.StatusAccepted {
		t.Errorf("a later Logical ask: %s %+v, want accepted at once", o.Status, o.Error)
	}
}

// A fresh ask's claim takes the lease its first send goes out under
// (ClaimSending). A send that comes later than a tenth of the lease, or a
// second, after the claim — here the instance's databases took 1.5 s to
// read — renews the lease and says "sending" again first (SendBegin): a
// CreateBackup never goes out with less than nine tenths of a lease left.
func TestLedgerLateFirstSendRenewsTheLease(t *testing.T) {
	for _, tc := range []struct {
		name       string
		facts      time.Duration // DescribeDatabases' latency
		tablestore string        // the run's Tablestore calls
	}{
		{"send right after the claim", 0, "BatchWriteRow BatchWriteRow"},
		{"send 1.5 s after the claim", 1500 * time.Millisecond, "BatchWriteRow BatchWriteRow BatchWriteRow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lh := newLedgerHarnessOn(t, func(c *rds.FakeClock) rds.Clock { return rds.InstantLatency{FakeClock: c} })
			lh.add(rds.Instance{DBInstanceId: "rm-db", Engine: "MySQL", Databases: []string{"billing"}})
			if tc.facts > 0 {
				lh.srv.InjectFault(rds.Fault{Action: "DescribeDatabases", Latency: tc.facts, Times: 1})
			}
			ctx := context.Background()
			r := lh.snapshot()
			r.DBInstanceId, r.IdempotencyKey = "rm-db", backup.Key("test", tc.name)
			r.BackupMethod, r.BackupStrategy, r.DBName = "Logical", "db", []string{"billing"}
			claimed, m := lh.clk.Now(), len(lh.ots.Calls())
			if o := lh.exec().Run(ctx, r, executor.History{}); o.Status != backup.StatusAccepted {
				t.Fatalf("outcome %s %+v, want accepted", o.Status, o.Error)
			}
			var calls []string
			for _, c := range lh.ots.Calls()[m:] {
				calls = append(calls, c.Action)
			}
			if got := strings.Join(calls, " "); got != tc.tablestore {
				t.Errorf("Tablestore calls %q, want %q", got, tc.tablestore)
			}
			row, _, err := lh.led.Get(ctx, "ask", r.IdempotencyKey)
			if err != nil {
				t.Fatal(err)
			}
			if sent := claimed.Add(tc.facts).Truncate(time.Millisecond); !row.SentAt.Equal(sent) || !row.LeaseUntil.Equal(sent.Add(lh.led.Lease())) {
				t.Errorf("row sent at %s, leased until %s; want sent at %s (the send's time), leased a whole lease from then", row.SentAt, row.LeaseUntil, sent)
			}
		})
	}
}

package rds

// Tests of issue 17: the emulator as unkind as the real RDS. Expected codes
// and statuses are literals from the documented pages (cited per test),
// never read from the emulator's tables.

import (
	"slices"
	"testing"
	"time"

	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

// sets returns the BackupIds DescribeBackups lists for id.
func sets(t *testing.T, cli *rds.Client, id string) []*rds.DescribeBackupsResponseBodyItemsBackup {
	t.Helper()
	resp, err := cli.DescribeBackups(&rds.DescribeBackupsRequest{DBInstanceId: tea.String(id)})
	noErr(t, err)
	return resp.Body.Items.Backup
}

// ongoingTasks is DescribeBackupTasks without BackupJobId.
func ongoingTasks(t *testing.T, cli *rds.Client, id string) []*rds.DescribeBackupTasksResponseBodyItemsBackupJob {
	t.Helper()
	resp, err := cli.DescribeBackupTasks(&rds.DescribeBackupTasksRequest{DBInstanceId: tea.String(id)})
	noErr(t, err)
	return resp.Body.Items.BackupJob
}

func f64(v float64) *float64 { return &v }

// TestSetLag: a task's set appears in DescribeBackups exactly the set lag
// after the task ends ([TF] resource_alicloud_rds_backup.go waits a minute
// after Finished "because the query API (DescribeBackups) has not been
// synchronized"); meanwhile DescribeBackupTasks without BackupJobId lists
// nothing ([BT]: NoStart and Progressing tasks only) and by BackupJobId
// answers Finished with the BackupId at once.
func TestSetLag(t *testing.T) {
	const lag = 60 * time.Second
	e := newEnv(t, WithSetLag(lag)) // 100 s jobs
	e.srv.AddInstance(Instance{DBInstanceId: "rm-lag"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-nolag", SetLagSeconds: f64(0)})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-lag5", SetLagSeconds: f64(5)})
	cli := e.cli(t)
	jobs := map[string]string{}
	for _, id := range []string{"rm-lag", "rm-nolag", "rm-lag5"} {
		j, err := createBackup(cli, id)
		noErr(t, err)
		jobs[id] = j
	}
	e.clock.Advance(100 * time.Second)
	for id, j := range jobs {
		if got := task(t, cli, id, j); tea.StringValue(got.BackupStatus) != "Finished" || tea.StringValue(got.BackupId) == "" {
			t.Fatalf("%s at its end: %v", id, got)
		}
		if n := len(ongoingTasks(t, cli, id)); n != 0 {
			t.Fatalf("%s: %d unfinished tasks listed after Finished", id, n)
		}
	}
	if n := len(sets(t, cli, "rm-nolag")); n != 1 {
		t.Fatalf("setLagSeconds 0: %d sets at the task's end, want 1", n)
	}
	if n := len(sets(t, cli, "rm-lag")); n != 0 {
		t.Fatalf("%d sets at the task's end, want none", n)
	}
	e.clock.Advance(5*time.Second - time.Second)
	if n := len(sets(t, cli, "rm-lag5")); n != 0 {
		t.Fatalf("setLagSeconds 5: a set 4 s after the end")
	}
	e.clock.Advance(time.Second)
	if n := len(sets(t, cli, "rm-lag5")); n != 1 {
		t.Fatalf("setLagSeconds 5: %d sets 5 s after the end, want 1", n)
	}
	e.clock.Set(t0.Add(100*time.Second + lag - time.Second))
	if n := len(sets(t, cli, "rm-lag")); n != 0 {
		t.Fatalf("a set at lag-1s")
	}
	if n := len(e.srv.Backups("rm-lag")); n != 0 {
		t.Fatalf("Server.Backups shows the set at lag-1s")
	}
	e.clock.Set(t0.Add(100*time.Second + lag))
	got := sets(t, cli, "rm-lag")
	if len(got) != 1 || tea.StringValue(got[0].BackupId) != tea.StringValue(task(t, cli, "rm-lag", jobs["rm-lag"]).BackupId) {
		t.Fatalf("sets at the lag: %v", got)
	}
	if js := e.srv.Jobs("rm-lag"); js[0].SetVisible != t0.Add(100*time.Second+lag) {
		t.Errorf("Job.SetVisible = %v", js[0].SetVisible)
	}
}

// TestSetLagOfFailedTask: a failed task's set waits the same lag.
func TestSetLagOfFailedTask(t *testing.T) {
	e := newEnv(t, WithSetLag(30*time.Second))
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.InjectFault(Fault{Action: "CreateBackup", FailJob: true, Times: 1})
	cli := e.cli(t)
	j, err := createBackup(cli, "rm-a")
	noErr(t, err)
	e.clock.Advance(100 * time.Second)
	if got := task(t, cli, "rm-a", j); tea.StringValue(got.BackupStatus) != "Failed" {
		t.Fatalf("task = %v", got)
	}
	if n := len(sets(t, cli, "rm-a")); n != 0 {
		t.Fatalf("failed set before the lag")
	}
	e.clock.Advance(30 * time.Second)
	if got := sets(t, cli, "rm-a"); len(got) != 1 || tea.StringValue(got[0].BackupStatus) != "Failed" {
		t.Fatalf("sets after the lag: %v", got)
	}
}

// TestBackupSecondsPerMethod: backupSeconds per instance and per method, a
// 5-second Snapshot; the server's per-method durations; the rest take the
// backup duration.
func TestBackupSecondsPerMethod(t *testing.T) {
	e := newEnv(t, WithMethodDuration("Logical", 20*time.Second)) // others 100 s
	e.srv.AddInstance(Instance{DBInstanceId: "rm-snap", Databases: []string{"app"}, BackupSeconds: MethodSeconds{"Snapshot": 5}})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-all", BackupSeconds: MethodSeconds{"": 7}})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-plain", Databases: []string{"app"}})
	cli := e.cli(t)
	start := func(id, method string) string {
		resp, err := cli.CreateBackup(&rds.CreateBackupRequest{DBInstanceId: tea.String(id), BackupMethod: tea.String(method)})
		noErr(t, err)
		return tea.StringValue(resp.Body.BackupJobId)
	}
	finishedAt := func(id, job string, want time.Duration) {
		t.Helper()
		base := e.clock.Now()
		e.clock.Set(base.Add(want - time.Second))
		if s := tea.StringValue(task(t, cli, id, job).BackupStatus); s == "Finished" {
			t.Fatalf("%s: Finished before %v", id, want)
		}
		e.clock.Set(base.Add(want))
		if s := tea.StringValue(task(t, cli, id, job).BackupStatus); s != "Finished" {
			t.Fatalf("%s: %s at %v, want Finished", id, s, want)
		}
	}
	finishedAt("rm-snap", start("rm-snap", "Snapshot"), 5*time.Second)
	finishedAt("rm-snap", start("rm-snap", "Physical"), 100*time.Second)
	finishedAt("rm-all", start("rm-all", "Physical"), 7*time.Second)
	finishedAt("rm-plain", start("rm-plain", "Logical"), 20*time.Second)
	finishedAt("rm-plain", start("rm-plain", "Snapshot"), 100*time.Second)
	if got := sets(t, cli, "rm-snap"); len(got) != 2 || tea.StringValue(got[1].BackupMethod) != "Snapshot" ||
		tea.StringValue(got[1].BackupEndTime) != "2026-03-02T01:00:05Z" {
		t.Fatalf("snapshot set: %v", got)
	}
}

// TestQuotas: flow control per (account, region, action), answered with
// 400 Throttling.Api "Request was denied due to api flow control" (the
// error center's flow-control code, whose HTTP status is 400 on the STS
// page and in the POP client table: accounts-quotas-observability.md §3.2,
// cloud-fidelity.md [POP]).
func TestQuotas(t *testing.T) {
	e := newEnv(t, WithQuotas(map[string]float64{"CreateBackup": 2, "DescribeDBInstanceAttribute": 1}))
	other := e.store.NewAccessKeyFor("2000000000000002")
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-b"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-c"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-x", AccountId: "2000000000000002"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-sh", RegionId: "cn-shanghai"})
	cli, cliB := e.cli(t), e.client(t, other, true)

	_, err := createBackup(cli, "rm-a")
	noErr(t, err)
	_, err = createBackup(cli, "rm-b")
	noErr(t, err)
	_, err = createBackup(cli, "rm-c")
	wantErr(t, err, "Throttling.Api", 400)
	wantMessage(t, err, "Request was denied due to api flow control.")
	// Another action has its own bucket.
	noErr(t, attribute(cli, "rm-a"))
	wantErr(t, attribute(cli, "rm-b"), "Throttling.Api", 400)
	// Another account has its own buckets.
	_, err = createBackup(cliB, "rm-x")
	noErr(t, err)
	noErr(t, attribute(cliB, "rm-x"))
	// Another region (the instance's) has its own.
	noErr(t, attribute(cli, "rm-sh"))
	// The buckets refill on the server's clock.
	e.clock.Advance(time.Second)
	_, err = createBackup(cli, "rm-c")
	noErr(t, err)
	noErr(t, attribute(cli, "rm-b"))
	// Refused calls are counted in the log with their code.
	n := 0
	for _, c := range e.srv.Calls() {
		if c.Code == "Throttling.Api" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d Throttling.Api calls logged, want 2", n)
	}
}

// TestQuotaDefaults: WithQuotas with an empty map takes the quota pages'
// numbers: CreateBackup 50/1(s) (SQL Server quota page), DescribeBackups
// 200/1(s) (MariaDB quota page). Without WithQuotas there is no limit.
func TestQuotaDefaults(t *testing.T) {
	e := newEnv(t, WithQuotas(map[string]float64{}))
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	cli := e.cli(t)
	for i := range 50 {
		if _, err := createBackup(cli, "rm-none"); err != nil {
			if code, _, _ := sdkError(err); code != "InvalidDBInstanceId.NotFound" {
				t.Fatalf("CreateBackup %d: %v", i+1, err)
			}
		}
	}
	_, err := createBackup(cli, "rm-none")
	wantErr(t, err, "Throttling.Api", 400)
	for i := range 200 {
		if _, err := cli.DescribeBackups(&rds.DescribeBackupsRequest{DBInstanceId: tea.String("rm-a")}); err != nil {
			t.Fatalf("DescribeBackups %d: %v", i+1, err)
		}
	}
	_, err = cli.DescribeBackups(&rds.DescribeBackupsRequest{DBInstanceId: tea.String("rm-a")})
	wantErr(t, err, "Throttling.Api", 400)

	off := newEnv(t)
	off.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	cli = off.cli(t)
	for i := range 300 {
		if _, err := cli.DescribeBackups(&rds.DescribeBackupsRequest{DBInstanceId: tea.String("rm-a")}); err != nil {
			t.Fatalf("no quotas: DescribeBackups %d: %v", i+1, err)
		}
	}
}

// TestRateLimitPerAccount: WithRateLimit's user flow control (400
// Throttling.User [POP]) is one bucket per account.
func TestRateLimitPerAccount(t *testing.T) {
	e := newEnv(t, WithRateLimit(1))
	other := e.store.NewAccessKeyFor("2000000000000002")
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-x", AccountId: "2000000000000002"})
	cli, cliB := e.cli(t), e.client(t, other, false)
	noErr(t, attribute(cli, "rm-a"))
	wantErr(t, attribute(cli, "rm-a"), "Throttling.User", 400)
	noErr(t, attribute(cliB, "rm-x"))
	// A key issued for the same account shares its bucket.
	same := e.client(t, e.store.NewAccessKey(), false)
	wantErr(t, attribute(same, "rm-a"), "Throttling.User", 400)
}

// TestThrottlingFaultStatus: a fault naming a flow-control code without a
// status answers the POP table's 400 (cloud-fidelity.md G6).
func TestThrottlingFaultStatus(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	cli := e.cli(t)
	for _, code := range []string{"Throttling", "Throttling.Api", "Throttling.User"} {
		e.srv.InjectFault(Fault{Action: "DescribeDBInstanceAttribute", Code: code, Times: 1})
		wantErr(t, attribute(cli, "rm-a"), code, 400)
	}
}

// TestAccounts: a key sees only its account's instances. Another account's
// instance gets exactly the answer of an unknown id from every action, and
// DescribeDBInstances lists only the caller's; an STS key issued for an
// account (what AssumeRole of a role there returns) sees that account's.
func TestAccounts(t *testing.T) {
	const accountB = "2000000000000002"
	e := newEnv(t)
	keyB := e.store.NewAccessKeyFor(accountB)
	stsB := e.store.IssueSTSFor(accountB, time.Hour)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a", Databases: []string{"app"}})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-b", AccountId: accountB, Databases: []string{"app"}})
	a, b, sts := e.cli(t), e.client(t, keyB, false), e.client(t, stsB, true)

	calls := map[string]func(cli *rds.Client, id string) error{
		"CreateBackup":                func(cli *rds.Client, id string) error { _, err := createBackup(cli, id); return err },
		"DescribeDBInstanceAttribute": attribute,
		"DescribeBackups": func(cli *rds.Client, id string) error {
			_, err := cli.DescribeBackups(&rds.DescribeBackupsRequest{DBInstanceId: tea.String(id)})
			return err
		},
		"DescribeBackupTasks": func(cli *rds.Client, id string) error {
			_, err := cli.DescribeBackupTasks(&rds.DescribeBackupTasksRequest{DBInstanceId: tea.String(id)})
			return err
		},
		"DescribeDatabases": func(cli *rds.Client, id string) error {
			_, err := cli.DescribeDatabases(&rds.DescribeDatabasesRequest{DBInstanceId: tea.String(id)})
			return err
		},
	}
	for name, call := range calls {
		// The unknown id's answer: InvalidDBInstanceId.NotFound (CreateBackup
		// page: 400; the Describe* pages name no status, the emulator's 404).
		unknownCode, unknownStatus, _ := sdkError(call(a, "rm-none"))
		if unknownCode != "InvalidDBInstanceId.NotFound" {
			t.Fatalf("%s of an unknown id: %s", name, unknownCode)
		}
		if name == "CreateBackup" && unknownStatus != 400 {
			t.Fatalf("CreateBackup of an unknown id: status %d, want the page's 400", unknownStatus)
		}
		wantErr(t, call(a, "rm-b"), unknownCode, unknownStatus)
		wantErr(t, call(b, "rm-a"), unknownCode, unknownStatus)
		wantErr(t, call(sts, "rm-a"), unknownCode, unknownStatus)
	}
	_, err := createBackup(sts, "rm-b")
	noErr(t, err)
	if n := e.srv.CreatedBackups()["rm-a"]; n != 0 {
		t.Fatalf("account B made %d backups of account A's instance", n)
	}
	list := func(cli *rds.Client) []string {
		resp, err := cli.DescribeDBInstances(&rds.DescribeDBInstancesRequest{RegionId: tea.String("cn-hangzhou")})
		noErr(t, err)
		var ids []string
		for _, in := range resp.Body.Items.DBInstance {
			ids = append(ids, tea.StringValue(in.DBInstanceId))
		}
		if int(tea.Int32Value(resp.Body.TotalRecordCount)) != len(ids) {
			t.Errorf("TotalRecordCount %d for %v", tea.Int32Value(resp.Body.TotalRecordCount), ids)
		}
		return ids
	}
	if got := list(a); !slices.Equal(got, []string{"rm-a"}) {
		t.Errorf("account A lists %v", got)
	}
	if got := list(sts); !slices.Equal(got, []string{"rm-b"}) {
		t.Errorf("account B (STS) lists %v", got)
	}
	if in, _ := e.srv.Instance("rm-a"); in.AccountId != auth.DefaultAccountID {
		t.Errorf("default AccountId = %q", in.AccountId)
	}
}

// TestEmptyAttributeFault: the opt-in fault makes DescribeDBInstanceAttribute
// of a missing instance answer 200 with an empty Items.DBInstanceAttribute
// ([TF] service_alicloud_rds.go: "The API return 200 for resource not
// found"); an existing instance is answered as usual.
func TestEmptyAttributeFault(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-x", AccountId: "2000000000000002"})
	e.srv.InjectFault(Fault{Action: "DescribeDBInstanceAttribute", Empty: true, Times: 2})
	cli := e.cli(t)
	resp, err := cli.DescribeDBInstanceAttribute(&rds.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String("rm-a")})
	noErr(t, err)
	if n := len(resp.Body.Items.DBInstanceAttribute); n != 1 {
		t.Fatalf("existing instance: %d items", n)
	}
	for _, id := range []string{"rm-none", "rm-x"} {
		resp, err = cli.DescribeDBInstanceAttribute(&rds.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String(id)})
		noErr(t, err)
		if resp.Body.Items == nil || len(resp.Body.Items.DBInstanceAttribute) != 0 || tea.StringValue(resp.Body.RequestId) == "" {
			t.Fatalf("%s: %v", id, resp.Body)
		}
	}
	// Used up: the usual not-found answer again.
	if code, _, _ := sdkError(attribute(cli, "rm-none")); code != "InvalidDBInstanceId.NotFound" {
		t.Fatalf("after the fault: %s", code)
	}
	if err := (Fault{Action: "CreateBackup", Empty: true}).Check(); err == nil {
		t.Error("Check accepts empty on CreateBackup")
	}
	if err := (Fault{Empty: true, Code: "X"}).Check(); err == nil {
		t.Error("Check accepts empty with a code")
	}
	if err := (Fault{Action: "DescribeDBInstanceAttribute", DBInstanceId: "rm-gone", Empty: true, Rate: 0.5}).Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// TestAutomatedBackup: a scheduled automated task (JobMode Automated,
// TaskAction NormalBackupTask [BT]) is listed while it runs, blocks
// CreateBackup with 400 BackupJobExists ([S] prerequisites and error
// table), and leaves an Automated set with BackupInitiator System [B]
// after the set lag. It does not count toward the 20 manual backups a day.
func TestAutomatedBackup(t *testing.T) {
	e := newEnv(t, WithSetLag(time.Minute)) // t0 is 01:00 UTC
	e.srv.AddInstance(Instance{DBInstanceId: "rm-auto", AutomatedBackup: &AutomatedBackup{At: "02:00", Seconds: 600}})
	cli := e.cli(t)
	if n := len(ongoingTasks(t, cli, "rm-auto")); n != 0 {
		t.Fatalf("%d tasks before the schedule", n)
	}
	e.clock.Set(t0.Add(time.Hour)) // 02:00
	tasks := ongoingTasks(t, cli, "rm-auto")
	if len(tasks) != 1 || tea.StringValue(tasks[0].JobMode) != "Automated" || tea.StringValue(tasks[0].TaskAction) != "NormalBackupTask" ||
		tea.StringValue(tasks[0].BackupStatus) != "NoStart" {
		t.Fatalf("tasks at 02:00: %v", tasks)
	}
	auto, err := cli.DescribeBackupTasks(&rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-auto"), BackupMode: tea.String("Automated")})
	noErr(t, err)
	manual, err := cli.DescribeBackupTasks(&rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-auto"), BackupMode: tea.String("Manual")})
	noErr(t, err)
	if len(auto.Body.Items.BackupJob) != 1 || len(manual.Body.Items.BackupJob) != 0 {
		t.Fatalf("BackupMode filter: %d automated, %d manual", len(auto.Body.Items.BackupJob), len(manual.Body.Items.BackupJob))
	}
	e.clock.Advance(5 * time.Minute)
	_, err = createBackup(cli, "rm-auto")
	wantErr(t, err, "BackupJobExists", 400)
	e.clock.Set(t0.Add(time.Hour + 10*time.Minute)) // the task ends
	if n := len(ongoingTasks(t, cli, "rm-auto")); n != 0 {
		t.Fatalf("%d tasks after the end", n)
	}
	if n := len(sets(t, cli, "rm-auto")); n != 0 {
		t.Fatalf("automated set before the lag")
	}
	e.clock.Advance(time.Minute)
	got := sets(t, cli, "rm-auto")
	if len(got) != 1 || tea.StringValue(got[0].BackupMode) != "Automated" || tea.StringValue(got[0].BackupInitiator) != "System" ||
		tea.StringValue(got[0].BackupMethod) != "Physical" || tea.StringValue(got[0].BackupStartTime) != "2026-03-02T02:00:00Z" {
		t.Fatalf("sets: %v", got)
	}
	// A manual backup now goes through; the next day has another automated task.
	_, err = createBackup(cli, "rm-auto")
	noErr(t, err)
	e.clock.Set(t0.Add(25 * time.Hour)) // 02:00 the next day
	tasks = ongoingTasks(t, cli, "rm-auto")
	if len(tasks) != 1 || tea.StringValue(tasks[0].JobMode) != "Automated" {
		t.Fatalf("tasks the next day: %v", tasks)
	}
	if jobs := e.srv.Jobs("rm-auto"); len(jobs) != 3 || jobs[0].JobMode != "Automated" || jobs[1].JobMode != "Manual" || jobs[2].JobMode != "Automated" {
		t.Fatalf("jobs = %+v", jobs)
	}
}

// TestFailedTaskProgressStatus: a failed task's BackupStatus is Failed and
// its BackupProgressStatus one of the documented values (NoStart,
// Preparing, Waiting, Uploading, Checking, Finished [BT]), not Failed.
func TestFailedTaskProgressStatus(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.InjectFault(Fault{Action: "CreateBackup", FailJob: true, Times: 1})
	cli := e.cli(t)
	j, err := createBackup(cli, "rm-a")
	noErr(t, err)
	e.clock.Advance(100 * time.Second)
	got := task(t, cli, "rm-a", j)
	documented := []string{"NoStart", "Preparing", "Waiting", "Uploading", "Checking", "Finished"}
	if tea.StringValue(got.BackupStatus) != "Failed" || !slices.Contains(documented, tea.StringValue(got.BackupProgressStatus)) {
		t.Fatalf("failed task: %v", got)
	}
}

// TestMasterInstanceId: a read-only instance names its primary, which lists
// it in ReadOnlyDBInstanceIds (cloud-fidelity.md A5).
func TestMasterInstanceId(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-primary"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-ro", DBInstanceType: "Readonly", MasterInstanceId: "rm-primary"})
	cli := e.cli(t)
	ro, err := cli.DescribeDBInstanceAttribute(&rds.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String("rm-ro")})
	noErr(t, err)
	if got := tea.StringValue(ro.Body.Items.DBInstanceAttribute[0].MasterInstanceId); got != "rm-primary" {
		t.Errorf("MasterInstanceId = %q", got)
	}
	p, err := cli.DescribeDBInstanceAttribute(&rds.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String("rm-primary")})
	noErr(t, err)
	ids := p.Body.Items.DBInstanceAttribute[0].ReadOnlyDBInstanceIds.ReadOnlyDBInstanceId
	if len(ids) != 1 || tea.StringValue(ids[0].DBInstanceId) != "rm-ro" {
		t.Errorf("ReadOnlyDBInstanceIds = %v", ids)
	}
	list, err := cli.DescribeDBInstances(&rds.DescribeDBInstancesRequest{RegionId: tea.String("cn-hangzhou")})
	noErr(t, err)
	for _, in := range list.Body.Items.DBInstance {
		if tea.StringValue(in.DBInstanceId) == "rm-ro" && tea.StringValue(in.MasterInstanceId) != "rm-primary" {
			t.Errorf("DescribeDBInstances: MasterInstanceId = %q", tea.StringValue(in.MasterInstanceId))
		}
	}
}

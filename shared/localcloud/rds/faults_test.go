package rds

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

func TestFaults(t *testing.T) {
	const attr = "DescribeDBInstanceAttribute"
	type step struct {
		instance   string
		wantCode   string // "" = success; "!" = a non-SDKError error
		wantStatus int
	}
	cases := []struct {
		name  string
		fault Fault
		steps []step
	}{
		{"2 failures then success", Fault{Action: attr, Status: 503, Code: "ServiceUnavailable", Times: 2},
			[]step{{"rm-a", "ServiceUnavailable", 503}, {"rm-a", "ServiceUnavailable", 503}, {"rm-a", "", 0}}},
		{"status from code", Fault{Action: attr, Code: "InvokeProxyFailure", Times: 1},
			[]step{{"rm-a", "InvokeProxyFailure", 500}, {"rm-a", "", 0}}},
		{"throttling code", Fault{Action: attr, Status: 400, Code: "Throttling.User", Times: 1},
			[]step{{"rm-a", "Throttling.User", 400}, {"rm-a", "", 0}}},
		{"one instance only", Fault{Action: attr, DBInstanceId: "rm-b", Code: "InternalError", Times: 1},
			[]step{{"rm-a", "", 0}, {"rm-b", "InternalError", 500}, {"rm-b", "", 0}}},
		{"other action untouched", Fault{Action: "CreateBackup", Code: "InternalError"},
			[]step{{"rm-a", "", 0}, {"rm-a", "", 0}}},
		{"Times 0 is every call", Fault{Code: "InternalError", Status: 500},
			[]step{{"rm-a", "InternalError", 500}, {"rm-b", "InternalError", 500}, {"rm-a", "InternalError", 500}}},
		{"drop", Fault{Action: attr, Drop: true, Times: 1},
			[]step{{"rm-a", "!", 0}, {"rm-a", "", 0}}},
		{"one region down", Fault{RegionId: "cn-shanghai", Drop: true},
			[]step{{"rm-a", "", 0}, {"rm-sh", "!", 0}, {"rm-b", "", 0}, {"rm-sh", "!", 0}}},
		{"HTML 502", Fault{Action: attr, Status: 502, Times: 1},
			[]step{{"rm-a", "!", 0}, {"rm-a", "", 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
			e.srv.AddInstance(Instance{DBInstanceId: "rm-b"})
			e.srv.AddInstance(Instance{DBInstanceId: "rm-sh", RegionId: "cn-shanghai"})
			e.srv.InjectFault(tc.fault)
			cli := e.cli(t)
			for i, st := range tc.steps {
				err := attribute(cli, st.instance)
				switch st.wantCode {
				case "":
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				case "!":
					if _, _, isSDK := sdkError(err); err == nil || isSDK {
						t.Fatalf("step %d: err = %v, want a non-SDKError error", i, err)
					}
				default:
					wantErr(t, err, st.wantCode, st.wantStatus)
				}
			}
			calls := e.srv.Calls()
			if len(calls) != len(tc.steps) {
				t.Fatalf("calls = %d, want %d", len(calls), len(tc.steps))
			}
			for i, st := range tc.steps {
				if tc.fault.Drop && st.wantCode == "!" && (calls[i].Status != 0 || !calls[i].Fault) {
					t.Errorf("dropped call %d logged as %+v", i, calls[i])
				}
			}
		})
	}
}

// A fault scoped to a region takes the calls counted in it: a call naming
// RegionId (DescribeDBInstances) by that, one naming an instance by the
// instance's region; the other regions' calls are served.
func TestFaultOfOneRegion(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-hz"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-sh", RegionId: "cn-shanghai"})
	e.srv.InjectFault(Fault{RegionId: "cn-shanghai", Code: "ServiceUnavailable", Status: 503})
	cli := e.cli(t)
	list := func(region string) error {
		_, err := cli.DescribeDBInstances(&rds.DescribeDBInstancesRequest{RegionId: tea.String(region)})
		return err
	}
	noErr(t, list("cn-hangzhou"))
	wantErr(t, list("cn-shanghai"), "ServiceUnavailable", 503)
	_, err := createBackup(cli, "rm-hz")
	noErr(t, err)
	_, err = createBackup(cli, "rm-sh")
	wantErr(t, err, "ServiceUnavailable", 503)
	if got := e.srv.CreatedBackups(); got["rm-sh"] != 0 || got["rm-hz"] != 1 {
		t.Errorf("backups made %v, want rm-hz's only", got)
	}
}

func TestFaultAfterSignature(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.InjectFault(Fault{Code: "InternalError", Times: 1})
	bad := e.cred
	bad.AccessKeySecret = "wrong"
	wantErr(t, attribute(e.client(t, bad, false), "rm-a"), "SignatureDoesNotMatch", 400)
	wantErr(t, attribute(e.cli(t), "rm-a"), "InternalError", 500) // the fault was still there
	noErr(t, attribute(e.cli(t), "rm-a"))
	e.srv.InjectFault(Fault{Code: "InternalError"})
	e.srv.ClearFaults()
	noErr(t, attribute(e.cli(t), "rm-a"))
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.InjectFault(Fault{Action: "DescribeDBInstanceAttribute", LatencyMs: 40, Times: 1})
	cli := e.cli(t)
	noErr(t, attribute(cli, "rm-a"))
	noErr(t, attribute(cli, "rm-a"))
	calls := e.srv.Calls()
	// A timer never fires early, so the first call lasted at least the
	// latency; the log says which call waited.
	if d := calls[0].End.Sub(calls[0].Start); d < 40*time.Millisecond || !calls[0].Fault || calls[0].Status != 200 || calls[0].Latency != 40 {
		t.Errorf("first call %+v took %v", calls[0], d)
	}
	if calls[1].Fault || calls[1].Latency != 0 {
		t.Errorf("second call %+v", calls[1])
	}
}

// On an InstantLatency clock the latency passes on the clock, at once.
func TestFaultLatencyInstant(t *testing.T) {
	clock := NewFakeClock(t0)
	e := newEnv(t, WithClock(InstantLatency{clock}))
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.InjectFault(Fault{Action: "DescribeDBInstanceAttribute", LatencyMs: 40, Times: 1})
	cli := e.cli(t)
	noErr(t, attribute(cli, "rm-a"))
	if d := clock.Now().Sub(t0); d != 40*time.Millisecond {
		t.Errorf("the slow call moved the clock by %v, want 40ms", d)
	}
	noErr(t, attribute(cli, "rm-a"))
	if d := clock.Now().Sub(t0); d != 40*time.Millisecond {
		t.Errorf("after the second call the clock moved by %v in all, want still 40ms", d)
	}
	if c := e.srv.Calls()[0]; !c.Fault || c.Status != 200 || c.Latency != 40 {
		t.Errorf("first call %+v", c)
	}
}

func TestFaultAutoretry(t *testing.T) {
	// The SDK retries 5xx only with Autoretry; 1 + MaxAttempts tries.
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.InjectFault(Fault{Action: "CreateBackup", Code: "InvokeProxyFailure", Times: 2})
	resp, err := e.cli(t).CreateBackupWithOptions(&rds.CreateBackupRequest{DBInstanceId: tea.String("rm-a")},
		&util.RuntimeOptions{Autoretry: tea.Bool(true), MaxAttempts: tea.Int(3)})
	noErr(t, err)
	if tea.StringValue(resp.Body.BackupJobId) == "" {
		t.Fatal("no job id")
	}
	if got := e.srv.Counts()["CreateBackup"]; got != 3 {
		t.Errorf("CreateBackup calls = %d, want 3", got)
	}
	if got := e.srv.CreatedBackups()["rm-a"]; got != 1 {
		t.Errorf("CreatedBackups = %d, want 1", got)
	}
}

func TestFailJob(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.InjectFault(Fault{Action: "CreateBackup", FailJob: true, Times: 1})
	cli := e.cli(t)
	// A refused call does not take the FailJob fault.
	_, err := cli.CreateBackup(&rds.CreateBackupRequest{DBInstanceId: tea.String("rm-a"), BackupMethod: tea.String("Nope")})
	wantErr(t, err, "InvalidBackupMethod.ValueNotSupport", 400)
	failed, err := createBackup(cli, "rm-a")
	noErr(t, err)
	e.clock.Advance(50 * time.Second)
	if j := task(t, cli, "rm-a", failed); tea.StringValue(j.BackupStatus) != "Uploading" {
		t.Fatalf("midway: %v", j)
	}
	e.clock.Advance(50 * time.Second)
	j := task(t, cli, "rm-a", failed)
	if tea.StringValue(j.BackupStatus) != "Failed" || tea.StringValue(j.BackupId) != "" {
		t.Fatalf("ended: %v", j)
	}
	ok, err := createBackup(cli, "rm-a") // the fault is used up
	noErr(t, err)
	e.clock.Advance(100 * time.Second)
	if j := task(t, cli, "rm-a", ok); tea.StringValue(j.BackupStatus) != "Finished" {
		t.Fatalf("second job: %v", j)
	}
	resp, err := cli.DescribeBackups(&rds.DescribeBackupsRequest{DBInstanceId: tea.String("rm-a")})
	noErr(t, err)
	var statuses []string
	for _, b := range resp.Body.Items.Backup {
		statuses = append(statuses, fmt.Sprintf("%s/%d", tea.StringValue(b.BackupStatus), tea.Int32Value(b.IsAvail)))
	}
	if len(statuses) != 2 || statuses[0] != "Success/1" || statuses[1] != "Failed/0" {
		t.Errorf("backup sets = %v", statuses)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, WithRateLimit(3))
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	cli := e.cli(t)
	for i := range 3 {
		if err := attribute(cli, "rm-a"); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	err := attribute(cli, "rm-a")
	wantErr(t, err, "Throttling.User", 400)
	if _, err := createBackup(cli, "rm-a"); err == nil {
		t.Fatal("CreateBackup not throttled: the limit is over all actions")
	}
	e.clock.Advance(time.Second / 3)
	noErr(t, attribute(cli, "rm-a"))
	wantErr(t, attribute(cli, "rm-a"), "Throttling.User", 400)
	e.clock.Advance(10 * time.Second) // refills to the bucket's size, no more
	for range 3 {
		noErr(t, attribute(cli, "rm-a"))
	}
	wantErr(t, attribute(cli, "rm-a"), "Throttling.User", 400)
}

// TestFaultAfter: with after the action runs and only its answer is lost,
// through the official SDK.
func TestFaultAfter(t *testing.T) {
	t.Run("drop: the job exists, the caller saw a network error", func(t *testing.T) {
		e := newEnv(t)
		e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
		e.srv.InjectFault(Fault{Action: "CreateBackup", DBInstanceId: "rm-a", Drop: true, After: true, Times: 1})
		cli := e.cli(t)
		_, err := createBackup(cli, "rm-a")
		if _, _, isSDK := sdkError(err); err == nil || isSDK {
			t.Fatalf("err = %v, want a network error", err)
		}
		if got := e.srv.CreatedBackups()["rm-a"]; got != 1 {
			t.Fatalf("CreatedBackups = %d, want 1: the action must run before the answer is lost", got)
		}
		jobs := e.srv.Jobs("rm-a")
		if len(jobs) != 1 || jobs[0].BackupJobId != "5073731" {
			t.Fatalf("jobs = %+v", jobs)
		}
		// Asking again meets the job the lost answer named.
		_, err = createBackup(cli, "rm-a")
		wantErr(t, err, "BackupJobExists", 400)
		calls := e.srv.Calls()
		if len(calls) != 2 || calls[0].Status != 0 || !calls[0].Fault || !calls[0].Performed || calls[1].Fault {
			t.Errorf("calls = %+v", calls)
		}
	})
	t.Run("code: the job exists, the caller saw the error", func(t *testing.T) {
		e := newEnv(t)
		e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
		e.srv.InjectFault(Fault{Action: "CreateBackup", Code: "InvokeProxyFailure", After: true, Times: 1})
		_, err := createBackup(e.cli(t), "rm-a")
		wantErr(t, err, "InvokeProxyFailure", 500)
		if got := e.srv.CreatedBackups()["rm-a"]; got != 1 {
			t.Fatalf("CreatedBackups = %d, want 1", got)
		}
	})
	t.Run("SDK autoretry after a lost answer meets its own job", func(t *testing.T) {
		e := newEnv(t)
		e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
		e.srv.InjectFault(Fault{Action: "CreateBackup", Status: 503, Code: "ServiceUnavailable", After: true, Times: 1})
		_, err := e.cli(t).CreateBackupWithOptions(&rds.CreateBackupRequest{DBInstanceId: tea.String("rm-a")},
			&util.RuntimeOptions{Autoretry: tea.Bool(true), MaxAttempts: tea.Int(3)})
		wantErr(t, err, "BackupJobExists", 400)
		if got := e.srv.CreatedBackups()["rm-a"]; got != 1 {
			t.Fatalf("CreatedBackups = %d, want 1", got)
		}
	})
	t.Run("HTML status", func(t *testing.T) {
		e := newEnv(t)
		e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
		e.srv.InjectFault(Fault{Action: "CreateBackup", Status: 502, After: true, Times: 1})
		_, err := createBackup(e.cli(t), "rm-a")
		if _, _, isSDK := sdkError(err); err == nil || isSDK {
			t.Fatalf("err = %v, want a non-SDKError error", err)
		}
		if got := e.srv.CreatedBackups()["rm-a"]; got != 1 {
			t.Fatalf("CreatedBackups = %d, want 1", got)
		}
	})
}

// TestFaultRate: a rate fault fires on a share of the calls, decided by a
// seeded generator: the same seed gives the same calls.
func TestFaultRate(t *testing.T) {
	pattern := func(seed uint64) string {
		e := newEnv(t, WithFaultSeed(seed))
		e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
		e.srv.InjectFault(Fault{Action: "DescribeDBInstanceAttribute", Code: "ServiceUnavailable", Rate: 0.5})
		cli := e.cli(t)
		out := make([]byte, 40)
		for i := range out {
			err := attribute(cli, "rm-a")
			switch code, status, _ := sdkError(err); {
			case err == nil:
				out[i] = '.'
			case code == "ServiceUnavailable" && status == 503:
				out[i] = 'x'
			default:
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if f := e.srv.Faults(); len(f) != 1 || f[0].Fired != strings.Count(string(out), "x") {
			t.Errorf("faults = %+v for %s", f, out)
		}
		return string(out)
	}
	a, b := pattern(7), pattern(7)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "x"); n == 0 || n == len(a) {
		t.Errorf("rate 0.5 fired on %d of %d calls: %s", n, len(a), a)
	}
	if c := pattern(8); c == a {
		t.Errorf("seeds 7 and 8 gave the same 40 decisions %s", a)
	}
}

// TestFaultRateAndTimes: times counts the calls the fault fired on.
func TestFaultRateAndTimes(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.InjectFault(Fault{Action: "DescribeDBInstanceAttribute", Code: "InternalError", Rate: 0.3, Times: 2})
	cli := e.cli(t)
	failed := 0
	for range 60 {
		if attribute(cli, "rm-a") != nil {
			failed++
		}
	}
	if failed != 2 || len(e.srv.Faults()) != 0 {
		t.Errorf("failed %d calls, faults left %+v; want 2 and none", failed, e.srv.Faults())
	}
}

func TestFaultCheck(t *testing.T) {
	cases := []struct {
		f     Fault
		field string // "" = valid
	}{
		{Fault{Action: "CreateBackup", Code: "InternalError", Rate: 0.5, Times: 3, LatencyMs: 10}, ""},
		{Fault{Action: "CreateBackup", Drop: true, After: true}, ""},
		{Fault{Action: "CreateBackup", Status: 502, After: true}, ""},
		{Fault{Action: "CreateBackup", FailJob: true, Times: 1}, ""},
		{Fault{LatencyMs: 5}, ""},
		{Fault{Action: "CreateBackups"}, "action:"},
		{Fault{Rate: 1.5}, "rate:"},
		{Fault{Rate: -0.1}, "rate:"},
		{Fault{Times: -1}, "times:"},
		{Fault{LatencyMs: -1}, "latencyMs:"},
		{Fault{Status: 99}, "status:"},
		{Fault{Status: 600}, "status:"},
		{Fault{Drop: true, Code: "InternalError"}, "drop:"},
		{Fault{After: true}, "after:"},
		{Fault{After: true, Status: 200}, "after:"},
		{Fault{Action: "DescribeBackups", FailJob: true}, "failJob:"},
		{Fault{FailJob: true, Drop: true}, "failJob:"},
	}
	for _, tc := range cases {
		err := tc.f.Check()
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.f, err)
		case tc.field != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.field)):
			t.Errorf("%+v: err = %v, want one naming %s", tc.f, err, tc.field)
		}
	}
}

func TestFaultsInState(t *testing.T) {
	e := newEnv(t)
	e.srv.InjectFault(Fault{Action: "CreateBackup", Code: "InternalError", Rate: 0.25, Times: 2, Latency: 30 * time.Millisecond})
	raw, err := json.Marshal(e.srv.State())
	if err != nil {
		t.Fatal(err)
	}
	want := `"faults":[{"action":"CreateBackup","code":"InternalError","times":2,"rate":0.25,"latencyMs":30,"left":2,"fired":0}]`
	if !strings.Contains(string(raw), want) {
		t.Errorf("state %s\nlacks %s", raw, want)
	}
	e.srv.ClearFaults()
	raw, _ = json.Marshal(e.srv.State())
	if !strings.Contains(string(raw), `"faults":[]`) {
		t.Errorf("state after ClearFaults: %s", raw)
	}
}

// TestObserver: the observer sees each call that reaches its action, before
// and after; dropping before skips the action, dropping after loses only the
// answer.
func TestObserver(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	dropAt := map[string]bool{}
	obs := func(ev CallEvent) bool {
		mu.Lock()
		defer mu.Unlock()
		key := fmt.Sprintf("%s %s %s %s", ev.Phase, ev.Action, ev.DBInstanceId, ev.Code)
		seen = append(seen, key)
		return dropAt[key]
	}
	e := newEnv(t, WithObserver(obs))
	e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-b"})
	e.srv.InjectFault(Fault{Action: "DescribeDBInstanceAttribute", Code: "InternalError", Times: 1})
	cli := e.cli(t)
	wantErr(t, attribute(cli, "rm-a"), "InternalError", 500) // answered by the fault: not observed
	noErr(t, attribute(cli, "rm-a"))
	mu.Lock()
	dropAt["before CreateBackup rm-a "] = true
	dropAt["after CreateBackup rm-b "] = true
	mu.Unlock()
	if _, err := createBackup(cli, "rm-a"); err == nil {
		t.Fatal("dropped before: no error")
	}
	if _, err := createBackup(cli, "rm-b"); err == nil {
		t.Fatal("dropped after: no error")
	}
	if got := e.srv.CreatedBackups(); got["rm-a"] != 0 || got["rm-b"] != 1 {
		t.Errorf("CreatedBackups = %v, want rm-b only", got)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"before DescribeDBInstanceAttribute rm-a ", "after DescribeDBInstanceAttribute rm-a ",
		"before CreateBackup rm-a ",
		"before CreateBackup rm-b ", "after CreateBackup rm-b ",
	}
	if !slices.Equal(seen, want) {
		t.Errorf("observed %q\nwant %q", seen, want)
	}
}

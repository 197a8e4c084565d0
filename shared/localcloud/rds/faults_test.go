package rds

import (
	"fmt"
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
		{"HTML 502", Fault{Action: attr, Status: 502, Times: 1},
			[]step{{"rm-a", "!", 0}, {"rm-a", "", 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.AddInstance(Instance{DBInstanceId: "rm-a"})
			e.srv.AddInstance(Instance{DBInstanceId: "rm-b"})
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
			if tc.fault.Drop && (calls[0].Status != 0 || !calls[0].Fault) {
				t.Errorf("dropped call logged as %+v", calls[0])
			}
		})
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
	start := time.Now()
	noErr(t, attribute(cli, "rm-a"))
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("call took %v, want >= 40ms", d)
	}
	noErr(t, attribute(cli, "rm-a"))
	calls := e.srv.Calls()
	if d := calls[0].End.Sub(calls[0].Start); d < 40*time.Millisecond || !calls[0].Fault || calls[0].Status != 200 {
		t.Errorf("first call %+v took %v", calls[0], d)
	}
	if d := calls[1].End.Sub(calls[1].Start); d >= 40*time.Millisecond || calls[1].Fault {
		t.Errorf("second call %+v took %v", calls[1], d)
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

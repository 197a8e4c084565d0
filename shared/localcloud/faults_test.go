package localcloud

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// testCloud starts the emulators (no functions) with fleet, and an admin
// API in front of them.
func testCloud(t *testing.T, fleet Fleet) (*Cloud, string) {
	t.Helper()
	if fleet.Region == "" {
		fleet.Region = "cn-hangzhou"
	}
	c, err := StartCloud(fleet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	admin := httptest.NewServer((&Stack{Cloud: c}).adminHandler())
	t.Cleanup(admin.Close)
	return c, admin.URL
}

// rdsClient is the official RDS SDK client a user gets from serve's line.
func rdsClient(t *testing.T, c *Cloud) *rdssdk.Client {
	t.Helper()
	cli, err := rdssdk.NewClient(&openapi.Config{
		AccessKeyId: tea.String(c.User.AccessKeyID), AccessKeySecret: tea.String(c.User.AccessKeySecret),
		Endpoint: tea.String(c.RDS.Endpoint()), Protocol: tea.String("http"), RegionId: tea.String(c.Fleet.Region),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// mnsQueue is the official MNS SDK's queue a user gets from serve's line.
func mnsQueue(c *Cloud, name string) ali_mns.AliMNSQueue {
	client := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: c.MNS.Endpoint(), AccessKeyId: c.User.AccessKeyID, AccessKeySecret: c.User.AccessKeySecret, TimeoutSecond: 5,
	})
	return ali_mns.NewMNSQueue(name, client)
}

func createBackup(cli *rdssdk.Client, id string) error {
	_, err := cli.CreateBackup(&rdssdk.CreateBackupRequest{DBInstanceId: tea.String(id)})
	return err
}

func sdkCode(err error) (string, int) {
	var se *tea.SDKError
	if !errors.As(err, &se) {
		return "", 0
	}
	return tea.StringValue(se.Code), tea.IntValue(se.StatusCode)
}

func admin(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var oneInstance = []rds.Instance{{DBInstanceId: "rm-a", RegionId: "cn-hangzhou"}}

// TestAdminFaultsAfter: faults added at runtime through POST /faults lose
// the answer after the action ran, for RDS and MNS, as the official SDKs
// see it; GET /state lists them; DELETE /faults clears them.
func TestAdminFaultsAfter(t *testing.T) {
	c, url := testCloud(t, Fleet{Instances: oneInstance})
	status, body := admin(t, "POST", url+"/faults", `{
	  "faults": [{"action":"CreateBackup","DBInstanceId":"rm-a","drop":true,"after":true,"times":1}],
	  "mnsFaults": [{"queue":"rds-backup-notify","action":"SendMessage","status":503,"code":"ServiceUnavailable","after":true,"times":1},
	                {"queue":"rds-backup-work","action":"SendMessage","code":"InternalError","rate":0.5}]}`)
	if status != 200 {
		t.Fatalf("POST /faults: %d %s", status, body)
	}
	_, st := admin(t, "GET", url+"/state", "")
	var state struct{ Faults FaultsState }
	if err := json.Unmarshal([]byte(st), &state); err != nil {
		t.Fatal(err)
	}
	if len(state.Faults.RDS) != 1 || !state.Faults.RDS[0].After || len(state.Faults.MNS) != 2 || state.Faults.MNS[1].Rate != 0.5 {
		t.Fatalf("faults in /state: %+v", state.Faults)
	}

	// RDS: the job is made, the answer is lost.
	cli := rdsClient(t, c)
	err := createBackup(cli, "rm-a")
	if code, _ := sdkCode(err); err == nil || code != "" {
		t.Fatalf("CreateBackup: %v, want a network error", err)
	}
	if n := c.RDS.CreatedBackups()["rm-a"]; n != 1 {
		t.Fatalf("backups created = %d, want 1", n)
	}
	if code, status := sdkCode(createBackup(cli, "rm-a")); code != "BackupJobExists" || status != 400 {
		t.Fatalf("second CreateBackup: %s %d", code, status)
	}

	// MNS: the message is enqueued, the caller gets the error.
	_, err = mnsQueue(c, NotifyQueue).SendMessage(ali_mns.MessageSendRequest{MessageBody: "outcome"})
	if err == nil || !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Fatalf("SendMessage: %v", err)
	}
	if msgs := c.MNS.Messages(NotifyQueue); len(msgs) != 1 || msgs[0].Body != "outcome" {
		t.Fatalf("notify queue holds %+v", msgs)
	}
	// The rate fault on the work queue fires on some sends only.
	failed := 0
	for range 20 {
		if _, err := mnsQueue(c, WorkQueue).SendMessage(ali_mns.MessageSendRequest{MessageBody: "w"}); err != nil {
			failed++
		}
	}
	if failed == 0 || failed == 20 {
		t.Errorf("rate 0.5 failed %d of 20 sends", failed)
	}

	if status, body := admin(t, "DELETE", url+"/faults", ""); status != 200 || !strings.Contains(body, `"rds":[]`) || !strings.Contains(body, `"mns":[]`) {
		t.Fatalf("DELETE /faults: %d %s", status, body)
	}
	if _, err := mnsQueue(c, WorkQueue).SendMessage(ali_mns.MessageSendRequest{MessageBody: "w"}); err != nil {
		t.Fatalf("send after DELETE /faults: %v", err)
	}
}

// TestAdminFaultsBadInput: every mistake is a 400 that names the field, and
// nothing of a bad body is added.
func TestAdminFaultsBadInput(t *testing.T) {
	c, url := testCloud(t, Fleet{Instances: oneInstance})
	cases := []struct{ body, want string }{
		{``, "body: empty"},
		{`{}`, "body: nothing to add"},
		{`[]`, "body: must be a JSON object"},
		{`{"faults":[{"action":"CreateBackup","code":"InternalError"}]} {}`, "body: trailing data"},
		{`{"fault":[]}`, "fault: unknown field"},
		{`{"faults":[{"action":"CreateBackup","cod":"X"}]}`, "cod: unknown field"},
		{`{"faults":[{"action":"CreateBackup","rate":"half"}]}`, "faults.rate: must be a JSON number"},
		{`{"faults":[{"action":"CreateBackup","code":"InternalError","rate":2}]}`, "faults[0].rate: must be a probability"},
		{`{"faults":[{"action":"CreateBackups","code":"InternalError"}]}`, "faults[0].action: unknown RDS action"},
		{`{"faults":[{"action":"CreateBackup","after":true}]}`, "faults[0].after: needs drop"},
		{`{"faults":[{"action":"CreateBackup"}]}`, "faults[0]: does nothing"},
		{`{"faults":[{"action":"CreateBackup","drop":true,"code":"X"}]}`, "faults[0].drop:"},
		{`{"faults":[{"action":"CreateBackup","status":42}]}`, "faults[0].status:"},
		{`{"mnsFaults":[{"action":"SendMessage","code":"InternalError","times":-1}]}`, "mnsFaults[0].times:"},
		{`{"mnsFaults":[{"action":"SendMessage","drop":true},{"action":"Send","drop":true}]}`, "mnsFaults[1].action: unknown MNS operation"},
		{`{"mnsFaults":[{"action":"SendMessage","latencyMs":-5}]}`, "mnsFaults[0].latencyMs:"},
		{`{"mnsFaults":[{"action":"SendMessage","after":true}]}`, "mnsFaults[0].after:"},
		{`{"mnsFaults":[{"queue":"q"}]}`, "mnsFaults[0]: does nothing"},
		{`{"otsFaults":[{"action":"PutRow","code":"OTSServerBusy","rate":2}]}`, "otsFaults[0].rate: must be a probability"},
		{`{"otsFaults":[{"action":"PutRow","drop":true},{"action":"PutRows","drop":true}]}`, "otsFaults[1].action: unknown Tablestore operation"},
		{`{"otsFaults":[{"action":"PutRow","drop":true,"code":"OTSServerBusy"}]}`, "otsFaults[0].drop:"},
		{`{"otsFaults":[{"action":"PutRow","after":true}]}`, "otsFaults[0].after:"},
		{`{"otsFaults":[{"table":"asks","status":200}]}`, "otsFaults[0]: does nothing"},
		{`{"otsFaults":[{"action":"PutRow","times":"once"}]}`, "otsFaults.times: must be a JSON number"},
		{`{"otsFaults":[{"action":"PutRow","message":"x"}]}`, "message: unknown field"},
		{`{"stsFaults":[{"action":"AssumeRole","status":42}]}`, "stsFaults[0].status:"},
		{`{"stsFaults":[{"action":"Assume","code":"InternalError"}]}`, "stsFaults[0].action: unknown STS action"},
		{`{"stsFaults":[{"action":"AssumeRole","latencyMs":-1}]}`, "stsFaults[0].latencyMs:"},
		{`{"stsFaults":[{"roleArn":"acs:ram::1234567890123456:role/r"}]}`, "stsFaults[0]: does nothing"},
	}
	for _, tc := range cases {
		status, body := admin(t, "POST", url+"/faults", tc.body)
		var answer struct{ Error string }
		_ = json.Unmarshal([]byte(body), &answer)
		if status != 400 || !strings.HasPrefix(answer.Error, tc.want) {
			t.Errorf("POST %s: %d %s, want 400 starting %q", tc.body, status, body, tc.want)
		}
	}
	if f := c.Faults(); len(f.RDS) != 0 || len(f.MNS) != 0 || len(f.OTS) != 0 || len(f.STS) != 0 {
		t.Errorf("bad bodies added faults: %+v", f)
	}
}

// TestFleetFileFaults: the fleet file's faults and mnsFaults, with rate and
// after, apply from the start; a mistake names the file and the field.
func TestFleetFileFaults(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fleet.json")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"region":"cn-hangzhou","faultSeed":42,
	  "instances":[{"DBInstanceId":"rm-a"}],
	  "faults":[{"action":"CreateBackup","status":500,"code":"InvokeProxyFailure","after":true,"times":1}],
	  "mnsFaults":[{"queue":"rds-backup-notify","action":"SendMessage","drop":true,"after":true,"times":1}]}`)
	fleet, err := LoadFleet(path)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := testCloud(t, fleet)
	if code, status := sdkCode(createBackup(rdsClient(t, c), "rm-a")); code != "InvokeProxyFailure" || status != 500 {
		t.Fatalf("CreateBackup: %s %d", code, status)
	}
	if n := c.RDS.CreatedBackups()["rm-a"]; n != 1 {
		t.Fatalf("backups created = %d, want 1 (after: the job is made)", n)
	}
	// The dropped answer of an enqueued message: fasthttp resends, two copies.
	if _, err := mnsQueue(c, NotifyQueue).SendMessage(ali_mns.MessageSendRequest{MessageBody: "o"}); err != nil {
		t.Fatal(err)
	}
	if n := len(c.MNS.Messages(NotifyQueue)); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}

	for body, want := range map[string]string{
		`{"faults":[{"action":"CreateBackup","rate":1.5,"code":"X"}]}`: "faults[0].rate:",
		`{"mnsFaults":[{"action":"SendMessage","tims":1}]}`:            `unknown field "tims"`,
	} {
		write(body)
		if _, err := LoadFleet(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadFleet(%s) = %v, want an error naming %s and %q", body, err, path, want)
		}
	}
}

func attribute(cli *rdssdk.Client, id string) error {
	_, err := cli.DescribeDBInstanceAttribute(&rdssdk.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String(id)})
	return err
}

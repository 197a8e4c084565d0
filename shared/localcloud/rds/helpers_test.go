package rds

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

// t0 is the fake clock's start: a Monday, 01:00 UTC.
var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

type env struct {
	srv   *Server
	clock *FakeClock
	store *auth.Store
	cred  auth.Credential
}

// newEnv starts a server on a fake clock with a 100 s backup duration and a
// store the test can issue keys from; opts come last and may override.
func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	clock := NewFakeClock(t0)
	store := auth.NewStore(clock.Now)
	cred := store.NewAccessKey()
	base := []Option{WithClock(clock), WithCredentials(store), WithBackupDuration(100 * time.Second)}
	srv := NewServer(append(base, opts...)...)
	t.Cleanup(srv.Close)
	return &env{srv: srv, clock: clock, store: store, cred: cred}
}

// client is the SDK client for cred; v2 selects legacy RPC signing.
func (e *env) client(t *testing.T, cred auth.Credential, v2 bool) *rds.Client {
	t.Helper()
	return newClient(t, e.srv.Endpoint(), cred, v2)
}

func (e *env) cli(t *testing.T) *rds.Client { return e.client(t, e.cred, false) }

func newClient(t *testing.T, endpoint string, cred auth.Credential, v2 bool) *rds.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     tea.String(cred.AccessKeyID),
		AccessKeySecret: tea.String(cred.AccessKeySecret),
		Endpoint:        tea.String(endpoint),
		Protocol:        tea.String("http"),
		RegionId:        tea.String("cn-hangzhou"),
	}
	if cred.SecurityToken != "" {
		cfg.SecurityToken = tea.String(cred.SecurityToken)
	}
	if v2 {
		cfg.SignatureAlgorithm = tea.String("v2")
	}
	cli, err := rds.NewClient(cfg)
	if err != nil {
		t.Fatalf("rds.NewClient: %v", err)
	}
	return cli
}

// sdkError returns the SDKError's code and status; ok is false for any other
// error (or nil).
func sdkError(err error) (code string, status int, ok bool) {
	var se *tea.SDKError
	if !errors.As(err, &se) {
		return "", 0, false
	}
	return tea.StringValue(se.Code), tea.IntValue(se.StatusCode), true
}

// wantErr fails unless err is an SDKError with code and status.
func wantErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	got, st, ok := sdkError(err)
	if !ok {
		t.Fatalf("err = %v (%T), want SDKError %s/%d", err, err, code, status)
	}
	if got != code || st != status {
		t.Fatalf("SDKError = %s/%d, want %s/%d\n%v", got, st, code, status, err)
	}
}

// wantMessage fails unless err is an SDKError whose server message is msg.
func wantMessage(t *testing.T, err error, msg string) {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want an SDKError", err)
	}
	var data struct{ Message string }
	if e := json.Unmarshal([]byte(tea.StringValue(se.Data)), &data); e != nil || data.Message != msg {
		t.Fatalf("Message = %q (%v), want %q", data.Message, e, msg)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// callAPI sends an arbitrary RPC action through the SDK's generic CallApi.
func callAPI(cli *rds.Client, action, version, authType string, query, headers map[string]*string) error {
	params := &openapi.Params{
		Action: tea.String(action), Version: tea.String(version), Protocol: tea.String("HTTPS"),
		Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String(authType),
		Style: tea.String("RPC"), ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
	}
	_, err := cli.CallApi(params, &openapi.OpenApiRequest{Query: query, Headers: headers}, &util.RuntimeOptions{})
	return err
}

func createBackup(cli *rds.Client, id string) (string, error) {
	resp, err := cli.CreateBackup(&rds.CreateBackupRequest{DBInstanceId: tea.String(id)})
	if err != nil {
		return "", err
	}
	return tea.StringValue(resp.Body.BackupJobId), nil
}

func attribute(cli *rds.Client, id string) error {
	_, err := cli.DescribeDBInstanceAttribute(&rds.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String(id)})
	return err
}

// task returns the job through DescribeBackupTasks with its BackupJobId.
func task(t *testing.T, cli *rds.Client, id, jobID string) *rds.DescribeBackupTasksResponseBodyItemsBackupJob {
	t.Helper()
	n, err := parseJobID(jobID)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cli.DescribeBackupTasks(&rds.DescribeBackupTasksRequest{DBInstanceId: tea.String(id), BackupJobId: tea.Int32(n)})
	noErr(t, err)
	jobs := resp.Body.Items.BackupJob
	if len(jobs) != 1 {
		t.Fatalf("DescribeBackupTasks(%s) = %d jobs, want 1", jobID, len(jobs))
	}
	return jobs[0]
}

func parseJobID(s string) (int32, error) {
	var n int32
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("job id not numeric: " + s)
		}
		n = n*10 + int32(c-'0')
	}
	return n, nil
}

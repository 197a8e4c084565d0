package rdsclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// stub is an httptest RDS that answers each action with a script and
// records what the SDK sent.
type stub struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	answers map[string]func(q url.Values) (status int, contentType, body string)
	seen    []seenReq
}

type seenReq struct {
	Action string
	Query  url.Values
	Header http.Header
}

func newStub(t *testing.T) *stub {
	s := &stub{t: t, answers: map[string]func(url.Values) (int, string, string){}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := r.Header.Get("x-acs-action")
		s.mu.Lock()
		s.seen = append(s.seen, seenReq{Action: action, Query: r.URL.Query(), Header: r.Header.Clone()})
		f := s.answers[action]
		s.mu.Unlock()
		if f == nil {
			w.WriteHeader(404)
			fmt.Fprintf(w, `{"RequestId":"none","Code":"InvalidAction.NotFound","Message":"%s"}`, action)
			return
		}
		status, ct, body := f(r.URL.Query())
		if ct == "" {
			ct = "application/json;charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) on(action string, f func(q url.Values) (int, string, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[action] = f
}

func (s *stub) json(action string, status int, body string) {
	s.on(action, func(url.Values) (int, string, string) { return status, "", body })
}

func (s *stub) requests(action string) []seenReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []seenReq
	for _, r := range s.seen {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func (s *stub) client(t *testing.T, mod ...func(*rdsclient.Config)) *rdsclient.Client {
	cfg := rdsclient.Config{
		RegionID: "cn-hangzhou", Endpoint: strings.TrimPrefix(s.srv.URL, "http://"), Protocol: "http",
		AccessKeyID: "testAKID", AccessKeySecret: "testSecretKEY",
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := rdsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewCredentials(t *testing.T) {
	home := t.TempDir() // no CLI profile, no credentials file
	clear := func(t *testing.T) {
		t.Setenv("HOME", home)
		for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
			"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
			"ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_PROFILE"} {
			t.Setenv(k, "")
		}
	}
	credFile := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(credFile, []byte("[default]\ntype = access_key\naccess_key_id = a\naccess_key_secret = b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		cfg     rdsclient.Config
		env     map[string]string
		wantErr string
	}{
		"static AK/SK":         {cfg: rdsclient.Config{RegionID: "cn-hangzhou", AccessKeyID: "a", AccessKeySecret: "b"}},
		"static STS":           {cfg: rdsclient.Config{RegionID: "cn-hangzhou", AccessKeyID: "STS.a", AccessKeySecret: "b", SecurityToken: "t"}},
		"AK without SK":        {cfg: rdsclient.Config{AccessKeyID: "a"}, wantErr: "go together"},
		"nothing, no chain":    {cfg: rdsclient.Config{RegionID: "cn-hangzhou"}, wantErr: "ALIBABA_CLOUD_ACCESS_KEY_ID"},
		"chain with no source": {cfg: rdsclient.Config{RegionID: "cn-hangzhou", UseDefaultChain: true}, wantErr: "ALIBABA_CLOUD_ACCESS_KEY_ID"},
		"chain from env": {cfg: rdsclient.Config{RegionID: "cn-hangzhou", UseDefaultChain: true},
			env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "a", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b"}},
		"chain from credentials file": {cfg: rdsclient.Config{RegionID: "cn-hangzhou", UseDefaultChain: true},
			env: map[string]string{"ALIBABA_CLOUD_CREDENTIALS_FILE": credFile}},
		"chain from OIDC": {cfg: rdsclient.Config{RegionID: "cn-hangzhou", UseDefaultChain: true},
			env: map[string]string{"ALIBABA_CLOUD_ROLE_ARN": "r", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "p", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/x"}},
		"bad protocol": {cfg: rdsclient.Config{Protocol: "ftp", AccessKeyID: "a", AccessKeySecret: "b"}, wantErr: "must be http or https"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			clear(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			_, err := rdsclient.New(c.cfg)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("New error = %v, want one containing %q", err, c.wantErr)
			case c.wantErr != "" && retry.Classify(err) != retry.Terminal:
				t.Errorf("construction error classifies as %s, want terminal", retry.Classify(err))
			}
		})
	}
}

// The default chain failing at call time (a credentials file that is not
// what it claims) yields a terminal CredentialsError, not an SDK panic.
func TestDefaultChainFailureAtCallTime(t *testing.T) {
	s := newStub(t)
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_ECS_METADATA"} {
		t.Setenv(k, "")
	}
	bad := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(bad, []byte("[default]\ntype = access_key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", bad)
	c := s.client(t, func(c *rdsclient.Config) { c.AccessKeyID, c.AccessKeySecret, c.UseDefaultChain = "", "", true })
	_, _, err := c.DescribeInstance(context.Background(), "", "rm-1")
	var ce *rdsclient.CredentialsError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want *CredentialsError", err, err)
	}
	if retry.Classify(err) != retry.Terminal {
		t.Errorf("class = %s, want terminal", retry.Classify(err))
	}
	if n := len(s.requests(rdsclient.ActionDescribeDBInstanceAttribute)); n != 0 {
		t.Errorf("%d requests sent without credentials", n)
	}
}

func TestDescribeInstance(t *testing.T) {
	s := newStub(t)
	s.json(rdsclient.ActionDescribeDBInstanceAttribute, 200, `{"RequestId":"R3","Items":{"DBInstanceAttribute":[{"DBInstanceId":"rm-bp1abc","Engine":"MySQL","EngineVersion":"8.0","DBInstanceStatus":"Running","LockMode":"Unlock","LockReason":"","DBInstanceType":"Primary","Category":"HighAvailability","DBInstanceStorageType":"cloud_essd","DBInstanceStorage":100,"RegionId":"cn-hangzhou","DeletionProtection":false}]}}`)
	c := s.client(t)
	f, reqID, err := c.DescribeInstance(context.Background(), "", "rm-bp1abc")
	if err != nil {
		t.Fatal(err)
	}
	want := backup.InstanceFacts{DBInstanceId: "rm-bp1abc", RegionId: "cn-hangzhou", Engine: "MySQL", EngineVersion: "8.0",
		Status: "Running", LockMode: "Unlock", InstanceType: "Primary", Category: "HighAvailability", StorageType: "cloud_essd"}
	if fmt.Sprint(f) != fmt.Sprint(want) || reqID != "R3" {
		t.Errorf("got %+v %q, want %+v R3", f, reqID, want)
	}
	reqs := s.requests(rdsclient.ActionDescribeDBInstanceAttribute)
	if len(reqs) != 1 || reqs[0].Query.Get("DBInstanceId") != "rm-bp1abc" {
		t.Fatalf("requests = %+v", reqs)
	}
	if auth := reqs[0].Header.Get("Authorization"); !strings.HasPrefix(auth, "ACS3-HMAC-SHA256 Credential=testAKID") {
		t.Errorf("Authorization = %q, want ACS3 signing", auth)
	}

	// An answer without the instance is not-found.
	s.json(rdsclient.ActionDescribeDBInstanceAttribute, 200, `{"RequestId":"R4","Items":{"DBInstanceAttribute":[]}}`)
	_, _, err = c.DescribeInstance(context.Background(), "", "rm-gone")
	var ae *rdsclient.APIError
	if !errors.As(err, &ae) || ae.Code != backup.CodeInstanceNotFound || ae.RequestID != "R4" {
		t.Errorf("err = %v, want InvalidDBInstanceId.NotFound with R4", err)
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]struct {
		status   int
		ct, body string
		want     rdsclient.APIError // zero Code: not an APIError
		class    retry.Class
	}{
		"JSON 404": {404, "", `{"RequestId":"E1","HostId":"rds.aliyuncs.com","Code":"InvalidDBInstanceId.NotFound","Message":"Specified instance does not exist or not support.","Recommend":"https://x"}`,
			rdsclient.APIError{Code: "InvalidDBInstanceId.NotFound", Message: "Specified instance does not exist or not support.", RequestID: "E1", HTTPStatus: 404}, retry.Terminal},
		"JSON 403 quota": {403, "", `{"RequestId":"E2","Code":"Exceeded.BackupTimes","Message":"The backup times exceeds."}`,
			rdsclient.APIError{Code: "Exceeded.BackupTimes", Message: "The backup times exceeds.", RequestID: "E2", HTTPStatus: 403}, retry.Terminal},
		"JSON 500 proxy": {500, "", `{"RequestId":"E3","Code":"InvokeProxyFailure","Message":"The request processing has failed due to service failure of rds api."}`,
			rdsclient.APIError{Code: "InvokeProxyFailure", Message: "The request processing has failed due to service failure of rds api.", RequestID: "E3", HTTPStatus: 500}, retry.Transient},
		"JSON throttling": {400, "", `{"RequestId":"E4","Code":"Throttling.User","Message":"Request was denied due to user flow control."}`,
			rdsclient.APIError{Code: "Throttling.User", Message: "Request was denied due to user flow control.", RequestID: "E4", HTTPStatus: 400}, retry.Transient},
		"XML throttling": {400, "text/xml;charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>E5</RequestId><Code>Throttling</Code><Message>Request was denied.</Message></Error>`,
			rdsclient.APIError{Code: "Throttling", Message: "Request was denied.", RequestID: "E5", HTTPStatus: 400}, retry.Transient},
		"empty 503":    {503, "", ``, rdsclient.APIError{}, retry.Transient},
		"HTML 502":     {502, "text/html", `<html>bad gateway</html>`, rdsclient.APIError{}, retry.Transient},
		"non-JSON 200": {200, "", `not json`, rdsclient.APIError{}, retry.Transient},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStub(t)
			s.on(rdsclient.ActionCreateBackup, func(url.Values) (int, string, string) { return c.status, c.ct, c.body })
			_, _, err := s.client(t).CreateBackup(context.Background(), backup.Request{DBInstanceId: "rm-1"})
			if err == nil {
				t.Fatal("want an error")
			}
			var ae *rdsclient.APIError
			isAPI := errors.As(err, &ae)
			if c.want.Code == "" {
				if isAPI {
					t.Errorf("got APIError %v, want a plain wrapped error", ae)
				}
				if !strings.Contains(err.Error(), "CreateBackup rm-1") {
					t.Errorf("error %q does not name the action and instance", err)
				}
			} else {
				if !isAPI {
					t.Fatalf("err = %v (%T), want *APIError", err, err)
				}
				got := *ae
				got.Err, got.Action = nil, ""
				if got != c.want {
					t.Errorf("APIError = %+v, want %+v", got, c.want)
				}
			}
			if cl := retry.Classify(err); cl != c.class {
				t.Errorf("class = %s, want %s", cl, c.class)
			}
			// The SDK's own retries are off: one request per call.
			if n := len(s.requests(rdsclient.ActionCreateBackup)); n != 1 {
				t.Errorf("%d requests, want 1 (SDK autoretry must be off)", n)
			}
		})
	}
}

func TestReadTimeoutIsTransient(t *testing.T) {
	s := newStub(t)
	release := make(chan struct{})
	defer close(release)
	s.on(rdsclient.ActionCreateBackup, func(url.Values) (int, string, string) {
		select {
		case <-release:
		case <-time.After(2 * time.Second):
		}
		return 200, "", `{"RequestId":"late","BackupJobId":"1"}`
	})
	c := s.client(t, func(c *rdsclient.Config) { c.ReadTimeout = 50 * time.Millisecond })
	start := time.Now()
	_, _, err := c.CreateBackup(context.Background(), backup.Request{DBInstanceId: "rm-1"})
	if err == nil {
		t.Fatal("want a timeout")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("timeout took %v", d)
	}
	if cl := retry.Classify(err); cl != retry.Transient {
		t.Errorf("read timeout class = %s (%v), want transient", cl, err)
	}
}

func TestContextCancel(t *testing.T) {
	s := newStub(t)
	release := make(chan struct{})
	defer close(release)
	s.on(rdsclient.ActionDescribeBackupTasks, func(url.Values) (int, string, string) {
		<-release
		return 200, "", `{"RequestId":"x"}`
	})
	c := s.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.OngoingJobs(ctx, "", "rm-1")
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v, want promptly after the context ended", d)
	}
	if cl := retry.Classify(err); cl != retry.Canceled {
		t.Errorf("class = %s (%v), want canceled", cl, err)
	}
	// Already canceled: no request at all.
	before := len(s.requests(rdsclient.ActionDescribeBackupTasks))
	_, _, err = c.OngoingJobs(ctx, "", "rm-1")
	if retry.Classify(err) != retry.Canceled || len(s.requests(rdsclient.ActionDescribeBackupTasks)) != before {
		t.Errorf("call on a dead context: %v", err)
	}
}

func TestCreateBackupWire(t *testing.T) {
	s := newStub(t)
	s.json(rdsclient.ActionCreateBackup, 200, `{"BackupJobId":5073731,"RequestId":"2C125605"}`)
	c := s.client(t, func(c *rdsclient.Config) { c.SecurityToken, c.AccessKeyID = "CAIStoken", "STS.id" })
	r := backup.Request{DBInstanceId: "rm-1", DBName: []string{"a", "b"}, BackupStrategy: "db", BackupMethod: "Logical", RegionId: "cn-shanghai"}
	jobID, reqID, err := c.CreateBackup(context.Background(), r)
	if err != nil || jobID != "5073731" || reqID != "2C125605" {
		t.Fatalf("CreateBackup = %q %q %v", jobID, reqID, err)
	}
	q := s.requests(rdsclient.ActionCreateBackup)[0]
	want := url.Values{"DBInstanceId": {"rm-1"}, "DBName": {"a,b"}, "BackupStrategy": {"db"}, "BackupMethod": {"Logical"}}
	if q.Query.Encode() != want.Encode() {
		t.Errorf("query = %s, want %s", q.Query.Encode(), want.Encode())
	}
	if q.Header.Get("x-acs-security-token") != "CAIStoken" {
		t.Errorf("STS token not sent: %v", q.Header)
	}

	// An accepted answer without a job id is an error with the request id.
	s.json(rdsclient.ActionCreateBackup, 200, `{"RequestId":"R9"}`)
	_, reqID, err = c.CreateBackup(context.Background(), r)
	if err == nil || reqID != "R9" {
		t.Errorf("no job id: %q %v", reqID, err)
	}
}

func TestJobs(t *testing.T) {
	s := newStub(t)
	s.on(rdsclient.ActionDescribeBackupTasks, func(q url.Values) (int, string, string) {
		if q.Get("BackupJobId") == "42" {
			return 200, "", `{"RequestId":"J1","Items":{"BackupJob":[{"BackupJobId":"42","BackupStatus":"Finished","BackupProgressStatus":"Finished","Process":"100","JobMode":"Manual","TaskAction":"TempBackupTask","BackupId":"9001"}]}}`
		}
		if q.Get("BackupJobId") != "" {
			return 200, "", `{"RequestId":"J2","Items":{"BackupJob":[]}}`
		}
		return 200, "", `{"RequestId":"J3","Items":{"BackupJob":[{"BackupJobId":"7","BackupStatus":"Uploading","Process":"25","JobMode":"Manual"},{"BackupJobId":"6","BackupStatus":"Finished","Process":"100"}]}}`
	})
	c := s.client(t)
	ctx := context.Background()

	jobs, reqID, err := c.OngoingJobs(ctx, "", "rm-1")
	if err != nil || reqID != "J3" || len(jobs) != 1 || jobs[0] != (backup.Job{BackupJobId: "7", BackupStatus: "Uploading", Process: "25", JobMode: "Manual"}) {
		t.Errorf("OngoingJobs = %+v %q %v", jobs, reqID, err)
	}
	j, found, reqID, err := c.Job(ctx, "", "rm-1", "42")
	if err != nil || !found || reqID != "J1" || j.BackupId != "9001" || j.BackupStatus != "Finished" || j.Process != "100" {
		t.Errorf("Job(42) = %+v %v %q %v", j, found, reqID, err)
	}
	_, found, _, err = c.Job(ctx, "", "rm-1", "43")
	if err != nil || found {
		t.Errorf("Job(43) found=%v err=%v, want not found", found, err)
	}
	for _, bad := range []string{"", "abc", "-1", "99999999999"} {
		_, _, _, err = c.Job(ctx, "", "rm-1", bad)
		var ce *rdsclient.ConfigError
		if !errors.As(err, &ce) || retry.Classify(err) != retry.Terminal {
			t.Errorf("Job(%q) err = %v, want a terminal ConfigError", bad, err)
		}
	}
}

func TestRecentBackupsPaging(t *testing.T) {
	s := newStub(t)
	const total = 130
	s.on(rdsclient.ActionDescribeBackups, func(q url.Values) (int, string, string) {
		page := q.Get("PageNumber")
		var items []string
		first, last := 1, 100
		if page == "2" {
			first, last = 101, total
		}
		for i := first; i <= last; i++ {
			items = append(items, fmt.Sprintf(`{"BackupId":"%d","BackupStatus":"Success","BackupStartTime":"2024-01-01T01:%02d:00Z","BackupEndTime":"2024-01-01T02:00:00Z","BackupMode":"Manual","BackupMethod":"Physical","BackupType":"FullBackup"}`, i, i%60))
		}
		return 200, "", fmt.Sprintf(`{"RequestId":"P%s","PageNumber":"%s","PageRecordCount":"%d","TotalRecordCount":"%d","Items":{"Backup":[%s]}}`,
			page, page, len(items), total, strings.Join(items, ","))
	})
	c := s.client(t)
	since := time.Date(2024, 1, 1, 0, 30, 59, 0, time.FixedZone("CST", 8*3600))
	sets, reqID, err := c.RecentBackups(context.Background(), "", "rm-1", since)
	if err != nil || len(sets) != total || reqID != "P1" {
		t.Fatalf("RecentBackups: %d sets, %q, %v", len(sets), reqID, err)
	}
	if want := (rdsclient.BackupSet{BackupId: "1", Method: "Physical", Mode: "Manual", Status: "Success", Type: "FullBackup",
		Start: time.Date(2024, 1, 1, 1, 1, 0, 0, time.UTC), End: time.Date(2024, 1, 1, 2, 0, 0, 0, time.UTC)}); sets[0] != want {
		t.Errorf("sets[0] = %+v, want %+v", sets[0], want)
	}
	reqs := s.requests(rdsclient.ActionDescribeBackups)
	if len(reqs) != 2 {
		t.Fatalf("%d DescribeBackups calls, want 2", len(reqs))
	}
	if got := reqs[0].Query.Get("StartTime"); got != "2023-12-31T16:30Z" {
		t.Errorf("StartTime = %q, want UTC minutes 2023-12-31T16:30Z", got)
	}
	if reqs[0].Query.Get("PageSize") != "100" || reqs[1].Query.Get("PageNumber") != "2" {
		t.Errorf("paging = %v / %v", reqs[0].Query, reqs[1].Query)
	}
}

func TestDatabases(t *testing.T) {
	s := newStub(t)
	s.json(rdsclient.ActionDescribeDatabases, 200, `{"RequestId":"D1","Databases":{"Database":[{"DBName":"orders","DBStatus":"Running","Engine":"MySQL"},{"DBName":"billing"}]}}`)
	names, engine, reqID, err := s.client(t).Databases(context.Background(), "", "rm-1")
	if err != nil || reqID != "D1" || strings.Join(names, ",") != "orders,billing" || engine != "MySQL" {
		t.Errorf("Databases = %v %q %q %v", names, engine, reqID, err)
	}
}

func TestListInstances(t *testing.T) {
	s := newStub(t)
	s.json(rdsclient.ActionDescribeDBInstances, 200, `{"RequestId":"L1","PageNumber":2,"PageRecordCount":2,"TotalRecordCount":102,"Items":{"DBInstance":[{"DBInstanceId":"rm-a","Engine":"MySQL","DBInstanceStatus":"Running","LockMode":"Unlock","DBInstanceType":"Primary","DBInstanceStorageType":"local_ssd"},{"DBInstanceId":"rm-b"}]}}`)
	c := s.client(t)
	items, total, reqID, err := c.ListInstances(context.Background(), backup.Selector{RegionId: "cn-shanghai", Engine: "MySQL",
		Tags: map[string]string{"team": "core", "backup": "nightly"}}, 2, 100)
	if err != nil || total != 102 || reqID != "L1" || len(items) != 2 || items[0].DBInstanceId != "rm-a" || items[1].DBInstanceId != "rm-b" {
		t.Fatalf("ListInstances = %v %d %q %v", items, total, reqID, err)
	}
	// The listing's facts come along, so a fan-out item needs no read.
	if f := items[0]; f.Engine != "MySQL" || f.Status != "Running" || f.StorageType != "local_ssd" || f.InstanceType != "Primary" || f.RegionId != "cn-shanghai" {
		t.Errorf("facts of rm-a = %+v", f)
	}
	q := s.requests(rdsclient.ActionDescribeDBInstances)[0].Query
	want := url.Values{"RegionId": {"cn-shanghai"}, "Engine": {"MySQL"}, "Tags": {`{"backup":"nightly","team":"core"}`},
		"PageNumber": {"2"}, "PageSize": {"100"}}
	if q.Encode() != want.Encode() {
		t.Errorf("query = %s, want %s", q.Encode(), want.Encode())
	}
	// No region anywhere: refused before sending.
	c2 := s.client(t, func(c *rdsclient.Config) { c.RegionID = "" })
	if _, _, _, err := c2.ListInstances(context.Background(), backup.Selector{Engine: "MySQL"}, 1, 100); retry.Classify(err) != retry.Terminal {
		t.Errorf("no region: %v", err)
	}
}

func TestWithCredentials(t *testing.T) {
	s := newStub(t)
	s.json(rdsclient.ActionDescribeBackupTasks, 200, `{"RequestId":"x","Items":{"BackupJob":[]}}`)
	base := s.client(t)
	inv, err := base.WithCredentials("STS.inv", "secret", "CAIStok")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := inv.OngoingJobs(context.Background(), "", "rm-1"); err != nil {
		t.Fatal(err)
	}
	h := s.requests(rdsclient.ActionDescribeBackupTasks)[0].Header
	if !strings.Contains(h.Get("Authorization"), "Credential=STS.inv") || h.Get("x-acs-security-token") != "CAIStok" {
		t.Errorf("per-invocation credentials not used: %v", h)
	}
	if _, err := base.WithCredentials("", "", ""); err == nil {
		t.Error("WithCredentials with nothing: want an error")
	}
}

func TestEndpointScheme(t *testing.T) {
	s := newStub(t)
	s.json(rdsclient.ActionDescribeBackupTasks, 200, `{"RequestId":"x"}`)
	c, err := rdsclient.New(rdsclient.Config{Endpoint: s.srv.URL + "/", AccessKeyID: "a", AccessKeySecret: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.OngoingJobs(context.Background(), "", "rm-1"); err != nil {
		t.Fatalf("endpoint with scheme: %v", err)
	}
}

// The SDK's client is not safe for concurrent use; the adapter is (run with
// -race).
func TestConcurrentCalls(t *testing.T) {
	s := newStub(t)
	s.json(rdsclient.ActionDescribeBackupTasks, 200, `{"RequestId":"x","Items":{"BackupJob":[]}}`)
	s.json(rdsclient.ActionDescribeDBInstanceAttribute, 200, `{"RequestId":"y","Items":{"DBInstanceAttribute":[{"Engine":"MySQL","DBInstanceStatus":"Running"}]}}`)
	c := s.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, err := c.OngoingJobs(context.Background(), "", fmt.Sprint("rm-", i))
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, _, err := c.DescribeInstance(context.Background(), "", fmt.Sprint("rm-", i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

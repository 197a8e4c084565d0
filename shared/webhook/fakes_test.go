package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/syncbuf"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// fakeSubmitter implements Submitter: every request is accepted with job
// "job-<instance>", except rm-busy (coalesced onto job-existing) and rm-bad
// (rejected with an instance-stage error).
type fakeSubmitter struct {
	mu    sync.Mutex
	calls []submitCall
	panic bool
}

type submitCall struct {
	Reqs []backup.Request
	Plan backup.Plan
}

func (f *fakeSubmitter) Submit(_ context.Context, _ backup.Trigger, reqs []backup.Request, plan backup.Plan) []backup.Outcome {
	if f.panic {
		panic("submitter exploded")
	}
	f.mu.Lock()
	f.calls = append(f.calls, submitCall{Reqs: reqs, Plan: plan})
	f.mu.Unlock()
	out := make([]backup.Outcome, 0, len(reqs))
	for _, r := range reqs {
		switch r.DBInstanceId {
		case "rm-busy":
			out = append(out, backup.Outcome{Status: backup.StatusCoalesced, Request: r, BackupJobId: "job-existing"})
		case "rm-bad":
			out = append(out, backup.Outcome{Status: backup.StatusRejected, Terminal: true, Request: r,
				Error: &backup.ErrorInfo{Code: backup.CodeReadOnly, Message: "read-only instances cannot be backed up"}})
		default:
			out = append(out, backup.Outcome{Status: backup.StatusAccepted, Request: r, BackupJobId: "job-" + r.DBInstanceId})
		}
	}
	return out
}

func (f *fakeSubmitter) Calls() []submitCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]submitCall(nil), f.calls...)
}

// fakeJobs implements JobReader over a fixed table.
type fakeJobs struct {
	mu    sync.Mutex
	jobs  map[string]backup.Job // instance/job → job
	err   error
	asked []string // region/instance/job
}

func (f *fakeJobs) JobStatus(_ context.Context, region, instance, jobID string) (backup.Job, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, region+"/"+instance+"/"+jobID)
	if f.err != nil {
		return backup.Job{}, false, f.err
	}
	j, ok := f.jobs[instance+"/"+jobID]
	return j, ok, nil
}

// fakeRejects implements RejectSink.
type fakeRejects struct {
	mu   sync.Mutex
	reqs []backup.Request
	errs []*backup.ErrorInfo
}

func (f *fakeRejects) Rejected(_ context.Context, r backup.Request, err *backup.ErrorInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
	f.errs = append(f.errs, err)
}

func (f *fakeRejects) Requests() []backup.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]backup.Request(nil), f.reqs...)
}

var errRDS = errors.New("rds: ServiceUnavailable")

// The test clock: X-Timestamp 1795500000 of testdata/events/http.json.
const nowUnix = 1795500000

var testNow = time.Unix(nowUnix, 0).UTC()

// Secrets of the test routes.
const (
	ghSecret      = "It's a Secret to Everybody" // the GitHub docs' example; signs the fixtures
	glToken       = "It's a Secret to Everybody"
	botSecret     = "release-bot-secret-0123456789"
	opsSecret     = "ops-secret-9876543210"
	defaultSecret = "shared-default-secret-42"
)

const testRoutes = `
routes:
  - name: hello-prod
    source: github
    repository: Codertocat/Hello-World
    environments: [production]
    secretEnv: GH_SECRET
    backups:
      - {DBInstanceId: rm-hello-world-1, BackupMethod: Physical}
    allow: [rm-hello-world-*]
  - name: hello-staging
    source: github
    repository: codertocat/hello-world
    environments: ["stag*"]
    secretEnv: GH_SECRET
    backups:
      - {DBInstanceId: rm-hello-staging}
  - name: gl-deploy
    source: gitlab
    repository: root/test-deployment-webhooks
    organization: root                 # one group hook serves both gitlab routes
    environments: ["*"]
    secretEnv: GL_TOKEN
    backups:
      - {DBInstanceId: rm-gl-1, BackupMethod: Logical, BackupStrategy: db, DBName: orders}
  - name: gl-pipeline
    source: gitlab
    repository: root/*
    organization: root
    environments: [production]
    stage: deploy
    secretEnv: GL_TOKEN
    backups:
      - {DBInstanceId: rm-gl-2}
  - name: release-bot
    source: signed
    secretEnv: BOT_SECRET
    allow: ["rm-demo-*", rm-busy, rm-bad]
  - name: ops
    source: signed
    repository: ops@acme
    secretEnv: OPS_SECRET
    allow: ["*"]
`

// testRegions are the regions the test deployment allows: its own
// (cn-hangzhou) and one configured (cn-shanghai).
var testRegions = backup.Regions{}.With("cn-hangzhou", "cn-shanghai")

var testSecrets = map[string]string{"GH_SECRET": ghSecret, "GL_TOKEN": glToken, "BOT_SECRET": botSecret, "OPS_SECRET": opsSecret}

type harness struct {
	h    *Handler
	sub  *fakeSubmitter
	jobs *fakeJobs
	rej  *fakeRejects
	logs *syncbuf.Buffer
}

func newHarness(t testing.TB, routesDoc string, mod func(*Config)) *harness {
	t.Helper()
	routes, err := LoadRoutes([]byte(routesDoc))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	cfg := Config{
		Routes:  routes,
		Secrets: testSecrets,
		Now:     func() time.Time { return testNow },
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Regions: func(context.Context) backup.Regions { return testRegions },
	}
	if mod != nil {
		mod(&cfg)
	}
	hs := &harness{
		sub: &fakeSubmitter{},
		jobs: &fakeJobs{jobs: map[string]backup.Job{
			"rm-demo-mysql1/1000001": {BackupJobId: "1000001", BackupStatus: "Uploading", Process: "60", JobMode: "Manual"},
			"rm-demo-pg1/1000002":    {BackupJobId: "1000002", BackupStatus: "Finished", Process: "100", BackupId: "b-77"},
		}},
		rej:  &fakeRejects{},
		logs: logs,
	}
	hs.h = New(cfg, hs.sub, hs.jobs, hs.rej)
	return hs
}

// httpEvent builds an FC 3.0 HTTP event.
func httpEvent(method, path, body string, headers map[string]string) events.HTTPEvent {
	if headers == nil {
		headers = map[string]string{}
	}
	return events.HTTPEvent{
		Version:         "v1",
		RawPath:         path,
		Body:            body,
		Headers:         headers,
		QueryParameters: map[string]string{},
		RequestContext: events.HTTPRequestContext{
			AccountID: "1649015465570001", DomainName: "rds-backup-webhook.cn-hangzhou.fcapp.run", DomainPrefix: "rds-backup-webhook",
			HTTP:      events.HTTPRequestInfo{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "11.11.11.11", UserAgent: "test"},
			RequestID: "1-test", Time: "2026-11-24T06:41:11Z", TimeEpoch: "1795502471895",
		},
	}
}

// signed builds a request from caller signed (v1) with secret at ts.
func signed(method, path, body, caller, secret string, ts int64) events.HTTPEvent {
	return signedQuery(method, path, nil, body, caller, secret, ts)
}

// signedQuery is signed with query parameters.
func signedQuery(method, path string, query map[string]string, body, caller, secret string, ts int64) events.HTTPEvent {
	h := map[string]string{
		"Content-Type":  "application/json",
		HeaderTimestamp: itoa(ts),
	}
	if caller != "" {
		h[HeaderCaller] = caller
	}
	ev := httpEvent(method, path, body, h)
	for k, v := range query {
		ev.QueryParameters[k] = v
	}
	ev.Headers[HeaderSignature] = SignV1(secret, ts, method, path, canonicalQuery(ev.QueryParameters), []byte(body))
	return ev
}

// withKey returns ev with the Idempotency-Key key, signed again (the
// signature covers the key) with secret at ts.
func withKey(ev events.HTTPEvent, key, secret string, ts int64) events.HTTPEvent {
	ev = withHeader(ev, HeaderIdempotencyKey, key)
	ev.Headers[HeaderSignature] = SignV1Key(secret, ts, ev.Method(), canonicalPath(ev.RawPath, ev.RequestContext.HTTP.Path),
		canonicalQuery(ev.QueryParameters), []byte(ev.Body), key)
	return ev
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// decoded is a response checked to be a valid FC 3.0 JSON response.
type decoded struct {
	Status  int
	Headers map[string]string
	Body    map[string]any
	Raw     string
}

func checkResponse(t testing.TB, resp events.HTTPResponse) decoded {
	t.Helper()
	if resp.Headers == nil {
		t.Fatal("headers map is nil")
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if resp.IsBase64Encoded {
		t.Fatal("JSON bodies are not base64")
	}
	wire, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"statusCode", "headers", "isBase64Encoded", "body"} {
		if _, ok := back[k]; !ok || back[k] == nil {
			t.Fatalf("FC3 response lacks %q: %s", k, wire)
		}
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body is not a JSON object: %q", resp.Body)
	}
	if bytes.Contains([]byte(resp.Body), []byte("goroutine ")) || bytes.Contains([]byte(resp.Body), []byte(".go:")) {
		t.Fatalf("body looks like a stack trace: %s", resp.Body)
	}
	return decoded{Status: resp.StatusCode, Headers: resp.Headers, Body: body, Raw: resp.Body}
}

func (d decoded) errCode() string {
	e, _ := d.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (d decoded) errField() string {
	e, _ := d.Body["error"].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

func (d decoded) entries() []map[string]any {
	list, _ := d.Body["requests"].([]any)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i], _ = e.(map[string]any)
	}
	return out
}

var fixtureDir = filepath.Join("..", "..", "testdata", "events")

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hookEvent builds the HTTP event of a webhook delivery from a fixture
// payload and its headers file.
func hookEvent(t testing.TB, path, fixture string, override map[string]string) events.HTTPEvent {
	t.Helper()
	var headers map[string]string
	if err := json.Unmarshal(readFixture(t, fixture+".headers.json"), &headers); err != nil {
		t.Fatal(err)
	}
	for k, v := range override {
		if v == "" {
			delete(headers, k)
		} else {
			headers[k] = v
		}
	}
	return httpEvent("POST", path, string(readFixture(t, fixture+".json")), headers)
}

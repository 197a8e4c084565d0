package e2e

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// Issue 22's change-management doors on the built webhook function: the
// RDS emulator's CreateBackup calls and backups are the oracle.

// jiraIdentifier is the X-Atlassian-Webhook-Identifier of the fixture's
// delivery (testdata/events/jira-issue-updated.headers.json).
const jiraIdentifier = "9c1f7a52-3d4e-4b8a-a0f6-2e7d5c91b364"

// jiraDelivery is the Jira fixture (OPS-123, a Change, moving from
// Approved to Implementing) made at `at`, edited by edit, and the headers
// of its delivery signed with secret (unsigned when secret is "").
func jiraDelivery(t *testing.T, at time.Time, edit func(p map[string]any), secret string) ([]byte, map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "testdata/events/jira-issue-updated.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	p["timestamp"] = at.UnixMilli()
	if edit != nil {
		edit(p)
	}
	body, _ := json.Marshal(p)
	h := map[string]string{
		"Content-Type":               "application/json; charset=UTF-8",
		"User-Agent":                 "Atlassian Webhook HTTP Client",
		webhook.HeaderJiraIdentifier: jiraIdentifier,
		"X-Atlassian-Webhook-Flow":   "Primary",
	}
	if secret != "" {
		h[webhook.HeaderJiraSig] = githubSignature(secret, body)
	}
	return body, h
}

// hookAnswer is a door's answer: the requests, an ignored reason, or an
// error.
type hookAnswer struct {
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Requests []struct {
		Status         string `json:"status"`
		DBInstanceId   string `json:"DBInstanceId"`
		BackupJobId    string `json:"BackupJobId"`
		IdempotencyKey string `json:"IdempotencyKey"`
	} `json:"requests"`
	Error *struct {
		Code, Message, Field string
	} `json:"error"`
}

func (s *stack) hook(what, path string, h map[string]string, body []byte) (int, hookAnswer) {
	s.t.Helper()
	status, b := s.post(path, h, body)
	var a hookAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		s.t.Fatalf("%s: HTTP %d %s: %v", what, status, b, err)
	}
	s.t.Logf("%s: HTTP %d %s", what, status, strings.TrimSpace(string(b)))
	return status, a
}

func (s *stack) creates() int { return s.Cloud.RDS.Counts()["CreateBackup"] }

func (s *stack) rdsCallCount() int {
	n := 0
	for _, c := range s.Cloud.RDS.Counts() {
		n += c
	}
	return n
}

// TestJiraTransitionOnTheLocalCloud: issue 22's Jira "done when" through
// the built webhook function and the local route ops-change (project OPS,
// status Implementing, a Snapshot backup of rm-demo-mysql1).
func TestJiraTransitionOnTheLocalCloud(t *testing.T) {
	t.Parallel()
	const id = "rm-demo-mysql1"
	s := startStack(t, demoFleet(t, 2*time.Second), localcloud.Options{Env: []string{"BACKUP_TRACK_JOBS=false"}})
	now := time.Now()

	// Unsigned, or signed with another secret: 401, no RDS call at all.
	body, h := jiraDelivery(t, now, nil, "")
	if status, _ := s.hook("unsigned", "/v1/hooks/jira", h, body); status != http.StatusUnauthorized {
		t.Fatalf("unsigned: HTTP %d, want 401", status)
	}
	body, h = jiraDelivery(t, now, nil, "not-the-jira-secret")
	if status, _ := s.hook("wrong signature", "/v1/hooks/jira", h, body); status != http.StatusUnauthorized {
		t.Fatalf("wrong signature: HTTP %d, want 401", status)
	}
	// A transition to another status: 202 ignored, no RDS call.
	body, h = jiraDelivery(t, now, func(p map[string]any) {
		it := p["changelog"].(map[string]any)["items"].([]any)[1].(map[string]any)
		it["toString"], it["to"] = "Done", "10103"
	}, localcloud.JiraSecret)
	if status, a := s.hook("moved to Done", "/v1/hooks/jira", h, body); status != http.StatusAccepted || a.Status != "ignored" || !strings.Contains(a.Reason, `OPS-123 moved to status "Done"`) {
		t.Fatalf("moved to Done: HTTP %d %+v, want 202 ignored naming the status", status, a)
	}
	if n := s.rdsCallCount(); n != 0 {
		t.Fatalf("%d RDS calls before any ask, want none:\n%s", n, s.callLog(""))
	}

	// OPS-123 moves to Implementing, signed with the route's secret: the
	// route's backup is accepted.
	body, h = jiraDelivery(t, now, nil, localcloud.JiraSecret)
	status, first := s.hook("moved to Implementing", "/v1/hooks/jira", h, body)
	if status != http.StatusAccepted || len(first.Requests) != 1 || first.Requests[0].Status != "accepted" || first.Requests[0].DBInstanceId != id || first.Requests[0].BackupJobId == "" {
		t.Fatalf("moved to Implementing: HTTP %d %+v, want 202 accepted for %s with a job", status, first, id)
	}
	// Jira's retry: the same identifier and bytes.
	retryH := maps.Clone(h)
	retryH["X-Atlassian-Webhook-Retry"] = "1"
	if status, a := s.hook("Jira's retry", "/v1/hooks/jira", retryH, body); status != http.StatusAccepted || len(a.Requests) != 1 ||
		a.Requests[0].Status != "coalesced" || a.Requests[0].BackupJobId != first.Requests[0].BackupJobId {
		t.Fatalf("retry: HTTP %d %+v, want coalesced with job %s", status, a, first.Requests[0].BackupJobId)
	}
	// Replayed once the backup has finished: still the one ask.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if jobs := s.Cloud.RDS.Jobs(id); len(jobs) == 1 && jobs[0].Terminal() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not end: %+v", s.Cloud.RDS.Jobs(id))
		}
	}
	if status, a := s.hook("replay after the backup finished", "/v1/hooks/jira", h, body); status != http.StatusAccepted || len(a.Requests) != 1 || a.Requests[0].Status != "coalesced" {
		t.Fatalf("replay: HTTP %d %+v, want coalesced", status, a)
	}
	// A replay of a day-old delivery (the ledger may have forgotten it):
	// its timestamp is older than BACKUP_MAX_ASK_AGE, 202 ignored.
	old, oldH := jiraDelivery(t, now.Add(-25*time.Hour), nil, localcloud.JiraSecret)
	oldH[webhook.HeaderJiraIdentifier] = "0b7d2c1e-5f3a-4e8b-9c6d-7a1f2e3d4c5b"
	if status, a := s.hook("a day-old delivery", "/v1/hooks/jira", oldH, old); status != http.StatusAccepted || a.Status != "ignored" || !strings.Contains(a.Reason, "older than the max ask age") {
		t.Fatalf("day-old: HTTP %d %+v, want 202 ignored as too old", status, a)
	}
	if n := s.creates(); n != 1 {
		t.Errorf("CreateBackup called %d times, want 1:\n%s", n, s.callLog(""))
	}
	wantCreated(t, s, map[string]int{id: 1})
}

// snowRecord is the ServiceNow change_request fixture (the Table API's
// record) updated at `at`, naming instances, with sys_id and state.
func snowRecord(t *testing.T, at time.Time, sysID, state, instances string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "testdata/events/servicenow-change-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	rec := doc["result"]
	rec["sys_updated_on"] = at.UTC().Format(webhook.ServiceNowTime)
	rec["sys_id"], rec["state"], rec["u_rds_instances"] = sysID, state, instances
	b, _ := json.Marshal(doc)
	return b
}

// TestServiceNowChangeOnTheLocalCloud: issue 22's token "done when"
// through the built webhook function and the local route snow-change
// (allow rm-demo-pg1 and rm-demo-mssql1, maxAskAge 2h, state -1).
func TestServiceNowChangeOnTheLocalCloud(t *testing.T) {
	t.Parallel()
	s := startStack(t, demoFleet(t, 2*time.Second), localcloud.Options{Env: []string{"BACKUP_TRACK_JOBS=false"}})
	const path = "/v1/hooks/token/snow-change"
	bearer := map[string]string{"Content-Type": "application/json", webhook.HeaderAuthorization: "Bearer " + localcloud.SnowToken}
	now := time.Now()

	// A wrong token: 401.
	wrong := maps.Clone(bearer)
	wrong[webhook.HeaderAuthorization] = "Bearer not-the-token"
	if status, _ := s.hook("wrong token", path, wrong, snowRecord(t, now, "a1", "-1", "rm-demo-pg1")); status != http.StatusUnauthorized {
		t.Fatalf("wrong token: HTTP %d, want 401", status)
	}
	// An instance outside allow: 403, nothing submitted.
	if status, a := s.hook("rm-demo-maria outside allow", path, bearer, snowRecord(t, now, "b2", "-1", "rm-demo-pg1, rm-demo-maria")); status != http.StatusForbidden ||
		a.Error == nil || !strings.Contains(a.Error.Message, "rm-demo-maria") {
		t.Fatalf("outside allow: HTTP %d %+v, want 403 naming rm-demo-maria", status, a)
	}
	// A record older than the route's maxAskAge (2h): refused with the reason.
	if status, a := s.hook("three hours old", path, bearer, snowRecord(t, now.Add(-3*time.Hour), "c3", "-1", "rm-demo-pg1")); status != http.StatusAccepted ||
		a.Status != "ignored" || !strings.Contains(a.Reason, "older than the max ask age 2h (the route's maxAskAge)") {
		t.Fatalf("old: HTTP %d %+v, want 202 ignored as older than 2h", status, a)
	}
	// Another state (Review, 0): ignored.
	if status, a := s.hook("state Review", path, bearer, snowRecord(t, now, "d4", "0", "rm-demo-pg1")); status != http.StatusAccepted || a.Status != "ignored" {
		t.Fatalf("state 0: HTTP %d %+v, want 202 ignored", status, a)
	}
	if n := s.rdsCallCount(); n != 0 {
		t.Fatalf("%d RDS calls before any ask, want none:\n%s", n, s.callLog(""))
	}

	// The change in Implement (-1): its two instances accepted.
	rec := snowRecord(t, now, "1c741bd70b2322007518478d83673af3", "-1", "rm-demo-pg1, rm-demo-mssql1")
	status, first := s.hook("CHG0030047 in Implement", path, bearer, rec)
	if status != http.StatusAccepted || len(first.Requests) != 2 {
		t.Fatalf("Implement: HTTP %d %+v, want 202 with two requests", status, first)
	}
	for _, r := range first.Requests {
		if r.Status != "accepted" || r.BackupJobId == "" {
			t.Fatalf("Implement: %+v, want accepted with a job", first.Requests)
		}
	}
	// The same sys_id and time again (the business rule fired twice, or
	// ServiceNow retried): one ask.
	if status, a := s.hook("the same record again", path, bearer, rec); status != http.StatusAccepted || len(a.Requests) != 2 ||
		a.Requests[0].Status != "coalesced" || a.Requests[1].Status != "coalesced" {
		t.Fatalf("again: HTTP %d %+v, want both coalesced", status, a)
	}
	wantCreated(t, s, map[string]int{"rm-demo-pg1": 1, "rm-demo-mssql1": 1})
	if n := s.creates(); n != 2 {
		t.Errorf("CreateBackup called %d times, want 2:\n%s", n, s.callLog(""))
	}
	if strings.Contains(s.logs.String(), localcloud.SnowToken) {
		t.Error("the token is in the function's log")
	}
}

// TestChangeRoutesStopTheFunctionAtStart: a token route whose pointer is
// not one, a token route without allow and a jira route whose
// instancesField is not a field id each stop the webhook function at
// start, its log naming the field; every call then fails (502), never a
// 401 or a 202.
func TestChangeRoutesStopTheFunctionAtStart(t *testing.T) {
	t.Parallel()
	token := `{"name":"snow","source":"token","secretEnv":"SNOW_WEBHOOK_TOKEN","allow":["rm-demo-pg1"],"instances":"/result/u_rds_instances","askedAt":"/result/sys_updated_on","id":"/result/sys_id"`
	for _, tc := range []struct{ name, routes, want string }{
		{"a pointer that is not one", strings.Replace(token, `"/result/sys_id"`, `"result/sys_id"`, 1) + `}`,
			`routes[0] (snow).id: must be a JSON pointer (RFC 6901`},
		{"a token route without allow", strings.Replace(token, `"allow":["rm-demo-pg1"],`, ``, 1) + `}`,
			`routes[0] (snow).allow: is required for a token route`},
		{"an instancesField that is not a field id", `{"name":"ops","source":"jira","project":"OPS","status":"Implementing","secretEnv":"JIRA_WEBHOOK_SECRET","instancesField":"Database instances","allow":["rm-demo-*"]}`,
			`routes[0] (ops).instancesField: must be an issue field's id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startStack(t, demoFleet(t, time.Second), localcloud.Options{FunctionEnv: map[string][]string{"webhook": {
				`BACKUP_ROUTES={"routes":[` + tc.routes + `]}`}}})
			body := snowRecord(t, time.Now(), "e5", "-1", "rm-demo-pg1")
			status, b := s.post("/v1/hooks/token/snow", map[string]string{webhook.HeaderAuthorization: "Bearer " + localcloud.SnowToken}, body)
			if status != http.StatusBadGateway {
				t.Fatalf("HTTP %d %s, want 502 (the function did not start)", status, b)
			}
			if logs := s.logs.String(); !strings.Contains(logs, tc.want) {
				t.Fatalf("the log does not name the field (%q):\n%s", tc.want, tail(logs, 4000))
			}
			if n := s.rdsCallCount(); n != 0 {
				t.Fatalf("%d RDS calls", n)
			}
		})
	}
}

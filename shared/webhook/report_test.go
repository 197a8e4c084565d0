package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// fakeReports implements ReportReader: every instance has one Finished
// backup and one refusal, but rm-demo-broken, whose read failed.
type fakeReports struct {
	mu    sync.Mutex
	err   error
	calls []reportCall
}

type reportCall struct {
	Account   string
	Region    string
	Instances []string
	Since     time.Time
}

func (f *fakeReports) Report(_ context.Context, account, region string, instances []string, since time.Time) ([]InstanceReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, reportCall{account, region, instances, since})
	if f.err != nil {
		return nil, f.err
	}
	var out []InstanceReport
	for _, id := range instances {
		r := InstanceReport{DBInstanceId: id}
		if id == "rm-demo-broken" {
			r.Error = &ReportError{Code: "Throttling", Message: "RDS could not be read"}
		} else {
			r.LastFinished = &FinishedBackup{BackupId: "b-" + id, BackupMethod: "Physical", BackupEndTime: testNow.Add(-2 * time.Hour)}
			if id != "rm-demo-quiet" {
				r.Problems = []ReportProblem{{Time: testNow.Add(-time.Hour), Status: "rejected", Code: "ReadDBInstanceNotSupport", BackupMethod: "Physical"}}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeReports) Calls() []reportCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]reportCall(nil), f.calls...)
}

// reportRoutes adds a signed caller whose allow lists exact ids only.
const reportRoutes = testRoutes + `
  - name: auditor
    source: signed
    secretEnv: AUDIT_SECRET
    allow: [rm-demo-pg1, rm-demo-quiet, rm-demo-pg1]
`

const auditSecret = "auditor-secret-0123456789"

func reportHarness(t *testing.T, maxRequests int) (*harness, *fakeReports) {
	t.Helper()
	hs := newHarness(t, reportRoutes, func(c *Config) {
		c.Secrets = maps.Clone(testSecrets)
		c.Secrets["AUDIT_SECRET"] = auditSecret
		c.MaxRequests = maxRequests
	})
	fr := &fakeReports{}
	hs.h.UseReports(fr)
	return hs, fr
}

func TestReportAnswer(t *testing.T) {
	hs, fr := reportHarness(t, 0)
	ev := signedQuery("GET", "/v1/report", map[string]string{"since": "36h", "instances": "rm-demo-mysql1,rm-demo-broken,rm-demo-mysql1", "RegionId": "cn-shanghai"},
		"", "release-bot", botSecret, nowUnix)
	d := checkResponse(t, hs.h.Handle(context.Background(), ev))
	if d.Status != 200 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	calls := fr.Calls()
	wantSince := testNow.Add(-36 * time.Hour)
	if len(calls) != 1 || calls[0].Region != "cn-shanghai" || strings.Join(calls[0].Instances, ",") != "rm-demo-mysql1,rm-demo-broken" || !calls[0].Since.Equal(wantSince) {
		t.Fatalf("Report calls = %+v", calls)
	}
	var body struct {
		Since     string `json:"since"`
		Instances []struct {
			DBInstanceId string
			LastFinished *struct{ BackupId, BackupMethod, BackupEndTime string } `json:"lastFinished"`
			Problems     []map[string]string                                     `json:"problems"`
			Error        *struct{ Code, Message string }                         `json:"error"`
		} `json:"instances"`
	}
	if err := json.Unmarshal([]byte(d.Raw), &body); err != nil {
		t.Fatal(err)
	}
	if body.Since != wantSince.Format(time.RFC3339) || len(body.Instances) != 2 {
		t.Fatalf("%s", d.Raw)
	}
	m := body.Instances[0]
	if m.DBInstanceId != "rm-demo-mysql1" || m.LastFinished == nil || m.LastFinished.BackupId != "b-rm-demo-mysql1" ||
		m.LastFinished.BackupEndTime != testNow.Add(-2*time.Hour).Format(time.RFC3339) || len(m.Problems) != 1 || m.Error != nil {
		t.Errorf("mysql1: %+v", m)
	}
	if p := m.Problems[0]; p["time"] != testNow.Add(-time.Hour).Format(time.RFC3339) || p["status"] != "rejected" || p["code"] != "ReadDBInstanceNotSupport" || p["backupMethod"] != "Physical" {
		t.Errorf("problem: %v", p)
	}
	b := body.Instances[1]
	if b.Error == nil || b.Error.Code != "Throttling" || b.LastFinished != nil || b.Problems == nil {
		t.Errorf("broken: %+v (%s)", b, d.Raw)
	}
	if !strings.Contains(d.Raw, `"lastFinished":null`) || !strings.Contains(d.Raw, `"problems":[]`) {
		t.Errorf("an instance without a backup or problems: lastFinished null and problems []: %s", d.Raw)
	}
}

// Without instances the route's exact ids are reported; a route with
// patterns must name them.
func TestReportInstancesFromAllow(t *testing.T) {
	hs, fr := reportHarness(t, 0)
	d := checkResponse(t, hs.h.Handle(context.Background(), signedQuery("GET", "/v1/report", nil, "", "auditor", auditSecret, nowUnix)))
	if d.Status != 200 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	if c := fr.Calls(); len(c) != 1 || strings.Join(c[0].Instances, ",") != "rm-demo-pg1,rm-demo-quiet" || !c[0].Since.Equal(testNow.Add(-24*time.Hour)) || c[0].Region != "" {
		t.Fatalf("calls = %+v", c)
	}
	for _, caller := range []struct{ id, secret string }{{"release-bot", botSecret}, {"ops@acme", opsSecret}} {
		d = checkResponse(t, hs.h.Handle(context.Background(), signedQuery("GET", "/v1/report", nil, "", caller.id, caller.secret, nowUnix)))
		if d.Status != 400 || d.errField() != "instances" || !strings.Contains(d.Raw, "name the instances") {
			t.Errorf("%s: %d %s", caller.id, d.Status, d.Raw)
		}
	}
	if n := len(fr.Calls()); n != 1 {
		t.Errorf("Report called %d times", n)
	}
}

// Authentication, allow, grammar and bounds, each before anything is read.
func TestReportRefusals(t *testing.T) {
	hs, fr := reportHarness(t, 3)
	q := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name   string
		caller string
		secret string
		query  map[string]string
		status int
		field  string
		code   string
	}{
		{"a wrong secret", "release-bot", opsSecret, q("instances", "rm-demo-pg1"), 401, "", CodeUnauthorized},
		{"an unknown caller", "nobody", botSecret, q("instances", "rm-demo-pg1"), 401, "", CodeUnauthorized},
		{"not allowed", "release-bot", botSecret, q("instances", "rm-demo-pg1,rm-prod-payments"), 403, "instances", CodeNotAllowed},
		{"not allowed by an exact allow", "auditor", auditSecret, q("instances", "rm-demo-mysql1"), 403, "instances", CodeNotAllowed},
		{"a glob is not an id", "ops@acme", opsSecret, q("instances", "rm-*"), 400, "instances", "InvalidDBInstanceId.Format"},
		{"an empty entry", "ops@acme", opsSecret, q("instances", "rm-demo-pg1,"), 400, "instances", "InvalidDBInstanceId.Format"},
		{"a slash", "ops@acme", opsSecret, q("instances", "rm-demo-pg1/../x"), 400, "instances", "InvalidDBInstanceId.Format"},
		{"too many", "ops@acme", opsSecret, q("instances", "rm-a1,rm-a2,rm-a3,rm-a4"), 413, "instances", CodePayloadTooLarge},
		{"since too short", "ops@acme", opsSecret, q("instances", "rm-a1", "since", "30s"), 400, "since", backup.CodeParametersInvalid},
		{"since too long", "ops@acme", opsSecret, q("instances", "rm-a1", "since", "841h"), 400, "since", backup.CodeParametersInvalid},
		{"since not a duration", "ops@acme", opsSecret, q("instances", "rm-a1", "since", "1d"), 400, "since", backup.CodeParametersInvalid},
		{"an unknown parameter", "ops@acme", opsSecret, q("instances", "rm-a1", "limit", "5"), 400, "query", backup.CodeParametersInvalid},
		{"a region not allowed", "ops@acme", opsSecret, q("instances", "rm-a1", "RegionId", "us-west-1"), 400, "RegionId", ""},
	} {
		d := checkResponse(t, hs.h.Handle(context.Background(), signedQuery("GET", "/v1/report", c.query, "", c.caller, c.secret, nowUnix)))
		if d.Status != c.status || d.errField() != c.field || (c.code != "" && d.errCode() != c.code) {
			t.Errorf("%s: %d %s", c.name, d.Status, d.Raw)
		}
	}
	if n := len(fr.Calls()); n != 0 {
		t.Errorf("Report called %d times", n)
	}
	// The signature binds the query: a captured report does not read others.
	ev := signedQuery("GET", "/v1/report", q("instances", "rm-demo-pg1"), "", "release-bot", botSecret, nowUnix)
	ev.QueryParameters["instances"] = "rm-demo-mysql1"
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 401 {
		t.Errorf("another query under a signature: %d %s", d.Status, d.Raw)
	}
	ev = signedQuery("GET", "/v1/report", nil, "", "release-bot", botSecret, nowUnix)
	ev.Headers[HeaderSignature] = SignV1(botSecret, nowUnix, "GET", "/v1/report", url.Values{"since": {"1h"}}, nil)
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 401 {
		t.Errorf("a signature of another query: %d %s", d.Status, d.Raw)
	}
	// POST is the wrong method.
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/report", "{}", "ops@acme", opsSecret, nowUnix)))
	if d.Status != 405 || d.Headers["Allow"] != "GET" {
		t.Errorf("POST: %d %s", d.Status, d.Raw)
	}
}

func TestReport501And502(t *testing.T) {
	hs := newHarness(t, testRoutes, nil) // no UseReports
	d := checkResponse(t, hs.h.Handle(context.Background(), signedQuery("GET", "/v1/report", map[string]string{"instances": "rm-demo-pg1"}, "", "release-bot", botSecret, nowUnix)))
	if d.Status != 501 || d.errCode() != CodeNotConfigured {
		t.Fatalf("no ReportReader: %d %s", d.Status, d.Raw)
	}
	hs, fr := reportHarness(t, 0)
	fr.err = errors.New("ledger: OTSServerUnavailable")
	d = checkResponse(t, hs.h.Handle(context.Background(), signedQuery("GET", "/v1/report", map[string]string{"instances": "rm-demo-pg1"}, "", "release-bot", botSecret, nowUnix)))
	if d.Status != 502 || d.errCode() != CodeReportUnavailable || strings.Contains(d.Raw, "OTS") {
		t.Fatalf("reader error: %d %s (the cause stays in the log)", d.Status, d.Raw)
	}
}

// A member account's report (AccountId): only for a route that allows
// every instance, the id checked by grammar first, and a refusal of the
// reader (an account the deployment does not allow) answered with its
// status; the account reaches the reader as given.
func TestReportOfAMemberAccount(t *testing.T) {
	hs, fr := reportHarness(t, 0)
	q := func(account, caller, secret string) decoded {
		ev := signedQuery("GET", "/v1/report", map[string]string{"instances": "rm-demo-mysql1", "AccountId": account}, "", caller, secret, nowUnix)
		return checkResponse(t, hs.h.Handle(context.Background(), ev))
	}
	if d := q("12345", "ops@acme", opsSecret); d.Status != 400 || d.errCode() != backup.CodeAccountFormat || d.errField() != "AccountId" {
		t.Fatalf("bad AccountId: %d %s", d.Status, d.Raw)
	}
	if d := q("1234567890123456", "release-bot", botSecret); d.Status != 403 || d.errCode() != backup.CodeAccountNotAllowed {
		t.Fatalf("a route of ids asking a member account: %d %s", d.Status, d.Raw)
	}
	if len(fr.Calls()) != 0 {
		t.Fatalf("refused queries reached the reader: %+v", fr.Calls())
	}
	if d := q("1234567890123456", "ops@acme", opsSecret); d.Status != 200 {
		t.Fatalf("ops route: %d %s", d.Status, d.Raw)
	}
	if calls := fr.Calls(); len(calls) != 1 || calls[0].Account != "1234567890123456" {
		t.Fatalf("Report calls = %+v, want the account passed on", calls)
	}
	fr.mu.Lock()
	fr.err = &backup.Violation{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403, Field: "AccountId", Message: "AccountId: not allowed"}
	fr.mu.Unlock()
	if d := q("9999999999999999", "ops@acme", opsSecret); d.Status != 403 || d.errCode() != backup.CodeAccountNotAllowed || d.errField() != "AccountId" {
		t.Fatalf("an account the deployment does not allow: %d %s", d.Status, d.Raw)
	}
}

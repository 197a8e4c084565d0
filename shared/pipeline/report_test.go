package pipeline

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

const reportAnswer = `{"since":"2026-11-24T10:00:00Z","instances":[
 {"DBInstanceId":"rm-a","lastFinished":{"BackupId":"11","BackupMethod":"Physical","BackupEndTime":"2026-11-25T08:00:00Z"},"problems":[]},
 {"DBInstanceId":"rm-b","lastFinished":{"BackupId":"12","BackupMethod":"Physical","BackupEndTime":"2026-11-23T08:00:00Z"},
  "problems":[{"time":"2026-11-25T09:00:00Z","status":"rejected","code":"ReadDBInstanceNotSupport","backupMethod":"Physical"}]},
 {"DBInstanceId":"rm-c","lastFinished":null,"problems":[]},
 {"DBInstanceId":"rm-d","lastFinished":null,"problems":[],"error":{"code":"Throttling","message":"RDS could not list"}}]}`

// Report signs a GET of /v1/report with its query and decodes the answer;
// Stale names the instances without a recent enough Finished backup.
func TestReport(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, _ := strconv.ParseInt(r.Header.Get("X-Timestamp"), 10, 64)
		body, _ := io.ReadAll(r.Body)
		want := webhook.SignV1Key("s3cret", ts, r.Method, r.URL.Path, r.URL.Query(), body, "")
		if r.Method != "GET" || r.URL.Path != "/v1/report" || r.Header.Get("X-Signature-256") != want || r.Header.Get("X-Caller") != "bot" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"Unauthorized","message":"missing or invalid signature"}}`)
			return
		}
		query = r.URL.RawQuery
		io.WriteString(w, reportAnswer)
	}))
	defer srv.Close()
	c := &Client{URL: srv.URL, Caller: "bot", Secret: "s3cret", Now: func() time.Time { return now }}
	r, err := c.Report(context.Background(), ReportQuery{Since: 24 * time.Hour, Instances: []string{"rm-a", "rm-b"}, Region: "cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	if query != "RegionId=cn-hangzhou&instances=rm-a%2Crm-b&since=24h0m0s" {
		t.Errorf("query = %s", query)
	}
	if len(r.Instances) != 4 || r.Instances[1].Problems[0].Code != "ReadDBInstanceNotSupport" || r.Instances[0].LastFinished.BackupId != "11" {
		t.Fatalf("%+v", r)
	}
	var stale []string
	for _, in := range r.Stale(26*time.Hour, now) {
		stale = append(stale, in.DBInstanceId)
	}
	if len(stale) != 3 || stale[0] != "rm-b" || stale[1] != "rm-c" || stale[2] != "rm-d" {
		t.Errorf("Stale(26h) = %v", stale)
	}
	if s := r.Stale(72*time.Hour, now); len(s) != 2 {
		t.Errorf("Stale(72h) = %+v", s)
	}

	// A wrong secret: could not ask, naming the secret.
	c.Secret = "wrong"
	_, err = c.Report(context.Background(), ReportQuery{})
	if cna := CouldNotReach(err, c.URL); cna == nil || cna.Status != 401 {
		t.Errorf("wrong secret: %v", err)
	}
}

// An answer that is not a report is an AnswerError, which could not ask.
func TestReportNotAReport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) }))
	defer srv.Close()
	c := &Client{URL: srv.URL, Caller: "bot", Secret: "s"}
	_, err := c.Report(context.Background(), ReportQuery{})
	if CouldNotReach(err, c.URL) == nil {
		t.Fatalf("not a report: %v", err)
	}
}

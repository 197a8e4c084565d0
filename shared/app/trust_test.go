package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// deployedKey is the envelope key of a deployment in these tests.
const deployedKey = "a-deployments-envelope-key-0123456789abcdef"

var deployedSealer, _ = workqueue.NewSealer([]byte(deployedKey))

// seal seals m as the harness's functions do (the local cloud's key: the
// harness's endpoints are on loopback).
func (h *harness) seal(m workqueue.Message) string {
	h.t.Helper()
	s, err := workqueue.NewSealer([]byte(config.LocalEnvelopeKey))
	if err != nil {
		h.t.Fatal(err)
	}
	body, err := s.Seal(m)
	if err != nil {
		h.t.Fatal(err)
	}
	return body
}

const opsRoute = `BACKUP_ROUTES={"routes":[{"name":"ops","source":"signed","repository":"ops","secretEnv":"OPS_SECRET","allow":["*"]}]}`

// signedHTTP is a signed request as FC delivers it, from the caller "ops"
// with the secret "s3cret".
func signedHTTP(method, path string, query map[string]string, body string) json.RawMessage {
	ts := time.Now().Unix()
	if query == nil {
		query = map[string]string{}
	}
	qv := map[string][]string{}
	for k, v := range query {
		qv[k] = []string{v}
	}
	ev := map[string]any{
		"version": "v1", "rawPath": path, "body": body, "isBase64Encoded": false,
		"headers": map[string]string{"X-Caller": "ops", "X-Timestamp": strconv.FormatInt(ts, 10),
			"X-Signature-256": webhook.SignV1("s3cret", ts, method, path, url.Values(qv), []byte(body)), "Content-Type": "application/json"},
		"queryParameters": query,
		"requestContext":  map[string]any{"http": map[string]string{"method": method, "path": path}, "requestId": "r1"},
	}
	raw, _ := json.Marshal(ev)
	return raw
}

// TestNoRequestLeavesForAnotherHost is the SSRF of issue 12 end to end,
// through every entry point that takes a RegionId. The functions run with
// no endpoint override, as deployed, so the SDK would build the host from
// the region: "x@<attacker>/" used to send their signed RDS calls, with the
// role's STS token, to the attacker. Now each call is refused before an
// RDS client is built: the attacker's server sees nothing, the caller gets
// a 400 or one rejected outcome, and no log line repeats the host.
func TestNoRequestLeavesForAnotherHost(t *testing.T) {
	var hits atomic.Int32
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(attacker.Close)
	host := strings.TrimPrefix(attacker.URL, "http://")
	evil := "x@" + host + "/"

	deployed := []string{"BACKUP_RDS_ENDPOINT=", "BACKUP_RDS_PROTOCOL=http", "BACKUP_ENVELOPE_KEY=" + deployedKey, "BACKUP_ALLOWED_REGIONS=cn-shanghai", opsRoute, "OPS_SECRET=s3cret"}
	envelope := func(m workqueue.Message) string {
		b, err := deployedSealer.Seal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	evilReq := backup.Request{DBInstanceId: "rm-a", RegionId: evil, Trigger: backup.Trigger{Kind: "mns"}, IdempotencyKey: "k", CorrelationId: "k"}
	tests := []struct {
		name     string
		function string
		run      func(h *harness) (status int)
	}{
		{"timer plan: a backup's RegionId", "scheduled", func(h *harness) int {
			_, err := h.app.HandleTimer(h.ctx(), fc.NewTimerEvent(time.Now(), "nightly", `{"Backups":[{"DBInstanceId":"rm-a","RegionId":"`+evil+`"}]}`))
			return errStatus(err)
		}},
		{"timer plan: Select.RegionId", "scheduled", func(h *harness) int {
			_, err := h.app.HandleTimer(h.ctx(), fc.NewTimerEvent(time.Now(), "nightly", `{"Select":{"RegionId":"`+evil+`","Tags":{"a":"b"}}}`))
			return errStatus(err)
		}},
		{"timer plan: a region the deployment does not allow", "scheduled", func(h *harness) int {
			_, err := h.app.HandleTimer(h.ctx(), fc.NewTimerEvent(time.Now(), "nightly", `{"Defaults":{"RegionId":"eu-central-1"},"Select":{"Tags":{"a":"b"}}}`))
			return errStatus(err)
		}},
		{"MNS message: RegionId", "queue", func(h *harness) int {
			_, err := h.app.HandleQueue(h.ctx(), batch(`{"DBInstanceId":"rm-a","RegionId":"`+evil+`"}`))
			return errStatus(err)
		}},
		{"MNS message: Defaults.RegionId", "queue", func(h *harness) int {
			_, err := h.app.HandleQueue(h.ctx(), batch(`{"Defaults":{"RegionId":"`+evil+`"},"Backups":[{"DBInstanceId":"rm-a"}]}`))
			return errStatus(err)
		}},
		{"work message: backup", "queue", func(h *harness) int {
			_, err := h.app.HandleQueue(h.ctx(), batch(envelope(workqueue.Backup(evilReq, nil, time.Now()))))
			return errStatus(err)
		}},
		{"work message: track", "queue", func(h *harness) int {
			_, err := h.app.HandleQueue(h.ctx(), batch(envelope(workqueue.Track(evilReq, "1", time.Now()))))
			return errStatus(err)
		}},
		{"work message: select", "queue", func(h *harness) int {
			_, err := h.app.HandleQueue(h.ctx(), batch(envelope(workqueue.Select(backup.Selector{RegionId: "eu-central-1", Engine: "MySQL"}, backup.Spec{}, evilReq.Trigger, time.Now(), time.Now()))))
			return errStatus(err)
		}},
		{"signed POST: RegionId", "webhook", func(h *harness) int {
			return httpStatus(t, h, signedHTTP("POST", "/v1/backups", nil, `{"DBInstanceId":"rm-a","RegionId":"`+evil+`"}`))
		}},
		{"signed POST: Select.RegionId", "webhook", func(h *harness) int {
			return httpStatus(t, h, signedHTTP("POST", "/v1/backups", nil, `{"Select":{"RegionId":"`+evil+`","Engine":"MySQL"}}`))
		}},
		{"status endpoint: ?RegionId=", "webhook", func(h *harness) int {
			return httpStatus(t, h, signedHTTP("GET", "/v1/backups/rm-a/1", map[string]string{"RegionId": evil}, ""))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.function, deployed...)
			status := tc.run(h)
			if n := hits.Load(); n != 0 {
				t.Fatalf("%d requests reached the attacker's host", n)
			}
			if tc.function == "webhook" {
				if status != 400 {
					t.Fatalf("HTTP %d, want 400", status)
				}
				if n := len(h.outcomes()); n != 0 {
					t.Errorf("a 400 publishes no outcome, got %d", n)
				}
			} else {
				if status != 0 {
					t.Fatalf("the invocation failed: a refused call is not worth a retry")
				}
				evs := h.outcomes()
				if len(evs) != 1 || evs[0].Type != "rds.backup.rejected" || !strings.HasPrefix(evs[0].Data.Error.Code, "InvalidRegionId.") {
					t.Fatalf("want one rejected InvalidRegionId outcome, got %v", types(evs))
				}
			}
			if strings.Contains(h.logs.String(), host) {
				t.Errorf("a log line repeats the attacker's host:\n%s", h.logs.String())
			}
		})
	}
}

func errStatus(err error) int {
	if err != nil {
		return 500
	}
	return 0
}

func httpStatus(t *testing.T, h *harness, raw json.RawMessage) int {
	t.Helper()
	resp, err := h.app.HandleHTTP(h.ctx(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &e)
	if resp.StatusCode == 400 && !strings.HasPrefix(e.Error.Code, "InvalidRegionId.") {
		t.Errorf("400 for another reason: %s", resp.Body)
	}
	return resp.StatusCode
}

// An id that is not an RDS instance id never reaches RDS, whichever source
// brings it (DescribeDBInstanceAttribute takes comma-separated lists).
func TestMalformedInstanceIdNeverReachesRDS(t *testing.T) {
	h := newHarness(t, "queue")
	long := "rm-" + strings.Repeat("x", 5000)
	if _, err := h.app.HandleQueue(h.ctx(), batch(`{"DBInstanceId":"rm-a,rm-b"}`, `{"DBInstanceId":"`+long+`"}`, `{"DBInstanceId":"rm-a\tx"}`)); err != nil {
		t.Fatal(err)
	}
	if n := len(h.rds.Calls()); n != 0 {
		t.Fatalf("%d RDS calls for malformed ids", n)
	}
	evs := h.outcomes()
	if len(evs) != 3 {
		t.Fatalf("want one rejected outcome per message, got %v", types(evs))
	}
	for _, e := range evs {
		if e.Type != "rds.backup.rejected" || e.Data.Error.Code != backup.CodeInstanceIdFormat {
			t.Errorf("%s %+v", e.Type, e.Data.Error)
		}
	}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, strings.Repeat("x", 200)) {
			t.Errorf("a log line carries the unclipped id: %.300s", line)
		}
	}
}

// TestOneCallIsBounded: a timer plan or an MNS message naming more than
// BACKUP_MAX_REQUESTS_PER_CALL backups runs none of them and ends in one
// rejected outcome; a webhook Select that expands past the limit is a 413
// with one rejected outcome and no backup.
func TestOneCallIsBounded(t *testing.T) {
	list := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = `{"DBInstanceId":"rm-` + strconv.Itoa(i) + `x"}`
		}
		return `{"Backups":[` + strings.Join(ids, ",") + `]}`
	}
	t.Run("timer plan", func(t *testing.T) {
		h := newHarness(t, "scheduled", "BACKUP_MAX_REQUESTS_PER_CALL=3")
		if _, err := h.app.HandleTimer(h.ctx(), fc.NewTimerEvent(time.Now(), "nightly", list(4))); err != nil {
			t.Fatal(err)
		}
		evs := h.outcomes()
		if len(evs) != 1 || evs[0].Type != "rds.backup.rejected" || evs[0].Data.Error.Code != backup.CodeTooManyBackups {
			t.Fatalf("outcomes %v", types(evs))
		}
		if len(h.rds.Calls()) != 0 || len(h.work()) != 0 {
			t.Fatalf("a refused plan ran: %d RDS calls, %d work messages", len(h.rds.Calls()), len(h.work()))
		}
	})
	t.Run("MNS message", func(t *testing.T) {
		h := newHarness(t, "queue", "BACKUP_MAX_REQUESTS_PER_CALL=3")
		if _, err := h.app.HandleQueue(h.ctx(), batch(list(4), `{"DBInstanceId":"rm-a"}`)); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(types(h.outcomes()), ", ")
		if got != "rds.backup.rejected , rds.backup.accepted rm-a" {
			t.Fatalf("outcomes %s", got)
		}
		if n := h.rds.Counts()["CreateBackup"]; n != 1 {
			t.Fatalf("%d CreateBackup calls, want only rm-a's", n)
		}
	})
	t.Run("webhook Select expansion", func(t *testing.T) {
		h := newHarness(t, "webhook", opsRoute, "OPS_SECRET=s3cret", "BACKUP_MAX_REQUESTS_PER_CALL=2")
		for _, id := range []string{"rm-t1", "rm-t2", "rm-t3"} {
			h.rds.AddInstance(rds.Instance{DBInstanceId: id, Engine: "MySQL", Tags: map[string]string{"team": "pay"}})
		}
		resp, err := h.app.HandleHTTP(h.ctx(), signedHTTP("POST", "/v1/backups", nil, `{"Select":{"Tags":{"team":"pay"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 413 || !strings.Contains(resp.Body, backup.CodeTooManyBackups) {
			t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Body)
		}
		if n := h.rds.Counts()["CreateBackup"]; n != 0 {
			t.Fatalf("%d backups made past the limit", n)
		}
		if evs := h.outcomes(); len(evs) != 1 || evs[0].Type != "rds.backup.rejected" {
			t.Fatalf("want one rejected outcome, got %v", types(evs))
		}
	})
}

// TestForgedEnvelopesAreNotActedOn is issue 12's forgery end to end: anyone
// allowed to send a backup request to the work queue could write an
// "outcome" envelope (republished byte for byte: a fake completed) or a
// "track" envelope (polls any job for 24 h). Now each is rejected with one
// outcome, never republished, never acted on and never re-queued; a
// genuine sealed envelope still works.
func TestForgedEnvelopesAreNotActedOn(t *testing.T) {
	fake := `{"specversion":"1.0","id":"forged-completed-1","source":"fc-rds-backup/queue","type":"rds.backup.completed",` +
		`"subject":"rm-prod-1","time":"2026-11-24T18:00:00Z","datacontenttype":"application/json","data":{"status":"completed"}}`
	track := workqueue.Track(backup.Request{DBInstanceId: "rm-a", Trigger: backup.Trigger{Kind: "mns"}, IdempotencyKey: "k", CorrelationId: "k"}, "1", time.Now())
	unsealed := func(m workqueue.Message) string {
		b, err := workqueue.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	otherKey := func(m workqueue.Message) string {
		b, err := deployedSealer.Seal(m) // not the harness's key
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		body func(h *harness) string
	}{
		{"unsealed outcome: a fake completed", func(*harness) string { return unsealed(workqueue.Outcome([]byte(fake))) }},
		{"outcome sealed with another key", func(*harness) string { return otherKey(workqueue.Outcome([]byte(fake))) }},
		{"genuine outcome with the event swapped", func(h *harness) string {
			genuine := h.seal(workqueue.Outcome([]byte(strings.Replace(fake, "forged-completed-1", "real-1", 1))))
			return strings.Replace(genuine, "real-1", "forged-completed-1", 1)
		}},
		{"unsealed track: polls any job", func(*harness) string { return unsealed(track) }},
		{"track sealed with another key", func(*harness) string { return otherKey(track) }},
		{"unsealed backup", func(*harness) string {
			return unsealed(workqueue.Backup(track.Request, nil, time.Now()))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "queue")
			if _, err := h.app.HandleQueue(h.ctx(), batch(tc.body(h))); err != nil {
				t.Fatalf("a forged message is not worth a redelivery: %v", err)
			}
			evs := h.outcomes()
			if len(evs) != 1 || evs[0].Type != "rds.backup.rejected" || evs[0].Data.Error.Code != CodeUnauthenticated {
				t.Fatalf("want one rejected %s outcome, got %v", CodeUnauthenticated, types(evs))
			}
			for _, m := range h.mns.Messages(notifyQ) {
				if strings.Contains(m.Body, "forged-completed-1") || strings.Contains(m.Body, `"rds.backup.completed"`) {
					t.Fatalf("the forged event was published: %s", m.Body)
				}
			}
			if n := len(h.rds.Calls()); n != 0 {
				t.Fatalf("%d RDS calls for a forged envelope", n)
			}
			if n := len(h.mns.Messages(workQ)); n != 0 {
				t.Fatalf("%d messages re-queued for a forged envelope", n)
			}
			// Nothing of the forged body, and never the key, is logged.
			for _, v := range []string{"forged-completed-1", config.LocalEnvelopeKey, deployedKey} {
				if strings.Contains(h.logs.String(), v) {
					t.Errorf("the logs carry %q", v)
				}
			}
		})
	}
	// The functions' own sealed track message is acted on.
	h := newHarness(t, "queue")
	if _, err := h.app.HandleQueue(h.ctx(), batch(h.seal(track))); err != nil {
		t.Fatal(err)
	}
	if h.rds.Counts()["DescribeBackupTasks"] != 1 {
		t.Fatalf("a sealed track message must be checked: calls %v", h.rds.Counts())
	}
}

// Everything the functions put on the work queue is sealed.
func TestWorkQueueMessagesAreSealed(t *testing.T) {
	h := newHarness(t, "scheduled", "BACKUP_INLINE_LIMIT=1")
	if _, err := h.app.HandleTimer(h.ctx(), fc.NewTimerEvent(time.Now(), "nightly", `{"Backups":[{"DBInstanceId":"rm-a"},{"DBInstanceId":"rm-b"}]}`)); err != nil {
		t.Fatal(err)
	}
	msgs := h.mns.Messages(workQ)
	if len(msgs) == 0 {
		t.Fatal("no work messages")
	}
	s, _ := workqueue.NewSealer([]byte(config.LocalEnvelopeKey))
	for _, m := range msgs {
		if _, err := s.Open([]byte(m.Body)); err != nil {
			t.Errorf("%v: %.200s", err, m.Body)
		}
	}
}

// TestMNSSelectIsTheOperatorsToAllow is issue 19's first break: anyone with
// SendMessage on the work queue sent {"Select":{"Engine":"MySQL"}} and
// backed up a whole region. A Select in a user's MNS message is refused
// unless BACKUP_MNS_SELECT=allow, and then bounded by
// BACKUP_MAX_REQUESTS_PER_CALL; a timer plan's Select, handed on through
// the work queue in sealed steps, still runs whole.
func TestMNSSelectIsTheOperatorsToAllow(t *testing.T) {
	const sel = `{"Select":{"Engine":"MySQL"}}`
	t.Run("refused by default", func(t *testing.T) {
		h := newHarness(t, "queue")
		if _, err := h.app.HandleQueue(h.ctx(), batch(sel)); err != nil {
			t.Fatal(err)
		}
		evs := h.outcomes()
		if len(evs) != 1 || evs[0].Type != "rds.backup.rejected" || evs[0].Data.Error.Code != CodeSelectNotAllowed ||
			evs[0].Data.Error.Field != "Select" || !strings.Contains(evs[0].Data.Error.Message, "BACKUP_MNS_SELECT") {
			t.Fatalf("want one rejected %s outcome naming Select and the rule, got %v %+v", CodeSelectNotAllowed, types(evs), evs)
		}
		if n := len(h.rds.Calls()); n != 0 {
			t.Fatalf("%d RDS calls for a refused Select", n)
		}
		if n := len(h.mns.Messages(workQ)); n != 0 {
			t.Fatalf("%d work messages for a refused Select", n)
		}
	})
	t.Run("allowed, past the bound", func(t *testing.T) {
		h := newHarness(t, "queue", "BACKUP_MNS_SELECT=allow", "BACKUP_MAX_REQUESTS_PER_CALL=2")
		if _, err := h.app.HandleQueue(h.ctx(), batch(sel)); err != nil {
			t.Fatal(err)
		}
		evs := h.outcomes()
		if len(evs) != 1 || evs[0].Type != "rds.backup.rejected" || evs[0].Data.Error.Code != backup.CodeTooManyBackups ||
			evs[0].Data.Error.Field != "Select" || !strings.Contains(evs[0].Data.Error.Message, "at most 2 (BACKUP_MAX_REQUESTS_PER_CALL)") {
			t.Fatalf("want one rejected %s outcome naming the bound, got %v %+v", backup.CodeTooManyBackups, types(evs), evs)
		}
		if n := h.rds.Counts()["CreateBackup"]; n != 0 {
			t.Fatalf("%d backups past the bound", n)
		}
		if n := len(h.mns.Messages(workQ)); n != 0 {
			t.Fatalf("%d work messages past the bound", n)
		}
	})
	t.Run("allowed, within the bound", func(t *testing.T) {
		h := newHarness(t, "queue", "BACKUP_MNS_SELECT=allow", "BACKUP_MAX_REQUESTS_PER_CALL=3")
		sum, err := h.app.HandleQueue(h.ctx(), batch(sel))
		if err != nil {
			t.Fatal(err)
		}
		if sum.Outcomes["accepted"] != 3 || h.rds.Counts()["CreateBackup"] != 3 {
			t.Fatalf("summary %+v, calls %v", sum, h.rds.Counts())
		}
	})
	t.Run("a timer plan's sealed steps still run", func(t *testing.T) {
		h := newHarness(t, "scheduled", "BACKUP_INLINE_LIMIT=1", "BACKUP_MAX_REQUESTS_PER_CALL=1")
		if _, err := h.app.HandleTimer(h.ctx(), fc.NewTimerEvent(time.Now(), "nightly", sel)); err != nil {
			t.Fatal(err)
		}
		var next []workqueue.Message
		for _, m := range h.work() {
			if m.Kind == workqueue.KindPlan || m.Kind == workqueue.KindSelect {
				next = append(next, m)
			}
		}
		if len(next) != 1 || h.rds.Counts()["CreateBackup"] != 1 {
			t.Fatalf("next steps %+v, calls %v", next, h.rds.Counts())
		}
		q := h.another("queue") // BACKUP_MNS_SELECT unset: refuse
		if _, err := q.HandleQueue(h.ctx(), batch(h.seal(next[0]))); err != nil {
			t.Fatal(err)
		}
		if n := h.rds.Counts()["CreateBackup"]; n != 3 {
			t.Fatalf("%d backups, want the Select's 3", n)
		}
		for _, e := range h.outcomes() {
			if e.Type == "rds.backup.rejected" {
				t.Fatalf("a sealed step was refused: %+v", e.Data.Error)
			}
		}
	})
}

// TestAttackerTextIsBounded is issue 19's fourth break: text a caller chose
// came back whole in a log line, an outcome or an answer. Every such string
// is now clipped and quoted, and Select's Engine and Tags have a grammar.
func TestAttackerTextIsBounded(t *testing.T) {
	maxLine := func(t *testing.T, h *harness, limit int) {
		t.Helper()
		for _, line := range strings.Split(h.logs.String(), "\n") {
			if len(line) > limit {
				t.Errorf("a %d-byte log line: %.300s", len(line), line)
			}
		}
	}
	t.Run("a 900 KB Select.Engine through a signed POST", func(t *testing.T) {
		h := newHarness(t, "webhook", opsRoute, "OPS_SECRET=s3cret", "BACKUP_MAX_BODY=2000000")
		engine := strings.Repeat("E", 900<<10)
		resp, err := h.app.HandleHTTP(h.ctx(), signedHTTP("POST", "/v1/backups", nil, `{"Select":{"Engine":"`+engine+`"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, `"Select.Engine"`) || !strings.Contains(resp.Body, "MySQL, PostgreSQL, SQLServer, MariaDB") || len(resp.Body) > 2048 {
			t.Fatalf("HTTP %d (%d bytes) %.500s", resp.StatusCode, len(resp.Body), resp.Body)
		}
		if n := len(h.rds.Calls()); n != 0 {
			t.Fatalf("%d RDS calls for a bad Engine", n)
		}
		maxLine(t, h, 4096)
	})
	t.Run("Select.Tags outside the tag grammar", func(t *testing.T) {
		h := newHarness(t, "webhook", opsRoute, "OPS_SECRET=s3cret")
		for _, tags := range []string{`{"acs:x":"1"}`, `{"aliyun-x":"1"}`, `{"k":"https://x"}`, `{"` + strings.Repeat("k", 129) + `":"1"}`, `{"k":"` + strings.Repeat("v", 129) + `"}`, `{"":"1"}`} {
			resp, err := h.app.HandleHTTP(h.ctx(), signedHTTP("POST", "/v1/backups", nil, `{"Select":{"Tags":`+tags+`}}`))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 400 || !strings.Contains(resp.Body, `"Select.Tags"`) || strings.Contains(resp.Body, strings.Repeat("k", 100)) {
				t.Errorf("%s: HTTP %d %.400s", tags, resp.StatusCode, resp.Body)
			}
		}
		if n := len(h.rds.Calls()); n != 0 {
			t.Fatalf("%d RDS calls for bad tags", n)
		}
	})
	t.Run("a 60,000-character unknown field in an MNS message", func(t *testing.T) {
		h := newHarness(t, "queue")
		name := strings.Repeat("f", 60000)
		if _, err := h.app.HandleQueue(h.ctx(), batch(`{"`+name+`":1}`)); err != nil {
			t.Fatal(err)
		}
		msgs := h.mns.Messages(notifyQ)
		if len(msgs) != 1 || len(msgs[0].Body) > 2048 {
			t.Fatalf("%d outcomes, the first %d bytes", len(msgs), len(msgs[0].Body))
		}
		evs := h.outcomes()
		e := evs[0].Data.Error
		if evs[0].Type != "rds.backup.rejected" || e.Code != backup.CodeParametersInvalid || !strings.HasPrefix(e.Field, `"fff`) || len(e.Field) > 80 ||
			!strings.Contains(e.Message, "unknown field") {
			t.Fatalf("%s %+v", evs[0].Type, e)
		}
		maxLine(t, h, 4096)
	})
	t.Run("a 401 for an unknown 10 KB repository", func(t *testing.T) {
		h := newHarness(t, "webhook", `BACKUP_ROUTES={"routes":[{"name":"gh","source":"github","repository":"acme/shop","secretEnv":"GH_SECRET","environments":["*"],"backups":[{"DBInstanceId":"rm-a"}]}]}`, "GH_SECRET=s3cret")
		repo := "acme/" + strings.Repeat("r", 10<<10)
		for _, tc := range []struct{ event, body string }{
			{"github", `{"repository":{"full_name":"` + repo + `"},"deployment":{"id":1,"environment":"prod"}}`},
			{"gitlab", `{"object_kind":"deployment","project":{"path_with_namespace":"` + repo + `"}}`},
		} {
			headers := map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64),
				"X-GitHub-Event": "deployment", "X-Gitlab-Token": "wrong", "X-Gitlab-Event": "Deployment Hook"}
			path := "/v1/hooks/" + tc.event
			raw, _ := json.Marshal(map[string]any{"version": "v1", "rawPath": path, "body": tc.body, "isBase64Encoded": false, "headers": headers,
				"queryParameters": map[string]string{}, "requestContext": map[string]any{"http": map[string]string{"method": "POST", "path": path}, "requestId": "r1"}})
			resp, err := h.app.HandleHTTP(h.ctx(), raw)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 401 || strings.Contains(resp.Body, strings.Repeat("r", 64)) {
				t.Errorf("%s: HTTP %d %.300s", tc.event, resp.StatusCode, resp.Body)
			}
		}
		for _, line := range strings.Split(h.logs.String(), "\n") {
			if strings.Contains(line, strings.Repeat("r", 64)) {
				t.Errorf("a log line carries more than 64 bytes of an unauthenticated repository name: %.400s", line)
			}
		}
	})
}

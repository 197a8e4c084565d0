package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// TestLogsCarryNoSecretsAndARequestID runs every entry point (timer, queue
// messages good and bad, signed POST and GET, GitHub and GitLab hooks, each
// also with a wrong secret) with a few RDS and MNS faults, to the end of
// job tracking, and then reads everything the functions wrote.
func TestLogsCarryNoSecretsAndARequestID(t *testing.T) {
	t.Parallel()
	s := startStack(t, demoFleet(t, 500*time.Millisecond), localcloud.Options{Env: []string{"BACKUP_LOG_LEVEL=debug"}})
	s.Cloud.RDS.InjectFault(rds.Fault{Action: "CreateBackup", DBInstanceId: "rm-demo-flaky", Status: 500, Code: "InvokeProxyFailure", Times: 1})
	s.Cloud.MNS.InjectFault(mns.Fault{Op: "SendMessage", Queue: localcloud.NotifyQueue, Status: 503, Code: "ServiceUnavailable", Times: 2})

	// What was sent that must never be written down.
	sent := map[string]string{}
	sign := func(name, value string) string { sent[name] = value; return value }

	s.fire(`{"Defaults":{"BackupMethod":"Physical"},"Select":{"RegionId":"cn-hangzhou","Tags":{"backup":"nightly"}}}`)

	if err := s.SendMessage(`{"DBInstanceId":"rm-demo-flaky"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.SendMessage(`{"DBInstanceId":"rm-demo-mysql1","DBName":"Sales-DB"}`); err != nil {
		t.Fatal(err)
	}

	body := `{"DBInstanceId":"rm-demo-maria"}`
	h := signedHeaders(body, time.Now())
	sign("X-Signature-256 of POST", h["X-Signature-256"])
	status, b := s.post("/v1/backups", h, []byte(body))
	var ans webhookAnswer
	if err := json.Unmarshal(b, &ans); err != nil || status != http.StatusAccepted || len(ans.Requests) != 1 {
		t.Fatalf("POST /v1/backups: HTTP %d %s", status, b)
	}
	h["X-Signature-256"] = sign("X-Signature-256 with a wrong secret", webhook.SignV1("wrong-secret", time.Now().Unix(), "POST", "/v1/backups", nil, []byte(body)))
	if status, b := s.post("/v1/backups", h, []byte(body)); status != http.StatusUnauthorized {
		t.Errorf("POST with a wrong secret: HTTP %d %s", status, b)
	}
	s.getJob(ans.Requests[0].DBInstanceId, ans.Requests[0].BackupJobId, sign)

	// A forged work-queue envelope (issue 12): rejected, not acted on.
	forged, err := workqueue.Encode(workqueue.Track(backup.Request{DBInstanceId: "rm-demo-pg1", Trigger: backup.Trigger{Kind: "mns"}}, "1", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendMessage(forged); err != nil {
		t.Fatal(err)
	}

	gh := githubBody(t)
	for i, secret := range []string{localcloud.GitHubSecret, "wrong-secret"} {
		h := githubHeaders(gh, fmt.Sprintf("5d1e7a6c-0d3e-11f0-9e3a-0e2bd6f5e00%d", i), secret)
		sign("X-Hub-Signature-256 signed with "+secret, h["X-Hub-Signature-256"])
		s.post("/v1/hooks/github", h, gh)
	}

	gl, err := os.ReadFile(filepath.Join(root, "testdata/events/gitlab-deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{localcloud.GitLabToken, "wrong-gitlab-token"} {
		s.post("/v1/hooks/gitlab", map[string]string{"Content-Type": "application/json", "X-Gitlab-Event": "Deployment Hook",
			"X-Gitlab-Token": sign("X-Gitlab-Token "+token, token)}, gl)
	}

	want := []string{"rm-demo-mssql1", "rm-demo-mysql1", "rm-demo-pg1", "rm-demo-maria", "rm-demo-flaky"}
	s.waitOutcomes(20*time.Second, "every job completed", func(evs []notify.Event) bool { return haveAll(evs, "completed", want...) })
	evs := s.settle(15*time.Second, 700*time.Millisecond)
	t.Logf("outcomes %v", countTypes(evs))
	forgedRejected := 0
	for _, e := range ofType(evs, "rejected") {
		if e.Data.Error != nil && e.Data.Error.Code == "WorkMessage.Unauthenticated" {
			forgedRejected++
		}
	}
	if forgedRejected != 1 {
		t.Errorf("the forged envelope: %d rejected WorkMessage.Unauthenticated outcomes, want 1", forgedRejected)
	}

	role, user := s.Cloud.RoleCredential(), s.Cloud.User
	secrets := map[string]string{
		"SignedSecret":         localcloud.SignedSecret,
		"GitHubSecret":         localcloud.GitHubSecret,
		"GitLabToken":          localcloud.GitLabToken,
		"role AccessKeySecret": role.AccessKeySecret,
		"role SecurityToken":   role.SecurityToken,
		"user AccessKeySecret": user.AccessKeySecret,
		"envelope key":         config.LocalEnvelopeKey,
	}
	for name, v := range sent {
		secrets[name] = v
		if hexSig, ok := strings.CutPrefix(v, "sha256="); ok {
			secrets[name+" (hex)"] = hexSig
		}
		if hexSig, ok := strings.CutPrefix(v, "v1="); ok {
			secrets[name+" (hex)"] = hexSig
		}
	}
	logs := s.logs.String()
	if !strings.Contains(logs, `"faas.invocation_id"`) || !strings.Contains(logs, "signature does not match") {
		t.Fatalf("the logs do not show the scenario (no faas.invocation_id, no refused signature):\n%s", tail(logs, 4000))
	}
	places := map[string]string{"function logs": logs}
	for _, q := range []string{localcloud.NotifyQueue, localcloud.WorkQueue, localcloud.DeadLetter} {
		var all strings.Builder
		for _, m := range s.Cloud.MNS.Messages(q) {
			all.WriteString(m.Body + "\n")
		}
		places["messages of "+q] = all.String()
	}
	for _, place := range sortedKeys(places) {
		text := places[place]
		for _, name := range sortedKeys(secrets) {
			v := secrets[name]
			if v == "" {
				t.Errorf("%s is empty: nothing to look for", name)
				continue
			}
			if i := strings.Index(text, v); i >= 0 {
				t.Errorf("%s contain the %s, e.g. in: %s", place, name, lineAt(text, i))
			}
		}
	}

	// Every JSON line is written during an invocation (the functions log
	// nothing between invocations) and must carry its request id
	// (faas.invocation_id) and its trigger (faas.trigger).
	lines, missing := 0, map[string]int{}
	var example string
	for line := range strings.Lines(logs) {
		if !strings.HasPrefix(line, "{") {
			continue // the runtime's "FC Invoke Start/End" lines, the trigger's own log
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %v: %.200s", err, line)
			continue
		}
		lines++
		id, _ := rec["faas.invocation_id"].(string)
		trigger, _ := rec["faas.trigger"].(string)
		if id == "" || (trigger != "timer" && trigger != "pubsub" && trigger != "http") {
			missing[fmt.Sprintf("%v: %v", rec["function"], rec["msg"])]++
			example = line
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d JSON log lines have no faas.invocation_id or faas.trigger (by function and message: %v), e.g.\n%s", sum(missing), missing, example)
	}
	t.Logf("%d JSON log lines checked, %d bytes of logs", lines, len(logs))
}

// getJob reads a job through GET /v1/backups/{id}/{job} as the signed caller.
func (s *stack) getJob(id, job string, sign func(name, value string) string) {
	s.t.Helper()
	req, _ := http.NewRequestWithContext(s.ctx, http.MethodGet, s.WebhookURL+"/v1/backups/"+id+"/"+job+"?RegionId=cn-hangzhou", nil)
	ts := time.Now().Unix()
	req.Header.Set("X-Caller", localcloud.SignedCaller)
	req.Header.Set("X-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Signature-256", webhook.SignV1(localcloud.SignedSecret, ts, "GET", req.URL.EscapedPath(), req.URL.Query(), nil))
	sign("X-Signature-256 of GET", req.Header.Get("X-Signature-256"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		s.t.Errorf("GET job status: HTTP %d", res.StatusCode)
	}
}

func lineAt(text string, i int) string {
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		end = len(text) - i
	}
	return fmt.Sprintf("%.300s", text[start:i+end])
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

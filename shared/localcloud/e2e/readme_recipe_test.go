package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
)

// The signed-request recipe of docs/webhooks.md (the sh block after "in a
// shell:"), run as written against the local cloud, with its placeholders
// (caller, instance, secret, URL) replaced by the local cloud's: the POST
// answers 202 with a job, the GET reads it.
func TestREADMESignedRequestRecipe(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"sh", "openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)in a shell:\n\n```sh\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/webhooks.md has no signed-request recipe after \"in a shell:\"")
	}
	post, get, ok := strings.Cut(string(m[1]), "JOB=...")
	if !ok {
		t.Fatal("the recipe has no JOB=... line between its POST and its GET")
	}
	get = get[strings.Index(get, "\n")+1:]
	local := func(script string) string {
		return strings.NewReplacer("release-bot", localcloud.SignedCaller, "rm-shop1", "rm-demo-pg1").Replace(script)
	}
	s := startStack(t, demoFleet(t, time.Minute), localcloud.Options{})
	env := append(os.Environ(), "WEBHOOK_URL="+s.WebhookURL, "RELEASE_BOT_SECRET="+localcloud.SignedSecret)

	postCmd := exec.CommandContext(s.ctx, "sh", "-c", local(post))
	postCmd.Env = env
	out, err := postCmd.Output()
	if err != nil {
		t.Fatalf("the POST recipe: %v\n%s", err, out)
	}
	var ans struct {
		Requests []struct {
			Status, BackupJobId string
		} `json:"requests"`
	}
	if err := json.Unmarshal(out, &ans); err != nil || len(ans.Requests) != 1 || ans.Requests[0].Status != "accepted" || ans.Requests[0].BackupJobId == "" {
		t.Fatalf("the POST recipe answered %s (%v)", out, err)
	}
	cmd := exec.CommandContext(s.ctx, "sh", "-c", local(get))
	cmd.Env = append(env, "JOB="+ans.Requests[0].BackupJobId)
	out, err = cmd.Output()
	if err != nil || !strings.Contains(string(out), `"BackupJobId":"`+ans.Requests[0].BackupJobId+`"`) {
		t.Fatalf("the GET recipe: %v\n%s", err, out)
	}
}

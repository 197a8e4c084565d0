package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

var update = flag.Bool("update", false, "rewrite testdata/events/http-github-deployment*.json")

// The FC3 HTTP events of a GitHub deployment delivery to the webhook
// function, for `devstack invoke --function webhook --event FILE`.
const (
	githubEventFile       = "testdata/events/http-github-deployment.json"
	githubBadSigEventFile = "testdata/events/http-github-deployment-badsig.json"
	githubFixtureDelivery = "9a3c1f52-6e0b-11f0-8d2a-4c9367dc0958"
)

// githubHTTPEvent is the FC3 HTTP event FC delivers for a GitHub
// deployment webhook (fc-platform.md §1c), its body the GitHub fixture
// signed with secret.
func githubHTTPEvent(t *testing.T, secret string) []byte {
	t.Helper()
	body := githubBody(t)
	headers := githubHeaders(body, githubFixtureDelivery, secret)
	headers["Accept"] = "*/*"
	headers["X-GitHub-Hook-ID"] = "109948940"
	ev := struct {
		Version         string            `json:"version"`
		RawPath         string            `json:"rawPath"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
		Headers         map[string]string `json:"headers"`
		QueryParameters map[string]string `json:"queryParameters"`
		RequestContext  map[string]any    `json:"requestContext"`
	}{
		Version: "v1", RawPath: "/v1/hooks/github", Body: string(body), Headers: headers, QueryParameters: map[string]string{},
		RequestContext: map[string]any{
			"accountId":    localcloud.AccountID,
			"domainName":   "rds-backup-webhook.cn-hangzhou.fcapp.run",
			"domainPrefix": "rds-backup-webhook",
			"http": map[string]string{"method": "POST", "path": "/v1/hooks/github", "protocol": "HTTP/1.1",
				"sourceIp": "140.82.115.10", "userAgent": headers["User-Agent"]},
			"requestId": "1-6742d1a0-0a1b2c3d4e5f60718293a4c1",
			"time":      "2026-11-24T06:41:11Z",
			"timeEpoch": "1795502471895",
		},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ev); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGitHubHTTPEventFixtures keeps the event fixtures in step with the
// GitHub fixture and the local secret (go test -run Fixtures -update
// rewrites them).
func TestGitHubHTTPEventFixtures(t *testing.T) {
	t.Parallel()
	for file, secret := range map[string]string{githubEventFile: localcloud.GitHubSecret, githubBadSigEventFile: "not-the-github-secret"} {
		want := githubHTTPEvent(t, secret)
		path := filepath.Join(root, file)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: go test ./shared/localcloud/e2e -run Fixtures -update", file)
		}
	}
}

// devstackDir holds the devstack binary; TestMain removes it.
var devstackDir string

var devstack = sync.OnceValues(func() (string, error) {
	var err error
	if devstackDir, err = os.MkdirTemp("", "e2e-devstack-"); err != nil {
		return "", err
	}
	bin := filepath.Join(devstackDir, "devstack")
	cmd := exec.Command("go", "build", "-o", bin, "./shared/devstack")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./shared/devstack: %v\n%s", err, out)
	}
	return bin, nil
})

// devstackBinary builds devstack once per test binary.
func devstackBinary(t *testing.T) string {
	t.Helper()
	bin, err := devstack()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// invokeOutput is what `devstack invoke` prints, one JSON object a line.
type invokeOutput struct {
	Responses []invokeResponse
	Outcomes  []notify.Event
	Summary   struct {
		RDSCalls       map[string]int `json:"rdsCalls"`
		BackupsCreated map[string]int `json:"backupsCreated"`
	}
}

type invokeResponse struct {
	Response struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	} `json:"response"`
	Error json.RawMessage `json:"error"`
}

func runInvoke(t *testing.T, args ...string) invokeOutput {
	t.Helper()
	cmd := exec.Command(devstackBinary(t), append([]string{"invoke"}, args...)...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("devstack invoke %v: %v\n%s", args, err, tail(stderr.String(), 4000))
	}
	var out invokeOutput
	summaries := 0
	for line := range strings.Lines(stdout.String()) {
		var kind struct {
			Kind  string          `json:"kind"`
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal([]byte(line), &kind); err != nil {
			t.Fatalf("devstack invoke printed a line that is not JSON: %q", line)
		}
		var err error
		switch kind.Kind {
		case "response":
			var r invokeResponse
			err = json.Unmarshal([]byte(line), &r)
			out.Responses = append(out.Responses, r)
		case "outcome":
			var ev notify.Event
			ev, err = notify.ParseEvent(kind.Event)
			out.Outcomes = append(out.Outcomes, ev)
		case "summary":
			summaries++
			err = json.Unmarshal([]byte(line), &out.Summary)
		case "work":
		default:
			err = fmt.Errorf("unknown kind %q", kind.Kind)
		}
		if err != nil {
			t.Fatalf("devstack invoke: %v in %s", err, line)
		}
	}
	if summaries != 1 {
		t.Fatalf("devstack invoke printed %d summaries, want 1:\n%s", summaries, stdout.String())
	}
	return out
}

func TestDevstackInvokeWebhookWithGitHubEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, event string
		times       int
		status      int
		created     map[string]int
	}{
		{"signed", githubEventFile, 1, http.StatusAccepted, map[string]int{"rm-demo-mysql1": 1}},
		{"bad signature", githubBadSigEventFile, 1, http.StatusUnauthorized, map[string]int{}},
		{"signed, delivered 3 times", githubEventFile, 3, http.StatusAccepted, map[string]int{"rm-demo-mysql1": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := runInvoke(t, "--function", "webhook", "--event", filepath.Join(root, tc.event), "--times", fmt.Sprint(tc.times))
			if len(out.Responses) != tc.times {
				t.Fatalf("%d responses, want %d", len(out.Responses), tc.times)
			}
			for i, r := range out.Responses {
				if r.Error != nil || r.Response.StatusCode != tc.status {
					t.Errorf("response %d: statusCode %d error %s body %s; want %d", i+1, r.Response.StatusCode, r.Error, r.Response.Body, tc.status)
				}
			}
			if fmt.Sprint(out.Summary.BackupsCreated) != fmt.Sprint(tc.created) {
				t.Errorf("backupsCreated %v, want %v", out.Summary.BackupsCreated, tc.created)
			}
			accepted := ofType(out.Outcomes, "accepted")
			if tc.status != http.StatusAccepted {
				if len(out.Summary.RDSCalls) != 0 || len(out.Outcomes) != 0 {
					t.Errorf("an unauthenticated request made RDS calls %v and outcomes:\n%s", out.Summary.RDSCalls, describe(out.Outcomes))
				}
				return
			}
			if len(accepted) != 1 || accepted[0].Subject != "rm-demo-mysql1" || accepted[0].Data.Trigger.DeliveryId != githubFixtureDelivery {
				t.Errorf("want one accepted outcome for rm-demo-mysql1 from the delivery, got:\n%s", describe(out.Outcomes))
			}
			if n := len(ofType(out.Outcomes, "coalesced")); n != tc.times-1 {
				t.Errorf("%d coalesced outcomes, want %d:\n%s", n, tc.times-1, describe(out.Outcomes))
			}
		})
	}
}

// TestDevstackServePrintsTheLocalCloud starts `devstack serve`, reads its
// JSON line (DESIGN.md §7), checks the admin state answers, and interrupts it.
func TestDevstackServePrintsTheLocalCloud(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(devstackBinary(t), "serve", "--quiet")
	cmd.Dir = root
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("devstack serve did not exit cleanly on SIGINT: %v\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("devstack serve did not stop within 15 s of SIGINT")
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatalf("devstack serve printed nothing in 30 s\n%s", stderr.String())
	}
	var info struct {
		RDSEndpoint, MNSEndpoint, WebhookURL, AdminURL, AccessKeyID, AccessKeySecret string
		Queues                                                                       map[string]string
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("devstack serve: %v in %q", err, line)
	}
	want := map[string]string{"notify": localcloud.NotifyQueue, "work": localcloud.WorkQueue, "deadLetter": localcloud.DeadLetter}
	if fmt.Sprint(info.Queues) != fmt.Sprint(want) {
		t.Errorf("queues %v, want %v", info.Queues, want)
	}
	if info.RDSEndpoint == "" || info.MNSEndpoint == "" || info.WebhookURL == "" || info.AccessKeyID == "" || info.AccessKeySecret == "" {
		t.Errorf("serve line lacks endpoints or keys: %s", line)
	}
	res, err := http.Get(info.AdminURL + "/state")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /state: HTTP %d", res.StatusCode)
	}
}

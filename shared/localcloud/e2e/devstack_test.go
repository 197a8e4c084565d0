package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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
	// githubFixtureCreatedAt is the fixture deployment's created_at, its
	// askedAt: older than BACKUP_MAX_ASK_AGE (24 h by default).
	githubFixtureCreatedAt = "2019-05-15T15:20:53Z"
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
		env         []string
		times       int
		status      int
		created     map[string]int
	}{
		// The fixture is a 2019 delivery: asked only without a max ask age.
		{"signed", githubEventFile, []string{"BACKUP_MAX_ASK_AGE=0"}, 1, http.StatusAccepted, map[string]int{"rm-demo-mysql1": 1}},
		{"bad signature", githubBadSigEventFile, []string{"BACKUP_MAX_ASK_AGE=0"}, 1, http.StatusUnauthorized, map[string]int{}},
		{"signed, delivered 3 times", githubEventFile, []string{"BACKUP_MAX_ASK_AGE=0"}, 3, http.StatusAccepted, map[string]int{"rm-demo-mysql1": 1}},
		{"signed, older than BACKUP_MAX_ASK_AGE (24h by default)", githubEventFile, nil, 1, http.StatusAccepted, map[string]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--function", "webhook", "--event", filepath.Join(root, tc.event), "--times", fmt.Sprint(tc.times)}
			for _, e := range tc.env {
				args = append(args, "--env", e)
			}
			out := runInvoke(t, args...)
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
			if tc.env == nil {
				// Too old: answered 202 "ignored" (GitHub does not retry
				// it), naming the rule; no RDS call, no outcome.
				if b := out.Responses[0].Response.Body; !strings.Contains(b, "ignored") || !strings.Contains(b, "BACKUP_MAX_ASK_AGE") {
					t.Errorf("body %s, want ignored naming BACKUP_MAX_ASK_AGE", b)
				}
				if len(out.Summary.RDSCalls) != 0 || len(out.Outcomes) != 0 {
					t.Errorf("a delivery older than the max ask age made RDS calls %v and outcomes:\n%s", out.Summary.RDSCalls, describe(out.Outcomes))
				}
				return
			}
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
	info := serve(t)
	want := map[string]string{"notify": localcloud.NotifyQueue, "work": localcloud.WorkQueue, "deadLetter": localcloud.DeadLetter}
	if fmt.Sprint(info.Queues) != fmt.Sprint(want) {
		t.Errorf("queues %v, want %v", info.Queues, want)
	}
	if info.RDSEndpoint == "" || info.MNSEndpoint == "" || info.WebhookURL == "" || info.AccessKeyID == "" || info.AccessKeySecret == "" ||
		info.TablestoreEndpoint == "" || info.TablestoreInstance == "" || info.STSEndpoint == "" || info.STSProtocol != "http" {
		t.Errorf("serve line lacks endpoints or keys: %+v", info)
	}
	res, err := http.Get(info.AdminURL + "/state")
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&state); err != nil {
		t.Errorf("GET /state: %v", err)
	}
	res.Body.Close()
	for _, k := range []string{"rds", "mns", "tablestore", "sts", "otsCalls", "stsCalls"} {
		if _, ok := state[k]; !ok {
			t.Errorf("GET /state lacks %q", k)
		}
	}
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /state: HTTP %d", res.StatusCode)
	}
}

// TestDevstackDemoTellsTheWholeStory runs `devstack demo` (make run) and
// reads its narration: the clock it runs, a deferral that resolves, the plan
// run's summary, a redelivered message that coalesces (one backup), every
// job completed, a Jira change's signed webhook (its retry one ask), a
// second account's instances backed up with its role's key, exit 0.
func TestDevstackDemoTellsTheWholeStory(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a safety net, not a bound
	defer cancel()
	cmd := exec.CommandContext(ctx, devstackBinary(t), "demo")
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("devstack demo: %v\n%s\n%s", err, stdout.String(), tail(stderr.String(), 4000))
	}
	out := stdout.String()
	lines := strings.Split(out, "\n")
	// find returns the index of the first line from `from` on that matches
	// re, and its submatches.
	find := func(from int, what, re string) (int, []string) {
		t.Helper()
		rx := regexp.MustCompile(re)
		for i := from; i < len(lines); i++ {
			if m := rx.FindStringSubmatch(lines[i]); m != nil {
				return i, m
			}
		}
		t.Fatalf("the demo does not show %s (no line after line %d matches %q):\n%s", what, from+1, re, out)
		return 0, nil
	}

	// It says how fast its clock runs before anything happens.
	clock, _ := find(0, "its clock speed", `MNS runs \d+× faster than real time`)
	if first, _ := find(0, "its first step", `^▶ 1\. `); clock > first {
		t.Errorf("the clock is stated at line %d, after the first step (line %d)", clock+1, first+1)
	}

	// The timer plan: rm-demo-pg1 is Rebooting → deferred; the plan run
	// ends in one summary naming the read-only instance it rejected.
	deferred, _ := find(0, "rm-demo-pg1 deferred", `… deferred\s+rm-demo-pg1\b`)
	run, _ := find(0, "the plan run's summary", `■ run\s+local-timer\b.*rds\.backup\.run`)
	find(run, "the summary's counts", `4 asks, by first outcome: accepted 2, deferred 1, rejected 1`)
	find(run, "the summary's problem", `rm-demo-replica rejected: ReadDBInstanceNotSupport`)
	// The deferral resolves: once Running, the same ask is accepted, then
	// completed.
	accepted, _ := find(deferred, "rm-demo-pg1 accepted after its deferral", `✓ accepted\s+rm-demo-pg1\s+job \d+`)
	find(accepted, "that it is the same ask", `the same ask, resumed by fc-rds-backup/queue`)
	find(accepted, "rm-demo-pg1 completed", `★ completed\s+rm-demo-pg1\b`)

	// The redelivery: the first delivery made the job and died; the second
	// coalesced with that job; FC invoked the message's batch twice (its
	// async retry).
	crash, m := find(0, "the queue function killed after CreateBackup on rm-demo-maria", `↯ RDS made job (\d+) on rm-demo-maria`)
	coalesced, _ := find(crash, "the redelivery coalesced with the job", `≡ coalesced\s+rm-demo-maria\s+job `+m[1]+`\b`)
	find(coalesced, "FC's two invocations", `↻ FC delivered message \S+ 2 times`)
	find(coalesced, "rm-demo-maria completed", `★ completed\s+rm-demo-maria\s+job `+m[1]+`\b`)

	// Every step printed where it happened: each step's own outcome comes
	// after its header and before the next step's.
	for _, s := range []struct{ step, line string }{
		{`^▶ 1\. .*timer`, `■ run\s+local-timer`},
		{`^▶ 2\. .*rm-demo-pg1`, `✓ accepted\s+rm-demo-pg1`},
		{`^▶ 3\. .*signed`, `✓ accepted\s+rm-demo-flaky`},
		{`^▶ 4\. .*rm-demo-maria`, `≡ coalesced\s+rm-demo-maria`},
		{`^▶ 5\. .*invalid`, `✗ rejected\s+rm-demo-mysql1`},
		{`^▶ 7\. .*Jira, OPS-123, moves to Implementing`, `✓ accepted\s+rm-demo-mysql1\s+job \d+\s+\[jira OPS-123\]`},
		{`^▶ 8\. a second account: 2000000000000002`, `✓ accepted\s+rm-demo-dev2\s+\(account 2000000000000002\) job \d+`},
	} {
		h, _ := find(0, "a step header", s.step)
		at, _ := find(h, "the step's outcome", s.line)
		if next, _ := find(h+1, "the next step or the end", `^(▶ \d+\. |done in )`); at > next {
			t.Errorf("%q printed at line %d, after the next step's header (line %d):\n%s", s.line, at+1, next+1, out)
		}
	}

	// The change-management ask: Jira's signed delivery accepted, its
	// retry the same ask, its backup completed.
	jira, _ := find(0, "the Jira step", `^▶ 7\. .*Jira`)
	find(jira, "the delivery accepted", `HTTP 202 \{"requests":\[\{"status":"accepted","DBInstanceId":"rm-demo-mysql1"`)
	find(jira, "Jira's retry coalesced", `HTTP 202 \{"requests":\[\{"status":"coalesced","DBInstanceId":"rm-demo-mysql1"`)
	find(jira, "the change's backup completed", `★ completed\s+rm-demo-mysql1\s+job \d+.*\[jira OPS-123\]`)

	// The second account: its instances backed up with its role's key,
	// one AssumeRole.
	second, _ := find(0, "the second account's step", `^▶ 8\. `)
	find(second, "one AssumeRole of the member role", `STS: 1 AssumeRole \(acs:ram::2000000000000002:role/fc-rds-backup-member as session `)
	find(second, "rm-demo-dev1 signed in its account", `RDS: CreateBackup of rm-demo-dev1 signed with a key of account 2000000000000002`)
	find(second, "the run per account and region", `in 2000000000000002/cn-shanghai: accepted 1`)

	_, m = find(0, "the backups created", `^backups created: (\{.*\})`)
	var created map[string]int
	if err := json.Unmarshal([]byte(m[1]), &created); err != nil {
		t.Fatal(err)
	}
	// rm-demo-mysql1 twice: the nightly plan's and the change's.
	want := map[string]int{"rm-demo-flaky": 1, "rm-demo-maria": 1, "rm-demo-mssql1": 1, "rm-demo-mysql1": 2, "rm-demo-pg1": 1,
		"rm-demo-dev1": 1, "rm-demo-dev2": 1}
	if fmt.Sprint(created) != fmt.Sprint(want) {
		t.Errorf("backups created %v, want %v", created, want)
	}
}

// TestDevstackInvokeFailsWhenTheFunctionCannotStart: a function that
// refuses its configuration never takes the event; invoke exits 1 and
// says why, in the function's own words, even with --quiet.
func TestDevstackInvokeFailsWhenTheFunctionCannotStart(t *testing.T) {
	t.Parallel()
	for function, event := range map[string]string{
		"scheduled": "testdata/events/timer.json",
		"queue":     "testdata/events/mns-single.json",
		"webhook":   githubEventFile,
	} {
		t.Run(function, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(devstackBinary(t), "invoke", "--quiet", "--function", function,
				"--event", filepath.Join(root, event), "--env", "BACKUP_RDS_CONCURRENCY=0")
			cmd.Dir = root
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("devstack invoke: %v, want exit status 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			for _, want := range []string{"the " + function + " function failed to start", `BACKUP_RDS_CONCURRENCY="0": must be a whole number from 1 to 256`} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if strings.Contains(stdout.String(), `"kind":"summary"`) {
				t.Errorf("a function that did not start got a summary line:\n%s", stdout.String())
			}
		})
	}
}

// TestDevstackUsageListsEveryFlag: `devstack help` is the full usage, and a
// mistake on the command line is exit status 2.
func TestDevstackUsageListsEveryFlag(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(devstackBinary(t), "help").Output()
	if err != nil {
		t.Fatalf("devstack help: %v", err)
	}
	for _, flag := range []string{"--fleet FILE", "-v ", "--timeout D", "--env KEY=VALUE", "--env-file FILE", "--fc-instances N", "--quiet",
		"--function NAME", "--event FILE", "--times N", "--retry-count N", "--work", "exit status"} {
		if !bytes.Contains(out, []byte(flag)) {
			t.Errorf("devstack help does not mention %q:\n%s", flag, out)
		}
	}
	err = exec.Command(devstackBinary(t), "invoke", "--no-such-flag").Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("devstack invoke --no-such-flag: %v, want exit status 2", err)
	}
}

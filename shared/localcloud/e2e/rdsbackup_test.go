package e2e

import (
	"bytes"
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
	"gopkg.in/yaml.v3"
)

var (
	rdsbackupOnce sync.Once
	rdsbackupBin  string
	rdsbackupErr  error
)

// rdsbackup builds the pipeline client once, as a user would install it.
func rdsbackup(t *testing.T) string {
	t.Helper()
	rdsbackupOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rdsbackup")
		if err != nil {
			rdsbackupErr = err
			return
		}
		rdsbackupBin = filepath.Join(dir, "rdsbackup")
		cmd := exec.Command("go", "build", "-o", rdsbackupBin, "./shared/cmd/rdsbackup")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			rdsbackupErr = err
			t.Logf("%s", out)
		}
	})
	if rdsbackupErr != nil {
		t.Fatal(rdsbackupErr)
	}
	return rdsbackupBin
}

// gate runs `rdsbackup gate args...` against the stack as the local signed
// caller and returns its exit code and output.
func (s *stack) gate(t *testing.T, secret string, args ...string) (int, string) {
	t.Helper()
	return s.gateEnv(t, secret, []string{"GITHUB_RUN_ID=", "CI_PIPELINE_ID="}, args...)
}

// gateEnv is gate with env added to the command's environment (a CI job's
// variables).
func (s *stack) gateEnv(t *testing.T, secret string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(s.ctx, rdsbackup(t), append([]string{"gate", "--poll", "200ms"}, args...)...)
	cmd.Env = append(append(os.Environ(), "RDSBACKUP_URL="+s.WebhookURL, "RDSBACKUP_CALLER="+localcloud.SignedCaller,
		"RDSBACKUP_SECRET="+secret, "GITHUB_RUN_ID=", "CI_PIPELINE_ID="), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

// DESIGN.md §9 and issue "What users touch": rdsbackup gate through the
// built functions on the local cloud.
func TestRdsbackupGate(t *testing.T) {
	t.Parallel()
	secret := localcloud.SignedSecret
	t.Run("Finished: exit 0", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, withoutSetLag(demoFleet(t, 2*time.Second)), localcloud.Options{})
		asked := time.Now().UTC().Format(time.RFC3339)
		code, out := s.gate(t, secret, "--key", "deploy-1", "--asked-at", asked, "rm-demo-pg1")
		if code != 0 || !strings.Contains(out, "Finished") || !strings.Contains(out, "verdict: backed up") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		// The same key and time again (a re-run of the step): the same
		// ask, coalesced with the backup it made, exit 0.
		code, out = s.gate(t, secret, "--key", "deploy-1", "--asked-at", asked, "rm-demo-pg1")
		if code != 0 {
			t.Fatalf("second run: exit %d:\n%s", code, out)
		}
		wantCreated(t, s, map[string]int{"rm-demo-pg1": 1})
	})
	t.Run("read-only: exit 1 with the API's code", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, demoFleet(t, 2*time.Second), localcloud.Options{})
		code, out := s.gate(t, secret, "rm-demo-replica")
		if code != 1 || !strings.Contains(out, "ReadDBInstanceNotSupport") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		wantCreated(t, s, map[string]int{})
	})
	t.Run("Rebooting: deferred, asked again, exit 0 once Running", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, withoutSetLag(demoFleet(t, time.Second)), localcloud.Options{Env: []string{"BACKUP_ATTEMPTS_PER_INVOCATION=1"}})
		s.Cloud.RDS.SetStatus("rm-demo-mysql1", "Rebooting")
		done := make(chan struct{})
		var code int
		var out string
		go func() { defer close(done); code, out = s.gate(t, secret, "--timeout", "90s", "rm-demo-mysql1") }()
		s.waitOutcomes(30*time.Second, "deferred", func(evs []notify.Event) bool { return len(ofType(evs, "deferred")) > 0 })
		s.Cloud.RDS.SetStatus("rm-demo-mysql1", "Running")
		<-done
		if code != 0 || !strings.Contains(out, "deferred") || !strings.Contains(out, "verdict: backed up") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		wantCreated(t, s, map[string]int{"rm-demo-mysql1": 1})
	})
	t.Run("a slow job and --timeout 2s: exit 2", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, demoFleet(t, time.Hour), localcloud.Options{})
		code, out := s.gate(t, secret, "--timeout", "2s", "rm-demo-mssql1")
		if code != 2 || !strings.Contains(out, "no verdict within 2s") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("a wrong secret: exit 3 (could not ask), saying what to check", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, demoFleet(t, time.Second), localcloud.Options{})
		code, out := s.gate(t, "not-the-secret", "rm-demo-pg1")
		if code != 3 || !strings.Contains(out, "RDSBACKUP_SECRET") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		wantCreated(t, s, map[string]int{})
	})
}

// Issue 18: two gate jobs of one CI run (staging and prod, or a matrix
// over instances) with the default keys are two asks. The key used to be
// the run id and attempt alone: with one warm function instance serving
// both, the second gate's other instance made it "the same key for other
// backups", a 409, exit 1.
func TestRdsbackupGateTwoJobsOfOneRun(t *testing.T) {
	t.Parallel()
	s := startStack(t, withoutSetLag(demoFleet(t, 2*time.Second)), localcloud.Options{FCInstances: 1})
	run := []string{"GITHUB_REPOSITORY=acme/shop", "GITHUB_RUN_ID=5151", "GITHUB_RUN_ATTEMPT=1"}
	jobs := []struct{ job, instance string }{{"deploy-staging", "rm-demo-pg1"}, {"deploy-prod", "rm-demo-mysql1"}}
	codes, outs := make([]int, len(jobs)), make([]string, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], outs[i] = s.gateEnv(t, localcloud.SignedSecret, append(run, "GITHUB_JOB="+j.job), "--timeout", "60s", j.instance)
		}()
	}
	wg.Wait()
	keyRE := regexp.MustCompile(`idempotency key (\S+),`)
	var keys []string
	for i := range jobs {
		if codes[i] != 0 || !strings.Contains(outs[i], "verdict: backed up") {
			t.Errorf("%s: exit %d:\n%s", jobs[i].job, codes[i], outs[i])
		}
		m := keyRE.FindStringSubmatch(outs[i])
		if m == nil || !strings.HasPrefix(m[1], "github-5151-1-") {
			t.Errorf("%s: no key github-5151-1-… in:\n%s", jobs[i].job, outs[i])
			continue
		}
		keys = append(keys, m[1])
	}
	if len(keys) == 2 && keys[0] == keys[1] {
		t.Errorf("both jobs asked with key %s", keys[0])
	}
	wantCreated(t, s, map[string]int{"rm-demo-pg1": 1, "rm-demo-mysql1": 1})
}

// The GitHub action's gate step, as written in action.yml, with rdsbackup
// on the PATH (the install step is GitHub's business): its env evaluated
// from the inputs as GitHub would (given ones, else the defaults), bash,
// and GITHUB_OUTPUT, whose lines must be the action's outputs and name the
// jobs the local cloud made (issue 20).
func TestGitHubActionGateStep(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "shared/integrations/github/action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs  map[string]struct{ Default string }
		Outputs map[string]struct{ Value string }
		Runs    struct {
			Steps []struct {
				Name, ID, Shell, Run string
				Env                  map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatal(err)
	}
	var step *struct {
		Name, ID, Shell, Run string
		Env                  map[string]string
	}
	for i := range action.Runs.Steps {
		if action.Runs.Steps[i].Name == "Backup gate" {
			step = &action.Runs.Steps[i]
		}
	}
	if step == nil || step.Run == "" || step.ID == "" {
		t.Fatal("action.yml has no 'Backup gate' step with an id and a run block")
	}
	for _, name := range []string{"verdict", "job-ids", "backup-set-ids"} {
		if got, want := action.Outputs[name].Value, "${{ steps."+step.ID+".outputs."+name+" }}"; got != want {
			t.Errorf("output %s: value %q, want %q", name, got, want)
		}
	}
	s := startStack(t, demoFleet(t, time.Second), localcloud.Options{})
	inputs := map[string]string{"instances": "rm-demo-pg1 rm-demo-mysql1", "url": s.WebhookURL, "caller": localcloud.SignedCaller,
		"secret": localcloud.SignedSecret, "timeout": "60s", "poll": "200ms", "region": ""}
	expr := regexp.MustCompile(`^\$\{\{ inputs\.([a-z-]+) \}\}$`)
	env := append(os.Environ(), "PATH="+filepath.Dir(rdsbackup(t))+":"+os.Getenv("PATH"),
		"GITHUB_REPOSITORY=acme/shop", "GITHUB_RUN_ID=4242", "GITHUB_RUN_ATTEMPT=1", "GITHUB_JOB=backup", "CI_PIPELINE_ID=")
	passed := map[string]bool{}
	for k, v := range step.Env {
		m := expr.FindStringSubmatch(v)
		if m == nil {
			t.Fatalf("env %s: %q is not an input", k, v)
		}
		in, ok := action.Inputs[m[1]]
		if !ok {
			t.Fatalf("env %s: no input %s", k, m[1])
		}
		val := in.Default
		if o, ok := inputs[m[1]]; ok {
			val = o
		}
		passed[m[1]] = true
		env = append(env, k+"="+val)
	}
	for _, in := range []string{"instances", "url", "caller", "secret", "method", "key", "region", "timeout", "poll"} {
		if !passed[in] {
			t.Errorf("the gate step does not pass input %s", in)
		}
	}
	out := filepath.Join(t.TempDir(), "github_output")
	cmd := exec.CommandContext(s.ctx, "bash", "-c", step.Run)
	cmd.Env = append(env, "GITHUB_OUTPUT="+out)
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "idempotency key github-4242-1-") || !strings.Contains(string(got), "verdict: backed up") {
		t.Fatalf("gate step: %v\n%s", err, got)
	}
	wantCreated(t, s, map[string]int{"rm-demo-pg1": 1, "rm-demo-mysql1": 1})
	jobs, sets := madeJobs(t, s, "rm-demo-pg1", "rm-demo-mysql1")
	want := "verdict=backed-up\njob-ids=" + jobs + "\nbackup-set-ids=" + sets + "\n"
	if b, _ := os.ReadFile(out); string(b) != want {
		t.Errorf("GITHUB_OUTPUT\n%q, want\n%q", b, want)
	}
}

// madeJobs are the local cloud's jobs of instances (one each) and their
// backup sets, as the gate's outputs list them: in the order of the
// instances, separated by spaces.
func madeJobs(t *testing.T, s *stack, instances ...string) (jobs, sets string) {
	t.Helper()
	var j, b []string
	for _, id := range instances {
		js := s.Cloud.RDS.Jobs(id)
		if len(js) != 1 || js[0].BackupStatus != "Finished" || js[0].BackupId == "" {
			t.Fatalf("%s: jobs %+v, want one Finished", id, js)
		}
		j, b = append(j, js[0].BackupJobId), append(b, js[0].BackupId)
	}
	return strings.Join(j, " "), strings.Join(b, " ")
}

// rdsbackup watch reads the notification queue as a user's consumer would
// (the official MNS SDK, the local cloud's user key) and prints each ask's
// story and the plan run's summary.
func TestRdsbackupWatch(t *testing.T) {
	t.Parallel()
	s := startStack(t, demoFleet(t, time.Second), localcloud.Options{})
	s.fire(`{"Backups":[{"DBInstanceId":"rm-demo-pg1"},{"DBInstanceId":"rm-demo-replica"}]}`)
	s.waitOutcomes(30*time.Second, "completed and the run summary", func(evs []notify.Event) bool {
		return haveAll(evs, "completed", "rm-demo-pg1") && len(s.runs()) == 1
	})
	cmd := exec.CommandContext(s.ctx, rdsbackup(t), "watch", "--until-idle", "2s")
	cmd.Env = append(os.Environ(), "RDSBACKUP_MNS_ENDPOINT="+s.Cloud.MNS.Endpoint(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID="+s.Cloud.User.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+s.Cloud.User.AccessKeySecret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("watch: %v\n%s", err, out)
	}
	for _, want := range []string{"plan run", "2 asks", "1 accepted", "1 rejected", "rm-demo-replica rejected: ReadDBInstanceNotSupport",
		"accepted  rm-demo-pg1", "completed rm-demo-pg1", "2 ask(s):", "accepted → completed [final]", "rejected [final]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("watch output lacks %q:\n%s", want, out)
		}
	}
}

// The GitLab template's gate block, as written, with rdsbackup on PATH
// where the template's install block puts it (that block, which downloads
// and verifies a release, is run against a built release by
// shared/tooling/dist's tests), the template's variables (their defaults,
// then the job's), in a project directory: the dotenv report it declares
// must name the job the local cloud made (issue 20).
func TestGitLabTemplateScript(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "shared/integrations/gitlab/rdsbackup.gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]struct {
		Variables map[string]string
		Script    []string
		Artifacts struct {
			When    string
			Reports struct{ Dotenv string }
		}
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	job, ok := tpl[".rdsbackup-gate"]
	if !ok || len(job.Script) < 2 || !strings.HasPrefix(job.Script[len(job.Script)-1], "set -eu\n") {
		t.Fatal("the template has no gate block of the expected shape (its last script item, starting with set -eu)")
	}
	if job.Artifacts.Reports.Dotenv == "" || job.Artifacts.When != "always" {
		t.Fatalf("the template declares artifacts %+v, want a dotenv report, when: always", job.Artifacts)
	}
	bin := t.TempDir()
	if err := os.Symlink(rdsbackup(t), filepath.Join(bin, "rdsbackup")); err != nil {
		t.Fatal(err)
	}
	s := startStack(t, demoFleet(t, time.Second), localcloud.Options{})
	vars := job.Variables
	for k, v := range map[string]string{"RDSBACKUP_URL": s.WebhookURL, "RDSBACKUP_CALLER": localcloud.SignedCaller,
		"RDSBACKUP_SECRET": localcloud.SignedSecret, "RDSBACKUP_TIMEOUT": "60s", "RDSBACKUP_POLL": "200ms",
		"RDSBACKUP_INSTANCES": "rm-demo-pg1"} {
		vars[k] = v
	}
	for _, v := range []string{"RDSBACKUP_KEY", "RDSBACKUP_REGION", "RDSBACKUP_POLL", "RDSBACKUP_TIMEOUT", "RDSBACKUP_METHOD"} {
		if _, ok := job.Variables[v]; !ok {
			t.Errorf("the template has no variable %s", v)
		}
	}
	project := t.TempDir()
	cmd := exec.CommandContext(s.ctx, "sh", "-c", job.Script[len(job.Script)-1])
	cmd.Dir = project
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CI_PROJECT_ID=77", "CI_PIPELINE_ID=777", "CI_JOB_ID=555", "GITHUB_RUN_ID=", "GITHUB_OUTPUT=")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "idempotency key gitlab-777-555-") || !strings.Contains(string(out), "verdict: backed up") {
		t.Fatalf("template script: %v\n%s", err, out)
	}
	wantCreated(t, s, map[string]int{"rm-demo-pg1": 1})
	jobs, sets := madeJobs(t, s, "rm-demo-pg1")
	want := "RDSBACKUP_VERDICT=backed-up\nRDSBACKUP_JOB_IDS=" + jobs + "\nRDSBACKUP_BACKUP_SET_IDS=" + sets + "\n"
	if b, err := os.ReadFile(filepath.Join(project, job.Artifacts.Reports.Dotenv)); err != nil || string(b) != want {
		t.Errorf("%s: %v\n%q, want\n%q", job.Artifacts.Reports.Dotenv, err, b, want)
	}
}

// Issue 20: a misconfiguration is "could not ask", exit 3 within
// --connect-timeout, with a line that names what to check — through the
// built rdsbackup against the local cloud: nothing listening at the URL, a
// TLS mismatch, a wrong path, and a webhook that cannot start because its
// route's secret is unset. It used to look like a slow backup: retried
// until --timeout, then exit 2.
func TestRdsbackupGateCouldNotAsk(t *testing.T) {
	t.Parallel()
	s := startStack(t, demoFleet(t, time.Second), localcloud.Options{})
	host := strings.TrimPrefix(s.WebhookURL, "http://")
	noSecret := startStack(t, demoFleet(t, time.Second), localcloud.Options{FunctionEnv: map[string][]string{"webhook": {"DEMO_SIGNED_SECRET="}}})
	for _, tc := range []struct {
		name, url, check string
	}{
		{"nothing listens at the URL", "http://127.0.0.1:1", "RDSBACKUP_URL"},
		{"https to a plain HTTP server", "https://" + host, "RDSBACKUP_URL"},
		{"a wrong path", s.WebhookURL + "/nope", "RDSBACKUP_URL's path"},
		{"the webhook cannot start (its route's secret is unset)", noSecret.WebhookURL, "the webhook function may not start; check its logs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out := s.gateEnv(t, localcloud.SignedSecret, []string{"RDSBACKUP_URL=" + tc.url},
				"--connect-timeout", "3s", "--timeout", "5m", "rm-demo-pg1")
			if code != 3 || !strings.Contains(out, "could not ask") || !strings.Contains(out, tc.check) {
				t.Errorf("exit %d, want 3 naming %q:\n%s", code, tc.check, out)
			}
			if took := time.Since(start); took > time.Minute {
				t.Errorf("took %v: the connect timeout is 3 s, the overall timeout 5 m", took)
			}
		})
	}
	wantCreated(t, s, map[string]int{})
	wantCreated(t, noSecret, map[string]int{})
}

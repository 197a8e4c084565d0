package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

const root = "../../.."

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "testdata/schema/fc3-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("fc3-schema.json", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("fc3-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// toJSONValue converts YAML-decoded values into what the validator expects
// (JSON numbers, string-keyed maps).
func toJSONValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func load(t *testing.T) SYAML {
	t.Helper()
	s, err := LoadSYAML(filepath.Join(root, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSYAMLPropsMatchFC3Schema(t *testing.T) {
	schema := compileSchema(t)
	s := load(t)
	if s.Edition != "3.0.0" {
		t.Errorf("edition = %q, want 3.0.0", s.Edition)
	}
	want := []string{"queue", "scheduled", "webhook"}
	var got []string
	for name, r := range s.Resources {
		got = append(got, name)
		if r.Component != "fc3" {
			t.Errorf("%s: component %q, want fc3", name, r.Component)
		}
		if err := schema.Validate(toJSONValue(t, r.Props)); err != nil {
			t.Errorf("%s: props do not match the fc3 schema: %v", name, err)
		}
		if r.Props["runtime"] != "go1" || r.Props["handler"] != "main" || r.Props["code"] != "./build/"+name {
			t.Errorf("%s: want runtime go1, handler main, code ./build/%s; got %v %v %v", name, name, r.Props["runtime"], r.Props["handler"], r.Props["code"])
		}
		if !strings.Contains(toJSONString(t, r.Actions), "make build-"+name) {
			t.Errorf("%s: pre-deploy does not run make build-%s", name, name)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("resources = %v, want %v", got, want)
	}
}

func TestBrokenCopyFailsValidation(t *testing.T) {
	schema := compileSchema(t)
	s := load(t)
	breakages := map[string]func(p map[string]any){
		"memory not a multiple of 64": func(p map[string]any) { p["memorySize"] = 100 },
		"unknown runtime":             func(p map[string]any) { p["runtime"] = "go2" },
		"timeout too long":            func(p map[string]any) { p["timeout"] = 90000 },
		"missing functionName":        func(p map[string]any) { delete(p, "functionName") },
		"trigger without a name": func(p map[string]any) {
			p["triggers"] = []any{map[string]any{"triggerType": "timer", "triggerConfig": map[string]any{"cronExpression": "0 0 * * * *", "enable": true}}}
		},
		"http methods not a list": func(p map[string]any) { p["environmentVariables"] = "BACKUP_LOG_LEVEL=info" },
		"unknown trigger type": func(p map[string]any) {
			p["triggers"] = []any{map[string]any{"triggerName": "t", "triggerType": "mns_queue", "triggerConfig": map[string]any{}}}
		},
	}
	for name, breakIt := range breakages {
		t.Run(name, func(t *testing.T) {
			var props map[string]any
			if err := json.Unmarshal([]byte(toJSONString(t, s.Resources["queue"].Props)), &props); err != nil {
				t.Fatal(err)
			}
			breakIt(props)
			if err := schema.Validate(toJSONValue(t, props)); err == nil {
				t.Fatal("a deliberately broken copy validated")
			}
		})
	}
}

func TestEventBridgeTriggerIsLast(t *testing.T) {
	for name, r := range load(t).Resources {
		trigs, _ := r.Props["triggers"].([]any)
		for i, tr := range trigs {
			if m, _ := tr.(map[string]any); m["triggerType"] == "eventbridge" && i != len(trigs)-1 {
				t.Errorf("%s: eventbridge trigger at %d of %d; the fc3 component skips triggers after it", name, i, len(trigs))
			}
		}
	}
}

func TestEnvironmentMatchesConfig(t *testing.T) {
	s := load(t)
	seen := map[string]bool{}
	for name, r := range s.Resources {
		env, _ := r.Props["environmentVariables"].(map[string]any)
		if len(env) == 0 {
			t.Errorf("%s: no environmentVariables", name)
		}
		for k := range env {
			seen[k] = true
			if strings.HasPrefix(k, config.Prefix) && !slices.ContainsFunc(config.Vars, func(v config.Var) bool { return v.Name == k }) {
				t.Errorf("%s: s.yaml sets %s, which the code does not read", name, k)
			}
		}
	}
	for _, v := range config.Vars {
		if !seen[v.Name] && !v.Optional {
			t.Errorf("%s is read by the code but neither in s.yaml nor marked optional", v.Name)
		}
	}
	// Secrets come from the deployer's environment, never literally.
	raw, _ := os.ReadFile(filepath.Join(root, "s.yaml"))
	secretLine := regexp.MustCompile(`(?m)^\s*(\w*(SECRET|TOKEN|ENVELOPE_KEY)\w*):\s*(.+)$`)
	for _, m := range secretLine.FindAllStringSubmatch(string(raw), -1) {
		if !strings.HasPrefix(strings.TrimSpace(m[3]), "${env(") {
			t.Errorf("s.yaml sets %s literally; secrets must come from ${env('…')}", m[1])
		}
	}
}

// TestGoRuntimeSettingsAsInTheLocalCloud: every function runs with the Go
// runtime settings the local cloud gives it (GOGC, GOMEMLIMIT), so what is
// measured there is what is deployed.
func TestGoRuntimeSettingsAsInTheLocalCloud(t *testing.T) {
	s := load(t)
	for name, r := range s.Resources {
		env, _ := r.Props["environmentVariables"].(map[string]any)
		for _, kv := range localcloud.GoRuntimeEnv {
			k, v, _ := strings.Cut(kv, "=")
			if got := fmt.Sprint(env[k]); got != v {
				t.Errorf("%s: s.yaml sets %s=%q, the local cloud %q", name, k, got, v)
			}
		}
	}
}

// TestRoutesAndTheirSecrets: s.yaml's routes load as the webhook loads
// them, ship a signed caller (the CI gate works after a default deploy),
// and the webhook resource passes exactly the secret variables the routes
// name, each from the deployer's environment: one a route names and s.yaml
// does not pass stops the webhook at start; one s.yaml passes and no route
// names would make every deployer set a secret it does not use.
func TestRoutesAndTheirSecrets(t *testing.T) {
	s := load(t)
	raw, _ := s.Vars["routes"].(string)
	routes, err := webhook.LoadRoutes([]byte(raw))
	if err != nil {
		t.Fatalf("vars.routes: %v", err)
	}
	named := map[string]bool{}
	signed := false
	for _, r := range routes {
		signed = signed || r.Source == "signed"
		for _, v := range []string{r.SecretEnv, r.PreviousSecretEnv} {
			if v != "" {
				named[v] = true
			}
		}
	}
	if !signed {
		t.Errorf("vars.routes has no signed route: rdsbackup gate cannot call a default deploy")
	}
	env, _ := s.Resources["webhook"].Props["environmentVariables"].(map[string]any)
	passed := map[string]bool{}
	for k, v := range env {
		if strings.HasPrefix(k, config.Prefix) || slices.ContainsFunc(localcloud.GoRuntimeEnv, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
			continue
		}
		passed[k] = true
		if v != "ENV_"+k {
			t.Errorf("webhook: %s is %v, want ${env('%s')}", k, v, k)
		}
		if !named[k] {
			t.Errorf("webhook: s.yaml passes %s, which no route of vars.routes names", k)
		}
	}
	for k := range named {
		if !passed[k] {
			t.Errorf("vars.routes names %s, which the webhook resource does not pass: the webhook would refuse to start", k)
		}
	}
}

// TestCommentedRouteExamplesLoad: the routes s.yaml's comments offer to
// paste into vars.routes (GitHub, GitLab, Jira, a ServiceNow token route)
// load as they are written.
func TestCommentedRouteExamplesLoad(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var examples []string
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#   {"):
			examples = append(examples, strings.TrimPrefix(line, "#   "))
		case strings.HasPrefix(line, "#    ") && len(examples) > 0: // a continuation
			examples[len(examples)-1] += strings.TrimPrefix(line, "#    ")
		}
	}
	sources := map[string]bool{}
	for _, ex := range examples {
		routes, err := webhook.LoadRoutes([]byte(`{"routes":[` + ex + `]}`))
		if err != nil {
			t.Errorf("s.yaml's commented route %s: %v", ex, err)
			continue
		}
		sources[routes[0].Source] = true
	}
	for _, src := range []string{"github", "gitlab", "jira", "token"} {
		if !sources[src] {
			t.Errorf("s.yaml's comments have no %s route example (found %d examples)", src, len(examples))
		}
	}
}

// TestCodeReadsOnlyDeclaredVariables scans the shipped code for BACKUP_*
// names and direct environment reads: config.Load is the only reader.
func TestCodeReadsOnlyDeclaredVariables(t *testing.T) {
	name := regexp.MustCompile(`"(BACKUP_[A-Z0-9_]+)"`)
	getenv := regexp.MustCompile(`os\.(Getenv|LookupEnv)\(`)
	// Repository tooling that never ships reads what build tools read
	// (dist: SOURCE_DATE_EPOCH).
	skip := []string{"rdstest", "mnstest", "fctest", "devstack", "localauth", "deploy", "readme", "dist"}
	err := filepath.WalkDir(filepath.Join(root), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (slices.Contains(skip, d.Name()) || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range name.FindAllStringSubmatch(string(b), -1) {
			if !slices.ContainsFunc(config.Vars, func(v config.Var) bool { return v.Name == m[1] }) {
				t.Errorf("%s reads %s, which config.Vars does not declare", p, m[1])
			}
		}
		// The credential chain's own ALIBABA_CLOUD_* variables may be read
		// where a line says so ("// env: credential chain").
		for i, line := range strings.Split(string(b), "\n") {
			if getenv.MatchString(line) && !strings.Contains(line, "// env: credential chain") {
				t.Errorf("%s:%d reads the environment directly; go through config.Load", p, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func toJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWorkQueueTriggerAsInTheLocalCloud: the work-queue trigger's
// invocation type and the queue function's async retries are what the
// local cloud runs (localcloud.WorkQueueAsync, QueueAsyncRetryAttempts),
// and a batch that fails for good goes to the dead-letter queue in both.
func TestWorkQueueTriggerAsInTheLocalCloud(t *testing.T) {
	props := load(t).Resources["queue"].Props
	var trigger map[string]any
	trigs, _ := props["triggers"].([]any)
	for _, tr := range trigs {
		if m, _ := tr.(map[string]any); m["triggerName"] == "work-queue" {
			trigger = m
		}
	}
	if trigger == nil {
		t.Fatal("s.yaml: the queue function has no work-queue trigger")
	}
	cfg, _ := trigger["triggerConfig"].(map[string]any)
	if got := cfg["asyncInvocationType"]; got != localcloud.WorkQueueAsync {
		t.Errorf("work-queue asyncInvocationType = %v, the local cloud's trigger Async = %v", got, localcloud.WorkQueueAsync)
	}
	async, _ := props["asyncInvokeConfig"].(map[string]any)
	if got := fmt.Sprint(async["maxAsyncRetryAttempts"]); got != fmt.Sprint(localcloud.QueueAsyncRetryAttempts) {
		t.Errorf("queue asyncInvokeConfig.maxAsyncRetryAttempts = %s, the local cloud's %d", got, localcloud.QueueAsyncRetryAttempts)
	}
	dest := toJSONString(t, async["destinationConfig"])
	if !strings.Contains(dest, `"onFailure"`) || !strings.Contains(dest, "/queues/"+localcloud.DeadLetter+"/messages") {
		t.Errorf("queue asyncInvokeConfig.destinationConfig = %s, want onFailure to the dead-letter queue (the local cloud's %s)", dest, localcloud.DeadLetter)
	}
}

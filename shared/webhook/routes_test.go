package webhook

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

func TestLoadRoutesJSONAndYAMLAgree(t *testing.T) {
	yamlDoc := `
routes:
  - name: shop-prod
    source: github
    repository: acme/shop
    environments: [production]
    secretEnv: GITHUB_WEBHOOK_SECRET
    backups:
      - {DBInstanceId: rm-shop1, BackupMethod: Physical}
`
	jsonDoc := `{"routes":[{"name":"shop-prod","source":"github","repository":"acme/shop","environments":["production"],
	  "secretEnv":"GITHUB_WEBHOOK_SECRET","backups":[{"DBInstanceId":"rm-shop1","BackupMethod":"Physical"}]}]}`
	bareList := `[{"name":"shop-prod","source":"github","repository":"acme/shop","environments":["production"],
	  "secretEnv":"GITHUB_WEBHOOK_SECRET","backups":[{"DBInstanceId":"rm-shop1","BackupMethod":"Physical"}]}]`
	yamlList := `
- name: shop-prod
  source: github
  repository: acme/shop
  environments: [production]
  secretEnv: GITHUB_WEBHOOK_SECRET
  backups: [{DBInstanceId: rm-shop1, BackupMethod: Physical}]
`
	want := []Route{{Name: "shop-prod", Source: "github", Repository: "acme/shop", Environments: []string{"production"},
		SecretEnv: "GITHUB_WEBHOOK_SECRET", Backups: []backup.Spec{{DBInstanceId: "rm-shop1", BackupMethod: "Physical"}},
		Allow: []string{"rm-shop1"}}}
	for name, doc := range map[string]string{"yaml": yamlDoc, "json": jsonDoc, "json list": bareList, "yaml list": yamlList} {
		got, err := LoadRoutes([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %+v\nwant %+v", name, got, want)
		}
	}
}

func TestLoadRoutesEmpty(t *testing.T) {
	for _, doc := range []string{"", "  \n", "{}", `{"routes":null}`, "routes:\n", "# nothing\n", "[]"} {
		got, err := LoadRoutes([]byte(doc))
		if err != nil || len(got) != 0 {
			t.Errorf("LoadRoutes(%q) = %v, %v", doc, got, err)
		}
	}
}

func TestTestRoutesLoad(t *testing.T) {
	routes, err := LoadRoutes([]byte(testRoutes))
	if err != nil {
		t.Fatal(err)
	}
	if routes[4].Repository != "release-bot" {
		t.Fatalf("a signed route's caller id defaults to its name, got %q", routes[4].Repository)
	}
	if got := SecretEnvs(routes); !reflect.DeepEqual(got, []string{"BOT_SECRET", "GH_SECRET", "GL_TOKEN", "OPS_SECRET"}) {
		t.Fatalf("SecretEnvs = %q", got)
	}
}

// TestLoadRoutesRefuses: every bad document is refused with a message
// naming the field.
func TestLoadRoutesRefuses(t *testing.T) {
	gh := func(extra string) string {
		return `[{"name":"r","source":"github","repository":"o/r","environments":["production"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]` + extra + `}]`
	}
	tests := []struct {
		name, doc, want string
	}{
		{"unknown top-level field", `{"route":[]}`, "route: unknown field"},
		{"unknown route field", gh(`,"secret":"x"`), "routes[0] (r).secret: unknown field"},
		{"route field in another case", gh(`,"SecretEnv":"S"`), "SecretEnv: unknown field"},
		{"unknown backup field", `[{"name":"r","source":"gitlab","repository":"g/p","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceID":"rm-1"}]}]`, "backups[0].DBInstanceID: unknown field"},
		{"YAML unknown field", "routes:\n  - name: r\n    source: github\n    repo: o/r\n", "routes[0] (r).repo: unknown field"},
		{"not a list", `{"routes":{"name":"r"}}`, "must be a list of routes"},
		{"route not an object", `["r"]`, "routes[0]: must be an object"},
		{"bad YAML", "routes: [\n", "invalid YAML"},
		{"bad JSON", `{"routes":[`, "invalid JSON"},
		{"missing name", `[{"source":"signed","secretEnv":"S","allow":["*"]}]`, "routes[0].name: is required"},
		{"bad name", `[{"name":"my route","source":"signed","secretEnv":"S","allow":["*"]}]`, ".name: is required: 1-64"},
		{"name not a string", `[{"name":5,"source":"signed","secretEnv":"S","allow":["*"]}]`, "routes[0].name: must be a string, got 5"},
		{"bad source", `[{"name":"r","source":"bitbucket","secretEnv":"S"}]`, `source: must be github, gitlab, jira or signed, got "bitbucket"`},
		{"missing secretEnv", `[{"name":"r","source":"signed","allow":["*"]}]`, "secretEnv: is required"},
		{"secretEnv is a secret, not a name", `[{"name":"r","source":"signed","secretEnv":"hunter2!","allow":["*"]}]`, "secretEnv: must be an environment variable name"},
		{"github without repository", `[{"name":"r","source":"github","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]}]`, "repository: is required for a github route"},
		{"github without environments", `[{"name":"r","source":"github","repository":"o/r","secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]}]`, "environments: is required"},
		{"environments not a list", gh(`,"environments":"production"`), "environments: must be a list of strings"},
		{"bad environment pattern", `[{"name":"r","source":"github","repository":"o/r","environments":["prod["],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]}]`, "environments[0]: must be an environment name or a glob pattern"},
		{"stage on a github route", gh(`,"stage":"deploy"`), "stage: only gitlab routes have a stage"},
		{"gitlab without backups", `[{"name":"r","source":"gitlab","repository":"g/p","environments":["*"],"secretEnv":"S"}]`, "backups: is required for a gitlab route"},
		{"github without backups or allow", `[{"name":"r","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S"}]`, "allow: is required when backups is empty"},
		{"backup outside allow", gh(`,"allow":["rm-2"]`), `backups[0].DBInstanceId: "rm-1" is not in allow`},
		{"backup instance a pattern", `[{"name":"r","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-*"}],"allow":["*"]}]`, "must be an instance id, not a pattern"},
		{"backup breaks a rule", `[{"name":"r","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"Bad-Name"}]}]`, "backups[0].DBName"},
		{"backup without instance", `[{"name":"r","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"BackupMethod":"Physical"}],"allow":["*"]}]`, "backups[0].DBInstanceId: DBInstanceId: is required"},
		{"bad allow pattern", gh(`,"allow":["rm-[1"]`), "allow[0]: must be an instance id or a glob pattern"},
		{"allow pattern no id can match", gh(`,"allow":["rm-1","RM-Shop*"]`), `allow[1]: "RM-Shop*" can never match an instance id`},
		{"allow pattern with a comma", gh(`,"allow":["rm-1","rm-1,rm-2"]`), `allow[1]: "rm-1,rm-2" can never match an instance id`},
		{"backup id not an instance id", `[{"name":"r","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1,rm-2"}],"allow":["*"]}]`, `backups[0].DBInstanceId: DBInstanceId "rm-1,rm-2": must be an RDS instance id`},
		{"signed without allow", `[{"name":"r","source":"signed","secretEnv":"S"}]`, "allow: is required for a signed route"},
		{"signed with backups", `[{"name":"r","source":"signed","secretEnv":"S","allow":["*"],"backups":[{"DBInstanceId":"rm-1"}]}]`, "backups: signed routes take the backups the request body names"},
		{"signed with environments", `[{"name":"r","source":"signed","secretEnv":"S","allow":["*"],"environments":["*"]}]`, "environments: signed routes have no environments"},
		{"signed caller id with spaces", `[{"name":"r","source":"signed","repository":"my bot","secretEnv":"S","allow":["*"]}]`, "repository: a signed route's caller id"},
		{"duplicate names", `[{"name":"r","source":"signed","secretEnv":"S","allow":["*"]},{"name":"r","source":"signed","repository":"x","secretEnv":"S","allow":["*"]}]`, `routes[1].name: "r" is also the name of routes[0]`},
		{"duplicate caller ids", `[{"name":"a","source":"signed","repository":"bot","secretEnv":"S","allow":["*"]},{"name":"bot","source":"signed","secretEnv":"S","allow":["*"]}]`, `caller id "bot" is also used by routes[0]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRoutes([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadRoutesReportsEveryProblem(t *testing.T) {
	_, err := LoadRoutes([]byte(`[{"name":"a","source":"nope"},{"source":"signed","secretEnv":"S"}]`))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"routes[0] (a).source", "routes[0] (a).secretEnv", "routes[1].name", "routes[1].allow"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestResolveSecrets(t *testing.T) {
	routes, err := LoadRoutes([]byte(testRoutes))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GH_SECRET": "a", "GL_TOKEN": "b", "BOT_SECRET": "c"}
	got, err := ResolveSecrets(routes, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "OPS_SECRET: is empty or unset") {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 3 || got["GH_SECRET"] != "a" {
		t.Fatalf("got %v", got)
	}
	for _, v := range env {
		if strings.Contains(err.Error(), "\""+v+"\"") {
			t.Fatal("the error must not contain secret values")
		}
	}
	env["OPS_SECRET"] = "d"
	if _, err := ResolveSecrets(routes, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
}

// TestRoutesDocExample: the YAML in ROUTES.md (pasted into the README)
// loads, so the documentation cannot drift from the code.
func TestRoutesDocExample(t *testing.T) {
	md, err := os.ReadFile("ROUTES.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(md)
	if m == nil {
		t.Fatal("ROUTES.md has no yaml example")
	}
	routes, err := LoadRoutes(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 4 {
		t.Fatalf("got %d routes", len(routes))
	}
	// Every other example (a jira route with instancesField, token
	// routes) loads too.
	for i, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(md, -1) {
		if _, err := LoadRoutes(m[1]); err != nil {
			t.Errorf("ROUTES.md's yaml example %d: %v", i+1, err)
		}
	}
	// Every route field is documented in ROUTES.md and doc.go.
	doc, _ := os.ReadFile("doc.go")
	for _, f := range routeFields {
		if !strings.Contains(string(md), "| `"+f+"` |") {
			t.Errorf("ROUTES.md does not document %s", f)
		}
		if !strings.Contains(string(doc), "//   - "+f+":") {
			t.Errorf("doc.go does not document %s", f)
		}
	}
}

func TestMatching(t *testing.T) {
	if !matchFold("acme/*", "ACME/Shop") || matchFold("acme/*", "acme/sub/shop") || !matchFold("acme/*/*", "acme/sub/shop") {
		t.Fatal("repository globs")
	}
	if !allowed([]string{"rm-shop*"}, "rm-shop1") || allowed([]string{"rm-shop*"}, "rm-other") || !allowed([]string{"*"}, "rm/x") {
		t.Fatal("allow globs")
	}
	if allowed(nil, "rm-1") {
		t.Fatal("an empty allow list allows nothing")
	}
}

package webhook

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoadRoutes: any routes document (BACKUP_ROUTES, JSON or YAML) loads
// or is refused with an error, never a panic; an error is bounded (it
// names fields and rules, never echoes a whole value); routes that load
// have a name, a known source and unique names, and load again from their
// own JSON to the same routes (nothing in them depends on the form they
// were written in).
func FuzzLoadRoutes(f *testing.F) {
	for _, s := range []string{
		testRoutes,
		jiraRoutes,
		jiraFieldRoutes,
		snowTableRoutes,
		`[{"name":"ci","source":"signed","secretEnv":"CI_SECRET","allow":["rm-*"]}]`,
		`{"routes":[{"name":"a","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-a"}]}]}`,
		"routes:\n  - name: x\n    source: gitlab\n",
		`[{"name":"a","source":"signed","secretEnv":"S","allow":["*"]},{"name":"a","source":"signed","secretEnv":"S","allow":["*"]}]`,
		`{"routes":[{"name":"` + strings.Repeat("n", 300) + `","source":"nope"}]}`,
		"{}", "[]", "- 1\n- [", `{"routes":{"a":1}}`, "&a [*a]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		routes, err := LoadRoutes([]byte(doc))
		if err != nil {
			if routes != nil {
				t.Fatalf("an error with routes: %v", routes)
			}
			if n := len(err.Error()); n > 4096+len(doc)/4 && n > 2*len(doc)+512 {
				t.Fatalf("error of %d bytes for a %d-byte document", n, len(doc))
			}
			return
		}
		names := map[string]bool{}
		for _, r := range routes {
			if r.Name == "" || names[r.Name] {
				t.Fatalf("route name %q empty or repeated in %+v", r.Name, routes)
			}
			names[r.Name] = true
			switch r.Source {
			case "github", "gitlab", "jira", "signed", "token":
			default:
				t.Fatalf("route %q has source %q", r.Name, r.Source)
			}
		}
		if len(routes) == 0 {
			return
		}
		j, err := json.Marshal(routes)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := LoadRoutes(j)
		if err != nil {
			t.Fatalf("routes that loaded do not load from their own JSON: %v\n%s", err, j)
		}
		if !reflect.DeepEqual(again, routes) {
			t.Fatalf("routes changed through their own JSON:\n%+v\n%+v", routes, again)
		}
	})
}

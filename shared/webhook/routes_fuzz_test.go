package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
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
		plainAgrees(t, []byte(doc))
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

// plainAgrees fails t unless a document read as plain JSON (loadPlainRoutes,
// the webhook's start-up path) gives the routes, or the errors, that
// encoding/json's path gives.
func plainAgrees(t *testing.T, doc []byte) {
	t.Helper()
	routes, errs, ok := loadPlainRoutes(bytes.TrimSpace(doc))
	if !ok {
		return
	}
	got, gotErr := routesOrErrors(routes, errs)
	want, wantErr := loadRoutesJSON(bytes.TrimSpace(doc))
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s\nread as plain JSON: %+v, %v\nwith encoding/json: %+v, %v", doc, got, gotErr, want, wantErr)
	}
}

// The documents of this package's tests, read as plain JSON, load as
// encoding/json loads them; and the start-up path is really taken for
// the usual document.
func TestPlainRoutesAgreeWithEncodingJSON(t *testing.T) {
	docs := []string{testRoutes, jiraRoutes, jiraFieldRoutes, snowTableRoutes,
		`[{"name":"ci","source":"signed","secretEnv":"CI_SECRET","allow":["rm-*"],"unknownField":"x"}]`,
		`{"routes":[{"name":"a","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-a","BackupMethod":"Snapshot","DBName":null}]}]}`,
		`{"routes":[{"name":"a","source":"github","repository":"o/r","environments":"*","secretEnv":"S","backups":[{"DBInstanceId":"rm-a"}]}]}`,
		`{"routes":[{"name":"a","source":"gitlab","repository":"o/r","environments":["prod"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-a","dbinstanceid":"rm-b"}]}]}`,
		`{"routes":[{"name":"t","source":"token","secretEnv":"T","user":"u","instances":"/i","when":{"pointer":"/s","equals":"Go","other":"x"}}]}`,
		`{"routes":null}`, `[]`,
	}
	// As s.yaml sets BACKUP_ROUTES (JSON), for a route of each source.
	deployed := `{"routes":[` +
		`{"name":"shop-prod","source":"github","repository":"acme/shop","environments":["production"],"secretEnv":"GITHUB_WEBHOOK_SECRET","backups":[{"DBInstanceId":"rm-shop1","BackupMethod":"Physical"}]},` +
		`{"name":"billing-deploy","source":"gitlab","repository":"acme/billing","environments":["production","prod-*"],"stage":"deploy","secretEnv":"GITLAB_WEBHOOK_TOKEN","backups":[{"DBInstanceId":"rm-billing1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"invoices"}]},` +
		`{"name":"release-bot","source":"signed","repository":"release-bot","secretEnv":"RELEASE_BOT_SECRET","allow":["rm-shop*","rm-billing1"]}]}`
	for _, d := range append(docs, deployed) {
		plainAgrees(t, []byte(d))
	}
	if _, errs, ok := loadPlainRoutes([]byte(deployed)); !ok || len(errs) > 0 {
		t.Errorf("deployed routes: read as plain JSON %v (errors %v); want read so, without errors: the webhook's start-up would use encoding/json", ok, errs)
	}
}

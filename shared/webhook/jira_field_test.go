package webhook

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// jiraFieldRoutes: OPS changes name their databases in a custom field.
const jiraFieldRoutes = `
routes:
  - name: ops-change-field
    source: jira
    project: OPS
    status: Implementing
    issueTypes: [Change]
    secretEnv: JIRA_SECRET
    instancesField: customfield_10042
    allow: ["rm-ops-*"]
    backups:
      - {BackupMethod: Physical}
`

func jiraFieldHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	return newHarness(t, jiraFieldRoutes, func(c *Config) {
		c.Secrets = maps.Clone(testSecrets)
		c.Secrets["JIRA_SECRET"] = jiraSecret
		if mod != nil {
			mod(c)
		}
	})
}

// withField is the fixture's delivery with customfield_10042 = v, signed.
func withField(t *testing.T, v any) events.HTTPEvent {
	return jiraEvent(t, func(p map[string]any) { jiraFields(p)["customfield_10042"] = v }, jiraSecret)
}

func TestJiraInstancesField(t *testing.T) {
	option := func(id string) map[string]any {
		return map[string]any{"self": "https://acme.atlassian.net/rest/api/2/customFieldOption/10100", "value": id, "id": "10100"}
	}
	tests := []struct {
		name      string
		ev        func(t *testing.T) events.HTTPEvent
		mod       func(*Config)
		status    int
		instances []string
		want      string // the error's field, or the ignored reason
	}{
		{"a text field", func(t *testing.T) events.HTTPEvent { return withField(t, "rm-ops-orders, rm-ops-billing") }, nil, 202, []string{"rm-ops-billing", "rm-ops-orders"}, ""},
		{"a multi-select field", func(t *testing.T) events.HTTPEvent {
			return withField(t, []any{option("rm-ops-orders"), option("rm-ops-billing")})
		}, nil, 202, []string{"rm-ops-billing", "rm-ops-orders"}, ""},
		{"a labels field", func(t *testing.T) events.HTTPEvent { return withField(t, []any{"rm-ops-orders"}) }, nil, 202, []string{"rm-ops-orders"}, ""},

		{"an instance outside allow", func(t *testing.T) events.HTTPEvent { return withField(t, "rm-ops-orders, rm-payments") }, nil, 403, nil, "DBInstanceId"},
		{"the field missing", func(t *testing.T) events.HTTPEvent { return jiraEvent(t, nil, jiraSecret) }, nil, 400, nil, "issue.fields.customfield_10042"},
		{"the field empty", func(t *testing.T) events.HTTPEvent { return withField(t, "") }, nil, 400, nil, "issue.fields.customfield_10042"},
		{"the field null", func(t *testing.T) events.HTTPEvent { return withField(t, nil) }, nil, 400, nil, "issue.fields.customfield_10042"},
		{"an id that is not one", func(t *testing.T) events.HTTPEvent { return withField(t, "rm-ops-orders, RM OPS") }, nil, 400, nil, "issue.fields.customfield_10042"},
		{"a pattern", func(t *testing.T) events.HTTPEvent { return withField(t, []any{"rm-ops-*"}) }, nil, 400, nil, "issue.fields.customfield_10042[0]"},
		{"more ids than a call may name", func(t *testing.T) events.HTTPEvent { return withField(t, "rm-ops-a rm-ops-b rm-ops-c") },
			func(c *Config) { c.MaxRequests = 2 }, 413, nil, "issue.fields.customfield_10042"},
		{"another status: the field is not read", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) { toStatus("Done", "10103")(p); jiraFields(p)["customfield_10042"] = 7 }, jiraSecret)
		}, nil, 202, nil, `OPS-123 moved to status "Done"`},
		{"unsigned", func(t *testing.T) events.HTTPEvent {
			ev := withField(t, "rm-ops-orders")
			delete(ev.Headers, HeaderJiraSig)
			return ev
		}, nil, 401, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := jiraFieldHarness(t, tc.mod)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev(t)))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", d.Status, tc.status, d.Raw)
			}
			var got []string
			for _, c := range hs.sub.Calls() {
				for _, r := range c.Reqs {
					got = append(got, r.DBInstanceId)
					if r.BackupMethod != "Physical" || r.Trigger.DeliveryId != jiraDelivery || !r.AskedAt.Equal(jiraCreated) {
						t.Fatalf("request %+v", r)
					}
				}
			}
			if !slices.Equal(got, tc.instances) {
				t.Fatalf("submitted %q, want %q: %s", got, tc.instances, d.Raw)
			}
			switch tc.status {
			case 202:
				if tc.instances == nil && (d.Body["status"] != "ignored" || !strings.Contains(d.Body["reason"].(string), tc.want)) {
					t.Fatalf("ignored answer %s, want reason %q", d.Raw, tc.want)
				}
			case 400, 403, 413:
				if d.errField() != tc.want {
					t.Fatalf("field %q, want %q: %s", d.errField(), tc.want, d.Raw)
				}
				if msg := d.Body["error"].(map[string]any)["message"].(string); tc.status != 403 && !strings.Contains(msg, "(route ops-change-field)") {
					t.Fatalf("the message does not name the route: %q", msg)
				}
			}
			if n := len(hs.rej.Requests()); n != map[int]int{403: 1}[tc.status] {
				t.Fatalf("%d rejected outcomes", n)
			}
		})
	}

	// A retry of the delivery (the same identifier) is the same asks,
	// whatever order the field lists the ids in.
	hs := jiraFieldHarness(t, nil)
	keys := func(ev events.HTTPEvent) []string {
		if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 202 {
			t.Fatalf("%d %s", d.Status, d.Raw)
		}
		calls := hs.sub.Calls()
		var out []string
		for _, r := range calls[len(calls)-1].Reqs {
			out = append(out, r.IdempotencyKey)
		}
		return out
	}
	first, retry := keys(withField(t, "rm-ops-a, rm-ops-b")), keys(withField(t, "rm-ops-b rm-ops-a"))
	if len(first) != 2 || !slices.Equal(first, retry) {
		t.Fatalf("keys %q, retry %q", first, retry)
	}
}

func TestLoadJiraInstancesFieldRoutes(t *testing.T) {
	routes, err := LoadRoutes([]byte(jiraFieldRoutes))
	if err != nil {
		t.Fatal(err)
	}
	if r := routes[0]; r.InstancesField != "customfield_10042" || len(r.Backups) != 1 || r.Backups[0].DBInstanceId != "" {
		t.Fatalf("route %+v", r)
	}
	jira := func(extra string) string {
		return `[{"name":"j","source":"jira","project":"OPS","status":"Implementing","secretEnv":"S"` + extra + `}]`
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"neither backups nor instancesField", jira(`,"allow":["rm-1"]`), "routes[0] (j).backups: is required for a jira route (or instancesField"},
		{"a field id that is not one", jira(`,"instancesField":"custom field","allow":["rm-1"]`), `routes[0] (j).instancesField: must be an issue field's id`},
		{"a field id starting with a digit", jira(`,"instancesField":"10042","allow":["rm-1"]`), "instancesField: must be an issue field's id"},
		{"a field id too long", jira(`,"instancesField":"a` + strings.Repeat("b", 64) + `","allow":["rm-1"]`), "instancesField: must be an issue field's id"},
		{"a field id not a string", jira(`,"instancesField":42,"allow":["rm-1"]`), "instancesField: must be a string"},
		{"without allow", jira(`,"instancesField":"customfield_10042"`), "allow: is required for a jira route with instancesField"},
		{"allow *", jira(`,"instancesField":"customfield_10042","allow":["*"]`), `allow: may not be "*" on a jira route with instancesField`},
		{"backups naming an instance", jira(`,"instancesField":"labels","allow":["rm-1"],"backups":[{"DBInstanceId":"rm-1"}]`),
			"backups[0].DBInstanceId: a jira route with instancesField's instances come from the issue's field"},
		{"two backups", jira(`,"instancesField":"labels","allow":["rm-1"],"backups":[{"BackupMethod":"Physical"},{"BackupMethod":"Logical"}]`),
			"backups: a jira route with instancesField has at most one entry"},
		{"bad parameters", jira(`,"instancesField":"labels","allow":["rm-1"],"backups":[{"BackupMethod":"Nope"}]`), "backups[0].BackupMethod"},
		{"on a token route", `[{"name":"t","source":"token","secretEnv":"S","allow":["rm-1"],"instances":"/i","askedAt":"/at","id":"/id","instancesField":"labels"}]`,
			"instancesField: only jira routes have an instancesField"},
		{"a typo", jira(`,"instanceField":"labels","allow":["rm-1"]`), "instanceField: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRoutes([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

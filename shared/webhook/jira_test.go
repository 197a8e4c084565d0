package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// Secrets of the jira test routes; jiraSecret signs the fixture
// (testdata/events/jira-issue-updated.headers.json).
const (
	jiraSecret    = "jira-webhook-secret-0123456789"
	jiraOldSecret = "jira-webhook-secret-being-rotated-out"
	jiraPaySecret = "jira-payments-secret-42"
	jiraDelivery  = "9c1f7a52-3d4e-4b8a-a0f6-2e7d5c91b364" // X-Atlassian-Webhook-Identifier of the fixture
)

// jiraCreated is the fixture's timestamp (1795499950123 ms).
var jiraCreated = time.UnixMilli(1795499950123).UTC()

const jiraRoutes = `
routes:
  - name: ops-change
    source: jira
    project: OPS
    status: Implementing
    issueTypes: [Change, "Normal change"]
    secretEnv: JIRA_SECRET
    previousSecretEnv: JIRA_SECRET_OLD
    backups:
      - {DBInstanceId: rm-ops-orders, BackupMethod: Physical}
  - name: pay-release
    source: jira
    project: "PAY*"
    status: In Release
    secretEnv: JIRA_PAY_SECRET
    backups:
      - {DBInstanceId: rm-pay-1}
  - name: hello-prod
    source: github
    repository: Codertocat/Hello-World
    environments: [production]
    secretEnv: GH_SECRET
    backups:
      - {DBInstanceId: rm-hello-world-1, BackupMethod: Physical}
`

func jiraHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	return newHarness(t, jiraRoutes, func(c *Config) {
		c.Secrets = maps.Clone(testSecrets)
		c.Secrets["JIRA_SECRET"] = jiraSecret
		c.Secrets["JIRA_SECRET_OLD"] = jiraOldSecret
		c.Secrets["JIRA_PAY_SECRET"] = jiraPaySecret
		if mod != nil {
			mod(c)
		}
	})
}

func hubSign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// jiraEvent is the fixture's delivery, its payload edited and signed with
// secret (none when secret is "").
func jiraEvent(t *testing.T, edit func(p map[string]any), secret string) events.HTTPEvent {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(readFixture(t, "jira-issue-updated.json"), &p); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(p)
	}
	body, _ := json.Marshal(p)
	ev := hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", map[string]string{HeaderJiraSig: ""})
	ev.Body = string(body)
	if secret != "" {
		ev.Headers[HeaderJiraSig] = hubSign(secret, body)
	}
	return ev
}

func jiraFields(p map[string]any) map[string]any {
	return p["issue"].(map[string]any)["fields"].(map[string]any)
}

func jiraStatusItem(p map[string]any) map[string]any {
	return p["changelog"].(map[string]any)["items"].([]any)[1].(map[string]any)
}

func toStatus(name, id string) func(map[string]any) {
	return func(p map[string]any) {
		it := jiraStatusItem(p)
		it["toString"], it["to"] = name, id
	}
}

func TestJira(t *testing.T) {
	fixture := func(t *testing.T) events.HTTPEvent { return hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", nil) }
	tests := []struct {
		name      string
		ev        func(t *testing.T) events.HTTPEvent
		status    int
		instances []string
		reason    string // of a 202 ignored
	}{
		{"the fixture, signed with the route's secret", fixture, 202, []string{"rm-ops-orders"}, ""},
		{"signed with the secret being rotated out", func(t *testing.T) events.HTTPEvent { return jiraEvent(t, nil, jiraOldSecret) }, 202, []string{"rm-ops-orders"}, ""},
		{"status case-insensitive", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, toStatus("IMPLEMENTING", "10102"), jiraSecret)
		}, 202, []string{"rm-ops-orders"}, ""},
		{"another route's project glob and status", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) {
				p["issue"].(map[string]any)["key"] = "PAYMENTS-7"
				jiraFields(p)["project"].(map[string]any)["key"] = "PAYMENTS"
				toStatus("In Release", "10200")(p)
			}, jiraPaySecret)
		}, 202, []string{"rm-pay-1"}, ""},
		{"another status", func(t *testing.T) events.HTTPEvent { return jiraEvent(t, toStatus("Done", "10103"), jiraSecret) }, 202, nil,
			`OPS-123 moved to status "Done", which no route of project OPS acts on`},
		{"another project (the site's webhook)", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) {
				p["issue"].(map[string]any)["key"] = "HR-9"
				jiraFields(p)["project"].(map[string]any)["key"] = "HR"
			}, jiraSecret)
		}, 202, nil, "no jira route for project HR"},
		{"another issue type", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) { jiraFields(p)["issuetype"].(map[string]any)["name"] = "Bug" }, jiraSecret)
		}, 202, nil, `OPS-123 is of issue type "Bug"`},
		{"issue types case-insensitive", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) { jiraFields(p)["issuetype"].(map[string]any)["name"] = "NORMAL CHANGE" }, jiraSecret)
		}, 202, []string{"rm-ops-orders"}, ""},
		{"no status change", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) {
				cl := p["changelog"].(map[string]any)
				cl["items"] = cl["items"].([]any)[:1]
			}, jiraSecret)
		}, 202, nil, "OPS-123 was updated without a status change"},
		{"a custom field named status", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) { jiraStatusItem(p)["fieldtype"] = "custom" }, jiraSecret)
		}, 202, nil, "without a status change"},
		{"another event", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) { p["webhookEvent"] = "comment_created" }, jiraSecret)
		}, 202, nil, `Jira event "comment_created" is not acted on (only jira:issue_updated)`},
		{"wrong signature", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", map[string]string{HeaderJiraSig: "sha256=" + strings.Repeat("0", 64)})
		}, 401, nil, ""},
		{"unsigned", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", map[string]string{HeaderJiraSig: ""})
		}, 401, nil, ""},
		{"not sha256=<hex>", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", map[string]string{HeaderJiraSig: "sha1=0123"})
		}, 401, nil, ""},
		{"body altered after signing", func(t *testing.T) events.HTTPEvent {
			ev := fixture(t)
			ev.Body = strings.Replace(ev.Body, `"toString": "Implementing"`, `"toString": "Implementing "`, 1)
			return ev
		}, 401, nil, ""},
		{"signed with another jira route's secret", func(t *testing.T) events.HTTPEvent { return jiraEvent(t, nil, jiraPaySecret) }, 401, nil, ""},
		{"signed with a github route's secret", func(t *testing.T) events.HTTPEvent { return jiraEvent(t, nil, ghSecret) }, 401, nil, ""},
		{"GitHub's header name", func(t *testing.T) events.HTTPEvent {
			ev := jiraEvent(t, nil, "")
			ev.Headers[HeaderGitHubSig] = hubSign(jiraSecret, []byte(ev.Body))
			return ev
		}, 401, nil, ""},
		{"signed but not JSON", func(t *testing.T) events.HTTPEvent {
			ev := jiraEvent(t, nil, "")
			ev.Body = "payload=%7B%7D"
			ev.Headers[HeaderJiraSig] = hubSign(jiraSecret, []byte(ev.Body))
			return ev
		}, 400, nil, ""},
		{"signed without an issue key", func(t *testing.T) events.HTTPEvent {
			return jiraEvent(t, func(p map[string]any) { delete(p["issue"].(map[string]any), "key") }, jiraSecret)
		}, 400, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := jiraHarness(t, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev(t)))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", d.Status, tc.status, d.Raw)
			}
			var got []string
			for _, c := range hs.sub.Calls() {
				for _, r := range c.Reqs {
					got = append(got, r.DBInstanceId)
					if r.Trigger.Kind != "jira" || r.Trigger.DeliveryId != jiraDelivery || !r.AskedAt.Equal(jiraCreated) {
						t.Fatalf("request %+v", r)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.instances, ",") {
				t.Fatalf("submitted %q, want %q: %s", got, tc.instances, d.Raw)
			}
			if len(hs.rej.Requests()) != 0 {
				t.Fatal("no rejected outcome")
			}
			switch {
			case tc.status == 202 && tc.instances == nil:
				if d.Body["status"] != "ignored" || !strings.Contains(d.Body["reason"].(string), tc.reason) {
					t.Fatalf("ignored answer %s, want reason %q", d.Raw, tc.reason)
				}
			case tc.status == 202:
				if e := d.entries(); len(e) != 1 || e[0]["status"] != "accepted" || e[0]["DBInstanceId"] != tc.instances[0] {
					t.Fatalf("answer %s", d.Raw)
				}
			case tc.status == 401:
				// The one 401 every signature failure gets (GitHub's too).
				gh := hs.h.Handle(context.Background(), hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{HeaderGitHubSig: ""}))
				if d.Raw != gh.Body || gh.StatusCode != 401 {
					t.Fatalf("401 %s, GitHub's %d %s", d.Raw, gh.StatusCode, gh.Body)
				}
			}
		})
	}
}

func TestJiraRouteOfAnotherSourceNeverMatches(t *testing.T) {
	hs := jiraHarness(t, nil)
	// A Jira delivery signed with the jira secret, sent to the GitHub door
	// in GitHub's header: no github route has that secret.
	ev := hookEvent(t, "/v1/hooks/github", "jira-issue-updated", map[string]string{
		HeaderGitHubSig: hubSign(jiraSecret, readFixture(t, "jira-issue-updated.json")), HeaderGitHubEvent: "deployment"})
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 401 {
		t.Fatalf("status %d: %s", d.Status, d.Raw)
	}
	// A GitHub delivery at the Jira door, in Jira's header and signed with
	// the github route's secret: no jira route has it.
	gh := hookEvent(t, "/v1/hooks/jira", "github-deployment", nil)
	gh.Headers[HeaderJiraSig] = gh.Headers[HeaderGitHubSig]
	if d := checkResponse(t, hs.h.Handle(context.Background(), gh)); d.Status != 401 {
		t.Fatalf("status %d: %s", d.Status, d.Raw)
	}
	// Without jira routes, the door refuses every delivery.
	hs = newHarness(t, testRoutes, nil)
	if d := checkResponse(t, hs.h.Handle(context.Background(), hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", nil))); d.Status != 401 {
		t.Fatalf("status %d: %s", d.Status, d.Raw)
	}
	if len(hs.sub.Calls()) != 0 {
		t.Fatal("nothing submitted")
	}
	if d := checkResponse(t, hs.h.Handle(context.Background(), httpEvent("GET", "/v1/hooks/jira", "", nil))); d.Status != 405 || d.Headers["Allow"] != "POST" {
		t.Fatalf("GET: %d %v", d.Status, d.Headers)
	}
}

func TestJiraIdentifierIsTheAsk(t *testing.T) {
	hs := jiraHarness(t, nil)
	send := func(ev events.HTTPEvent) backup.Request {
		if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 202 {
			t.Fatalf("%d %s", d.Status, d.Raw)
		}
		calls := hs.sub.Calls()
		return calls[len(calls)-1].Reqs[0]
	}
	first := send(hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", nil))
	// Jira's retry: the same identifier (and X-Atlassian-Webhook-Retry).
	retry := send(hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", map[string]string{"X-Atlassian-Webhook-Retry": "1"}))
	other := send(hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", map[string]string{HeaderJiraIdentifier: "another-identifier"}))
	if first.IdempotencyKey != retry.IdempotencyKey || first.IdempotencyKey == other.IdempotencyKey {
		t.Fatalf("keys %s %s %s: a retry (same X-Atlassian-Webhook-Identifier) is the same ask", first.IdempotencyKey, retry.IdempotencyKey, other.IdempotencyKey)
	}
	want := backup.Trigger{Kind: "jira", Source: "OPS-123", DeliveryId: jiraDelivery}
	if first.Trigger != want || !first.AskedAt.Equal(jiraCreated) {
		t.Fatalf("request %+v", first)
	}
	// Another transition of the same issue under the same identifier is
	// another ask.
	again := send(jiraEvent(t, func(p map[string]any) { jiraStatusItem(p)["from"] = "10100" }, jiraSecret))
	if again.IdempotencyKey == first.IdempotencyKey {
		t.Fatal("the transition is part of the ask")
	}
	// The executor treats a Jira ask as one that may come again: it looks
	// for the backup an earlier delivery made before creating one.
	if !HasCallerKey(first.Trigger) {
		t.Fatal("HasCallerKey(jira) = false")
	}
	// Without an identifier, the changelog id names the delivery.
	none := send(hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", map[string]string{HeaderJiraIdentifier: ""}))
	if none.Trigger.DeliveryId != "changelog/10461" {
		t.Fatalf("delivery id %q", none.Trigger.DeliveryId)
	}
}

func TestOldJiraDeliveryMakesNoAsk(t *testing.T) {
	for _, tc := range []struct {
		name   string
		at     time.Time
		submit bool
	}{
		{"replayed 25 h after its timestamp", jiraCreated.Add(25 * time.Hour), false},
		{"23 h after its timestamp", jiraCreated.Add(23 * time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := jiraHarness(t, func(c *Config) {
				c.MaxAskAge = DefaultMaxAskAge
				c.Now = func() time.Time { return tc.at }
			})
			d := checkResponse(t, hs.h.Handle(context.Background(), hookEvent(t, "/v1/hooks/jira", "jira-issue-updated", nil)))
			if d.Status != 202 || (len(hs.sub.Calls()) == 1) != tc.submit {
				t.Fatalf("%d %s, submitted %d", d.Status, d.Raw, len(hs.sub.Calls()))
			}
			if !tc.submit {
				reason, _ := d.Body["reason"].(string)
				for _, w := range []string{"timestamp 2026-11-24T05:59:10Z is 25h old", "max ask age 24h (BACKUP_MAX_ASK_AGE)"} {
					if !strings.Contains(reason, w) {
						t.Fatalf("reason %q lacks %q", reason, w)
					}
				}
			}
		})
	}
}

func TestLoadJiraRoutes(t *testing.T) {
	routes, err := LoadRoutes([]byte(jiraRoutes))
	if err != nil {
		t.Fatal(err)
	}
	if r := routes[0]; r.Project != "OPS" || r.Status != "Implementing" || len(r.IssueTypes) != 2 || len(r.Allow) != 1 || r.Allow[0] != "rm-ops-orders" {
		t.Fatalf("route %+v", r)
	}
	jira := func(extra string) string {
		return `[{"name":"j","source":"jira","project":"OPS","status":"Implementing","secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]` + extra + `}]`
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"no project", `[{"name":"j","source":"jira","status":"Implementing","secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]}]`, "project: is required for a jira route"},
		{"no status", `[{"name":"j","source":"jira","project":"OPS","secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]}]`, "status: is required for a jira route"},
		{"no backups", `[{"name":"j","source":"jira","project":"OPS","status":"Implementing","secretEnv":"S","allow":["*"]}]`, "backups: is required for a jira route"},
		{"a bad project pattern", jira(`,"project":"OPS["`), "project: must be a project key or a glob pattern"},
		{"a status with a control character", jira(`,"status":"Imple\nmenting"`), "status: is not a status name"},
		{"an empty issue type", jira(`,"issueTypes":[""]`), "issueTypes[0]: must be an issue type name"},
		{"issueTypes not a list", jira(`,"issueTypes":"Change"`), "issueTypes: must be a list of strings"},
		{"a repository", jira(`,"repository":"o/r"`), "repository: a jira route has no repository"},
		{"environments", jira(`,"environments":["*"]`), "environments: a jira route has no environments"},
		{"a backup outside allow", jira(`,"allow":["rm-2"]`), `backups[0].DBInstanceId: "rm-1" is not in allow`},
		{"project on a github route", `[{"name":"r","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}],"project":"OPS"}]`, "project: only jira routes have a project"},
		{"status on a signed route", `[{"name":"r","source":"signed","secretEnv":"S","allow":["*"],"status":"Done"}]`, "status: only jira routes have a status"},
		{"a secret shared with a github route", `[{"name":"j","source":"jira","project":"OPS","status":"Implementing","secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]},{"name":"g","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]}]`,
			"a jira route and a github route may not share a secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRoutes([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	// One Jira webhook serves every project of its site: jira routes may
	// share its secret.
	if _, err := LoadRoutes([]byte(`[{"name":"a","source":"jira","project":"OPS","status":"Implementing","secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]},{"name":"b","source":"jira","project":"PAY","status":"Done","secretEnv":"S","backups":[{"DBInstanceId":"rm-2"}]}]`)); err != nil {
		t.Fatal(err)
	}
}

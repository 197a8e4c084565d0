package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

func ghSign(body []byte) string {
	m := hmac.New(sha256.New, []byte(ghSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ghEvent re-signs a modified GitHub payload.
func ghEvent(t *testing.T, fixture string, edit func(map[string]any), headers map[string]string) events.HTTPEvent {
	t.Helper()
	var payload map[string]any
	if err := json.Unmarshal(readFixture(t, fixture+".json"), &payload); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(payload)
	}
	body, _ := json.Marshal(payload)
	ev := hookEvent(t, "/v1/hooks/github", fixture, headers)
	ev.Body = string(body)
	if _, override := headers[HeaderGitHubSig]; !override {
		ev.Headers["X-Hub-Signature-256"] = ghSign(body)
	}
	return ev
}

func setEnv(env string) func(map[string]any) {
	return func(p map[string]any) { p["deployment"].(map[string]any)["environment"] = env }
}

func TestGitHub(t *testing.T) {
	tests := []struct {
		name      string
		ev        func(t *testing.T) events.HTTPEvent
		status    int
		instances []string // submitted
		rejected  int
		reason    string // of an ignored answer
	}{
		{"ping", func(t *testing.T) events.HTTPEvent { return hookEvent(t, "/v1/hooks/github", "github-ping", nil) }, 200, nil, 0, ""},
		{"organization ping (no repository) is tried against every github route", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-ping", func(p map[string]any) { delete(p, "repository") }, nil)
		}, 200, nil, 0, ""},
		{"deployment to production: the route's backups", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment", nil)
		}, 202, []string{"rm-hello-world-1"}, 0, ""},
		{"deployment payload names the backups", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment-payload", nil)
		}, 202, []string{"rm-hello-world-1"}, 0, ""},
		{"environment case-insensitive", func(t *testing.T) events.HTTPEvent { return ghEvent(t, "github-deployment", setEnv("Production"), nil) }, 202, []string{"rm-hello-world-1"}, 0, ""},
		{"staging matches the glob route (repository in another case)", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", setEnv("staging-eu"), nil)
		}, 202, []string{"rm-hello-staging"}, 0, ""},
		{"an environment no route covers", func(t *testing.T) events.HTTPEvent { return ghEvent(t, "github-deployment", setEnv("qa"), nil) }, 202, nil, 0, `no route for environment "qa"`},
		{"another event", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{"X-GitHub-Event": "push"})
		}, 202, nil, 0, `"push" is not acted on`},
		{"deployment_status is not acted on", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{"X-GitHub-Event": "deployment_status"})
		}, 202, nil, 0, "not acted on"},
		{"payload names an instance the route does not allow", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", func(p map[string]any) {
				p["deployment"].(map[string]any)["payload"] = map[string]any{"rdsBackup": map[string]any{"Backups": []any{
					map[string]any{"DBInstanceId": "rm-hello-world-2"}, map[string]any{"DBInstanceId": "rm-payments"}}}}
			}, nil)
		}, 403, nil, 1, ""},
		{"payload with a selector (route allow is not *)", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", func(p map[string]any) {
				p["deployment"].(map[string]any)["payload"] = `{"rdsBackup":{"Select":{"Engine":"MySQL"}}}`
			}, nil)
		}, 403, nil, 0, ""},
		{"payload with an unknown field", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", func(p map[string]any) {
				p["deployment"].(map[string]any)["payload"] = map[string]any{"rdsBackup": map[string]any{"Instance": "rm-hello-world-1"}}
			}, nil)
		}, 400, nil, 0, ""},
		{"missing X-GitHub-Event", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{"X-GitHub-Event": ""})
		}, 400, nil, 0, ""},
		{"malformed deployment (signed)", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", func(p map[string]any) { p["deployment"].(map[string]any)["id"] = "x" }, nil)
		}, 400, nil, 0, ""},
		{"wrong signature", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64)})
		}, 401, nil, 0, ""},
		{"missing signature", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{"X-Hub-Signature-256": ""})
		}, 401, nil, 0, ""},
		{"body altered after signing", func(t *testing.T) events.HTTPEvent {
			ev := hookEvent(t, "/v1/hooks/github", "github-deployment", nil)
			ev.Body = strings.Replace(ev.Body, "production", "staging", 1)
			return ev
		}, 401, nil, 0, ""},
		{"unknown repository", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", func(p map[string]any) { p["repository"].(map[string]any)["full_name"] = "mallory/evil" }, nil)
		}, 401, nil, 0, ""},
		{"not JSON, signed with nobody's secret", func(t *testing.T) events.HTTPEvent {
			ev := hookEvent(t, "/v1/hooks/github", "github-deployment", nil)
			ev.Body = "payload=%7B%7D" // form-encoded webhook
			return ev
		}, 401, nil, 0, ""},
		{"form-encoded but signed with the secret", func(t *testing.T) events.HTTPEvent {
			ev := hookEvent(t, "/v1/hooks/github", "github-deployment", nil)
			ev.Body = "payload=%7B%7D"
			ev.Headers["X-Hub-Signature-256"] = ghSign([]byte(ev.Body))
			return ev
		}, 400, nil, 0, ""},
		{"canonicalized header names (X-Github-Event)", func(t *testing.T) events.HTTPEvent {
			ev := hookEvent(t, "/v1/hooks/github", "github-deployment", nil)
			h := map[string]string{}
			for k, v := range ev.Headers {
				h[strings.ReplaceAll(k, "GitHub", "Github")] = v
			}
			ev.Headers = h
			return ev
		}, 202, []string{"rm-hello-world-1"}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev(t)))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", d.Status, tc.status, d.Raw)
			}
			var got []string
			for _, c := range hs.sub.Calls() {
				for _, r := range c.Reqs {
					got = append(got, r.DBInstanceId)
					if r.Trigger.Kind != "github" || r.Trigger.Source != "Codertocat/Hello-World" {
						t.Fatalf("trigger %+v", r.Trigger)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.instances, ",") {
				t.Fatalf("submitted %q, want %q", got, tc.instances)
			}
			if n := len(hs.rej.Requests()); n != tc.rejected {
				t.Fatalf("RejectSink called %d times, want %d", n, tc.rejected)
			}
			if tc.reason != "" && (d.Body["status"] != "ignored" || !strings.Contains(d.Body["reason"].(string), tc.reason)) {
				t.Fatalf("ignored answer %s, want reason %q", d.Raw, tc.reason)
			}
			if tc.status == 200 && d.Body["status"] != "pong" {
				t.Fatalf("ping answer %s", d.Raw)
			}
		})
	}
}

func TestGitHubDeliveryIsTheKey(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	send := func(ev events.HTTPEvent) string {
		if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 202 {
			t.Fatalf("%d %s", d.Status, d.Raw)
		}
		calls := hs.sub.Calls()
		return calls[len(calls)-1].Reqs[0].IdempotencyKey
	}
	first := send(hookEvent(t, "/v1/hooks/github", "github-deployment", nil))
	redelivered := send(hookEvent(t, "/v1/hooks/github", "github-deployment", nil))
	other := send(hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{"X-GitHub-Delivery": "another-guid"}))
	if first != redelivered || first == other {
		t.Fatalf("keys %s %s %s: a redelivery (same X-GitHub-Delivery) is the same ask", first, redelivered, other)
	}
	if got := hs.sub.Calls()[0].Reqs[0].Trigger.DeliveryId; got != "72d3162e-cc78-11e3-81ab-4c9367dc0958" {
		t.Fatalf("delivery id %q", got)
	}
}

func TestGitLab(t *testing.T) {
	pipeline := func(edit func(map[string]any)) func(t *testing.T) events.HTTPEvent {
		return func(t *testing.T) events.HTTPEvent {
			ev := hookEvent(t, "/v1/hooks/gitlab", "gitlab-pipeline", nil)
			var p map[string]any
			_ = json.Unmarshal([]byte(ev.Body), &p)
			edit(p)
			b, _ := json.Marshal(p)
			ev.Body = string(b)
			return ev
		}
	}
	fixture := func(name string, headers map[string]string) func(t *testing.T) events.HTTPEvent {
		return func(t *testing.T) events.HTTPEvent { return hookEvent(t, "/v1/hooks/gitlab", name, headers) }
	}
	deployBuild := func(p map[string]any) map[string]any { return p["builds"].([]any)[0].(map[string]any) }
	tests := []struct {
		name      string
		ev        func(t *testing.T) events.HTTPEvent
		status    int
		instances []string
		delivery  string
	}{
		{"deployment running", fixture("gitlab-deployment", nil), 202, []string{"rm-gl-1"}, "deployment/15"},
		{"deployment success (the shared fixture) is ignored", fixture("gitlab-deployment-success", nil), 202, nil, ""},
		{"pipeline before its deploy stage", fixture("gitlab-pipeline", nil), 202, []string{"rm-gl-2"}, "pipeline/31"},
		{"pipeline whose deploy stage runs", pipeline(func(p map[string]any) { deployBuild(p)["status"] = "running" }), 202, nil, ""},
		{"pipeline finished", pipeline(func(p map[string]any) { p["object_attributes"].(map[string]any)["status"] = "success" }), 202, nil, ""},
		{"pipeline deploying to another environment", pipeline(func(p map[string]any) {
			deployBuild(p)["environment"] = map[string]any{"name": "review/feature-x"}
		}), 202, nil, ""},
		{"pipeline without a deploy stage", pipeline(func(p map[string]any) {
			p["object_attributes"].(map[string]any)["stages"] = []any{"build", "test"}
			p["builds"] = p["builds"].([]any)[1:]
		}), 202, nil, ""},
		{"other event", fixture("gitlab-deployment", map[string]string{"X-Gitlab-Event": "Push Hook"}), 202, nil, ""},
		{"missing X-Gitlab-Event", fixture("gitlab-deployment", map[string]string{"X-Gitlab-Event": ""}), 400, nil, ""},
		{"wrong token", fixture("gitlab-deployment", map[string]string{"X-Gitlab-Token": "guess"}), 401, nil, ""},
		{"token with a different length", fixture("gitlab-deployment", map[string]string{"X-Gitlab-Token": ghSecret + "x"}), 401, nil, ""},
		{"missing token", fixture("gitlab-deployment", map[string]string{"X-Gitlab-Token": ""}), 401, nil, ""},
		{"unknown project", func(t *testing.T) events.HTTPEvent {
			ev := hookEvent(t, "/v1/hooks/gitlab", "gitlab-deployment", nil)
			ev.Body = strings.ReplaceAll(ev.Body, "root/test-deployment-webhooks", "other/project")
			return ev
		}, 401, nil, ""},
		{"malformed deployment (authenticated)", func(t *testing.T) events.HTTPEvent {
			ev := hookEvent(t, "/v1/hooks/gitlab", "gitlab-deployment", nil)
			ev.Body = `{"object_kind":"deployment","status":"running","project":{"path_with_namespace":"root/test-deployment-webhooks"}}`
			return ev
		}, 400, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev(t)))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", d.Status, tc.status, d.Raw)
			}
			var got []string
			for _, c := range hs.sub.Calls() {
				for _, r := range c.Reqs {
					got = append(got, r.DBInstanceId)
					if r.Trigger.Kind != "gitlab" || r.Trigger.Source != "root/test-deployment-webhooks" || r.Trigger.DeliveryId != tc.delivery {
						t.Fatalf("trigger %+v", r.Trigger)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.instances, ",") {
				t.Fatalf("submitted %q, want %q", got, tc.instances)
			}
			if tc.status == 202 && tc.instances == nil && d.Body["status"] != "ignored" {
				t.Fatalf("want an ignored answer, got %s", d.Raw)
			}
		})
	}
}

func TestGitLabRepeatedHooksAreOneAsk(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	for i := 0; i < 2; i++ {
		ev := hookEvent(t, "/v1/hooks/gitlab", "gitlab-pipeline", nil)
		if i == 1 {
			ev.Body = strings.Replace(ev.Body, `"status": "running"`, `"status": "pending"`, 1)
		}
		if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 202 {
			t.Fatalf("%d %s", d.Status, d.Raw)
		}
	}
	calls := hs.sub.Calls()
	if len(calls) != 2 || calls[0].Reqs[0].IdempotencyKey != calls[1].Reqs[0].IdempotencyKey {
		t.Fatalf("two hooks of pipeline 31 must ask for the same backup: %+v", calls)
	}
}

// Two routes of one repository and environment: their backups are taken
// together, once each, and a payload instance needs either route's Allow.
func TestGitHubSeveralRoutes(t *testing.T) {
	routes := []Route{ // built in code, not by LoadRoutes: Allow defaults apply in New
		{Name: "app", Source: SourceGitHub, Repository: "Codertocat/Hello-World", Environments: []string{"*"}, SecretEnv: "GH_SECRET",
			Backups: []backup.Spec{{DBInstanceId: "rm-app"}, {DBInstanceId: "rm-shared"}}},
		{Name: "reporting", Source: SourceGitHub, Repository: "Codertocat/*", Environments: []string{"prod*"}, SecretEnv: "GH_SECRET",
			Backups: []backup.Spec{{DBInstanceId: "rm-shared"}, {DBInstanceId: "rm-reports"}}},
	}
	hs := newHarness(t, "", func(c *Config) { c.Routes = routes })
	d := checkResponse(t, hs.h.Handle(context.Background(), hookEvent(t, "/v1/hooks/github", "github-deployment", nil)))
	if d.Status != 202 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	var got []string
	for _, r := range hs.sub.Calls()[0].Reqs {
		got = append(got, r.DBInstanceId)
	}
	if strings.Join(got, ",") != "rm-app,rm-shared,rm-reports" {
		t.Fatalf("submitted %q", got)
	}
	ev := ghEvent(t, "github-deployment", func(p map[string]any) {
		p["deployment"].(map[string]any)["payload"] = map[string]any{"rdsBackup": map[string]any{"Backups": []any{
			map[string]any{"DBInstanceId": "rm-reports"}, map[string]any{"DBInstanceId": "rm-other"}}}}
	}, nil)
	d = checkResponse(t, hs.h.Handle(context.Background(), ev))
	if d.Status != 403 || !strings.Contains(d.Raw, `[\"app\" \"reporting\"]`) || len(hs.rej.Requests()) != 1 || hs.rej.Requests()[0].DBInstanceId != "rm-other" {
		t.Fatalf("%d %s %+v", d.Status, d.Raw, hs.rej.Requests())
	}
}

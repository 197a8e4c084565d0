package events

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// routeBackups stands for a route's configured backups in the golden files.
var routeBackups = []backup.Spec{
	{DBInstanceId: "rm-hello-world-1", BackupMethod: "Physical"},
	{DBInstanceId: "rm-hello-world-2", BackupMethod: "Snapshot", RegionId: "cn-shanghai"},
}

const ghDelivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

func TestGitHubDeploymentDecode(t *testing.T) {
	ev, err := ParseGitHubDeployment(readFixture(t, "github-deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := GitHubDeployment{ID: 145988746, SHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", Ref: "master", Task: "deploy",
		Environment: "production", CreatedAt: "2019-05-15T15:20:53Z", Payload: json.RawMessage(`{}`)}
	if !reflect.DeepEqual(ev.Deployment, want) || ev.Repository.FullName != "Codertocat/Hello-World" || ev.Sender.Login != "Codertocat" || ev.Action != "created" {
		t.Fatalf("decoded %+v", ev)
	}
	// DESIGN.md §2: the deployment's creation is when it asked; every
	// redelivery of the event carries the same time.
	if got := ev.AskedAt(); !got.Equal(time.Date(2019, 5, 15, 15, 20, 53, 0, time.UTC)) {
		t.Errorf("AskedAt = %v", got)
	}
	if got := GitHubRepositoryName(readFixture(t, "github-deployment.json")); got != "Codertocat/Hello-World" {
		t.Fatalf("GitHubRepositoryName = %q", got)
	}
	if _, ok, err := ev.PayloadPlan(); ok || err != nil {
		t.Fatal("an empty payload carries no plan")
	}
}

func TestGitHubRoundTrip(t *testing.T) {
	// The types model a subset: decode → encode → decode is stable.
	for _, name := range []string{"github-deployment.json", "github-deployment-payload.json"} {
		ev, err := ParseGitHubDeployment(readFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(ev) // compacts the raw payload
		again, err := ParseGitHubDeployment(out)
		if err != nil {
			t.Fatal(err)
		}
		out2, _ := json.Marshal(again)
		if string(out) != string(out2) {
			t.Fatalf("%s: %s\n%s", name, out, out2)
		}
	}
	ping, err := ParseGitHubPing(readFixture(t, "github-ping.json"))
	if err != nil || ping.HookID != 109948940 || ping.Repository == nil || ping.Repository.FullName != "Codertocat/Hello-World" {
		t.Fatalf("ping %+v, %v", ping, err)
	}
	out, _ := json.Marshal(ping)
	again, _ := ParseGitHubPing(out)
	if !reflect.DeepEqual(again, ping) {
		t.Fatal("ping round trip")
	}
}

func TestGitHubPayloadPlan(t *testing.T) {
	mk := func(payload string) GitHubDeploymentEvent {
		return GitHubDeploymentEvent{Deployment: GitHubDeployment{ID: 1, Payload: json.RawMessage(payload)}, Repository: GitHubRepository{FullName: "o/r"}}
	}
	tests := []struct {
		name     string
		payload  string
		ok       bool
		instance string
		field    string
	}{
		{"none", ``, false, "", ""},
		{"empty object", `{}`, false, "", ""},
		{"other keys only", `{"migrate":true}`, false, "", ""},
		{"a plain string", `"deploy it"`, false, "", ""},
		{"a number", `7`, false, "", ""},
		{"object", `{"rdsBackup":{"DBInstanceId":"rm-1"}}`, true, "rm-1", ""},
		{"string holding JSON", `"{\"rdsBackup\":{\"DBInstanceId\":\"rm-1\"}}"`, true, "rm-1", ""},
		{"list", `{"rdsBackup":{"Backups":[{"DBInstanceId":"rm-1"},{"DBInstanceId":"rm-2"}]}}`, true, "rm-1", ""},
		{"unknown field named", `{"rdsBackup":{"DBInstanceID":"rm-1"}}`, true, "", "DBInstanceID"},
		{"not an object", `{"rdsBackup":["rm-1"]}`, true, "", "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := mk(tc.payload)
			p, ok, err := ev.PayloadPlan()
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if tc.field != "" {
				if v := violation(t, err); v.Field != tc.field {
					t.Fatalf("field %q, want %q", v.Field, tc.field)
				}
				if _, _, err := ev.Requests("d", routeBackups); err == nil {
					t.Fatal("Requests must fail too")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			reqs, _, err := ev.Requests("d", routeBackups)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ok && (p.Backups[0].DBInstanceId != tc.instance || reqs[0].DBInstanceId != tc.instance) {
				t.Fatalf("plan %+v, requests %+v", p, reqs)
			}
			if !tc.ok && len(reqs) != len(routeBackups) {
				t.Fatalf("without a payload plan the route's backups are taken, got %+v", reqs)
			}
		})
	}
}

func TestGitHubTrigger(t *testing.T) {
	ev := GitHubDeploymentEvent{Deployment: GitHubDeployment{ID: 42}, Repository: GitHubRepository{FullName: "o/r"}}
	if got := ev.Trigger("guid"); got != (backup.Trigger{Kind: "github", Source: "o/r", DeliveryId: "guid"}) {
		t.Fatalf("Trigger = %+v", got)
	}
	if got := ev.Trigger(""); got.DeliveryId != "deployment/42" {
		t.Fatalf("without a delivery id: %+v", got)
	}
}

func TestParseGitHubMalformed(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		{"empty", ``, "body"},
		{"array", `[]`, "body"},
		{"no deployment id", `{"deployment":{"environment":"production"},"repository":{"full_name":"o/r"}}`, "deployment.id"},
		{"no repository", `{"deployment":{"id":1}}`, "repository.full_name"},
		{"id a string", `{"deployment":{"id":"1"},"repository":{"full_name":"o/r"}}`, "body.deployment.id"},
		{"invalid JSON", `{"deployment":`, "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGitHubDeployment([]byte(tc.in))
			if v := violation(t, err); v.Field != tc.field || v.Code != backup.CodeMalformed {
				t.Fatalf("got %s on %q, want %q (%s)", v.Code, v.Field, tc.field, v.Message)
			}
		})
	}
	if _, err := ParseGitHubPing([]byte(`"zen"`)); err == nil {
		t.Fatal("a ping payload is an object")
	}
	if GitHubRepositoryName([]byte(`{"repository":7}`)) != "" || GitHubRepositoryName([]byte(`x`)) != "" {
		t.Fatal("GitHubRepositoryName of junk")
	}
}

type webhookResult struct {
	Requests []backup.Request `json:"requests,omitempty"`
	Plan     *backup.Plan     `json:"plan,omitempty"`
	Error    *errorView       `json:"error,omitempty"`
}

func TestGitHubGolden(t *testing.T) {
	for _, name := range []string{"github-deployment", "github-deployment-payload"} {
		t.Run(name, func(t *testing.T) {
			ev, err := ParseGitHubDeployment(readFixture(t, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			reqs, plan, err := ev.Requests(ghDelivery, routeBackups)
			if err != nil {
				t.Fatal(err)
			}
			checkIDs(t, reqs, KindGitHub)
			checkGolden(t, name, webhookResult{Requests: reqs, Plan: &plan})
		})
	}
}

func FuzzParseGitHubDeployment(f *testing.F) {
	for _, name := range []string{"github-deployment.json", "github-deployment-payload.json", "github-ping.json"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"deployment":{"id":1,"payload":"{\"rdsBackup\":{\"DBInstanceId\":\"rm-1\"}}"},"repository":{"full_name":"o/r"}}`))
	f.Add([]byte(`{"deployment":{"id":1,"payload":{"rdsBackup":{"Select":{"Engine":"MySQL"}}}},"repository":{"full_name":"o/r"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseGitHubPing(data)
		_ = GitHubRepositoryName(data)
		ev, err := ParseGitHubDeployment(data)
		if err != nil {
			violation(t, err)
			return
		}
		reqs, _, err := ev.Requests("d", routeBackups)
		if err != nil {
			violation(t, err)
			return
		}
		checkIDs(t, reqs, KindGitHub)
	})
}

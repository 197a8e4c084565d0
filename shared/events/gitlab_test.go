package events

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

func TestGitLabDeploymentDecode(t *testing.T) {
	// The shared fixture, verbatim: a finished deployment from a GitLab
	// without deployment_id.
	ev, err := ParseGitLabDeployment(readFixture(t, "gitlab-deployment-success.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != "success" || ev.Starting() || ev.Environment != "staging" || ev.Project.PathWithNamespace != "root/test-deployment-webhooks" || ev.DeployableID != 796 {
		t.Fatalf("decoded %+v", ev)
	}
	if got := ev.Trigger(); got != (backup.Trigger{Kind: "gitlab", Source: "root/test-deployment-webhooks", DeliveryId: "job/796"}) {
		t.Fatalf("Trigger = %+v", got)
	}

	ev, err = ParseGitLabDeployment(readFixture(t, "gitlab-deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Starting() || ev.DeploymentID != 15 || ev.Trigger().DeliveryId != "deployment/15" {
		t.Fatalf("decoded %+v", ev)
	}
	if got := GitLabProjectPath(readFixture(t, "gitlab-deployment.json")); got != "root/test-deployment-webhooks" {
		t.Fatalf("GitLabProjectPath = %q", got)
	}
}

func TestGitLabPipelineDecode(t *testing.T) {
	ev, err := ParseGitLabPipeline(readFixture(t, "gitlab-pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := ev.ObjectAttributes
	if a.ID != 31 || a.Status != "running" || !reflect.DeepEqual(a.Stages, []string{"build", "test", "deploy"}) || len(ev.Builds) != 3 {
		t.Fatalf("decoded %+v", ev)
	}
	if !ev.BeforeStage("deploy") {
		t.Fatal("deploy has not started: back up now")
	}
	if ev.BeforeStage("test") || ev.BeforeStage("build") || ev.BeforeStage("") || ev.BeforeStage("release") {
		t.Fatal("test and build have started; release does not exist")
	}
	if got := ev.Environments("deploy"); !reflect.DeepEqual(got, []string{"production"}) {
		t.Fatalf("Environments(deploy) = %q", got)
	}
	if got := ev.Environments("test"); !reflect.DeepEqual(got, []string{"master"}) {
		t.Fatalf("a stage without environments falls back to the ref, got %q", got)
	}
	if ev.Trigger().DeliveryId != "pipeline/31" {
		t.Fatalf("Trigger = %+v", ev.Trigger())
	}
}

func TestGitLabBeforeStage(t *testing.T) {
	base := func(status string, builds ...GitLabBuild) GitLabPipelineEvent {
		return GitLabPipelineEvent{ObjectAttributes: GitLabPipelineAttributes{ID: 1, Status: status, Stages: []string{"test", "deploy"}}, Builds: builds}
	}
	tests := []struct {
		name string
		ev   GitLabPipelineEvent
		want bool
	}{
		{"pending, no jobs listed yet", base("pending"), true},
		{"running, deploy created", base("running", GitLabBuild{Stage: "deploy", Status: "created"}), true},
		{"running, deploy manual", base("running", GitLabBuild{Stage: "deploy", Status: "manual"}), true},
		{"running, one deploy job running", base("running", GitLabBuild{Stage: "deploy", Status: "created"}, GitLabBuild{Stage: "deploy", Status: "running"}), false},
		{"success", base("success", GitLabBuild{Stage: "deploy", Status: "success"}), false},
		{"failed before deploy", base("failed", GitLabBuild{Stage: "deploy", Status: "created"}), false},
		{"stage only in builds", GitLabPipelineEvent{ObjectAttributes: GitLabPipelineAttributes{Status: "running"}, Builds: []GitLabBuild{{Stage: "deploy", Status: "pending"}}}, true},
	}
	for _, tc := range tests {
		if got := tc.ev.BeforeStage("deploy"); got != tc.want {
			t.Errorf("%s: BeforeStage = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGitLabRoundTrip(t *testing.T) {
	for _, name := range []string{"gitlab-deployment.json", "gitlab-deployment-success.json"} {
		ev, err := ParseGitLabDeployment(readFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(ev)
		again, err := ParseGitLabDeployment(out)
		if err != nil || !reflect.DeepEqual(again, ev) {
			t.Fatalf("%s: %+v, %v", name, again, err)
		}
	}
	ev, err := ParseGitLabPipeline(readFixture(t, "gitlab-pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(ev)
	again, err := ParseGitLabPipeline(out)
	if err != nil || !reflect.DeepEqual(again, ev) {
		t.Fatalf("pipeline: %+v, %v", again, err)
	}
}

func TestParseGitLabMalformed(t *testing.T) {
	dep := []struct{ name, in, field string }{
		{"empty", ``, "body"},
		{"no project", `{"status":"running","deployment_id":1}`, "project.path_with_namespace"},
		{"no ids", `{"status":"running","project":{"path_with_namespace":"g/p"}}`, "deployment_id"},
		{"status a number", `{"status":1,"deployment_id":1,"project":{"path_with_namespace":"g/p"}}`, "body.status"},
	}
	for _, tc := range dep {
		_, err := ParseGitLabDeployment([]byte(tc.in))
		if v := violation(t, err); v.Field != tc.field {
			t.Errorf("deployment %s: field %q, want %q", tc.name, v.Field, tc.field)
		}
	}
	pipe := []struct{ name, in, field string }{
		{"array", `[]`, "body"},
		{"no project", `{"object_attributes":{"id":1}}`, "project.path_with_namespace"},
		{"no id", `{"object_attributes":{},"project":{"path_with_namespace":"g/p"}}`, "object_attributes.id"},
		{"builds not a list", `{"object_attributes":{"id":1},"project":{"path_with_namespace":"g/p"},"builds":{}}`, "body.builds"},
	}
	for _, tc := range pipe {
		_, err := ParseGitLabPipeline([]byte(tc.in))
		if v := violation(t, err); v.Field != tc.field {
			t.Errorf("pipeline %s: field %q, want %q", tc.name, v.Field, tc.field)
		}
	}
	if GitLabProjectPath([]byte(`nope`)) != "" {
		t.Fatal("GitLabProjectPath of junk")
	}
}

func TestGitLabGolden(t *testing.T) {
	dep, err := ParseGitLabDeployment(readFixture(t, "gitlab-deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	reqs := dep.Requests(routeBackups)
	checkIDs(t, reqs, KindGitLab)
	checkGolden(t, "gitlab-deployment", webhookResult{Requests: reqs})

	pipe, err := ParseGitLabPipeline(readFixture(t, "gitlab-pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	reqs = pipe.Requests(routeBackups)
	checkIDs(t, reqs, KindGitLab)
	checkGolden(t, "gitlab-pipeline", webhookResult{Requests: reqs})
}

func FuzzParseGitLab(f *testing.F) {
	for _, name := range []string{"gitlab-deployment.json", "gitlab-deployment-success.json", "gitlab-pipeline.json"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"object_attributes":{"id":1,"status":"pending","stages":["deploy"]},"project":{"path_with_namespace":"g/p"},"builds":[{"stage":"deploy","status":"created","environment":null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = GitLabProjectPath(data)
		if ev, err := ParseGitLabDeployment(data); err == nil {
			_ = ev.Starting()
			checkIDs(t, ev.Requests(routeBackups), KindGitLab)
		} else {
			violation(t, err)
		}
		if ev, err := ParseGitLabPipeline(data); err == nil {
			for _, s := range append(ev.ObjectAttributes.Stages, "", "deploy") {
				_ = ev.BeforeStage(s)
				_ = ev.Environments(s)
			}
			checkIDs(t, ev.Requests(routeBackups), KindGitLab)
		} else {
			violation(t, err)
		}
	})
}

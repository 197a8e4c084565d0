package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// jiraIdentifier is the X-Atlassian-Webhook-Identifier of the fixture's
// headers file.
const jiraIdentifier = "9c1f7a52-3d4e-4b8a-a0f6-2e7d5c91b364"

// The fixture follows Atlassian's documented issue callback
// (https://developer.atlassian.com/cloud/jira/platform/webhooks/, "Example
// callback for an issue-related event"), with a status change in its
// changelog.
func TestJiraIssueUpdatedDecode(t *testing.T) {
	ev, err := ParseJira(readFixture(t, "jira-issue-updated.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.WebhookEvent != JiraEventIssueUpdated || ev.IssueEventTypeName != "issue_generic" || ev.Issue.Key != "OPS-123" || ev.Issue.ID != "10123" ||
		ev.Issue.Fields.Project.Key != "OPS" || ev.Issue.Fields.IssueType.Name != "Change" || ev.Issue.Fields.Status.Name != "Implementing" ||
		ev.User.AccountID != "5b10ac8d82e05b22cc7d4ef5" || ev.Changelog == nil || ev.Changelog.ID != "10461" || len(ev.Changelog.Items) != 2 {
		t.Fatalf("decoded %+v", ev)
	}
	ch, ok := ev.StatusChange()
	want := JiraChangeItem{Field: "status", FieldType: "jira", From: "10101", FromString: "Approved", To: "10102", ToString: "Implementing"}
	if !ok || ch != want {
		t.Fatalf("StatusChange = %+v, %v", ch, ok)
	}
	if got := ev.AskedAt(); !got.Equal(time.Date(2026, 11, 24, 5, 59, 10, 123e6, time.UTC)) {
		t.Errorf("AskedAt = %v", got)
	}
	if got := ev.Transition(); got != "status:10101->10102" {
		t.Errorf("Transition = %q", got)
	}
	if got := JiraProjectKey(readFixture(t, "jira-issue-updated.json")); got != "OPS" {
		t.Errorf("JiraProjectKey = %q", got)
	}
}

func TestJiraRoundTrip(t *testing.T) {
	// The types model a subset: decode → encode → decode is stable.
	ev, err := ParseJira(readFixture(t, "jira-issue-updated.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(ev)
	again, err := ParseJira(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, ev) {
		t.Fatalf("round trip:\n%+v\n%+v", ev, again)
	}
	out2, _ := json.Marshal(again)
	if string(out) != string(out2) {
		t.Fatalf("%s\n%s", out, out2)
	}
}

func TestJiraIDsAsNumbers(t *testing.T) {
	// Atlassian's own example writes changelog.id as a number.
	ev, err := ParseJira([]byte(`{"webhookEvent":"jira:issue_updated","timestamp":1,"issue":{"id":99291,"key":"JRA-20002","fields":{"project":{"key":"JRA"}}},"changelog":{"id":10124,"items":[{"field":"status","fieldtype":"jira","from":null,"to":"3","toString":"In Progress"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Issue.ID != "99291" || ev.Changelog.ID != "10124" {
		t.Fatalf("ids %q %q", ev.Issue.ID, ev.Changelog.ID)
	}
	if got := ev.Transition(); got != "status:->3" {
		t.Fatalf("Transition = %q", got)
	}
}

func TestJiraStatusChange(t *testing.T) {
	tests := []struct {
		name  string
		items string
		ok    bool
		to    string
	}{
		{"no changelog", ``, false, ""},
		{"no items", `"changelog":{"id":"1","items":[]},`, false, ""},
		{"a summary change only", `"changelog":{"id":"1","items":[{"field":"summary","fieldtype":"jira","toString":"x"}]},`, false, ""},
		{"a custom field named status", `"changelog":{"id":"1","items":[{"field":"Status","fieldtype":"custom","toString":"Implementing"}]},`, false, ""},
		{"the status among others", `"changelog":{"id":"1","items":[{"field":"resolution","fieldtype":"jira"},{"field":"status","fieldtype":"jira","from":"1","to":"2","toString":"Implementing"}]},`, true, "Implementing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseJira([]byte(`{"webhookEvent":"jira:issue_updated",` + tc.items + `"issue":{"key":"OPS-1","fields":{"project":{"key":"OPS"}}}}`))
			if err != nil {
				t.Fatal(err)
			}
			ch, ok := ev.StatusChange()
			if ok != tc.ok || ch.ToString != tc.to {
				t.Fatalf("StatusChange = %+v, %v", ch, ok)
			}
		})
	}
}

func TestJiraTrigger(t *testing.T) {
	ev, err := ParseJira(readFixture(t, "jira-issue-updated.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Trigger("id-1"); got != (backup.Trigger{Kind: "jira", Source: "OPS-123", DeliveryId: "id-1"}) {
		t.Fatalf("Trigger = %+v", got)
	}
	if got := ev.Trigger(""); got.DeliveryId != "changelog/10461" {
		t.Fatalf("without an identifier: %+v", got)
	}
	// The same identifier and transition: the same keys (Jira's retries);
	// another identifier, or another transition: other keys.
	key := func(e JiraIssueEvent, id string) string {
		reqs, _ := e.Requests(id, routeBackups)
		checkIDs(t, reqs, KindJira)
		return reqs[0].IdempotencyKey
	}
	first := key(ev, jiraIdentifier)
	if key(ev, jiraIdentifier) != first || key(ev, "another") == first {
		t.Fatal("the identifier names the ask")
	}
	other := ev
	other.Changelog = &JiraChangelog{ID: "10462", Items: []JiraChangeItem{{Field: "status", FieldType: "jira", From: "10102", To: "10103", ToString: "Done"}}}
	if key(other, jiraIdentifier) == first {
		t.Fatal("another transition is another ask")
	}
	reqs, plan := ev.Requests(jiraIdentifier, routeBackups)
	if len(reqs) != 2 || len(plan.Backups) != 2 || !reqs[0].AskedAt.Equal(ev.AskedAt()) {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestParseJiraMalformed(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		{"empty", ``, "body"},
		{"array", `[]`, "body"},
		{"invalid JSON", `{"webhookEvent":`, "body"},
		{"no webhookEvent", `{"issue":{"key":"OPS-1","fields":{"project":{"key":"OPS"}}}}`, "webhookEvent"},
		{"no issue key", `{"webhookEvent":"jira:issue_updated","issue":{"fields":{"project":{"key":"OPS"}}}}`, "issue.key"},
		{"no project key", `{"webhookEvent":"jira:issue_updated","issue":{"key":"OPS-1","fields":{}}}`, "issue.fields.project.key"},
		{"a key with a space", `{"webhookEvent":"jira:issue_updated","issue":{"key":"OPS 1","fields":{"project":{"key":"OPS"}}}}`, "issue.key"},
		{"a key too long", `{"webhookEvent":"jira:issue_updated","issue":{"key":"OPS-1","fields":{"project":{"key":"` + strings.Repeat("A", 256) + `"}}}}`, "issue.fields.project.key"},
		{"timestamp a string", `{"webhookEvent":"jira:issue_updated","timestamp":"1"}`, "body.timestamp"},
		{"timestamp negative", `{"webhookEvent":"jira:issue_updated","timestamp":-1,"issue":{"key":"OPS-1","fields":{"project":{"key":"OPS"}}}}`, "timestamp"},
		{"items not a list", `{"webhookEvent":"jira:issue_updated","changelog":{"items":{}}}`, "body.changelog.items"},
		{"an id an object", `{"webhookEvent":"jira:issue_updated","issue":{"id":{}}}`, "body.issue.id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJira([]byte(tc.in))
			if v := violation(t, err); v.Field != tc.field || v.Code != backup.CodeMalformed {
				t.Fatalf("got %s on %q, want %q (%s)", v.Code, v.Field, tc.field, v.Message)
			}
		})
	}
	// Another event decodes without the issue fields: the webhook ignores it.
	if ev, err := ParseJira([]byte(`{"webhookEvent":"comment_created","comment":{"body":"hi"}}`)); err != nil || ev.WebhookEvent != "comment_created" {
		t.Fatalf("%+v %v", ev, err)
	}
	if JiraProjectKey([]byte(`{"issue":7}`)) != "" || JiraProjectKey([]byte(`x`)) != "" {
		t.Fatal("JiraProjectKey of junk")
	}
}

func TestJiraGolden(t *testing.T) {
	ev, err := ParseJira(readFixture(t, "jira-issue-updated.json"))
	if err != nil {
		t.Fatal(err)
	}
	reqs, plan := ev.Requests(jiraIdentifier, routeBackups)
	checkIDs(t, reqs, KindJira)
	checkGolden(t, "jira-issue-updated", webhookResult{Requests: reqs, Plan: &plan})
}

func FuzzParseJira(f *testing.F) {
	f.Add(readFixture(f, "jira-issue-updated.json"))
	f.Add([]byte(`{"webhookEvent":"jira:issue_updated","timestamp":1,"issue":{"id":99291,"key":"JRA-1","fields":{"project":{"key":"JRA"}}},"changelog":{"id":10124,"items":[{"field":"status","fieldtype":"jira","to":"3","toString":"In Progress"}]}}`))
	f.Add([]byte(`{"webhookEvent":"comment_created"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = JiraProjectKey(data)
		ev, err := ParseJira(data)
		if err != nil {
			violation(t, err)
			return
		}
		_, _ = ev.StatusChange()
		_ = ev.Transition()
		if ev.WebhookEvent != JiraEventIssueUpdated {
			return
		}
		if !jiraKey(ev.Issue.Key) || !jiraKey(ev.Issue.Fields.Project.Key) {
			t.Fatalf("keys %q %q passed", ev.Issue.Key, ev.Issue.Fields.Project.Key)
		}
		reqs, _ := ev.Requests("d", routeBackups)
		checkIDs(t, reqs, KindJira)
		if at := ev.AskedAt(); !at.IsZero() && at.Location() != time.UTC {
			t.Fatal("AskedAt is UTC")
		}
	})
}

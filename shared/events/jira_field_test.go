package events

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// jiraWithField is the fixture with issue.fields[name] = value (deleted
// when value is absent).
func jiraWithField(t testing.TB, name string, value any, set bool) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(readFixture(t, "jira-issue-updated.json"), &p); err != nil {
		t.Fatal(err)
	}
	fields := p["issue"].(map[string]any)["fields"].(map[string]any)
	if set {
		fields[name] = value
	}
	b, _ := json.Marshal(p)
	return b
}

func TestJiraFieldInstances(t *testing.T) {
	const f = "customfield_10042"
	option := func(v any) map[string]any {
		return map[string]any{"self": "https://acme.atlassian.net/rest/api/2/customFieldOption/10100", "value": v, "id": "10100"}
	}
	for _, tc := range []struct {
		name  string
		value any
		set   bool
		want  []string
		code  string // of the violation
		field string // of the violation
	}{
		{"a text field", "rm-b, rm-a;rm-c  rm-a", true, []string{"rm-a", "rm-b", "rm-c"}, "", ""},
		{"a labels field", []any{"rm-b", " rm-a ", "rm-b"}, true, []string{"rm-a", "rm-b"}, "", ""},
		{"a multi-select field", []any{option("rm-orders-1"), option("rm-orders-2")}, true, []string{"rm-orders-1", "rm-orders-2"}, "", ""},
		{"a select list (one option)", option("rm-orders-1"), true, []string{"rm-orders-1"}, "", ""},

		{"missing", nil, false, nil, backup.CodeRequiredParam, "issue.fields." + f},
		{"null", nil, true, nil, backup.CodeRequiredParam, "issue.fields." + f},
		{"empty text", " , ", true, nil, backup.CodeRequiredParam, "issue.fields." + f},
		{"empty list", []any{}, true, nil, backup.CodeRequiredParam, "issue.fields." + f},
		{"a number", 42, true, nil, backup.CodeMalformed, "issue.fields." + f},
		{"an item that is a number", []any{"rm-a", 7}, true, nil, backup.CodeMalformed, "issue.fields." + f + "[1]"},
		{"an option without a value", []any{map[string]any{"id": "10100"}}, true, nil, backup.CodeMalformed, "issue.fields." + f + "[0]"},
		{"an option whose value is a list", option([]any{"rm-a"}), true, nil, backup.CodeMalformed, "issue.fields." + f},
		{"a pattern", "rm-a, rm-*", true, nil, backup.CodeInstanceIdFormat, "issue.fields." + f},
		{"upper case", []any{"rm-a", "RM-B"}, true, nil, backup.CodeInstanceIdFormat, "issue.fields." + f + "[1]"},
		{"too many", manyIDs(4), true, nil, backup.CodeTooManyBackups, "issue.fields." + f},
		{"as many as the bound, repeated", "rm-id-0 rm-id-1 rm-id-2 rm-id-0", true, []string{"rm-id-0", "rm-id-1", "rm-id-2"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, v := JiraFieldInstances(jiraWithField(t, f, tc.value, tc.set), f, 3)
			if tc.code == "" {
				if v != nil || !slices.Equal(ids, tc.want) {
					t.Fatalf("= %q, %v; want %q", ids, v, tc.want)
				}
				return
			}
			if v == nil || v.Code != tc.code || v.Field != tc.field || !strings.HasPrefix(v.Message, tc.field+": ") {
				t.Fatalf("= %q, %+v; want %s on %s", ids, v, tc.code, tc.field)
			}
			if want := map[string]int{backup.CodeTooManyBackups: 413}[tc.code]; want != 0 && v.HTTPStatus != want || want == 0 && v.HTTPStatus != 400 {
				t.Fatalf("HTTP %d", v.HTTPStatus)
			}
		})
	}
	if _, v := JiraFieldInstances([]byte(`not json`), f, 3); v == nil || v.Field != "body" {
		t.Fatalf("not JSON: %+v", v)
	}
	// A value the sender chose reaches the message clipped and quoted.
	if _, v := JiraFieldInstances(jiraWithField(t, f, "RM\x01"+strings.Repeat("x", 5000), true), f, 3); v == nil || len(v.Message) > 400 || strings.ContainsRune(v.Message, 1) {
		t.Fatalf("%+v", v)
	}
}

func manyIDs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("rm-id-")
		b.WriteByte(byte('0' + i))
		b.WriteByte(',')
	}
	return b.String()
}

func TestValidJiraFieldName(t *testing.T) {
	for _, s := range []string{"customfield_10042", "labels", "a", "A" + strings.Repeat("b", 63)} {
		if !ValidJiraFieldName(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "10042", "_x", "custom-field", "custom field", "a.b", "/a", "é", "A" + strings.Repeat("b", 64)} {
		if ValidJiraFieldName(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzJiraFieldInstances: any payload and field name: ids sorted, unique,
// each an instance id, at most the bound; or a violation naming the field
// with a bounded message. Never a panic.
func FuzzJiraFieldInstances(f *testing.F) {
	f.Add(jiraWithField(f, "customfield_10042", "rm-a, rm-b", true), "customfield_10042")
	f.Add(jiraWithField(f, "labels", []any{"rm-a", map[string]any{"value": "rm-b"}}, true), "labels")
	f.Add([]byte(`{"issue":{"fields":{"x":{"value":"rm-a"}}}}`), "x")
	f.Add([]byte(`{"issue":{"fields":{"x":[1,null,{"value":2}]}}}`), "x")
	f.Add([]byte(`{"issue":{"fields":null}}`), "x")
	f.Fuzz(func(t *testing.T, data []byte, field string) {
		if !ValidJiraFieldName(field) {
			return
		}
		ids, v := JiraFieldInstances(data, field, 5)
		if v != nil {
			if v.Field == "" || len(v.Message) > 600 || v.HTTPStatus != 400 && v.HTTPStatus != 413 {
				t.Fatalf("violation %+v", v)
			}
			return
		}
		if len(ids) == 0 || len(ids) > 5 || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Fatalf("ids %q", ids)
		}
		for _, id := range ids {
			if !backup.ValidInstanceID(id) {
				t.Fatalf("id %q", id)
			}
		}
	})
}

package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// Jira admin webhooks (Jira Cloud and Data Center): the payload of an issue
// event as Atlassian documents it ("Example callback for an issue-related
// event", https://developer.atlassian.com/cloud/jira/platform/webhooks/):
// {timestamp (unix ms), webhookEvent, issue_event_type_name, user,
// issue{id, key, fields{project, issuetype, status, ...}},
// changelog{id, items[{field, fieldtype, from, fromString, to,
// toString}]}}. testdata/events/jira-issue-updated.json follows it: OPS-123
// moved from "Approved" to "Implementing".

// KindJira is the trigger kind of requests a Jira webhook asked for.
const KindJira = "jira"

// JiraEventIssueUpdated is the webhookEvent acted on.
const JiraEventIssueUpdated = "jira:issue_updated"

// maxJiraKey bounds an issue or project key (Jira's are a few characters:
// OPS, OPS-123): they reach triggers, outcomes and log lines.
const maxJiraKey = 255

// JiraIssueEvent is the payload of a Jira issue webhook (only the fields
// fc-rds-backup uses).
type JiraIssueEvent struct {
	// Timestamp is when the event happened, in unix milliseconds.
	Timestamp    int64  `json:"timestamp"`
	WebhookEvent string `json:"webhookEvent"`
	// IssueEventTypeName is issue_generic for a transition, issue_updated,
	// issue_assigned, ... (informational).
	IssueEventTypeName string         `json:"issue_event_type_name,omitempty"`
	User               JiraUser       `json:"user"`
	Issue              JiraIssue      `json:"issue"`
	Changelog          *JiraChangelog `json:"changelog,omitempty"`
}

// JiraUser is the user whose action sent the event.
type JiraUser struct {
	AccountID   string `json:"accountId,omitempty"`
	Name        string `json:"name,omitempty"` // Data Center
	DisplayName string `json:"displayName,omitempty"`
}

// JiraIssue is the event's issue.
type JiraIssue struct {
	ID     JiraID          `json:"id"`
	Key    string          `json:"key"`
	Fields JiraIssueFields `json:"fields"`
}

// JiraIssueFields are the issue fields a route matches on.
type JiraIssueFields struct {
	Project   JiraProject `json:"project"`
	IssueType JiraNamed   `json:"issuetype"`
	Status    JiraNamed   `json:"status"`
}

// JiraProject is the issue's project; Key is what routes match.
type JiraProject struct {
	ID   JiraID `json:"id,omitempty"`
	Key  string `json:"key"`
	Name string `json:"name,omitempty"`
}

// JiraNamed is an issue type or a status: an id and a name.
type JiraNamed struct {
	ID   JiraID `json:"id,omitempty"`
	Name string `json:"name"`
}

// JiraChangelog lists what the update changed.
type JiraChangelog struct {
	ID    JiraID           `json:"id"`
	Items []JiraChangeItem `json:"items"`
}

// JiraChangeItem is one changed field. From and To are ids (a status id),
// FromString and ToString the names; each may be null.
type JiraChangeItem struct {
	Field      string `json:"field"`
	FieldType  string `json:"fieldtype"`
	From       string `json:"from,omitempty"`
	FromString string `json:"fromString,omitempty"`
	To         string `json:"to,omitempty"`
	ToString   string `json:"toString,omitempty"`
}

// JiraID is an id Jira writes as a string ("10461") or, in some examples
// and older versions, as a number (10461); it is kept as a string.
type JiraID string

// UnmarshalJSON accepts a string, a number or null.
func (id *JiraID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = JiraID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*id = JiraID(n.String())
	return nil
}

// ParseJira decodes a Jira webhook payload. webhookEvent is required; a
// jira:issue_updated event needs issue.key and issue.fields.project.key
// (at most 255 printable characters, no spaces). Other events are decoded
// as far as they go: the webhook ignores them.
func ParseJira(data []byte) (JiraIssueEvent, error) {
	var ev JiraIssueEvent
	if err := decodeObject(data, &ev); err != nil {
		return JiraIssueEvent{}, err
	}
	if ev.WebhookEvent == "" {
		return JiraIssueEvent{}, malformed("webhookEvent", "is required")
	}
	if ev.WebhookEvent != JiraEventIssueUpdated {
		return ev, nil
	}
	for _, f := range []struct{ name, v string }{{"issue.key", ev.Issue.Key}, {"issue.fields.project.key", ev.Issue.Fields.Project.Key}} {
		switch {
		case f.v == "":
			return JiraIssueEvent{}, malformed(f.name, "is required")
		case !jiraKey(f.v):
			return JiraIssueEvent{}, malformed(f.name, "must be 1-%d printable ASCII characters without spaces, got %s", maxJiraKey, backup.Quote(f.v, 32))
		}
	}
	if ev.Timestamp < 0 {
		return JiraIssueEvent{}, malformed("timestamp", "must be unix milliseconds, got %d", ev.Timestamp)
	}
	return ev, nil
}

func jiraKey(s string) bool {
	if s == "" || len(s) > maxJiraKey {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// JiraProjectKey returns issue.fields.project.key of any Jira webhook
// payload, or "" when it has none (or is not JSON): what a delivery that
// fails authentication claims, for its log line.
func JiraProjectKey(data []byte) string {
	var probe struct {
		Issue struct {
			Fields struct {
				Project struct {
					Key string `json:"key"`
				} `json:"project"`
			} `json:"fields"`
		} `json:"issue"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return ""
	}
	return probe.Issue.Fields.Project.Key
}

// StatusChange returns the changelog's change of the issue's status (field
// "status" of fieldtype "jira", not a custom field of that name), if the
// update made one.
func (e JiraIssueEvent) StatusChange() (JiraChangeItem, bool) {
	if e.Changelog == nil {
		return JiraChangeItem{}, false
	}
	for _, it := range e.Changelog.Items {
		if strings.EqualFold(it.Field, "status") && (it.FieldType == "" || strings.EqualFold(it.FieldType, "jira")) {
			return it, true
		}
	}
	return JiraChangeItem{}, false
}

// AskedAt is when the event happened (its timestamp): every retry of the
// delivery carries the same. Zero when the payload has none.
func (e JiraIssueEvent) AskedAt() time.Time {
	if e.Timestamp <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(e.Timestamp).UTC()
}

// Trigger returns where the event's requests come from: kind "jira",
// source the issue key, delivery id the X-Atlassian-Webhook-Identifier
// header value (the same on Jira's retries), or "changelog/<id>" when
// there is none.
func (e JiraIssueEvent) Trigger(identifier string) backup.Trigger {
	if identifier == "" {
		identifier = "changelog/" + string(e.changelogID())
	}
	return backup.Trigger{Kind: KindJira, Source: e.Issue.Key, DeliveryId: identifier}
}

func (e JiraIssueEvent) changelogID() JiraID {
	if e.Changelog == nil || e.Changelog.ID == "" {
		return JiraID(strconv.FormatInt(e.Timestamp, 10))
	}
	return e.Changelog.ID
}

// Transition names the status change in the ask's identity:
// "status:<from>-><to>", each the status id (the name when the id is
// missing), so the same delivery of the same transition is one ask and a
// later transition of the issue (even to the same status) is another.
func (e JiraIssueEvent) Transition() string {
	it, _ := e.StatusChange()
	id := func(idv, name string) string {
		if idv != "" {
			return idv
		}
		return strings.ToLower(name)
	}
	return "status:" + id(it.From, it.FromString) + "->" + id(it.To, it.ToString)
}

// Requests normalizes the event into requests for backups (a route's):
// trigger Trigger(identifier), the transition a part of every idempotency
// key, AskedAt the event's timestamp.
func (e JiraIssueEvent) Requests(identifier string, backups []backup.Spec) ([]backup.Request, backup.Plan) {
	p := backup.Plan{Backups: backups}
	return WithAskedAt(NormalizePlan(p, e.Trigger(identifier), e.Transition()), e.AskedAt()), p
}

// MaxJiraFieldName bounds a route's instancesField: an issue field's id
// (customfield_10042, labels).
const MaxJiraFieldName = 64

// ValidJiraFieldName reports whether s is an issue field's id, as a
// route's instancesField names it: ^[A-Za-z][A-Za-z0-9_]{0,63}$.
func ValidJiraFieldName(s string) bool {
	if s == "" || len(s) > MaxJiraFieldName || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// JiraFieldInstances returns the instance ids the issue field named field
// (ValidJiraFieldName) holds in a Jira webhook payload, sorted and without
// duplicates. The field may hold a text of ids separated by commas,
// semicolons or spaces ("rm-a, rm-b"), a list of strings (a labels
// field), a list of options ({"value": "rm-a", ...}: a multi-select custom
// field) or one option (a select list). Every id must be an RDS instance
// id (backup.ValidInstanceID), and there may be at most max of them
// (max <= 0: no bound). A refusal is a violation whose field is
// issue.fields.<field> (with the item's index when it is a list's):
// missing, null or empty, 400 RequiredParam.NotFound; another shape, 400
// MalformedRequest; an id that is not one, 400 InvalidDBInstanceId.Format;
// more than max ids, 413 TooManyBackups (reading stops there).
func JiraFieldInstances(data []byte, field string, max int) ([]string, *backup.Violation) {
	name := "issue.fields." + backup.FieldName(field)
	var probe struct {
		Issue struct {
			Fields map[string]json.RawMessage `json:"fields"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, malformed("body", "must be a Jira webhook's JSON object")
	}
	raw, ok := probe.Issue.Fields[field]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, jiraFieldEmpty(name, "the issue has no value in it")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, malformed(name, "is not JSON")
	}
	seen := map[string]bool{}
	var out []string
	add := func(at, id string) *backup.Violation {
		if id == "" || seen[id] {
			return nil
		}
		if !backup.ValidInstanceID(id) {
			return &backup.Violation{Code: backup.CodeInstanceIdFormat, HTTPStatus: 400, Field: at,
				Message: fmt.Sprintf("%s: %s %s", at, backup.Quote(id, 72), backup.InstanceIdRule)}
		}
		if max > 0 && len(out) == max {
			return &backup.Violation{Code: backup.CodeTooManyBackups, HTTPStatus: 413, Field: name,
				Message: fmt.Sprintf("%s: more than %d instance ids, at most %d in one call (BACKUP_MAX_REQUESTS_PER_CALL)", name, max, max)}
		}
		seen[id] = true
		out = append(out, id)
		return nil
	}
	option := func(at string, o map[string]any) (string, *backup.Violation) {
		s, isStr := o["value"].(string)
		if !isStr {
			return "", malformed(at, `must be an instance id or an option {"value": "<instance id>"}`)
		}
		return strings.TrimSpace(s), nil
	}
	switch t := v.(type) {
	case string:
		for _, id := range strings.FieldsFunc(t, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r' }) {
			if viol := add(name, id); viol != nil {
				return nil, viol
			}
		}
	case map[string]any:
		id, viol := option(name, t)
		if viol == nil {
			viol = add(name, id)
		}
		if viol != nil {
			return nil, viol
		}
	case []any:
		for i, e := range t {
			at := fmt.Sprintf("%s[%d]", name, i)
			var id string
			var viol *backup.Violation
			switch it := e.(type) {
			case string:
				id = strings.TrimSpace(it)
			case map[string]any:
				id, viol = option(at, it)
			default:
				viol = malformed(at, `must be an instance id or an option {"value": "<instance id>"}`)
			}
			if viol == nil {
				viol = add(at, id)
			}
			if viol != nil {
				return nil, viol
			}
		}
	default:
		return nil, malformed(name, `must hold instance ids: a text ("rm-a, rm-b"), a list of strings or a list of options {"value": "rm-a"}`)
	}
	if len(out) == 0 {
		return nil, jiraFieldEmpty(name, "it holds no instance id")
	}
	slices.Sort(out)
	return out, nil
}

func jiraFieldEmpty(name, why string) *backup.Violation {
	return &backup.Violation{Code: backup.CodeRequiredParam, HTTPStatus: 400, Field: name,
		Message: fmt.Sprintf("%s: is required: %s (the route takes its backups from this field)", name, why)}
}

package webhook

import (
	"context"
	"crypto/hmac"
	"fmt"
	"slices"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// Jira admin webhooks (POST /v1/hooks/jira).
const (
	HeaderJiraSig        = "X-Hub-Signature"                // sha256=<hex> HMAC of the body with the webhook's secret
	HeaderJiraIdentifier = "X-Atlassian-Webhook-Identifier" // the delivery's id, the same on Jira's retries
)

// refuseJiraFields refuses a jira route's fields on a route of another
// source.
func refuseJiraFields(r Route, bad func(field, format string, args ...any)) {
	for _, f := range []struct {
		name, a string
		set     bool
	}{{"project", "a ", r.Project != ""}, {"status", "a ", r.Status != ""}, {"issueTypes", "", len(r.IssueTypes) > 0}, {"instancesField", "an ", r.InstancesField != ""}} {
		if f.set {
			bad(f.name, "only jira routes have %s%s", f.a, f.name)
		}
	}
}

// checkJiraRoute validates a jira route: project and status are required,
// backups too (the issue names none), and the fields of other sources are
// refused. Allow defaults to the instances of backups.
func checkJiraRoute(r *Route, bad func(field, format string, args ...any)) {
	for _, f := range []struct {
		name string
		set  bool
	}{{"repository", r.Repository != ""}, {"organization", r.Organization != ""}, {"environments", len(r.Environments) > 0}, {"stage", r.Stage != ""}} {
		if f.set {
			bad(f.name, "a jira route has no %s (it matches project, status and issueTypes)", f.name)
		}
	}
	switch {
	case r.Project == "":
		bad("project", "is required for a jira route (the issues' project key, e.g. OPS, or a pattern)")
	case !validGlob(r.Project) || strings.ContainsAny(r.Project, " /"):
		bad("project", "must be a project key or a glob pattern, got %q", r.Project)
	}
	if r.Status == "" {
		bad("status", "is required for a jira route (the status a transition must reach, e.g. Implementing)")
	} else if !validStage(r.Status) {
		bad("status", "is not a status name: %q", r.Status)
	}
	for j, t := range r.IssueTypes {
		if t == "" || !validGlob(t) || !validStage(t) {
			bad(fmt.Sprintf("issueTypes[%d]", j), "must be an issue type name or a glob pattern, got %q", t)
		}
	}
	if r.InstancesField != "" {
		checkInstancesField(r, bad)
		return
	}
	if len(r.Backups) == 0 {
		bad("backups", "is required for a jira route (or instancesField: the issue field holding the instance ids)")
	}
	if len(r.Allow) == 0 {
		for _, s := range r.Backups {
			if s.DBInstanceId != "" && !slices.Contains(r.Allow, s.DBInstanceId) {
				r.Allow = append(r.Allow, s.DBInstanceId)
			}
		}
	}
}

// checkInstancesField validates a jira route that takes its instances from
// a field of the issue: the field's id by grammar, allow required and
// never "*" (whoever may edit the issue writes the field), and backups at
// most the parameters of every instance.
func checkInstancesField(r *Route, bad func(field, format string, args ...any)) {
	if !events.ValidJiraFieldName(r.InstancesField) {
		bad("instancesField", "must be an issue field's id (a letter, then at most 63 letters, digits or '_', e.g. customfield_10042 or labels), got %s", backup.Quote(r.InstancesField, 64))
	}
	switch {
	case len(r.Allow) == 0:
		bad("allow", "is required for a jira route with instancesField (whoever may edit the issue writes the field: name the instances or patterns it may back up)")
	case allowsAll(r.Allow):
		bad("allow", `may not be "*" on a jira route with instancesField (whoever may edit the issue would reach every instance): name the instances or patterns, e.g. rm-shop-*`)
	}
	checkParameters(r.Backups, "a jira route with instancesField", "the field names", "the issue's field (instancesField)", bad)
}

// authJira verifies X-Hub-Signature (HMAC-SHA256 of the body) against the
// secrets of the jira routes of the issue's project; it returns the routes
// whose secret signed the body. A secret authenticates only its own
// routes: signed with another route's secret, a delivery is refused (401).
// A project no route names is tried against every jira route (one Jira
// webhook serves its site's every project): signed by one of them, it is
// authenticated and then ignored, not refused.
func (h *Handler) authJira(ev events.HTTPEvent, body []byte, c *call) ([]*route, *events.HTTPResponse) {
	project := events.JiraProjectKey(body)
	fail := func(reason string) ([]*route, *events.HTTPResponse) {
		c.source = claimed(project)
		r := unauthorized(c, reason, "")
		return nil, &r
	}
	header := ev.Header(HeaderJiraSig)
	if header == "" {
		return fail("no X-Hub-Signature")
	}
	sig, ok := parseGitHubSignature(header)
	if !ok {
		return fail("X-Hub-Signature is not sha256=<64 hex digits>")
	}
	var cands, all []*route
	for _, r := range h.routes {
		if r.Source == SourceJira {
			all = append(all, r)
			if project != "" && matchFold(r.Project, project) {
				cands = append(cands, r)
			}
		}
	}
	if len(cands) == 0 {
		cands = all
	}
	var out []*route
	macs := map[string]bool{}
	tried := false
	for _, r := range cands {
		for _, secret := range r.secrets {
			match, seen := macs[string(secret)]
			if !seen {
				match = hmac.Equal(sig, bodyMAC(secret, body))
				macs[string(secret)] = match
				tried = true
			}
			if match {
				out = append(out, r)
				break
			}
		}
	}
	if !tried {
		// As long as a route's check: a deployment without jira routes
		// is not told apart by the answer's timing either.
		_ = hmac.Equal(sig, bodyMAC(h.dummyKeys()[0], body))
		return fail("no jira route")
	}
	if len(out) == 0 {
		return fail("signature does not match any jira route of the project")
	}
	c.source = project
	return out, nil
}

// jira acts on a jira:issue_updated event whose changelog moves the issue
// to a route's status, for the route's project and issue types: the
// route's backups, askedAt the event's timestamp, the ask named by
// X-Atlassian-Webhook-Identifier, the issue key and the transition.
// Everything else a signed delivery says is answered 202 ignored.
func (h *Handler) jira(ctx context.Context, ev events.HTTPEvent, body []byte, c *call) events.HTTPResponse {
	routes, fail := h.authJira(ev, body, c)
	if fail != nil {
		return *fail
	}
	c.route = routeList(routes)
	c.delivery = deliveryHeader(ev, HeaderJiraIdentifier) // "": the changelog id is used instead
	je, err := events.ParseJira(body)
	if err != nil {
		return parseFailure(err, c)
	}
	if je.WebhookEvent != events.JiraEventIssueUpdated {
		return ignored(c, fmt.Sprintf("Jira event %q is not acted on (only %s)", clip(je.WebhookEvent, 64), events.JiraEventIssueUpdated))
	}
	issue := je.Issue.Key
	c.source = issue
	change, ok := je.StatusChange()
	if !ok {
		return ignored(c, fmt.Sprintf("%s was updated without a status change", issue))
	}
	var byProject, byStatus, matched []*route
	for _, r := range routes {
		if !matchFold(r.Project, je.Issue.Fields.Project.Key) {
			continue
		}
		byProject = append(byProject, r)
		if !strings.EqualFold(strings.TrimSpace(r.Status), strings.TrimSpace(change.ToString)) {
			continue
		}
		byStatus = append(byStatus, r)
		if len(r.IssueTypes) == 0 || matchAnyFold(r.IssueTypes, je.Issue.Fields.IssueType.Name) {
			matched = append(matched, r)
		}
	}
	switch {
	case len(byProject) == 0:
		return ignored(c, fmt.Sprintf("no jira route for project %s", clip(je.Issue.Fields.Project.Key, 64)))
	case len(byStatus) == 0:
		return ignored(c, fmt.Sprintf("%s moved to status %q, which no route of project %s acts on", issue, clip(change.ToString, 64), clip(je.Issue.Fields.Project.Key, 64)))
	case len(matched) == 0:
		return ignored(c, fmt.Sprintf("%s is of issue type %q, which no route for status %q acts on", issue, clip(je.Issue.Fields.IssueType.Name, 64), clip(change.ToString, 64)))
	}
	c.route = routeList(matched)
	if resp, old := h.tooOld(c, "timestamp", je.AskedAt()); old {
		return resp
	}
	specs, v := h.jiraBackups(matched, body)
	if v != nil {
		c.reason = "bad request: " + violationReason(v)
		return violationResponse(v, "")
	}
	reqs, plan := je.Requests(c.delivery, specs)
	return h.submit(ctx, c, matched, plan, je.Trigger(c.delivery), reqs)
}

// jiraBackups are the backups of the matched routes: a route's backups,
// or one per instance id its instancesField holds on the issue (with the
// parameters of its one backups entry), each id checked by grammar and
// their number bounded by MaxRequests before anything else sees them.
func (h *Handler) jiraBackups(routes []*route, body []byte) ([]backup.Spec, *backup.Violation) {
	var out []backup.Spec
	for _, r := range routes {
		if r.InstancesField == "" {
			out = append(out, r.Backups...)
			continue
		}
		ids, v := events.JiraFieldInstances(body, r.InstancesField, h.maxReqs)
		if v != nil {
			v.Message += fmt.Sprintf(" (route %s)", r.Name)
			return nil, v
		}
		var params backup.Spec
		if len(r.Backups) == 1 {
			params = r.Backups[0]
		}
		for _, id := range ids {
			s := params
			s.DBInstanceId = id
			out = append(out, s)
		}
	}
	return out, nil
}

// jiraTrigger reports whether a trigger is a Jira delivery's (Jira retries
// deliveries, and its identifier is the same on every retry).
func jiraTrigger(t backup.Trigger) bool { return t.Kind == events.KindJira }

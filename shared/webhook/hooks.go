package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// candidates are the routes of source whose Repository matches repo, or
// every route of source when repo is unknown (an organization ping, or a
// body that is not JSON: it is authenticated before it is judged).
func (h *Handler) candidates(source, repo string) []*route {
	var out []*route
	for _, r := range h.routes {
		if r.Source == source && (repo == "" || matchFold(r.Repository, repo)) {
			out = append(out, r)
		}
	}
	return out
}

// claimed is a repository or project name a delivery that failed
// authentication claims, as its log line may carry it: anyone may send
// one, so it is clipped short and quoted.
func claimed(name string) string {
	if name == "" {
		return ""
	}
	return backup.Quote(name, 48)
}

// authGitHub verifies X-Hub-Signature-256 (HMAC-SHA256 of the body) against
// the secrets of the candidate routes; it returns the routes whose secret
// signed the body.
func (h *Handler) authGitHub(ev events.HTTPEvent, body []byte, c *call) ([]*route, *events.HTTPResponse) {
	repo := events.GitHubRepositoryName(body)
	c.source = repo
	fail := func(reason string) ([]*route, *events.HTTPResponse) {
		c.source = claimed(repo)
		r := unauthorized(c, reason, "")
		return nil, &r
	}
	header := ev.Header(HeaderGitHubSig)
	if header == "" {
		return fail("no X-Hub-Signature-256")
	}
	sig, ok := parseGitHubSignature(header)
	if !ok {
		return fail("X-Hub-Signature-256 is not sha256=<64 hex digits>")
	}
	cands := h.candidates(SourceGitHub, repo)
	if len(cands) == 0 {
		// As long as a route's check: a repository nobody configured is
		// not told apart by the answer's timing either.
		_ = hmac.Equal(sig, bodyMAC(h.dummyKeys()[0], body))
		return fail("no github route for the repository")
	}
	// A route is authenticated by its own secrets only (the current one,
	// or the previous one during a rotation).
	var ok2 []*route
	macs := map[string]bool{}
	for _, r := range cands {
		for _, secret := range r.secrets {
			match, seen := macs[string(secret)]
			if !seen {
				match = hmac.Equal(sig, bodyMAC(secret, body))
				macs[string(secret)] = match
			}
			if match {
				ok2 = append(ok2, r)
				break
			}
		}
	}
	if len(ok2) == 0 {
		return fail("signature does not match any route of the repository")
	}
	return ok2, nil
}

// authGitLab compares X-Gitlab-Token with the secrets of the candidate
// routes in constant time (over SHA-256 digests, so lengths do not leak).
func (h *Handler) authGitLab(ev events.HTTPEvent, body []byte, c *call) ([]*route, *events.HTTPResponse) {
	project := events.GitLabProjectPath(body)
	c.source = project
	fail := func(reason string) ([]*route, *events.HTTPResponse) {
		c.source = claimed(project)
		r := unauthorized(c, reason, "missing or invalid token")
		return nil, &r
	}
	token := ev.Header(HeaderGitLabToken)
	if token == "" {
		return fail("no X-Gitlab-Token")
	}
	cands := h.candidates(SourceGitLab, project)
	got := sha256.Sum256([]byte(token))
	if len(cands) == 0 {
		want := sha256.Sum256(h.dummyKeys()[0]) // as long as a route's check
		_ = subtle.ConstantTimeCompare(got[:], want[:])
		return fail("no gitlab route for the project")
	}
	var out []*route
	for _, r := range cands {
		match := 0
		for _, secret := range r.secrets {
			want := sha256.Sum256(secret)
			match |= subtle.ConstantTimeCompare(got[:], want[:])
		}
		if match == 1 {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return fail("token does not match any route of the project")
	}
	return out, nil
}

func (h *Handler) github(ctx context.Context, ev events.HTTPEvent, body []byte, c *call) events.HTTPResponse {
	routes, fail := h.authGitHub(ev, body, c)
	if fail != nil {
		return *fail
	}
	c.route = routeList(routes)
	c.delivery = deliveryHeader(ev, HeaderGitHubDelivery) // "": the deployment id is used instead
	kind := strings.TrimSpace(ev.Header(HeaderGitHubEvent))
	switch kind {
	case "":
		c.reason = "no X-GitHub-Event"
		return errorResponse(400, backup.CodeRequiredParam, HeaderGitHubEvent, HeaderGitHubEvent+": is required")
	case events.GitHubEventPing:
		if _, err := events.ParseGitHubPing(body); err != nil {
			return parseFailure(err, c)
		}
		return jsonResponse(200, map[string]string{"status": "pong"})
	case events.GitHubEventDeployment:
	default:
		return ignored(c, fmt.Sprintf("GitHub event %q is not acted on (only deployment and ping)", clip(kind, 64)))
	}
	dep, err := events.ParseGitHubDeployment(body)
	if err != nil {
		return parseFailure(err, c)
	}
	var matched []*route
	for _, r := range routes {
		if matchAnyFold(r.Environments, dep.Deployment.Environment) {
			matched = append(matched, r)
		}
	}
	if len(matched) == 0 {
		return ignored(c, fmt.Sprintf("no route for environment %q of %s", clip(dep.Deployment.Environment, 100), clip(dep.Repository.FullName, 100)))
	}
	c.route = routeList(matched)
	payloadPlan, hasPayload, err := dep.PayloadPlan()
	if err != nil {
		return parseFailure(err, c)
	}
	plan := payloadPlan
	if !hasPayload {
		plan = backup.Plan{Backups: unionBackups(matched)}
		if len(plan.Backups) == 0 {
			c.reason = "no backups: the route has none and the deployment payload names none"
			return errorResponse(400, backup.CodeRequiredParam, "deployment.payload."+events.GitHubPayloadKey,
				fmt.Sprintf("deployment.payload.%s: is required (route %s names no backups)", events.GitHubPayloadKey, routeNames(matched)))
		}
	}
	if resp, old := h.tooOld(c, "deployment.created_at", dep.AskedAt()); old {
		return resp
	}
	trig := dep.Trigger(c.delivery)
	return h.submit(ctx, c, matched, plan, trig, events.WithAskedAt(events.NormalizePlan(plan, trig), dep.AskedAt()))
}

func (h *Handler) gitlab(ctx context.Context, ev events.HTTPEvent, body []byte, c *call) events.HTTPResponse {
	routes, fail := h.authGitLab(ev, body, c)
	if fail != nil {
		return *fail
	}
	c.route = routeList(routes)
	kind := strings.TrimSpace(ev.Header(HeaderGitLabEvent))
	switch kind {
	case "":
		c.reason = "no X-Gitlab-Event"
		return errorResponse(400, backup.CodeRequiredParam, HeaderGitLabEvent, HeaderGitLabEvent+": is required")
	case events.GitLabEventDeployment:
		dep, err := events.ParseGitLabDeployment(body)
		if err != nil {
			return parseFailure(err, c)
		}
		c.delivery = dep.Trigger().DeliveryId
		if !dep.Starting() {
			return ignored(c, fmt.Sprintf("deployment status %q (backups are taken when a deployment is running)", clip(dep.Status, 32)))
		}
		var matched []*route
		for _, r := range routes {
			if r.Stage == "" && matchAnyFold(r.Environments, dep.Environment) {
				matched = append(matched, r)
			}
		}
		if len(matched) == 0 {
			return ignored(c, fmt.Sprintf("no deployment route for environment %q of %s", clip(dep.Environment, 100), dep.Project.PathWithNamespace))
		}
		c.route = routeList(matched)
		if resp, old := h.tooOld(c, "status_changed_at", dep.AskedAt()); old {
			return resp
		}
		plan := backup.Plan{Backups: unionBackups(matched)}
		trig := dep.Trigger()
		return h.submit(ctx, c, matched, plan, trig, events.WithAskedAt(events.NormalizePlan(plan, trig), dep.AskedAt()))
	case events.GitLabEventPipeline:
		pipe, err := events.ParseGitLabPipeline(body)
		if err != nil {
			return parseFailure(err, c)
		}
		c.delivery = pipe.Trigger().DeliveryId
		var matched []*route
		for _, r := range routes {
			if r.Stage == "" || !pipe.BeforeStage(r.Stage) {
				continue
			}
			for _, env := range pipe.Environments(r.Stage) {
				if matchAnyFold(r.Environments, env) {
					matched = append(matched, r)
					break
				}
			}
		}
		if len(matched) == 0 {
			return ignored(c, fmt.Sprintf("pipeline %d (status %q) is not about to run a configured stage", pipe.ObjectAttributes.ID, clip(pipe.ObjectAttributes.Status, 32)))
		}
		c.route = routeList(matched)
		if resp, old := h.tooOld(c, "object_attributes.created_at", pipe.AskedAt()); old {
			return resp
		}
		plan := backup.Plan{Backups: unionBackups(matched)}
		trig := pipe.Trigger()
		return h.submit(ctx, c, matched, plan, trig, events.WithAskedAt(events.NormalizePlan(plan, trig), pipe.AskedAt()))
	}
	return ignored(c, fmt.Sprintf("GitLab event %q is not acted on (only Deployment Hook and Pipeline Hook)", clip(kind, 64)))
}

// tooOld answers a delivery whose event time (its askedAt, the payload's
// field) is older than MaxAskAge when it arrived: 202 "ignored", so that
// GitHub and GitLab do not retry it, with a reason naming the field, the
// age and the rule. Nothing is submitted and no outcome is published (as
// for every ignored delivery). GitHub signatures carry no time: without
// this a captured delivery replayed after the ask ledger's row expired
// would be a new ask. A delivery without a readable time is not judged
// (its askedAt is then when it was first seen), nor is one from the future
// (only a holder of the secret could make one, who can make any delivery).
func (h *Handler) tooOld(c *call, field string, askedAt time.Time) (events.HTTPResponse, bool) {
	if askedAt.IsZero() || h.maxAskAge <= 0 {
		return events.HTTPResponse{}, false
	}
	age := c.received.Sub(askedAt)
	if age <= h.maxAskAge {
		return events.HTTPResponse{}, false
	}
	return ignored(c, fmt.Sprintf("%s %s is %s old, older than the max ask age %s (BACKUP_MAX_ASK_AGE): a delivery this late (a replay or a late redelivery) makes no backup",
		field, askedAt.UTC().Format(time.RFC3339), shortDuration(age), shortDuration(h.maxAskAge))), true
}

// shortDuration is d to the second, without zero minutes and seconds
// ("25h", "24h", "1h30m", "90h0m5s").
func shortDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func unionBackups(routes []*route) []backup.Spec {
	var out []backup.Spec
	for _, r := range routes {
		out = append(out, r.Backups...)
	}
	return out
}

func routeList(routes []*route) string {
	names := make([]string, len(routes))
	for i, r := range routes {
		names[i] = r.Name
	}
	return strings.Join(names, ",")
}

// deliveryHeader is a sender's delivery id header, trimmed; "" when it is
// missing, longer than an Idempotency-Key may be or not printable (the
// caller then names the delivery by the payload).
func deliveryHeader(ev events.HTTPEvent, name string) string {
	d := strings.TrimSpace(ev.Header(name))
	if len(d) > maxIdempotencyKey || !printable(d) {
		return ""
	}
	return d
}

package webhook

import (
	"context"
	"fmt"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// submit validates the requests (400), checks them against the routes'
// Allow lists (403, with a rejected outcome per refused request), and hands
// them to the Submitter (202). A call is all or nothing: when one request
// is refused or invalid, none is submitted.
func (h *Handler) submit(ctx context.Context, c *call, routes []*route, plan backup.Plan, trig backup.Trigger, reqs []backup.Request) events.HTTPResponse {
	c.requests = len(reqs)
	// The size of the call first: one call names at most MaxRequests
	// backups, so it cannot be amplified into thousands of RDS calls and
	// outcome messages.
	if v := backup.TooMany("Backups", max(len(plan.Backups), len(reqs)), h.maxReqs); v != nil {
		c.reason = fmt.Sprintf("%d backups, the limit is %d", max(len(plan.Backups), len(reqs)), h.maxReqs)
		return violationResponse(v, "")
	}
	for _, r := range reqs {
		if vs := backup.Validate(r); len(vs) > 0 {
			c.reason = "invalid request: " + violationReason(vs.First())
			return violationResponse(vs.First(), r.DBInstanceId)
		}
	}
	// Regions before anything reaches a route's allow-list, the Submitter
	// or an SDK client: only the deployment's (DESIGN.md §5).
	regions := h.regions(ctx)
	if i, v := regions.CheckRequests(reqs); v != nil {
		c.reason = "region refused: " + violationReason(v)
		return violationResponse(v, reqs[i].DBInstanceId)
	}
	if v := regions.CheckPlan(plan); v != nil {
		c.reason = "region refused: " + violationReason(v)
		return violationResponse(v, "")
	}
	// Webhooks act in the functions' own account (docs/fleets.md): a
	// request naming an account, or a Select across accounts or regions,
	// is refused here, before a route's allow-list, the Submitter or STS.
	if v, i := accountRefused(plan, reqs); v != nil {
		c.reason = "account refused: " + violationReason(v)
		id := ""
		if i >= 0 {
			id = reqs[i].DBInstanceId
		}
		// One rejected outcome for the refused call when it names backups
		// (as for an instance outside the allow-list); a refused Select
		// names none.
		if h.rej != nil && len(reqs) > 0 {
			at := max(i, 0)
			h.rej.Rejected(ctx, reqs[at], &backup.ErrorInfo{Code: v.Code, Field: v.Field, Message: v.Message})
		}
		return violationResponse(v, id)
	}
	var refused []entry
	first := -1
	for i, r := range reqs {
		if routesAllow(routes, r.DBInstanceId) {
			continue
		}
		if first < 0 {
			first = i
		}
		refused = append(refused, entry{Status: backup.StatusRejected, DBInstanceId: r.DBInstanceId, CorrelationId: r.CorrelationId,
			Error: &entryError{Code: CodeNotAllowed, Message: fmt.Sprintf("DBInstanceId %s: not allowed by route %s", r.DBInstanceId, routeNames(routes))}})
	}
	if len(refused) > 0 {
		c.reason = fmt.Sprintf("%d of %d requests name instances the route does not allow", len(refused), len(reqs))
		msg := fmt.Sprintf("route %s does not allow instance %s", routeNames(routes), refused[0].DBInstanceId)
		if len(refused) > 1 {
			msg = fmt.Sprintf("route %s does not allow %d of the requested instances (the first: %s)", routeNames(routes), len(refused), refused[0].DBInstanceId)
		}
		msg += "; nothing was submitted"
		// One rejected outcome for the refused call, not one per id: a call
		// naming thousands of ids must not flood the notification queue.
		if h.rej != nil {
			h.rej.Rejected(ctx, reqs[first], &backup.ErrorInfo{Code: CodeNotAllowed, Field: "DBInstanceId", Message: msg})
		}
		return jsonResponse(403, errorBody{Error: errorInfo{Code: CodeNotAllowed, Field: "DBInstanceId", Message: msg}, Requests: refused})
	}
	if plan.Select != nil && !routesAllowAll(routes) {
		c.reason = "Select refused: the route does not allow every instance"
		return jsonResponse(403, errorBody{Error: errorInfo{Code: CodeNotAllowed, Field: "Select",
			Message: fmt.Sprintf("route %s may not select instances by tag or engine (its allow list is not \"*\"); name the instances", routeNames(routes))}})
	}
	if c.claim != nil {
		if resp := c.claim(); resp != nil {
			c.reason = "Idempotency-Key reused with another body"
			return *resp
		}
	}
	outcomes := h.sub.Submit(ctx, trig, reqs, plan)
	if len(outcomes) == 1 && outcomes[0].Status == backup.StatusRejected && outcomes[0].Error != nil && outcomes[0].Error.Code == backup.CodeTooManyBackups {
		// A Select that expanded past the limit: nothing ran.
		c.reason = "Select expanded past the limit"
		e := outcomes[0].Error
		return jsonResponse(413, errorBody{Error: errorInfo{Code: e.Code, Field: e.Field, Message: e.Message}})
	}
	entries := make([]entry, 0, len(outcomes))
	for i, o := range outcomes {
		r := o.Request
		if r.DBInstanceId == "" && r.CorrelationId == "" && i < len(reqs) {
			r = reqs[i]
		}
		e := entry{Status: o.Status, DBInstanceId: r.DBInstanceId, BackupJobId: o.BackupJobId, BackupId: o.BackupId, CorrelationId: r.CorrelationId,
			IdempotencyKey: r.IdempotencyKey, BackupStatus: o.BackupStatus}
		if !r.AskedAt.IsZero() {
			at := r.AskedAt.UTC()
			e.AskedAt = &at
		}
		if o.Status == backup.StatusDeferred && !o.NotBefore.IsZero() {
			nb := o.NotBefore.UTC()
			e.NotBefore = &nb
		}
		if o.Error != nil {
			e.Error = &entryError{Code: o.Error.Code, Message: publicMessage(o.Error)}
		}
		entries = append(entries, e)
	}
	if len(outcomes) < len(reqs) {
		c.reason = fmt.Sprintf("submitter returned %d outcomes for %d requests", len(outcomes), len(reqs))
	}
	return jsonResponse(202, acceptedBody{Requests: entries})
}

// publicMessage is what a caller is told of an outcome's error. Errors
// that did not come from the RDS API (a network failure, the function's
// configuration or credentials, an SDK error) may name hosts, ports and
// transport details: the caller gets the code and a pointer to the log
// instead, so an answer is never a port-scan oracle. The outcome message
// on the notification queue (the deployer's own) keeps the detail.
func publicMessage(e *backup.ErrorInfo) string {
	switch e.Code {
	case "Network":
		return "RDS could not be reached (network error); the details are in the function's log under this correlationId"
	case "Configuration", "Credentials":
		return "the function could not call RDS (" + e.Code + "); the details are in the function's log under this correlationId"
	}
	if transportDetail(e.Message) {
		return e.Code + ": the details are in the function's log under this correlationId"
	}
	return e.Message
}

// transportDetail reports whether an error message carries what a
// transport error says (a URL, a dial, an address).
func transportDetail(msg string) bool {
	for _, s := range []string{"://", "dial ", "dial:", "rdsclient:", "lookup ", "connection refused", "connection reset", "no such host", "i/o timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// acceptedBody is the 202 answer: one entry per request.
type acceptedBody struct {
	Requests []entry `json:"requests"`
}

func routesAllow(routes []*route, instance string) bool {
	for _, r := range routes {
		if allowed(r.Allow, instance) {
			return true
		}
	}
	return false
}

func routesAllowAll(routes []*route) bool {
	for _, r := range routes {
		if allowsAll(r.Allow) {
			return true
		}
	}
	return false
}

func routeNames(routes []*route) string {
	if len(routes) == 1 {
		return fmt.Sprintf("%q", routes[0].Name)
	}
	names := make([]string, len(routes))
	for i, r := range routes {
		names[i] = r.Name
	}
	return fmt.Sprintf("%q", names)
}

// ignored is the 202 answer for an authenticated event that asks for no
// backup.
func ignored(c *call, reason string) events.HTTPResponse {
	c.reason = "ignored: " + reason
	return jsonResponse(202, map[string]string{"status": "ignored", "reason": reason})
}

// CodeFleetSelectNotAllowed refuses a Select across accounts or regions
// from a webhook (a timer plan's; the app says the same for MNS).
const CodeFleetSelectNotAllowed = "Select.FleetNotAllowed"

// accountRefused is the 403 of a webhook call that names an account: a
// route's allow-list names instance ids, not accounts, so a webhook backs
// up in the functions' own account only and carries no AccountId (the
// own account's id included: leave it out). i is the request that named
// it, -1 for the plan's Defaults or Select.
func accountRefused(plan backup.Plan, reqs []backup.Request) (v *backup.Violation, i int) {
	if s := plan.Select; s != nil && (len(s.Accounts) > 0 || len(s.Regions) > 0) {
		return &backup.Violation{Code: CodeFleetSelectNotAllowed, HTTPStatus: 403, Field: "Select",
			Message: "Select: a webhook may not select across accounts or regions (Accounts, Regions); use a timer plan"}, -1
	}
	if plan.Defaults.AccountId != "" {
		return &backup.Violation{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403, Field: "Defaults.AccountId",
			Message: "Defaults.AccountId: a webhook backs up in the functions' own account only; leave AccountId out (plans across accounts are timer plans)"}, -1
	}
	for i, r := range reqs {
		if r.AccountId != "" {
			return &backup.Violation{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403, Field: "AccountId",
				Message: "AccountId: a webhook backs up in the functions' own account only; leave AccountId out (plans across accounts are timer plans)"}, i
		}
	}
	return nil, -1
}

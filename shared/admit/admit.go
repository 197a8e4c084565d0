package admit

import (
	"fmt"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/planrun"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// Rules are what one invocation admits: the deployment's bounds and the
// regions and accounts of the invocation.
type Rules struct {
	// Regions are the regions requests may name: the deployment's and the
	// function's own.
	Regions backup.Regions
	// Fleet is the accounts requests may name: the own (from the FC
	// context) and BACKUP_ALLOWED_ACCOUNTS.
	Fleet backup.Fleet
	// MaxRequests is BACKUP_MAX_REQUESTS_PER_CALL.
	MaxRequests int
	// MNSSelect is BACKUP_MNS_SELECT=allow.
	MNSSelect bool
	// Ledger: the ask ledger counts the steps of runs that run in
	// parallel (BACKUP_LEDGER_ENDPOINT); a Select across accounts or
	// regions needs it.
	Ledger bool
}

// CodeSelectNotAllowed: an MNS message carries a Select and the deployment
// does not let the work queue's senders select instances
// (BACKUP_MNS_SELECT, default refuse).
const CodeSelectNotAllowed = "Select.NotAllowed"

// MNS checks a user's MNS message like Call, and its Select against
// the deployment: anyone with SendMessage on the work queue may send one,
// so a Select there is refused unless BACKUP_MNS_SELECT=allow (its
// expansion is then bounded like any call). A timer plan's
// Select is the operator's and is not refused; the functions' own sealed
// plan steps never come here.
func (r Rules) MNS(reqs []backup.Request, plan backup.Plan) error {
	if plan.Select != nil && (len(plan.Select.Accounts) > 0 || len(plan.Select.Regions) > 0) {
		return &backup.Violation{Code: CodeFleetSelectNotAllowed, HTTPStatus: 403, Field: "Select",
			Message: "Select: Accounts and Regions are for timer plans (a Select across accounts or regions runs in steps the ask ledger counts); name the backups, with their AccountId, instead"}
	}
	if plan.Select != nil && !r.MNSSelect {
		return &backup.Violation{Code: CodeSelectNotAllowed, HTTPStatus: 403, Field: "Select",
			Message: "Select: an MNS message may not select instances (BACKUP_MNS_SELECT=refuse, the default): name the backups, or select by tag in a timer plan; an operator who wants it sets BACKUP_MNS_SELECT=allow, bounded by BACKUP_MAX_REQUESTS_PER_CALL"}
	}
	return r.Call(reqs, plan)
}

// Call checks a call (a timer plan, an MNS message) against the
// deployment before any of it runs, is logged by name or reaches an RDS
// client (DESIGN.md §5): at most BACKUP_MAX_REQUESTS_PER_CALL explicit
// backups, and every RegionId it names one the deployment allows. A refused
// call ends in one rejected outcome, not one per request. The error is a
// *backup.Violation.
func (r Rules) Call(reqs []backup.Request, plan backup.Plan) error {
	if v := backup.TooMany("Backups", max(len(reqs), len(plan.Backups)), r.MaxRequests); v != nil {
		return v
	}
	if err := r.regions(reqs, plan); err != nil {
		return err // an account or region not allowed is named first, ledger or not
	}
	if plan.Select != nil && planrun.FleetSelect(*plan.Select) && !r.Ledger {
		return &backup.Violation{Code: CodeFleetSelectNotAllowed, HTTPStatus: 400, Field: "Select",
			Message: "Select: a Select across accounts or regions runs in parallel steps that the ask ledger counts; set BACKUP_LEDGER_ENDPOINT, or name one account and region"}
	}
	return nil
}

// regions checks the regions and accounts a call names.
func (r Rules) regions(reqs []backup.Request, plan backup.Plan) error {
	if _, v := r.Regions.CheckRequests(reqs); v != nil {
		return v
	}
	if v := r.Regions.CheckPlan(plan); v != nil {
		return v
	}
	// The accounts, after the regions and before anything is built or any
	// STS call is made (DESIGN.md §10).
	if _, v := r.Fleet.CheckRequests(reqs); v != nil {
		return v
	}
	if v := r.Fleet.CheckPlan(plan, r.Regions); v != nil {
		return v
	}
	return nil
}

// CodeFleetSelectNotAllowed: a Select with Accounts or Regions anywhere
// but in a timer plan (an MNS message, a webhook).
const CodeFleetSelectNotAllowed = "Select.FleetNotAllowed"

// Webhook keeps webhooks in the functions' own account: a route's
// caller may not name another account (AccountId) or a Select across
// accounts or regions. The choice (docs/fleets.md): a route's allow-list
// names instance ids, not accounts, so a delivery naming a member account
// is refused before any STS call; a route opt-in is future work.
func (r Rules) Webhook(reqs []backup.Request, plan backup.Plan) *backup.Violation {
	if plan.Select != nil && (len(plan.Select.Accounts) > 0 || len(plan.Select.Regions) > 0) {
		return &backup.Violation{Code: CodeFleetSelectNotAllowed, HTTPStatus: 403, Field: "Select",
			Message: "Select: a webhook may not select across accounts or regions (Accounts, Regions); use a timer plan"}
	}
	for _, req := range append(reqs, backup.Request{AccountId: plan.Defaults.AccountId}) {
		if r.Fleet.Member(req.AccountId) {
			return &backup.Violation{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403, Field: "AccountId",
				Message: fmt.Sprintf("AccountId %s: a webhook may not reach another account than the functions' own; use a timer plan", backup.Quote(req.AccountId, 48))}
		}
	}
	return nil
}

// Work checks a work-queue message's regions like Call (defence in
// depth: the functions wrote it, and it is authenticated).
func (r Rules) Work(wm workqueue.Message) error {
	reqs := wm.Requests
	if wm.Kind == workqueue.KindBackup || wm.Kind == workqueue.KindTrack {
		reqs = []backup.Request{wm.Request}
	}
	plan := backup.Plan{Defaults: wm.Defaults, Select: wm.Select}
	return r.regions(reqs, plan)
}

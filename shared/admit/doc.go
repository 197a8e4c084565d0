// Package admit checks a call against the deployment before any of it
// runs, is logged by name or reaches an RDS client (DESIGN.md §5, §10): a
// timer plan or an MNS message names at most BACKUP_MAX_REQUESTS_PER_CALL
// backups, and only regions and accounts the deployment allows; a Select
// across accounts or regions is a timer plan's and needs the ask ledger;
// an MNS message's Select is refused unless BACKUP_MNS_SELECT=allow; a
// webhook stays in the functions' own account; a work-queue message's
// regions are checked again (defence in depth). A refused call ends in one
// rejected outcome, not one per request: every error is a
// *backup.Violation.
//
// The cut: this package decides; shared/app builds the Rules per
// invocation (its regions and its own account come from the FC context)
// and settles the refusal (shared/settle).
package admit

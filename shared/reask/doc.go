// Package reask handles the work queue's follow-ups of asks already made,
// each of which ends by publishing an outcome or by sending something back
// to the work queue:
//   - a "track" message (Track): the job is read in the account it runs in
//     (shared/tracker's check); still running, the message is sent again
//     with the tracker's delay; finished, the terminal outcome is
//     published; a member account whose credentials cannot be had now
//     re-schedules the check, one whose role cannot be assumed ends it
//     failed.
//   - a job that ended Failed (Track): a failed backup satisfies no ask
//     (DESIGN.md §2), so the ask goes back to the work queue as a "backup"
//     message with the failure as an attempt, and runs again like any
//     repeat until its budget is spent; the failure is published as a
//     non-terminal deferred outcome.
//   - a parked "outcome" message (Republish): published again, or parked
//     again when MNS still fails.
//
// A follow-up that can be neither sent back nor published fails the
// invocation (settle.ErrUnsettled), so that the trigger redelivers.
//
// The cut: deferring an ask the executor could not finish is
// shared/settle's (an outcome's settling); running a plan's next step is
// shared/planrun's. The clients (work queue, publisher, RDS per account)
// are the invocation's, passed in a Handler by shared/app.
package reask

// Package settle ends every outcome of an invocation so that each ask ends
// in exactly one terminal outcome (what the README calls "nothing is
// lost"):
//   - deferred: parked in the work queue as a delayed "backup" message with
//     its attempts; if that fails the invocation fails (and is redelivered).
//   - accepted/coalesced with a job and tracking on: a delayed "track"
//     message; if that cannot be sent the outcome is published
//     non-terminal and the invocation fails (the redelivery finds the job).
//   - every outcome is published (policy permitting); a publish that still
//     fails is parked as an "outcome" message; if parking fails too, the
//     invocation fails so the trigger redelivers, and duplicate protection
//     makes the retry publish without a second backup.
//
// Run runs an invocation's jobs (through a Runner: shared/accounts' fan-out
// by account) and settles each outcome as soon as its ask ended, on a
// context of its own (Context) so that work deferred at the stop time is
// still parked and published. Reject, PublishRejected and PublishEnd end
// what never became a runnable request. A refused, failed or deferred
// outcome naming an instance is also noted, best effort, as a problem row
// of the ask ledger (the report's, GET /v1/report).
//
// The cut: this package holds settling and the invocation's Summary; the
// clients it settles with (work queue, publisher, ledger) are the
// invocation's, passed in a Settler by shared/app. Plan runs are
// shared/planrun's, re-asks from the work queue shared/reask's.
package settle

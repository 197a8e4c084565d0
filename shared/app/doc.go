// Package app is the functions' composition: it turns an invocation (timer,
// MNS batch or HTTP event) into backup requests, runs them through the
// executor, and settles every outcome — published to the notification queue,
// deferred to the work queue, followed by a tracker — so that each request
// ends in exactly one terminal outcome.
//
// Per invocation it takes the role's STS credentials, region, deadline and
// retry count from the FC context (fccontext), and falls back to the default
// credential chain outside Function Compute. Clients are cheap and cached per
// credential; the executor (and its facts cache) lives as long as the warm
// instance. With BACKUP_LEDGER_ENDPOINT each invocation also gets the ask
// ledger (a Tablestore client with its credentials, ledger.ClientConfig):
// the executor reaches it through a port that finds the invocation's
// ledger in the context (ledger.go), and the webhook's Idempotency-Key
// check through another (invocationKeys).
//
// Plan runs (run.go): with the ledger a run's first step hands every chunk
// and Select page on at once as steps of their own, registered in the run's
// ledger row before they are sent and recorded there when done; the step
// that finds the run complete publishes its one rds.backup.run. A batch's
// steps read their pages at once. Without the ledger a run goes step after
// step, carrying its summary. Each outcome is settled as soon as its ask
// ended (executor.RunEach), and a refused, failed or deferred one is noted
// as a ledger problem row for the report (GET /v1/report, report.go).
//
// Fan-out is the operator's: a timer plan's Select (and the sealed steps of
// its run) expands without bound, but a user's MNS message with a Select is
// rejected (Select.NotAllowed) unless BACKUP_MNS_SELECT=allow, and then its
// whole expansion is bounded by BACKUP_MAX_REQUESTS_PER_CALL like any call.
//
// Settling rules (what the README calls "nothing is lost"):
//   - deferred: parked in the work queue as a delayed "backup" message with
//     its attempts; if that fails the invocation fails (and is redelivered).
//   - accepted/coalesced with a job and tracking on: a delayed "track"
//     message; if that cannot be sent the outcome is published as terminal
//     with a note.
//   - every outcome is published (policy permitting); a publish that still
//     fails is parked as an "outcome" message; if parking fails too, the
//     invocation fails so the trigger redelivers, and duplicate protection
//     makes the retry publish without a second backup.
package app

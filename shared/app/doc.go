// Package app is the functions' composition: it turns an invocation (timer,
// MNS batch or HTTP event) into the work of the packages that do it, wired
// to that invocation's clients, so that each request ends in exactly one
// terminal outcome.
//
// Per invocation it takes the role's STS credentials, region, deadline and
// retry count from the FC context (fccontext), and falls back to the default
// credential chain outside Function Compute. Clients are cheap and cached per
// credential; the executor (and its facts cache), the tracker and the broker
// of member credentials live as long as the warm instance. With
// BACKUP_LEDGER_ENDPOINT each invocation also gets the ask ledger (a
// Tablestore client with its credentials, ledger.ClientConfig): the
// executor reaches it through a port that finds the invocation's ledger in
// the context (ledger.go), and the webhook's Idempotency-Key check through
// another (invocationKeys).
//
// The cut (App.parts builds them per invocation, each with the clients it
// uses passed as values, none reaching them through the App):
//   - shared/admit: a call checked against the deployment (bounds, regions,
//     accounts, who may Select) before any of it runs;
//   - shared/planrun: plan runs in steps, in parallel with the ledger's run
//     rows, ending in one rds.backup.run;
//   - shared/settle: running an invocation's asks and settling every
//     outcome (deferred to the work queue, tracked, published or parked);
//   - shared/accounts: the asks' fan-out by account, with a member role's
//     RDS client for a member account;
//   - shared/reask: the work queue's follow-ups (a tracked job checked
//     again, a failed job's ask asked again, a parked outcome published
//     again);
//   - shared/report: GET /v1/report's answer.
//
// What stays here: the handlers (which trigger gives which work: a timer
// plan, each message of an MNS batch by kind, a webhook's requests), the
// per-invocation clients and their caches, the ports the executor and the
// webhook reach the invocation through, and the functions' logger
// (NewLogger, LogFields).
//
// Fan-out is the operator's: a timer plan's Select (and the sealed steps of
// its run) expands without bound, but a user's MNS message with a Select is
// rejected (Select.NotAllowed) unless BACKUP_MNS_SELECT=allow, and then its
// whole expansion is bounded by BACKUP_MAX_REQUESTS_PER_CALL like any call.
package app

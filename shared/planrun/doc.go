// Package planrun runs a plan (DESIGN.md §6) in steps and ends it in one
// rds.backup.run summary.
//
// Step after step (no ask ledger): each step runs up to a limit of the
// plan's asks — its explicit requests first, then the instances its Select
// picks, one DescribeDBInstances page at a time — and hands the rest on to
// the next step as one work-queue message (a "plan" or "select" message)
// that carries the run's summary so far. The step that runs the last ask
// publishes the run's one rds.backup.run event. So a plan of any size ends
// in exactly one summary without any state outside the queue, and one
// invocation never runs more than a step.
//
// In parallel (with the ask ledger's run rows, RunLedger): the first step
// runs up to its limit of asks and hands the rest on at once — its other
// explicit asks in chunks ("c1", "c2", ...), the Select's page 1 ("p1")
// when it did not read it itself, one step per (account, region) of a
// Select across accounts or regions ("t1", ...); whoever reads page 1
// learns how many pages the listing has and hands on every other page
// ("p2", ...). Each step is registered in the run's ledger row before it
// is sent, and recorded there with its part of the summary when it
// finished (the steps of one run that end in one invocation with one read
// and one write of the row); the step that finds every registered step
// finished publishes
// the run's one rds.backup.run (its id is the run's: a repeat is the same
// event). A step hands on the steps it makes before its own asks run
// (HandOn), and a batch's steps read their pages at once, each step's asks
// starting as soon as its page is read (StepAll).
//
// A Select page that cannot be read is deferred (the same step, later,
// carrying its failed reads) until BACKUP_MAX_AGE since the run began or
// BACKUP_MAX_ATTEMPTS reads (at most 50), whichever comes first — reported
// with the API's code or Network, never the endpoint — or rejected when the API
// refused it for good (SelectorFailed); a member account whose role cannot
// be assumed ends its (account, region) failed. The plan's other asks run
// regardless.
//
// The cut: this package decides a run's steps and ends them (Finish); the
// asks a step takes are returned as settle.Jobs, run and settled by
// shared/settle; the clients (RDS per account, work queue, publisher,
// ledger) are the invocation's, passed in a Stepper by shared/app.
package planrun

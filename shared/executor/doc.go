// Package executor takes a valid backup.Request to a created RDS backup job,
// or to a clear outcome saying why not (DESIGN.md §2: preflight, CreateBackup
// with retries, no duplicates).
//
// # One request: Run
//
// Run(ctx, request, history) returns exactly one backup.Outcome:
//
//  1. A context that has already ended → deferred (CodeCanceled), no call.
//  2. backup.Validate → rejected with the API's code, no call.
//  3. The life budget (Options.Budget: attempts across invocations, age
//     since History.FirstSeen) spent → failed, every attempt listed.
//  4. Preflight, all at once: DescribeDBInstanceAttribute and
//     DescribeBackupTasks always; DescribeDatabases when the request names
//     databases or is Logical (the facts cache may answer instead); one
//     DescribeBackups, from min(start of today in QuotaLocation, now −
//     CoalesceWindow), only when it matters: RecentCheck "always", or "auto"
//     and the request may be a repeat (it has attempts, FC retried it
//     (History.RetryCount), its trigger kind redelivers (RedeliveringKinds:
//     mns, github, gitlab, deferred), or History.CallerKey says the caller
//     chose its idempotency key). So a first-time ask costs 3 RDS calls: 2
//     overlapping preflight calls and 1 CreateBackup. A failed describe is
//     retried by class (only the calls that failed); InvalidDBInstanceId.NotFound
//     → rejected; any other terminal answer (permission, credentials) → failed.
//  5. An ongoing job → coalesced with its BackupJobId, BackupStatus and
//     Process. A backup set of the same method, not Failed, started within
//     CoalesceWindow → coalesced with its BackupId (the note says so).
//  6. An instance in a transitional status (anything but Running and
//     TerminalStatuses, e.g. Rebooting) is waited out with the state-wait
//     backoff; then backup.CheckInstance → rejected with the API's code
//     (Stopped, locked, read-only, BackupType on MySQL, db-level on
//     PostgreSQL, Snapshot on MariaDB or local disks, Logical without
//     databases, unknown DBName, 20 manual backups today), no CreateBackup.
//  7. backup.Resolve, then CreateBackup, retried by class (package retry):
//     transient errors with full-jitter backoff, state-wait errors with the
//     longer backoff, terminal ones never (Exceeded.BackupTimes fails after 1
//     attempt). BackupJobExists → DescribeBackupTasks → coalesced with the
//     running job (or, when it has just ended, with the set it made).
//     Success → accepted with the BackupJobId and the RDS RequestId.
//
// Time: the context's deadline minus DeadlineMargin (default 5s) bounds the
// run. No sleep and no wait for the throttle gate runs past it; when the
// next try would, or MaxAttemptsPerInvocation (default 6) attempts are
// made, while the error is still retryable, the outcome is deferred
// (Terminal false) with NotBefore = now + the next backoff and every
// attempt, for the caller to park in the work queue and resume with a
// History. The deadline is wall-clock time; the remaining duration is
// carried over to the injected clock, so tests run on a fake one.
//
// Attempts: every failed call (preflight's included), every state-wait
// observation (instance Rebooting, a job running with coalescing off) and
// every CreateBackup (successful or not) is a backup.Attempt{Time, Action,
// Code, Message, Retryable, Class, RequestId}. Errors without an API code
// are recorded as Network (transport), Credentials or Configuration.
// Successful describes are not attempts.
//
// Terminal: rejected and failed are terminal; accepted and coalesced are
// terminal unless Options.TrackJobs (a tracker then follows the job);
// deferred never is. Outcome.Time is the injected clock's now.
//
// # No duplicates
//
// Five guards, cheapest first: the runs for one instance inside one
// executor are serialised (so a second request sees the first one's job in
// preflight); an ongoing job is reported instead of creating another; a
// recent backup of the same method is reported when the request may be a
// repeat; BackupJobExists is answered with the running job; and a
// CreateBackup that may have reached RDS without an answer (a transport
// error or a 5xx) makes a later BackupJobExists count as ours even with
// coalescing off. The recent-set guard compares methods only:
// DescribeBackups does not list the databases of a set.
//
// With CoalesceWindow 0 coalescing is off: an ongoing job and
// BackupJobExists are state waits (the request waits for the job to end,
// then creates its own backup).
//
// # Many requests: RunAll, Expand
//
// RunAll runs requests Options.Concurrency at a time and returns outcomes in
// input order. Options.Concurrency also bounds the RDS calls in flight
// across the executor (preflight's parallel calls included), so a fleet
// never has more than that many requests open against RDS. All runs share
// one throttle gate (retry.Gate): a Throttling answer to any of them slows
// every one down, and successes relax it.
//
// Expand lists the instances a backup.Selector picks (DescribeDBInstances
// with its Tags and Engine, 100 a page, every page: 500 instances are 5
// calls), each as Spec{DBInstanceId: id, RegionId: sel.RegionId}.Over(defaults).
//
// JobStatus reads one job for the status endpoint and the job tracker; a
// Finished job without a BackupId gets one from one DescribeBackups call
// when exactly one manual set succeeded in the last 24 hours.
//
// # Options
//
// Start from DefaultOptions(): CoalesceWindow (10m) and FactsCacheTTL (60s)
// take 0 as "off", so a zero Options disables them; every other zero field
// takes its default. The facts cache keeps engine, version, storage, type,
// category and databases per instance for a warm function, never status,
// lock mode or jobs; it is used only when it covers every requested DBName.
//
// Seams: Now, Sleep (must honour ctx), Rand (jitter) and Logger are
// injected. Logs are structured (slog) with instance, correlationId,
// idempotencyKey, action, attempt, code, class and requestId; no credential
// ever reaches the executor.
//
// RDS is the smallest interface over *rdsclient.Client; tests substitute
// fakes and decorators.
package executor

// Package executor takes an ask (a valid backup.Request with its
// idempotency key and AskedAt) to a created RDS backup job, or to a clear
// outcome saying why not (DESIGN.md §2: asks, not windows; CreateBackup is
// the check; no duplicates).
//
// # One ask: Run
//
// Run(ctx, rds, request, history) returns exactly one backup.Outcome; rds is
// the invocation's own client (its STS credentials), passed explicitly.
//
//  1. A context that has already ended → deferred (CodeCanceled), no call.
//  2. backup.Validate → rejected with the API's code, no call.
//  3. The life budget (Options.Budget: attempts across invocations, age
//     since History.FirstSeen) spent → failed, every attempt listed.
//  4. The stop time is the context's deadline minus DeadlineMargin: every
//     RDS call runs on a context that ends then (and the SDK's own timeouts
//     are cut to match), so nothing runs into the time kept for settling.
//     Asks for one instance inside one executor are serialised; the stop
//     time is checked again after waiting for that lock.
//  5. Facts only where a rule needs them (backup.NeedsFacts: BackupType,
//     db-level, Logical, Snapshot): from History.Facts (a fan-out item
//     carries the DescribeDBInstances listing), the warm cache (engine and
//     storage for good, databases for FactsCacheTTL), else one read:
//     DescribeDatabases (names and engine) or DescribeDBInstanceAttribute
//     (engine and storage). backup.CheckInstance → rejected with the API's
//     code, before any coalescing.
//  6. When the ask may be a repeat (it has attempts, FC retried it, its
//     trigger redelivers — RedeliveringKinds —, the caller chose its key or
//     time, or it is older than FreshFor since AskedAt), the state is read,
//     one call after the other: running jobs
//     (DescribeBackupTasks) → coalesced with the job; then sets that ended
//     at or after AskedAt (DescribeBackups, backup.SatisfiedBy) →
//     coalesced with the set, terminal. A job that ends between the two
//     reads is seen as a set.
//  7. CreateBackup with backup.Resolve's parameters. Success → accepted.
//     The answer decides what, if anything, is read next:
//     BackupJobExists → step 6's reads → coalesced (or, when the job ended
//     meanwhile without satisfying the ask, a state-wait and another try);
//     IncorrectDBInstanceState → DescribeDBInstanceAttribute: a status in
//     TerminalStatuses (Stopped...) → rejected with that code, a
//     transitional one (Rebooting...) → waited out; any other refusal by a
//     rule of the API page (read-only, locked, 21st of the day, unknown
//     instance or database, a parameter the engine does not take) →
//     rejected with RDS's code (retry.Refusal); access problems (RAM,
//     keys) → failed; no answer or a 5xx → the CreateBackup may have made
//     a job, so step 6's reads run before the next try.
//  8. What the run knows — nothing satisfies the ask — is dated: a fresh
//     ask's AskedAt, held for FreshFor, or the last look that found
//     nothing, held for LookHolds (less than a backup takes). A
//     CreateBackup that would go out later (a retry's backoff; the throttle
//     gate or the adaptive limit holding the call) runs step 6's reads
//     again first, so a backup made and ended meanwhile by another
//     invocation satisfies the ask. When the gate holds the send past its
//     look more than maxRelooks times, the ask is deferred (Throttling).
//
// With the ask ledger (Options.Ledger, DESIGN.md §2a), step 6 is decided by
// the ask's own record instead of by what RDS lists, which lags (a finished
// backup's set appears in DescribeBackups only up to a minute after its
// task ended, and unfinished-task listings drop it at once). Right after
// the instance lock, before any RDS call, the run claims the ask's row
// (scope "ask", key the idempotency key) with a lease:
//   - won on the first delivery → steps 5 and 7, looking first only when
//     the ask is not fresh (another ask's backup may satisfy it): a fresh
//     ask costs one RDS call whatever its trigger;
//   - a repeat whose row names a job → that job by BackupJobId (exact,
//     finished or not) → coalesced with it; a Failed one (or one RDS does
//     not know) satisfies no ask: the row is reopened and the ask runs
//     again, looking first;
//   - a repeat while another delivery holds a live lease without a job →
//     deferred until the lease ends; after it (that delivery died) → taken
//     over, looking first;
//   - the ledger unreadable → deferred (LedgerUnavailable): never acted on
//     without its record; the same key with other parameters → rejected
//     (IdempotencyKeyConflict).
//
// Before each CreateBackup the run marks the row "sending" and renews its
// lease (lost → deferred: another delivery acts) — a fresh ask's claim
// does both for its first send (ledger.ClaimSending: the row's SentAt and
// the send marker leave with the claim, one call; the send then goes out
// under the claim's lease while it is at most a tenth of a lease, or a
// second, old, else it is marked again; a run refused before it sends
// forgets both as a refused send does); the job is recorded at once and
// noted as the instance's latest for its method, a job the run
// coalesced with when it ends; a run that ends without one releases the
// lease (forgetting the send when RDS refused it), so the next delivery
// need not wait it out. A repeat that finds a live lease and a send looks
// for the holder's job at once (it may have died before recording it); a
// takeover of a row that says a send went out looks, and waits until
// SetLagBound after the send before it creates another. Across asks, when a
// look finds no running job and no satisfying set, what the ledger holds of
// the instance is read in one call (ledger.ReadInstance: its latest job of
// each method and its send markers), and the latest job of the ask's
// method is read by id: started at or after AskedAt → coalesced;
// ended before RDS lists its set → deferred (BackupNotListedYet) until it
// does; and when the instance's send markers say that another delivery's
// CreateBackup of the method, whose outcome it has not said (a lost
// answer, a dead or slow delivery), may have made a job that ended unseen,
// the ask is deferred (BackupNotListedYet) until SetLagBound after that send.
// Each run writes its own marker with "sending" (one BatchWriteRow, the
// claim's for a fresh ask) and removes it with the job's record (another)
// or when RDS refused the send;
// an ambiguous send stays unsure, whatever later sends get, until a look
// settles it. What satisfies what: DescribeBackupTasks says no method, so with
// the ledger a running job satisfies the ask only when a send of this very
// ask may have made it or the ledger noted it as the instance's latest job
// of the ask's method; any other (another method's, the console's, an
// automated one) is waited out, noted as of unknown method, and judged by
// its set once RDS lists it. Without the ledger any running job satisfies
// any ask (RDS runs one at a time).
//
// So a fresh instance-level ask costs one RDS call; an ask that may be a
// repeat at most three (two reads, then CreateBackup), fewer when a backup
// already satisfies it; a db-level or Logical ask one more, unless cached.
//
// Retries (one retrier for Run, Expand and JobStatus): transient errors with
// full-jitter backoff, state-wait errors with the longer backoff, terminal
// ones never. When the next try would pass the stop time, or
// MaxAttemptsPerInvocation attempts are made, while the error is still
// retryable, the outcome is deferred (Terminal false) with NotBefore, every
// attempt and the ask's key and AskedAt, for the caller to park in the work
// queue. The deadline is wall-clock time; the remaining duration is carried
// over to the injected clock, so tests run on a fake one.
//
// Attempts: every failed call and every CreateBackup (successful or not) is
// a backup.Attempt{Time, Action, Code, Message, Retryable, Class,
// RequestId}. Errors without an API code are recorded as Network
// (transport), Credentials or Configuration. Successful reads are not
// attempts.
//
// Terminal: rejected and failed are terminal, and so is coalesced with a
// finished set; accepted and coalesced with a job are terminal unless
// Options.TrackJobs (a tracker then follows the job); deferred never is.
//
// Known limits: DescribeBackupTasks does not say a running job's method, so
// a running job is taken to satisfy any ask (RDS runs one at a time); and
// DescribeBackups does not list a set's databases, so a db-level ask is
// satisfied by a set of the same method whatever databases it holds. An ask
// taken as fresh does not look for a backup that began before AskedAt and
// ended within FreshFor after it.
//
// # Many asks: RunAll, Expand
//
// RunAll runs asks and returns outcomes in input order. In each call, the
// asks of one account and region start as that pair can take them
// (admission, fleet.go): up to twice its adaptive limit of calls, and once
// CreateBackup's quota paces the pair, about two seconds of its pace (at
// least 8), so that an ask does not claim, mark and wait in the pacer long
// before its turn (calls running at once, such as the steps of one batch,
// admit each their own). RDS calls in flight across the executor are
// bounded by an adaptive limit (limiter: starts at InitialConcurrency, one more with every
// success until the first throttling answer, then one more after as many
// successes in a row as the limit, halved on throttling, at most
// Concurrency; calls wait for it in line, and a freed slot wakes only the
// first of them), and all runs share one throttle gate (retry.Gate). That
// flow control is per account (flow.go): the functions' own account has
// one; each member account (DESIGN.md §10) has one per region, made on
// first use, so a member account that throttles holds up only itself.
//
// Expand lists the instances a backup.Selector picks (DescribeDBInstances
// with its Tags and Engine, 100 a page, every page), each as a Target: the
// spec and the listing's facts.
//
// JobStatus reads one job for the status endpoint and the job tracker; a
// Finished job without a BackupId gets one from one DescribeBackups call
// when exactly one manual set succeeded in the last 24 hours.
//
// Seams: Now, Sleep (must honour ctx), Rand (jitter) and Logger are
// injected. Logs are structured (slog) with instance (clipped),
// correlationId, idempotencyKey, action, attempt, code, class and
// requestId; no credential ever reaches the executor.
//
// RDS is the smallest interface over *rdsclient.Client; tests substitute
// fakes and decorators.
package executor

// Package ledger is the ask ledger of DESIGN.md §2a: the product's own
// record of every ask, in a Tablestore table, through the official SDK
// (github.com/aliyun/aliyun-tablestore-go-sdk/tablestore). It is the storage
// layer only: it knows rows, leases and conditions, not RDS, events or
// outcomes.
//
// # The table
//
// One row per ask; primary key (scope STRING, key STRING): the caller's
// scope ("route:demo-pipeline", "mns:rds-backup-work") and the idempotency
// key. Columns: askedAt (INTEGER, unix ms), digest (the request digest, the
// caller's), method and target (what a job of the ask satisfies), state
// (claimed / acting / done), leaseOwner, leaseUntil (unix ms, by the
// ledger's clock), jobId, outcomeId (the terminal outcome id), runId,
// claimedAt, updatedAt, sentAt. One version per column. Rows expire by the table's
// TimeToLive (DefaultTTL, 35 days), counted from each cell's write: a row
// lives 35 days after its last write. TableMeta and CreateTable make the
// table, for the deploy tooling and the local cloud only.
//
// # The protocol, step by step, with its Tablestore calls
//
//  1. Claim (a delivery of an ask; Owner is unique per delivery attempt).
//     PutRow of the whole row, condition EXPECT_NOT_EXIST, lease now+lease.
//     Written → Claim{Won: true}: the key is new; act (a recent ask goes
//     straight to CreateBackup). 1 call. ClaimSending, for a delivery that
//     sends CreateBackup as soon as it wins (a fresh ask), writes the row
//     with sentAt (step 7's word) and the instance's send marker beside it
//     in one BatchWriteRow: Claim{Won, Sending}, the claim and step 7 in
//     one call; lost, it deletes the marker again (1 call more) and goes
//     on as below. A holder that dies between that claim and its send
//     leaves a row that says a send went out, as one that dies after it
//     (the row cannot tell them apart): the next delivery waits out RDS's
//     listing lag before it creates — later, never twice.
//  2. Lost (OTSConditionCheckFail): the ask is a repeat. GetRow (2 calls in
//     all), then, in this order:
//     - another digest → ErrConflict (*ConflictError): the key reused with
//     another body; the HTTP layer answers 409;
//     - a jobId or an outcomeId → Claim{Row}: coalesce with Row.JobID
//     (DescribeBackupTasks by BackupJobId) or republish Row.OutcomeID;
//     - a live lease of Owner's own → Claim{Won, Resumed}: an earlier try
//     of this claim was written but its answer lost (an SDK or caller
//     retry);
//     - a live lease → Claim{Busy}: another delivery is at work; defer
//     until Row.LeaseUntil;
//     - an expired lease (its holder died before recording a job) → take
//     over: UpdateRow with the condition that leaseOwner and leaseUntil
//     are still the ones read and there is no jobId and no outcomeId.
//     Written → Claim{Won, TakenOver} (3 calls): the dead holder may have
//     called RDS, so look before creating (DESIGN.md §2). Lost → GetRow,
//     Claim{Row} with the fresh row, Busy if its new holder's lease runs
//     (4 calls).
//     A row that vanished between the calls (TTL) is claimed again; a
//     remnant (its claim's cells expired before later ones: TTL counts per
//     cell) is replaced by a PutRow conditioned on it still having no
//     digest. After 3 rounds Claim gives up with ErrContended (retryable).
//  3. RecordJob (the holder, right after CreateBackup answered a job id):
//     UpdateRow jobId, state acting; condition: the row exists, Owner holds
//     the lease (expired or not: nobody took it over, since a takeover
//     changes the owner) and jobId is missing or the same. 1 call; a
//     refusal reads the row (2) to say why: ErrLeaseLost, ErrJobConflict,
//     ErrNotFound. Once a job is recorded the row is never taken over.
//  4. Renew (a holder that needs longer): UpdateRow leaseUntil; condition:
//     Owner holds the lease. 1 call (2 when refused).
//  5. RecordOutcome (whoever settles the ask: the holder, or the tracker of
//     its job): UpdateRow outcomeId, state done; condition: the row exists
//     and outcomeId is missing or the same. 1 call; the same id again is
//     fine (at-least-once); another id is ErrOutcomeConflict naming both
//     (2 calls): one ask, one terminal id.
//  6. Get: 1 GetRow.
//  7. MarkSending (the holder, just before CreateBackup): UpdateRow sentAt
//     and the lease; condition: Owner holds it. 1 call. A later delivery
//     that finds sentAt on a row without a job knows a job may exist that
//     RDS does not list yet (its sender died before RecordJob).
//  8. Release (a delivery that ends without a job): UpdateRow leaseUntil =
//     now (and, with forgetSend, no sentAt: every send was refused), so the
//     next delivery takes over at once. 1 call.
//  9. Reopen (an ask whose recorded job failed runs again): UpdateRow that
//     clears the job and sentAt and takes the lease, on the condition that
//     the row still names the failed job. 1 call; of concurrent reopens
//     exactly one wins.
//
// # Instance rows
//
// Scope "instance", key InstanceKey (region/instance/method): the latest
// job the product made or joined there, and when (NoteInstanceJob: one
// UpdateRow that never replaces a later note; LastInstanceJob: one
// GetRow). Across asks RDS stays the check, but its views lag: a job that
// ended while DescribeBackups does not list its set yet is known from here.
//
// # Send markers
//
// Scope "instance", key InstanceKey + "|" + owner — beside the instance's
// rows: a delivery's word, written just before its CreateBackup, that a
// job of the method may exist that nobody has seen (NoteInstanceSend;
// ForgetInstanceSend deletes one, as a row of the combined BatchWriteRow).
// The executor removes its marker once it knows what the send made or
// that RDS refused it; a marker left by a lost answer or a dead delivery
// makes other asks of the method wait until RDS must list what it made.
//
// ReadInstance reads an instance's rows of every method and its markers —
// all a look needs of the ledger — in one GetRange (region/instance/ up to
// the next byte; a page of 100 rows); InstanceSends is its markers of one
// method. Markers had a scope of their own ("send") before 2026-12-07:
// one an older version's delivery left there in the minutes around an
// upgrade is not read, so an ask of the new version does not wait for what
// that send may have made (for BACKUP_SET_LAG_BOUND after it, at most).
//
// # Batched writes
//
// The moments an ask writes several rows are one BatchWriteRow each,
// every row with its own condition (BatchWriteRow is not atomic across
// partitions; each row's result is reported as its single-row call would):
// ClaimSending (the claim's PutRow + NoteInstanceSend; a lost claim
// removes the marker again), SendBegin (MarkSending + NoteInstanceSend; a
// refused ask row removes the marker again) and JobMade (RecordJob +
// NoteInstanceJob + ForgetInstanceSend).
//
// Across asks, those writes and the claim's PutRow are combined (combine.go,
// shared/groupcommit): while two write calls are out, the writes of other
// asks wait and leave together as one BatchWriteRow (at most 200 rows, no
// row twice — Tablestore refuses the whole request for that). A lone
// ask's writes go at once by their own call (a fresh ask's ClaimSending
// and JobMade a BatchWriteRow each, an older ask's claim a PutRow: the
// counts above); a fleet of 1,000 fresh asks makes about 350 calls
// instead of 2,000.
//
// # Run rows and problem rows
//
// Scope "run", key the plan run's key: the step ids registered and
// finished and the merged summary, written whole under an optimistic
// version (RegisterSteps, StepDone, MarkPublished, GetRun; StepsDone
// records the steps of one run that end in one invocation with one read
// and one write), so the steps of one run can finish on any instance in
// any order and exactly one sees the run complete. Scope "problem", key region/instance/unix-ms/event id: the
// refused, failed and deferred outcomes of an instance for the report
// (NoteProblem, Problems: GetRange backward, newest first).
//
// Every write is a single-row conditional write, atomic in Tablestore, so
// of any number of concurrent claims of one key exactly one PutRow
// succeeds, and of concurrent takeovers of one expired lease exactly one
// UpdateRow does.
//
// # The lease
//
// DefaultLease (150 s) is the longest function timeout (120 s in s.yaml)
// plus 30 s for clock skew between hosts and the ledger's own calls: a
// holder cannot act after its invocation ends, so a lease that outlives
// every invocation makes a takeover safe (the holder is dead, not slow).
// Redeliveries within it (EventBridge retries 10–20 s apart) are Busy and
// deferred, never run twice at once. WithLease changes it; raise it with
// any function timeout. A shorter lease (the local cloud's 15 s) is safe
// for the executor, which sends CreateBackup only right after MarkSending
// renewed its lease or ClaimSending took it (with at least nine tenths of
// it left), and waits out RDS's listing lag after a takeover of a row that
// says a send went out.
//
// # Errors and retries
//
// Every failed Tablestore call is an *Error (operation, table, the
// service's code and HTTP status, request id), classified by behaviour
// with the codes kept as data (ThrottleCodes, TransientCodes,
// TerminalCodes, as in shared/retry): IsRetryable says whether another try
// may succeed, checking the caller's context first (a canceled or expired
// context is never retryable). A missing table is terminal and says so:
// "ledger table X does not exist: create it with the deploy tooling".
// *Error and the ledger's own refusals (*ConflictError, *StateError,
// *ValidationError) have RetryableError(), which retry.Classify checks
// before its tables, so they plug into shared/retry as they are;
// Classifier is a retry.Classifier with the Tablestore tables for raw SDK
// errors.
//
// The SDK takes no context and retries some codes by itself (ClientConfig
// says which and how): build the client with ClientConfig() so that the
// caller owns every retry. Each call runs in its own goroutine and the
// ledger returns when the context ends (a canceled *Error: the call's
// effect is unknown; the abandoned request ends by the client's timeout).
//
// # Arguments
//
// Scope and key are attacker-influenced: scope at most MaxScope bytes of
// printable ASCII without spaces, key at most MaxKey bytes of printable
// ASCII; the owner, digest, job and outcome ids are bounded too. Anything
// else is refused with a *ValidationError (ErrInvalid) naming the field and
// the rule, before any call.
package ledger

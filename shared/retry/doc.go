// Package retry says what a failed RDS call calls for, how long to wait
// before the next try, and runs the one retry loop (Do) of the module.
//
// # Classes
//
// Classify sorts an error into one of four classes (DESIGN.md §2):
//
//   - Transient: 5xx, throttling, network errors, timeouts, answers the SDK
//     could not decode. Retried soon, with exponential backoff and full
//     jitter (TransientBackoff: rand·min(5s, 200ms·2ⁿ)).
//   - StateWait: the instance is busy (not Running, another backup
//     running). Retried later, with StateWaitBackoff (5s, 10s, 20s, 30s,
//     equal jitter, so never a pointless retry a few milliseconds later).
//   - Terminal: bad parameter, not found, the daily quota, permission,
//     locked, read-only, engine or type not supported. Never retried.
//   - Canceled: the caller's context ended. Checked first, never retried.
//
// The code tables are exported data — ThrottleCodes, TransientCodes,
// StateWaitCodes, TerminalCodes, each code with the reason it is there —
// and ClassTableMarkdown renders them for the README. An unknown code goes
// by its HTTP status: 429 and 5xx are transient, any other 4xx terminal. An
// error with no code and no status (connection refused or reset, timeout,
// a body that was not JSON) is transient: nothing reached a decision.
//
// Classification looks at behaviour through errors.As, never at concrete
// types, so wrapped errors classify like the error they wrap:
//
//	interface{ ErrorCode() string }      // rdsclient.APIError
//	interface{ HTTPStatusCode() int }    // rdsclient.APIError
//	interface{ RetryableError() bool }   // an explicit answer (e.g. missing credentials: false)
//	interface{ CanceledError() bool }
//
// Cancellation is recognised by identity (context.Canceled or
// context.DeadlineExceeded themselves somewhere in the chain), because
// net/http's client-timeout error also matches context.DeadlineExceeded
// through errors.Is, and a read timeout is transient, not a cancellation.
//
// BackupJobExists is in StateWaitCodes for a caller that does not coalesce;
// the executor, when it coalesces, answers it by reporting the running job.
//
// # Throttle gate
//
// A Gate is shared by every worker of one invocation: a throttling answer to
// any of them closes the gate for a pause (doubling from GateBase up to
// GateMax on each throttling answer), every worker passes the gate before
// its next call, and each success halves the pause again. So a Throttling
// storm slows the whole invocation down instead of every worker hammering
// the API on its own schedule.
//
// # Pacer
//
// A Pacer paces one API's calls (for one account and region) to the rate
// its quota lets through, learnt from Throttling.Api answers: the CUBIC
// client rate limit of aws-sdk-go-v2's adaptive retry mode, starting from
// 0.7 × the calls the quota let through in the second before a throttling
// answer (successes handled within half a second after it count too: a
// burst's answers come back in any order). Until the first such answer it
// lets every call go. A call that
// took its turn and then did not go out gives it back (Return). The
// executor keeps one per account, region and API; an API quota answer
// teaches its pacer and closes no gate; the executor also admits a paced
// pair's asks by it (about two seconds of its pace at once).
//
// # The loop
//
// Do is the one retry loop of the module: it calls a function until it
// succeeds or a stop rule says no, and says which in its Result:
//
//	res, err := retry.Do(ctx, retry.Loop{
//		MaxAttempts: 6,
//		Policy:      retry.DefaultPolicy,
//		Classify:    retry.ClassifyRetryable(mnsq.IsRetryable), // nil: Classify (RDS)
//		Reserve:     time.Second,
//		Quota:       quota, // the owner's, shared by its loops
//		OnRetry:     func(r retry.Retry) { log.Warn("retrying", "attempt", r.Attempt, "waitMs", r.Delay.Milliseconds()) },
//	}, func(ctx context.Context, attempt int) error { return send(ctx) })
//
// The first attempt is always made. After a failure the rules run in this
// order: the context ended (StopCanceled: cancellation is checked first);
// the classifier's class is not Transient or StateWait (StopTerminal, or
// StopCanceled for Canceled); then the wait is the class's backoff (the
// Policy's Backoff, with the number of retries of that class so far as
// exponent; a zero Backoff retries at once without sleeping; Floor, when
// set, raises it); MaxAttempts attempts made (StopAttemptsSpent); a wait
// that would end within Reserve of ctx's deadline, or after StopAt
// (StopNoTimeLeft); the Quota cannot pay (StopQuotaSpent). Otherwise
// OnRetry is told and the loop sleeps. Result carries the stop reason, the
// attempts made, the last error's class and the last wait decided (also
// when not taken: a caller that defers its work uses it as "not before").
// The last error itself is returned.
//
// A caller whose loop is its own (the executor's run, which records every
// attempt into the outcome and keeps budgets across an ask's life) applies
// the same rules one failure at a time with Loop.Decide and a Tally.
//
// # Retry quota
//
// A Quota is a token bucket against error storms, after aws-sdk-go-v2's
// standard retryer: DefaultQuotaSize (500) tokens, a retry takes
// DefaultRetryCost (5), DefaultRetryTimeoutCost (10) after a timeout
// (IsTimeout), a retry that succeeds gives its tokens back and a first try
// that succeeds adds DefaultSuccessIncrement (1). When the bucket cannot
// pay for a retry, none is made: the error is returned at once with
// StopQuotaSpent. One bucket belongs to one owner of loops: the notify
// Publisher (its sends), the executor (its ledger calls).
//
// # Seams
//
// Randomness (Backoff.Rand, Loop.Rand), the clock (NewGate's now,
// Loop.Now) and sleeping (the sleep function given to Gate.Pass,
// Loop.Sleep; Sleep is the real one) are injected, so tests run in
// milliseconds.
package retry

// Package retry says what a failed RDS call calls for, and how long to wait
// before the next try.
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
// # Seams
//
// Randomness (Backoff.Rand), the clock (NewGate's now) and sleeping (the
// sleep function given to Gate.Pass; Sleep is the real one) are injected,
// so tests run in milliseconds.
package retry

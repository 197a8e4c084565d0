// Package notify publishes every request's outcome to MNS as a CloudEvents
// 1.0 structured-mode JSON message (DESIGN.md §6, a contract; OUTCOMES.md
// shows an example of each type and explains every field).
//
// BuildEvent turns a backup.Outcome into an Event. Its id is deterministic
// (EventID: the request's idempotency key, the status and the job id), so an
// outcome that is built or published twice — a retried send whose first try
// did land, an EventBridge batch pushed again, a parked event published
// later — carries the same id and consumers drop the duplicate.
//
// A Publisher sends events to a queue (SendMessage) or a topic
// (PublishMessage):
//
//   - it filters by Policy: all (default), terminal (outcomes that end a
//     request), failures (rejected and failed). A deferred outcome is never
//     terminal: it says the request waits in the work queue, and pages no
//     one by itself;
//   - to a queue, outcomes published at the same time share calls: while
//     two sends are out, the next events wait and leave together as one
//     BatchSendMessage (at most 16, 64 KiB; shared/groupcommit), each
//     answered on its own (mnsq.SendEach) and retried as its own; a lone
//     event is one SendMessage, as before;
//   - it keeps the message under MNS's 64 KiB by trimming rather than
//     refusing: the attempt list is cut to its first and last attempts and
//     data.note says so; long messages are cut as a last resort;
//   - it retries retryable failures with capped exponential backoff and full
//     jitter, only while ctx's deadline leaves time (Config.Reserve is kept
//     for the caller), and stops at once on a terminal error — through
//     shared/retry's one loop (retry.Do), with a retry quota per Publisher
//     so that a storm of 5xx answers stops retrying instead of multiplying;
//   - when it still fails it returns a *PublishError carrying the event as it
//     was sent: the caller parks it in the work queue (PublishError.Park, a
//     workqueue "outcome" message) and later calls PublishParked, which sends
//     the same bytes, same id; or the caller fails the invocation.
//
// A sent event is one debug line ("outcome published", with MNS's message
// id: the ask's one info line is shared/settle's "outcome"); a retry, a
// give-up and an event returned to be parked are warn lines.
//
// Clock, sleep, backoff randomness and logger are injected through Config,
// so tests run in milliseconds.
package notify

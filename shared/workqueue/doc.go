// Package workqueue is the envelope of the product's own messages on the
// MNS work queue, and a Sender that puts them there.
//
// The work queue carries two kinds of bodies: a user's backup request JSON
// (DESIGN.md §3, sent by anyone who can send a message) and the product's
// internal messages. Internal messages are JSON objects with the top-level
// keys "v" (1) and "kind"; a user's request never has them (unknown fields
// are refused there), so IsEnvelope tells the two apart without guessing.
//
// Kinds:
//
//	backup   a request to run or resume: request, attempts so far, firstSeen
//	track    a job to check: request, backupJobId, started, checks,
//	         lastStatus, lastProcess (see package tracker)
//	outcome  an outcome event that could not be published, parked to be
//	         published later verbatim, with its original CloudEvents id
//	plan     a step of a plan run: its requests (or specs, gzipped), the
//	         run's summary so far, and with the ask ledger its step id
//	select   a step of a plan run that reads a Select page (page), with the
//	         same summary and step id, and the page's failed reads so far
//	         (attempts)
//
// A step id ("0", "0.c3", "p7") names a step of a run whose steps run in
// parallel (counted in the ledger's run row); without one the run goes
// step after step, each message carrying the summary so far.
//
// Example:
//
//	{"v":1,"kind":"track","request":{"DBInstanceId":"rm-1",...},
//	 "backupJobId":"1234","started":"2026-11-24T18:00:00Z","checks":2,
//	 "lastStatus":"Uploading","lastProcess":"45"}
//
// Decode is strict: an unknown key, a key that does not belong to the kind,
// a missing required field or a wrong type is an error naming the field.
//
// Sealed: users may send requests to the same queue, so the functions seal
// every envelope they write with a key only they hold (BACKUP_ENVELOPE_KEY;
// Sealer, seal.go): the last member is "mac", an HMAC-SHA256 over the
// envelope exactly as Encode wrote it. The queue function opens it
// (Sealer.Open) before acting on it; an envelope that is unsigned, sealed
// with another key or altered is rejected with one outcome and never acted
// on or republished. MNSSender seals; Decode reads a sealed body without
// checking it (for tests and tools).
//
// Size: MNS refuses bodies over 64 KiB. Encode trims a backup message's
// attempt list (keeping the first and the last attempt, and saying so in
// note) rather than fail; other kinds that are too large are an error
// (SplitPlan cuts a fan-out into chunks that fit).
//
// Delivery, and the Function Compute side: messages are sent with a delay
// (DelaySeconds), capped at MaxDelay = 3 days; a longer wish is cut to the
// cap, so a consumer must re-check any not-before time it cares about.
// MNS itself accepts delays up to 7 days, but it deletes every message
// MessageRetentionPeriod after it was sent, delayed or not (4 days by
// default): a 7-day delay would lose the message. The cap is a constant,
// the default retention less a day (RetentionMargin, for EventBridge's push
// and its retries), not a setting: the product does not create the work
// queue, and a setting would only move the question to whoever creates it.
// The work queue must therefore keep a MessageRetentionPeriod of at least
// the default 345600 s; a shorter one loses messages delayed past it.
// A delayed message becomes visible after the delay and only then is pushed
// by the EventBridge MNS source to the queue function. EventBridge pushes
// batches and, when the function fails, re-pushes the whole batch
// (fc-platform.md §1b, §3.4): every message must therefore be processed
// independently and idempotently, and a failure of one message must not fail
// the invocation. Bodies are plain JSON, not base64: the trigger's
// IsBase64Decode must be false (its default is true).
package workqueue

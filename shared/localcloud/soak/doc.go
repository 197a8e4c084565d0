// Package soak is `make soak`: the whole product, through its built
// function binaries on the local cloud, under mixed faults at volume, with
// the promises of DESIGN.md §2 checked from outside (issue "Proof in the
// project").
//
// The soak sends N asks (SOAK_N, default 200 — the short form that runs in
// `make test`; `make soak` runs 2,000) to 100 instances of the four engines
// as EventBridge MNS events to the queue function, and at once:
//
//   - the real service's unkindness: a finished backup's set listed in
//     DescribeBackups only SOAK_SET_LAG seconds (default 60) after its task
//     ended, per-API flow control, 3 s backups with 1 s snapshots — the
//     functions keep their ask ledger on the local Tablestore;
//   - with SOAK_OTS_FAULTS=1 (`make soak`), the ask ledger's Tablestore
//     failing: 2 % each of busy PutRows, timed-out UpdateRows, dropped
//     GetRows, PutRows whose answer is lost;
//   - RDS faults with a rate: 5xx answers, dropped connections, answers lost
//     after CreateBackup made its job, throttling, failed jobs;
//   - 10 % of event batches pushed again (EventBridge re-push: the same
//     event, the same message ids and times) and 5 % of asks re-sent by the
//     producer (a new message: a new ask, made later);
//   - 5 % of asks invalid for the API page (an unknown database, Snapshot on
//     local disks, BackupType on MySQL), a few instances that refuse
//     (Stopped, locked, read-only);
//   - 5 % of notification-queue sends failing;
//   - the queue function SIGKILLed mid-batch at least 5 times.
//
// It then checks and prints: exactly one distinct terminal outcome id per
// ask; every backup created is owed under the freshness rule (an ask of its
// method made after the previous backup of that method ended, or while
// none had been made), computed from the soak's own record of what it sent
// and when; every invalid ask rejected with the API's code and no job for
// it; nothing in the dead-letter queue; the work queue drained; no panic.
// Any violation fails the test (and `make soak` exits non-zero).
package soak

// Package e2e holds the end-to-end acceptance tests of fc-rds-backup: the
// real function binaries (functions/scheduled, queue and webhook, built once
// into build/local) run under the FC runtime emulator on the local cloud
// (shared/localcloud: the RDS and MNS emulators, the work queue's EventBridge
// trigger, an HTTP trigger in front of the webhook function), and every
// assertion is made from what a user or an operator could see: the
// notification queue's CloudEvents (parsed strictly with notify.ParseEvent),
// the work queue, the RDS emulator's call log, HTTP answers, the functions'
// logs and the devstack CLI's output.
//
// Covered (one test each, named after the behaviour):
//
//   - a timer plan of 3 instances, explicit or tag-selected: 3 accepted, then
//     3 completed (Finished, with a backup id), exactly 3 CreateBackup;
//   - an invalid request on the work queue: one rejected outcome naming the
//     API's code and field, no CreateBackup;
//   - a job RDS fails: accepted, then failed with BackupStatus Failed;
//   - a notification queue that keeps failing: every outcome still arrives
//     (parked in the work queue and re-published), duplicates share their
//     CloudEvents id, one CreateBackup per instance;
//   - the happy path of POST /v1/backups: 202 with the job id after 3 RDS
//     calls, the two preflight calls overlapping;
//   - scripted RDS faults: transient errors retried (attempts listed),
//     Exceeded.BackupTimes failed after one attempt;
//   - a deadline too short: deferred (not terminal) with a delayed backup
//     message on the work queue, resumed by the queue function to accepted;
//   - duplicates: one MNS message delivered five times (and once more after
//     its job finished), one GitHub delivery re-sent three times, two
//     functions asking for one instance at once: one CreateBackup each time;
//   - a 500-instance tag-selected fleet fanned out through the work queue;
//   - the devstack CLI: invoke with signed and badly signed GitHub events
//     (testdata/events/http-github-deployment*.json, kept in step by
//     TestGitHubHTTPEventFixtures; -update rewrites them), and serve's line;
//   - no secret, signature or token in the logs, and a faas.invocation_id on every
//     log line of an invocation.
//
// Only test files live here besides this one; nothing imports the package.
// The tests need the go toolchain (to build the functions and devstack) and
// 127.0.0.1; they run in parallel and take well under a minute.
package e2e

// Package tracker follows a backup job after it was accepted (or coalesced
// onto a running job) until it ends, one check per "track" work-queue
// message, so nothing waits in a billed sleep (DESIGN.md §2, "track").
//
// Check reads the job through a JobReader (the executor implements it with
// DescribeBackupTasks) and returns either
//
//   - a terminal outcome: completed (BackupStatus Finished, with the backup
//     id), or failed, when RDS reports the job Failed (code
//     BackupJobFailed), when the job cannot be found in two checks in a row
//     (BackupJobNotFound), or when the tracking budget (MaxAge, 24 h from
//     the message's Started) runs out (TrackingTimeout); or
//   - the next "track" message, with Checks+1, the status and progress just
//     seen, and a growing delay (30 s, 1 m, 2 m, 5 m, then every 10 m; never
//     past the budget's end, so the last check lands on it).
//
// A check that cannot read the job (an API error) is not a verdict: the job
// is checked again on the same schedule, and the error is returned in
// Result.Err for the caller to log. Every check logs the job's BackupStatus
// and progress with slog.
package tracker

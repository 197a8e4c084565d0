// Package backup is the domain of fc-rds-backup: what a backup request is, the
// rules the ApsaraDB RDS CreateBackup API applies to it, the facts about an
// instance those rules need, and the outcome every request ends in.
//
// It does no I/O and knows no trigger, SDK client or queue (DESIGN.md §8):
// triggers build Requests, the RDS adapter turns them into SDK calls, and the
// notifier publishes Outcomes.
//
// Validation runs in two stages, mirroring when the facts are known:
//
//   - Validate checks what needs no API call (required fields, allowed values,
//     DBName format, which parameter goes with which method).
//   - CheckInstance checks what needs the instance's facts (engine, storage,
//     status, lock mode, primary/read-only, databases, ongoing task, backups
//     today), once preflight has read them.
//
// ParsePlan decodes a request's JSON (DESIGN.md §3), refusing unknown and
// misspelled fields by name; ParseBackups decodes a list of backups by the
// same rules without the plan around it (a webhook route's, read at
// start-up, where a plan's first decode would cost the cold start; a plain
// JSON list is read with shared/plainjson, anything else with
// encoding/json). A rule's message is formatted only when the rule is
// broken: every ask is checked against every rule.
//
// Every violation carries the error code the RDS API would return for it, the
// field at fault, and a message a person understands. The rules are data
// (Rules); the README's rule table is generated from it.
package backup

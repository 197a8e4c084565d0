// Package pipeline is the client side of the webhook function's HTTP API
// (DESIGN.md §5, §9) for CI/CD pipelines and people: it signs requests,
// asks for backups, follows an ask to a verdict, and reads the job status.
// shared/cmd/rdsbackup is its command line.
//
// # Gate: one ask, followed to a verdict
//
// Gate sends one ask — the instances, an idempotency key (DefaultKey: from
// the CI job it runs in, CIJob, and the instance set, method and region;
// else random) and an AskedAt fixed at the first try — and follows it:
//
//   - accepted, or coalesced with a job → the job is polled until it is
//     Finished (the backup exists: VerdictBackedUp) or Failed
//     (VerdictRefused);
//   - coalesced with a finished backup set → VerdictBackedUp at once;
//   - deferred → the same ask (same key, same AskedAt, same body) is sent
//     again after notBefore;
//   - rejected, or failed for good → VerdictRefused, with the code;
//   - failed but retryable (NotParked), a network error, a 5xx or a 429 →
//     the same ask is sent again with backoff;
//   - a 400, 409 or 413 from the webhook → VerdictRefused: asking again
//     cannot help;
//   - no verdict before the deadline → VerdictTimeout.
//
// Until one ask was accepted (any 2xx answer to the POST) a failure to ask
// is a misconfiguration or an outage, not a slow backup: a TLS failure, a
// host that does not resolve, a 401, 403, 404 or 405, a redirect to
// another host, or an answer that is not the webhook's is
// VerdictCouldNotAsk at once; no connection or a 5xx is asked again until
// GateOptions.ConnectTimeout (default 2m), then VerdictCouldNotAsk. Its
// error, a *CouldNotAskError, says what to check (RDSBACKUP_URL's scheme,
// host or path; RDSBACKUP_CALLER and RDSBACKUP_SECRET; the function's
// logs). Once an ask was accepted, network errors and 5xx are asked again
// until the deadline, as above.
//
// The verdicts are the command's exit codes: 0 backed up, 1 refused or
// failed, 2 no verdict in time, 3 could not ask.
//
// Because the key and AskedAt never change, every re-send is the same ask:
// the service's freshness rules find whatever an earlier try made, so a
// gate never takes two backups for one deploy, and a gate run after the
// previous deploy's backup finished always gets one of its own.
//
// Every state change is reported to an Observer, one Event each: the
// command prints a human line or a JSON line per event.
//
// # Outputs: the results for the jobs after the gate
//
// Outputs collects, from the same events, the outcome (backed-up,
// refused, failed, no-verdict, could-not-ask), the jobs the gate followed
// last and the backup sets made, per instance in the order asked, and
// writes them as one-line name=value pairs: GitHubOutputs (verdict,
// job-ids, backup-set-ids: the command appends them to GITHUB_OUTPUT) or
// DotenvOutputs (RDSBACKUP_VERDICT, RDSBACKUP_JOB_IDS,
// RDSBACKUP_BACKUP_SET_IDS: --output-file, a GitLab dotenv report). The
// ids come from the webhook's answers, so each is checked against its
// grammar (a BackupJobId by backup.ParseJobID, a set id decimal digits)
// and left out when it is not one: no value can hold a line break, a
// space or '=', so no answer can add or change an output.
package pipeline

// Command rdsbackup is the pipeline client of fc-rds-backup (DESIGN.md §9):
// take a backup before a deploy and wait for it (gate), read a job (status),
// follow what the functions report (watch), and read the last backups and
// the problems per instance (report).
//
//	go install github.com/fc-rds-backup/fc-rds-backup/shared/cmd/rdsbackup@<version>
//	go run ./shared/cmd/rdsbackup help
//
// Exit codes (every subcommand):
//
//	0   backed up (gate), read (status, report), done (watch, help, version)
//	1   refused or failed: the line names RDS's (or the webhook's) code;
//	    report --stale: an instance has no Finished backup within it
//	2   no verdict within --timeout (gate; the backups may still finish)
//	3   could not ask: not configured, unreachable host, DNS, TLS, a
//	    redirect elsewhere, 401/403, 404/405, or a 5xx that persisted for
//	    --connect-timeout before any ask was accepted; could not watch: not
//	    configured, no such queue, a key MNS refuses, an endpoint that
//	    cannot be reached; could not read the report; the line says what
//	    to check
//	64  usage: unknown subcommand or flag, missing instance ids, a bad
//	    duration or time, gate's --poll outside 100ms to 10m
//
// Flags may come before or after the instance ids; -- ends them. --help
// (-h) on every subcommand prints its usage, --version (or version) the
// build's version.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/pipeline"
	"github.com/fc-rds-backup/fc-rds-backup/shared/version"
)

// The exit codes (the package doc).
const (
	exitOK          = 0
	exitRefused     = 1
	exitTimeout     = 2
	exitCouldNotAsk = 3
	exitUsage       = 64
)

const exitCodes = `Exit codes:
  0   backed up (gate), read (status, report), done (watch, help, version)
  1   refused or failed: the line names RDS's (or the webhook's) code; do not deploy;
      report --stale D: an instance has no Finished backup within D (named)
  2   no verdict within --timeout (gate): the backups may still finish
  3   could not ask: not configured, unreachable host, DNS, TLS, a redirect
      elsewhere, 401/403, 404/405, or a 5xx that persisted for --connect-timeout
      before any ask was accepted; could not watch: not configured, no such
      queue, a key MNS refuses, an endpoint that cannot be reached; could not
      read the report; the line says what to check
  64  usage: unknown subcommand or flag, missing instance ids, a bad duration
      (gate's --poll: 100ms to 10m)
`

const environment = `Configuration (flags win over the environment):
  RDSBACKUP_URL         the webhook function's URL                  (--url)
  RDSBACKUP_CALLER      your caller id (X-Caller)                   (--caller)
  RDSBACKUP_SECRET      your caller's secret; keep it in the CI's secret store
  RDSBACKUP_ASKED_AT    gate: when the ask was made, RFC 3339       (--asked-at)
  GITHUB_OUTPUT         gate: the file its outputs are appended to (GitHub Actions sets it)
  RDSBACKUP_MNS_ENDPOINT  watch: https://<account>.mns.<region>.aliyuncs.com (--endpoint)
  RDSBACKUP_NOTIFY_QUEUE  watch: the notification queue, default rds-backup-notify (--queue)
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET
  [ALIBABA_CLOUD_SECURITY_TOKEN]  watch: a key that may read the queue
`

const gateHelp = `Usage: rdsbackup gate [flags] DBInstanceId... [flags]

gate asks once for a backup of each instance and waits until every backup
is Finished. Run it before a deploy; deploy only when it exits 0.
It prints one line per state change (--json: one JSON object per line).
The ask has an idempotency key (--key) and a time (--asked-at; default the
first try), both fixed at the first try: when it must ask again (network
error, deferred, a job that failed) it sends the same ask, so it never takes
a second backup for one ask. The default key is a digest of the CI job and
of the instance set (any order), --method and --region:
  GitHub Actions  GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB
  GitLab CI       CI_PROJECT_ID, CI_PIPELINE_ID, CI_JOB_ID (new on a retry)
  elsewhere       random
so two gate jobs of one run are two asks, and a re-run attempt is a new ask
with its own backup (its deploy may have changed the database). Give --key
when one job gates the same instances twice (a deploy in between), or for a
GitHub matrix over something other than the instances (GITHUB_JOB is the
same for every leg). Two gates with the same key and backups are one ask.

Until the webhook accepts the ask, a failure that asking again cannot fix
(TLS, a host that does not resolve, 401, 403, 404, 405) ends the gate at
once with exit 3, and no connection or a 5xx ends it with exit 3 after
--connect-timeout; once the ask was accepted, network errors are retried
until --timeout.

Outputs, for the jobs after it: with --output-file PATH it writes PATH
(replacing it), a dotenv file such as a GitLab dotenv report:
  RDSBACKUP_VERDICT=backed-up
  RDSBACKUP_JOB_IDS=5073731
  RDSBACKUP_BACKUP_SET_IDS=321
and when GITHUB_OUTPUT names a file (GitHub Actions) it appends the same as
verdict=, job-ids= and backup-set-ids= lines, the step's outputs. The
verdict is backed-up, refused (the webhook or RDS refused the ask), failed
(a backup failed), no-verdict or could-not-ask; the ids are the jobs
followed last and the backup sets made, in the order of the instances,
separated by spaces (an instance without one adds none). An id the
webhook answers outside its grammar (a job id is 1 to 2147483647, a set
id digits) is left out and said on stderr: no value holds a space, '=' or
a line break. They are written when the gate ends, or when it could not
ask; not on a usage error (64).
`

const statusHelp = `Usage: rdsbackup status [flags] DBInstanceId BackupJobId

status reads one job once (exit 0 when read).
`

const watchHelp = `Usage: rdsbackup watch [flags]

watch reads the outcome messages of the notification queue and prints
each ask's story as it unfolds, one line per event, each line starting with
its time in RFC 3339 (UTC, with the date); then, with --until-idle, a
summary per ask. Each message is printed once per run (by message id and
by event id).

By default it peeks (BatchPeekMessage) every --poll: it never deletes or
hides a message, so the queue's other consumers still get every one. A
peek shows at most what is visible, up to 16 messages per call; a message
another consumer has received is invisible until its visibility timeout
ends. On a busy queue, or one holding more than 16 messages, watch may miss
some (it says so when a peek comes back full). --consume receives and
deletes instead, so it reads every message: use it only on a queue
dedicated to you, since what it reads is gone for everyone else.
The key needs mns:BatchPeekMessage on the queue (with --consume:
mns:BatchReceiveMessage and mns:DeleteMessage).

It ends (exit 0) after --until-idle without a new message, or when
interrupted. It ends with exit 3 ("could not watch", naming what to check:
the queue name, RDSBACKUP_MNS_ENDPOINT, the key, the clock) when the queue
does not exist, MNS refuses the key or its signature, or the endpoint
cannot be reached before MNS answered once; later network errors and 5xx
are retried.
`

const usage = `rdsbackup — take ApsaraDB RDS backups through fc-rds-backup, from a pipeline or a shell.

Usage:
  rdsbackup gate   [--method M] [--region R] [--key K] [--asked-at T] [--timeout D] [--connect-timeout D] [--poll D] [--output-file F] [--json] DBInstanceId...
  rdsbackup status [--region R] [--json] DBInstanceId BackupJobId
  rdsbackup watch  [--endpoint E] [--queue Q] [--until-idle D] [--poll D] [--consume] [--json]
  rdsbackup report [--since 24h] [--stale D] [--instances a,b] [--region R] [--json]
  rdsbackup version          (or --version)
  rdsbackup help             (or --help; <subcommand> --help for its flags)

Flags may come before or after the instance ids; -- ends the flags.

` + gateHelp + "\n" + statusHelp + "\n" + watchHelp + "\n" + reportHelp + "\n" + exitCodes + "\n" + environment + `
Example (GitHub Actions):
  RDSBACKUP_URL=${{ vars.RDSBACKUP_URL }} RDSBACKUP_CALLER=release-bot \
  RDSBACKUP_SECRET=${{ secrets.RDSBACKUP_SECRET }} rdsbackup gate --timeout 30m rm-uf6wjk5xxxx
`

// deps are the clock and the sleep of a gate: real ones in main, fakes in
// tests.
type deps struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return runWith(args, stdout, stderr, getenv, deps{})
}

func runWith(args []string, stdout, stderr io.Writer, getenv func(string) string, d deps) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "rdsbackup %s\n", version.String())
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "gate":
		return gate(ctx, args[1:], stdout, stderr, getenv, d)
	case "status":
		return status(ctx, args[1:], stdout, stderr, getenv)
	case "watch":
		return watch(ctx, args[1:], stdout, stderr, getenv)
	case "report":
		return report(ctx, args[1:], stdout, stderr, getenv, d)
	}
	what := "unknown subcommand"
	if strings.HasPrefix(args[0], "-") {
		what = "unknown flag"
	}
	fmt.Fprintf(stderr, "rdsbackup: %s %q (rdsbackup --help lists them)\n", what, args[0])
	return exitUsage
}

// parse parses args with fs, flags anywhere: before, between and after the
// positional arguments (the instance ids), until "--". ok false: the
// command ends with code (0 for --help, its usage printed on stdout; 64 for
// a usage error, said on stderr).
func parse(fs *flag.FlagSet, args []string, help string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var flags []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		// A flag that takes a value takes the next argument.
		if f := fs.Lookup(name); f != nil && !isBool(f) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, help)
			fmt.Fprintln(stdout, "\nFlags:")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fmt.Fprint(stdout, "\n"+exitCodes+"\n"+environment)
			return nil, exitOK, false
		}
		fmt.Fprintf(stderr, "rdsbackup %s: %v (rdsbackup %s --help lists the flags)\n", fs.Name(), err, fs.Name())
		return nil, exitUsage, false
	}
	return pos, 0, true
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// clientFlags adds --url and --caller; the secret only comes from the
// environment (a flag would show in process lists and CI logs).
func clientFlags(fs *flag.FlagSet, getenv func(string) string) func() (*pipeline.Client, error) {
	url := fs.String("url", getenv("RDSBACKUP_URL"), "the webhook function's URL (RDSBACKUP_URL)")
	caller := fs.String("caller", getenv("RDSBACKUP_CALLER"), "caller id, X-Caller (RDSBACKUP_CALLER)")
	return func() (*pipeline.Client, error) {
		c := &pipeline.Client{URL: *url, Caller: *caller, Secret: getenv("RDSBACKUP_SECRET")}
		var missing []string
		if c.URL == "" {
			missing = append(missing, "RDSBACKUP_URL (or --url)")
		}
		if c.Caller == "" {
			missing = append(missing, "RDSBACKUP_CALLER (or --caller)")
		}
		if c.Secret == "" {
			missing = append(missing, "RDSBACKUP_SECRET")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("not configured: set %s", strings.Join(missing, ", "))
		}
		if !strings.HasPrefix(c.URL, "https://") && !strings.HasPrefix(c.URL, "http://") {
			return nil, fmt.Errorf("RDSBACKUP_URL %q: must start with https:// (http:// only for a local test)", c.URL)
		}
		return c, nil
	}
}

func gate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, d deps) int {
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := clientFlags(fs, getenv)
	method := fs.String("method", "", "BackupMethod: Physical (the default), Logical or Snapshot")
	region := fs.String("region", "", "RegionId (default: the function's region)")
	key := fs.String("key", "", "idempotency key (default: from the CI job, instances, method and region; else random)")
	askedAt := fs.String("asked-at", getenv("RDSBACKUP_ASKED_AT"), "when the ask was made, RFC 3339 (RDSBACKUP_ASKED_AT; default: the first try)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up (exit 2) after this long")
	connectTimeout := fs.Duration("connect-timeout", 2*time.Minute, "until an ask is accepted: give up (exit 3) on no connection or a 5xx after this long")
	poll := fs.Duration("poll", defaultPoll, fmt.Sprintf("time between job status reads (%s to %s)", minPoll, maxPoll))
	outputFile := fs.String("output-file", "", "write the outputs to this file (replaced) as RDSBACKUP_VERDICT=, RDSBACKUP_JOB_IDS=, RDSBACKUP_BACKUP_SET_IDS= lines (a dotenv file)")
	asJSON := fs.Bool("json", false, "print JSON lines instead of sentences")
	ids, code, ok := parse(fs, args, gateHelp, stdout, stderr)
	if !ok {
		return code
	}
	if len(ids) == 0 {
		fmt.Fprintln(stderr, "rdsbackup gate: name at least one DBInstanceId (rdsbackup gate --help)")
		return exitUsage
	}
	if *poll < minPoll || *poll > maxPoll {
		fmt.Fprintf(stderr, "rdsbackup gate: --poll %s: must be %s to %s (rdsbackup gate --help)\n", *poll, minPoll, maxPoll)
		return exitUsage
	}
	at := *askedAt
	var asked time.Time
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			fmt.Fprintf(stderr, "rdsbackup gate: --asked-at %q: must be an RFC 3339 time such as 2026-11-25T10:00:00Z\n", at)
			return exitUsage
		}
		asked = t
	}
	// The outputs' files are opened before anything is asked: a file that
	// cannot be written is found before a backup is taken.
	outs, err := openOutputs(*outputFile, getenv("GITHUB_OUTPUT"))
	if err != nil {
		fmt.Fprintln(stderr, "rdsbackup gate: could not ask:", err)
		return exitCouldNotAsk
	}
	collected := pipeline.NewOutputs(ids)
	finish := func(v pipeline.Verdict) int {
		collected.SetVerdict(v)
		for _, d := range collected.Dropped() {
			fmt.Fprintf(stderr, "rdsbackup gate: the webhook answered %s, not an id: left out of the outputs\n", d)
		}
		if err := outs.write(collected); err != nil {
			fmt.Fprintln(stderr, "rdsbackup gate:", err)
		}
		return int(v)
	}
	c, err := client()
	if err != nil {
		fmt.Fprintln(stderr, "rdsbackup gate: could not ask:", err)
		return finish(pipeline.VerdictCouldNotAsk)
	}
	c.Now = d.now
	v, err := c.Gate(ctx, pipeline.GateOptions{
		Ask:     pipeline.Ask{Instances: ids, Method: *method, Region: *region, Key: *key, AskedAt: asked},
		CI:      ciJob(getenv),
		Timeout: *timeout, ConnectTimeout: *connectTimeout, Poll: *poll, Sleep: d.sleep,
		Observer: func(e pipeline.Event) {
			collected.Observe(e)
			printEvent(stdout, e, *asJSON)
		},
	})
	if err != nil && !*asJSON {
		fmt.Fprintln(stderr, "rdsbackup gate:", err)
	}
	return finish(v)
}

// The bounds of gate's --poll: a job status read is a call to the webhook
// function and one to RDS (DescribeBackupTasks, rate-limited per account);
// the lower bound leaves room for the local cloud's tests (200ms), the
// upper keeps a verdict within minutes of the backup's end.
const (
	defaultPoll = 10 * time.Second
	minPoll     = 100 * time.Millisecond
	maxPoll     = 10 * time.Minute
)

// outputs are the open files gate writes its outputs to.
type outputs struct {
	dotenv *os.File // --output-file, truncated
	github *os.File // GITHUB_OUTPUT, appended to
}

// openOutputs opens --output-file (path, replaced) and the file named by
// GITHUB_OUTPUT (appended to, as GitHub Actions documents); "" is none.
func openOutputs(path, githubOutput string) (*outputs, error) {
	o := &outputs{}
	if path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--output-file: %w", err)
		}
		o.dotenv = f
	}
	if githubOutput != "" {
		f, err := os.OpenFile(githubOutput, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			if o.dotenv != nil {
				o.dotenv.Close()
			}
			return nil, fmt.Errorf("GITHUB_OUTPUT: %w", err)
		}
		o.github = f
	}
	return o, nil
}

// write writes the outputs and closes the files.
func (o *outputs) write(r *pipeline.Outputs) error {
	var errs []error
	for _, f := range []struct {
		file  *os.File
		style pipeline.OutputStyle
	}{{o.dotenv, pipeline.DotenvOutputs}, {o.github, pipeline.GitHubOutputs}} {
		if f.file == nil {
			continue
		}
		_, err := io.WriteString(f.file, r.Lines(f.style))
		if cerr := f.file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot write the outputs to %s: %w", f.file.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// ciJob names the CI job the gate runs in (pipeline.CIJob; zero outside
// CI), for the ask's default key. A retried GitLab job is a new job with a
// new CI_JOB_ID (GitLab has no documented retry counter): it stands for
// both the job and the attempt.
func ciJob(getenv func(string) string) pipeline.CIJob {
	switch {
	case getenv("GITHUB_RUN_ID") != "":
		return pipeline.CIJob{Provider: "github", Project: getenv("GITHUB_REPOSITORY"),
			Run: getenv("GITHUB_RUN_ID"), Attempt: getenv("GITHUB_RUN_ATTEMPT"), Job: getenv("GITHUB_JOB")}
	case getenv("CI_PIPELINE_ID") != "":
		project := getenv("CI_PROJECT_ID")
		if project == "" {
			project = getenv("CI_PROJECT_PATH")
		}
		return pipeline.CIJob{Provider: "gitlab", Project: project, Run: getenv("CI_PIPELINE_ID"), Job: getenv("CI_JOB_ID")}
	}
	return pipeline.CIJob{}
}

func printEvent(w io.Writer, e pipeline.Event, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(e)
		fmt.Fprintln(w, string(b))
		return
	}
	fmt.Fprintf(w, "%s %s\n", e.Time.UTC().Format(time.RFC3339), e.Text)
}

func status(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := clientFlags(fs, getenv)
	region := fs.String("region", "", "RegionId (default: the function's region)")
	asJSON := fs.Bool("json", false, "print the job as JSON")
	pos, code, ok := parse(fs, args, statusHelp, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, "rdsbackup status: want DBInstanceId BackupJobId (rdsbackup status --help)")
		return exitUsage
	}
	c, err := client()
	if err != nil {
		fmt.Fprintln(stderr, "rdsbackup status: could not ask:", err)
		return exitCouldNotAsk
	}
	j, err := c.Status(ctx, *region, pos[0], pos[1])
	if err != nil {
		if cna := pipeline.CouldNotReach(err, c.URL); cna != nil {
			fmt.Fprintln(stderr, "rdsbackup status:", cna)
			return exitCouldNotAsk
		}
		fmt.Fprintln(stderr, "rdsbackup status:", err)
		return exitRefused
	}
	if *asJSON {
		b, _ := json.Marshal(j)
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	line := fmt.Sprintf("%s job %s: %s", j.DBInstanceId, j.BackupJobId, j.BackupStatus)
	if j.Process != "" && !j.Terminal {
		line += " " + j.Process + "%"
	}
	if j.BackupId != "" {
		line += ", backup set " + j.BackupId
	}
	fmt.Fprintln(stdout, line)
	return 0
}

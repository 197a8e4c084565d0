package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// JobReader reads a backup job. found is false when RDS does not know the
// job; err is for calls that failed.
type JobReader interface {
	JobStatus(ctx context.Context, region, instance, jobID string) (job backup.Job, found bool, err error)
}

// Error codes of the failed outcomes the tracker decides.
const (
	CodeJobFailed       = "BackupJobFailed"   // RDS reports BackupStatus Failed
	CodeJobNotFound     = "BackupJobNotFound" // not found in two checks in a row
	CodeTrackingTimeout = "TrackingTimeout"   // still not finished when MaxAge ran out
)

// StatusNotFound is the LastStatus a track message carries after a check
// that did not find the job.
const StatusNotFound = "NotFound"

// Defaults of Options.
const DefaultMaxAge = 24 * time.Hour

// DefaultDelays is the wait before each check: the first check 30 s after
// acceptance, then 1 m, 2 m, 5 m, and 10 m from then on.
var DefaultDelays = []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}

// Options configure a Tracker; zero values take the defaults.
type Options struct {
	MaxAge time.Duration   // tracking budget from the message's Started
	Delays []time.Duration // wait before check n (the last repeats)
	Logger *slog.Logger    // slog.Default() when nil
}

// Tracker checks jobs. It is safe for concurrent use.
type Tracker struct {
	r    JobReader
	opts Options
}

// New returns a Tracker reading jobs through r.
func New(r JobReader, opts Options) *Tracker {
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if len(opts.Delays) == 0 {
		opts.Delays = DefaultDelays
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Tracker{r: r, opts: opts}
}

// Result is what one check decided: Outcome when tracking ended, otherwise
// Next to be sent with Delay.
type Result struct {
	Outcome *backup.Outcome
	Next    *workqueue.Message
	Delay   time.Duration
	Job     backup.Job // what the check saw; zero when the job was not read or not found
	Err     error      // why the job could not be read, or why m is not a track message
}

// Done reports whether tracking ended.
func (r Result) Done() bool { return r.Outcome != nil }

// With returns a tracker that reads jobs with r (an invocation's own RDS
// client), sharing t's options.
func (t *Tracker) With(r JobReader) *Tracker { return &Tracker{r: r, opts: t.opts} }

// Start returns the first track message for a job accepted at started, and
// the delay to send it with.

func (t *Tracker) Start(r backup.Request, jobID string, started time.Time) (workqueue.Message, time.Duration) {
	return workqueue.Track(r, jobID, started), t.delay(0)
}

func (t *Tracker) delay(n int) time.Duration {
	return t.opts.Delays[min(max(n, 0), len(t.opts.Delays)-1)]
}

// Check checks the job of a track message at now. A message that is not a
// valid track message yields a Result with only Err set.
func (t *Tracker) Check(ctx context.Context, m workqueue.Message, now time.Time) Result {
	switch {
	case m.Kind != workqueue.KindTrack:
		return Result{Err: fmt.Errorf("tracker: a %q message, want %q", m.Kind, workqueue.KindTrack)}
	case m.BackupJobId == "" || m.Request.DBInstanceId == "" || m.Started.IsZero():
		return Result{Err: errors.New("tracker: the track message lacks backupJobId, request.DBInstanceId or started")}
	}
	r := m.Request
	log := t.opts.Logger.With("dbInstanceId", backup.Clip(r.DBInstanceId, 80), "backupJobId", m.BackupJobId,
		"correlationId", r.CorrelationId, "check", m.Checks+1)
	end := m.Started.Add(t.opts.MaxAge)
	job, found, err := t.r.JobStatus(ctx, r.RegionId, r.DBInstanceId, m.BackupJobId)

	switch {
	case err != nil:
		if !now.Before(end) {
			return t.fail(ctx, log, m, now, backup.Job{BackupStatus: m.LastStatus, Process: m.LastProcess}, CodeTrackingTimeout,
				fmt.Sprintf("tracking stopped after %s: the job could not be read (%v); last seen %s", t.opts.MaxAge, err, seen(m.LastStatus, m.LastProcess)), err)
		}
		log.WarnContext(ctx, "backup job could not be read; checking again", "error", err)
		return t.again(ctx, log, m, now, end, m.LastStatus, m.LastProcess, backup.Job{}, err)
	case !found:
		if m.LastStatus == StatusNotFound {
			return t.fail(ctx, log, m, now, backup.Job{}, CodeJobNotFound,
				fmt.Sprintf("backup job %s of %s was not found in two checks in a row", m.BackupJobId, r.DBInstanceId), nil)
		}
		if !now.Before(end) {
			return t.fail(ctx, log, m, now, backup.Job{}, CodeTrackingTimeout,
				fmt.Sprintf("tracking stopped after %s: the job was not found", t.opts.MaxAge), nil)
		}
		log.WarnContext(ctx, "backup job not found; checking once more")
		return t.again(ctx, log, m, now, end, StatusNotFound, "", backup.Job{}, nil)
	case job.BackupStatus == "Finished":
		o := t.outcome(m, now, job, backup.StatusCompleted)
		checks := "1 check"
		if m.Checks > 0 {
			checks = fmt.Sprintf("%d checks", m.Checks+1)
		}
		o.Note = fmt.Sprintf("finished %s after it was accepted (%s)", now.Sub(m.Started).Round(time.Second), checks)
		log.InfoContext(ctx, "backup job finished", "backupId", job.BackupId, "elapsedMs", now.Sub(m.Started).Milliseconds())
		return Result{Outcome: &o, Job: job}
	case job.BackupStatus == "Failed":
		return t.fail(ctx, log, m, now, job, CodeJobFailed,
			fmt.Sprintf("RDS reports backup job %s of %s as Failed", m.BackupJobId, r.DBInstanceId), nil)
	case !now.Before(end):
		return t.fail(ctx, log, m, now, job, CodeTrackingTimeout,
			fmt.Sprintf("tracking stopped after %s: the job is still %s", t.opts.MaxAge, seen(job.BackupStatus, job.Process)), nil)
	}
	return t.again(ctx, log, m, now, end, job.BackupStatus, job.Process, job, nil)
}

func seen(status, process string) string {
	switch {
	case status == "":
		return "unknown"
	case process == "":
		return status
	}
	return fmt.Sprintf("%s (%s%%)", status, process)
}

// again returns the next track message.
func (t *Tracker) again(ctx context.Context, log *slog.Logger, m workqueue.Message, now, end time.Time,
	status, process string, job backup.Job, err error) Result {
	next := m
	next.Checks = m.Checks + 1
	next.LastStatus, next.LastProcess = status, process
	next.Note, next.Delay = "", 0
	d := t.delay(next.Checks)
	if left := end.Sub(now); d > left {
		d = left // the last check lands on the end of the budget
	}
	d = max(d.Round(time.Second), time.Second)
	next.Delay = d
	if err == nil {
		log.InfoContext(ctx, "backup job in progress", "backupStatus", status, "process", process, "nextCheckInMs", d.Milliseconds())
	}
	return Result{Next: &next, Delay: d, Job: job, Err: err}
}

func (t *Tracker) outcome(m workqueue.Message, now time.Time, job backup.Job, st backup.Status) backup.Outcome {
	return backup.Outcome{
		Status:       st,
		Terminal:     true,
		Request:      m.Request,
		BackupJobId:  m.BackupJobId,
		BackupStatus: job.BackupStatus,
		Process:      job.Process,
		BackupId:     job.BackupId,
		Attempts:     []backup.Attempt{},
		Time:         now,
	}
}

func (t *Tracker) fail(ctx context.Context, log *slog.Logger, m workqueue.Message, now time.Time, job backup.Job, code, msg string, err error) Result {
	o := t.outcome(m, now, job, backup.StatusFailed)
	o.Error = &backup.ErrorInfo{Code: code, Message: msg}
	o.Note = fmt.Sprintf("tracked for %s (%d checks)", now.Sub(m.Started).Round(time.Second), m.Checks+1)
	log.WarnContext(ctx, "backup job tracking ended in failure", "code", code, "message", msg)
	return Result{Outcome: &o, Job: job, Err: err}
}

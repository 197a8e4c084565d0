package tracker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

var t0 = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

// answer is one scripted JobStatus result.
type answer struct {
	job   backup.Job
	found bool
	err   error
}

type fakeReader struct {
	mu      sync.Mutex
	answers []answer // the last one repeats
	calls   []string
}

func (f *fakeReader) JobStatus(_ context.Context, region, instance, jobID string) (backup.Job, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, region+"/"+instance+"/"+jobID)
	a := f.answers[0]
	if len(f.answers) > 1 {
		f.answers = f.answers[1:]
	}
	return a.job, a.found, a.err
}

func running(status, process string) answer {
	return answer{job: backup.Job{BackupJobId: "1001", BackupStatus: status, Process: process}, found: true}
}

var (
	finished = answer{job: backup.Job{BackupJobId: "1001", BackupStatus: "Finished", Process: "100", BackupId: "B9"}, found: true}
	failed   = answer{job: backup.Job{BackupJobId: "1001", BackupStatus: "Failed", Process: "60"}, found: true}
	notFound = answer{}
	apiErr   = answer{err: errors.New("Throttling: slow down")}
)

func request() backup.Request {
	return backup.Request{DBInstanceId: "rm-1", RegionId: "cn-shanghai", IdempotencyKey: "idem", CorrelationId: "corr"}
}

func newTracker(r JobReader, logs *bytes.Buffer) *Tracker {
	return New(r, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
}

// run drives a job from Start until tracking ends (or maxChecks), sending
// each next message through the real envelope, and returns the delays
// between checks and the final result.
func run(t *testing.T, tr *Tracker, maxChecks int) ([]time.Duration, Result) {
	t.Helper()
	m, d := tr.Start(request(), "1001", t0)
	now := t0
	var delays []time.Duration
	for range maxChecks {
		delays = append(delays, d)
		now = now.Add(d)
		body, err := workqueue.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if m, err = workqueue.Decode([]byte(body)); err != nil {
			t.Fatal(err)
		}
		res := tr.Check(context.Background(), m, now)
		if res.Done() {
			if res.Next != nil {
				t.Fatal("a result with both an outcome and a next message")
			}
			return delays, res
		}
		if res.Next == nil || res.Next.Checks != m.Checks+1 || res.Next.Delay != res.Delay {
			t.Fatalf("next %+v after %+v", res.Next, m)
		}
		m, d = *res.Next, res.Delay
	}
	return delays, Result{}
}

func TestLifecycles(t *testing.T) {
	s := time.Second
	tests := []struct {
		name       string
		answers    []answer
		wantDelays []time.Duration
		wantStatus backup.Status
		wantCode   string
		wantJob    backup.Job
		wantNote   string
	}{
		{
			name:       "finished at the first check",
			answers:    []answer{finished},
			wantDelays: []time.Duration{30 * s},
			wantStatus: backup.StatusCompleted,
			wantJob:    finished.job,
			wantNote:   "finished 30s after it was accepted (1 check)",
		},
		{
			name:       "progress then finished: 30s, 1m, 2m, 5m, 10m, 10m",
			answers:    []answer{running("NoStart", "0"), running("Checking", "5"), running("Preparing", "10"), running("Uploading", "45"), running("Uploading", "90"), finished},
			wantDelays: []time.Duration{30 * s, 60 * s, 120 * s, 300 * s, 600 * s, 600 * s},
			wantStatus: backup.StatusCompleted,
			wantJob:    finished.job,
			wantNote:   "finished 28m30s after it was accepted (6 checks)",
		},
		{
			name:       "RDS reports Failed",
			answers:    []answer{running("Uploading", "50"), failed},
			wantDelays: []time.Duration{30 * s, 60 * s},
			wantStatus: backup.StatusFailed,
			wantCode:   CodeJobFailed,
			wantJob:    failed.job,
		},
		{
			name:       "not found twice in a row: vanished",
			answers:    []answer{running("Uploading", "10"), notFound, notFound},
			wantDelays: []time.Duration{30 * s, 60 * s, 120 * s},
			wantStatus: backup.StatusFailed,
			wantCode:   CodeJobNotFound,
		},
		{
			name:       "not found once, then found: keeps tracking",
			answers:    []answer{notFound, running("Uploading", "10"), notFound, finished},
			wantDelays: []time.Duration{30 * s, 60 * s, 120 * s, 300 * s},
			wantStatus: backup.StatusCompleted,
			wantJob:    finished.job,
		},
		{
			name:       "API errors are not verdicts",
			answers:    []answer{apiErr, apiErr, running("Uploading", "10"), finished},
			wantDelays: []time.Duration{30 * s, 60 * s, 120 * s, 300 * s},
			wantStatus: backup.StatusCompleted,
			wantJob:    finished.job,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := &fakeReader{answers: tt.answers}
			delays, res := run(t, newTracker(r, &logs), 50)
			if !res.Done() {
				t.Fatal("tracking did not end")
			}
			if fmtDur(delays) != fmtDur(tt.wantDelays) {
				t.Fatalf("delays %v, want %v", delays, tt.wantDelays)
			}
			o := res.Outcome
			if o.Status != tt.wantStatus || !o.Terminal || o.BackupJobId != "1001" || o.Request.DBInstanceId != "rm-1" {
				t.Fatalf("outcome %+v", o)
			}
			if o.BackupStatus != tt.wantJob.BackupStatus || o.Process != tt.wantJob.Process || o.BackupId != tt.wantJob.BackupId {
				t.Fatalf("outcome job fields %q %q %q, want %+v", o.BackupStatus, o.Process, o.BackupId, tt.wantJob)
			}
			if tt.wantCode != "" && (o.Error == nil || o.Error.Code != tt.wantCode || o.Error.Retryable) {
				t.Fatalf("error %+v, want code %s", o.Error, tt.wantCode)
			}
			if tt.wantCode == "" && o.Error != nil {
				t.Fatalf("unexpected error %+v", o.Error)
			}
			if tt.wantNote != "" && o.Note != tt.wantNote {
				t.Fatalf("note %q, want %q", o.Note, tt.wantNote)
			}
			if o.Attempts == nil || !o.Time.After(t0) {
				t.Fatalf("attempts %v time %v", o.Attempts, o.Time)
			}
			if r.calls[0] != "cn-shanghai/rm-1/1001" {
				t.Fatalf("read %v", r.calls)
			}
			if !strings.Contains(logs.String(), "backupJobId=1001") {
				t.Fatalf("logs lack the job id:\n%s", logs.String())
			}
		})
	}
}

func fmtDur(ds []time.Duration) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String() + " ")
	}
	return b.String()
}

func TestProgressLogged(t *testing.T) {
	var logs bytes.Buffer
	tr := newTracker(&fakeReader{answers: []answer{running("Uploading", "45")}}, &logs)
	m, _ := tr.Start(request(), "1001", t0)
	res := tr.Check(context.Background(), m, t0.Add(30*time.Second))
	if res.Done() || res.Next.LastStatus != "Uploading" || res.Next.LastProcess != "45" || res.Job.Process != "45" {
		t.Fatalf("result %+v", res)
	}
	for _, want := range []string{"backup job in progress", "backupStatus=Uploading", "process=45", "nextCheckInMs=60000", "check=1"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestBudget(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name      string
		answer    answer
		maxAge    time.Duration
		wantCode  string
		wantInMsg string
	}{
		{"still uploading", running("Uploading", "99"), 2 * h, CodeTrackingTimeout, "still Uploading (99%)"},
		{"never readable", apiErr, h, CodeTrackingTimeout, "could not be read (Throttling: slow down)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			tr := New(&fakeReader{answers: []answer{tt.answer}}, Options{MaxAge: tt.maxAge, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			delays, res := run(t, tr, 100)
			if !res.Done() || res.Outcome.Error == nil || res.Outcome.Error.Code != tt.wantCode || !strings.Contains(res.Outcome.Error.Message, tt.wantInMsg) {
				t.Fatalf("result %+v", res.Outcome)
			}
			var total time.Duration
			for _, d := range delays {
				total += d
			}
			if total != tt.maxAge {
				t.Fatalf("last check at %s, want exactly at the budget's end %s (delays %v)", total, tt.maxAge, delays)
			}
		})
	}
	// A job not found at the budget's end (first time) also ends.
	tr := New(&fakeReader{answers: []answer{notFound}}, Options{Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	m := workqueue.Track(request(), "1001", t0)
	res := tr.Check(context.Background(), m, t0.Add(DefaultMaxAge))
	if !res.Done() || res.Outcome.Error.Code != CodeTrackingTimeout {
		t.Fatalf("result %+v", res)
	}
}

func TestOptions(t *testing.T) {
	r := &fakeReader{answers: []answer{running("Uploading", "1")}}
	tr := New(r, Options{Delays: []time.Duration{1500 * time.Millisecond, 3 * time.Second}, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	delays, _ := run(t, tr, 4)
	if fmtDur(delays) != fmtDur([]time.Duration{1500 * time.Millisecond, 3 * time.Second, 3 * time.Second, 3 * time.Second}) {
		t.Fatalf("delays %v", delays)
	}
	if New(r, Options{}).opts.Logger == nil {
		t.Fatal("no default logger")
	}
}

func TestCheckRefusesOtherMessages(t *testing.T) {
	tr := newTracker(&fakeReader{answers: []answer{finished}}, &bytes.Buffer{})
	for _, m := range []workqueue.Message{
		workqueue.Backup(request(), nil, t0),
		workqueue.Track(request(), "", t0),
		workqueue.Track(backup.Request{}, "1001", t0),
		workqueue.Track(request(), "1001", time.Time{}),
	} {
		res := tr.Check(context.Background(), m, t0)
		if res.Err == nil || res.Done() || res.Next != nil {
			t.Errorf("Check(%+v) = %+v", m, res)
		}
	}
}

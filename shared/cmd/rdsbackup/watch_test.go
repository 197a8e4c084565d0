package main

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

const watchQueue = "rds-backup-notify"

// event is an outcome event as the functions publish it.
func event(t *testing.T, id, status, corr, instance string, at time.Time, terminal bool) string {
	t.Helper()
	ev := notify.Event{SpecVersion: notify.SpecVersion, ID: id, Source: notify.SourcePrefix + "/queue",
		Type: notify.TypePrefix + status, Subject: instance, Time: at,
		Data: notify.Data{Terminal: terminal, CorrelationId: corr, Attempts: []notify.Attempt{}}}
	if status == "completed" {
		ev.Data.BackupJobId, ev.Data.BackupStatus, ev.Data.BackupId = "7", "Finished", "s1"
	}
	b, err := ev.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runEvent is a plan run's summary with one problem.
func runEvent(t *testing.T, at time.Time) string {
	t.Helper()
	ev := notify.Event{SpecVersion: notify.SpecVersion, ID: "run-1", Source: notify.SourcePrefix + "/scheduled",
		Type: notify.TypeRun, Subject: "plan", Time: at,
		Data: notify.Data{Status: notify.StatusRun, Attempts: []notify.Attempt{}, Trigger: notify.TriggerData{Kind: "timer"},
			Run: &notify.RunData{Items: 2, Counts: map[string]int{"accepted": 1, "rejected": 1},
				Problems: []notify.RunProblem{{DBInstanceId: "rm-r", Status: "rejected", Code: "ReadDBInstanceNotSupport"}}}}}
	b, err := ev.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func send(t *testing.T, srv *mns.Server, body string) {
	t.Helper()
	cred := srv.Credential()
	q := ali_mns.NewMNSQueue(watchQueue, ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: srv.Endpoint(), AccessKeyId: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, TimeoutSecond: 5,
	}))
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: body}); err != nil {
		t.Fatal(err)
	}
}

var (
	watchT0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	// stamped is a line that starts with an RFC 3339 UTC time with its date.
	stamped = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `)
)

// Issue 20: watch peeks by default (the queue keeps its messages for the
// other consumers), prints each message once per run, stamps every line
// with date and time, and exits 3 "could not watch" when it cannot.
func TestWatch(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  func(srv *mns.Server, env map[string]string)
		// during runs while watch runs.
		during func(t *testing.T, srv *mns.Server)
		want   int
		out    []string // in stdout+stderr
		once   []string // in stdout exactly once
		check  func(t *testing.T, srv *mns.Server, before []mns.MessageRecord, stdout string)
		queued bool // the queue holds three messages before the run
		// unstamped: the line is said before watching starts (configuration)
		unstamped bool
		extra     int // more accepted events queued before the run, for rm-x0...
	}{
		{name: "peek: each message printed once across polls, all left in the queue",
			args: []string{"--until-idle", "1500ms", "--poll", "100ms"}, queued: true,
			during: func(t *testing.T, srv *mns.Server) {
				// a message that arrives between polls is printed too, once
				waitFor(t, func() bool { return srv.Counts()["BatchPeekMessage "+watchQueue] >= 2 })
				send(t, srv, event(t, "e4", "accepted", "c2", "rm-b", watchT0.Add(time.Hour), false))
			},
			want: 0,
			once: []string{
				"2026-11-25T10:00:00Z c1 accepted  rm-a",
				"2026-11-25T10:05:00Z c1 completed rm-a job 7 (Finished) set s1 [final]",
				"2026-11-25T10:06:00Z plan run plan (timer): 2 asks, 1 accepted, 1 rejected",
				"2026-11-25T10:06:00Z     rm-r rejected: ReadDBInstanceNotSupport",
				"2026-11-25T11:00:00Z c2 accepted  rm-b",
				" 2 ask(s):",
				"2026-11-25T10:05:00Z   c1 rm-a: accepted → completed [final]",
				"2026-11-25T11:00:00Z   c2 rm-b: accepted → not final yet",
			},
			check: func(t *testing.T, srv *mns.Server, before []mns.MessageRecord, stdout string) {
				after := srv.Visible(watchQueue)
				if len(before) != 3 || len(after) != 4 {
					t.Errorf("%d messages before, %d after; want 3, then 4 (none deleted)", len(before), len(after))
				}
				for _, m := range after {
					if m.DequeueCount != 0 || m.State != mns.StateActive {
						t.Errorf("message %s: dequeued %d times, %s; a peek must leave it active", m.MessageID, m.DequeueCount, m.State)
					}
				}
				c := srv.Counts()
				if c["BatchPeekMessage "+watchQueue] < 2 || c["BatchReceiveMessage "+watchQueue] != 0 || c["DeleteMessage "+watchQueue] != 0 {
					t.Errorf("calls %v: want only peeks, two or more", c)
				}
			}},
		{name: "--consume: received and deleted, each printed once",
			args: []string{"--consume", "--until-idle", "1500ms"}, queued: true, want: 0,
			once: []string{"c1 accepted  rm-a", "c1 completed rm-a", "plan run plan", "c1 rm-a: accepted → completed [final]"},
			check: func(t *testing.T, srv *mns.Server, before []mns.MessageRecord, stdout string) {
				if len(before) != 3 {
					t.Errorf("%d messages before, want 3", len(before))
				}
				if after := srv.Visible(watchQueue); len(after) != 0 {
					t.Errorf("%d messages left, want none", len(after))
				}
				if c := srv.Counts(); c["DeleteMessage "+watchQueue] != 3 || c["BatchPeekMessage "+watchQueue] != 0 {
					t.Errorf("calls %v: want 3 DeleteMessage and no peek", c)
				}
			}},
		{name: "--json: the bodies, once each",
			args: []string{"--json", "--until-idle", "1s", "--poll", "100ms"}, queued: true, want: 0,
			once: []string{`"id":"e1"`, `"id":"e2"`, `"id":"run-1"`}},
		{name: "peek: a full peek (16) is said once",
			args: []string{"--until-idle", "1s", "--poll", "100ms"}, extra: 17, want: 0,
			once: []string{"c-x0 accepted  rm-x0", "c-x15 accepted  rm-x15"},
			check: func(t *testing.T, srv *mns.Server, before []mns.MessageRecord, stdout string) {
				if strings.Contains(stdout, "rm-x16") {
					t.Errorf("the 17th message showed: a peek returns at most 16")
				}
				if len(srv.Visible(watchQueue)) != 17 {
					t.Errorf("%d messages left, want 17", len(srv.Visible(watchQueue)))
				}
			},
			out: []string{"came back full (16 messages"}},
		{name: "empty queue: 0 after --until-idle, a dated line",
			args: []string{"--until-idle", "500ms", "--poll", "100ms"}, want: 0,
			once: []string{" no outcome arrived"}},
		{name: "a missing queue: 3, naming the queue",
			args: []string{"--queue", "rds-backup-notfy", "--until-idle", "5s"}, want: 3,
			out: []string{`could not watch: queue "rds-backup-notfy" does not exist at http://127.0.0.1:`, "RDSBACKUP_NOTIFY_QUEUE", "RDSBACKUP_MNS_ENDPOINT"}},
		{name: "a missing queue with --consume: 3",
			args: []string{"--consume", "--queue", "nope"}, want: 3, out: []string{`could not watch: queue "nope" does not exist`}},
		{name: "a wrong secret: 3, the signature, check the key",
			env:  func(_ *mns.Server, env map[string]string) { env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "wrong" },
			args: []string{"--until-idle", "5s"}, want: 3,
			out: []string{"could not watch: MNS at http://127.0.0.1:", "refused the key (SignatureDoesNotMatch)", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}},
		{name: "an unknown key id: 3",
			env:  func(_ *mns.Server, env map[string]string) { env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAInobody" },
			args: []string{"--consume"}, want: 3,
			out: []string{"could not watch:", "(InvalidAccessKeyId)", "ALIBABA_CLOUD_ACCESS_KEY_ID"}},
		{name: "an endpoint that cannot be reached: 3",
			env: func(_ *mns.Server, env map[string]string) {
				env["RDSBACKUP_MNS_ENDPOINT"] = closedPort(t) + "/."
			},
			args: []string{"--until-idle", "5s"}, want: 3,
			out: []string{"could not watch: no answer from http://127.0.0.1:", "check RDSBACKUP_MNS_ENDPOINT"}},
		{name: "a bad endpoint: 3",
			env:  func(_ *mns.Server, env map[string]string) { env["RDSBACKUP_MNS_ENDPOINT"] = "mns.example.com" },
			want: 3, out: []string{"could not watch: check RDSBACKUP_MNS_ENDPOINT"}, unstamped: true},
		{name: "--consume with --keep: 64", args: []string{"--consume", "--keep"}, want: 64},
		{name: "--poll 0: 64", args: []string{"--poll", "0s"}, want: 64},
		{name: "--help: the flags, the environment and the exit codes",
			args: []string{"--help"}, want: 0,
			out: []string{"Usage: rdsbackup watch", "peeks", "up to 16 messages per call", "queue\ndedicated to you",
				"Flags:", "-consume", "-poll", "-until-idle", "-queue", "-endpoint", "-json",
				"Configuration", "RDSBACKUP_MNS_ENDPOINT", "RDSBACKUP_NOTIFY_QUEUE", "ALIBABA_CLOUD_ACCESS_KEY_ID",
				"Exit codes:", "0   ", "3   could not ask", "could not watch", "64  usage"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mns.NewServer()
			defer srv.Close()
			if err := srv.CreateQueue(watchQueue, mns.QueueAttributes{}); err != nil {
				t.Fatal(err)
			}
			if tc.queued {
				send(t, srv, event(t, "e1", "accepted", "c1", "rm-a", watchT0, false))
				send(t, srv, event(t, "e2", "completed", "c1", "rm-a", watchT0.Add(5*time.Minute), true))
				send(t, srv, runEvent(t, watchT0.Add(6*time.Minute)))
			}
			for i := range tc.extra {
				send(t, srv, event(t, fmt.Sprintf("x%d", i), "accepted", fmt.Sprintf("c-x%d", i), fmt.Sprintf("rm-x%d", i), watchT0, false))
			}
			cred := srv.Credential()
			env := map[string]string{"RDSBACKUP_MNS_ENDPOINT": srv.Endpoint(),
				"ALIBABA_CLOUD_ACCESS_KEY_ID": cred.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": cred.AccessKeySecret}
			if tc.env != nil {
				tc.env(srv, env)
			}
			before := srv.Visible(watchQueue)
			done := make(chan struct{})
			if tc.during != nil {
				go func() { defer close(done); tc.during(t, srv) }()
			} else {
				close(done)
			}
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"watch"}, tc.args...), &stdout, &stderr, func(k string) string { return env[k] })
			<-done
			all := stdout.String() + stderr.String()
			if code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout.String(), stderr.String())
			}
			for _, s := range tc.out {
				if !strings.Contains(all, s) {
					t.Errorf("output lacks %q:\n%s", s, all)
				}
			}
			for _, s := range tc.once {
				if n := strings.Count(stdout.String(), s); n != 1 {
					t.Errorf("%q printed %d times, want once:\n%s", s, n, stdout.String())
				}
			}
			if tc.want == 3 && !tc.unstamped && !stamped.MatchString(stderr.String()) {
				t.Errorf("the could-not-watch line has no date and time:\n%s", stderr.String())
			}
			if !slices.Contains(tc.args, "--help") && !slices.Contains(tc.args, "--json") {
				for _, l := range strings.Split(stdout.String(), "\n") {
					if l != "" && !stamped.MatchString(l) {
						t.Errorf("line without an RFC 3339 date and time: %q", l)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, srv, before, stdout.String())
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Error("condition not met within 10s")
}

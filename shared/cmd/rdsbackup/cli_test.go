package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when the gate sleeps: no wall-clock bound in
// these tests.
type fakeClock struct {
	mu    sync.Mutex
	start time.Time
	now   time.Time
}

func newClock() *fakeClock {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return &fakeClock{start: t0, now: t0}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}
func (c *fakeClock) Elapsed() time.Duration { return c.Now().Sub(c.start) }

// hook is the webhook as scripted answers; it records the POST bodies.
type hook struct {
	mu    sync.Mutex
	posts []string
	gets  int
	post  func(n int) (int, string)
	get   func(n int) (int, string)
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	var status int
	var out string
	if r.Method == http.MethodPost {
		h.posts = append(h.posts, string(body))
		status, out = h.post(len(h.posts))
	} else {
		h.gets++
		status, out = h.get(h.gets)
	}
	h.mu.Unlock()
	w.WriteHeader(status)
	io.WriteString(w, out)
}

const (
	acceptedAns = `{"requests":[{"status":"accepted","DBInstanceId":"rm-a","BackupJobId":"7","correlationId":"c1"}]}`
	finishedJob = `{"DBInstanceId":"rm-a","BackupJobId":"7","BackupStatus":"Finished","terminal":true,"BackupId":"s1"}`
)

func always(status int, body string) func(int) (int, string) {
	return func(int) (int, string) { return status, body }
}

// closedPort is a URL where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

type cliResult struct {
	code           int
	stdout, stderr string
	hook           *hook
	elapsed        time.Duration
}

// cli runs the command as main does, against h served by a plain (or a TLS)
// httptest server; url, when given, turns the server's URL into
// RDSBACKUP_URL.
func cli(t *testing.T, h *hook, useTLS bool, url func(srv string) string, args ...string) cliResult {
	t.Helper()
	return cliEnv(t, h, useTLS, url, nil, args...)
}

// cliEnv is cli with env added to the environment.
func cliEnv(t *testing.T, h *hook, useTLS bool, url func(srv string) string, extra map[string]string, args ...string) cliResult {
	t.Helper()
	if h == nil {
		h = &hook{post: always(202, acceptedAns), get: always(200, finishedJob)}
	}
	if h.get == nil {
		h.get = always(200, finishedJob)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the TLS cases' handshake errors are the point
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	defer srv.Close()
	u := srv.URL
	if url != nil {
		u = url(srv.URL)
	}
	env := map[string]string{"RDSBACKUP_URL": u, "RDSBACKUP_CALLER": "ci", "RDSBACKUP_SECRET": "s3cret"}
	for k, v := range extra {
		env[k] = v
	}
	clk := newClock()
	var stdout, stderr bytes.Buffer
	code := runWith(args, &stdout, &stderr, func(k string) string { return env[k] }, deps{now: clk.Now, sleep: clk.Sleep})
	return cliResult{code, stdout.String(), stderr.String(), h, clk.Elapsed()}
}

// Issue 20: a misconfiguration is "could not ask" (exit 3) within
// --connect-timeout, naming what to check — it used to be retried until
// --timeout (exit 2) or be exit 1 like a refusal; usage is 64.
func TestCLIExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		h      *hook
		tls    bool
		url    func(srv string) string
		args   []string
		want   int
		out    []string // in stdout+stderr
		notOut []string
		check  func(t *testing.T, r cliResult)
	}{
		{name: "accepted and Finished: 0",
			args: []string{"gate", "rm-a"}, want: 0, out: []string{"verdict: backed up"}},
		{name: "rejected: 1 with RDS's code",
			h:    &hook{post: always(202, `{"requests":[{"status":"rejected","DBInstanceId":"rm-a","correlationId":"c1","error":{"code":"ReadDBInstanceNotSupport","message":"read-only"}}]}`)},
			args: []string{"gate", "rm-a"}, want: 1, out: []string{"ReadDBInstanceNotSupport"}},
		{name: "wrong host (a closed port): 3 within --connect-timeout",
			url:  func(string) string { return closedPort(t) },
			args: []string{"gate", "--connect-timeout", "30s", "rm-a"}, want: 3,
			out: []string{"could not ask: no connection to 127.0.0.1:", "check RDSBACKUP_URL's host and port"},
			check: func(t *testing.T, r cliResult) {
				if r.elapsed > 30*time.Second {
					t.Errorf("decided after %s, want within the 30s connect timeout", r.elapsed)
				}
			}},
		{name: "https:// against a plain server: 3, TLS",
			url:  func(srv string) string { return strings.Replace(srv, "http://", "https://", 1) },
			args: []string{"gate", "rm-a"}, want: 3,
			out: []string{"could not ask: TLS handshake with 127.0.0.1:", "check RDSBACKUP_URL's scheme and the certificate"},
			check: func(t *testing.T, r cliResult) {
				if r.elapsed != 0 {
					t.Errorf("retried for %s: a TLS failure cannot pass", r.elapsed)
				}
			}},
		{name: "http:// against a TLS server: 3, the scheme",
			tls: true, url: func(srv string) string { return strings.Replace(srv, "https://", "http://", 1) },
			args: []string{"gate", "rm-a"}, want: 3,
			out: []string{"could not ask:", "speaks HTTPS", "check RDSBACKUP_URL's scheme"}},
		{name: "https:// with a certificate this machine does not trust: 3",
			tls:  true,
			args: []string{"gate", "rm-a"}, want: 3,
			out: []string{"could not ask: TLS handshake", "x509", "the certificate"}},
		{name: "401: 3, check the caller and secret",
			h:    &hook{post: always(401, `{"error":{"code":"Unauthorized","message":"missing or invalid signature"}}`)},
			args: []string{"gate", "rm-a"}, want: 3,
			out: []string{"could not ask: 401 from the webhook", "check RDSBACKUP_CALLER and RDSBACKUP_SECRET", "the route exists"},
			check: func(t *testing.T, r cliResult) {
				if len(r.hook.posts) != 1 {
					t.Errorf("%d POSTs, want 1", len(r.hook.posts))
				}
			}},
		{name: "403: 3, check the route's allow-list",
			h:    &hook{post: always(403, `{"error":{"code":"Forbidden","message":"rm-a is not allowed"}}`)},
			args: []string{"gate", "rm-a"}, want: 3, out: []string{"could not ask: 403", "allows these instances"}},
		{name: "404 (a wrong path): 3, the status and what to check",
			h:    &hook{post: always(404, "")},
			url:  func(srv string) string { return srv + "/wrong" },
			args: []string{"gate", "rm-a"}, want: 3,
			out:    []string{"could not ask: 404 POST /wrong/v1/backups", "check RDSBACKUP_URL's path"},
			notOut: []string{"HTTP 404 : "}},
		{name: "405: 3",
			h:    &hook{post: always(405, "method not allowed")},
			args: []string{"gate", "rm-a"}, want: 3, out: []string{"could not ask: 405", "check RDSBACKUP_URL's path"}},
		{name: "a persistent 502: 3 after --connect-timeout",
			h:    &hook{post: always(502, "Bad Gateway")},
			args: []string{"gate", "--connect-timeout", "2m", "rm-a"}, want: 3,
			out: []string{"could not ask: 502 persisted for 2m0s", "the webhook function may not start; check its logs and configuration"},
			check: func(t *testing.T, r cliResult) {
				if r.elapsed != 2*time.Minute || len(r.hook.posts) < 3 {
					t.Errorf("decided after %s and %d POSTs, want at 2m after several", r.elapsed, len(r.hook.posts))
				}
			}},
		{name: "502 then 202: proceeds to the verdict",
			h: &hook{post: func(n int) (int, string) {
				if n == 1 {
					return 502, "Bad Gateway"
				}
				return 202, acceptedAns
			}},
			args: []string{"gate", "rm-a"}, want: 0, out: []string{"verdict: backed up"}},
		{name: "accepted, then the status reads fail: retried until --timeout, 2",
			h:    &hook{post: always(202, acceptedAns), get: always(502, "Bad Gateway")},
			args: []string{"gate", "--timeout", "5m", "--connect-timeout", "30s", "rm-a"}, want: 2,
			out: []string{"no verdict within 5m0s"}},
		{name: "deferred (an accepted ask), then 502s: asked again until --timeout, 2",
			h: &hook{post: func(n int) (int, string) {
				if n == 1 {
					return 202, `{"requests":[{"status":"deferred","DBInstanceId":"rm-a","correlationId":"c1","notBefore":"2026-11-25T10:00:30Z","error":{"code":"IncorrectDBInstanceState","message":"Rebooting"}}]}`
				}
				return 502, "Bad Gateway"
			}},
			args: []string{"gate", "--timeout", "10m", "--connect-timeout", "1m", "rm-a"}, want: 2,
			out: []string{"deferred", "no verdict within 10m0s"}, notOut: []string{"could not ask:"}},
		{name: "not configured: 3",
			url:  func(string) string { return "" },
			args: []string{"gate", "rm-a"}, want: 3, out: []string{"could not ask: not configured: set RDSBACKUP_URL"}},
		{name: "flags after the instance ids: only rm-a, Method Logical",
			args: []string{"gate", "rm-a", "--method", "Logical"}, want: 0,
			check: func(t *testing.T, r cliResult) {
				var b struct {
					Backups []struct{ DBInstanceId, BackupMethod string }
				}
				if len(r.hook.posts) != 1 || json.Unmarshal([]byte(r.hook.posts[0]), &b) != nil ||
					len(b.Backups) != 1 || b.Backups[0].DBInstanceId != "rm-a" || b.Backups[0].BackupMethod != "Logical" {
					t.Errorf("POSTs %q, want one for rm-a with Logical", r.hook.posts)
				}
			}},
		{name: "-- ends the flags",
			args: []string{"gate", "--method=Logical", "--", "rm-a"}, want: 0,
			check: func(t *testing.T, r cliResult) {
				if len(r.hook.posts) != 1 || !strings.Contains(r.hook.posts[0], `"BackupMethod":"Logical"`) {
					t.Errorf("POSTs %q", r.hook.posts)
				}
			}},
		{name: "gate --help: 0 with the exit codes and the environment",
			args: []string{"gate", "--help"}, want: 0,
			out: []string{"Exit codes", "3   could not ask", "64  usage", "RDSBACKUP_URL", "RDSBACKUP_SECRET", "-connect-timeout"}},
		{name: "gate -h after an id: 0",
			args: []string{"gate", "rm-a", "-h"}, want: 0, out: []string{"Exit codes"},
			check: func(t *testing.T, r cliResult) {
				if len(r.hook.posts) != 0 {
					t.Errorf("--help asked")
				}
			}},
		{name: "status --help: 0", args: []string{"status", "--help"}, want: 0, out: []string{"Exit codes", "RDSBACKUP_CALLER"}},
		{name: "watch --help: 0", args: []string{"watch", "--help"}, want: 0, out: []string{"Exit codes", "RDSBACKUP_MNS_ENDPOINT", "RDSBACKUP_NOTIFY_QUEUE"}},
		{name: "--help: 0", args: []string{"--help"}, want: 0, out: []string{"Exit codes", "RDSBACKUP_MNS_ENDPOINT"}},
		{name: "--version: 0", args: []string{"--version"}, want: 0, out: []string{"rdsbackup "}},
		{name: "version: 0", args: []string{"version"}, want: 0, out: []string{"rdsbackup "}},
		{name: "unknown flag: 64", args: []string{"gate", "--methd", "Logical", "rm-a"}, want: 64, out: []string{"-methd"}},
		{name: "unknown flag at the top: 64", args: []string{"--verbose"}, want: 64, out: []string{"unknown flag"}},
		{name: "unknown subcommand: 64", args: []string{"gte", "rm-a"}, want: 64, out: []string{"unknown subcommand \"gte\""}},
		{name: "no subcommand: 64", args: nil, want: 64},
		{name: "no instance: 64", args: []string{"gate", "--method", "Logical"}, want: 64, out: []string{"DBInstanceId"}},
		{name: "a bad duration: 64", args: []string{"gate", "--timeout", "30", "rm-a"}, want: 64, out: []string{"-timeout"}},
		{name: "a bad --asked-at: 64", args: []string{"gate", "--asked-at", "yesterday", "rm-a"}, want: 64},
		{name: "status of a job the webhook does not know: 1",
			h:    &hook{get: always(404, `{"error":{"code":"BackupJobNotFound","message":"no such job"}}`)},
			args: []string{"status", "rm-a", "9"}, want: 1, out: []string{"BackupJobNotFound"}},
		{name: "status at a wrong path: 3",
			h:    &hook{get: always(404, "404 page not found")},
			url:  func(srv string) string { return srv + "/wrong" },
			args: []string{"status", "rm-a", "7"}, want: 3, out: []string{"could not ask: 404 GET /wrong/v1/backups/rm-a/7", "check RDSBACKUP_URL's path"}},
		{name: "status, flags after the ids: 0",
			args: []string{"status", "rm-a", "7", "--json"}, want: 0, out: []string{`"BackupStatus":"Finished"`}},
		{name: "watch not configured: 3", args: []string{"watch"}, want: 3, out: []string{"RDSBACKUP_MNS_ENDPOINT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.h, tc.tls, tc.url, tc.args...)
			all := r.stdout + r.stderr
			if r.code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.want, r.stdout, r.stderr)
			}
			for _, s := range tc.out {
				if !strings.Contains(all, s) {
					t.Errorf("output lacks %q:\n%s", s, all)
				}
			}
			for _, s := range tc.notOut {
				if strings.Contains(all, s) {
					t.Errorf("output has %q:\n%s", s, all)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// Issue 20: every line the gate prints starts with a full UTC date and
// time (it used to print 15:04:05 alone).
func TestGateLinesCarryTheDate(t *testing.T) {
	r := cli(t, nil, false, nil, "gate", "rm-a")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 2 {
		t.Fatalf("output %q, want a line per state change", r.stdout)
	}
	for _, l := range lines {
		stamp, _, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339, stamp); err != nil || !strings.HasSuffix(stamp, "Z") {
			t.Errorf("line %q does not start with an RFC 3339 UTC time", l)
		}
	}
}

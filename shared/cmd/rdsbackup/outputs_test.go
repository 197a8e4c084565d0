package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	acceptedTwo = `{"requests":[{"status":"accepted","DBInstanceId":"rm-a","BackupJobId":"5073731","correlationId":"c1"},` +
		`{"status":"accepted","DBInstanceId":"rm-b","BackupJobId":"5073732","correlationId":"c2"}]}`
	rejectedAns = `{"requests":[{"status":"rejected","DBInstanceId":"rm-a","correlationId":"c1","error":{"code":"ReadDBInstanceNotSupport","message":"read-only"}}]}`
)

// Issue 20: gate writes its outputs — the verdict, the job ids, the set
// ids — to GITHUB_OUTPUT (appended, name=value) and to --output-file
// (replaced, a dotenv file), on every verdict and on could-not-ask.
func TestGateOutputs(t *testing.T) {
	twoFinished := func(n int) (int, string) {
		// Reads come sorted by instance: rm-a's job, then rm-b's.
		if n%2 == 1 {
			return 200, `{"DBInstanceId":"rm-a","BackupJobId":"5073731","BackupStatus":"Finished","terminal":true,"BackupId":"321"}`
		}
		return 200, `{"DBInstanceId":"rm-b","BackupJobId":"5073732","BackupStatus":"Finished","terminal":true,"BackupId":"322"}`
	}
	tests := []struct {
		name   string
		h      *hook
		url    func(string) string
		args   []string
		code   int
		github string // appended to GITHUB_OUTPUT after "earlier=1\n"
		dotenv string
	}{
		{name: "backed up",
			h:      &hook{post: always(202, acceptedTwo), get: twoFinished},
			args:   []string{"rm-a", "rm-b"},
			code:   0,
			github: "verdict=backed-up\njob-ids=5073731 5073732\nbackup-set-ids=321 322\n",
			dotenv: "RDSBACKUP_VERDICT=backed-up\nRDSBACKUP_JOB_IDS=5073731 5073732\nRDSBACKUP_BACKUP_SET_IDS=321 322\n"},
		{name: "refused",
			h:      &hook{post: always(202, rejectedAns)},
			args:   []string{"rm-a"},
			code:   1,
			github: "verdict=refused\njob-ids=\nbackup-set-ids=\n",
			dotenv: "RDSBACKUP_VERDICT=refused\nRDSBACKUP_JOB_IDS=\nRDSBACKUP_BACKUP_SET_IDS=\n"},
		{name: "could not ask: 401",
			h:      &hook{post: always(401, `{"error":{"code":"Unauthorized","message":"missing or invalid signature"}}`)},
			args:   []string{"rm-a"},
			code:   3,
			github: "verdict=could-not-ask\njob-ids=\nbackup-set-ids=\n",
			dotenv: "RDSBACKUP_VERDICT=could-not-ask\nRDSBACKUP_JOB_IDS=\nRDSBACKUP_BACKUP_SET_IDS=\n"},
		{name: "could not ask: not configured",
			url:    func(string) string { return "" },
			args:   []string{"rm-a"},
			code:   3,
			github: "verdict=could-not-ask\njob-ids=\nbackup-set-ids=\n",
			dotenv: "RDSBACKUP_VERDICT=could-not-ask\nRDSBACKUP_JOB_IDS=\nRDSBACKUP_BACKUP_SET_IDS=\n"},
		{name: "no verdict in time, the job listed",
			h:      &hook{post: always(202, acceptedAns), get: always(200, `{"DBInstanceId":"rm-a","BackupJobId":"7","BackupStatus":"Uploading","Process":"40"}`)},
			args:   []string{"--timeout", "1m", "rm-a"},
			code:   2,
			github: "verdict=no-verdict\njob-ids=7\nbackup-set-ids=\n",
			dotenv: "RDSBACKUP_VERDICT=no-verdict\nRDSBACKUP_JOB_IDS=7\nRDSBACKUP_BACKUP_SET_IDS=\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			gh, env := filepath.Join(dir, "github_output"), filepath.Join(dir, "rdsbackup.env")
			if err := os.WriteFile(gh, []byte("earlier=1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(env, []byte("STALE=1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"gate", "--output-file", env}, tc.args...)
			r := cliEnv(t, tc.h, false, tc.url, map[string]string{"GITHUB_OUTPUT": gh}, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			if got := readFile(t, gh); got != "earlier=1\n"+tc.github {
				t.Errorf("GITHUB_OUTPUT\n%q, want\n%q", got, "earlier=1\n"+tc.github)
			}
			if got := readFile(t, env); got != tc.dotenv {
				t.Errorf("--output-file\n%q, want\n%q", got, tc.dotenv)
			}
		})
	}
}

// A hostile webhook (or a proxy in its place) answers ids holding a line
// break and another output: they are left out, said on stderr, and the
// file keeps exactly the three lines of this gate.
func TestGateOutputsRefuseInjection(t *testing.T) {
	h := &hook{
		post: always(202, `{"requests":[{"status":"accepted","DBInstanceId":"rm-a","BackupJobId":"7\nverdict=backed-up\ndeploy=yes","correlationId":"c1"}]}`),
		get:  always(200, `{"DBInstanceId":"rm-a","BackupJobId":"7","BackupStatus":"Finished","terminal":true,"BackupId":"321\nbackup-set-ids=666"}`),
	}
	dir := t.TempDir()
	gh, env := filepath.Join(dir, "github_output"), filepath.Join(dir, "rdsbackup.env")
	r := cliEnv(t, h, false, nil, map[string]string{"GITHUB_OUTPUT": gh}, "gate", "--output-file", env, "rm-a")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got, want := readFile(t, gh), "verdict=backed-up\njob-ids=\nbackup-set-ids=\n"; got != want {
		t.Errorf("GITHUB_OUTPUT\n%q, want\n%q", got, want)
	}
	if got, want := readFile(t, env), "RDSBACKUP_VERDICT=backed-up\nRDSBACKUP_JOB_IDS=\nRDSBACKUP_BACKUP_SET_IDS=\n"; got != want {
		t.Errorf("--output-file\n%q, want\n%q", got, want)
	}
	for _, want := range []string{`job id "7\nverdict=backed-up\ndeploy=yes"`, `backup set id "321\nbackup-set-ids=666"`, "left out of the outputs"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// --poll is bounded (a usage error, 64, outside 100ms to 10m; nothing
// asked, no outputs), and an outputs file that cannot be written is found
// before anything is asked (3).
func TestGatePollAndOutputFileChecks(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--poll", "50ms", "rm-a"}, 64, "--poll 50ms: must be 100ms to 10m0s"},
		{[]string{"--poll", "0s", "rm-a"}, 64, "--poll 0s"},
		{[]string{"--poll", "-1s", "rm-a"}, 64, "--poll -1s"},
		{[]string{"--poll", "11m", "rm-a"}, 64, "--poll 11m0s"},
		{[]string{"--poll", "100ms", "rm-a"}, 0, "verdict: backed up"},
		{[]string{"--poll", "10m", "rm-a"}, 0, "verdict: backed up"},
		{[]string{"--output-file", "/nonexistent/dir/rdsbackup.env", "rm-a"}, 3, "could not ask: --output-file"},
	} {
		gh := filepath.Join(t.TempDir(), "github_output")
		r := cliEnv(t, nil, false, nil, map[string]string{"GITHUB_OUTPUT": gh}, append([]string{"gate"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.out) {
			t.Errorf("%q: exit %d, want %d with %q\n%s%s", tc.args, r.code, tc.code, tc.out, r.stdout, r.stderr)
		}
		if tc.code != 0 {
			if len(r.hook.posts) != 0 {
				t.Errorf("%q: asked", tc.args)
			}
			if _, err := os.Stat(gh); err == nil {
				t.Errorf("%q: GITHUB_OUTPUT written", tc.args)
			}
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

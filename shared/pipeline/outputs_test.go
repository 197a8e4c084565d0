package pipeline

import (
	"strings"
	"testing"
)

// Issue 20: a gate's outputs (verdict, job ids, set ids), collected from
// its events, in the order of the instances.
func TestOutputs(t *testing.T) {
	tests := []struct {
		name    string
		events  []Event
		verdict Verdict
		github  string
		dotenv  string
	}{
		{name: "two instances backed up, one coalesced with a finished set",
			events: []Event{
				{Event: "accepted", DBInstanceId: "rm-b", BackupJobId: "5073732"},
				{Event: "finished", DBInstanceId: "rm-c", BackupId: "320"},
				{Event: "progress", DBInstanceId: "rm-b", BackupJobId: "5073732"},
				{Event: "finished", DBInstanceId: "rm-b", BackupJobId: "5073732", BackupId: "321"},
			},
			verdict: VerdictBackedUp,
			github:  "verdict=backed-up\njob-ids=5073732\nbackup-set-ids=321 320\n",
			dotenv:  "RDSBACKUP_VERDICT=backed-up\nRDSBACKUP_JOB_IDS=5073732\nRDSBACKUP_BACKUP_SET_IDS=321 320\n"},
		{name: "a job that ended Failed is forgotten; the next one counts",
			events: []Event{
				{Event: "accepted", DBInstanceId: "rm-c", BackupJobId: "7"},
				{Event: "job-failed", DBInstanceId: "rm-c", BackupJobId: "7"},
				{Event: "accepted", DBInstanceId: "rm-c", BackupJobId: "8"},
				{Event: "finished", DBInstanceId: "rm-c", BackupJobId: "8", BackupId: "9"},
			},
			verdict: VerdictBackedUp,
			github:  "verdict=backed-up\njob-ids=8\nbackup-set-ids=9\n"},
		{name: "rejected: refused, the other instance's job listed",
			events: []Event{
				{Event: "accepted", DBInstanceId: "rm-b", BackupJobId: "7"},
				{Event: "rejected", DBInstanceId: "rm-c", Code: "ReadDBInstanceNotSupport"},
			},
			verdict: VerdictRefused,
			github:  "verdict=refused\njob-ids=7\nbackup-set-ids=\n"},
		{name: "failed, nothing rejected: failed",
			events:  []Event{{Event: "failed", DBInstanceId: "rm-b", Code: "InternalError"}},
			verdict: VerdictRefused,
			github:  "verdict=failed\njob-ids=\nbackup-set-ids=\n"},
		{name: "the webhook refused the ask (no instance): refused",
			events:  []Event{{Event: "rejected", Code: "IdempotencyKeyReused"}},
			verdict: VerdictRefused,
			github:  "verdict=refused\njob-ids=\nbackup-set-ids=\n"},
		{name: "timeout: no-verdict with the job",
			events:  []Event{{Event: "accepted", DBInstanceId: "rm-b", BackupJobId: "7"}},
			verdict: VerdictTimeout,
			github:  "verdict=no-verdict\njob-ids=7\nbackup-set-ids=\n"},
		{name: "could not ask",
			verdict: VerdictCouldNotAsk,
			github:  "verdict=could-not-ask\njob-ids=\nbackup-set-ids=\n",
			dotenv:  "RDSBACKUP_VERDICT=could-not-ask\nRDSBACKUP_JOB_IDS=\nRDSBACKUP_BACKUP_SET_IDS=\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOutputs([]string{"rm-b", "rm-c"})
			for _, e := range tc.events {
				o.Observe(e)
			}
			o.SetVerdict(tc.verdict)
			if got := o.Lines(GitHubOutputs); got != tc.github {
				t.Errorf("GitHub lines\n%q, want\n%q", got, tc.github)
			}
			if tc.dotenv != "" {
				if got := o.Lines(DotenvOutputs); got != tc.dotenv {
					t.Errorf("dotenv lines\n%q, want\n%q", got, tc.dotenv)
				}
			}
			if d := o.Dropped(); len(d) != 0 {
				t.Errorf("dropped %q", d)
			}
		})
	}
}

// Ids the webhook answered are written only when they are ids by their
// grammar: a hostile answer cannot add a line (another output) or change
// one.
func TestOutputsRefuseHostileIDs(t *testing.T) {
	hostile := []string{"7\nverdict=backed-up", "7\r\nx=y", "7 8", "7=8", "-1", "", "321\n", "s1", "${{ secrets.X }}",
		"07", "2147483648"} // the last two: not job ids (a set id may be either)
	for _, h := range hostile {
		setOK := h == "07" || h == "2147483648"
		o := NewOutputs([]string{"rm-a"})
		o.Observe(Event{Event: "accepted", DBInstanceId: "rm-a", BackupJobId: h})
		o.Observe(Event{Event: "finished", DBInstanceId: "rm-a", BackupJobId: h, BackupId: h})
		o.SetVerdict(VerdictRefused)
		for _, style := range []OutputStyle{GitHubOutputs, DotenvOutputs} {
			got := o.Lines(style)
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if len(lines) != 3 || strings.Contains(got, "\r") {
				t.Errorf("%q: %d lines %q, want 3", h, len(lines), got)
				continue
			}
			for i, l := range lines {
				name, value, _ := strings.Cut(l, "=")
				if i == 0 && value != OutcomeRefused {
					t.Errorf("%q: %s=%q, want refused", h, name, value)
				}
				if i == 2 && setOK {
					continue
				}
				if i > 0 && value != "" {
					t.Errorf("%q: %s=%q written", h, name, value)
				}
			}
		}
		if h != "" && len(o.Dropped()) == 0 {
			t.Errorf("%q: not listed as dropped", h)
		}
	}
}

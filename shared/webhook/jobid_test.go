package webhook

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// TestStatusJobIdByGrammar is issue 19 item 5: GET
// /v1/backups/rm-demo-mysql1/4294967296 passed the path check (1-10 digits),
// reached RDS's client, which cannot send it (DescribeBackupTasks takes
// BackupJobId as an int32), and came back a 502 "try again" with an ERROR
// log line. A job id outside 1..2147483647, or not in its one spelling, is a
// 400 naming BackupJobId and the rule; the JobReader is never asked.
func TestStatusJobIdByGrammar(t *testing.T) {
	for _, job := range []string{"4294967296", "2147483648", "9999999999", "0", "-1", "007", "+7", "1e3", "0x1f", strings.Repeat("9", 30)} {
		t.Run(job, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			// What the real JobReader answers for an id it cannot send.
			hs.jobs.err = errors.New(`rdsclient: BackupJobId "` + job + `": must be a positive 32-bit number`)
			d := checkResponse(t, hs.h.Handle(context.Background(), signed("GET", "/v1/backups/rm-demo-mysql1/"+job, "", "release-bot", botSecret, nowUnix)))
			if d.Status != 400 || d.errCode() != backup.CodeParametersInvalid || d.errField() != "BackupJobId" {
				t.Fatalf("got %d %s on %q, want 400 %s on BackupJobId: %s", d.Status, d.errCode(), d.errField(), backup.CodeParametersInvalid, d.Raw)
			}
			if !strings.Contains(d.Raw, backup.JobIdRule) {
				t.Errorf("the answer does not state the rule %q: %s", backup.JobIdRule, d.Raw)
			}
			if len(hs.jobs.asked) != 0 {
				t.Errorf("a job id outside the grammar reached the JobReader: %v", hs.jobs.asked)
			}
			if logs := hs.logs.String(); strings.Contains(logs, `"level":"ERROR"`) {
				t.Errorf("a caller's bad job id logged an ERROR:\n%s", logs)
			}
		})
	}
	// The largest job id is accepted by the grammar: it is read.
	hs := newHarness(t, testRoutes, nil)
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("GET", "/v1/backups/rm-demo-mysql1/2147483647", "", "release-bot", botSecret, nowUnix)))
	if d.Status != 404 || len(hs.jobs.asked) != 1 || !strings.HasSuffix(hs.jobs.asked[0], "/rm-demo-mysql1/2147483647") {
		t.Fatalf("2147483647: %d %s, JobReader asked %v; want 404 after one read", d.Status, d.Raw, hs.jobs.asked)
	}
}

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// report runs `rdsbackup report args...` against the stack as the local
// signed caller and returns its exit code, stdout and stderr.
func (s *stack) report(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.CommandContext(s.ctx, rdsbackup(t), append([]string{"report"}, args...)...)
	cmd.Env = append(os.Environ(), "RDSBACKUP_URL="+s.WebhookURL, "RDSBACKUP_CALLER="+localcloud.SignedCaller,
		"RDSBACKUP_SECRET="+localcloud.SignedSecret)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// Issue 20 ("Operate"): rdsbackup report through the built functions and
// the built client. rm-demo-pg1's last backup ended 30 h ago; the gate
// gives rm-demo-mysql1 a fresh one and is refused on the read-only
// rm-demo-replica. The report lists mysql1's backup and the replica's
// refusal with its code; --stale 26h exits 1 naming pg1 (and the replica,
// which was never backed up); for mysql1 alone it exits 0.
func TestReportStale(t *testing.T) {
	t.Parallel()
	s := startStack(t, withoutSetLag(demoFleet(t, 2*time.Second)), localcloud.Options{})
	old := time.Now().Add(-30 * time.Hour).UTC().Truncate(time.Second)
	s.Cloud.RDS.AddBackup("rm-demo-pg1", rds.Backup{BackupId: "777", BackupMethod: "Physical", BackupStatus: "Success",
		BackupStartTime: old.Add(-20 * time.Minute), BackupEndTime: old})

	if code, out := s.gate(t, localcloud.SignedSecret, "rm-demo-mysql1"); code != 0 {
		t.Fatalf("gate rm-demo-mysql1: exit %d:\n%s", code, out)
	}
	if code, out := s.gate(t, localcloud.SignedSecret, "rm-demo-replica"); code != 1 || !strings.Contains(out, "ReadDBInstanceNotSupport") {
		t.Fatalf("gate rm-demo-replica: exit %d:\n%s", code, out)
	}

	code, out, errOut := s.report(t, "--since", "24h", "--stale", "26h", "--instances", "rm-demo-mysql1,rm-demo-replica,rm-demo-pg1")
	if code != 1 {
		t.Fatalf("report --stale 26h: exit %d, want 1:\n%s%s", code, out, errOut)
	}
	t.Logf("rdsbackup report:\n%s%s", out, errOut)
	lines := strings.Split(out, "\n")
	has := func(prefix, part string) bool {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) && strings.Contains(l, part) {
				return true
			}
		}
		return false
	}
	fresh := false
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "rm-demo-mysql1: last Finished "); ok && strings.Contains(rest, " Physical, backup set ") {
			end, err := time.Parse(time.RFC3339, strings.Fields(rest)[0])
			fresh = err == nil && time.Since(end) < 5*time.Minute
		}
	}
	if !fresh {
		t.Errorf("mysql1's fresh backup is not listed:\n%s", out)
	}
	if !has("  ", "rejected ReadDBInstanceNotSupport") {
		t.Errorf("the replica's refusal is not listed with its code:\n%s", out)
	}
	if !has("rm-demo-pg1: last Finished "+old.Format(time.RFC3339), "backup set 777") || !has("rm-demo-replica: ", "no Finished backup") {
		t.Errorf("pg1's old backup, the replica's none:\n%s", out)
	}
	if !strings.Contains(errOut, "stale: no Finished backup within 26h0m0s: rm-demo-replica, rm-demo-pg1") {
		t.Errorf("stderr does not name the stale instances: %s", errOut)
	}
	// The refusal is the replica's, listed under it, not under mysql1.
	if i, j := strings.Index(out, "rm-demo-replica: "), strings.Index(out, "rejected ReadDBInstanceNotSupport"); i < 0 || j < i {
		t.Errorf("the refusal is not under rm-demo-replica:\n%s", out)
	}

	code, out, errOut = s.report(t, "--since", "24h", "--stale", "26h", "--instances", "rm-demo-mysql1")
	if code != 0 || strings.Contains(errOut, "stale") {
		t.Fatalf("report of mysql1 alone: exit %d, want 0:\n%s%s", code, out, errOut)
	}
	// The route allows patterns: the instances must be named (exit 3,
	// with the webhook's words).
	code, out, errOut = s.report(t)
	if code != 3 || !strings.Contains(errOut, "name the instances") {
		t.Fatalf("report without instances: exit %d, want 3:\n%s%s", code, out, errOut)
	}
}

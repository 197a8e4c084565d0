package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// TestSignedReplayWithAFutureTimestampIsOneAsk is issue 19 item 2 on the
// built functions: a request signed with X-Timestamp = now+120 s and
// neither Idempotency-Key nor AskedAt used to be dated at its timestamp,
// fresh (straight to CreateBackup) until then, so re-sending the same
// bytes after its backup ended made another backup each time. Its askedAt
// is now its arrival, and the replay is the same ask: it finds the first
// backup (coalesced) and makes none.
//
// The fleet runs without RDS's set lag (withoutSetLag): within the lag a
// repeat finds neither the finished task nor its set, which the ask ledger
// (issue 18) fixes for every repeat, not only this one.
func TestSignedReplayWithAFutureTimestampIsOneAsk(t *testing.T) {
	t.Parallel()
	const id = "rm-demo-pg1"
	s := startStack(t, withoutSetLag(demoFleet(t, 3*time.Second)), localcloud.Options{Env: []string{"BACKUP_TRACK_JOBS=false"}})

	body := `{"DBInstanceId":"` + id + `","BackupMethod":"Physical"}`
	sent := time.Now()
	ts := sent.Unix() + 120
	h := map[string]string{
		"Content-Type":    "application/json",
		"X-Caller":        localcloud.SignedCaller,
		"X-Timestamp":     strconv.FormatInt(ts, 10),
		"X-Signature-256": webhook.SignV1(localcloud.SignedSecret, ts, "POST", "/v1/backups", nil, []byte(body)),
	}
	type entry struct {
		Status, BackupJobId, IdempotencyKey string
		AskedAt                             time.Time
	}
	send := func(what string) entry {
		t.Helper()
		status, b := s.post("/v1/backups", h, []byte(body))
		var ans struct{ Requests []entry }
		if err := json.Unmarshal(b, &ans); err != nil || status != http.StatusAccepted || len(ans.Requests) != 1 {
			t.Fatalf("%s: HTTP %d %s (%v)", what, status, b, err)
		}
		return ans.Requests[0]
	}

	first := send("first")
	if first.Status != "accepted" || first.BackupJobId == "" {
		t.Fatalf("first: %+v, want accepted with a job", first)
	}
	if arrived := time.Now(); first.AskedAt.After(arrived) || first.AskedAt.Before(sent.Truncate(time.Second)) {
		t.Fatalf("askedAt %s, want the arrival (between %s and %s), not the timestamp %s",
			first.AskedAt, sent, arrived, time.Unix(ts, 0).UTC())
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if jobs := s.Cloud.RDS.Jobs(id); len(jobs) == 1 && jobs[0].Terminal() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first job did not end: %+v", s.Cloud.RDS.Jobs(id))
		}
	}

	replay := send("the same bytes after the job ended")
	if replay.Status != "coalesced" || replay.IdempotencyKey != first.IdempotencyKey || !replay.AskedAt.Equal(first.AskedAt) {
		t.Errorf("replay: %+v, want coalesced, the first's key %s and askedAt %s", replay, first.IdempotencyKey, first.AskedAt)
	}
	wantCreated(t, s, map[string]int{id: 1})
}

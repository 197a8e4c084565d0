package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
)

// TestCrashAfterCreateBackupRedeliversToANewInstance: the local cloud
// SIGKILLs the queue function right after RDS made the job of its first
// CreateBackup (a crash in the fleet file). The platform behaves as FC
// does: the asynchronous invocation of the batch fails with the
// process-exit error, FC's async retry invokes the same event again, a new
// instance takes it, and RDS itself refuses a second job while the first
// runs. What the product then publishes is
// its own business (issue 11); this test holds the platform's side.
func TestCrashAfterCreateBackupRedeliversToANewInstance(t *testing.T) {
	fleet := demoFleet(t, 10*time.Minute) // the job outlives the test
	fleet.Crashes = []localcloud.Crash{{Action: "CreateBackup", DBInstanceId: "rm-demo-pg1", Function: "queue", When: "after"}}
	s := startStack(t, fleet, localcloud.Options{})
	if err := s.SendMessage(`{"DBInstanceId":"rm-demo-pg1"}`); err != nil {
		t.Fatal(err)
	}

	// Wait until a push of the batch succeeded (a later attempt).
	deadline := time.Now().Add(60 * time.Second)
	var batch fc.MNSBatch
	for {
		if b := s.Trigger.Batches(); len(b) > 0 && b[0].Delivered {
			batch = b[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batch was not delivered; batches %+v", s.Trigger.Batches())
		}
		time.Sleep(50 * time.Millisecond)
	}

	crashes := s.Cloud.Faults().Crashes
	if len(crashes) != 1 || !crashes[0].Fired || crashes[0].Killed != 1 {
		t.Fatalf("crashes %+v", crashes)
	}
	if len(batch.Attempts) < 2 {
		t.Fatalf("batch attempts %+v, want the killed push and a retry", batch.Attempts)
	}
	first := batch.Attempts[0]
	if first.Error == nil || !strings.Contains(first.Error.ErrorMessage, "Process exited unexpectedly") || first.ErrorHeader != fc.UnhandledInvocationError {
		t.Fatalf("first push: %+v (error %+v)", first, first.Error)
	}
	log := s.Queue.Invocations()
	if len(log) < 2 || log[0].Instance == log[len(log)-1].Instance || string(log[0].Payload) != string(log[len(log)-1].Payload) {
		t.Fatalf("queue invocations: the batch must be pushed again, unchanged, to a new instance: %+v", log)
	}
	if !batch.Async || log[len(log)-1].RetryCount != len(batch.Attempts)-1 || log[len(log)-1].RequestID != log[0].RequestID {
		t.Fatalf("the retry must be FC's async retry (x-fc-retry-count %d, one request id): %+v", len(batch.Attempts)-1, log)
	}
	if n := s.Cloud.RDS.CreatedBackups()["rm-demo-pg1"]; n != 1 {
		t.Errorf("backups created %d, want 1: RDS refuses a second job while the first runs", n)
	}
}

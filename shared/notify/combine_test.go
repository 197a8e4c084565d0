package notify

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
)

// Outcomes published at the same time share BatchSendMessage calls, and
// each still arrives exactly once: 48 asks' outcomes from 48 goroutines
// make fewer MNS calls than events; the first batch call fails (500) and
// is retried by each of its events as its own failure.
func TestConcurrentOutcomesShareBatchSends(t *testing.T) {
	srv, c := stack(t)
	srv.InjectFault(mns.Fault{Op: "BatchSendMessage", Queue: notifyQueue, Status: 500, Code: "InternalError", Times: 1})
	p := fastPublisher(t, c, Config{})
	const n = 48
	base := fixtures()[backup.StatusAccepted]
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := base
			o.Request.DBInstanceId = fmt.Sprintf("rm-each%02d", i)
			o.Request.IdempotencyKey = fmt.Sprintf("k-%02d", i)
			o.BackupJobId = fmt.Sprint(1000 + i)
			errs[i] = p.Publish(context.Background(), o)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("outcome %d: %v", i, err)
		}
	}
	got := receive(t, srv, notifyQueue)
	seen := map[string]int{}
	for _, ev := range got {
		seen[ev.Data.Request.DBInstanceId]++
	}
	for i := range n {
		if id := fmt.Sprintf("rm-each%02d", i); seen[id] != 1 {
			t.Errorf("%s's outcome arrived %d times, want once", id, seen[id])
		}
	}
	if len(got) != n {
		t.Errorf("%d events in the queue, want %d", len(got), n)
	}
	sends, batches, failed := 0, 0, 0
	for _, call := range srv.Calls() {
		switch call.Op {
		case "SendMessage":
			sends++
		case "BatchSendMessage":
			batches++
			if call.Status != 200 && call.Status != 201 {
				failed++
			}
		}
	}
	if batches == 0 || sends+batches >= n {
		t.Fatalf("%d SendMessage + %d BatchSendMessage for %d events: not combined", sends, batches, n)
	}
	if failed != 1 {
		t.Fatalf("%d failed BatchSendMessage, want the one injected", failed)
	}
}

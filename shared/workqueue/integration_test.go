package workqueue_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

func sender(t *testing.T) (*mns.Server, *workqueue.MNSSender) {
	t.Helper()
	srv := mns.NewServer()
	t.Cleanup(srv.Close)
	if err := srv.CreateQueue("work", mns.QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	cred := srv.Credential()
	c, err := mnsq.New(mnsq.Config{Endpoint: srv.Endpoint(), AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	return srv, workqueue.NewMNSSender(c, "work", sealer)
}

var started = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

var sealer, _ = workqueue.NewSealer([]byte("integration-test-envelope-key-0123456789"))

func TestSendThroughMNS(t *testing.T) {
	srv, s := sender(t)
	tests := []struct {
		name      string
		m         workqueue.Message
		delay     time.Duration
		wantDelay int
	}{
		{"track in 30s", workqueue.Track(backup.Request{DBInstanceId: "rm-1"}, "J1", started), 30 * time.Second, 30},
		{"resume in 90 days is capped at 7", workqueue.Backup(backup.Request{DBInstanceId: "rm-2"}, nil, started), 90 * 24 * time.Hour, 604800},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Send(context.Background(), tt.m, tt.delay); err != nil {
				t.Fatal(err)
			}
			rec := srv.Messages("work")[i]
			if rec.DelaySeconds != tt.wantDelay {
				t.Fatalf("delay %d s, want %d", rec.DelaySeconds, tt.wantDelay)
			}
			got, err := workqueue.Decode([]byte(rec.Body))
			if err != nil || got.Kind != tt.m.Kind || got.Request.DBInstanceId != tt.m.Request.DBInstanceId {
				t.Fatalf("decoded %+v, %v", got, err)
			}
		})
	}
}

// TestSendBatch40: 40 messages go out in 3 BatchSendMessage calls.
func TestSendBatch40(t *testing.T) {
	srv, s := sender(t)
	reqs := make([]backup.Request, 40)
	ms := make([]workqueue.Message, 40)
	for i := range ms {
		reqs[i] = backup.Request{DBInstanceId: fmt.Sprintf("rm-%02d", i)}
		ms[i] = workqueue.Backup(reqs[i], nil, started)
		ms[i].Delay = time.Duration(i) * time.Second
	}
	if err := s.SendBatch(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	if n := srv.Counts()["BatchSendMessage work"]; n != 3 {
		t.Fatalf("%d BatchSendMessage calls, want 3", n)
	}
	recs := srv.Messages("work")
	if len(recs) != 40 {
		t.Fatalf("%d messages", len(recs))
	}
	for i, r := range recs {
		m, err := workqueue.Decode([]byte(r.Body))
		if err != nil || m.Request.DBInstanceId != reqs[i].DBInstanceId || r.DelaySeconds != i {
			t.Fatalf("message %d: %+v %v", i, r, err)
		}
	}
	// A failing first chunk is reported by index; the second still goes.
	srv.InjectFault(mns.Fault{Op: "BatchSendMessage", Queue: "work", Status: 500, Code: "InternalError"})
	err := s.SendBatch(context.Background(), ms[:20])
	var be *mnsq.BatchError
	if !errors.As(err, &be) || fmt.Sprint(be.Failed()) != "[0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15]" || !mnsq.IsRetryable(err) {
		t.Fatalf("SendBatch = %v", err)
	}
	if n := len(srv.Messages("work")); n != 44 {
		t.Fatalf("%d messages, want 40 + the 4 of the second chunk", n)
	}
}

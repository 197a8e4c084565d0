package workqueue_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

func sender(t *testing.T, opts ...mns.Option) (*mns.Server, *workqueue.MNSSender) {
	t.Helper()
	srv, c := server(t, opts...)
	return srv, workqueue.NewMNSSender(c, "work", sealer)
}

// server starts an emulator with the queue "work" (default attributes, so
// the default retention) and returns a product client for it.
func server(t *testing.T, opts ...mns.Option) (*mns.Server, *mnsq.Client) {
	t.Helper()
	srv := mns.NewServer(opts...)
	t.Cleanup(srv.Close)
	if err := srv.CreateQueue("work", mns.QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	cred := srv.Credential()
	c, err := mnsq.New(mnsq.Config{Endpoint: srv.Endpoint(), AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
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
		{"track in 30s", workqueue.Track(backup.Request{DBInstanceId: "rm-1"}, "1001", started), 30 * time.Second, 30},
		{"resume in 90 days is capped at 3", workqueue.Backup(backup.Request{DBInstanceId: "rm-2"}, nil, started), 90 * 24 * time.Hour, 259200},
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

// fakeClock is the emulator's clock, moved by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// receiveOne receives one message from "work" with the official SDK, no
// long poll; ok is false when the queue has none (MessageNotExist).
func receiveOne(t *testing.T, srv *mns.Server) (body string, ok bool) {
	t.Helper()
	cred := srv.Credential()
	q := ali_mns.NewMNSQueue("work", ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: srv.Endpoint(), AccessKeyId: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, TimeoutSecond: 5,
	}))
	respCh, errCh := make(chan ali_mns.MessageReceiveResponse, 1), make(chan error, 1)
	q.ReceiveMessage(respCh, errCh)
	select {
	case m := <-respCh:
		return m.MessageBody, true
	case err := <-errCh:
		if !ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		return "", false
	}
}

// TestDelayWithinRetention: MNS deletes a message MessageRetentionPeriod
// (4 days by default) after it was sent, delayed or not. A message the
// product delays as long as it can (a 90-day wish, capped at MaxDelay) is
// still delivered when its delay ends; one delayed by MNS's own maximum of
// 7 days, which the cap used to be, is gone before then.
func TestDelayWithinRetention(t *testing.T) {
	clock := &fakeClock{t: started}
	srv, c := server(t, mns.WithClock(clock.Now))
	s := workqueue.NewMNSSender(c, "work", sealer)
	ctx := context.Background()

	if err := s.Send(ctx, workqueue.Backup(backup.Request{DBInstanceId: "rm-capped"}, nil, started), 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, "work", "delayed 7 days", mnsq.MaxDelay); err != nil {
		t.Fatal(err)
	}
	clock.Advance(workqueue.MaxDelay - time.Second)
	if body, ok := receiveOne(t, srv); ok {
		t.Fatalf("received %q before the delay ended", body)
	}
	clock.Advance(time.Second)
	body, ok := receiveOne(t, srv)
	if !ok {
		t.Fatal("the message delayed to the cap was not delivered")
	}
	if m, err := workqueue.Decode([]byte(body)); err != nil || m.Request.DBInstanceId != "rm-capped" {
		t.Fatalf("received %q: %v", body, err)
	}

	clock.Advance(mnsq.MaxDelay - workqueue.MaxDelay)
	if body, ok := receiveOne(t, srv); ok {
		t.Fatalf("received %q after 7 days: the retention should have deleted it", body)
	}
	recs := srv.Messages("work")
	if len(recs) != 2 || recs[1].State != mns.StateExpired || recs[1].DequeueCount != 0 {
		t.Fatalf("records = %+v", recs)
	}
	if got := recs[1].DeleteTime.Sub(recs[1].EnqueueTime); got != mnsq.DefaultRetention {
		t.Fatalf("expired %s after the send, want %s", got, mnsq.DefaultRetention)
	}
}

package notify

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

const notifyQueue = "rds-backup-notify"

// stack is the emulator with a notify queue and a work queue, and an mnsq
// client for it.
func stack(t *testing.T) (*mns.Server, *mnsq.Client) {
	t.Helper()
	srv := mns.NewServer()
	t.Cleanup(srv.Close)
	for _, q := range []string{notifyQueue, "rds-backup-work"} {
		if err := srv.CreateQueue(q, mns.QueueAttributes{}); err != nil {
			t.Fatal(err)
		}
	}
	cred := srv.Credential()
	c, err := mnsq.New(mnsq.Config{Endpoint: srv.Endpoint(), AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// fastPublisher uses the real clock and sleep with a millisecond backoff.
func fastPublisher(t *testing.T, c *mnsq.Client, cfg Config) *Publisher {
	t.Helper()
	if cfg.Queue == "" && cfg.Topic == "" {
		cfg.Queue = notifyQueue
	}
	cfg.Function = "queue"
	cfg.Backoff = retry.Backoff{Base: 5 * time.Millisecond, Max: 20 * time.Millisecond, Jitter: retry.FullJitter}
	cfg.Logger = quiet
	p, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// receive reads every message of a queue with the official SDK and parses
// each as an outcome event.
func receive(t *testing.T, srv *mns.Server, queue string) []Event {
	t.Helper()
	cred := srv.Credential()
	client := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: srv.Endpoint(), AccessKeyId: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, TimeoutSecond: 5,
	})
	q := ali_mns.NewMNSQueue(queue, client)
	var out []Event
	for {
		respCh, errCh := make(chan ali_mns.BatchMessageReceiveResponse, 1), make(chan error, 1)
		q.BatchReceiveMessage(respCh, errCh, 16)
		select {
		case resp := <-respCh:
			for _, m := range resp.Messages {
				ev, err := ParseEvent([]byte(m.MessageBody))
				if err != nil {
					t.Fatalf("message %s: %v\n%s", m.MessageId, err, m.MessageBody)
				}
				out = append(out, ev)
			}
		case err := <-errCh:
			if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
				return out
			}
			t.Fatalf("receive: %v", err)
		}
	}
}

// TestPublishEachTypeToQueue publishes the six fixtures and reads them back
// with the SDK: each arrives once, equal to BuildEvent's event.
func TestPublishEachTypeToQueue(t *testing.T) {
	srv, c := stack(t)
	p := fastPublisher(t, c, Config{})
	fx := fixtures()
	want := map[string]Event{}
	for _, st := range backup.Statuses {
		if err := p.Publish(context.Background(), fx[st]); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		ev := BuildEvent("queue", fx[st])
		want[ev.Type] = ev // terminal coalesced and completed of one ask share an id
	}
	got := receive(t, srv, notifyQueue)
	if len(got) != len(backup.Statuses) {
		t.Fatalf("received %d events, want %d", len(got), len(backup.Statuses))
	}
	for _, ev := range got {
		if !reflect.DeepEqual(ev, want[ev.Type]) {
			t.Errorf("received\n%+v\nwant\n%+v", ev, want[ev.Type])
		}
	}
}

func TestPublishToTopic(t *testing.T) {
	srv, c := stack(t)
	if err := srv.Subscribe("rds-backup-outcomes", "to-notify-queue", notifyQueue, "SIMPLIFIED"); err != nil {
		t.Fatal(err)
	}
	p := fastPublisher(t, c, Config{Topic: "rds-backup-outcomes"})
	o := fixtures()[backup.StatusCompleted]
	if err := p.Publish(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	got := receive(t, srv, notifyQueue)
	if len(got) != 1 || got[0].ID != EventID(o) || got[0].Type != "rds.backup.completed" {
		t.Fatalf("received %+v", got)
	}
	if n := srv.Counts()["PublishMessage rds-backup-outcomes"]; n != 1 {
		t.Fatalf("%d PublishMessage calls", n)
	}
}

// TestFirstSendsFail: the notify queue fails its first 3 sends; the event
// still arrives exactly once, with the id it would have had at the first
// attempt.
func TestFirstSendsFail(t *testing.T) {
	srv, c := stack(t)
	srv.InjectFault(mns.Fault{Op: "SendMessage", Queue: notifyQueue, Status: 500, Code: "InternalError", Times: 3})
	p := fastPublisher(t, c, Config{})
	o := fixtures()[backup.StatusFailed]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Publish(ctx, o); err != nil {
		t.Fatal(err)
	}
	if n := srv.Counts()["SendMessage "+notifyQueue]; n != 4 {
		t.Fatalf("%d SendMessage calls, want 4", n)
	}
	got := receive(t, srv, notifyQueue)
	if len(got) != 1 || got[0].ID != BuildEvent("other-function", o).ID {
		t.Fatalf("received %+v, want one event with id %s", got, EventID(o))
	}
}

// TestFailureBeyondDeadline: the queue keeps failing; Publish gives up
// before ctx's deadline (keeping Reserve) and returns the error, with the
// event ready to park.
func TestFailureBeyondDeadline(t *testing.T) {
	srv, c := stack(t)
	srv.InjectFault(mns.Fault{Op: "SendMessage", Queue: notifyQueue, Status: 503, Code: "ServiceUnavailable", Times: -1})
	p := fastPublisher(t, c, Config{MaxAttempts: 1000, Reserve: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Publish(ctx, fixtures()[backup.StatusRejected])
	elapsed := time.Since(start)
	var pe *PublishError
	if !errors.As(err, &pe) || mnsq.Code(err) != "ServiceUnavailable" {
		t.Fatalf("Publish = %v", err)
	}
	if elapsed > 600*time.Millisecond || ctx.Err() != nil {
		t.Fatalf("Publish returned after %s (ctx %v); it must leave the reserve", elapsed, ctx.Err())
	}
	if pe.Attempts < 2 || pe.Attempts != srv.Counts()["SendMessage "+notifyQueue] {
		t.Fatalf("%d attempts, server saw %d", pe.Attempts, srv.Counts()["SendMessage "+notifyQueue])
	}
	if len(receive(t, srv, notifyQueue)) != 0 {
		t.Fatal("an event arrived")
	}
}

// TestParkThenPublish: a publish that fails is parked in the work queue
// and published later from there; the consumer sees the original id.
func TestParkThenPublish(t *testing.T) {
	srv, c := stack(t)
	srv.InjectFault(mns.Fault{Op: "SendMessage", Queue: notifyQueue, Status: 403, Code: "AccessDenied"})
	p := fastPublisher(t, c, Config{})
	o := fixtures()[backup.StatusAccepted]
	err := p.Publish(context.Background(), o)
	var pe *PublishError
	if !errors.As(err, &pe) || pe.Attempts != 1 {
		t.Fatalf("Publish = %v", err)
	}
	sealer, err := workqueue.NewSealer([]byte("notify-test-envelope-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	work := workqueue.NewMNSSender(c, "rds-backup-work", sealer)
	if err := work.Send(context.Background(), pe.Park(), time.Second); err != nil {
		t.Fatal(err)
	}
	parked := srv.Messages("rds-backup-work")
	if len(parked) != 1 || parked[0].DelaySeconds != 1 {
		t.Fatalf("parked %+v", parked)
	}
	m, err := sealer.Open([]byte(parked[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PublishParked(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages(notifyQueue)
	if len(got) != 1 || got[0].Body != string(pe.Body) {
		t.Fatalf("published %+v", got)
	}
	if ev := receive(t, srv, notifyQueue); len(ev) != 1 || ev[0].ID != EventID(o) {
		t.Fatalf("received %+v", ev)
	}
}

// TestOversizedOutcomeDelivered: an outcome far over 64 KiB is trimmed and
// delivered, not refused.
func TestOversizedOutcomeDelivered(t *testing.T) {
	srv, c := stack(t)
	p := fastPublisher(t, c, Config{})
	o := bigOutcome(400, 300) // ~250 KiB of attempts
	if err := p.Publish(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	rec := srv.Messages(notifyQueue)
	if len(rec) != 1 || len(rec[0].Body) > mnsq.MaxMessageBytes {
		t.Fatalf("%d messages", len(rec))
	}
	got := receive(t, srv, notifyQueue)
	if len(got) != 1 || len(got[0].Data.Attempts) != 2 || !strings.Contains(got[0].Data.Note, "of 400 (398 dropped)") || got[0].ID != EventID(o) {
		t.Fatalf("received %d events; attempts %d; note %q", len(got), len(got[0].Data.Attempts), got[0].Data.Note)
	}
}

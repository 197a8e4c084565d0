package mnsq_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
)

func newServer(t *testing.T, queues ...string) (*mns.Server, *mnsq.Client) {
	t.Helper()
	srv := mns.NewServer()
	t.Cleanup(srv.Close)
	for _, q := range queues {
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

// receiveAll drains a queue with the official SDK.
func receiveAll(t *testing.T, srv *mns.Server, queue string) []ali_mns.MessageReceiveResponse {
	t.Helper()
	cred := srv.Credential()
	client := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: srv.Endpoint(), AccessKeyId: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, TimeoutSecond: 5,
	})
	q := ali_mns.NewMNSQueue(queue, client)
	var out []ali_mns.MessageReceiveResponse
	for {
		respCh, errCh := make(chan ali_mns.BatchMessageReceiveResponse, 1), make(chan error, 1)
		q.BatchReceiveMessage(respCh, errCh, 16)
		select {
		case resp := <-respCh:
			out = append(out, resp.Messages...)
		case err := <-errCh:
			if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
				return out
			}
			t.Fatalf("receive: %v", err)
		}
	}
}

func TestSendAndReceive(t *testing.T) {
	srv, c := newServer(t, "q1")
	body := `{"a":"<&>\"é"}`
	id, err := c.Send(context.Background(), "q1", body, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := receiveAll(t, srv, "q1")
	if len(got) != 1 || got[0].MessageBody != body || got[0].MessageId != id {
		t.Fatalf("received %+v, want body %s id %s", got, body, id)
	}
	if p := srv.Messages("q1")[0].Priority; p != mnsq.DefaultPriority {
		t.Fatalf("priority %d", p)
	}
}

func TestSendWithDelayAndSTS(t *testing.T) {
	st := auth.NewStore(nil)
	sts := st.IssueSTS(time.Hour)
	srv := mns.NewServer(mns.WithCredentials(st))
	defer srv.Close()
	if err := srv.CreateQueue("work", mns.QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	c, err := mnsq.New(mnsq.Config{Endpoint: srv.Endpoint(), AccessKeyID: sts.AccessKeyID, AccessKeySecret: sts.AccessKeySecret, SecurityToken: sts.SecurityToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), "work", "later", 90*time.Second+time.Millisecond); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages("work")
	if len(m) != 1 || m[0].DelaySeconds != 91 || m[0].State != mns.StateDelayed {
		t.Fatalf("message %+v, want delayed 91 s", m)
	}
	// Without the token the key is refused, and the code says so.
	c2, _ := mnsq.New(mnsq.Config{Endpoint: srv.Endpoint(), AccessKeyID: sts.AccessKeyID, AccessKeySecret: sts.AccessKeySecret})
	_, err = c2.Send(context.Background(), "work", "x", 0)
	if err == nil || mnsq.IsRetryable(err) {
		t.Fatalf("Send without token = %v", err)
	}
}

// TestConcurrentUse sends from many goroutines through one client (run
// with -race: the SDK's per-queue QPS monitor is not safe to share, so the
// client makes one queue object per call).
func TestConcurrentUse(t *testing.T) {
	srv, c := newServer(t, "q1")
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Send(context.Background(), "q1", fmt.Sprint(i), 0); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(srv.Messages("q1")); got != n {
		t.Fatalf("%d messages, want %d", got, n)
	}
}

func TestPublishToTopic(t *testing.T) {
	srv, c := newServer(t, "outcomes")
	if err := srv.Subscribe("notify", "to-queue", "outcomes", "SIMPLIFIED"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(context.Background(), "notify", `{"id":"x"}`); err != nil {
		t.Fatal(err)
	}
	got := receiveAll(t, srv, "outcomes")
	if len(got) != 1 || got[0].MessageBody != `{"id":"x"}` {
		t.Fatalf("received %+v", got)
	}
	_, err := c.Publish(context.Background(), "missing-topic", "x")
	if mnsq.Code(err) != "TopicNotExist" || mnsq.IsRetryable(err) {
		t.Fatalf("Publish(missing) = %v (%q)", err, mnsq.Code(err))
	}
}

func TestSendBatchChunks(t *testing.T) {
	srv, c := newServer(t, "work")
	msgs := make([]mnsq.OutMessage, 40)
	for i := range msgs {
		msgs[i] = mnsq.OutMessage{Body: fmt.Sprintf("m%02d", i), Delay: time.Duration(i%3) * time.Second}
	}
	if err := c.SendBatch(context.Background(), "work", msgs); err != nil {
		t.Fatal(err)
	}
	if n := srv.Counts()["BatchSendMessage work"]; n != 3 {
		t.Fatalf("%d BatchSendMessage calls, want 3 (16+16+8)", n)
	}
	got := srv.Messages("work")
	if len(got) != 40 {
		t.Fatalf("%d messages", len(got))
	}
	for i, m := range got {
		if m.Body != msgs[i].Body || m.DelaySeconds != i%3 {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
}

// TestSendBatchSplitsBySize: 16 messages of 10 KiB are 160 KiB, which one
// BatchSendMessage may not carry (64 KB in all); SendBatch cuts them into
// requests of at most 64 KiB and every message arrives, in order. The
// emulator refuses a larger request with InvalidArgument, so a count-only
// split would fail here.
func TestSendBatchSplitsBySize(t *testing.T) {
	srv, c := newServer(t, "work")
	const size = 10 * 1024
	msgs := make([]mnsq.OutMessage, 16)
	for i := range msgs {
		msgs[i] = mnsq.OutMessage{Body: fmt.Sprintf("%02d", i) + strings.Repeat("x", size-2)}
	}
	// A message of the largest size goes alone, and the next ones after it.
	msgs = append(msgs, mnsq.OutMessage{Body: strings.Repeat("y", mnsq.MaxMessageBytes)}, mnsq.OutMessage{Body: "tail"})
	if err := c.SendBatch(context.Background(), "work", msgs); err != nil {
		t.Fatal(err)
	}
	// 6 × 10 KiB fit in 64 KiB: 6 + 6 + 4, then the 64 KiB one, then "tail".
	if n := srv.Counts()["BatchSendMessage work"]; n != 5 {
		t.Fatalf("%d BatchSendMessage calls, want 5", n)
	}
	for _, call := range srv.Calls() {
		if call.Op == "BatchSendMessage" && call.Status != 201 {
			t.Fatalf("call %+v", call)
		}
	}
	got := srv.Messages("work")
	if len(got) != len(msgs) {
		t.Fatalf("%d messages, want %d", len(got), len(msgs))
	}
	for i, m := range got {
		if m.Body != msgs[i].Body {
			t.Fatalf("message %d out of order", i)
		}
	}
}

func TestSendBatchReportsEntries(t *testing.T) {
	srv := mns.NewServer()
	defer srv.Close()
	if err := srv.CreateQueue("small", mns.QueueAttributes{MaximumMessageSize: 1024}); err != nil {
		t.Fatal(err)
	}
	cred := srv.Credential()
	c, _ := mnsq.New(mnsq.Config{Endpoint: srv.Endpoint(), AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	msgs := make([]mnsq.OutMessage, 20)
	for i := range msgs {
		msgs[i] = mnsq.OutMessage{Body: fmt.Sprintf("m%02d", i)}
	}
	msgs[3].Body = strings.Repeat("x", 2000)                    // over the queue's limit: refused by MNS
	msgs[17].Body = strings.Repeat("x", mnsq.MaxMessageBytes+1) // over MNS's limit: refused before sending
	msgs[18].Delay = -time.Second                               // invalid: refused before sending

	err := c.SendBatch(context.Background(), "small", msgs)
	var be *mnsq.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("SendBatch = %v, want a *BatchError", err)
	}
	if got := fmt.Sprint(be.Failed()); got != "[3 17 18]" {
		t.Fatalf("failed %s: %v", got, err)
	}
	if be.Entries[1].Code != mnsq.CodeMessageTooLarge || be.Entries[2].Code != mnsq.CodeInvalidArgument || be.Entries[0].Code == "" {
		t.Fatalf("entries %+v", be.Entries)
	}
	if n := len(srv.Messages("small")); n != 17 {
		t.Fatalf("%d messages accepted, want 17", n)
	}
	// A whole chunk failing marks every entry of that chunk.
	srv.InjectFault(mns.Fault{Op: "BatchSendMessage", Queue: "small", Status: 500, Code: "InternalError"})
	err = c.SendBatch(context.Background(), "small", msgs[:2])
	if !errors.As(err, &be) || len(be.Entries) != 2 || !mnsq.IsRetryable(err) || mnsq.Code(err) != "InternalError" {
		t.Fatalf("SendBatch with a failing chunk = %v", err)
	}
}

func TestServerErrors(t *testing.T) {
	srv, c := newServer(t, "q1")
	tests := []struct {
		name      string
		fault     *mns.Fault
		queue     string
		code      string
		retryable bool
	}{
		{"queue missing", nil, "nope", "QueueNotExist", false},
		{"500", &mns.Fault{Op: "SendMessage", Queue: "q1", Status: 500, Code: "InternalError"}, "q1", "InternalError", true},
		{"throttled", &mns.Fault{Op: "SendMessage", Queue: "q1", Status: 503, Code: "QpsLimitExceeded"}, "q1", "QpsLimitExceeded", true},
		{"denied", &mns.Fault{Op: "SendMessage", Queue: "q1", Status: 403, Code: "AccessDenied"}, "q1", "AccessDenied", false},
		{"unmapped code", &mns.Fault{Op: "SendMessage", Queue: "q1", Status: 503, Code: "ServiceUnavailable"}, "q1", "ServiceUnavailable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != nil {
				srv.InjectFault(*tt.fault)
			}
			_, err := c.Send(context.Background(), tt.queue, "x", 0)
			if mnsq.Code(err) != tt.code || mnsq.IsRetryable(err) != tt.retryable {
				t.Fatalf("Send = %v (code %q retryable %v)", err, mnsq.Code(err), mnsq.IsRetryable(err))
			}
			var e *mnsq.Error
			if !errors.As(err, &e) || e.RequestID == "" || e.Op != "SendMessage" || e.Resource != tt.queue {
				t.Fatalf("error %#v", e)
			}
		})
	}
}

func TestContextDeadline(t *testing.T) {
	srv, c := newServer(t, "q1")
	srv.InjectFault(mns.Fault{Op: "SendMessage", Queue: "q1", Status: 201, Latency: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Send(ctx, "q1", "slow", 0)
	if mnsq.Code(err) != mnsq.CodeDeadlineExceeded || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Send returned after %s, ctx allowed 100ms", d)
	}
}

// TestBadEndpointAgainstServer: the emulator's endpoint without its "/."
// makes the SDK panic; New says why instead.
func TestBadEndpointAgainstServer(t *testing.T) {
	srv, _ := newServer(t)
	cred := srv.Credential()
	ep := strings.TrimSuffix(srv.Endpoint(), "/.")
	c, err := mnsq.New(mnsq.Config{Endpoint: ep, AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	if err == nil || c != nil || !strings.Contains(err.Error(), "http://127.0.0.1:PORT/.") {
		t.Fatalf("New(%q) = %v, %v", ep, c, err)
	}
}

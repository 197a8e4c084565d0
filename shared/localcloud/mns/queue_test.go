package mns

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

func TestQueueManagement(t *testing.T) {
	srv := newServer(t)
	mgr := ali_mns.NewMNSQueueManager(client(srv))

	wantErr(t, "CreateQueue", mgr.CreateQueue("jobs", 0, 65536, 345600, 30, 2, 2), nil)
	c := lastCall(t, srv, "CreateQueue")
	if c.Status != 201 || c.Queue != "jobs" {
		t.Fatalf("CreateQueue call = %+v, want 201 on jobs", c)
	}
	wantErr(t, "CreateQueue same attrs", mgr.CreateQueue("jobs", 0, 65536, 345600, 30, 2, 2),
		&ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST_AND_HAVE_SAME_ATTR)
	if got := lastCall(t, srv, "CreateQueue").Status; got != 204 {
		t.Fatalf("CreateQueue same attrs status = %d, want 204", got)
	}
	wantErr(t, "CreateQueue other attrs", mgr.CreateQueue("jobs", 0, 65536, 345600, 60, 2, 2),
		&ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST)
	wantErr(t, "CreateQueue bad name", mgr.CreateSimpleQueue("bad_name!"), &ali_mns.ERR_MNS_INVALID_QUEUE_NAME)
	wantErr(t, "CreateQueue too small max size", mgr.CreateQueue("small", 0, 100, 345600, 30, 0, 2),
		&ali_mns.ERR_MNS_INVALID_ARGUMENT)

	attr, err := mgr.GetQueueAttributes("jobs")
	wantErr(t, "GetQueueAttributes", err, nil)
	if attr.QueueName != "jobs" || attr.VisibilityTimeout != 30 || attr.PollingWaitSeconds != 2 ||
		attr.MaxMessageSize != 65536 || attr.MessageRetentionPeriod != 345600 || attr.CreateTime == 0 {
		t.Fatalf("attributes = %+v", attr)
	}

	// SetQueueAttributesWithOptions always sends DelaySeconds and
	// PollingWaitSeconds, so PollingWaitSeconds is reset to 0 (faithfully).
	wantErr(t, "SetQueueAttributes", mgr.SetQueueAttributesWithOptions("jobs", ali_mns.WithVisibilityTimeout(45)), nil)
	attr, _ = mgr.GetQueueAttributes("jobs")
	if attr.VisibilityTimeout != 45 || attr.PollingWaitSeconds != 0 {
		t.Fatalf("after SetQueueAttributes: %+v", attr)
	}
	wantErr(t, "SetQueueAttributes missing", mgr.SetQueueAttributesWithOptions("nope", ali_mns.WithVisibilityTimeout(45)),
		&ali_mns.ERR_MNS_QUEUE_NOT_EXIST)

	wantErr(t, "CreateQueue jobs-2", mgr.CreateSimpleQueue("jobs-2"), nil)
	wantErr(t, "CreateQueue other", mgr.CreateSimpleQueue("other"), nil)
	list, err := mgr.ListQueue("", 1, "jobs")
	wantErr(t, "ListQueue", err, nil)
	if len(list.Queues) != 1 || !strings.HasSuffix(list.Queues[0].QueueURL, "/queues/jobs") || list.NextMarker != "jobs-2" {
		t.Fatalf("ListQueue page 1 = %+v", list)
	}
	list, _ = mgr.ListQueue(list.NextMarker, 1, "jobs")
	if len(list.Queues) != 1 || !strings.HasSuffix(list.Queues[0].QueueURL, "/queues/jobs-2") || list.NextMarker != "" {
		t.Fatalf("ListQueue page 2 = %+v", list)
	}
	details, err := mgr.ListQueueDetail("", 10, "")
	wantErr(t, "ListQueueDetail", err, nil)
	if len(details.Attrs) != 3 || details.Attrs[0].QueueName != "jobs" || details.Attrs[0].VisibilityTimeout != 45 {
		t.Fatalf("ListQueueDetail = %+v", details)
	}

	wantErr(t, "DeleteQueue", mgr.DeleteQueue("jobs"), nil)
	_, err = mgr.GetQueueAttributes("jobs")
	wantErr(t, "GetQueueAttributes deleted", err, &ali_mns.ERR_MNS_QUEUE_NOT_EXIST)
	wantErr(t, "DeleteQueue again", mgr.DeleteQueue("jobs"), &ali_mns.ERR_MNS_QUEUE_NOT_EXIST)
}

func TestSendReceiveDelete(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, WithClock(clock.Now))
	q := setupQueue(t, srv, "rds-backup-notify", QueueAttributes{})

	body := `hello <"aliyun-mns-go-sdk"> & ünïcode`
	sent, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: body})
	wantErr(t, "SendMessage", err, nil)
	sum := md5.Sum([]byte(body))
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); sent.MessageBodyMD5 != want {
		t.Fatalf("MessageBodyMD5 = %q, want %q", sent.MessageBodyMD5, want)
	}
	if sent.MessageId == "" || sent.RequestId == "" || sent.Code != "201" || sent.ReceiptHandle != "" {
		t.Fatalf("send response = %+v", sent)
	}

	got, err := receive(q)
	wantErr(t, "ReceiveMessage", err, nil)
	now := clock.Now().UnixMilli()
	if got.MessageBody != body || got.MessageId != sent.MessageId || got.MessageBodyMD5 != sent.MessageBodyMD5 ||
		got.DequeueCount != 1 || got.Priority != 8 || got.EnqueueTime != now || got.FirstDequeueTime != now ||
		got.NextVisibleTime != now+30_000 || got.ReceiptHandle == "" {
		t.Fatalf("received = %+v", got)
	}
	_, err = receive(q)
	wantErr(t, "ReceiveMessage while in flight", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)

	wantErr(t, "DeleteMessage", q.DeleteMessage(got.ReceiptHandle), nil)
	wantErr(t, "DeleteMessage again", q.DeleteMessage(got.ReceiptHandle), &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	wantErr(t, "DeleteMessage garbage", q.DeleteMessage("not-a-handle"), &ali_mns.ERR_MNS_RECEIPT_HANDLE_ERROR)

	log := srv.Messages("rds-backup-notify")
	if len(log) != 1 || !log[0].Deleted || log[0].Body != body || log[0].DequeueCount != 1 || log[0].State != StateDeleted {
		t.Fatalf("Messages() = %+v", log)
	}
	if v := srv.Visible("rds-backup-notify"); len(v) != 0 {
		t.Fatalf("Visible() = %+v, want none", v)
	}

	missing := ali_mns.NewMNSQueue("missing", client(srv))
	_, err = missing.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x"})
	wantErr(t, "SendMessage to missing queue", err, &ali_mns.ERR_MNS_QUEUE_NOT_EXIST)
	if c := lastCall(t, srv, "SendMessage"); c.Status != 404 || c.Code != "QueueNotExist" {
		t.Fatalf("call = %+v", c)
	}
	_, err = receive(missing)
	wantErr(t, "ReceiveMessage from missing queue", err, &ali_mns.ERR_MNS_QUEUE_NOT_EXIST)
}

func TestSendValidation(t *testing.T) {
	srv := newServer(t)
	q := setupQueue(t, srv, "small", QueueAttributes{MaximumMessageSize: 1024})
	tests := []struct {
		name string
		msg  ali_mns.MessageSendRequest
		ok   bool
	}{
		{"max size", ali_mns.MessageSendRequest{MessageBody: strings.Repeat("a", 1024)}, true},
		{"too large", ali_mns.MessageSendRequest{MessageBody: strings.Repeat("a", 1025)}, false},
		{"empty body", ali_mns.MessageSendRequest{MessageBody: ""}, false},
		{"priority 16", ali_mns.MessageSendRequest{MessageBody: "p", Priority: 16}, true},
		{"priority 17", ali_mns.MessageSendRequest{MessageBody: "p", Priority: 17}, false},
		{"delay 7 days", ali_mns.MessageSendRequest{MessageBody: "d", DelaySeconds: 604800}, true},
		{"delay too long", ali_mns.MessageSendRequest{MessageBody: "d", DelaySeconds: 604801}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := q.SendMessage(tc.msg)
			if tc.ok {
				wantErr(t, "SendMessage", err, nil)
			} else {
				wantErr(t, "SendMessage", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)
			}
		})
	}
}

func TestPriorityOrderAndPeek(t *testing.T) {
	srv := newServer(t)
	q := setupQueue(t, srv, "prio", QueueAttributes{})
	for _, m := range []ali_mns.MessageSendRequest{
		{MessageBody: "default"}, // Priority 0 on the wire = default 8
		{MessageBody: "low", Priority: 16},
		{MessageBody: "high", Priority: 1},
	} {
		if _, err := q.SendMessage(m); err != nil {
			t.Fatal(err)
		}
	}

	p, err := peek(q)
	wantErr(t, "PeekMessage", err, nil)
	if p.MessageBody != "high" || p.ReceiptHandle != "" || p.NextVisibleTime != 0 || p.DequeueCount != 0 {
		t.Fatalf("peek = %+v", p)
	}
	bp, err := batchPeek(q, 2)
	wantErr(t, "BatchPeekMessage", err, nil)
	if len(bp.Messages) != 2 || bp.Messages[0].MessageBody != "high" || bp.Messages[1].MessageBody != "default" ||
		bp.Messages[1].Priority != 8 {
		t.Fatalf("batch peek = %+v", bp.Messages)
	}

	var order []string
	for range 3 {
		m, err := receive(q)
		wantErr(t, "ReceiveMessage", err, nil)
		order = append(order, m.MessageBody)
	}
	if strings.Join(order, ",") != "high,default,low" {
		t.Fatalf("receive order = %v", order)
	}
	_, err = peek(q)
	wantErr(t, "PeekMessage on queue with only in-flight messages", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
}

func TestBatchOperations(t *testing.T) {
	srv := newServer(t)
	q := setupQueue(t, srv, "batch", QueueAttributes{MaximumMessageSize: 1024})

	resp, err := q.BatchSendMessage(
		ali_mns.MessageSendRequest{MessageBody: "b1"},
		ali_mns.MessageSendRequest{MessageBody: "b2", Priority: 1},
		ali_mns.MessageSendRequest{MessageBody: "b3"},
	)
	wantErr(t, "BatchSendMessage", err, nil)
	if len(resp.Messages) != 3 || resp.Messages[0].MessageId == "" || resp.Messages[2].MessageBodyMD5 == "" {
		t.Fatalf("batch send = %+v", resp)
	}

	// One bad entry: the others are sent, the SDK reports a batch failure
	// with per-entry results.
	resp, err = q.BatchSendMessage(
		ali_mns.MessageSendRequest{MessageBody: "b4"},
		ali_mns.MessageSendRequest{MessageBody: strings.Repeat("x", 2000)},
	)
	wantErr(t, "BatchSendMessage partial", err, &ali_mns.ERR_MNS_BATCH_OP_FAIL)
	if len(resp.Messages) != 2 || resp.Messages[0].MessageId == "" || resp.Messages[1].ErrorCode != "InvalidArgument" {
		t.Fatalf("partial batch send = %+v", resp)
	}

	var tooMany []ali_mns.MessageSendRequest
	for range 17 {
		tooMany = append(tooMany, ali_mns.MessageSendRequest{MessageBody: "m"})
	}
	_, err = q.BatchSendMessage(tooMany...)
	wantErr(t, "BatchSendMessage 17", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)

	_, err = batchReceive(q, 17)
	wantErr(t, "BatchReceiveMessage 17", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)

	got, err := batchReceive(q, 16, 1)
	wantErr(t, "BatchReceiveMessage", err, nil)
	if len(got.Messages) != 4 || got.Messages[0].MessageBody != "b2" {
		t.Fatalf("batch receive = %+v", got.Messages)
	}
	if c := lastCall(t, srv, "BatchReceiveMessage"); c.URI != "/queues/batch/messages?numOfMessages=16&waitseconds=1" {
		t.Fatalf("BatchReceiveMessage URI = %q", c.URI)
	}

	stale := got.Messages[3].ReceiptHandle
	if _, err := q.ChangeMessageVisibility(stale, 60); err != nil {
		t.Fatal(err)
	}
	del, err := q.BatchDeleteMessage(got.Messages[0].ReceiptHandle, got.Messages[1].ReceiptHandle, got.Messages[2].ReceiptHandle, stale)
	wantErr(t, "BatchDeleteMessage partial", err, &ali_mns.ERR_MNS_BATCH_OP_FAIL)
	if len(del.FailedMessages) != 1 || del.FailedMessages[0].ErrorCode != "MessageNotExist" || del.FailedMessages[0].ReceiptHandle != stale {
		t.Fatalf("batch delete errors = %+v", del)
	}
	if c := lastCall(t, srv, "BatchDeleteMessage"); c.Status != 404 {
		t.Fatalf("BatchDeleteMessage partial status = %d, want 404", c.Status)
	}
	if v := srv.Visible("batch"); len(v) != 1 || v[0].State != StateInactive {
		t.Fatalf("Visible after batch delete = %+v", v)
	}
	_, err = q.BatchDeleteMessage(srv.Visible("batch")[0].ReceiptHandle)
	wantErr(t, "BatchDeleteMessage all ok", err, nil)
	if c := lastCall(t, srv, "BatchDeleteMessage"); c.Status != 204 {
		t.Fatalf("BatchDeleteMessage status = %d, want 204", c.Status)
	}
}

func TestLongPolling(t *testing.T) {
	t.Run("wakes on send", func(t *testing.T) {
		t.Parallel()
		waiting, polls := withWaiting()
		clock := newFakeClock() // stands still: only the send can end the poll
		srv := newServer(t, waiting, WithClock(clock.Now))
		if err := srv.CreateQueue("lp", QueueAttributes{}); err != nil {
			t.Fatal(err)
		}
		c := srv.Credential()
		q := ali_mns.NewMNSQueue("lp", ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
			EndPoint: srv.Endpoint(), AccessKeyId: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, TimeoutSecond: 35}))
		type result struct {
			m   ali_mns.MessageReceiveResponse
			err error
		}
		done := make(chan result, 1)
		go func() { m, err := receive(q, 30); done <- result{m, err} }()
		<-polls // the poll found the queue empty and waits
		sender := ali_mns.NewMNSQueue("lp", client(srv))
		if _, err := sender.SendMessage(ali_mns.MessageSendRequest{MessageBody: "late"}); err != nil {
			t.Fatal(err)
		}
		r := <-done
		wantErr(t, "ReceiveMessage", r.err, nil)
		if r.m.MessageBody != "late" || r.m.DequeueCount != 1 {
			t.Fatalf("got %+v", r.m)
		}
		if n := srv.Counts()["ReceiveMessage lp"]; n != 1 {
			t.Fatalf("ReceiveMessage attempts = %d, want 1", n)
		}
	})
	t.Run("empty queue after the wait on the clock", func(t *testing.T) {
		t.Parallel()
		waiting, polls := withWaiting()
		clock := newFakeClock()
		srv := newServer(t, waiting, WithClock(clock.Now))
		q := setupQueue(t, srv, "lp", QueueAttributes{})
		done := make(chan error, 1)
		go func() { _, err := receive(q, 1); done <- err }()
		<-polls
		clock.Advance(time.Second)
		srv.Wake()
		wantErr(t, "ReceiveMessage", <-done, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		if c := lastCall(t, srv, "ReceiveMessage"); c.Status != 404 || c.Code != "MessageNotExist" {
			t.Fatalf("call = %+v", c)
		}
		if n := srv.Counts()["ReceiveMessage lp"]; n != 1 {
			t.Fatalf("ReceiveMessage attempts = %d, want 1 (no fasthttp retry)", n)
		}
	})
	t.Run("empty queue after the wait in real time", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		q := setupQueue(t, srv, "lp", QueueAttributes{})
		_, err := receive(q, 1) // ends when its 1 s timer fires, whatever the clock says
		wantErr(t, "ReceiveMessage", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		if n := srv.Counts()["ReceiveMessage lp"]; n != 1 {
			t.Fatalf("ReceiveMessage attempts = %d, want 1 (no fasthttp retry)", n)
		}
	})
	t.Run("queue PollingWaitSeconds, ended by the clock", func(t *testing.T) {
		t.Parallel()
		waiting, polls := withWaiting()
		clock := newFakeClock()
		srv := newServer(t, waiting, WithClock(clock.Now))
		q := setupQueue(t, srv, "lp", QueueAttributes{PollingWaitSeconds: 30})
		done := make(chan error, 1)
		go func() { _, err := receive(q); done <- err }()
		<-polls // waiting: it did not return at once
		select {
		case err := <-done:
			t.Fatalf("receive returned while its clock deadline is ahead: %v", err)
		default:
		}
		clock.Advance(31 * time.Second)
		srv.Wake()
		wantErr(t, "ReceiveMessage", <-done, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	})
	t.Run("bad waitseconds", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		q := setupQueue(t, srv, "lp", QueueAttributes{})
		_, err := receive(q, 31)
		wantErr(t, "ReceiveMessage", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)
	})
	t.Run("Close answers waiting polls", func(t *testing.T) {
		t.Parallel()
		waiting, polls := withWaiting()
		srv := NewServer(waiting)
		q := setupQueue(t, srv, "lp", QueueAttributes{})
		done := make(chan error, 1)
		go func() { _, err := receive(q, 30); done <- err }() // beyond the client's 5 s timeout: only Close can answer it
		<-polls
		srv.Close()
		wantErr(t, "ReceiveMessage", <-done, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	})
}

func TestVisibilityTimeoutRedelivery(t *testing.T) {
	clock := newFakeClock()
	waiting, polls := withWaiting()
	srv := newServer(t, WithClock(clock.Now), waiting)
	q := setupQueue(t, srv, "vis", QueueAttributes{VisibilityTimeout: 30})
	mgr := ali_mns.NewMNSQueueManager(client(srv))
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "work"}); err != nil {
		t.Fatal(err)
	}
	first, err := receive(q)
	wantErr(t, "first receive", err, nil)
	firstAt := clock.Now().UnixMilli()

	attr, _ := mgr.GetQueueAttributes("vis")
	if attr.ActiveMessages != 0 || attr.InactiveMessages != 1 {
		t.Fatalf("attributes while in flight = %+v", attr)
	}

	// A long poll waiting for the message is woken when the clock passes
	// NextVisibleTime (the clock stays within the poll's own 10 s wait).
	clock.Advance(25 * time.Second)
	done := make(chan ali_mns.MessageReceiveResponse, 1)
	go func() {
		m, err := receive(q, 10)
		if err != nil {
			t.Error(err)
		}
		done <- m
	}()
	<-polls // the poll waits
	clock.Advance(4 * time.Second)
	srv.Wake()
	// At +29 s the message is still in flight: nobody can take it.
	if v := srv.Visible("vis"); len(v) != 1 || v[0].State != StateInactive || v[0].DequeueCount != 1 {
		t.Fatalf("before the visibility timeout: %+v", v)
	}
	select {
	case m := <-done:
		t.Fatalf("redelivered before the visibility timeout: %+v", m)
	default:
	}
	clock.Advance(2 * time.Second)
	srv.Wake()
	second := <-done
	if second.MessageId != first.MessageId || second.DequeueCount != 2 || second.ReceiptHandle == first.ReceiptHandle ||
		second.FirstDequeueTime != firstAt || second.NextVisibleTime != clock.Now().Add(30*time.Second).UnixMilli() {
		t.Fatalf("redelivery = %+v (first %+v)", second, first)
	}
	wantErr(t, "delete with the first handle", q.DeleteMessage(first.ReceiptHandle), &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)

	// After NextVisibleTime the current handle is stale too.
	clock.Advance(31 * time.Second)
	wantErr(t, "delete after visibility expired", q.DeleteMessage(second.ReceiptHandle), &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	if rec := srv.Visible("vis"); len(rec) != 1 || rec[0].DequeueCount != 2 || rec[0].State != StateActive {
		t.Fatalf("Visible = %+v", rec)
	}
}

func TestChangeMessageVisibility(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, WithClock(clock.Now))
	q := setupQueue(t, srv, "cmv", QueueAttributes{})
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x"}); err != nil {
		t.Fatal(err)
	}
	m, err := receive(q)
	wantErr(t, "receive", err, nil)

	cv, err := q.ChangeMessageVisibility(m.ReceiptHandle, 60)
	wantErr(t, "ChangeMessageVisibility", err, nil)
	if cv.ReceiptHandle == "" || cv.ReceiptHandle == m.ReceiptHandle || cv.NextVisibleTime != clock.Now().Add(60*time.Second).UnixMilli() {
		t.Fatalf("change visibility = %+v", cv)
	}
	_, err = q.ChangeMessageVisibility(m.ReceiptHandle, 60)
	wantErr(t, "ChangeMessageVisibility with the old handle", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	wantErr(t, "DeleteMessage with the old handle", q.DeleteMessage(m.ReceiptHandle), &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	_, err = q.ChangeMessageVisibility(cv.ReceiptHandle, 0)
	wantErr(t, "VisibilityTimeout 0", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)
	_, err = q.ChangeMessageVisibility("garbage", 10)
	wantErr(t, "malformed handle", err, &ali_mns.ERR_MNS_RECEIPT_HANDLE_ERROR)

	// The new timeout holds: not visible at +59 s, visible at +60 s.
	clock.Advance(59 * time.Second)
	_, err = receive(q)
	wantErr(t, "receive at +59s", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	clock.Advance(time.Second)
	again, err := receive(q)
	wantErr(t, "receive at +60s", err, nil)
	wantErr(t, "DeleteMessage", q.DeleteMessage(again.ReceiptHandle), nil)
}

func TestDelay(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, WithClock(clock.Now))
	mgr := ali_mns.NewMNSQueueManager(client(srv))

	t.Run("message delay", func(t *testing.T) {
		q := setupQueue(t, srv, "delay-msg", QueueAttributes{})
		sent, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "later", DelaySeconds: 10})
		wantErr(t, "SendMessage", err, nil)
		if sent.ReceiptHandle == "" {
			t.Fatalf("delayed send returned no receipt handle: %+v", sent)
		}
		attr, _ := mgr.GetQueueAttributes("delay-msg")
		if attr.DelayMessages != 1 || attr.ActiveMessages != 0 {
			t.Fatalf("attributes = %+v", attr)
		}
		_, err = receive(q)
		wantErr(t, "receive before delay", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		clock.Advance(10 * time.Second)
		m, err := receive(q)
		wantErr(t, "receive after delay", err, nil)
		if m.MessageBody != "later" || m.EnqueueTime != clock.Now().Add(-10*time.Second).UnixMilli() {
			t.Fatalf("received %+v", m)
		}
		if rec := srv.Messages("delay-msg"); rec[0].DelaySeconds != 10 {
			t.Fatalf("record = %+v", rec[0])
		}
	})
	t.Run("delete a delayed message with its send handle", func(t *testing.T) {
		q := setupQueue(t, srv, "delay-del", QueueAttributes{})
		sent, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "never", DelaySeconds: 10})
		wantErr(t, "SendMessage", err, nil)
		wantErr(t, "DeleteMessage", q.DeleteMessage(sent.ReceiptHandle), nil)
		clock.Advance(10 * time.Second)
		_, err = receive(q)
		wantErr(t, "receive", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	})
	t.Run("queue delay and message override", func(t *testing.T) {
		q := setupQueue(t, srv, "delay-queue", QueueAttributes{DelaySeconds: 5})
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "queue-delay"}); err != nil {
			t.Fatal(err)
		}
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "msg-delay", DelaySeconds: 2}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Second)
		m, err := receive(q)
		wantErr(t, "receive at +2s", err, nil)
		if m.MessageBody != "msg-delay" {
			t.Fatalf("at +2s got %q", m.MessageBody)
		}
		_, err = receive(q)
		wantErr(t, "receive at +2s again", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		clock.Advance(3 * time.Second)
		m, err = receive(q)
		wantErr(t, "receive at +5s", err, nil)
		if m.MessageBody != "queue-delay" {
			t.Fatalf("at +5s got %q", m.MessageBody)
		}
	})
	t.Run("real-time delay wakes a long poll", func(t *testing.T) {
		rt := newServer(t)
		q := setupQueue(t, rt, "delay-rt", QueueAttributes{})
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "soon", DelaySeconds: 1}); err != nil {
			t.Fatal(err)
		}
		m, err := receive(q, 3) // the delay ends within the wait, in real time
		wantErr(t, "receive", err, nil)
		if m.MessageBody != "soon" {
			t.Fatalf("got %q", m.MessageBody)
		}
	})
}

package mns

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/gogap/errors"
)

func TestFaults(t *testing.T) {
	send := func(q ali_mns.AliMNSQueue) error {
		_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "m"})
		return err
	}
	tests := []struct {
		name  string
		fault Fault
		// results of consecutive SendMessage calls on queue "target"
		want []*errors.ErrCodeTemplate
		// requests the server saw for those calls (fasthttp retries included)
		wantAttempts int
		wantStored   int
		minElapsed   time.Duration
	}{
		{
			name:         "error twice then success",
			fault:        Fault{Op: "SendMessage", Queue: "target", Status: 500, Code: "InternalError", Times: 2},
			want:         []*errors.ErrCodeTemplate{&ali_mns.ERR_MNS_INTERNAL_ERROR, &ali_mns.ERR_MNS_INTERNAL_ERROR, nil},
			wantAttempts: 3, wantStored: 1,
		},
		{
			name:         "code only takes its status",
			fault:        Fault{Queue: "target", Code: "QueueNotExist"},
			want:         []*errors.ErrCodeTemplate{&ali_mns.ERR_MNS_QUEUE_NOT_EXIST, nil},
			wantAttempts: 2, wantStored: 1,
		},
		{
			name:         "unmapped code",
			fault:        Fault{Op: "SendMessage", Status: 503, Code: "ServiceUnavailable"},
			want:         []*errors.ErrCodeTemplate{&ali_mns.ERR_MNS_UNKNOWN_CODE, nil},
			wantAttempts: 2, wantStored: 1,
		},
		{
			name:         "latency only",
			fault:        Fault{Op: "SendMessage", Status: 200, Latency: 300 * time.Millisecond},
			want:         []*errors.ErrCodeTemplate{nil},
			wantAttempts: 1, wantStored: 1, minElapsed: 300 * time.Millisecond,
		},
		{
			name:         "latency then error",
			fault:        Fault{Op: "SendMessage", Status: 500, Latency: 200 * time.Millisecond},
			want:         []*errors.ErrCodeTemplate{&ali_mns.ERR_MNS_INTERNAL_ERROR},
			wantAttempts: 1, wantStored: 0, minElapsed: 200 * time.Millisecond,
		},
		{
			// fasthttp retries a POST whose connection closed before any
			// response byte, so one drop is invisible to the caller.
			name:         "drop once is retried by fasthttp",
			fault:        Fault{Op: "SendMessage"},
			want:         []*errors.ErrCodeTemplate{nil},
			wantAttempts: 2, wantStored: 1,
		},
		{
			name:         "drop five times exhausts fasthttp",
			fault:        Fault{Op: "SendMessage", Times: 5},
			want:         []*errors.ErrCodeTemplate{&ali_mns.ERR_SEND_REQUEST_FAILED, nil},
			wantAttempts: 6, wantStored: 1,
		},
		{
			name:         "other queue unaffected",
			fault:        Fault{Queue: "elsewhere", Status: 500, Times: -1},
			want:         []*errors.ErrCodeTemplate{nil, nil},
			wantAttempts: 2, wantStored: 2,
		},
		{
			name:         "other op unaffected",
			fault:        Fault{Op: "ReceiveMessage", Status: 500},
			want:         []*errors.ErrCodeTemplate{nil},
			wantAttempts: 1, wantStored: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			q := setupQueue(t, srv, "target", QueueAttributes{})
			srv.InjectFault(tc.fault)
			start := time.Now()
			for i, want := range tc.want {
				wantErr(t, fmt.Sprintf("SendMessage #%d", i+1), send(q), want)
			}
			if el := time.Since(start); el < tc.minElapsed {
				t.Errorf("took %v, want at least %v", el, tc.minElapsed)
			}
			if got := srv.Counts()["SendMessage target"]; got != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d (calls %+v)", got, tc.wantAttempts, srv.Calls())
			}
			if got := len(srv.Messages("target")); got != tc.wantStored {
				t.Errorf("stored messages = %d, want %d", got, tc.wantStored)
			}
		})
	}
}

func TestFaultCallLog(t *testing.T) {
	srv := newServer(t)
	q := setupQueue(t, srv, "target", QueueAttributes{})
	srv.InjectFault(Fault{Op: "SendMessage", Times: 1})
	srv.InjectFault(Fault{Op: "SendMessage", Status: 500, Code: "InternalError", Times: 1})
	srv.InjectFault(Fault{Op: "DeleteMessage", Status: 500, Times: -1})

	// First attempt dropped, fasthttp's retry hits the 500 fault.
	_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "m"})
	wantErr(t, "SendMessage", err, &ali_mns.ERR_MNS_INTERNAL_ERROR)
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].Status != 0 || !calls[0].Fault || calls[1].Status != 500 || calls[1].Code != "InternalError" || !calls[1].Fault {
		t.Fatalf("calls = %+v", calls)
	}
	if calls[0].Method != "POST" || calls[0].URI != "/queues/target/messages" || calls[0].AccessKeyID != srv.Credential().AccessKeyID {
		t.Fatalf("call fields = %+v", calls[0])
	}

	snap, err := json.Marshal(srv.State())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(snap), `"Op":"DeleteMessage"`) || !strings.Contains(string(snap), `"left":-1`) {
		t.Fatalf("pending faults missing from state: %s", snap)
	}
	srv.ClearFaults()
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "m"}); err != nil {
		t.Fatal(err)
	}
}

func TestStateAndCounts(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, WithClock(clock.Now))
	q := setupQueue(t, srv, "rds-backup-notify", QueueAttributes{VisibilityTimeout: 60})
	if err := srv.Subscribe("events", "fan", "rds-backup-notify", FormatSimplified); err != nil {
		t.Fatal(err)
	}
	for _, d := range []int64{0, 0, 30} {
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "m", DelaySeconds: d}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := receive(q); err != nil {
		t.Fatal(err)
	}
	counts := srv.Counts()
	if counts["SendMessage rds-backup-notify"] != 3 || counts["ReceiveMessage rds-backup-notify"] != 1 {
		t.Fatalf("counts = %v", counts)
	}

	raw, err := json.Marshal(srv.State())
	if err != nil {
		t.Fatal(err)
	}
	var snap Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Queues) != 1 {
		t.Fatalf("state = %s", raw)
	}
	qs := snap.Queues[0]
	if qs.Name != "rds-backup-notify" || qs.Active != 1 || qs.Inactive != 1 || qs.Delayed != 1 || qs.Enqueued != 3 ||
		qs.Attributes.VisibilityTimeout != 60 || qs.Attributes.MaximumMessageSize != 65536 {
		t.Fatalf("queue state = %+v", qs)
	}
	if len(snap.Topics) != 1 || len(snap.Topics[0].Subscriptions) != 1 ||
		snap.Topics[0].Subscriptions[0].Queue != "rds-backup-notify" || snap.Topics[0].Subscriptions[0].NotifyContentFormat != FormatSimplified {
		t.Fatalf("topics = %+v", snap.Topics)
	}
	if snap.Counts["SendMessage rds-backup-notify"] != 3 {
		t.Fatalf("state counts = %v", snap.Counts)
	}
}

func TestAdminHelpers(t *testing.T) {
	srv := newServer(t)
	if err := srv.CreateQueue("a", QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateQueue("a", QueueAttributes{}); err != nil {
		t.Fatalf("same attributes again: %v", err)
	}
	var e *Error
	err := srv.CreateQueue("a", QueueAttributes{VisibilityTimeout: 99})
	if !asError(err, &e) || e.Code != "QueueAlreadyExist" || e.Status != 409 {
		t.Fatalf("different attributes: %v", err)
	}
	if err := srv.CreateQueue("bad name", QueueAttributes{}); !asError(err, &e) || e.Code != "InvalidQueueName" {
		t.Fatalf("bad name: %v", err)
	}
	if err := srv.CreateQueue("b", QueueAttributes{PollingWaitSeconds: 31}); !asError(err, &e) || e.Code != "InvalidArgument" {
		t.Fatalf("bad polling wait: %v", err)
	}
	if err := srv.Subscribe("t", "s", "a", "YAML"); !asError(err, &e) || e.Code != "InvalidArgument" {
		t.Fatalf("bad format: %v", err)
	}
	if err := srv.Subscribe("t", "s", "a", ""); err != nil {
		t.Fatal(err)
	}
	if err := srv.Subscribe("t", "s", "a", FormatJSON); !asError(err, &e) || e.Code != "SubscriptionAlreadyExist" {
		t.Fatalf("resubscribe with another format: %v", err)
	}
	if srv.Messages("nope") != nil || srv.Visible("nope") != nil {
		t.Fatal("unknown queue should have no messages")
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

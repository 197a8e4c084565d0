package mns

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
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
	if !strings.Contains(string(snap), `"action":"DeleteMessage"`) || !strings.Contains(string(snap), `"left":-1`) {
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

// TestFaultAfter: with after the operation runs and only its answer is
// lost, through the official SDK.
func TestFaultAfter(t *testing.T) {
	send := func(q ali_mns.AliMNSQueue, body string) error {
		_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: body})
		return err
	}
	t.Run("code: enqueued, the caller saw the error", func(t *testing.T) {
		srv := newServer(t)
		q := setupQueue(t, srv, "target", QueueAttributes{})
		srv.InjectFault(Fault{Op: "SendMessage", Queue: "target", Status: 500, Code: "InternalError", After: true})
		wantErr(t, "SendMessage", send(q, "m1"), &ali_mns.ERR_MNS_INTERNAL_ERROR)
		msgs := srv.Messages("target")
		if len(msgs) != 1 || msgs[0].Body != "m1" {
			t.Fatalf("messages = %+v, want m1 enqueued once", msgs)
		}
		if c := srv.Calls(); len(c) != 1 || !c[0].Fault || !c[0].Performed || c[0].Status != 500 {
			t.Fatalf("calls = %+v", c)
		}
	})
	t.Run("drop: fasthttp resends, the message is enqueued twice", func(t *testing.T) {
		srv := newServer(t)
		q := setupQueue(t, srv, "target", QueueAttributes{})
		srv.InjectFault(Fault{Op: "SendMessage", Drop: true, After: true})
		wantErr(t, "SendMessage", send(q, "m1"), nil)
		if msgs := srv.Messages("target"); len(msgs) != 2 || msgs[0].Body != "m1" || msgs[1].Body != "m1" {
			t.Fatalf("messages = %+v, want m1 twice", msgs)
		}
		if got := srv.Counts()["SendMessage target"]; got != 2 {
			t.Fatalf("attempts = %d, want 2", got)
		}
	})
	t.Run("drop every attempt: error, five copies", func(t *testing.T) {
		srv := newServer(t)
		q := setupQueue(t, srv, "target", QueueAttributes{})
		srv.InjectFault(Fault{Op: "SendMessage", Drop: true, After: true, Times: 5})
		wantErr(t, "SendMessage", send(q, "m1"), &ali_mns.ERR_SEND_REQUEST_FAILED)
		if n := len(srv.Messages("target")); n != 5 {
			t.Fatalf("%d messages, want 5 (every attempt enqueued)", n)
		}
	})
	t.Run("receive: the message is taken, the answer lost", func(t *testing.T) {
		srv := newServer(t)
		q := setupQueue(t, srv, "target", QueueAttributes{VisibilityTimeout: 60})
		wantErr(t, "SendMessage", send(q, "m1"), nil)
		srv.InjectFault(Fault{Op: "ReceiveMessage", Status: 503, Code: "ServiceUnavailable", After: true})
		_, err := receive(q, 1)
		if err == nil {
			t.Fatal("receive succeeded")
		}
		v := srv.Visible("target")
		if len(v) != 1 || v[0].State != StateInactive || v[0].DequeueCount != 1 {
			t.Fatalf("visible = %+v, want m1 inactive after one dequeue", v)
		}
	})
}

// TestFaultRate: a rate fault fires on a share of the requests, decided by
// a seeded generator: the same seed gives the same requests.
func TestFaultRate(t *testing.T) {
	pattern := func(seed uint64) string {
		srv := newServer(t, WithFaultSeed(seed))
		q := setupQueue(t, srv, "target", QueueAttributes{})
		srv.InjectFault(Fault{Op: "SendMessage", Queue: "target", Status: 500, Code: "InternalError", Rate: 0.5, Times: -1})
		out := make([]byte, 40)
		for i := range out {
			_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "m"})
			switch {
			case err == nil:
				out[i] = '.'
			case ali_mns.ERR_MNS_INTERNAL_ERROR.IsEqual(err):
				out[i] = 'x'
			default:
				t.Fatalf("send %d: %v", i, err)
			}
		}
		if n := len(srv.Messages("target")); n != strings.Count(string(out), ".") {
			t.Errorf("%d stored for %s", n, out)
		}
		return string(out)
	}
	a, b := pattern(3), pattern(3)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "x"); n == 0 || n == len(a) {
		t.Errorf("rate 0.5 fired on %d of %d requests: %s", n, len(a), a)
	}
}

func TestFaultCheck(t *testing.T) {
	cases := []struct {
		f     Fault
		field string // "" = valid
	}{
		{Fault{Op: "SendMessage", Queue: "q", Status: 500, Rate: 0.5, Times: -1}, ""},
		{Fault{Op: "SendMessage", After: true}, ""},
		{Fault{Op: "SendMessage", Drop: true, After: true}, ""},
		{Fault{Op: "SendMessage", Status: 200, Latency: time.Second}, ""},
		{Fault{Op: "SendMessages"}, "action:"},
		{Fault{Rate: 2}, "rate:"},
		{Fault{Latency: -time.Second}, "latencyMs:"},
		{Fault{Status: 700}, "status:"},
		{Fault{Drop: true, Status: 500}, "drop:"},
		{Fault{After: true, Status: 201}, "after:"},
	}
	for _, tc := range cases {
		err := tc.f.Check()
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.f, err)
		case tc.field != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.field)):
			t.Errorf("%+v: err = %v, want one naming %s", tc.f, err, tc.field)
		}
	}
}

// TestObserver: the observer sees each request that reaches its operation,
// before and after; dropping before skips the operation.
func TestObserver(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	drop := ""
	srv := newServer(t, WithObserver(func(ev CallEvent) bool {
		mu.Lock()
		defer mu.Unlock()
		key := ev.Phase + " " + ev.Op + " " + ev.Queue + " " + ev.Code
		seen = append(seen, key)
		return key == drop
	}))
	q := setupQueue(t, srv, "target", QueueAttributes{})
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "m"}); err != nil {
		t.Fatal(err)
	}
	_, err := receive(q)
	if err != nil {
		t.Fatal(err)
	}
	_, err = receive(q) // empty: MessageNotExist
	wantErr(t, "ReceiveMessage", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	mu.Lock()
	drop = "before SendMessage target "
	mu.Unlock()
	// The SDK's fasthttp resends a POST dropped before any answer byte,
	// five attempts in all: none of them runs.
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "never"}); err == nil {
		t.Fatal("dropped send succeeded")
	}
	if n := len(srv.Messages("target")); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"before SendMessage target ", "after SendMessage target ",
		"before ReceiveMessage target ", "after ReceiveMessage target ",
		"before ReceiveMessage target ", "after ReceiveMessage target MessageNotExist",
	}
	for range 5 {
		want = append(want, "before SendMessage target ")
	}
	if !slices.Equal(seen, want) {
		t.Errorf("observed %q\nwant %q", seen, want)
	}
}

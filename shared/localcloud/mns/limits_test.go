package mns

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/valyala/fasthttp"
)

// batchOf returns n messages whose bodies have size bytes each.
func batchOf(n, size int) []ali_mns.MessageSendRequest {
	out := make([]ali_mns.MessageSendRequest, n)
	for i := range out {
		out[i] = ali_mns.MessageSendRequest{MessageBody: strings.Repeat(string(rune('a'+i%26)), size)}
	}
	return out
}

// TestBatchTotalSize: BatchSendMessage carries at most 64 KB of message
// bodies in all ([MBATCH]). Above it the whole request is refused with 400
// InvalidArgument (the code MNS documents for a value out of range, [MERR])
// and nothing is enqueued; exactly 64 KB is accepted.
func TestBatchTotalSize(t *testing.T) {
	srv := newServer(t)
	q := setupQueue(t, srv, "q", QueueAttributes{})

	// 16 × 10 KiB = 160 KiB: each message fits, the batch does not.
	_, err := q.BatchSendMessage(batchOf(16, 10*1024)...)
	wantErr(t, "BatchSendMessage 160 KiB", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)
	if c := lastCall(t, srv, "BatchSendMessage"); c.Status != 400 || c.Code != "InvalidArgument" {
		t.Fatalf("call = %+v, want 400 InvalidArgument", c)
	}
	// One byte over: 4 × 16 KiB + 1.
	over := batchOf(4, 16*1024)
	over[3].MessageBody += "x"
	_, err = q.BatchSendMessage(over...)
	wantErr(t, "BatchSendMessage 64 KiB + 1", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)
	if n := len(srv.Messages("q")); n != 0 {
		t.Fatalf("%d messages enqueued from refused batches", n)
	}

	// Exactly 64 KiB: 4 × 16 KiB, and 16 × 4 KiB.
	for _, b := range [][]ali_mns.MessageSendRequest{batchOf(4, 16*1024), batchOf(16, 4*1024)} {
		resp, err := q.BatchSendMessage(b...)
		wantErr(t, "BatchSendMessage 64 KiB", err, nil)
		if len(resp.Messages) != len(b) {
			t.Fatalf("%d results for %d messages", len(resp.Messages), len(b))
		}
	}
	if n := len(srv.Messages("q")); n != 20 {
		t.Fatalf("%d messages enqueued, want 20", n)
	}
}

// TestRetention: a message is gone MessageRetentionPeriod after it was sent
// ([MCQ]: default 345600 s, counted from the send), on the server's clock,
// whatever its state: active, in flight or still delayed.
func TestRetention(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, WithClock(clock.Now))
	mgr := ali_mns.NewMNSQueueManager(client(srv))
	const retention = 345600 * time.Second // the default

	t.Run("active message expires", func(t *testing.T) {
		q := setupQueue(t, srv, "ret-active", QueueAttributes{})
		for _, b := range []string{"old", "young"} {
			if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: b}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Hour)
		}
		// "old" was sent 2 h ago: one second before its end it is there.
		clock.Advance(retention - 2*time.Hour - time.Second)
		if m, err := peek(q); err != nil || m.MessageBody != "old" {
			t.Fatalf("peek a second before expiry = %+v, %v", m, err)
		}
		clock.Advance(time.Second)
		m, err := receive(q)
		wantErr(t, "receive at expiry", err, nil)
		if m.MessageBody != "young" {
			t.Fatalf("received %q, want young (old expired)", m.MessageBody)
		}
		attr, err := mgr.GetQueueAttributes("ret-active")
		wantErr(t, "GetQueueAttributes", err, nil)
		if attr.ActiveMessages != 0 || attr.InactiveMessages != 1 || attr.DelayMessages != 0 {
			t.Fatalf("attributes = %+v", attr)
		}
		rec := srv.Messages("ret-active")
		if !rec[0].Expired || !rec[0].Deleted || rec[0].State != StateExpired ||
			!rec[0].DeleteTime.Equal(rec[0].EnqueueTime.Add(retention)) || rec[1].Expired {
			t.Fatalf("records = %+v", rec)
		}
	})

	t.Run("in-flight message expires and its handle is stale", func(t *testing.T) {
		q := setupQueue(t, srv, "ret-inflight", QueueAttributes{VisibilityTimeout: 43200})
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "b"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(retention - time.Hour)
		m, err := receive(q)
		wantErr(t, "receive", err, nil)
		clock.Advance(time.Hour) // still inside the 12 h visibility timeout
		wantErr(t, "DeleteMessage after expiry", q.DeleteMessage(m.ReceiptHandle), &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		_, err = q.ChangeMessageVisibility(m.ReceiptHandle, 10)
		wantErr(t, "ChangeMessageVisibility after expiry", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		clock.Advance(12 * time.Hour)
		_, err = receive(q)
		wantErr(t, "receive after the visibility timeout", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	})

	t.Run("a delay longer than the retention loses the message", func(t *testing.T) {
		q := setupQueue(t, srv, "ret-delay", QueueAttributes{})
		_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "7 days", DelaySeconds: 604800})
		wantErr(t, "SendMessage with the largest delay", err, nil) // accepted: 0-604800 [MSEND]
		_, err = q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "just inside", DelaySeconds: 345599})
		wantErr(t, "SendMessage", err, nil)
		clock.Advance(345599 * time.Second)
		m, err := receive(q)
		wantErr(t, "receive a message delayed to a second before its expiry", err, nil)
		if m.MessageBody != "just inside" {
			t.Fatalf("received %q", m.MessageBody)
		}
		clock.Advance(604800*time.Second - 345599*time.Second)
		_, err = receive(q)
		wantErr(t, "receive after the 7-day delay", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		if rec := srv.Messages("ret-delay"); rec[0].State != StateExpired || rec[0].DequeueCount != 0 {
			t.Fatalf("record = %+v", rec[0])
		}
	})

	t.Run("messages of different ages expire one by one", func(t *testing.T) {
		q := setupQueue(t, srv, "ret-ages", QueueAttributes{MessageRetentionPeriod: 120})
		live := func() []string {
			var bodies []string
			for _, m := range srv.Visible("ret-ages") {
				bodies = append(bodies, m.Body)
			}
			return bodies
		}
		for _, b := range []string{"a", "b", "c"} { // sent at 0, 40 and 80 s
			if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: b}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(40 * time.Second)
		}
		for _, step := range []struct {
			advance time.Duration
			want    []string
		}{
			{0, []string{"b", "c"}},                // 120 s: a's end
			{39 * time.Second, []string{"b", "c"}}, // 159 s
			{time.Second, []string{"c"}},           // 160 s: b's end
			{40 * time.Second, nil},                // 200 s: c's end
		} {
			clock.Advance(step.advance)
			if got := live(); !slices.Equal(got, step.want) {
				t.Fatalf("live messages = %q, want %q", got, step.want)
			}
		}
		// A message sent into the emptied queue lives its whole retention,
		// and a retention shortened later applies to it.
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "d"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(60 * time.Second)
		if got := live(); !slices.Equal(got, []string{"d"}) {
			t.Fatalf("live messages = %q, want [d]", got)
		}
		wantErr(t, "SetQueueAttributes", mgr.SetQueueAttributesWithOptions("ret-ages", ali_mns.WithMessageRetentionPeriod(60)), nil)
		if got := live(); len(got) != 0 {
			t.Fatalf("live messages after the retention became 60 s = %q, want none", got)
		}
	})

	t.Run("a shorter queue retention", func(t *testing.T) {
		q := setupQueue(t, srv, "ret-short", QueueAttributes{MessageRetentionPeriod: 60})
		if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "b"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		_, err := receive(q)
		wantErr(t, "receive after 60 s", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		if v := srv.Visible("ret-short"); len(v) != 0 {
			t.Fatalf("Visible = %+v", v)
		}
	})
}

// TestDateSkew: a request whose Date is more than 15 minutes from the
// server's time is refused ([MSIG]) with 408 TimeExpired (the code and
// status of the error-code table [MERR]). The SDK stamps Date from the real
// clock, so the server's date clock is moved instead.
func TestDateSkew(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration // server date clock minus the client's
		ok     bool
	}{
		{"in sync", 0, true},
		{"server 14 min ahead", 14 * time.Minute, true},
		{"server 14 min behind", -14 * time.Minute, true},
		{"server 16 min ahead: a stale Date", 16 * time.Minute, false},
		{"server 16 min behind: a Date in the future", -16 * time.Minute, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, WithDateClock(func() time.Time { return time.Now().Add(tc.offset) }))
			q := setupQueue(t, srv, "q", QueueAttributes{})
			_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "b"})
			if tc.ok {
				wantErr(t, "SendMessage", err, nil)
				return
			}
			wantErr(t, "SendMessage", err, &ali_mns.ERR_MNS_TIME_EXPIRED)
			if c := lastCall(t, srv, "SendMessage"); c.Status != 408 || c.Code != "TimeExpired" {
				t.Fatalf("call = %+v, want 408 TimeExpired", c)
			}
			if n := len(srv.Messages("q")); n != 0 {
				t.Fatalf("%d messages enqueued", n)
			}
		})
	}

	t.Run("unparseable Date", func(t *testing.T) {
		srv := newServer(t)
		setupQueue(t, srv, "q", QueueAttributes{})
		c := client(srv)
		c.SetTransport(tamper(func(r *fasthttp.Request) { r.Header.Set("Date", "yesterday") }))
		_, err := ali_mns.NewMNSQueue("q", c).SendMessage(ali_mns.MessageSendRequest{MessageBody: "b"})
		wantErr(t, "SendMessage", err, &ali_mns.ERR_MNS_INVALID_DATE_HEADER)
		if c := lastCall(t, srv, "SendMessage"); c.Status != 400 {
			t.Fatalf("call = %+v", c)
		}
	})
}

// signedRequest builds a SendMessage request by hand, signed as [MSIG]
// describes: HMAC-SHA1 over METHOD, Content-MD5, Content-Type, DATE, the
// x-mns-* headers (lower case, sorted) and the resource. It sends no Date
// header: x-mns-date carries the time and takes Date's place in the string
// to sign.
func signedRequest(t *testing.T, srv *Server, queue, body string, date time.Time) *http.Request {
	t.Helper()
	cred := srv.Credential()
	resource := "/queues/" + queue + "/messages"
	xmlBody := "<Message><MessageBody>" + body + "</MessageBody></Message>"
	sum := md5.Sum([]byte(xmlBody))
	contentMD5 := base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:])))
	mnsDate := date.UTC().Format(http.TimeFormat)
	toSign := "POST\n" + contentMD5 + "\n" + "text/xml" + "\n" + mnsDate + "\n" +
		"x-mns-date:" + mnsDate + "\n" + "x-mns-version:2015-06-06" + "\n" + resource
	mac := hmac.New(sha1.New, []byte(cred.AccessKeySecret))
	mac.Write([]byte(toSign))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))

	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(srv.Endpoint(), "/.")+resource, strings.NewReader(xmlBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Content-MD5", contentMD5)
	req.Header.Set("x-mns-date", mnsDate)
	req.Header.Set("x-mns-version", "2015-06-06")
	req.Header.Set("Authorization", "MNS "+cred.AccessKeyID+":"+sig)
	return req
}

// do sends req and returns the status and the error code of the answer
// ("" when it is not an error).
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		XMLName xml.Name
		Code    string `xml:"Code"`
	}
	if resp.StatusCode >= 300 {
		if err := xml.Unmarshal(b, &e); err != nil || e.XMLName.Local != "Error" {
			t.Fatalf("status %d with body %q", resp.StatusCode, b)
		}
	}
	return resp.StatusCode, e.Code
}

// TestXMNSDate: x-mns-date may replace Date ([MSIG] common parameters),
// and is then checked for skew like Date.
func TestXMNSDate(t *testing.T) {
	srv := newServer(t)
	setupQueue(t, srv, "q", QueueAttributes{})

	status, code := do(t, signedRequest(t, srv, "q", "dated by x-mns-date", time.Now()))
	if status != 201 || code != "" {
		t.Fatalf("SendMessage with x-mns-date and no Date: %d %s, want 201", status, code)
	}
	if m := srv.Messages("q"); len(m) != 1 || m[0].Body != "dated by x-mns-date" {
		t.Fatalf("messages = %+v", m)
	}

	status, code = do(t, signedRequest(t, srv, "q", "stale", time.Now().Add(-16*time.Minute)))
	if status != 408 || code != "TimeExpired" {
		t.Fatalf("SendMessage with a stale x-mns-date: %d %s, want 408 TimeExpired", status, code)
	}

	req := signedRequest(t, srv, "q", "tampered", time.Now())
	req.Header.Set("x-mns-date", time.Now().Add(time.Minute).UTC().Format(http.TimeFormat))
	if status, code := do(t, req); status != 403 || code != "SignatureDoesNotMatch" {
		t.Fatalf("x-mns-date changed after signing: %d %s, want 403 SignatureDoesNotMatch", status, code)
	}
	if n := len(srv.Messages("q")); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

// TestDequeueCount: every receive of a message counts ([MRECV]): 1, 2, 3
// as it is received again after each visibility timeout, by single and
// batch receives alike; FirstDequeueTime stays the time of the first, and a
// peek counts nothing.
func TestDequeueCount(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, WithClock(clock.Now))
	q := setupQueue(t, srv, "q", QueueAttributes{VisibilityTimeout: 30})
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "again"}); err != nil {
		t.Fatal(err)
	}
	first := clock.Now().UnixMilli()
	if m, err := peek(q); err != nil || m.DequeueCount != 0 {
		t.Fatalf("peek before any receive = %+v, %v", m, err)
	}
	for want := int64(1); want <= 3; want++ {
		var got ali_mns.MessageReceiveResponse
		if want == 2 {
			b, err := batchReceive(q, 16)
			wantErr(t, "BatchReceiveMessage", err, nil)
			if len(b.Messages) != 1 {
				t.Fatalf("batch = %+v", b)
			}
			got = b.Messages[0]
		} else {
			m, err := receive(q)
			wantErr(t, "ReceiveMessage", err, nil)
			got = m
		}
		if got.DequeueCount != want || got.FirstDequeueTime != first {
			t.Fatalf("receive %d: DequeueCount %d, FirstDequeueTime %d (want %d)", want, got.DequeueCount, got.FirstDequeueTime, first)
		}
		_, err := receive(q)
		wantErr(t, "receive while in flight", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
		clock.Advance(30 * time.Second)
	}
	if rec := srv.Messages("q"); rec[0].DequeueCount != 3 {
		t.Fatalf("record = %+v", rec[0])
	}
}

// drainBatches receives batches of up to 16 until the queue is empty and
// returns the bodies of each batch.
func drainBatches(t *testing.T, q ali_mns.AliMNSQueue) [][]string {
	t.Helper()
	var out [][]string
	for range 100 {
		b, err := batchReceive(q, 16)
		if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
			return out
		}
		wantErr(t, "BatchReceiveMessage", err, nil)
		var bodies []string
		for _, m := range b.Messages {
			bodies = append(bodies, m.MessageBody)
		}
		out = append(out, bodies)
	}
	t.Fatal("queue not drained after 100 batches")
	return nil
}

// TestPartialBatches: with WithPartialBatches a batch receive may return
// fewer messages than are available, in no fixed order ([MBATCH] FAQ), and
// every message still comes exactly once; the same seed gives the same
// batches. Without it, one batch returns all of them in send order.
func TestPartialBatches(t *testing.T) {
	bodies := make([]string, 10)
	for i := range bodies {
		bodies[i] = string(rune('a' + i))
	}
	run := func(opts ...Option) [][]string {
		srv := newServer(t, opts...)
		q := setupQueue(t, srv, "q", QueueAttributes{VisibilityTimeout: 600})
		for _, b := range bodies {
			if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: b}); err != nil {
				t.Fatal(err)
			}
		}
		return drainBatches(t, q)
	}

	t.Run("off: all available, in order", func(t *testing.T) {
		got := run()
		if len(got) != 1 || strings.Join(got[0], "") != "abcdefghij" {
			t.Fatalf("batches = %v, want one [a … j]", got)
		}
	})

	t.Run("on: partial, unordered, each once, repeatable", func(t *testing.T) {
		got := run(WithPartialBatches(3, 7))
		if len(got) < 2 || len(got[0]) >= len(bodies) {
			t.Fatalf("batches = %v: the first should hold fewer than the %d available", got, len(bodies))
		}
		seen := map[string]int{}
		var all []string
		for _, b := range got {
			for _, m := range b {
				seen[m]++
				all = append(all, m)
			}
		}
		for _, b := range bodies {
			if seen[b] != 1 {
				t.Fatalf("message %s received %d times in %v", b, seen[b], got)
			}
		}
		if strings.Join(all, "") == "abcdefghij" {
			t.Fatalf("batches %v come in send order", got)
		}
		if again := run(WithPartialBatches(3, 7)); fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("same seed, different batches: %v, then %v", got, again)
		}
	})
}

// TestLongPollLimit: with WithLongPollLimit(1) a second long poll on an
// empty queue answers MessageNotExist at once while the first one waits
// ([MRECV] zh: above the long-poll connection limit); once the first ends,
// a poll may wait again. waitseconds stays 0–30 for batch receives too.
func TestLongPollLimit(t *testing.T) {
	waiting, polls := withWaiting()
	clock := newFakeClock() // stands still: only a send or an advance ends a poll
	srv := newServer(t, waiting, WithClock(clock.Now), WithLongPollLimit(1))
	if err := srv.CreateQueue("lp", QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	c := srv.Credential()
	longClient := func() ali_mns.AliMNSQueue {
		return ali_mns.NewMNSQueue("lp", ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
			EndPoint: srv.Endpoint(), AccessKeyId: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, TimeoutSecond: 35}))
	}
	q := longClient()

	_, err := batchReceive(q, 16, 31)
	wantErr(t, "BatchReceiveMessage waitseconds 31", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)

	done := make(chan error, 1)
	go func() {
		m, err := receive(q, 30)
		if err == nil && m.MessageBody != "late" {
			t.Errorf("first poll got %q", m.MessageBody)
		}
		done <- err
	}()
	<-polls // the first poll waits

	_, err = receive(longClient(), 30)
	wantErr(t, "second long poll", err, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
	select {
	case q := <-polls:
		t.Fatalf("the second poll waited on %s", q)
	default:
	}

	if _, err := ali_mns.NewMNSQueue("lp", client(srv)).SendMessage(ali_mns.MessageSendRequest{MessageBody: "late"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "first long poll", <-done, nil)

	go func() { _, err := receive(q, 1); done <- err }()
	<-polls // a poll waits again once the first has ended
	// One second on: the poll ends, "late" stays in flight (30 s).
	clock.Advance(time.Second)
	srv.Wake()
	wantErr(t, "third long poll", <-done, &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST)
}

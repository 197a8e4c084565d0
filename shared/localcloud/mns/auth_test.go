package mns

import (
	"strings"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/gogap/errors"
	"github.com/valyala/fasthttp"
)

func TestEndpointForm(t *testing.T) {
	srv := newServer(t)
	if ep := srv.Endpoint(); !strings.HasPrefix(ep, "http://127.0.0.1:") || !strings.HasSuffix(ep, "/.") {
		t.Fatalf("Endpoint() = %q", ep)
	}
	// The SDK parses the endpoint (it panics on a bad one) and derives
	// region "0" and account "127" from it.
	topic := ali_mns.NewMNSTopic("t", client(srv))
	if got := topic.GenerateQueueEndpoint("q"); got != "acs:mns:0:127:queues/q" {
		t.Fatalf("GenerateQueueEndpoint = %q", got)
	}
}

func TestAuthentication(t *testing.T) {
	clock := newFakeClock()
	store, longTerm, sts := newSTSStore(clock.Now)
	srv := newServer(t, WithCredentials(store), WithClock(clock.Now))
	if err := srv.CreateQueue("q", QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	if srv.Credential().AccessKeyID != "" {
		t.Fatalf("Credential() with WithCredentials should be zero, got %+v", srv.Credential())
	}

	tests := []struct {
		name               string
		ak, secret, token  string
		want               *errors.ErrCodeTemplate
		wantStatus         int
		wantMessageContain string
	}{
		{name: "long-term key", ak: longTerm.AccessKeyID, secret: longTerm.AccessKeySecret},
		{name: "wrong secret", ak: longTerm.AccessKeyID, secret: "not-the-secret",
			want: &ali_mns.ERR_MNS_SIGNATURE_DOES_NOT_MATCH, wantStatus: 403},
		{name: "unknown key", ak: "LTAIunknown", secret: "whatever",
			want: &ali_mns.ERR_MNS_INVALID_ACCESS_KEY_ID, wantStatus: 403},
		{name: "sts with token", ak: sts.AccessKeyID, secret: sts.AccessKeySecret, token: sts.SecurityToken},
		{name: "sts wrong token", ak: sts.AccessKeyID, secret: sts.AccessKeySecret, token: "CAISwrong",
			want: &ali_mns.ERR_MNS_ACCESS_DENIED, wantStatus: 403, wantMessageContain: "invalid"},
		{name: "sts without token", ak: sts.AccessKeyID, secret: sts.AccessKeySecret,
			want: &ali_mns.ERR_MNS_ACCESS_DENIED, wantStatus: 403, wantMessageContain: "requires a security token"},
		{name: "token with long-term key", ak: longTerm.AccessKeyID, secret: longTerm.AccessKeySecret, token: sts.SecurityToken,
			want: &ali_mns.ERR_MNS_ACCESS_DENIED, wantStatus: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := ali_mns.NewMNSQueue("q", clientWith(srv, tc.ak, tc.secret, tc.token))
			_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "hi"})
			wantErr(t, "SendMessage", err, tc.want)
			if tc.want == nil {
				return
			}
			c := lastCall(t, srv, "SendMessage")
			if c.Status != tc.wantStatus {
				t.Errorf("status = %d, want %d", c.Status, tc.wantStatus)
			}
			if !strings.Contains(err.Error(), tc.wantMessageContain) {
				t.Errorf("error %q does not mention %q", err, tc.wantMessageContain)
			}
		})
	}

	t.Run("sts expired", func(t *testing.T) {
		clock.Advance(2 * time.Hour)
		q := ali_mns.NewMNSQueue("q", clientWith(srv, sts.AccessKeyID, sts.AccessKeySecret, sts.SecurityToken))
		_, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "hi"})
		wantErr(t, "SendMessage", err, &ali_mns.ERR_MNS_ACCESS_DENIED)
		if !strings.Contains(err.Error(), "expired") {
			t.Errorf("error %q does not say expired", err)
		}
	})

	// Only the two successful sends reached the queue.
	if got := len(srv.Messages("q")); got != 2 {
		t.Fatalf("messages in q = %d, want 2", got)
	}
}

// TestSignatureCoversEveryOperation signs GET (with query), PUT, DELETE with
// an escaped receipt handle, and the signed list headers.
func TestSignatureCoversEveryOperation(t *testing.T) {
	srv := newServer(t)
	q := setupQueue(t, srv, "sig-q", QueueAttributes{})
	mgr := ali_mns.NewMNSQueueManager(client(srv))
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x"}); err != nil {
		t.Fatal(err)
	}
	m, err := receive(q, 1)
	wantErr(t, "ReceiveMessage", err, nil)
	if !strings.ContainsAny(m.ReceiptHandle, "=+/") {
		t.Logf("receipt handle %q has no characters that need escaping", m.ReceiptHandle)
	}
	cv, err := q.ChangeMessageVisibility(m.ReceiptHandle, 10)
	wantErr(t, "ChangeMessageVisibility", err, nil)
	wantErr(t, "DeleteMessage", q.DeleteMessage(cv.ReceiptHandle), nil)
	_, err = mgr.ListQueue("", 10, "sig")
	wantErr(t, "ListQueue", err, nil)
	for _, c := range srv.Calls() {
		if c.Code == "SignatureDoesNotMatch" {
			t.Fatalf("signature rejected: %+v", c)
		}
	}
}

func TestMalformedRequests(t *testing.T) {
	srv := newServer(t)
	setupQueue(t, srv, "q", QueueAttributes{})
	tests := []struct {
		name   string
		edit   func(*fasthttp.Request)
		want   *errors.ErrCodeTemplate
		status int
	}{
		{"missing authorization", func(r *fasthttp.Request) { r.Header.Del("Authorization") },
			&ali_mns.ERR_MNS_MISSING_AUTHORIZATION_HEADER, 400},
		{"garbled authorization", func(r *fasthttp.Request) { r.Header.Set("Authorization", "Basic abc") },
			&ali_mns.ERR_MNS_INVALID_AUTHORIZATION_HEADER, 400},
		{"missing date", func(r *fasthttp.Request) { r.Header.Del("Date") },
			&ali_mns.ERR_MNS_MISSING_DATE_HEADER, 400},
		{"body changed after signing", func(r *fasthttp.Request) {
			r.SetBody([]byte("<Message><MessageBody>tampered</MessageBody></Message>"))
		}, &ali_mns.ERR_MNS_INVALID_DEGIST, 400},
		{"signed header changed", func(r *fasthttp.Request) { r.Header.Set("Date", "Mon, 01 Jan 2024 00:00:00 GMT") },
			&ali_mns.ERR_MNS_SIGNATURE_DOES_NOT_MATCH, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := client(srv)
			c.SetTransport(tamper(tc.edit))
			_, err := ali_mns.NewMNSQueue("q", c).SendMessage(ali_mns.MessageSendRequest{MessageBody: "hello"})
			wantErr(t, "SendMessage", err, tc.want)
			if got := lastCall(t, srv, "SendMessage").Status; got != tc.status {
				t.Errorf("status = %d, want %d", got, tc.status)
			}
		})
	}
	if n := len(srv.Messages("q")); n != 0 {
		t.Fatalf("%d messages accepted from malformed requests", n)
	}
}

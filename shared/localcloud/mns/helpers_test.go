package mns

import (
	"sync"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/gogap/errors"
	"github.com/valyala/fasthttp"
)

// fakeClock is a manually advanced clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)}
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

// withWaiting announces on the returned channel each receive that starts
// waiting for a message (a long poll that found the queue empty): an
// explicit event instead of sleeping until the poll is probably waiting.
func withWaiting() (Option, <-chan string) {
	ch := make(chan string, 16)
	return func(s *Server) { s.waiting = func(q string) { ch <- q } }, ch
}

// newServer starts a server that is closed when the test ends.
func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// client returns an SDK client for srv with its default credential.
func client(srv *Server) ali_mns.MNSClient {
	c := srv.Credential()
	return clientWith(srv, c.AccessKeyID, c.AccessKeySecret, "")
}

func clientWith(srv *Server, ak, secret, token string) ali_mns.MNSClient {
	return ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint:        srv.Endpoint(),
		AccessKeyId:     ak,
		AccessKeySecret: secret,
		Token:           token,
		TimeoutSecond:   5,
	})
}

// setupQueue creates queue name with attrs (admin helper) and returns an SDK
// queue object on a fresh client.
func setupQueue(t *testing.T, srv *Server, name string, attrs QueueAttributes) ali_mns.AliMNSQueue {
	t.Helper()
	if err := srv.CreateQueue(name, attrs); err != nil {
		t.Fatalf("CreateQueue(%s): %v", name, err)
	}
	return ali_mns.NewMNSQueue(name, client(srv))
}

// receive runs the SDK's channel-based ReceiveMessage synchronously.
func receive(q ali_mns.AliMNSQueue, wait ...int64) (ali_mns.MessageReceiveResponse, error) {
	respCh := make(chan ali_mns.MessageReceiveResponse, 1)
	errCh := make(chan error, len(wait)+1)
	q.ReceiveMessage(respCh, errCh, wait...)
	select {
	case r := <-respCh:
		return r, nil
	case err := <-errCh:
		return ali_mns.MessageReceiveResponse{}, err
	}
}

func batchReceive(q ali_mns.AliMNSQueue, n int32, wait ...int64) (ali_mns.BatchMessageReceiveResponse, error) {
	respCh := make(chan ali_mns.BatchMessageReceiveResponse, 1)
	errCh := make(chan error, len(wait)+1)
	q.BatchReceiveMessage(respCh, errCh, n, wait...)
	select {
	case r := <-respCh:
		return r, nil
	case err := <-errCh:
		return ali_mns.BatchMessageReceiveResponse{}, err
	}
}

func peek(q ali_mns.AliMNSQueue) (ali_mns.MessageReceiveResponse, error) {
	respCh := make(chan ali_mns.MessageReceiveResponse, 1)
	errCh := make(chan error, 1)
	q.PeekMessage(respCh, errCh)
	select {
	case r := <-respCh:
		return r, nil
	case err := <-errCh:
		return ali_mns.MessageReceiveResponse{}, err
	}
}

func batchPeek(q ali_mns.AliMNSQueue, n int32) (ali_mns.BatchMessageReceiveResponse, error) {
	respCh := make(chan ali_mns.BatchMessageReceiveResponse, 1)
	errCh := make(chan error, 1)
	q.BatchPeekMessage(respCh, errCh, n)
	select {
	case r := <-respCh:
		return r, nil
	case err := <-errCh:
		return ali_mns.BatchMessageReceiveResponse{}, err
	}
}

// wantErr fails unless err is the SDK error of template want (nil: no error).
func wantErr(t *testing.T, what string, err error, want *errors.ErrCodeTemplate) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error: %v", what, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s: got no error, want MNS#%d", what, want.New().Code())
	}
	ec, ok := err.(errors.ErrCode)
	if !ok {
		t.Fatalf("%s: error %T is not an errors.ErrCode: %v", what, err, err)
	}
	if !want.IsEqual(err) {
		t.Fatalf("%s: got %s#%d (%v), want MNS#%d", what, ec.Namespace(), ec.Code(), err, want.New().Code())
	}
}

// lastCall returns the most recent call for op.
func lastCall(t *testing.T, srv *Server, op string) Call {
	t.Helper()
	calls := srv.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Op == op {
			return calls[i]
		}
	}
	t.Fatalf("no %s call in %+v", op, calls)
	return Call{}
}

// tamper is a fasthttp transport that edits each request after the SDK
// signed it, to produce requests the SDK would never send by itself.
type tamper func(*fasthttp.Request)

func (f tamper) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	f(req)
	return fasthttp.DefaultTransport.RoundTrip(hc, req, resp)
}

// newSTSStore returns a store (on clock) with one long-term key and one STS
// credential valid for an hour.
func newSTSStore(clock func() time.Time) (*auth.Store, auth.Credential, auth.Credential) {
	st := auth.NewStore(clock)
	return st, st.NewAccessKey(), st.IssueSTS(time.Hour)
}

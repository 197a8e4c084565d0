package mnsq

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

// MNS limits (wire-protocols.md §2.8, §2.9).
const (
	// MaxBatch is the most messages one BatchSendMessage request may carry.
	MaxBatch = 16
	// MaxBatchBytes is the most message-body bytes one BatchSendMessage
	// request may carry in all ("16 messages, 64 KB total": the MNS FAQ
	// "maximum number and size of messages managed in batches" and the
	// BatchSendMessage page). A single message of MaxMessageBytes still fits.
	MaxBatchBytes = 64 * 1024
	// MaxMessageBytes is the largest message body MNS accepts (the queue's
	// MaximumMessageSize can only lower it).
	MaxMessageBytes = 64 * 1024
	// MaxDelay is the longest DelaySeconds of a message MNS accepts. A
	// message is still deleted DefaultRetention after it was sent, delayed
	// or not: a delay this long loses the message on a queue with the
	// default retention (see workqueue.MaxDelay).
	MaxDelay = 604800 * time.Second
	// DefaultRetention is a queue's default MessageRetentionPeriod
	// (CreateQueue: 345600 s = 4 days), counted from the time a message
	// was sent.
	DefaultRetention = 345600 * time.Second
	// DefaultTimeout bounds one HTTP exchange when Config.Timeout is zero.
	// The SDK's own default is 35 s, sized for 30 s long polls, which this
	// package does not make.
	DefaultTimeout = 10 * time.Second
	// DefaultPriority is the priority MNS documents as its default. The SDK
	// sends <Priority>0</Priority> when left unset, and how real MNS treats
	// 0 is unverified, so every message carries 8 explicitly.
	DefaultPriority = 8
)

// Config is what New needs. AccessKeyID and AccessKeySecret are required
// (the SDK would otherwise read the ALIBABA_CLOUD_* environment variables
// behind the caller's back); SecurityToken is set for STS credentials, which
// is what Function Compute gives a function.
type Config struct {
	Endpoint        string
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
	// Timeout bounds each HTTP exchange (read and write); it is rounded up
	// to whole seconds, the SDK's unit. Zero means DefaultTimeout. The
	// context of each call can only shorten the wait, not the exchange.
	Timeout time.Duration
}

// Client sends to MNS queues and topics. It is safe for concurrent use.
type Client struct {
	sdk      ali_mns.MNSClient
	endpoint string
}

// EndpointHint names the endpoint forms New accepts.
const EndpointHint = "want https://<accountId>.mns.<region>.aliyuncs.com (or http://127.0.0.1:PORT/. for a local emulator)"

// NormalizeEndpoint checks an endpoint the way the SDK will use it and
// returns it in the form to hand over: a single trailing "/" is dropped (the
// SDK appends "/"+resource to the endpoint string). It refuses, with an error
// that says what to write instead:
//   - anything but an absolute http or https URL with a host;
//   - user info (fasthttp would replace the MNS Authorization header with
//     Basic auth), a query or a fragment;
//   - a path other than "" or "/." (the emulator form);
//   - a string that does not split on "." into exactly five pieces, which
//     makes the SDK's constructor panic.
func NormalizeEndpoint(endpoint string) (string, error) {
	bad := func(reason string) (string, error) {
		return "", fmt.Errorf("mnsq: endpoint %q: %s; %s", endpoint, reason, EndpointHint)
	}
	if endpoint == "" {
		return bad("is empty")
	}
	if strings.TrimSpace(endpoint) != endpoint {
		return bad("has leading or trailing white space")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return bad("is not a URL: " + err.Error())
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("scheme must be http or https")
	case u.Host == "":
		return bad("has no host")
	case u.User != nil:
		return bad("must not carry user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return bad("must not have a query or fragment")
	}
	ep := endpoint
	if u.Path == "/" {
		ep = strings.TrimSuffix(ep, "/")
	} else if u.Path != "" && u.Path != "/." {
		return bad(fmt.Sprintf("path %q is not allowed (only none, or \"/.\" for the emulator)", u.Path))
	}
	if n := len(strings.Split(ep, ".")); n != 5 {
		return bad(fmt.Sprintf("splits on \".\" into %d pieces, the SDK needs exactly 5", n))
	}
	return ep, nil
}

// New validates cfg and builds the SDK client. It never panics: the SDK's
// constructor panics on a bad endpoint or credential, and both are checked
// first (a panic that still happens is recovered and returned as an error).
func New(cfg Config) (c *Client, err error) {
	ep, err := NormalizeEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, errors.New("mnsq: AccessKeyID and AccessKeySecret are required")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	secs := int64(math.Ceil(timeout.Seconds()))
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("mnsq: the MNS SDK refused the configuration for endpoint %q: %v", ep, r)
		}
	}()
	sdk := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint:        ep,
		AccessKeyId:     cfg.AccessKeyID,
		AccessKeySecret: cfg.AccessKeySecret,
		Token:           cfg.SecurityToken,
		TimeoutSecond:   secs,
	})
	return &Client{sdk: sdk, endpoint: ep}, nil
}

// Endpoint returns the endpoint the client uses.
func (c *Client) Endpoint() string { return c.endpoint }

// OutMessage is one message of a batch.
type OutMessage struct {
	Body  string
	Delay time.Duration // 0..MaxDelay, rounded up to whole seconds
}

// nameRE is a queue or topic name as MNS allows it (letters, digits and '-',
// not leading '-'); it also keeps names from altering the request path.
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,255}$`) })

func checkName(op, kind, name string) error {
	if !nameRE().MatchString(name) {
		return &Error{Op: op, Resource: name, Code: CodeInvalidArgument,
			Err: fmt.Errorf("%s name %q is invalid (letters, digits and '-', at most 256, not starting with '-')", kind, name)}
	}
	return nil
}

func checkMessage(op, queue string, body string, delay time.Duration) (int64, error) {
	if len(body) > MaxMessageBytes {
		return 0, &Error{Op: op, Resource: queue, Code: CodeMessageTooLarge,
			Err: fmt.Errorf("message body is %d bytes, MNS accepts at most %d", len(body), MaxMessageBytes)}
	}
	if delay < 0 || delay > MaxDelay {
		return 0, &Error{Op: op, Resource: queue, Code: CodeInvalidArgument,
			Err: fmt.Errorf("delay %s is outside 0..%s", delay, MaxDelay)}
	}
	return int64(math.Ceil(delay.Seconds())), nil
}

// Send sends one message to queue, visible after delay, and returns its
// MNS message id.
func (c *Client) Send(ctx context.Context, queue, body string, delay time.Duration) (string, error) {
	const op = "SendMessage"
	if err := checkName(op, "queue", queue); err != nil {
		return "", err
	}
	secs, err := checkMessage(op, queue, body, delay)
	if err != nil {
		return "", err
	}
	resp, err := call(ctx, func() (ali_mns.MessageSendResponse, error) {
		q := ali_mns.NewMNSQueue(queue, c.sdk)
		return q.SendMessage(ali_mns.MessageSendRequest{MessageBody: body, DelaySeconds: secs, Priority: DefaultPriority})
	})
	if err != nil {
		return "", wrap(op, queue, err)
	}
	return resp.MessageId, nil
}

// Publish publishes one message to topic and returns its MNS message id.
func (c *Client) Publish(ctx context.Context, topic, body string) (string, error) {
	const op = "PublishMessage"
	if err := checkName(op, "topic", topic); err != nil {
		return "", err
	}
	if _, err := checkMessage(op, topic, body, 0); err != nil {
		return "", err
	}
	resp, err := call(ctx, func() (ali_mns.MessageSendResponse, error) {
		t := ali_mns.NewMNSTopic(topic, c.sdk)
		return t.PublishMessage(ali_mns.MessagePublishRequest{MessageBody: body})
	})
	if err != nil {
		return "", wrap(op, topic, err)
	}
	return resp.MessageId, nil
}

// SendBatch sends msgs to queue in BatchSendMessage requests of at most
// MaxBatch messages and MaxBatchBytes of bodies, one after the other, in
// the order of msgs (a request takes as many of the next messages as fit). It returns nil when every message
// was accepted, otherwise a *BatchError listing each failed entry by its
// index in msgs (entries that were accepted are not listed, so a caller can
// resend exactly the failed ones). A message that is too large or has an
// invalid delay is reported and not sent; the others still are. When ctx is
// done the remaining messages are reported as failed with ctx's code.
func (c *Client) SendBatch(ctx context.Context, queue string, msgs []OutMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := checkName("BatchSendMessage", "queue", queue); err != nil {
		return err
	}
	_, errs := c.sendEach(ctx, queue, msgs)
	be := &BatchError{Queue: queue, Total: len(msgs)}
	for i, err := range errs {
		if err != nil {
			be.add(i, err)
		}
	}
	if len(be.Entries) == 0 {
		return nil
	}
	return be
}

// SendEach sends msgs to queue as SendBatch does and answers each message
// on its own: its MNS message id, or its error (an *Error: the entry's
// code, or the whole request's). The slices are as long as msgs. A bad
// queue name is every message's error.
func (c *Client) SendEach(ctx context.Context, queue string, msgs []OutMessage) (ids []string, errs []error) {
	if err := checkName("BatchSendMessage", "queue", queue); err != nil {
		errs = make([]error, len(msgs))
		for i := range errs {
			errs[i] = err
		}
		return make([]string, len(msgs)), errs
	}
	return c.sendEach(ctx, queue, msgs)
}

// sendEach makes the BatchSendMessage calls (as many messages as fit in
// each) and returns one id or error per message.
func (c *Client) sendEach(ctx context.Context, queue string, msgs []OutMessage) ([]string, []error) {
	const op = "BatchSendMessage"
	ids, errs := make([]string, len(msgs)), make([]error, len(msgs))
	type entry struct {
		index int
		req   ali_mns.MessageSendRequest
	}
	var valid []entry
	for i, m := range msgs {
		secs, err := checkMessage(op, queue, m.Body, m.Delay)
		if err != nil {
			errs[i] = err
			continue
		}
		valid = append(valid, entry{i, ali_mns.MessageSendRequest{MessageBody: m.Body, DelaySeconds: secs, Priority: DefaultPriority}})
	}
	for start, end := 0, 0; start < len(valid); start = end {
		end = start + 1
		size := len(valid[start].req.MessageBody)
		for end < len(valid) && end-start < MaxBatch && size+len(valid[end].req.MessageBody) <= MaxBatchBytes {
			size += len(valid[end].req.MessageBody)
			end++
		}
		chunk := valid[start:end]
		if err := ctx.Err(); err != nil {
			for _, e := range chunk {
				errs[e.index] = wrap(op, queue, err)
			}
			continue
		}
		reqs := make([]ali_mns.MessageSendRequest, len(chunk))
		for i, e := range chunk {
			reqs[i] = e.req
		}
		resp, err := call(ctx, func() (ali_mns.BatchMessageSendResponse, error) {
			q := ali_mns.NewMNSQueue(queue, c.sdk)
			return q.BatchSendMessage(reqs...)
		})
		switch {
		case err == nil || ali_mns.ERR_MNS_BATCH_OP_FAIL.IsEqual(err):
			// Per-entry results, in request order. An entry without a
			// result counts as failed only when the batch as a whole failed.
			for i, e := range chunk {
				if i >= len(resp.Messages) {
					if err != nil {
						errs[e.index] = &Error{Op: op, Resource: queue, Code: CodeBatchOpFail,
							Err: errors.New("no per-entry result in the batch failure response")}
					}
					continue
				}
				if r := resp.Messages[i]; r.ErrorCode != "" {
					errs[e.index] = &Error{Op: op, Resource: queue, Code: r.ErrorCode,
						Retryable: RetryableCodes[r.ErrorCode], Err: errors.New(r.ErrorMessage)}
				} else {
					ids[e.index] = r.MessageId
				}
			}
		default:
			werr := wrap(op, queue, err)
			for _, e := range chunk {
				errs[e.index] = werr
			}
		}
	}
	return ids, errs
}

// call runs fn in a goroutine and returns its result, or ctx's error as soon
// as ctx is done (fn then finishes in the background, bounded by the SDK's
// timeout). A panic in fn is returned as an error.
func call[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{err: fmt.Errorf("mnsq: the MNS SDK panicked: %v", r)}
			}
		}()
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

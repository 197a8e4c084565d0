package fc

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

// MNS and EventBridge limits and defaults.
const (
	mnsMaxReceive          = 16 // numOfMessages of one BatchReceiveMessage
	mnsMaxDelete           = 16 // receipt handles of one BatchDeleteMessage
	mnsDefaultVisibility   = 30 * time.Second
	mnsMaxVisibility       = 43200 // seconds
	ebDefaultBatchSize     = 10
	ebMaxBatchSize         = 10000
	ebDefaultRetries       = 3
	ebDefaultRetryDelay    = 10 * time.Second
	defaultMNSPollWait     = 5 * time.Second
	mnsReceiveErrorBackoff = time.Second
	visibilityMargin       = 5 * time.Second
)

// Push formats (eventSinkConfig.deliveryOption.eventSchema).
const (
	SchemaCloudEvents = "CloudEvents"
	SchemaRawData     = "RawData"
)

// MNSTrigger is an FC 3.0 MNS queue trigger: an EventBridge event stream
// that reads a queue with the official MNS SDK and pushes batches of
// CloudEvents to the function synchronously, retrying a failed batch
// (BACKOFF_RETRY) and then dead-lettering or discarding it.
//
// With Async set (asyncInvocationType: true) the push is asynchronous
// instead: each batch received is split into invocations whose event fits
// FC's 128 KB asynchronous payload, each is handed to FC as an asynchronous
// invocation, and the trigger moves on at once to the next receive. The
// messages are deleted from the queue when handed over. FC runs the
// invocations on as many instances as the function may have
// (FunctionConfig.Instances; the others wait for a free one), retries a
// failed one (function error, timeout, crash) MaxAsyncRetryAttempts times
// with x-fc-retry-count 1, 2, … and the same request id, AsyncRetryDelay
// before the first and doubling, and then sends the bodies of its messages to DeadLetterQueue (the
// function's destinationConfig.onFailure). Retries, RetryDelay and
// BatchWindow's visibility handling do not apply.
//
// The dequeue count: MNS counts every receive of a message (DequeueCount),
// and the trigger receives with the MNS SDK, so it knows the count; the
// event it pushes does not carry it. EventBridge documents the data of an
// MNS event as requestId, messageId and messageBody only ("custom event
// source of the MNS type": https://help.aliyun.com/zh/eventbridge/user-guide/create-a-custom-event-source-of-the-mns-type;
// fc-platform.md §1b), and no documented sample has more, so a function
// cannot tell a first delivery from a repeat by the event: it must be
// idempotent on its own terms. Whether EventBridge receives a message more
// than once (its acknowledgement and retry internals) is not documented
// either; here a retried batch is pushed again without a new receive, so
// the count stays as it was, and a message the trigger released (Run
// stopping) counts again when it is next received. MNSBatch.DequeueCounts
// records the counts for tests.
//
// Use a *MNSTrigger; it must not be copied after first use.
type MNSTrigger struct {
	Endpoint        string // MNS endpoint, e.g. "http://127.0.0.1:PORT/."
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string // STS token, if the key is an STS key
	Queue           string
	BatchSize       int           // CountBasedWindow (1..10000); default 10
	BatchWindow     time.Duration // TimeBasedWindow; default 0: push as soon as there are messages
	Retries         int           // retries of a failed batch; 0: EventBridge's default 3; negative: none
	RetryDelay      time.Duration // pause before a retry; default 10 s (EventBridge: random 10-20 s)
	// DeadLetterQueue gets the body of each message of a batch that failed
	// for good ("": discard): EventBridge's dead-letter queue, or with Async
	// the function's onFailure destination (FC's destination payload, a
	// JSON record around the event, is not modeled).
	DeadLetterQueue string
	Region          string // default: the function's region
	AccountID       string // default: the function's account
	Base64Decode    bool   // IsBase64Decode: deliver base64 bodies decoded (others as they are)
	Schema          string // SchemaCloudEvents (default) or SchemaRawData
	// TriggerName completes the event stream name "MNS-<function>-<trigger>"
	// that is each event's source; default Queue.
	TriggerName string
	// PollWait is the long-poll wait of each receive in Run, whole seconds
	// from 1 to 5; default 5 s. Run needs up to this long to stop.
	PollWait time.Duration
	// Logf reports the errors Run survives (MNS errors, failed deletes);
	// nil discards them.
	Logf func(format string, args ...any)

	// Async is the trigger's asyncInvocationType: push each batch as
	// asynchronous invocations (see above) instead of waiting for the
	// function's return before the next batch.
	Async bool
	// MaxAsyncRetryAttempts is the function's
	// asyncInvokeConfig.maxAsyncRetryAttempts (Async only): 0 means FC's
	// default of 3, a negative value no retry.
	MaxAsyncRetryAttempts int
	// AsyncRetryDelay is the pause before the first asynchronous retry,
	// doubled for each next one up to 16 times it (0: none). FC does not
	// document its async retry interval.
	AsyncRetryDelay time.Duration

	mu         sync.Mutex
	pending    atomic.Int64 // asynchronous pushes not ended yet (Pending)
	client     ali_mns.MNSClient
	visibility time.Duration
	batches    []MNSBatch
}

// MNSBatch records one batch pushed to the function.
type MNSBatch struct {
	MessageIDs []string
	// DequeueCounts is each message's DequeueCount as the trigger received
	// it from MNS (1 on a first receive). It is not in the pushed event.
	DequeueCounts []int64
	Event         []byte   // the pushed event
	Attempts      []Result // first push, then each retry
	Delivered     bool     // an attempt succeeded
	DeadLettered  bool     // the bodies went to DeadLetterQueue
	Deleted       bool     // the messages were deleted from Queue
	// Async: pushed as an asynchronous invocation (MNSTrigger.Async);
	// Attempts are FC's first invocation and its async retries, all with
	// one request id. A batch received in async mode is split into several
	// of these when its event would exceed 128 KB.
	Async bool
	// Abandoned: the trigger stopped (Run's or DrainOnce's ctx ended)
	// while the async invocation waited for an instance or for a retry; its
	// messages, already deleted from Queue, were neither delivered nor
	// dead-lettered.
	Abandoned bool
}

// Pending returns how many asynchronous pushes have not ended: counted
// from before their messages are deleted from the queue until their
// invocation (and its retries) ended, so a caller that reads Pending and
// then the queue never sees both empty while a push can still send
// messages. Always 0 without Async.
func (t *MNSTrigger) Pending() int { return int(t.pending.Load()) }

// Batches returns a copy of the batch log, oldest first.
func (t *MNSTrigger) Batches() []MNSBatch {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]MNSBatch(nil), t.batches...)
}

// Run pushes the queue's messages to f until ctx is done, then returns nil.
// A batch already pushed when ctx ends runs to completion; messages received
// but not yet pushed are made visible again. Run returns early only on
// errors no retry can fix (bad configuration, a missing queue, f closed).
//
// With Async, Run returns once every asynchronous invocation it started
// has ended: one running on an instance when ctx ends runs to its end (as
// in FC), one still waiting for an instance or for its retry delay is
// abandoned (MNSBatch.Abandoned).
func (t *MNSTrigger) Run(ctx context.Context, f *Function) error {
	q, err := t.queue(t.Queue)
	if err != nil {
		return err
	}
	var async sync.WaitGroup
	defer async.Wait()
	for ctx.Err() == nil {
		batch, err := t.collect(ctx, q, true)
		if err != nil {
			t.release(q, batch)
			if ali_mns.ERR_MNS_QUEUE_NOT_EXIST.IsEqual(err) {
				return fmt.Errorf("fctest: MNS queue %s: %w", t.Queue, err)
			}
			t.logf("fctest: receive from %s: %v", t.Queue, err)
			sleep(ctx, mnsReceiveErrorBackoff)
			continue
		}
		if len(batch) == 0 {
			continue
		}
		if ctx.Err() != nil {
			t.release(q, batch)
			break
		}
		if t.Async {
			select {
			case <-f.done: // no invocation could run: leave the messages in the queue
				t.release(q, batch)
				return ErrClosed
			default:
			}
			t.handOver(ctx, f, q, batch, &async)
			continue
		}
		if _, err := t.deliver(ctx, f, q, batch); err != nil {
			if errors.Is(err, ErrClosed) {
				return err
			}
			if ctx.Err() == nil {
				t.logf("%v", err)
			}
		}
	}
	return nil
}

// DrainOnce receives up to BatchSize messages that are visible now (no long
// poll, no batch window), pushes them as one batch with the retry and
// dead-letter handling of Run, and returns how many messages it pushed.
// With Async it hands them over as Run does and then waits until their
// invocations, retries included, have ended.
func (t *MNSTrigger) DrainOnce(ctx context.Context, f *Function) (int, error) {
	q, err := t.queue(t.Queue)
	if err != nil {
		return 0, err
	}
	batch, err := t.collect(ctx, q, false)
	if err != nil {
		t.release(q, batch)
		return 0, fmt.Errorf("fctest: receive from %s: %w", t.Queue, err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	if t.Async {
		var async sync.WaitGroup
		t.handOver(ctx, f, q, batch, &async)
		async.Wait()
		return len(batch), nil
	}
	if _, err := t.deliver(ctx, f, q, batch); err != nil {
		return len(batch), err
	}
	return len(batch), nil
}

// received is a message taken from the queue and not yet deleted.
type received struct {
	msg            ali_mns.MessageReceiveResponse
	requestID      string
	invisibleUntil time.Time // local estimate of NextVisibleTime
}

// collect receives one batch. With long set it long-polls for the first
// message and then honours BatchWindow; otherwise it takes only what is
// visible now.
func (t *MNSTrigger) collect(ctx context.Context, q ali_mns.AliMNSQueue, long bool) ([]*received, error) {
	size := t.BatchSize
	if size <= 0 {
		size = ebDefaultBatchSize
	}
	size = min(size, ebMaxBatchSize)
	vis := t.visibilityTimeout(q)
	var batch []*received
	var windowEnd time.Time
	for len(batch) < size {
		wait := int64(0)
		if long && len(batch) == 0 {
			wait = t.pollWaitSeconds()
		}
		msgs, reqID, err := receive(q, min(mnsMaxReceive, size-len(batch)), wait)
		if err != nil {
			return batch, err
		}
		now := time.Now()
		for _, m := range msgs {
			batch = append(batch, &received{msg: m, requestID: reqID, invisibleUntil: now.Add(vis)})
		}
		if len(batch) == 0 {
			if !long || ctx.Err() != nil {
				return nil, nil
			}
			continue
		}
		if windowEnd.IsZero() {
			windowEnd = now.Add(t.BatchWindow)
		}
		if len(msgs) == 0 { // nothing more visible right now
			remaining := time.Until(windowEnd)
			if !long || remaining <= 0 || !sleep(ctx, min(remaining, 100*time.Millisecond)) {
				break
			}
		}
	}
	return batch, nil
}

// receive is one BatchReceiveMessage; an empty queue is not an error.
func receive(q ali_mns.AliMNSQueue, n int, waitSeconds int64) ([]ali_mns.MessageReceiveResponse, string, error) {
	respCh := make(chan ali_mns.BatchMessageReceiveResponse, 1)
	errCh := make(chan error, 1)
	if waitSeconds > 0 {
		q.BatchReceiveMessage(respCh, errCh, int32(n), waitSeconds)
	} else {
		q.BatchReceiveMessage(respCh, errCh, int32(n))
	}
	select {
	case resp := <-respCh:
		return resp.Messages, resp.RequestId, nil
	case err := <-errCh:
		if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
			return nil, "", nil
		}
		return nil, "", err
	}
}

// message is the event element of r as EventBridge pushes it.
func (t *MNSTrigger) message(r *received, now time.Time) MNSMessage {
	body := r.msg.MessageBody
	if t.Base64Decode {
		if b, err := base64.StdEncoding.DecodeString(body); err == nil {
			body = string(b)
		}
	}
	return MNSMessage{MessageID: r.msg.MessageId, RequestID: r.requestID, Body: body,
		EnqueueTime: time.UnixMilli(r.msg.EnqueueTime), PublishTime: now}
}

// event is the pushed event of msgs in the trigger's schema.
func (t *MNSTrigger) event(f *Function, msgs ...MNSMessage) []byte {
	if t.Schema == SchemaRawData {
		return NewMNSRawEvents(msgs...)
	}
	return NewMNSEvents(t.source(f), msgs...)
}

// newBatch is the record of batch, pushed as one event.
func (t *MNSTrigger) newBatch(f *Function, batch []*received, now time.Time) MNSBatch {
	var rec MNSBatch
	msgs := make([]MNSMessage, len(batch))
	for i, r := range batch {
		msgs[i] = t.message(r, now)
		rec.MessageIDs = append(rec.MessageIDs, r.msg.MessageId)
		rec.DequeueCounts = append(rec.DequeueCounts, r.msg.DequeueCount)
	}
	rec.Event = t.event(f, msgs...)
	return rec
}

// deliver pushes batch to f, retries it, dead-letters it if it keeps
// failing, and deletes its messages.
func (t *MNSTrigger) deliver(ctx context.Context, f *Function, q ali_mns.AliMNSQueue, batch []*received) (rec MNSBatch, err error) {
	rec = t.newBatch(f, batch, f.now())
	defer func() { t.record(rec) }()

	retries := t.Retries
	switch {
	case retries == 0:
		retries = ebDefaultRetries
	case retries < 0:
		retries = 0
	}
	delay := t.RetryDelay
	if delay <= 0 {
		delay = ebDefaultRetryDelay
	}
	// A batch already pushed is seen through even if ctx ends meanwhile.
	invokeCtx := context.WithoutCancel(ctx)
	for attempt := 0; ; attempt++ {
		batch = t.keepInvisible(q, batch, f.cfg.Timeout+visibilityMargin)
		res, err := f.Invoke(invokeCtx, rec.Event, InvokeOptions{})
		if err != nil {
			t.release(q, batch)
			return rec, fmt.Errorf("fctest: push to %s: %w", f.Name(), err)
		}
		rec.Attempts = append(rec.Attempts, res)
		if !res.Failed() {
			rec.Delivered = true
			break
		}
		if attempt >= retries {
			break
		}
		batch = t.keepInvisible(q, batch, delay+f.cfg.Timeout+visibilityMargin)
		if !sleep(ctx, delay) {
			t.release(q, batch)
			return rec, ctx.Err()
		}
	}

	batch = t.keepInvisible(q, batch, visibilityMargin)
	if !rec.Delivered && t.DeadLetterQueue != "" {
		if err := t.deadLetter(batch); err != nil {
			return rec, err
		}
		rec.DeadLettered = true
	}
	if err := deleteMessages(q, batch); err != nil {
		return rec, fmt.Errorf("fctest: delete from %s: %w", t.Queue, err)
	}
	rec.Deleted = true
	return rec, nil
}

// deadLetter sends the original body of each message of batch, before any
// base64 decoding, to DeadLetterQueue.
func (t *MNSTrigger) deadLetter(batch []*received) error {
	dlq, err := t.queue(t.DeadLetterQueue)
	if err != nil {
		return err
	}
	for _, r := range batch {
		if _, err := dlq.SendMessage(ali_mns.MessageSendRequest{MessageBody: r.msg.MessageBody, Priority: 8}); err != nil {
			return fmt.Errorf("fctest: dead-letter %s to %s: %w", r.msg.MessageId, t.DeadLetterQueue, err)
		}
	}
	return nil
}

// handOver is the asynchronous push of a received batch: it deletes the
// messages from the queue (EventBridge acknowledges them once read), splits
// them into events of at most maxAsyncPayload bytes and starts one
// asynchronous invocation per event, each in a goroutine that wg tracks.
func (t *MNSTrigger) handOver(ctx context.Context, f *Function, q ali_mns.AliMNSQueue, batch []*received, wg *sync.WaitGroup) {
	t.pending.Add(1) // the batch, from before its messages leave the queue
	defer t.pending.Add(-1)
	deleted := true
	if err := deleteMessages(q, batch); err != nil {
		// They become visible again and are pushed again: at least once.
		t.logf("fctest: delete from %s: %v", t.Queue, err)
		deleted = false
	}
	now := f.now()
	for _, part := range t.split(f, batch, now) {
		rec := t.newBatch(f, part, now)
		rec.Async, rec.Deleted = true, deleted
		if len(rec.Event) > maxAsyncPayload {
			// One message alone is over the limit: FC refuses the
			// invocation, so it goes straight to the failure destination.
			t.logf("fctest: message %s makes a %d-byte event, over FC's %d-byte asynchronous limit", rec.MessageIDs[0], len(rec.Event), maxAsyncPayload)
			t.asyncFailed(&rec, part)
			t.record(rec)
			continue
		}
		t.pending.Add(1)
		wg.Go(func() {
			defer t.pending.Add(-1)
			t.invokeAsync(ctx, f, rec, part)
		})
	}
}

// split cuts batch, in order, into parts whose pushed event is at most
// maxAsyncPayload bytes, each as full as the limit allows (FC's example:
// 100 messages of 2 KB go as 64 + 36). A message whose event alone is over
// the limit is a part of its own.
func (t *MNSTrigger) split(f *Function, batch []*received, now time.Time) [][]*received {
	var parts [][]*received
	var part []*received
	size := 0
	for _, r := range batch {
		// The event is a compact JSON array: "[" + elements joined by "," + "]".
		n := len(t.event(f, t.message(r, now))) - 2
		if len(part) > 0 && size+1+n > maxAsyncPayload {
			parts = append(parts, part)
			part, size = nil, 0
		}
		if len(part) == 0 {
			size = 2 + n
		} else {
			size += 1 + n
		}
		part = append(part, r)
	}
	if len(part) > 0 {
		parts = append(parts, part)
	}
	return parts
}

// invokeAsync is one asynchronous invocation of rec.Event: the first
// attempt and FC's retries, then the failure destination. It waits for a
// free instance under ctx and sees an attempt that runs through.
func (t *MNSTrigger) invokeAsync(ctx context.Context, f *Function, rec MNSBatch, batch []*received) {
	defer func() { t.record(rec) }()
	retries := asyncRetries(t.MaxAsyncRetryAttempts)
	reqID := newRequestID(f.now())
	for attempt := 0; ; attempt++ {
		if attempt > 0 && !sleep(ctx, t.AsyncRetryDelay<<min(attempt-1, 4)) {
			rec.Abandoned = true
			return
		}
		res, err := f.invoke(ctx, context.WithoutCancel(ctx), rec.Event, InvokeOptions{RetryCount: attempt, RequestID: reqID})
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrClosed) {
				rec.Abandoned = true
			} else {
				t.logf("fctest: async invocation of %s: %v", f.Name(), err)
			}
			return
		}
		rec.Attempts = append(rec.Attempts, res)
		if !res.Failed() {
			rec.Delivered = true
			return
		}
		if attempt >= retries {
			break
		}
	}
	t.asyncFailed(&rec, batch)
}

// asyncFailed sends the messages of an asynchronous invocation that failed
// for good to the failure destination, if there is one.
func (t *MNSTrigger) asyncFailed(rec *MNSBatch, batch []*received) {
	if t.DeadLetterQueue == "" {
		return
	}
	if err := t.deadLetter(batch); err != nil {
		t.logf("%v", err)
		return
	}
	rec.DeadLettered = true
}

func deleteMessages(q ali_mns.AliMNSQueue, batch []*received) error {
	for len(batch) > 0 {
		n := min(len(batch), mnsMaxDelete)
		handles := make([]string, n)
		for i, r := range batch[:n] {
			handles[i] = r.msg.ReceiptHandle
		}
		if _, err := q.BatchDeleteMessage(handles...); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// keepInvisible extends the visibility of messages that would become visible
// again within need, so that they are not received twice while a batch is
// retried. It drops messages whose handle is no longer valid.
func (t *MNSTrigger) keepInvisible(q ali_mns.AliMNSQueue, batch []*received, need time.Duration) []*received {
	kept := batch[:0]
	for _, r := range batch {
		if time.Until(r.invisibleUntil) >= need {
			kept = append(kept, r)
			continue
		}
		secs := min(int64(math.Ceil(need.Seconds())), mnsMaxVisibility)
		resp, err := q.ChangeMessageVisibility(r.msg.ReceiptHandle, secs)
		if err != nil {
			t.logf("fctest: extend visibility of %s in %s: %v", r.msg.MessageId, t.Queue, err)
			if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
				continue // already visible again: someone else will get it
			}
			kept = append(kept, r)
			continue
		}
		r.msg.ReceiptHandle = resp.ReceiptHandle
		r.invisibleUntil = time.Now().Add(time.Duration(secs) * time.Second)
		kept = append(kept, r)
	}
	return kept
}

// release makes messages that were received but not pushed visible again
// soon (MNS's minimum visibility timeout is 1 s).
func (t *MNSTrigger) release(q ali_mns.AliMNSQueue, batch []*received) {
	for _, r := range batch {
		if _, err := q.ChangeMessageVisibility(r.msg.ReceiptHandle, 1); err != nil {
			t.logf("fctest: release %s in %s: %v", r.msg.MessageId, t.Queue, err)
		}
	}
}

func (t *MNSTrigger) source(f *Function) MNSEventSource {
	region, account := t.Region, t.AccountID
	if region == "" {
		region = f.cfg.Region
	}
	if account == "" {
		account = f.cfg.AccountID
	}
	trigger := t.TriggerName
	if trigger == "" {
		trigger = t.Queue
	}
	return MNSEventSource{Region: region, AccountID: account, Queue: t.Queue,
		EventBus: "MNS-" + f.Name() + "-" + trigger}
}

func (t *MNSTrigger) pollWaitSeconds() int64 {
	w := t.PollWait
	if w <= 0 {
		w = defaultMNSPollWait
	}
	return min(max(int64(math.Ceil(w.Seconds())), 1), 5)
}

// visibilityTimeout is the queue's VisibilityTimeout, read once.
func (t *MNSTrigger) visibilityTimeout(q ali_mns.AliMNSQueue) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.visibility == 0 {
		t.visibility = mnsDefaultVisibility
		attrs, err := ali_mns.NewMNSQueueManager(t.client).GetQueueAttributes(q.Name())
		if err == nil && attrs.VisibilityTimeout > 0 {
			t.visibility = time.Duration(attrs.VisibilityTimeout) * time.Second
		}
	}
	return t.visibility
}

// queue returns an SDK handle for the named queue, creating the client on
// first use.
func (t *MNSTrigger) queue(name string) (q ali_mns.AliMNSQueue, err error) {
	if name == "" {
		return nil, errors.New("fctest: MNSTrigger.Queue is required")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client == nil {
		if t.Endpoint == "" || t.AccessKeyID == "" || t.AccessKeySecret == "" {
			return nil, errors.New("fctest: MNSTrigger needs Endpoint, AccessKeyID and AccessKeySecret")
		}
		// The SDK panics on an endpoint it cannot parse.
		defer func() {
			if p := recover(); p != nil {
				q, err = nil, fmt.Errorf("fctest: MNS client for %q: %v", t.Endpoint, p)
			}
		}()
		t.client = ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
			EndPoint:        t.Endpoint,
			AccessKeyId:     t.AccessKeyID,
			AccessKeySecret: t.AccessKeySecret,
			Token:           t.SecurityToken,
		})
	}
	return ali_mns.NewMNSQueue(name, t.client), nil
}

func (t *MNSTrigger) record(b MNSBatch) {
	t.mu.Lock()
	t.batches = append(t.batches, b)
	t.mu.Unlock()
}

func (t *MNSTrigger) logf(format string, args ...any) {
	if t.Logf != nil {
		t.Logf(format, args...)
	}
}

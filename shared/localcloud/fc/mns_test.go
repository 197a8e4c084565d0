package fc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
)

// mnsEnv is an MNS emulator with queues, plus an SDK client to produce.
type mnsEnv struct {
	srv    *mns.Server
	client ali_mns.MNSClient
}

func newMNS(t *testing.T, queues map[string]mns.QueueAttributes, opts ...mns.Option) *mnsEnv {
	t.Helper()
	srv := mns.NewServer(opts...)
	t.Cleanup(srv.Close)
	for name, attrs := range queues {
		if err := srv.CreateQueue(name, attrs); err != nil {
			t.Fatal(err)
		}
	}
	c := srv.Credential()
	client := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: srv.Endpoint(), AccessKeyId: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret})
	return &mnsEnv{srv: srv, client: client}
}

// send enqueues bodies and returns their message ids.
func (e *mnsEnv) send(t *testing.T, queue string, bodies ...string) []string {
	t.Helper()
	q := ali_mns.NewMNSQueue(queue, e.client)
	var ids []string
	for _, b := range bodies {
		resp, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: b, Priority: 8})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, resp.MessageId)
	}
	return ids
}

func (e *mnsEnv) trigger(queue string) *MNSTrigger {
	c := e.srv.Credential()
	return &MNSTrigger{Endpoint: e.srv.Endpoint(), AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret,
		Queue: queue, RetryDelay: 10 * time.Millisecond, PollWait: time.Second}
}

func (e *mnsEnv) bodies(queue string) []string {
	var out []string
	for _, m := range e.srv.Visible(queue) {
		out = append(out, m.Body)
	}
	return out
}

// pushedEvents decodes the batch events the function received.
func pushedEvents(t *testing.T, f *Function) [][]mnsCloudEvent {
	t.Helper()
	var out [][]mnsCloudEvent
	for _, inv := range f.Invocations() {
		var batch []mnsCloudEvent
		if err := json.Unmarshal(inv.Payload, &batch); err != nil {
			t.Fatalf("pushed event %s: %v", inv.Payload, err)
		}
		out = append(out, batch)
	}
	return out
}

func drain(t *testing.T, trig *MNSTrigger, f *Function, want int) {
	t.Helper()
	n, err := trig.DrainOnce(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("DrainOnce pushed %d messages, want %d", n, want)
	}
}

func TestMNSTriggerEventShape(t *testing.T) {
	f := startEcho(t, FunctionConfig{Name: "queue"})
	env := newMNS(t, map[string]mns.QueueAttributes{"rds-backup-work": {}})
	bodies := []string{`{"DBInstanceId":"rm-demo-mysql1"}`, `{"DBInstanceId":"rm-demo-pg1"}`}
	ids := env.send(t, "rds-backup-work", bodies...)
	trig := env.trigger("rds-backup-work")
	drain(t, trig, f, 2)

	b := trig.Batches()
	if len(b) != 1 || !b[0].Delivered || !b[0].Deleted || len(b[0].Attempts) != 1 {
		t.Fatalf("batches %+v", b)
	}
	got := decodeReply(t, b[0].Attempts[0].Response).event(t)
	if err := sameShape(got, fixture(t, "mns-queue.json")); err != nil {
		t.Errorf("event %s: %v", got, err)
	}
	var events []mnsCloudEvent
	if err := json.Unmarshal(got, &events); err != nil || len(events) != 2 {
		t.Fatalf("events %s: %v", got, err)
	}
	for i, e := range events {
		if e.ID != ids[i] || e.Data.MessageID != ids[i] || e.Data.MessageBody != bodies[i] || e.Data.RequestID == "" {
			t.Errorf("event %d: %+v", i, e)
		}
		if e.Source != "MNS-queue-rds-backup-work" || e.AliyunEventBusName != e.Source ||
			e.Subject != "acs:mns:cn-hangzhou:"+DefaultAccountID+":queues/rds-backup-work" ||
			e.Type != "mns:Queue:SendMessage" || e.SpecVersion != "1.0" || e.AliyunRegionID != "cn-hangzhou" {
			t.Errorf("event %d metadata: %+v", i, e)
		}
		enq, err1 := time.Parse(cloudEventTime, e.Time)
		pub, err2 := time.Parse(cloudEventTime, e.AliyunPublishTime)
		rec := env.srv.Messages("rds-backup-work")[i]
		if err1 != nil || err2 != nil || pub.Before(enq) || enq.UnixMilli() != rec.EnqueueTime.UnixMilli() {
			t.Errorf("event %d times %q %q, enqueued %s", i, e.Time, e.AliyunPublishTime, rec.EnqueueTime)
		}
	}
	if left := env.bodies("rds-backup-work"); len(left) != 0 {
		t.Errorf("messages left after a successful push: %v", left)
	}
}

func TestMNSTriggerBatchSize(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}})
	bodies := make([]string, 25)
	for i := range bodies {
		bodies[i] = "m" + string(rune('a'+i))
	}
	env.send(t, "work", bodies...)
	trig := env.trigger("work")
	trig.BatchSize = 10
	for _, want := range []int{10, 10, 5, 0} {
		drain(t, trig, f, want)
	}
	var sizes []int
	var seen []string
	for _, batch := range pushedEvents(t, f) {
		sizes = append(sizes, len(batch))
		for _, e := range batch {
			seen = append(seen, e.Data.MessageBody)
		}
	}
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 5 {
		t.Errorf("batch sizes %v, want [10 10 5]", sizes)
	}
	if strings.Join(seen, ",") != strings.Join(bodies, ",") {
		t.Errorf("delivered %v", seen)
	}
	if left := env.bodies("work"); len(left) != 0 {
		t.Errorf("left in queue: %v", left)
	}
}

func TestMNSTriggerRetriesThenDeadLetters(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}, "dlq": {}})
	bodies := []string{`{"fctest":{"fail":"cannot"}}`, "second"}
	env.send(t, "work", bodies...)
	trig := env.trigger("work")
	trig.Retries = 2
	trig.DeadLetterQueue = "dlq"
	drain(t, trig, f, 2)

	b := trig.Batches()[0]
	if len(b.Attempts) != 3 || b.Delivered || !b.DeadLettered || !b.Deleted {
		t.Fatalf("batch %+v", b)
	}
	for _, a := range b.Attempts {
		if a.Error == nil || a.Error.ErrorMessage != "cannot" {
			t.Errorf("attempt %+v", a)
		}
	}
	// The whole batch is pushed again, same events.
	events := pushedEvents(t, f)
	if len(events) != 3 || events[2][0].ID != events[0][0].ID || len(events[2]) != 2 {
		t.Errorf("retried events %+v", events)
	}
	if got := env.bodies("dlq"); strings.Join(got, "|") != strings.Join(bodies, "|") {
		t.Errorf("dead-letter queue holds %q, want %q", got, bodies)
	}
	if left := env.bodies("work"); len(left) != 0 {
		t.Errorf("left in queue: %v", left)
	}

	// Without a dead-letter queue the batch is discarded.
	env.send(t, "work", bodies[0])
	trig.DeadLetterQueue = ""
	trig.Retries = -1
	drain(t, trig, f, 1)
	if b := trig.Batches()[1]; len(b.Attempts) != 1 || b.DeadLettered || !b.Deleted {
		t.Errorf("batch %+v", b)
	}
	if left := env.bodies("work"); len(left) != 0 {
		t.Errorf("left in queue: %v", left)
	}
}

func TestMNSTriggerRetrySucceeds(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}, "dlq": {}})
	env.send(t, "work", `{"fctest":{"failTimes":1,"key":"k"}}`)
	trig := env.trigger("work")
	trig.DeadLetterQueue = "dlq"
	drain(t, trig, f, 1)
	b := trig.Batches()[0]
	if len(b.Attempts) != 2 || !b.Delivered || b.DeadLettered {
		t.Errorf("batch %+v", b)
	}
	if n := len(env.srv.Visible("dlq")); n != 0 {
		t.Errorf("%d dead letters after a successful retry", n)
	}
}

func TestMNSTriggerBase64DecodeAndRawData(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}})
	env.send(t, "work", base64.StdEncoding.EncodeToString([]byte("hello world")), "not base64!")
	trig := env.trigger("work")
	trig.Base64Decode = true
	trig.Schema = SchemaRawData
	drain(t, trig, f, 2)

	raw := f.Invocations()[0].Payload
	var data []map[string]any
	if err := json.Unmarshal(raw, &data); err != nil || len(data) != 2 {
		t.Fatalf("RawData event %s: %v", raw, err)
	}
	for i, want := range []string{"hello world", "not base64!"} {
		if len(data[i]) != 3 || data[i]["messageBody"] != want || data[i]["messageId"] == "" || data[i]["requestId"] == "" {
			t.Errorf("element %d: %v", i, data[i])
		}
	}
}

func TestMNSTriggerRunBatchesWithinWindowAndStops(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	// The MNS server tells when the trigger received and deleted messages.
	events := make(chan string, 64)
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {}}, mns.WithObserver(func(ev mns.CallEvent) bool {
		if ev.Phase == mns.PhaseAfter && ev.Code == "" && (ev.Op == "BatchReceiveMessage" || ev.Op == "BatchDeleteMessage") {
			events <- ev.Op
		}
		return false
	}))
	trig := env.trigger("work")
	trig.BatchSize = 3
	trig.BatchWindow = time.Minute // the batch is pushed when it is full, long before

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- trig.Run(ctx, f) }()
	env.send(t, "work", "a")
	if op := <-events; op != "BatchReceiveMessage" { // a is taken, the window opens
		t.Fatalf("first event %s", op)
	}
	env.send(t, "work", "b", "c")
	for op := range events {
		if op == "BatchDeleteMessage" { // pushed and deleted
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	b := trig.Batches()
	if len(b) != 1 || len(b[0].MessageIDs) != 3 || !b[0].Delivered || !b[0].Deleted {
		t.Fatalf("batches %+v", b)
	}
	if left := env.bodies("work"); len(left) != 0 {
		t.Errorf("left in queue: %v", left)
	}
}

func TestMNSTriggerKeepsBatchInvisibleWhileRetrying(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {VisibilityTimeout: 1}, "dlq": {}})
	env.send(t, "work", `{"fctest":{"fail":"x"}}`)
	trig := env.trigger("work")
	trig.Retries = 1
	trig.RetryDelay = 1200 * time.Millisecond // longer than the queue's visibility timeout
	trig.DeadLetterQueue = "dlq"
	drain(t, trig, f, 1)

	if n := len(env.srv.Visible("dlq")); n != 1 {
		t.Errorf("%d dead letters, want 1", n)
	}
	if left := env.bodies("work"); len(left) != 0 {
		t.Errorf("left in queue: %v", left)
	}
	for _, m := range env.srv.Messages("work") {
		if m.DequeueCount != 1 {
			t.Errorf("message received %d times", m.DequeueCount)
		}
	}
	extended := 0
	for _, c := range env.srv.Calls() {
		if c.Op == "ChangeMessageVisibility" && c.Code == "" {
			extended++
		}
	}
	if extended == 0 {
		t.Error("the trigger never extended the message's visibility")
	}
}

func TestMNSTriggerConfigErrors(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	trig := &MNSTrigger{Endpoint: "http://127.0.0.1:1", AccessKeyID: "a", AccessKeySecret: "b", Queue: "q"}
	if _, err := trig.DrainOnce(context.Background(), f); err == nil {
		t.Error("an endpoint the SDK cannot parse was accepted")
	}
	env := newMNS(t, nil)
	if err := env.trigger("missing").Run(context.Background(), f); err == nil {
		t.Error("Run on a missing queue returned nil")
	}
}

// TestMNSTriggerDequeueCount: the trigger receives each message's
// DequeueCount from MNS (here 2: a consumer received it once before and let
// its visibility time out) and records it, but the pushed event's data has
// only the documented requestId, messageId and messageBody: the function
// cannot see the count.
func TestMNSTriggerDequeueCount(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	env := newMNS(t, map[string]mns.QueueAttributes{"work": {VisibilityTimeout: 30}}, mns.WithClock(clock))
	env.send(t, "work", "seen before", "fresh")

	// Another consumer receives "seen before" and never deletes it.
	respCh, errCh := make(chan ali_mns.MessageReceiveResponse, 1), make(chan error, 1)
	ali_mns.NewMNSQueue("work", env.client).ReceiveMessage(respCh, errCh)
	select {
	case m := <-respCh:
		if m.MessageBody != "seen before" || m.DequeueCount != 1 {
			t.Fatalf("first receive %+v", m)
		}
	case err := <-errCh:
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(30 * time.Second) // its visibility timeout ends
	mu.Unlock()

	trig := env.trigger("work")
	drain(t, trig, f, 2)
	b := trig.Batches()
	if len(b) != 1 || !b[0].Delivered {
		t.Fatalf("batches %+v", b)
	}
	counts := map[string]int64{}
	for _, m := range env.srv.Messages("work") {
		counts[m.MessageID] = int64(m.DequeueCount)
	}
	for i, id := range b[0].MessageIDs {
		if b[0].DequeueCounts[i] != counts[id] {
			t.Errorf("message %s: recorded DequeueCount %d, MNS says %d", id, b[0].DequeueCounts[i], counts[id])
		}
	}
	if got := fmt.Sprint(b[0].DequeueCounts); got != "[2 1]" && got != "[1 2]" {
		t.Errorf("DequeueCounts %s, want 2 for the message received before and 1 for the other", got)
	}

	var events []map[string]json.RawMessage
	if err := json.Unmarshal(b[0].Event, &events); err != nil || len(events) != 2 {
		t.Fatalf("event %s: %v", b[0].Event, err)
	}
	for _, e := range events {
		var data map[string]any
		if err := json.Unmarshal(e["data"], &data); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if fmt.Sprint(keys) != "[messageBody messageId requestId]" {
			t.Errorf("data keys %v, want only the documented messageBody, messageId, requestId", keys)
		}
	}
}

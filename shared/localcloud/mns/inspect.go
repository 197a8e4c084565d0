package mns

import (
	"sort"
	"time"
)

// Call is one request the server answered (or dropped), for assertions.
type Call struct {
	Time         time.Time `json:"time"`                   // server clock when the request arrived
	Op           string    `json:"op"`                     // SDK method name, e.g. "SendMessage"; "Unknown" for unroutable requests
	Queue        string    `json:"queue,omitempty"`        // queue or topic name
	Subscription string    `json:"subscription,omitempty"` // for subscription operations
	Method       string    `json:"method"`
	URI          string    `json:"uri"` // request URI as signed: the raw one without dot segments ("/./queues/q" is "/queues/q")
	AccessKeyID  string    `json:"accessKeyId,omitempty"`
	Status       int       `json:"status"`         // 0: connection dropped by a fault; 499: client went away
	Code         string    `json:"code,omitempty"` // MNS error code, "" on success
	RequestID    string    `json:"requestId"`
	Fault        bool      `json:"fault,omitempty"` // an injected fault matched this call
	Performed    bool      `json:"performed"`       // the operation ran (with an after fault or a crash, its answer was then lost)
}

// MessageRecord is a snapshot of one message.
type MessageRecord struct {
	Queue            string    `json:"queue"`
	MessageID        string    `json:"messageId"`
	Body             string    `json:"body"`
	BodyMD5          string    `json:"bodyMd5"`
	Priority         int       `json:"priority"`
	EnqueueTime      time.Time `json:"enqueueTime"`
	DelaySeconds     int       `json:"delaySeconds"` // effective delay (message's, else queue's)
	DequeueCount     int       `json:"dequeueCount"`
	FirstDequeueTime time.Time `json:"firstDequeueTime,omitzero"`
	NextVisibleTime  time.Time `json:"nextVisibleTime"`
	ReceiptHandle    string    `json:"receiptHandle,omitempty"` // the current (only valid) handle
	Deleted          bool      `json:"deleted"`                 // deleted by a client, or expired
	DeleteTime       time.Time `json:"deleteTime,omitzero"`     // when it was deleted or expired
	Expired          bool      `json:"expired,omitempty"`       // removed by the queue's MessageRetentionPeriod
	State            string    `json:"state"`                   // StateActive, StateInactive, StateDelayed, StateDeleted or StateExpired, at snapshot time
	Source           string    `json:"source,omitempty"`        // "topic/<t>/subscription/<s>" for topic deliveries
}

func (m *message) record(now time.Time) MessageRecord {
	return MessageRecord{
		Queue:            m.queue,
		MessageID:        m.id,
		Body:             m.body,
		BodyMD5:          m.md5,
		Priority:         m.priority,
		EnqueueTime:      m.enqueued,
		DelaySeconds:     m.delay,
		DequeueCount:     m.dequeues,
		FirstDequeueTime: m.firstDeq,
		NextVisibleTime:  m.visibleAt,
		ReceiptHandle:    m.handle,
		Deleted:          m.deleted,
		DeleteTime:       m.deletedAt,
		Expired:          m.expired,
		State:            m.state(now),
		Source:           m.source,
	}
}

// Messages returns every message ever enqueued to the named queue, in
// order, deleted ones included (also across DeleteQueue and re-creation).
func (s *Server) Messages(queue string) []MessageRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if q, ok := s.queues[queue]; ok {
		q.expire(now)
	}
	var out []MessageRecord
	for _, m := range s.logs[queue] {
		out = append(out, m.record(now))
	}
	return out
}

// MessagesFrom is Messages(queue)[from:] (nil when from is past the end)
// without recording the messages before from: a watcher that polls a
// growing queue reads each message once.
func (s *Server) MessagesFrom(queue string, from int) []MessageRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if q, ok := s.queues[queue]; ok {
		q.expire(now)
	}
	logs := s.logs[queue]
	if from < 0 {
		from = 0
	}
	if from >= len(logs) {
		return nil
	}
	out := make([]MessageRecord, 0, len(logs)-from)
	for _, m := range logs[from:] {
		out = append(out, m.record(now))
	}
	return out
}

// Visible returns the messages currently in the queue, i.e. not deleted:
// active, in flight (inactive) and delayed alike, in enqueue order. Filter
// on MessageRecord.State for only one kind.
func (s *Server) Visible(queue string) []MessageRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[queue]
	if !ok {
		return nil
	}
	now := s.now()
	q.expire(now)
	out := make([]MessageRecord, 0, len(q.msgs))
	for _, m := range q.msgs {
		out = append(out, m.record(now))
	}
	return out
}

// Calls returns the call log, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Counts returns how many requests arrived per "Op name" (e.g.
// "SendMessage rds-backup-notify"; just "Op" when the operation names no
// queue or topic). Every attempt counts, failed, faulted and retried ones
// included.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Snapshot is what State returns.
type Snapshot struct {
	Endpoint string          `json:"endpoint"`
	Region   string          `json:"region"`
	Account  string          `json:"accountId"`
	Now      time.Time       `json:"now"`
	Queues   []QueueState    `json:"queues"`
	Topics   []TopicState    `json:"topics"`
	Counts   map[string]int  `json:"counts"`
	Faults   []FaultSnapshot `json:"faults"`
}

// QueueState is one queue in a Snapshot.
type QueueState struct {
	Name           string          `json:"name"`
	Attributes     QueueAttributes `json:"attributes"`
	LoggingEnabled bool            `json:"loggingEnabled"`
	Active         int             `json:"activeMessages"`
	Inactive       int             `json:"inactiveMessages"`
	Delayed        int             `json:"delayMessages"`
	Enqueued       int             `json:"enqueuedTotal"` // every message ever enqueued under this name
}

// TopicState is one topic in a Snapshot.
type TopicState struct {
	Name               string              `json:"name"`
	MaximumMessageSize int                 `json:"maximumMessageSize"`
	Published          int                 `json:"published"`
	Subscriptions      []SubscriptionState `json:"subscriptions"`
}

// SubscriptionState is one subscription in a Snapshot.
type SubscriptionState struct {
	Name                string `json:"name"`
	Endpoint            string `json:"endpoint"`
	Queue               string `json:"queue"`
	NotifyContentFormat string `json:"notifyContentFormat"`
	NotifyStrategy      string `json:"notifyStrategy"`
	FilterTag           string `json:"filterTag,omitempty"`
}

// FaultSnapshot is a pending fault in a Snapshot.
type FaultSnapshot struct {
	Fault
	LatencyMs int `json:"latencyMs,omitempty"`
	Left      int `json:"left"` // -1: unlimited
	Fired     int `json:"fired"`
}

// Faults returns the faults not used up, in the order they are checked.
func (s *Server) Faults() []FaultSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultsLocked()
}

func (s *Server) faultsLocked() []FaultSnapshot {
	out := []FaultSnapshot{}
	for _, f := range s.faults {
		left := f.left
		if left < 0 {
			left = -1
		}
		out = append(out, FaultSnapshot{Fault: f.f, LatencyMs: int(f.f.Latency / time.Millisecond), Left: left, Fired: f.fired})
	}
	return out
}

// State returns a JSON-marshalable Snapshot of queues (attributes and
// message counts), topics with their subscriptions, per-op counts and
// pending faults.
func (s *Server) State() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	snap := Snapshot{Endpoint: s.endpoint, Region: s.region, Account: s.account, Now: now,
		Queues: []QueueState{}, Topics: []TopicState{}, Counts: map[string]int{}}
	for k, v := range s.counts {
		snap.Counts[k] = v
	}
	for _, q := range s.queues {
		a, i, d := q.counts(now)
		snap.Queues = append(snap.Queues, QueueState{Name: q.name, Attributes: q.attrs, LoggingEnabled: q.logging,
			Active: a, Inactive: i, Delayed: d, Enqueued: len(s.logs[q.name])})
	}
	sort.Slice(snap.Queues, func(i, j int) bool { return snap.Queues[i].Name < snap.Queues[j].Name })
	for _, t := range s.topics {
		ts := TopicState{Name: t.name, MaximumMessageSize: t.maxSize, Published: t.published, Subscriptions: []SubscriptionState{}}
		for _, sub := range t.subs {
			ts.Subscriptions = append(ts.Subscriptions, SubscriptionState{Name: sub.name, Endpoint: sub.endpoint, Queue: sub.queue,
				NotifyContentFormat: sub.format, NotifyStrategy: sub.strategy, FilterTag: sub.filterTag})
		}
		sort.Slice(ts.Subscriptions, func(i, j int) bool { return ts.Subscriptions[i].Name < ts.Subscriptions[j].Name })
		snap.Topics = append(snap.Topics, ts)
	}
	sort.Slice(snap.Topics, func(i, j int) bool { return snap.Topics[i].Name < snap.Topics[j].Name })
	snap.Faults = s.faultsLocked()
	return snap
}

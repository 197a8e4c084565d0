package mns

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// QueueAttributes are a queue's settings, in seconds and bytes like the API.
// In CreateQueue a zero MaximumMessageSize, MessageRetentionPeriod or
// VisibilityTimeout means the MNS default (65536, 345600, 30).
type QueueAttributes struct {
	DelaySeconds           int `json:"delaySeconds"`
	MaximumMessageSize     int `json:"maximumMessageSize"`
	MessageRetentionPeriod int `json:"messageRetentionPeriod"`
	VisibilityTimeout      int `json:"visibilityTimeout"`
	PollingWaitSeconds     int `json:"pollingWaitSeconds"`
}

// maxBatchBytes is the most message-body bytes one BatchSendMessage may
// carry in all ([MBATCH]: "16 messages, 64 KB total").
const maxBatchBytes = 64 * 1024

// defaultQueueAttributes are the MNS defaults.
var defaultQueueAttributes = QueueAttributes{
	DelaySeconds:           0,
	MaximumMessageSize:     65536,
	MessageRetentionPeriod: 345600,
	VisibilityTimeout:      30,
	PollingWaitSeconds:     0,
}

type queue struct {
	name     string
	attrs    QueueAttributes
	logging  bool
	created  time.Time
	modified time.Time
	msgs     []*message          // live (not deleted) messages in enqueue order
	handles  map[string]*message // current receipt handle -> message
	// oldest is at most the enqueue time of every message in msgs (zero
	// when msgs is empty): expire walks msgs only once the oldest can have
	// expired, not on every operation (a notification queue of a fleet's
	// thousands of outcomes, read every few milliseconds by a test).
	oldest time.Time
}

type message struct {
	seq       uint64
	queue     string
	id        string
	body      string
	md5       string
	priority  int
	enqueued  time.Time
	delay     int
	visibleAt time.Time
	firstDeq  time.Time
	dequeues  int
	handle    string
	deleted   bool      // deleted by a client, or expired
	deletedAt time.Time // when it was deleted, or when it expired
	expired   bool      // removed by the queue's MessageRetentionPeriod
	source    string
	stripe    int // WithPartialBatches: the storage stripe it is on
}

// Message states as reported in MessageRecord.State.
const (
	StateActive   = "active"   // can be received now
	StateInactive = "inactive" // received, invisible until NextVisibleTime
	StateDelayed  = "delayed"  // never received, delay not yet over
	StateDeleted  = "deleted"
	StateExpired  = "expired" // older than the queue's MessageRetentionPeriod: gone
)

func (m *message) state(now time.Time) string {
	switch {
	case m.expired:
		return StateExpired
	case m.deleted:
		return StateDeleted
	case now.Before(m.visibleAt) && m.dequeues == 0:
		return StateDelayed
	case now.Before(m.visibleAt):
		return StateInactive
	}
	return StateActive
}

// expire removes the messages sent MessageRetentionPeriod or longer ago
// ([MCQ]: retention counts from the time a message was sent), whatever
// their state: delayed, active or in flight. An expired message is never
// received again, and its receipt handle is stale. Every operation on a
// queue's messages calls it first, so expiry follows the server's clock
// (WithClock) without a timer.
func (q *queue) expire(now time.Time) {
	retention := time.Duration(q.attrs.MessageRetentionPeriod) * time.Second
	if len(q.msgs) == 0 || now.Before(q.oldest.Add(retention)) {
		return // none can have expired
	}
	kept := q.msgs[:0]
	var oldest time.Time
	for _, m := range q.msgs {
		if end := m.enqueued.Add(retention); !now.Before(end) {
			m.deleted, m.deletedAt, m.expired = true, end, true
			delete(q.handles, m.handle)
			continue
		}
		if len(kept) == 0 || m.enqueued.Before(oldest) {
			oldest = m.enqueued
		}
		kept = append(kept, m)
	}
	clear(q.msgs[len(kept):])
	q.msgs, q.oldest = kept, oldest
}

func (q *queue) counts(now time.Time) (active, inactive, delayed int) {
	q.expire(now)
	for _, m := range q.msgs {
		switch m.state(now) {
		case StateActive:
			active++
		case StateInactive:
			inactive++
		case StateDelayed:
			delayed++
		}
	}
	return
}

// validName checks a queue (kind "queue", at most 120 characters), topic or
// subscription name (at most 256): letters, digits and '-', not leading.
func validName(kind, name string) *Error {
	maxLen := 256
	if kind == "queue" {
		maxLen = 120
	}
	if len(name) > maxLen || name == "" {
		code := "QueueNameLengthError"
		if kind == "topic" {
			code = "TopicNameLengthError"
		} else if kind == "subscription" {
			code = "SubscriptionNameLengthError"
		}
		return newErr(http.StatusBadRequest, code, "The length of the %s name must be between 1 and %d: %q.", kind, maxLen, name)
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (c == '-' && i > 0)
		if !ok {
			code := "InvalidQueueName"
			if kind == "topic" {
				code = "TopicNameInvalid"
			} else if kind == "subscription" {
				code = "SubsriptionNameInvalid" // sic, as in the SDK's mapping
			}
			return newErr(http.StatusBadRequest, code,
				"The %s name %q is invalid: letters, digits and '-' only, starting with a letter or digit.", kind, name)
		}
	}
	return nil
}

func checkRange(field string, v, lo, hi int) *Error {
	if v < lo || v > hi {
		return errInvalidArgument("The value of %s should between %d and %d.", field, lo, hi)
	}
	return nil
}

func (a QueueAttributes) validate() *Error {
	for _, c := range []struct {
		f         string
		v, lo, hi int
	}{
		{"DelaySeconds", a.DelaySeconds, 0, 604800},
		{"MaximumMessageSize", a.MaximumMessageSize, 1024, 65536},
		{"MessageRetentionPeriod", a.MessageRetentionPeriod, 60, 604800},
		{"VisibilityTimeout", a.VisibilityTimeout, 1, 43200},
		{"PollingWaitSeconds", a.PollingWaitSeconds, 0, 30},
	} {
		if e := checkRange(c.f, c.v, c.lo, c.hi); e != nil {
			return e
		}
	}
	return nil
}

func (a QueueAttributes) withDefaults() QueueAttributes {
	if a.MaximumMessageSize == 0 {
		a.MaximumMessageSize = defaultQueueAttributes.MaximumMessageSize
	}
	if a.MessageRetentionPeriod == 0 {
		a.MessageRetentionPeriod = defaultQueueAttributes.MessageRetentionPeriod
	}
	if a.VisibilityTimeout == 0 {
		a.VisibilityTimeout = defaultQueueAttributes.VisibilityTimeout
	}
	return a
}

func parseIntField(field string, p *string, dst *int) *Error {
	if p == nil {
		return nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(*p))
	if err != nil {
		return errInvalidArgument("The value of %s should be an integer, not %q.", field, *p)
	}
	*dst = v
	return nil
}

// apply overlays the fields present in rq on a.
func (rq *reqQueue) apply(a QueueAttributes, logging bool) (QueueAttributes, bool, *Error) {
	for _, f := range []struct {
		name string
		p    *string
		dst  *int
	}{
		{"DelaySeconds", rq.DelaySeconds, &a.DelaySeconds},
		{"MaximumMessageSize", rq.MaximumMessageSize, &a.MaximumMessageSize},
		{"MessageRetentionPeriod", rq.MessageRetentionPeriod, &a.MessageRetentionPeriod},
		{"VisibilityTimeout", rq.VisibilityTimeout, &a.VisibilityTimeout},
		{"PollingWaitSeconds", rq.PollingWaitSeconds, &a.PollingWaitSeconds},
	} {
		if e := parseIntField(f.name, f.p, f.dst); e != nil {
			return a, logging, e
		}
	}
	if rq.LoggingEnabled != nil {
		b, err := strconv.ParseBool(strings.TrimSpace(*rq.LoggingEnabled))
		if err != nil {
			return a, logging, errInvalidArgument("The value of LoggingEnabled should be true or false, not %q.", *rq.LoggingEnabled)
		}
		logging = b
	}
	return a, logging, a.validate()
}

// CreateQueue creates a queue directly (no SDK needed). Zero attributes take
// the MNS defaults. Creating an existing queue with the same attributes is a
// no-op; with different ones it returns an *Error with code QueueAlreadyExist.
func (s *Server) CreateQueue(name string, attrs QueueAttributes) error {
	_, e := s.createQueue(name, attrs.withDefaults(), false)
	if e != nil {
		return e
	}
	return nil
}

// createQueue returns created=false when an identical queue already existed.
func (s *Server) createQueue(name string, attrs QueueAttributes, logging bool) (bool, *Error) {
	if e := validName("queue", name); e != nil {
		return false, e
	}
	if e := attrs.validate(); e != nil {
		return false, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.queues[name]; ok {
		if q.attrs == attrs && q.logging == logging {
			return false, nil
		}
		return false, newErr(http.StatusConflict, "QueueAlreadyExist", "The queue you want to create is already exist with different attributes.")
	}
	now := s.now()
	s.queues[name] = &queue{name: name, attrs: attrs, logging: logging, created: now, modified: now, handles: map[string]*message{}}
	return true, nil
}

func (s *Server) queueURL(name string) string { return s.hostID() + "/queues/" + name }

// ---- queue management handlers ----

func (s *Server) createQueueHTTP(req *request) reply {
	var rq reqQueue
	if len(req.body) > 0 {
		if e := decodeXML(req.body, "Queue", &rq); e != nil {
			return fail(e)
		}
	}
	attrs, logging, e := rq.apply(defaultQueueAttributes, false)
	if e != nil {
		return fail(e)
	}
	created, e := s.createQueue(req.name, attrs, logging)
	if e != nil {
		return fail(e)
	}
	if !created {
		return reply{status: http.StatusNoContent}
	}
	return reply{status: http.StatusCreated, header: map[string]string{"Location": s.queueURL(req.name)}}
}

func (s *Server) setQueueAttributes(req *request) reply {
	var rq reqQueue
	if e := decodeXML(req.body, "Queue", &rq); e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[req.name]
	if !ok {
		return fail(errQueueNotExist())
	}
	attrs, logging, e := rq.apply(q.attrs, q.logging)
	if e != nil {
		return fail(e)
	}
	q.attrs, q.logging, q.modified = attrs, logging, s.now()
	s.notifyLocked()
	return reply{status: http.StatusNoContent}
}

func (s *Server) queueAttrsLocked(q *queue, now time.Time) xmlQueueAttrs {
	a, i, d := q.counts(now)
	return xmlQueueAttrs{
		QueueName:              q.name,
		CreateTime:             q.created.Unix(),
		LastModifyTime:         q.modified.Unix(),
		DelaySeconds:           intp(q.attrs.DelaySeconds),
		MaximumMessageSize:     intp(q.attrs.MaximumMessageSize),
		MessageRetentionPeriod: intp(q.attrs.MessageRetentionPeriod),
		VisibilityTimeout:      intp(q.attrs.VisibilityTimeout),
		PollingWaitSeconds:     intp(q.attrs.PollingWaitSeconds),
		ActiveMessages:         intp(a),
		InactiveMessages:       intp(i),
		DelayMessages:          intp(d),
		LoggingEnabled:         boolText(q.logging),
	}
}

func (s *Server) getQueueAttributes(req *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[req.name]
	if !ok {
		return fail(errQueueNotExist())
	}
	return reply{status: http.StatusOK, body: xmlQueueAttrsDoc{xmlQueueAttrs: s.queueAttrsLocked(q, s.now())}}
}

func (s *Server) deleteQueue(req *request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[req.name]
	if !ok {
		return fail(errQueueNotExist())
	}
	now := s.now()
	for _, m := range q.msgs {
		m.deleted, m.deletedAt = true, now
	}
	delete(s.queues, req.name)
	s.notifyLocked()
	return reply{status: http.StatusNoContent}
}

// listParams reads x-mns-marker, x-mns-ret-number and x-mns-prefix.
func listParams(req *request) (marker, prefix string, n int, e *Error) {
	h := req.r.Header
	marker, prefix, n = h.Get("x-mns-marker"), h.Get("x-mns-prefix"), 1000
	if v := h.Get("x-mns-ret-number"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			return "", "", 0, errInvalidArgument("The value of x-mns-ret-number should between 1 and 1000.")
		}
	}
	return marker, prefix, n, nil
}

// page selects names with prefix, from marker on, at most n; next is the
// marker of the following page.
func page(names []string, marker, prefix string, n int) (out []string, next string) {
	sort.Strings(names)
	for _, nm := range names {
		if !strings.HasPrefix(nm, prefix) || nm < marker {
			continue
		}
		if len(out) == n {
			return out, nm
		}
		out = append(out, nm)
	}
	return out, ""
}

func (s *Server) listQueues(req *request) reply {
	marker, prefix, n, e := listParams(req)
	if e != nil {
		return fail(e)
	}
	withMeta := req.op == "ListQueueDetail"
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.queues))
	for nm := range s.queues {
		names = append(names, nm)
	}
	sel, next := page(names, marker, prefix, n)
	out := xmlQueueList{NextMarker: next}
	now := s.now()
	for _, nm := range sel {
		var a xmlQueueAttrs
		if withMeta {
			a = s.queueAttrsLocked(s.queues[nm], now)
		}
		a.QueueURL = s.queueURL(nm)
		out.Queues = append(out.Queues, a)
	}
	return reply{status: http.StatusOK, body: out}
}

// ---- messages ----

// parsedMessage is a validated send request.
type parsedMessage struct {
	body     string
	delay    int // -1: use the queue's
	priority int
}

func parseSendEntry(m reqMessage, maxSize int) (parsedMessage, *Error) {
	pm := parsedMessage{delay: -1, priority: 8}
	if m.MessageBody == nil || *m.MessageBody == "" {
		return pm, errInvalidArgument("The MessageBody should not be empty.")
	}
	pm.body = *m.MessageBody
	if len(pm.body) > maxSize {
		return pm, errInvalidArgument("The length of MessageBody (%d bytes) is larger than the queue's MaximumMessageSize (%d).", len(pm.body), maxSize)
	}
	if m.DelaySeconds != nil {
		var d int
		if e := parseIntField("DelaySeconds", m.DelaySeconds, &d); e != nil {
			return pm, e
		}
		if e := checkRange("DelaySeconds", d, 0, 604800); e != nil {
			return pm, e
		}
		if d > 0 {
			pm.delay = d
		}
	}
	if m.Priority != nil {
		var p int
		if e := parseIntField("Priority", m.Priority, &p); e != nil {
			return pm, e
		}
		if p != 0 { // the SDK sends 0 when unset: take it as the default 8
			if e := checkRange("Priority", p, 1, 16); e != nil {
				return pm, e
			}
			pm.priority = p
		}
	}
	return pm, nil
}

// enqueueLocked appends a message to q and returns it. s.mu must be held.
func (s *Server) enqueueLocked(q *queue, pm parsedMessage, source string, now time.Time) *message {
	delay := pm.delay
	if delay < 0 {
		delay = q.attrs.DelaySeconds
	}
	s.seq++
	m := &message{
		seq:       s.seq,
		queue:     q.name,
		id:        fmt.Sprintf("%016X-1-%011X-%09X", s.idBase, now.UnixMilli(), s.seq),
		body:      pm.body,
		md5:       bodyMD5(pm.body),
		priority:  pm.priority,
		enqueued:  now,
		delay:     delay,
		visibleAt: now.Add(time.Duration(delay) * time.Second),
		source:    source,
	}
	if s.stripes > 1 {
		m.stripe = s.stripeR.IntN(s.stripes)
	}
	if delay > 0 {
		// A delayed message can be deleted (or its delay changed) with the
		// receipt handle returned by SendMessage.
		s.newHandleLocked(q, m, now)
	}
	if len(q.msgs) == 0 || m.enqueued.Before(q.oldest) {
		q.oldest = m.enqueued
	}
	q.msgs = append(q.msgs, m)
	s.logs[q.name] = append(s.logs[q.name], m)
	s.notifyLocked()
	return m
}

// newHandleLocked gives m a fresh receipt handle, invalidating the old one.
func (s *Server) newHandleLocked(q *queue, m *message, now time.Time) {
	if m.handle != "" {
		delete(q.handles, m.handle)
	}
	s.seq++
	raw := fmt.Sprintf("%d-%d-%d-%d", m.seq, now.Unix(), m.dequeues, s.seq)
	m.handle = "1-" + base64.StdEncoding.EncodeToString([]byte(raw))
	q.handles[m.handle] = m
}

func wellFormedHandle(h string) bool {
	rest, ok := strings.CutPrefix(h, "1-")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return false
	}
	parts := strings.Split(string(raw), "-")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 64); err != nil {
			return false
		}
	}
	return true
}

// liveByHandle finds the message whose current handle is h and that
// is still invisible (received or delayed). The server lock must be held.
func (q *queue) liveByHandle(h string, now time.Time) (*message, *Error) {
	if !wellFormedHandle(h) {
		return nil, errReceiptHandle(h)
	}
	q.expire(now)
	m, ok := q.handles[h]
	if !ok || m.deleted || !now.Before(m.visibleAt) {
		return nil, errStaleHandle()
	}
	return m, nil
}

func (q *queue) remove(m *message, now time.Time) {
	m.deleted, m.deletedAt = true, now
	delete(q.handles, m.handle)
	for i, x := range q.msgs {
		if x == m {
			q.msgs = append(q.msgs[:i:i], q.msgs[i+1:]...)
			break
		}
	}
}

func (s *Server) sendMessage(req *request) reply {
	rm, fast := fastMessage(req.body)
	if !fast {
		if e := decodeXML(req.body, "Message", &rm); e != nil {
			return fail(e)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[req.name]
	if !ok {
		return fail(errQueueNotExist())
	}
	pm, e := parseSendEntry(rm, q.attrs.MaximumMessageSize)
	if e != nil {
		return fail(e)
	}
	m := s.enqueueLocked(q, pm, "", s.now())
	return reply{status: http.StatusCreated, body: xmlSendResult{MessageID: m.id, MessageBodyMD5: m.md5, ReceiptHandle: m.handle}}
}

func (s *Server) batchSendMessage(req *request) reply {
	rm, fast := fastMessages(req.body)
	if !fast {
		if e := decodeXML(req.body, "Messages", &rm); e != nil {
			return fail(e)
		}
	}
	if len(rm.Messages) < 1 || len(rm.Messages) > 16 {
		return fail(errInvalidArgument("The count of messages in a batch should between 1 and 16, not %d.", len(rm.Messages)))
	}
	// [MBATCH]: at most 64 KB in all. The whole request is refused, like
	// the count limit (no entry is enqueued).
	total := 0
	for _, m := range rm.Messages {
		if m.MessageBody != nil {
			total += len(*m.MessageBody)
		}
	}
	if total > maxBatchBytes {
		return fail(errInvalidArgument("The total size of the messages in a batch should not exceed %d bytes, not %d.", maxBatchBytes, total))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[req.name]
	if !ok {
		return fail(errQueueNotExist())
	}
	now := s.now()
	out := xmlBatchSendResult{}
	failed := ""
	for _, entry := range rm.Messages {
		pm, e := parseSendEntry(entry, q.attrs.MaximumMessageSize)
		if e != nil {
			out.Messages = append(out.Messages, xmlBatchSendEntry{ErrorCode: e.Code, ErrorMessage: e.Message})
			if failed == "" {
				failed = e.Code
			}
			continue
		}
		m := s.enqueueLocked(q, pm, "", now)
		out.Messages = append(out.Messages, xmlBatchSendEntry{MessageID: m.id, MessageBodyMD5: m.md5})
	}
	if failed != "" {
		// Partial failure: a non-2xx status with the per-entry <Messages>
		// body; the SDK returns ERR_MNS_BATCH_OP_FAIL and the entries.
		return reply{status: http.StatusInternalServerError, body: out, code: failed}
	}
	return reply{status: http.StatusCreated, body: out}
}

func (m *message) received(withHandle bool) xmlReceived {
	r := xmlReceived{
		MessageID:      m.id,
		MessageBodyMD5: m.md5,
		MessageBody:    m.body,
		EnqueueTime:    m.enqueued.UnixMilli(),
		DequeueCount:   int64(m.dequeues),
		Priority:       int64(m.priority),
	}
	if !m.firstDeq.IsZero() {
		r.FirstDequeueTime = m.firstDeq.UnixMilli()
	}
	if withHandle {
		r.ReceiptHandle = m.handle
		r.NextVisibleTime = m.visibleAt.UnixMilli()
	}
	return r
}

// takeLocked returns up to n active messages, highest priority (lowest
// number) first, then oldest; unless peek, it receives them.
func (s *Server) takeLocked(q *queue, n int, peek bool, now time.Time) []xmlReceived {
	q.expire(now)
	var cand []*message
	for _, m := range q.msgs {
		if m.state(now) == StateActive {
			cand = append(cand, m)
		}
	}
	if s.stripes > 1 && len(cand) > 0 {
		cand = s.oneStripeLocked(cand)
	} else {
		sort.SliceStable(cand, func(i, j int) bool { return cand[i].priority < cand[j].priority })
	}
	if len(cand) > n {
		cand = cand[:n]
	}
	out := make([]xmlReceived, 0, len(cand))
	for _, m := range cand {
		if !peek {
			m.dequeues++
			if m.firstDeq.IsZero() {
				m.firstDeq = now
			}
			m.visibleAt = now.Add(time.Duration(q.attrs.VisibilityTimeout) * time.Second)
			s.newHandleLocked(q, m, now)
		}
		out = append(out, m.received(!peek))
	}
	return out
}

// oneStripeLocked keeps the candidates of one stripe, picked at random
// among the stripes that have any, in random order (WithPartialBatches).
func (s *Server) oneStripeLocked(cand []*message) []*message {
	var stripes []int
	for _, m := range cand {
		if !slices.Contains(stripes, m.stripe) {
			stripes = append(stripes, m.stripe)
		}
	}
	slices.Sort(stripes)
	pick := stripes[s.stripeR.IntN(len(stripes))]
	out := cand[:0:0]
	for _, m := range cand {
		if m.stripe == pick {
			out = append(out, m)
		}
	}
	s.stripeR.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// receive serves ReceiveMessage, BatchReceiveMessage, PeekMessage and
// BatchPeekMessage, long-polling for receives.
func (s *Server) receive(req *request, batch, peek bool) reply {
	n := 1
	if batch {
		v, err := strconv.Atoi(req.query.Get("numOfMessages"))
		if err != nil || v < 1 || v > 16 {
			return fail(errInvalidArgument("The value of numOfMessages should between 1 and 16."))
		}
		n = v
	}
	wait := -1
	if ws, ok := req.query["waitseconds"]; ok && !peek {
		v, err := strconv.Atoi(ws[0])
		if err != nil || v < 0 || v > 30 {
			return fail(errInvalidArgument("The value of waitseconds should between 0 and 30."))
		}
		wait = v
	}

	s.mu.Lock()
	q, ok := s.queues[req.name]
	if !ok {
		s.mu.Unlock()
		return fail(errQueueNotExist())
	}
	if wait < 0 {
		wait = q.attrs.PollingWaitSeconds
	}
	if peek {
		wait = 0
	}
	clockDeadline := s.now().Add(time.Duration(wait) * time.Second)
	s.mu.Unlock()

	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(time.Duration(wait) * time.Second)
		defer t.Stop()
		timeout = t.C
	}
	var tick *time.Ticker
	final := wait == 0
	for {
		s.mu.Lock()
		q, ok := s.queues[req.name]
		if !ok {
			s.mu.Unlock()
			return fail(errQueueNotExist())
		}
		now := s.now()
		got := s.takeLocked(q, n, peek, now)
		wake := s.wake
		s.mu.Unlock()

		if len(got) > 0 {
			if batch {
				return reply{status: http.StatusOK, body: xmlBatchReceiveResult{Messages: got}}
			}
			return reply{status: http.StatusOK, body: xmlReceiveResult{xmlReceived: got[0]}}
		}
		if final || !now.Before(clockDeadline) {
			return fail(errMessageNotExist())
		}
		if tick == nil {
			if !s.startPoll(req.name) {
				return fail(errMessageNotExist())
			}
			defer s.endPoll(req.name)
			tick = time.NewTicker(pollRecheck)
			defer tick.Stop()
			if s.waiting != nil {
				s.waiting(req.name)
			}
		}
		select {
		case <-wake:
		case <-tick.C:
		case <-timeout:
			final = true
		case <-s.done:
			final = true
		case <-req.r.Context().Done():
			return reply{aborted: true}
		}
	}
}

// startPoll counts a long poll that starts waiting on queue; false when
// WithLongPollLimit's cap is reached (the poll must not wait).
func (s *Server) startPoll(queue string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pollCap > 0 && s.polls[queue] >= s.pollCap {
		return false
	}
	s.polls[queue]++
	return true
}

func (s *Server) endPoll(queue string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.polls[queue]--; s.polls[queue] <= 0 {
		delete(s.polls, queue)
	}
}

func (s *Server) deleteMessage(req *request) reply {
	h, ok := req.query["ReceiptHandle"]
	if !ok || h[0] == "" {
		return fail(newErr(http.StatusBadRequest, "MissingReceiptHandle", "The ReceiptHandle parameter is required."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[req.name]
	if !ok {
		return fail(errQueueNotExist())
	}
	now := s.now()
	m, e := q.liveByHandle(h[0], now)
	if e != nil {
		return fail(e)
	}
	q.remove(m, now)
	return reply{status: http.StatusNoContent}
}

func (s *Server) batchDeleteMessage(req *request) reply {
	var rh reqReceiptHandles
	if e := decodeXML(req.body, "ReceiptHandles", &rh); e != nil {
		return fail(e)
	}
	if len(rh.Handles) < 1 || len(rh.Handles) > 16 {
		return fail(errInvalidArgument("The count of receipt handles in a batch should between 1 and 16, not %d.", len(rh.Handles)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[req.name]
	if !ok {
		return fail(errQueueNotExist())
	}
	now := s.now()
	var out xmlBatchDeleteErrors
	for _, h := range rh.Handles {
		m, e := q.liveByHandle(h, now)
		if e != nil {
			out.Errors = append(out.Errors, xmlDeleteError{ErrorCode: e.Code, ErrorMessage: e.Message, ReceiptHandle: h})
			continue
		}
		q.remove(m, now)
	}
	if len(out.Errors) > 0 {
		// Documented: 204 only if every handle succeeded; otherwise 404
		// with one <Error> per failed handle.
		return reply{status: http.StatusNotFound, body: out, code: out.Errors[0].ErrorCode}
	}
	return reply{status: http.StatusNoContent}
}

func (s *Server) changeVisibility(req *request) reply {
	h, ok := req.query["ReceiptHandle"]
	if !ok || h[0] == "" {
		return fail(newErr(http.StatusBadRequest, "MissingReceiptHandle", "The ReceiptHandle parameter is required."))
	}
	vs, ok := req.query["VisibilityTimeout"]
	if !ok || vs[0] == "" {
		return fail(newErr(http.StatusBadRequest, "MissingVisibilityTimeout", "The VisibilityTimeout parameter is required."))
	}
	vt, err := strconv.Atoi(vs[0])
	if err != nil || vt < 1 || vt > 43200 {
		return fail(errInvalidArgument("The value of VisibilityTimeout should between 1 and 43200 seconds."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[req.name]
	if !ok {
		return fail(errQueueNotExist())
	}
	now := s.now()
	m, e := q.liveByHandle(h[0], now)
	if e != nil {
		return fail(e)
	}
	m.visibleAt = now.Add(time.Duration(vt) * time.Second)
	s.newHandleLocked(q, m, now)
	return reply{status: http.StatusOK, body: xmlChangeVisibility{ReceiptHandle: m.handle, NextVisibleTime: m.visibleAt.UnixMilli()}}
}

package mns

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	localauth "github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/emukit"
)

// maxRequestBody bounds what the server reads of one request: 16 messages of
// 64 KiB, XML-escaped, fit comfortably.
const maxRequestBody = 8 << 20

// pollRecheck is how often a waiting long poll re-evaluates the queue even
// without a notification (delay and visibility expiry in real time).
const pollRecheck = 50 * time.Millisecond

// Server is a local MNS endpoint. Create it with NewServer; it listens on
// 127.0.0.1 until Close. All methods are safe for concurrent use.
type Server struct {
	now      func() time.Time
	dateNow  func() time.Time // what a request's Date is checked against
	store    *localauth.Store
	cred     localauth.Credential
	region   string
	account  string
	observer Observer
	waiting  func(queue string) // tests: a receive starts waiting for a message

	ln       net.Listener
	hs       *http.Server
	endpoint string
	idBase   uint64
	done     chan struct{}
	closer   sync.Once

	mu     sync.Mutex
	wake   chan struct{} // closed and replaced whenever queue contents change
	queues map[string]*queue
	topics map[string]*topic
	logs   map[string][]*message // every message ever enqueued, by queue name
	faults []*faultState
	rng    *rand.Rand // decides rate faults; seeded, so runs repeat

	stripes int            // WithPartialBatches: > 1 when receives read one stripe
	pollCap int            // WithLongPollLimit: most waiting polls per queue; 0: no limit
	polls   map[string]int // long polls waiting now, by queue
	stripeR *rand.Rand     // assigns stripes and picks them; seeded
	calls   []Call
	counts  map[string]int
	seq     uint64
	reqSeq  uint64
}

// Option configures a Server.
type Option func(*Server)

// WithCredentials makes the server accept the keys of st instead of a fresh
// store holding one generated key (Server.Credential is then zero).
func WithCredentials(st *localauth.Store) Option {
	return func(s *Server) { s.store = st }
}

// WithClock sets the clock used for message times, delays, visibility
// timeouts and (for the default credential store) STS expiry. After moving a
// fake clock forward, call Server.Wake so that waiting long polls notice.
func WithClock(now func() time.Time) Option {
	return func(s *Server) {
		if now != nil {
			s.now = now
		}
	}
}

// WithDateClock sets the clock a request's Date (or x-mns-date) is checked
// against: more than 15 minutes off is refused with 408 TimeExpired. It is
// time.Now by default, whatever WithClock says, because clients stamp Date
// from the real clock while the server's clock may be fake or run fast
// (the local cloud's MNSSpeed).
func WithDateClock(now func() time.Time) Option {
	return func(s *Server) {
		if now != nil {
			s.dateNow = now
		}
	}
}

// maxDateSkew is how far a request's Date may be from the server's time
// ([MSIG]: "more than 15 minutes" is invalid).
const maxDateSkew = 15 * time.Minute

// WithRegion sets the region and account id used in URLs, subscription
// endpoints and notifications (defaults "cn-hangzhou", "1234567890123456").
func WithRegion(region, accountID string) Option {
	return func(s *Server) { s.region, s.account = region, accountID }
}

// WithFaultSeed seeds the generator that decides whether a fault with a
// Rate below 1 fires on a request (default seed 1). The same seed and the
// same sequence of requests give the same faults.
func WithFaultSeed(seed uint64) Option {
	return func(s *Server) { s.rng = rand.New(rand.NewPCG(seed, seed)) }
}

// WithPartialBatches makes receives behave like the real service's storage
// stripes ([MBATCH] FAQ: data is stored as several stripes and a batch
// operation reads only one, so "the number of received messages is less
// than the number of available messages" and they come in no fixed order).
// Each message is put on one of stripes stripes at random when it is
// enqueued; a receive or peek (batch or not) picks one stripe at random
// among those with messages available and returns up to numOfMessages of
// them, shuffled, regardless of Priority. The generator is seeded with
// seed, so the same requests give the same batches. Off by default
// (stripes < 2): receives then return every available message up to
// numOfMessages, by Priority then first in, first out.
func WithPartialBatches(stripes int, seed uint64) Option {
	return func(s *Server) {
		s.stripes = stripes
		s.stripeR = rand.New(rand.NewPCG(seed, seed^0x5f290c92))
	}
}

// WithLongPollLimit caps the long polls that may wait on one queue at once
// at n: a receive that finds the queue empty while n others already wait
// answers 404 MessageNotExist at once instead of waiting, as the service
// does above its long-poll connection limit ([MRECV] zh; long-polling best
// practice https://www.alibabacloud.com/help/doc-detail/34478.htm: MNS
// limits the connections per queue and user, the number is on its Limits
// page and not modeled). Off by default (n < 1). The limit is per queue
// here, not per queue and user.
func WithLongPollLimit(n int) Option {
	return func(s *Server) { s.pollCap = n }
}

// WithObserver has o called for every request that reaches its operation
// (see Observer).
func WithObserver(o Observer) Option {
	return func(s *Server) { s.observer = o }
}

// NewServer starts an emulator listening on 127.0.0.1 on a free port. It
// panics if it cannot listen, which is appropriate for tests.
func NewServer(opts ...Option) *Server {
	s := &Server{
		now:     time.Now,
		dateNow: time.Now,
		region:  "cn-hangzhou",
		account: "1234567890123456",
		done:    make(chan struct{}),
		wake:    make(chan struct{}),
		queues:  map[string]*queue{},
		topics:  map[string]*topic{},
		logs:    map[string][]*message{},
		polls:   map[string]int{},
		counts:  map[string]int{},
		rng:     rand.New(rand.NewPCG(1, 1)),
	}
	for _, o := range opts {
		o(s)
	}
	if s.store == nil {
		s.store = localauth.NewStore(s.now)
		s.cred = s.store.NewAccessKey()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("mnstest: listen: %v", err))
	}
	s.ln = ln
	port := ln.Addr().(*net.TCPAddr).Port
	s.idBase = 0x5F290C9200000000 | uint64(port)
	// The trailing "/." gives the SDK the five dot-separated pieces it insists
	// on; fasthttp normalises "/./queues/..." to "/queues/...".
	s.endpoint = fmt.Sprintf("http://127.0.0.1:%d/.", port)
	s.hs = emukit.Serve(ln, s)
	return s
}

// Endpoint is the URL to give the SDK: "http://127.0.0.1:PORT/.".
func (s *Server) Endpoint() string { return s.endpoint }

// Credential is the long-term key generated by NewServer; zero when the
// server was created WithCredentials.
func (s *Server) Credential() localauth.Credential { return s.cred }

// Region returns the region and account id the server presents.
func (s *Server) Region() (region, accountID string) { return s.region, s.account }

// Close answers waiting long polls (MessageNotExist), then stops the
// listener and closes idle connections.
func (s *Server) Close() {
	s.closer.Do(func() {
		close(s.done)
		emukit.Shutdown(s.hs, 5*time.Second)
	})
}

// Wake makes waiting long polls re-evaluate their queue now. Call it after
// advancing a fake clock. (Polls also re-check every 50 ms on their own.)
func (s *Server) Wake() {
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
}

// notifyLocked wakes every waiting long poll. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

func (s *Server) hostID() string {
	return fmt.Sprintf("http://%s.mns.%s.aliyuncs.com", s.account, s.region)
}

// ---- faults ----

// Fault scripts a failure. A request matches when Op (the SDK method name,
// e.g. "SendMessage"; "" = any) and Queue (queue or topic name; "" = any)
// match. Faults are checked after authentication, in the order injected. A
// matching fault with a Rate below 1 fires on a request with that
// probability (decided by the server's seeded generator, see
// WithFaultSeed); one that does not fire lets the next matching fault
// decide. A fault that fires counts down Times.
//
// What the request gets when a fault fires, after sleeping Latency:
//   - Drop, or Status 0 and Code "": the connection is closed without an
//     answer (fasthttp then retries, up to 5 attempts, even for POST);
//   - Status 2xx: nothing else, the request is served normally (latency only);
//   - otherwise: the error XML with Code (default "InternalError") and
//     Status (default: the status MNS uses for Code, else 500).
//
// With After the operation runs first (SendMessage enqueues its message)
// and only its answer is lost: replaced by the drop or the error above. A
// dropped answer to a SendMessage is retried by fasthttp, so the message
// is then enqueued twice, as with the real service.
type Fault struct {
	Op      string        `json:"action,omitempty"`
	Queue   string        `json:"queue,omitempty"`
	Status  int           `json:"status,omitempty"`
	Code    string        `json:"code,omitempty"`
	Times   int           `json:"times"`          // requests the fault fires on; 0 means 1, negative means until ClearFaults
	Rate    float64       `json:"rate,omitempty"` // probability of firing on a matching request; 0 = 1 (always)
	Latency time.Duration `json:"-"`              // added before answering
	Drop    bool          `json:"drop,omitempty"`
	After   bool          `json:"after,omitempty"` // run the operation, then lose its answer
}

func (f Fault) drops() bool { return f.Drop || (f.Status == 0 && f.Code == "") }

// Check reports the first thing wrong with f, naming the JSON field at
// fault: an unknown operation, a rate outside 0..1, a negative latency, a
// status outside 200..599, drop with a status or code, after with only a
// 2xx status (nothing to lose the answer with).
func (f Fault) Check() error {
	switch {
	case f.Op != "" && !slices.Contains(operations, f.Op):
		return fmt.Errorf("action: unknown MNS operation %q (known: %s)", f.Op, strings.Join(Operations(), ", "))
	case math.IsNaN(f.Rate) || f.Rate < 0 || f.Rate > 1:
		return fmt.Errorf("rate: must be a probability from 0 to 1 (0 means always), got %v", f.Rate)
	case f.Latency < 0:
		return fmt.Errorf("latencyMs: must not be negative, got %d", f.Latency.Milliseconds())
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fmt.Errorf("status: must be an HTTP status from 200 to 599, got %d", f.Status)
	case f.Drop && (f.Code != "" || f.Status != 0):
		return errors.New("drop: closes the connection without an answer; leave status and code out")
	case f.After && f.Status >= 200 && f.Status < 300:
		return errors.New("after: needs drop, a code or an error status (the operation runs, then its answer is lost)")
	}
	return nil
}

// operations are the SDK method names the server routes.
var operations = []string{
	"CreateQueue", "SetQueueAttributes", "GetQueueAttributes", "DeleteQueue", "ListQueue", "ListQueueDetail",
	"SendMessage", "BatchSendMessage", "ReceiveMessage", "BatchReceiveMessage", "PeekMessage", "BatchPeekMessage",
	"DeleteMessage", "BatchDeleteMessage", "ChangeMessageVisibility",
	"CreateTopic", "SetTopicAttributes", "GetTopicAttributes", "DeleteTopic", "ListTopic", "ListTopicDetail",
	"PublishMessage", "Subscribe", "SetSubscriptionAttributes", "GetSubscriptionAttributes", "Unsubscribe",
	"ListSubscriptionByTopic", "ListSubscriptionDetailByTopic",
}

// Operations lists the operations (SDK method names) the server answers.
func Operations() []string { return slices.Sorted(slices.Values(operations)) }

type faultState struct {
	f     Fault
	left  int // <0: unlimited
	fired int
}

// InjectFault adds a scripted fault.
func (s *Server) InjectFault(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultState{f: f, left: left})
	s.mu.Unlock()
}

// ClearFaults removes every fault, used up or not.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (s *Server) takeFault(op, name string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, fs := range s.faults {
		if (fs.f.Op != "" && fs.f.Op != op) || (fs.f.Queue != "" && fs.f.Queue != name) {
			continue
		}
		if fs.f.Rate > 0 && fs.f.Rate < 1 && s.rng.Float64() >= fs.f.Rate {
			continue
		}
		fs.fired++
		if fs.left > 0 {
			fs.left--
			if fs.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return fs.f, true
	}
	return Fault{}, false
}

// Phases of a request an Observer sees.
const (
	PhaseBefore = "before" // the operation is about to run
	PhaseAfter  = "after"  // the operation ran; its answer is not yet written
)

// CallEvent is what an Observer sees of a request.
type CallEvent struct {
	Phase     string // PhaseBefore or PhaseAfter
	Op        string
	Queue     string // queue or topic
	RequestID string
	Code      string // PhaseAfter: the operation's error code, "" when it succeeded
}

// Observer is called, synchronously, for every request that reaches its
// operation (authenticated, routed, not answered by a fault in its place):
// once before the operation runs and once after, before the answer is
// written. Returning true closes the connection without an answer; before,
// the operation is then not run. The local cloud uses it to kill a
// function's process at a given request (crash injection).
type Observer func(CallEvent) (drop bool)

func (s *Server) observe(req *request, phase string, rep *reply) bool {
	if s.observer == nil {
		return false
	}
	ev := CallEvent{Phase: phase, Op: req.op, Queue: req.name, RequestID: req.reqID}
	if rep != nil {
		switch {
		case rep.err != nil:
			ev.Code = rep.err.Code
		default:
			ev.Code = rep.code
		}
	}
	return s.observer(ev)
}

// ---- request handling ----

type request struct {
	r     *http.Request
	path  string // r.URL.Path without dot segments
	uri   string // the request URI as signed: the raw path without dot segments, "?", the raw query
	op    string
	name  string // queue or topic
	sub   string // subscription
	query url.Values
	body  []byte
	reqID string
	ak    string
}

type reply struct {
	status    int
	body      any // marshaled as XML when non-nil
	header    map[string]string
	code      string // error code to log for a partial batch failure
	err       *Error
	drop      bool
	aborted   bool // client went away; nothing to write
	performed bool // the operation ran
}

func fail(e *Error) reply { return reply{err: e} }

type handler func(*request) reply

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	s.mu.Lock()
	s.reqSeq++
	reqID := fmt.Sprintf("5F%022X", s.reqSeq)
	start := s.now()
	s.mu.Unlock()

	req := &request{r: r, query: r.URL.Query(), body: body, reqID: reqID, path: removeDotSegments(r.URL.Path)}
	rawPath, rawQuery, hasQuery := strings.Cut(r.RequestURI, "?")
	req.uri = removeDotSegments(rawPath)
	if hasQuery {
		req.uri += "?" + rawQuery
	}
	h, routeErr := s.route(req)

	var rep reply
	injected := false
	switch {
	case readErr != nil:
		rep = fail(errInvalidArgument("Could not read the request body: %v.", readErr))
	case len(body) > maxRequestBody:
		rep = fail(errInvalidArgument("The request body is larger than %d bytes.", maxRequestBody))
	default:
		rep, injected = s.serve(req, h, routeErr)
	}

	status, code := 0, ""
	switch {
	case rep.drop:
		// logged below; the connection is closed without a response
	case rep.aborted:
		status, code = 499, "ClientClosedRequest"
	default:
		status, code = s.write(w, req, rep)
	}

	s.mu.Lock()
	s.calls = append(s.calls, Call{
		Time:         start,
		Op:           req.op,
		Queue:        req.name,
		Subscription: req.sub,
		Method:       r.Method,
		URI:          req.uri,
		AccessKeyID:  req.ak,
		Status:       status,
		Code:         code,
		RequestID:    reqID,
		Fault:        injected,
		Performed:    rep.performed,
	})
	s.counts[countKey(req.op, req.name)]++
	s.mu.Unlock()

	if rep.drop {
		emukit.Drop(w)
	}
}

func countKey(op, name string) string {
	if name == "" {
		return op
	}
	return op + " " + name
}

func (s *Server) serve(req *request, h handler, routeErr *Error) (reply, bool) {
	if e := s.authenticate(req); e != nil {
		return fail(e), false
	}
	f, faulted := s.takeFault(req.op, req.name)
	if faulted && !f.After {
		if rep, ok := s.faultReply(req, f); ok {
			return rep, true
		}
	}
	if routeErr != nil {
		return fail(routeErr), faulted
	}
	if s.observe(req, PhaseBefore, nil) {
		return reply{drop: true}, faulted
	}
	rep := h(req)
	rep.performed = true
	if s.observe(req, PhaseAfter, &rep) {
		return reply{drop: true, performed: true}, faulted
	}
	if faulted && f.After {
		if lost, ok := s.faultReply(req, f); ok {
			lost.performed = true
			return lost, true
		}
	}
	return rep, faulted
}

// faultReply sleeps the fault's latency and returns what it answers instead
// of the operation; ok is false for a latency-only fault.
func (s *Server) faultReply(req *request, f Fault) (reply, bool) {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
		case <-req.r.Context().Done():
			t.Stop()
			return reply{aborted: true}, true
		}
	}
	switch {
	case f.drops():
		return reply{drop: true}, true
	case f.Status >= 200 && f.Status < 300:
		return reply{}, false // latency only
	}
	code, status := f.Code, f.Status
	if code == "" {
		code = "InternalError"
	}
	if status == 0 {
		status = codeStatus[code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
	}
	return fail(&Error{Status: status, Code: code, Message: "Injected fault."}), true
}

// write sends rep and returns the status and error code for the call log.
func (s *Server) write(w http.ResponseWriter, req *request, rep reply) (int, string) {
	hd := w.Header()
	hd.Set("x-mns-request-id", req.reqID)
	hd.Set("x-mns-version", apiVersion)
	hd.Set("Server", "mnstest")
	for k, v := range rep.header {
		hd.Set(k, v)
	}
	status, code, body := rep.status, rep.code, rep.body
	if rep.err != nil {
		status, code = rep.err.Status, rep.err.Code
		body = xmlError{Code: rep.err.Code, Message: rep.err.Message, RequestID: req.reqID, HostID: s.hostID()}
	}
	if status == 0 {
		status = http.StatusOK
	}
	if body == nil {
		w.WriteHeader(status)
		return status, code
	}
	out, err := xml.Marshal(body)
	if err != nil {
		status, code = http.StatusInternalServerError, "InternalError"
		out, _ = xml.Marshal(xmlError{Code: code, Message: "marshal: " + err.Error(), RequestID: req.reqID, HostID: s.hostID()})
	}
	out = append([]byte(xml.Header[:len(xml.Header)-1]), out...)
	hd.Set("Content-Type", "text/xml;charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
	return status, code
}

// route classifies the request as an SDK operation and picks its handler.
func (s *Server) route(req *request) (handler, *Error) {
	r, q := req.r, req.query
	segs := strings.Split(strings.Trim(req.path, "/"), "/")
	bad := func() (handler, *Error) {
		if req.op == "" {
			req.op = "Unknown"
		}
		return nil, newErr(http.StatusBadRequest, "InvalidRequestURL", "The request URL %s %s is not valid.", r.Method, req.path)
	}
	meta := strings.EqualFold(r.Header.Get("x-mns-with-meta"), "true")
	override := q.Get("metaoverride") == "true"
	switch {
	case len(segs) == 1 && segs[0] == "queues" && r.Method == http.MethodGet:
		req.op = pick(meta, "ListQueueDetail", "ListQueue")
		return s.listQueues, nil
	case len(segs) == 2 && segs[0] == "queues":
		req.name = segs[1]
		switch r.Method {
		case http.MethodPut:
			if override {
				req.op = "SetQueueAttributes"
				return s.setQueueAttributes, nil
			}
			req.op = "CreateQueue"
			return s.createQueueHTTP, nil
		case http.MethodGet:
			req.op = "GetQueueAttributes"
			return s.getQueueAttributes, nil
		case http.MethodDelete:
			req.op = "DeleteQueue"
			return s.deleteQueue, nil
		}
	case len(segs) == 3 && segs[0] == "queues" && segs[2] == "messages":
		req.name = segs[1]
		switch r.Method {
		case http.MethodPost:
			if rootElement(req.body) == "Messages" {
				req.op = "BatchSendMessage"
				return s.batchSendMessage, nil
			}
			req.op = "SendMessage"
			return s.sendMessage, nil
		case http.MethodGet:
			peek := q.Get("peekonly") == "true"
			_, batch := q["numOfMessages"]
			switch {
			case peek && batch:
				req.op = "BatchPeekMessage"
			case peek:
				req.op = "PeekMessage"
			case batch:
				req.op = "BatchReceiveMessage"
			default:
				req.op = "ReceiveMessage"
			}
			return func(req *request) reply { return s.receive(req, batch, peek) }, nil
		case http.MethodDelete:
			if _, ok := q["ReceiptHandle"]; ok || len(req.body) == 0 {
				req.op = "DeleteMessage"
				return s.deleteMessage, nil
			}
			req.op = "BatchDeleteMessage"
			return s.batchDeleteMessage, nil
		case http.MethodPut:
			req.op = "ChangeMessageVisibility"
			return s.changeVisibility, nil
		}
	case len(segs) == 1 && segs[0] == "topics" && r.Method == http.MethodGet:
		req.op = pick(meta, "ListTopicDetail", "ListTopic")
		return s.listTopics, nil
	case len(segs) == 2 && segs[0] == "topics":
		req.name = segs[1]
		switch r.Method {
		case http.MethodPut:
			if override {
				req.op = "SetTopicAttributes"
				return s.setTopicAttributes, nil
			}
			req.op = "CreateTopic"
			return s.createTopicHTTP, nil
		case http.MethodGet:
			req.op = "GetTopicAttributes"
			return s.getTopicAttributes, nil
		case http.MethodDelete:
			req.op = "DeleteTopic"
			return s.deleteTopic, nil
		}
	case len(segs) == 3 && segs[0] == "topics" && segs[2] == "messages" && r.Method == http.MethodPost:
		req.name, req.op = segs[1], "PublishMessage"
		return s.publishMessage, nil
	case len(segs) == 3 && segs[0] == "topics" && segs[2] == "subscriptions" && r.Method == http.MethodGet:
		req.name = segs[1]
		req.op = pick(meta, "ListSubscriptionDetailByTopic", "ListSubscriptionByTopic")
		return s.listSubscriptions, nil
	case len(segs) == 4 && segs[0] == "topics" && segs[2] == "subscriptions":
		req.name, req.sub = segs[1], segs[3]
		switch r.Method {
		case http.MethodPut:
			if override {
				req.op = "SetSubscriptionAttributes"
				return s.setSubscriptionAttributes, nil
			}
			req.op = "Subscribe"
			return s.subscribeHTTP, nil
		case http.MethodGet:
			req.op = "GetSubscriptionAttributes"
			return s.getSubscriptionAttributes, nil
		case http.MethodDelete:
			req.op = "Unsubscribe"
			return s.unsubscribe, nil
		}
	}
	return bad()
}

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

// ---- authentication ----

// authenticate checks the MNS signature (wire-protocols.md 2.3) and the
// Content-MD5 of the body.
func (s *Server) authenticate(req *request) *Error {
	r := req.r
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return newErr(http.StatusBadRequest, "MissingAuthorizationHeader", "The Authorization header is required.")
	}
	// [MSIG] common parameters: x-mns-date may replace Date (for clients
	// that cannot set Date); the string to sign then carries its value in
	// Date's place (zh "请求签名机制": "如果用x-mns-date替代DATE，则DATE不能
	// 填空，需用x-mns-date的值替换"). When both are sent (the Node SDK sends
	// both, equal), Date is the one signed and checked.
	date := r.Header.Get("Date")
	if date == "" {
		date = r.Header.Get("x-mns-date")
	}
	if date == "" {
		return newErr(http.StatusBadRequest, "MissingDateHeader", "The Date header is required.")
	}
	if r.Header.Get("x-mns-version") == "" {
		return newErr(http.StatusBadRequest, "MissingVersionHeader", "The x-mns-version header is required.")
	}
	sent, err := http.ParseTime(date)
	if err != nil {
		return newErr(http.StatusBadRequest, "InvalidDateHeader", "The Date header format is invalid: %q.", date)
	}
	rest, ok := strings.CutPrefix(auth, "MNS ")
	ak, sig, ok2 := strings.Cut(strings.TrimSpace(rest), ":")
	if !ok || !ok2 || ak == "" || sig == "" {
		return newErr(http.StatusBadRequest, "InvalidAuthorizationHeader", "The Authorization header must be \"MNS AccessKeyId:Signature\".")
	}
	req.ak = ak
	secret, err := s.store.Verify(ak, r.Header.Get("security-token"))
	switch {
	case errors.Is(err, localauth.ErrUnknownKey):
		return newErr(http.StatusForbidden, "InvalidAccessKeyId", "The access Id you provided is not exist.")
	case errors.Is(err, localauth.ErrTokenExpired):
		return newErr(http.StatusForbidden, "AccessDenied", "The security token you provided has expired.")
	case errors.Is(err, localauth.ErrTokenMissing):
		return newErr(http.StatusForbidden, "AccessDenied", "The access key is an STS key and requires a security token.")
	case errors.Is(err, localauth.ErrTokenMalformed):
		return newErr(http.StatusForbidden, "AccessDenied", "The security token you provided is invalid.")
	case err != nil:
		return newErr(http.StatusForbidden, "AccessDenied", "%v", err)
	}
	// The SDK signs the resource before fasthttp percent-escapes the path
	// (e.g. "!" -> "%21"), so the path-decoded form is accepted as well.
	// The resource signed is the request URI with its dot segments removed,
	// as the service resolves it: a client given the endpoint
	// "http://127.0.0.1:PORT/." sends "/./queues/..." (the Node SDK) or
	// "/queues/..." (the Go SDK, whose fasthttp cleans the path) and signs
	// "/queues/..." either way.
	toSign := stringToSign(r, date, req.uri)
	ok = signatureMatches(toSign, secret, sig)
	if rawPath, _, _ := strings.Cut(req.uri, "?"); !ok && strings.Contains(rawPath, "%") {
		decoded := req.path
		if r.URL.RawQuery != "" {
			decoded += "?" + r.URL.RawQuery
		}
		ok = signatureMatches(stringToSign(r, date, decoded), secret, sig)
	}
	if !ok {
		return newErr(http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method. (string to sign: %q)", toSign)
	}
	if cm := r.Header.Get("Content-MD5"); cm != "" && !contentMD5Matches(cm, req.body) {
		return newErr(http.StatusBadRequest, "InvalidDegist", "The Content-MD5 you specified is not valid for the body.")
	}
	// [MSIG]: a request whose Date is more than 15 minutes from the
	// server's time is invalid. [MSIG] says status 400; the error-code
	// table [MERR] lists TimeExpired with 408, which is what the SDK maps
	// (ERR_MNS_TIME_EXPIRED): 408 TimeExpired here. Checked after the
	// signature, so that a forged Date is a signature mismatch.
	if skew := s.dateNow().Sub(sent); skew > maxDateSkew || skew < -maxDateSkew {
		return newErr(http.StatusRequestTimeout, "TimeExpired",
			"The http request you sent is expired: its Date %q is %s from the server's time.", date, skew.Round(time.Second))
	}
	return nil
}

// removeDotSegments resolves the "." and ".." segments of an absolute path
// (RFC 3986 5.2.4), as the service does before routing and signing:
// "/./queues/q" is "/queues/q". Empty segments and a trailing slash stay.
func removeDotSegments(p string) string {
	if !strings.Contains(p, "/.") {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
			continue
		}
		if last {
			out = append(out, "") // "/a/." is "/a/"
		}
	}
	if len(out) == 1 { // only the leading ""
		return "/"
	}
	return strings.Join(out, "/")
}

// stringToSign rebuilds what the SDK signs: method, Content-MD5,
// Content-Type, Date, the x-mns-* headers (lower-case, sorted) and the
// resource (the raw request URI).
func stringToSign(r *http.Request, date, resource string) string {
	var mns []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-mns-") {
			mns = append(mns, lk+":"+strings.TrimSpace(strings.Join(vs, ",")))
		}
	}
	sort.Strings(mns)
	return r.Method + "\n" +
		r.Header.Get("Content-MD5") + "\n" +
		r.Header.Get("Content-Type") + "\n" +
		date + "\n" +
		strings.Join(mns, "\n") + "\n" +
		resource
}

func signatureMatches(toSign, secret, sig string) bool {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(toSign))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(sig))
}

// contentMD5Matches accepts the SDK's form, base64 of the lower-case hex
// digest, and the RFC 1864 form, base64 of the raw digest.
func contentMD5Matches(header string, body []byte) bool {
	sum := md5.Sum(body)
	hexForm := base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:])))
	rawForm := base64.StdEncoding.EncodeToString(sum[:])
	return header == hexForm || header == rawForm
}

func bodyMD5(body string) string {
	sum := md5.Sum([]byte(body))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

package sts

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/emukit"
)

// APIVersion is the only version the server answers.
const APIVersion = "2015-04-01"

// DefaultRateLimit is AssumeRole's (and GetCallerIdentity's) published
// quota: 100 calls a second per API and calling account
// (https://help.aliyun.com/zh/ram/developer-reference/api-sts-2015-04-01-quota;
// accounts-quotas-observability.md §1.2).
const DefaultRateLimit = 100

// maxBody bounds what is read of a request body.
const maxBody = 1 << 20

// Clock is the server's notion of "now": issued credentials' Expiration
// (through the default store), the flow-control buckets and State's expiry
// marks read it. Signature timestamps are checked against real time, since
// the SDKs stamp requests with time.Now. rds.FakeClock satisfies it, and a
// clock with a Sleep(time.Duration) method (an emukit.Sleeper such as
// rds.InstantLatency) takes fault latency on its own time instead of
// waiting.
type Clock = emukit.Clock

// Server is a local STS (2015-04-01) endpoint. Create it with NewServer; it
// listens on 127.0.0.1 (plain HTTP on Endpoint, TLS on TLSEndpoint) until
// Close. All methods are safe for concurrent use.
type Server struct {
	clock    Clock
	store    *auth.Store
	cred     auth.Credential
	verifier *auth.POPVerifier
	rate     float64

	ln, tlsLn   net.Listener
	hs, tlsHS   *http.Server
	endpoint    string
	tlsEndpoint string
	cert        *x509.Certificate
	certPEM     []byte
	done        chan struct{}
	closer      sync.Once

	mu       sync.Mutex
	roles    map[string]Role // by roleKey
	sessions []Session
	byKey    map[string]int // issued AccessKeyId → index in sessions
	faults   emukit.Faults[Fault]
	calls    []Call
	counts   map[string]int
	buckets  map[string]*bucket // calling account + "\x00" + action
}

// Option configures a Server.
type Option func(*Server)

// WithCredentials makes the server verify callers against st and issue the
// temporary credentials into it (so that every emulator sharing st accepts
// them). Without it the server has a store of its own, on its clock, holding
// one generated long-term key of auth.DefaultAccountID (Server.Credential).
func WithCredentials(st *auth.Store) Option {
	return func(s *Server) { s.store = st }
}

// WithClock sets the server's clock (default: real time).
func WithClock(c Clock) Option {
	return func(s *Server) {
		if c != nil {
			s.clock = c
		}
	}
}

// WithRateLimit sets the flow control: calls a second per API and calling
// account (a token bucket holding one second's worth, refilled on the
// server's clock); calls above it get 400 Throttling.Api. Default
// DefaultRateLimit; zero or less: no limit.
func WithRateLimit(perSecond float64) Option {
	return func(s *Server) { s.rate = perSecond }
}

// WithFaultSeed seeds the generator that decides whether a fault with a
// Rate below 1 fires (default seed 1), so runs repeat.
func WithFaultSeed(seed uint64) Option {
	return func(s *Server) { s.faults.Seed(seed) }
}

// NewServer starts an emulator listening on 127.0.0.1 on two free ports
// (HTTP and HTTPS). It panics if it cannot listen, which is appropriate for
// tests.
func NewServer(opts ...Option) *Server {
	s := &Server{
		clock:   emukit.Real{},
		rate:    DefaultRateLimit,
		done:    make(chan struct{}),
		roles:   map[string]Role{},
		byKey:   map[string]int{},
		counts:  map[string]int{},
		buckets: map[string]*bucket{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.store == nil {
		s.store = auth.NewStore(s.clock.Now)
		s.cred = s.store.NewAccessKey()
	}
	s.verifier = auth.NewPOPVerifier(s.store)

	cert, leaf, certPEM, err := selfSigned()
	if err != nil {
		panic(fmt.Sprintf("ststest: certificate: %v", err))
	}
	s.cert, s.certPEM = leaf, certPEM
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("ststest: listen: %v", err))
	}
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = ln.Close()
		panic(fmt.Sprintf("ststest: listen: %v", err))
	}
	s.ln, s.tlsLn = ln, tls.NewListener(tln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	s.endpoint, s.tlsEndpoint = ln.Addr().String(), tln.Addr().String()
	s.hs, s.tlsHS = emukit.Serve(s.ln, s), emukit.Serve(s.tlsLn, s)
	return s
}

// Endpoint is "127.0.0.1:PORT" of the plain-HTTP listener: the STS SDK's
// Config.Endpoint, with Protocol "http".
func (s *Server) Endpoint() string { return s.endpoint }

// TLSEndpoint is "127.0.0.1:PORT" of the HTTPS listener, for clients that
// always use https, such as credentials-go's RAM-role provider
// (WithStsEndpoint / Config.STSEndpoint). Its certificate is CertPEM.
func (s *Server) TLSEndpoint() string { return s.tlsEndpoint }

// CertPEM is the HTTPS listener's self-signed certificate (for 127.0.0.1,
// ::1 and localhost), PEM-encoded: write it to a file and point
// SSL_CERT_FILE of a client process at it to make Go's default roots trust
// it.
func (s *Server) CertPEM() []byte { return slices.Clone(s.certPEM) }

// CertPool is a pool holding only the HTTPS listener's certificate.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.cert)
	return p
}

// Credential is the long-term key generated by NewServer; zero when the
// server was created WithCredentials.
func (s *Server) Credential() auth.Credential { return s.cred }

// Store is the credential store the server verifies against and issues
// into.
func (s *Server) Store() *auth.Store { return s.store }

// Close stops both listeners, cuts injected latencies short and closes
// idle connections.
func (s *Server) Close() {
	s.closer.Do(func() {
		close(s.done)
		emukit.Shutdown(s.hs, 200*time.Millisecond)
		emukit.Shutdown(s.tlsHS, 200*time.Millisecond)
	})
}

// ---- roles ----

// AddRole adds (or replaces) a role; see Role for the defaults. It returns
// Role.Check's complaint, and then adds nothing.
func (s *Server) AddRole(r Role) error {
	if err := r.Check(); err != nil {
		return err
	}
	r = r.withDefaults()
	r.Trusted = slices.Clone(r.Trusted)
	s.mu.Lock()
	s.roles[roleKey(r.AccountID, r.Name)] = r
	s.mu.Unlock()
	return nil
}

// RemoveRole deletes the role named by arn (AssumeRole then answers
// EntityNotExist.Role); it reports whether there was one. Credentials
// already issued stay valid until they expire, as in RAM.
func (s *Server) RemoveRole(arn string) bool {
	account, name, err := parseRoleArn(arn)
	if err != nil {
		return false
	}
	k := roleKey(account, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.roles[k]
	delete(s.roles, k)
	return ok
}

// Roles returns the roles, ordered by ARN.
func (s *Server) Roles() []Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rolesLocked()
}

func (s *Server) rolesLocked() []Role {
	out := make([]Role, 0, len(s.roles))
	for _, r := range s.roles {
		r.Trusted = slices.Clone(r.Trusted)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Role) int { return strings.Compare(a.Arn(), b.Arn()) })
	return out
}

// ---- faults ----

// Fault scripts a failure. A call matches when Action ("" = any) and
// RoleArn ("" = any; compared without regard to case) match; faults are
// checked after the signature and the flow control, in the order injected.
// A matching fault with a Rate below 1 fires with that probability
// (WithFaultSeed); one that does not fire lets the next matching fault
// decide. Times counts the calls a fault fires on.
//
// What a call gets when a fault fires, after Latency (or LatencyMs; on a
// clock with a Sleep method the clock moves forward instead):
//   - Drop: the connection is closed without an answer (the SDK sees a
//     network error);
//   - Code set: the JSON error with Code, Status (default: the status the
//     tables give Code, else 500) and Message (default: the tables' message);
//   - Code empty and Status >= 300: a non-JSON (HTML) body with Status;
//   - otherwise: the call is served normally, after the latency.
//
// With After the action runs first (AssumeRole issues its credential, which
// the store then accepts) and only its answer is lost.
type Fault struct {
	Action    string        `json:"action,omitempty"`
	RoleArn   string        `json:"roleArn,omitempty"`
	Status    int           `json:"status,omitempty"`
	Code      string        `json:"code,omitempty"`
	Message   string        `json:"message,omitempty"`
	Times     int           `json:"times,omitempty"` // next N calls it fires on; 0 = every call
	Rate      float64       `json:"rate,omitempty"`  // probability of firing; 0 = 1
	Latency   time.Duration `json:"-"`
	LatencyMs int           `json:"latencyMs,omitempty"`
	Drop      bool          `json:"drop,omitempty"`
	After     bool          `json:"after,omitempty"`
}

// Check reports the first thing wrong with f, naming the JSON field.
func (f Fault) Check() error {
	switch {
	case f.Action != "" && !slices.Contains(Actions(), f.Action):
		return fmt.Errorf("action: unknown STS action %q (known: %s)", f.Action, strings.Join(Actions(), ", "))
	case math.IsNaN(f.Rate) || f.Rate < 0 || f.Rate > 1:
		return fmt.Errorf("rate: must be a probability from 0 to 1 (0 means always), got %v", f.Rate)
	case f.Times < 0:
		return fmt.Errorf("times: must be 0 (every call) or a positive count, got %d", f.Times)
	case f.LatencyMs < 0 || f.Latency < 0:
		return fmt.Errorf("latencyMs: must not be negative, got %d", f.LatencyMs)
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fmt.Errorf("status: must be an HTTP status from 200 to 599, got %d", f.Status)
	case f.Drop && (f.Code != "" || f.Status != 0):
		return errors.New("drop: closes the connection without an answer; leave status and code out")
	case f.After && !f.Drop && f.Code == "" && f.Status < 300:
		return errors.New("after: needs drop, a code or an error status (the action runs, then its answer is lost)")
	}
	return nil
}

func (f Fault) latency() time.Duration { return emukit.Latency(f.Latency, f.LatencyMs) }

// InjectFault adds a scripted fault (unchecked; see Fault.Check).
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	s.faults.Add(f, f.Times, f.Rate)
	s.mu.Unlock()
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults.Clear()
	s.mu.Unlock()
}

// PendingFault is a fault not used up: the calls it still fires on (0:
// every call) and those it fired on.
type PendingFault struct {
	Fault
	Left  int `json:"left"`
	Fired int `json:"fired"`
}

// Faults returns the faults not used up, in the order they are checked.
func (s *Server) Faults() []PendingFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultsLocked()
}

func (s *Server) faultsLocked() []PendingFault {
	out := []PendingFault{}
	s.faults.Each(func(f Fault, left, fired int) {
		if f.LatencyMs == 0 && f.Latency > 0 {
			f.LatencyMs = int(f.Latency / time.Millisecond)
		}
		out = append(out, PendingFault{Fault: f, Left: left, Fired: fired})
	})
	return out
}

func (s *Server) takeFaultLocked(action, roleArn string) (Fault, bool) {
	return s.faults.Take(func(f Fault) bool {
		return (f.Action == "" || f.Action == action) && (f.RoleArn == "" || strings.EqualFold(f.RoleArn, roleArn))
	})
}

// ---- flow control ----

type bucket struct {
	rate, tokens float64
	last         time.Time
}

// take spends a token if there is one; the bucket holds one second's worth.
func (b *bucket) take(now time.Time) bool {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.rate, b.tokens+el.Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1-1e-9 {
		b.tokens = max(b.tokens-1, 0)
		return true
	}
	return false
}

func (s *Server) throttledLocked(account, action string, now time.Time) bool {
	if s.rate <= 0 {
		return false
	}
	k := account + "\x00" + action
	b, ok := s.buckets[k]
	if !ok {
		b = &bucket{rate: max(s.rate, 1), tokens: max(s.rate, 1), last: now}
		s.buckets[k] = b
	}
	return !b.take(now)
}

// ---- call log and state ----

// Call is one request as the server saw it.
type Call struct {
	Action          string    `json:"action"`
	RoleArn         string    `json:"roleArn,omitempty"`
	RoleSessionName string    `json:"roleSessionName,omitempty"`
	CallerAccount   string    `json:"callerAccount,omitempty"` // the verified key's account
	AccessKeyId     string    `json:"accessKeyId,omitempty"`   // the caller's key (claimed, when not verified)
	SignatureKind   string    `json:"signatureKind,omitempty"` // auth.SigACS3 or auth.SigV2
	Start           time.Time `json:"start"`                   // real time
	End             time.Time `json:"end"`                     // real time
	Status          int       `json:"status"`                  // 0 when the connection was dropped
	Code            string    `json:"code,omitempty"`
	RequestId       string    `json:"requestId"`
	TLS             bool      `json:"tls,omitempty"`
	Fault           bool      `json:"fault,omitempty"`
	Performed       bool      `json:"performed"` // the action ran (AssumeRole: a credential was issued)
	Latency         int       `json:"latencyMs,omitempty"`
}

// Calls returns the call log, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Counts returns the number of calls per action (every call, answered or
// not).
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// Session is one credential AssumeRole issued. It holds no secret.
type Session struct {
	RoleArn         string    `json:"roleArn"`
	RoleSessionName string    `json:"roleSessionName"`
	Arn             string    `json:"arn"`           // AssumedRoleUser.Arn
	AssumedRoleId   string    `json:"assumedRoleId"` // AssumedRoleUser.AssumedRoleId
	Account         string    `json:"account"`       // the role's account, which the credential belongs to
	CallerAccount   string    `json:"callerAccount"`
	AccessKeyId     string    `json:"accessKeyId"` // the issued key's id (an identifier, not a secret)
	Issued          time.Time `json:"issued"`
	Expiration      time.Time `json:"expiration"`
	Expired         bool      `json:"expired"` // as of the server's clock, in State
}

// Sessions returns the credentials issued, oldest first.
func (s *Server) Sessions() []Session {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionsLocked(now)
}

func (s *Server) sessionsLocked(now time.Time) []Session {
	out := slices.Clone(s.sessions)
	for i := range out {
		out[i].Expired = !now.Before(out[i].Expiration)
	}
	return out
}

// RoleInfo is a role as State shows it: without its ExternalId.
type RoleInfo struct {
	Arn                string   `json:"arn"`
	AccountID          string   `json:"accountId"`
	Name               string   `json:"name"`
	Trusted            []string `json:"trusted"`
	ExternalIDRequired bool     `json:"externalIdRequired"`
	MaxSessionDuration int      `json:"maxSessionDuration"`
}

// Snapshot is what State returns.
type Snapshot struct {
	Time     time.Time      `json:"time"`
	Roles    []RoleInfo     `json:"roles"`
	Sessions []Session      `json:"sessions"` // the assumed roles
	Counts   map[string]int `json:"counts"`
	Faults   []PendingFault `json:"faults"`
}

// State returns a JSON-marshalable Snapshot: roles (no ExternalId), the
// sessions issued (role ARN, session name, expiry; no secret or token),
// call counts and pending faults.
func (s *Server) State() any {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{Time: now, Roles: []RoleInfo{}, Sessions: s.sessionsLocked(now), Counts: maps.Clone(s.counts), Faults: s.faultsLocked()}
	for _, r := range s.rolesLocked() {
		snap.Roles = append(snap.Roles, RoleInfo{
			Arn: r.Arn(), AccountID: r.AccountID, Name: r.Name, Trusted: r.Trusted,
			ExternalIDRequired: r.ExternalID != "", MaxSessionDuration: r.MaxSessionDuration,
		})
	}
	return snap
}

// ---- request handling ----

type request struct {
	pop    *auth.POPRequest
	cred   auth.Credential // the verified caller
	id     string
	ak     string
	caller string // the caller's account
}

type reply struct {
	status    int
	body      map[string]any
	err       *apiError
	html      bool
	drop      bool
	fault     bool
	performed bool
	latency   time.Duration
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	req := &request{pop: auth.ParsePOP(r, body), id: auth.NewPOPRequestID()}
	req.ak = req.pop.ClaimedKey

	var rep reply
	if readErr != nil || len(body) > maxBody {
		rep.err = newErr(http.StatusBadRequest, "InvalidParameter", "The request body could not be read or exceeds %d bytes.", maxBody)
	} else {
		rep = s.serve(req)
	}
	status, code := 0, ""
	if !rep.drop {
		status, code = s.write(w, req, rep)
	}
	p := req.pop.Params
	s.mu.Lock()
	s.calls = append(s.calls, Call{
		Action: req.pop.Action, RoleArn: p.Get("RoleArn"), RoleSessionName: p.Get("RoleSessionName"),
		CallerAccount: req.caller, AccessKeyId: req.ak, SignatureKind: req.pop.Kind,
		Start: start, End: time.Now(), Status: status, Code: code, RequestId: req.id, TLS: r.TLS != nil,
		Fault: rep.fault, Performed: rep.performed, Latency: int(rep.latency / time.Millisecond),
	})
	s.counts[req.pop.Action]++
	s.mu.Unlock()

	if rep.drop {
		emukit.Drop(w)
	}
}

// serve runs the gateway's steps in order: action and version, signature,
// flow control (per calling account and API), injected faults, the action.
func (s *Server) serve(req *request) reply {
	h, e := route(req.pop)
	if e != nil {
		return reply{err: e}
	}
	cred, pe := s.verifier.Verify(req.pop)
	if pe != nil {
		return reply{err: &apiError{Status: pe.Status, Code: pe.Code, Message: pe.Message}}
	}
	req.cred, req.ak, req.caller = cred, cred.AccessKeyID, cred.Account()

	now := s.clock.Now()
	s.mu.Lock()
	throttled := s.throttledLocked(req.caller, req.pop.Action, now)
	var f Fault
	var faulted bool
	if !throttled {
		f, faulted = s.takeFaultLocked(req.pop.Action, req.pop.Params.Get("RoleArn"))
	}
	s.mu.Unlock()
	if throttled {
		return reply{err: pageError("Throttling.Api")}
	}
	var latency time.Duration
	if faulted && !f.After {
		latency = s.sleep(req, f.latency())
		if rep, ok := faultReply(f); ok {
			rep.latency = latency
			return rep
		}
	}
	body, e := h(s, req)
	rep := reply{body: body, err: e, fault: faulted, performed: e == nil, latency: latency}
	if faulted && f.After {
		latency := s.sleep(req, f.latency())
		if lost, ok := faultReply(f); ok {
			lost.performed, lost.latency = rep.performed, latency
			return lost
		}
	}
	return rep
}

func faultReply(f Fault) (reply, bool) {
	switch o, status, msg := emukit.FaultOutcome(f.Drop, f.Code, f.Status, f.Message, codeRow); o {
	case emukit.OutcomeDrop:
		return reply{drop: true, fault: true}, true
	case emukit.OutcomeError:
		return reply{err: &apiError{Status: status, Code: f.Code, Message: msg}, fault: true}, true
	case emukit.OutcomeRaw:
		return reply{status: status, html: true, fault: true}, true
	}
	return reply{}, false
}

// codeRow is code's status and message in the error tables (zero when
// absent), the defaults of a fault's error.
func codeRow(code string) (int, string) {
	row, _ := lookupCode(code)
	return row.Status, row.Message
}

// sleep waits d (on the clock, when it can sleep), cut short by Close or
// by the client going away, and returns d.
func (s *Server) sleep(req *request, d time.Duration) time.Duration {
	return emukit.Sleep(s.clock, d, s.done, req.pop.R.Context().Done())
}

func (s *Server) write(w http.ResponseWriter, req *request, rep reply) (int, string) {
	hd := w.Header()
	hd.Set("x-acs-request-id", req.id)
	if rep.html {
		out := auth.POPHTMLBody(rep.status)
		hd.Set("Content-Type", "text/html")
		hd.Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, out)
		return rep.status, ""
	}
	status, code, body := http.StatusOK, "", rep.body
	if rep.err != nil {
		status, code = rep.err.Status, rep.err.Code
		body = map[string]any{
			"RequestId": req.id,
			"HostId":    hostID,
			"Code":      rep.err.Code,
			"Message":   rep.err.Message,
			"Recommend": recommend(rep.err.Code, req.id),
		}
	} else {
		body["RequestId"] = req.id
	}
	out, err := json.Marshal(body)
	if err != nil {
		status, code = http.StatusInternalServerError, "InternalError"
		out, _ = json.Marshal(map[string]any{"RequestId": req.id, "HostId": hostID, "Code": code, "Message": "marshal: " + err.Error()})
	}
	hd.Set("Content-Type", "application/json;charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
	return status, code
}

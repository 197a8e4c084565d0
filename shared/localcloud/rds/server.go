package rds

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/emukit"
)

// APIVersion is the only version the server answers.
const APIVersion = "2014-08-15"

// maxBody bounds what is read of a request body (the SDK sends none).
const maxBody = 1 << 20

// First ids handed out.
const (
	firstJobID    = 5073731
	firstBackupID = 1000000001
)

// Server is a local ApsaraDB RDS OpenAPI endpoint. Create it with NewServer;
// it listens on 127.0.0.1 until Close. All methods are safe for concurrent
// use.
type Server struct {
	replicas  map[string][]any // replicasLocked's answer, until an instance is added
	clock     Clock
	store     *auth.Store
	cred      auth.Credential
	duration  time.Duration
	methodDur map[string]time.Duration // WithMethodDuration
	lag       time.Duration
	rate      float64
	quotas    map[string]float64 // per action; nil: flow control off
	quotaLoc  *time.Location
	observer  Observer
	verifier  *auth.POPVerifier

	ln       net.Listener
	hs       *http.Server
	endpoint string
	done     chan struct{}
	closer   sync.Once

	mu          sync.Mutex
	instances   map[string]*Instance
	ids         []string // the instances' ids in order (listings page through them)
	jobs        map[string][]*job
	backups     map[string][]Backup  // seeded sets
	faults      emukit.Faults[Fault] // rate faults decided by its seeded generator, so runs repeat
	calls       []Call
	counts      map[string]int
	created     map[string]int
	nextJob     int64
	nextBackup  int64
	autoNext    map[string]time.Time // next automated task per instance
	userBuckets map[string]*bucket   // WithRateLimit, per account
	apiBuckets  map[quotaKey]*bucket // WithQuotas
}

// Option configures a Server.
type Option func(*Server)

// WithCredentials makes the server accept the keys of st instead of a fresh
// store holding one generated long-term key (Server.Credential is then zero).
func WithCredentials(st *auth.Store) Option {
	return func(s *Server) { s.store = st }
}

// WithClock sets the server's clock (default: real time). See Clock for what
// reads it.
func WithClock(c Clock) Option {
	return func(s *Server) {
		if c != nil {
			s.clock = c
		}
	}
}

// WithBackupDuration sets how long a backup job takes from creation to
// Finished (default 60s). Zero or less: jobs are Finished at once.
func WithBackupDuration(d time.Duration) Option {
	return func(s *Server) { s.duration = d }
}

// WithMethodDuration sets how long a backup with BackupMethod method takes
// (default: the WithBackupDuration). An instance's backupSeconds overrides
// it.
func WithMethodDuration(method string, d time.Duration) Option {
	return func(s *Server) {
		if s.methodDur == nil {
			s.methodDur = map[string]time.Duration{}
		}
		s.methodDur[method] = d
	}
}

// WithSetLag sets how long after a task ends (Finished or Failed) its
// backup set appears in DescribeBackups (default 0: at once; the local
// cloud's fleet file defaults to 60 s). An instance's setLagSeconds
// overrides it. DescribeBackupTasks is not delayed: by BackupJobId it
// answers the ended task, with its BackupId, at once.
func WithSetLag(d time.Duration) Option {
	return func(s *Server) { s.lag = d }
}

// WithRateLimit limits each account's requests per second over all actions
// (a token bucket per account holding one second's worth, at least one
// request, refilled on the server's clock). Requests above it get 400
// Throttling.User. Zero: no limit. See WithQuotas for per-API limits.
func WithRateLimit(perSecond float64) Option {
	return func(s *Server) { s.rate = perSecond }
}

// WithQuotaLocation sets where the day of the 20-backups-a-day quota begins
// and ends (default UTC).
func WithQuotaLocation(loc *time.Location) Option {
	return func(s *Server) {
		if loc != nil {
			s.quotaLoc = loc
		}
	}
}

// WithFaultSeed seeds the generator that decides whether a fault with a
// Rate below 1 fires on a call (default seed 1). The same seed and the same
// sequence of calls give the same faults.
func WithFaultSeed(seed uint64) Option {
	return func(s *Server) { s.faults.Seed(seed) }
}

// WithObserver has o called for every call that reaches its action (see
// Observer).
func WithObserver(o Observer) Option {
	return func(s *Server) { s.observer = o }
}

// NewServer starts an emulator listening on 127.0.0.1 on a free port. It
// panics if it cannot listen, which is appropriate for tests.
func NewServer(opts ...Option) *Server {
	s := &Server{
		clock:       emukit.Real{},
		duration:    60 * time.Second,
		quotaLoc:    time.UTC,
		done:        make(chan struct{}),
		instances:   map[string]*Instance{},
		jobs:        map[string][]*job{},
		backups:     map[string][]Backup{},
		counts:      map[string]int{},
		created:     map[string]int{},
		nextJob:     firstJobID,
		nextBackup:  firstBackupID,
		autoNext:    map[string]time.Time{},
		userBuckets: map[string]*bucket{},
		apiBuckets:  map[quotaKey]*bucket{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.store == nil {
		s.store = auth.NewStore(s.clock.Now)
		s.cred = s.store.NewAccessKey()
	}
	s.verifier = auth.NewPOPVerifier(s.store)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("rdstest: listen: %v", err))
	}
	s.ln = ln
	s.endpoint = ln.Addr().String()
	s.hs = emukit.Serve(ln, s)
	return s
}

// Endpoint is "127.0.0.1:PORT": the SDK's Config.Endpoint (with Protocol
// "http"; the endpoint must not carry a scheme).
func (s *Server) Endpoint() string { return s.endpoint }

// Credential is the long-term key generated by NewServer; zero when the
// server was created WithCredentials.
func (s *Server) Credential() auth.Credential { return s.cred }

// Close stops the listener, cuts injected latencies short and closes idle
// connections.
func (s *Server) Close() {
	s.closer.Do(func() {
		close(s.done)
		// Give requests in flight a moment, then close idle keep-alive
		// connections at once (a graceful Shutdown would wait for them).
		emukit.Shutdown(s.hs, 200*time.Millisecond)
	})
}

// ---- fleet ----

// AddInstance adds (or replaces) an instance. Empty fields default to region
// cn-hangzhou, engine MySQL, status Running, LockMode Unlock, type Primary,
// category HighAvailability, storage cloud_essd, account
// auth.DefaultAccountID, and a version and class that fit the engine. An
// AutomatedBackup schedule starts at its first time at or after now (one
// that does not pass its Check is ignored).
func (s *Server) AddInstance(in Instance) {
	if in.DBInstanceId == "" {
		return
	}
	in = in.withDefaults()
	now := s.clock.Now()
	s.mu.Lock()
	s.tickLocked(now)
	if _, ok := s.instances[in.DBInstanceId]; !ok {
		i, _ := slices.BinarySearch(s.ids, in.DBInstanceId)
		s.ids = slices.Insert(s.ids, i, in.DBInstanceId)
	}
	s.instances[in.DBInstanceId] = &in
	s.replicas = nil
	delete(s.autoNext, in.DBInstanceId)
	if a := in.AutomatedBackup; a != nil && a.Check() == nil {
		if first, ok := a.firstAt(now); ok {
			s.autoNext[in.DBInstanceId] = first
		}
	}
	s.mu.Unlock()
}

// SetStatus changes an instance's DBInstanceStatus (e.g. Rebooting, and later
// Running again). Unknown ids are ignored.
func (s *Server) SetStatus(id, status string) {
	s.mu.Lock()
	if in, ok := s.instances[id]; ok {
		in.DBInstanceStatus = status
	}
	s.mu.Unlock()
}

// SetLockMode changes an instance's LockMode. Unknown ids are ignored.
func (s *Server) SetLockMode(id, mode string) {
	s.mu.Lock()
	if in, ok := s.instances[id]; ok {
		in.LockMode = mode
	}
	s.mu.Unlock()
}

// Instance returns the instance as the server holds it.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return Instance{}, false
	}
	return in.withDefaults(), true
}

// AddBackup seeds an existing backup set of instance id (see Backup for the
// defaults). Manual sets that started today count toward the daily quota.
func (s *Server) AddBackup(id string, b Backup) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b.DBInstanceId = id
	if b.BackupId == "" {
		b.BackupId = strconv.FormatInt(s.nextBackup, 10)
		s.nextBackup++
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&b.BackupMethod, "Physical")
	def(&b.BackupMode, "Manual")
	def(&b.BackupType, "FullBackup")
	def(&b.BackupStatus, "Success")
	if b.BackupStartTime.IsZero() {
		b.BackupStartTime = now.Add(-s.duration)
	}
	if b.BackupEndTime.IsZero() {
		b.BackupEndTime = b.BackupStartTime.Add(s.duration)
	}
	if b.BackupSize == 0 && b.BackupStatus == "Success" {
		b.BackupSize = 100 << 20
	}
	s.backups[id] = append(s.backups[id], b)
}

// ---- faults ----

// Fault scripts a failure. A call matches when Action ("" = any),
// DBInstanceId ("" = any) and RegionId ("" = any) match; a call's region is
// the one its flow control is counted in (its RegionId, else the region of
// the instance it names when the caller sees it, else DefaultRegion), so a
// fault with only RegionId and Drop is that region's endpoint down. Faults are checked after the signature and
// the rate limit, in the order injected. A matching fault with a Rate below 1
// fires on a call with that probability (decided by the server's seeded
// generator, see WithFaultSeed); one that does not fire lets the next
// matching fault decide. Times counts the calls a fault fired on.
//
// What a call gets when a fault fires, after sleeping Latency (or
// LatencyMs; on an InstantLatency clock the clock moves forward by it
// instead):
//   - Drop: the connection is closed without an answer (the SDK returns a
//     network error, not an SDKError);
//   - Code set: the API's JSON error with Code and Status (default: the
//     status the API uses for Code, else 500) and Message (default: the
//     API's message for Code);
//   - Code empty and Status >= 300: a non-JSON (HTML) body with Status;
//   - otherwise (Status 0 or 2xx): the call is served normally (latency only).
//
// With After the action runs first (CreateBackup creates its job) and only
// its answer is lost: replaced, after the latency, by the drop, the error or
// the HTML body above. This is the "it happened but the caller never heard"
// case.
//
// FailJob faults (for action CreateBackup) are different: they are taken by
// the next successful CreateBackup calls only, which succeed but whose job
// ends Failed; Status, Code, Drop, After and Latency are then ignored.
//
// Empty faults (for action DescribeDBInstanceAttribute) are taken only by
// calls for an instance the caller does not see (unknown, or another
// account's): instead of 404 InvalidDBInstanceId.NotFound they answer 200
// with an empty Items.DBInstanceAttribute, which terraform-provider-alicloud
// reports the API does ("The API return 200 for resource not found";
// cloud-fidelity.md A2).
//
// Check tells whether a fault makes sense; InjectFault does not check.
type Fault struct {
	Action       string        `json:"action,omitempty"`
	DBInstanceId string        `json:"DBInstanceId,omitempty"`
	RegionId     string        `json:"RegionId,omitempty"` // the call's region (see above); "" = any
	Status       int           `json:"status,omitempty"`
	Code         string        `json:"code,omitempty"`
	Message      string        `json:"message,omitempty"`
	Times        int           `json:"times,omitempty"` // next N calls the fault fires on; 0 = every call
	Rate         float64       `json:"rate,omitempty"`  // probability of firing on a matching call; 0 = 1 (always)
	Latency      time.Duration `json:"-"`
	LatencyMs    int           `json:"latencyMs,omitempty"`
	Drop         bool          `json:"drop,omitempty"`    // close the connection without answering
	After        bool          `json:"after,omitempty"`   // run the action, then lose its answer
	FailJob      bool          `json:"failJob,omitempty"` // CreateBackup succeeds but the job ends Failed
	Empty        bool          `json:"empty,omitempty"`   // DescribeDBInstanceAttribute of a missing instance: 200, no item
}

// Check reports the first thing wrong with f, naming the JSON field at
// fault: an unknown action, a rate outside 0..1, a negative times or
// latencyMs, a status outside 200..599, drop with a status or code, after
// with nothing to lose the answer with, failJob combined with anything but
// action CreateBackup and DBInstanceId, empty combined with anything but
// action DescribeDBInstanceAttribute, DBInstanceId, times and rate.
func (f Fault) Check() error {
	switch {
	case f.Action != "" && !slices.Contains(Actions(), f.Action):
		return fmt.Errorf("action: unknown RDS action %q (known: %s)", f.Action, strings.Join(Actions(), ", "))
	case math.IsNaN(f.Rate) || f.Rate < 0 || f.Rate > 1:
		return fmt.Errorf("rate: must be a probability from 0 to 1 (0 means always), got %v", f.Rate)
	case f.Times < 0:
		return fmt.Errorf("times: must be 0 (every call) or a positive count, got %d", f.Times)
	case f.LatencyMs < 0 || f.Latency < 0:
		return fmt.Errorf("latencyMs: must not be negative, got %d", f.LatencyMs)
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fmt.Errorf("status: must be an HTTP status from 200 to 599, got %d", f.Status)
	case f.FailJob && f.Action != "" && f.Action != "CreateBackup":
		return fmt.Errorf("failJob: only for action CreateBackup, not %s", f.Action)
	case f.FailJob && (f.Drop || f.After || f.Code != "" || f.Status != 0 || f.LatencyMs != 0 || f.Latency != 0):
		return errors.New("failJob: the call succeeds and its job ends Failed; leave drop, after, status, code and latencyMs out")
	case f.Empty && f.Action != "" && f.Action != "DescribeDBInstanceAttribute":
		return fmt.Errorf("empty: only for action DescribeDBInstanceAttribute, not %s", f.Action)
	case f.Empty && (f.FailJob || f.Drop || f.After || f.Code != "" || f.Status != 0 || f.LatencyMs != 0 || f.Latency != 0):
		return errors.New("empty: a call for a missing instance is answered 200 with no item; leave failJob, drop, after, status, code and latencyMs out")
	case f.Drop && (f.Code != "" || f.Status != 0):
		return errors.New("drop: closes the connection without an answer; leave status and code out")
	case f.After && !f.Drop && f.Code == "" && f.Status < 300:
		return errors.New("after: needs drop, a code or an error status (the action runs, then its answer is lost)")
	}
	return nil
}

func (f Fault) latency() time.Duration { return emukit.Latency(f.Latency, f.LatencyMs) }

// InjectFault adds a scripted fault.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	s.faults.Add(f, f.Times, f.Rate)
	s.mu.Unlock()
}

// ClearFaults removes every fault, used up or not.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults.Clear()
	s.mu.Unlock()
}

// PendingFault is a fault in a Snapshot: the fault, the calls it still
// fires on (0: every call) and those it fired on.
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

// Kinds of faults, by who takes them.
type faultKind int

const (
	faultCall    faultKind = iota // taken by every call before its action
	faultFailJob                  // taken by a successful CreateBackup
	faultEmpty                    // taken by DescribeDBInstanceAttribute of a missing instance
)

func (f Fault) kind() faultKind {
	switch {
	case f.FailJob:
		return faultFailJob
	case f.Empty:
		return faultEmpty
	}
	return faultCall
}

// takeFaultLocked returns the first fault of kind that matches the call and
// fires (see Fault.Rate), and counts it down.
func (s *Server) takeFaultLocked(req *request, instance string, kind faultKind) (Fault, bool) {
	return s.faults.Take(func(f Fault) bool {
		return f.kind() == kind && (f.Action == "" || f.Action == req.action) && (f.DBInstanceId == "" || f.DBInstanceId == instance) &&
			(f.RegionId == "" || f.RegionId == s.callRegionLocked(req))
	})
}

// ---- flow control (see quotas.go) ----

type bucket struct {
	rate, capacity, tokens float64
	last                   time.Time
	started                bool
}

func (b *bucket) take(now time.Time) bool {
	if !b.started {
		b.started, b.tokens, b.last = true, b.capacity, now
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.capacity, b.tokens+el.Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1-1e-9 { // tolerate rounding: 1/3 s at 3/s is one token
		b.tokens = max(b.tokens-1, 0)
		return true
	}
	return false
}

// ---- call log ----

// Call is one request as the server saw it.
type Call struct {
	Action        string    `json:"action"`
	DBInstanceId  string    `json:"DBInstanceId,omitempty"`
	Start         time.Time `json:"start"`  // real time
	End           time.Time `json:"end"`    // real time
	Status        int       `json:"status"` // 0 when the connection was dropped
	Code          string    `json:"code,omitempty"`
	AccessKeyId   string    `json:"accessKeyId,omitempty"`
	SignatureKind string    `json:"signatureKind,omitempty"` // SigV3 or SigV2
	RequestId     string    `json:"requestId"`
	Fault         bool      `json:"fault,omitempty"`     // answered by an injected fault
	Performed     bool      `json:"performed"`           // the action ran (with an after fault or a crash, its answer was then lost)
	Latency       int       `json:"latencyMs,omitempty"` // injected latency, ms
}

// Calls returns the call log, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Counts returns the number of calls per action (every call, answered or not).
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// CreatedBackups returns the number of successful CreateBackup calls per
// instance.
func (s *Server) CreatedBackups() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.created)
}

// Jobs returns the backup jobs of an instance, oldest first, with their
// status as of the clock's now.
func (s *Server) Jobs(id string) []Job {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked(now)
	out := make([]Job, 0, len(s.jobs[id]))
	for _, j := range s.jobs[id] {
		out = append(out, j.view(now))
	}
	return out
}

// Backups returns the backup sets of an instance as DescribeBackups knows
// them (seeded ones and those of ended jobs whose set lag has passed),
// newest first.
func (s *Server) Backups(id string) []Backup {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked(now)
	return s.backupSetsLocked(id, now)
}

// Snapshot is what State returns.
type Snapshot struct {
	Time           time.Time           `json:"time"`
	Instances      []Instance          `json:"instances"`
	Jobs           map[string][]Job    `json:"jobs"`
	Backups        map[string][]Backup `json:"backups"`
	Counts         map[string]int      `json:"counts"`
	CreatedBackups map[string]int      `json:"createdBackups"`
	Faults         []PendingFault      `json:"faults"`
}

// State returns a JSON-marshalable Snapshot of instances (by id), jobs and
// backup sets (per instance, as of the clock's now) and call counts.
func (s *Server) State() any {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked(now)
	snap := Snapshot{
		Time:           now,
		Instances:      []Instance{},
		Jobs:           map[string][]Job{},
		Backups:        map[string][]Backup{},
		Counts:         maps.Clone(s.counts),
		CreatedBackups: maps.Clone(s.created),
		Faults:         s.faultsLocked(),
	}
	for _, id := range slices.Sorted(maps.Keys(s.instances)) {
		snap.Instances = append(snap.Instances, s.instances[id].withDefaults())
	}
	for id, js := range s.jobs {
		for _, j := range js {
			snap.Jobs[id] = append(snap.Jobs[id], j.view(now))
		}
	}
	ids := map[string]bool{}
	for id := range s.backups {
		ids[id] = true
	}
	for id := range s.jobs {
		ids[id] = true
	}
	for id := range ids {
		if sets := s.backupSetsLocked(id, now); len(sets) > 0 {
			snap.Backups[id] = sets
		}
	}
	return snap
}

// ---- request handling ----

type request struct {
	pop      *auth.POPRequest
	params   url.Values // pop.Params: the query, plus a form body if any
	action   string     // pop.Action
	instance string
	ak       string // the claimed key, replaced by the verified key
	account  string // the verified key's account
	id       string
}

type reply struct {
	status    int
	body      map[string]any
	err       *apiError
	html      bool // non-JSON body (fault)
	drop      bool
	fault     bool
	performed bool // the action ran
	latency   time.Duration
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	pop := auth.ParsePOP(r, body)
	req := &request{pop: pop, params: pop.Params, action: pop.Action, id: auth.NewPOPRequestID()}
	req.instance = req.params.Get("DBInstanceId")
	req.ak = pop.ClaimedKey // replaced by the verified key, for the log

	var rep reply
	switch {
	case readErr != nil || len(body) > maxBody:
		rep.err = newErr(http.StatusBadRequest, "InvalidParameter", "The request body could not be read or exceeds %d bytes.", maxBody)
	default:
		rep = s.serve(req)
	}

	status, code := 0, ""
	if !rep.drop {
		status, code = s.write(w, req, rep)
	}

	s.mu.Lock()
	s.calls = append(s.calls, Call{
		Action:        req.action,
		DBInstanceId:  req.instance,
		Start:         start,
		End:           time.Now(),
		Status:        status,
		Code:          code,
		AccessKeyId:   req.ak,
		SignatureKind: req.pop.Kind,
		RequestId:     req.id,
		Fault:         rep.fault,
		Performed:     rep.performed,
		Latency:       int(rep.latency / time.Millisecond),
	})
	s.counts[req.action]++
	s.mu.Unlock()

	if rep.drop {
		emukit.Drop(w)
	}
}

// serve runs the checks in the API's order: action and version, signature,
// rate limit, injected faults, then the action itself, with the observer
// told before and after it.
func (s *Server) serve(req *request) reply {
	h, e := route(req)
	if e != nil {
		return reply{err: e}
	}
	if e := s.authenticate(req); e != nil {
		return reply{err: e}
	}
	now := s.clock.Now()
	s.mu.Lock()
	throttled := s.throttleLocked(req, now)
	var f Fault
	var faulted bool
	if throttled == nil {
		f, faulted = s.takeFaultLocked(req, req.instance, faultCall)
	}
	s.mu.Unlock()
	if throttled != nil {
		return reply{err: throttled}
	}
	var latency time.Duration
	if faulted && !f.After {
		latency = s.sleep(req, f.latency())
		if rep, ok := faultReply(f); ok {
			rep.latency = latency
			return rep
		}
	}
	if s.observe(req, PhaseBefore, nil) {
		return reply{drop: true, fault: faulted, latency: latency}
	}
	body, e := h(s, req)
	rep := reply{body: body, err: e, fault: faulted, performed: true, latency: latency}
	if s.observe(req, PhaseAfter, e) {
		return reply{drop: true, fault: faulted, performed: true, latency: latency}
	}
	if faulted && f.After {
		latency := s.sleep(req, f.latency())
		if lost, ok := faultReply(f); ok {
			lost.performed, lost.latency = true, latency
			return lost
		}
	}
	return rep
}

// faultReply is what a fault answers instead of the action; ok is false for
// a latency-only fault.
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

// sleep waits d, cut short by Close or by the client going away, and
// returns d; on an InstantLatency clock the clock moves instead
// (emukit.Sleep).
func (s *Server) sleep(req *request, d time.Duration) time.Duration {
	return emukit.Sleep(s.clock, d, s.done, req.pop.R.Context().Done())
}

// Phases of a call an Observer sees.
const (
	PhaseBefore = "before" // the action is about to run
	PhaseAfter  = "after"  // the action ran; its answer is not yet written
)

// CallEvent is what an Observer sees of a call.
type CallEvent struct {
	Phase        string // PhaseBefore or PhaseAfter
	Action       string
	DBInstanceId string
	RequestId    string
	Code         string // PhaseAfter: the action's error code, "" when it succeeded
}

// Observer is called, synchronously, for every call that reaches its action
// (authenticated, not throttled, not answered by a fault in its place):
// once before the action runs and once after, before the answer is written.
// Returning true closes the connection without an answer; before, the
// action is then not run. The local cloud uses it to kill a function's
// process at a given call (crash injection).
type Observer func(CallEvent) (drop bool)

func (s *Server) observe(req *request, phase string, e *apiError) bool {
	if s.observer == nil {
		return false
	}
	ev := CallEvent{Phase: phase, Action: req.action, DBInstanceId: req.instance, RequestId: req.id}
	if e != nil {
		ev.Code = e.Code
	}
	return s.observer(ev)
}

// write sends rep and returns the status and error code for the call log.
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

package fc

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

// Defaults, as FC applies them to a function that does not set the field.
const (
	DefaultTimeout   = 3 * time.Second // FC's default function timeout
	DefaultMemoryMB  = 512
	DefaultRegion    = "cn-hangzhou"
	DefaultAccountID = "1234567890123456"
)

// Error types FC reports in the X-Fc-Error-Type response header.
const (
	UnhandledInvocationError = "UnhandledInvocationError"
	InitializationError      = "InitializationError"
)

const (
	runtimeAPIBase = "/2020-11-11/runtime/invocation/"
	// instanceStartTimeout bounds how long a new process may take before it
	// polls for its first invocation (FC allows custom runtimes 120 s).
	instanceStartTimeout = 120 * time.Second
	// maxPayload is FC's limit for a synchronous request and response.
	maxPayload = 32 << 20
)

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("fctest: function closed")

// FunctionConfig describes one go1 function.
type FunctionConfig struct {
	Name        string                 // function name; default "function"
	Binary      string                 // path to the built executable (an fc.Start program)
	Env         []string               // extra environment (KEY=VALUE), on top of FC's system variables
	Timeout     time.Duration          // function timeout, enforced by killing the process; default 3 s
	MemoryMB    int                    // default 512
	Region      string                 // default "cn-hangzhou"
	AccountID   string                 // default "1234567890123456"
	Credentials func() auth.Credential // role credentials per invocation; nil: no credential headers
	Initializer bool                   // run an initializer invocation (x-fc-function-type: 1) once per instance
	Stdout      io.Writer              // the process's standard output; nil discards
	Stderr      io.Writer              // the process's standard error; nil discards
	Now         func() time.Time       // clock for deadlines, request ids and event times; default time.Now
	// Instances is how many instances may run at once, each serving one
	// invocation at a time (FC scales out by instances; go1 instances have
	// no instance concurrency); default 1. Concurrent invocations beyond it
	// wait for an instance to be free.
	Instances int
}

// InvokeOptions are per-invocation settings.
type InvokeOptions struct {
	RetryCount int    // sent as x-fc-retry-count
	RequestID  string // generated in FC's "1-<hex time>-<hex>" form when empty
}

// Result is the outcome of one invocation.
type Result struct {
	RequestID string
	Response  json.RawMessage // body the function posted to /response; nil on error
	// Error is the body the function posted to /error, or the error FC
	// reports when the platform ended the invocation (timeout, process
	// exit, failed initializer).
	Error *InvokeError
	// ErrorHeader is what FC puts in X-Fc-Error-Type for a failed
	// invocation: UnhandledInvocationError or InitializationError.
	ErrorHeader string
	TimedOut    bool // the process was killed at the deadline
	Duration    time.Duration
}

// Failed reports whether the invocation did not succeed.
func (r Result) Failed() bool { return r.Error != nil || r.TimedOut }

// InvokeError is the error payload of the go1 runtime API.
type InvokeError struct {
	ErrorMessage string          `json:"errorMessage"`
	ErrorType    string          `json:"errorType"`
	StackTrace   json.RawMessage `json:"stackTrace,omitempty"`
}

// Invocation is one entry of a function's invocation log.
type Invocation struct {
	RequestID   string
	Initializer bool // an initializer invocation, not a handler invocation
	RetryCount  int
	Payload     []byte
	Result      Result
	Instance    int // which process served it: 1 for the first one started
	Start, End  time.Time
}

// Function is a running go1 function: up to FunctionConfig.Instances
// processes (instances), each serving one invocation at a time, as FC 3.0
// built-in runtimes do.
type Function struct {
	cfg     FunctionConfig
	slot    chan struct{} // one token per invocation in progress
	done    chan struct{} // closed when Close begins
	stopped chan struct{} // closed when Close has ended: every process gone
	wg      sync.WaitGroup
	stop    func() bool // unregisters the ctx hook

	mu        sync.Mutex
	closed    bool
	live      []*instance // every instance whose process runs
	idle      []*instance // live instances serving no invocation
	instances int         // instances ever started
	log       []Invocation
}

// Start starts the function's first process, which talks to a runtime API
// server on 127.0.0.1 through FC_RUNTIME_API. When ctx is done the function
// is closed, like Close.
func Start(ctx context.Context, cfg FunctionConfig) (*Function, error) {
	if cfg.Binary == "" {
		return nil, errors.New("fctest: FunctionConfig.Binary is required")
	}
	bin, err := filepath.Abs(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("fctest: %w", err)
	}
	if st, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("fctest: %w", err)
	} else if st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("fctest: %s is not an executable file", bin)
	}
	cfg.Binary = bin
	if cfg.Name == "" {
		cfg.Name = "function"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = DefaultMemoryMB
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Instances <= 0 {
		cfg.Instances = 1
	}
	f := &Function{cfg: cfg, slot: make(chan struct{}, cfg.Instances), done: make(chan struct{}), stopped: make(chan struct{})}
	f.mu.Lock()
	inst, err := f.startInstanceLocked()
	if err == nil {
		f.idle = append(f.idle, inst)
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	f.mu.Lock() // Close, run by AfterFunc at once if ctx is done, reads f.stop
	f.stop = context.AfterFunc(ctx, func() { _ = f.Close() })
	f.mu.Unlock()
	return f, nil
}

// Name returns the function name.
func (f *Function) Name() string { return f.cfg.Name }

// Config returns the configuration with defaults applied.
func (f *Function) Config() FunctionConfig { return f.cfg }

func (f *Function) now() time.Time { return f.cfg.Now() }

// Invoke runs one synchronous invocation and waits for its result. A function
// error is reported in Result.Error, not as an error; err is set only when
// the invocation could not run or ctx ended first. If ctx ends after the
// function received the event, the invocation still runs to its end (and
// keeps the instance busy) as it does in FC.
func (f *Function) Invoke(ctx context.Context, payload []byte, opt InvokeOptions) (Result, error) {
	return f.invoke(ctx, ctx, payload, opt)
}

// invoke is Invoke with two contexts: waitCtx bounds the wait for a free
// instance, runCtx the invocation once it has one. An asynchronous
// invocation waits under the trigger's context and, once it runs, is seen
// through (runCtx without cancel).
func (f *Function) invoke(waitCtx, ctx context.Context, payload []byte, opt InvokeOptions) (Result, error) {
	if opt.RequestID == "" {
		opt.RequestID = newRequestID(f.now())
	}
	res := Result{RequestID: opt.RequestID}
	select {
	case f.slot <- struct{}{}:
	case <-waitCtx.Done():
		return res, waitCtx.Err()
	case <-ctx.Done():
		return res, ctx.Err()
	case <-f.done:
		return res, ErrClosed
	}
	// A select picks at random among ready cases: an instance that came
	// free as the wait was cancelled must not start the invocation.
	if err := cmp.Or(waitCtx.Err(), ctx.Err()); err != nil {
		<-f.slot
		return res, err
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		<-f.slot
		return res, ErrClosed
	}
	f.wg.Add(1)
	f.mu.Unlock()

	c := &call{ctx: ctx, payload: payload, opt: opt, done: make(chan struct{})}
	go f.run(c)
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		return res, ctx.Err()
	}
}

// Invocations returns a copy of the invocation log, oldest first.
func (f *Function) Invocations() []Invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Invocation(nil), f.log...)
}

// Close kills the processes and stops their runtime API servers, and
// returns when they are gone (also when another Close, such as the one the
// start context runs, is doing it). Invocations in flight end with
// ErrClosed.
func (f *Function) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		<-f.stopped
		return nil
	}
	f.closed = true
	close(f.done)
	live, stop := slices.Clone(f.live), f.stop
	f.mu.Unlock()
	if stop != nil {
		stop()
	}
	for _, inst := range live {
		inst.kill()
	}
	f.wg.Wait()
	close(f.stopped)
	return nil
}

// Kill ends every running instance's process group with SIGKILL, as when
// the platform loses an instance (the process crashes, runs out of memory,
// its host dies), and returns how many it killed. An invocation in flight
// fails as FC reports it, "Process exited unexpectedly before completing
// request (signal: killed)" with UnhandledInvocationError, so a trigger that
// retries (timer, MNS queue) pushes the event again; the next invocation
// starts a new instance. The function stays usable.
func (f *Function) Kill() int {
	f.mu.Lock()
	live := slices.Clone(f.live)
	f.mu.Unlock()
	n := 0
	for _, inst := range live {
		if !inst.hasExited() {
			inst.kill()
			n++
		}
	}
	return n
}

// PIDs returns the process ids of the instances whose process runs (for
// measurements: memory and CPU from /proc).
func (f *Function) PIDs() []int {
	f.mu.Lock()
	live := slices.Clone(f.live)
	f.mu.Unlock()
	var out []int
	for _, inst := range live {
		if !inst.hasExited() && inst.cmd != nil && inst.cmd.Process != nil {
			out = append(out, inst.cmd.Process.Pid)
		}
	}
	return out
}

// Running returns how many instances have a running process.
func (f *Function) Running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.live)
}

// Started returns how many instances were ever started (a timed-out,
// exited or killed instance is replaced by a new one).
func (f *Function) Started() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.instances
}

// call is one Invoke in progress.
type call struct {
	ctx     context.Context
	payload []byte
	opt     InvokeOptions
	res     Result
	err     error
	done    chan struct{}
}

// run executes c on the instance; the caller holds f.slot.
func (f *Function) run(c *call) {
	defer f.wg.Done()
	defer close(c.done)
	defer func() { <-f.slot }()

	c.res.RequestID = c.opt.RequestID
	inst, err := f.acquire()
	if err != nil {
		c.err = err
		return
	}
	defer f.release(inst)
	if f.cfg.Initializer && !inst.initialized {
		hook := &invocation{id: newRequestID(f.now()), fnType: 1}
		res, err := f.dispatch(c.ctx, inst, hook)
		if err != nil {
			c.err = err
			return
		}
		if res.Failed() {
			// FC fails this invocation and creates a new instance for the next.
			inst.kill()
			c.res.Error = res.Error
			c.res.ErrorHeader = InitializationError
			return
		}
		inst.initialized = true
	}
	inv := &invocation{id: c.opt.RequestID, payload: c.payload, retry: c.opt.RetryCount}
	c.res, c.err = f.dispatch(c.ctx, inst, inv)
}

// acquire returns an idle running instance, starting one when there is
// none; the caller holds a token of f.slot, so at most cfg.Instances are
// ever busy or running.
func (f *Function) acquire() (*instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	for len(f.idle) > 0 {
		inst := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if !inst.hasExited() {
			return inst, nil
		}
	}
	return f.startInstanceLocked()
}

// release makes inst idle again, unless its process has ended.
func (f *Function) release(inst *instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed && !inst.hasExited() {
		f.idle = append(f.idle, inst)
	}
}

// invocation is one event handed to the process.
type invocation struct {
	id      string
	payload []byte
	retry   int
	fnType  int // 0 handler, 1 initializer

	dispatched chan struct{} // closed by the /next handler once it took the event
	started    time.Time     // real time of dispatch
	deadline   time.Time     // f.now() + timeout at dispatch
	result     chan outcome  // the /response or /error post
}

type outcome struct {
	body  []byte
	isErr bool
}

// dispatch hands inv to the instance's next /next poll and waits for its
// result, the deadline or the process's end. err is set only when inv was
// never dispatched or f was closed.
func (f *Function) dispatch(ctx context.Context, inst *instance, inv *invocation) (Result, error) {
	inv.dispatched = make(chan struct{})
	inv.result = make(chan outcome, 1)
	res := Result{RequestID: inv.id}
	rec := Invocation{RequestID: inv.id, Initializer: inv.fnType == 1, RetryCount: inv.retry,
		Payload: inv.payload, Instance: inst.num}

	startTimer := time.NewTimer(instanceStartTimeout)
	defer startTimer.Stop()
	select {
	case inst.next <- inv:
	case <-ctx.Done():
		return res, ctx.Err()
	case <-f.done:
		return res, ErrClosed
	case <-inst.exited:
		rec.Start, rec.End = f.now(), f.now()
		res.Error, res.ErrorHeader = inst.exitError(), UnhandledInvocationError
		rec.Result = res
		f.record(rec)
		return res, nil
	case <-startTimer.C:
		inst.kill()
		rec.Start, rec.End = f.now(), f.now()
		res.Error = &InvokeError{ErrorMessage: fmt.Sprintf(
			"instance did not poll for an invocation within %s", instanceStartTimeout)}
		res.ErrorHeader = UnhandledInvocationError
		rec.Result = res
		f.record(rec)
		return res, nil
	}
	<-inv.dispatched // the handler closes it right after taking inv
	rec.Start = inv.deadline.Add(-f.cfg.Timeout)

	timer := time.NewTimer(time.Until(inv.started.Add(f.cfg.Timeout)))
	defer timer.Stop()
	select {
	case out := <-inv.result:
		res.setOutcome(out)
	case <-timer.C:
		inst.forget(inv.id)
		select {
		case out := <-inv.result: // it made it after all
			res.setOutcome(out)
		default:
			inst.kill()
			res.TimedOut = true
			res.Error = &InvokeError{ErrorMessage: fmt.Sprintf("Function timed out after %s", f.timeoutText())}
			res.ErrorHeader = UnhandledInvocationError
		}
	case <-inst.exited:
		inst.forget(inv.id)
		select {
		case out := <-inv.result:
			res.setOutcome(out)
		default:
			res.Error, res.ErrorHeader = inst.exitError(), UnhandledInvocationError
		}
	case <-f.done:
		return res, ErrClosed
	}
	res.Duration = time.Since(inv.started)
	rec.End = f.now()
	rec.Result = res
	f.record(rec)
	return res, nil
}

func (r *Result) setOutcome(out outcome) {
	if !out.isErr {
		if len(out.body) > 0 {
			r.Response = json.RawMessage(out.body)
		}
		return
	}
	var e InvokeError
	if err := json.Unmarshal(out.body, &e); err != nil {
		e = InvokeError{ErrorMessage: string(out.body)}
	}
	r.Error = &e
	r.ErrorHeader = UnhandledInvocationError
}

func (f *Function) timeoutText() string {
	if t := f.cfg.Timeout; t%time.Second == 0 {
		return fmt.Sprintf("%d seconds", int(t/time.Second))
	}
	return f.cfg.Timeout.String()
}

func (f *Function) record(rec Invocation) {
	f.mu.Lock()
	f.log = append(f.log, rec)
	f.mu.Unlock()
}

// instance is one process plus the runtime API server it talks to. Each
// process gets its own server, so a killed process can never take an event
// meant for its successor.
type instance struct {
	f           *Function
	num         int
	cmd         *exec.Cmd
	srv         *http.Server
	next        chan *invocation
	exited      chan struct{}
	exitErr     error // set before exited is closed
	initialized bool  // only touched by the invocation that acquired the instance

	mu       sync.Mutex
	inflight map[string]*invocation
}

func (f *Function) startInstanceLocked() (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fctest: runtime API listener: %w", err)
	}
	f.instances++
	inst := &instance{f: f, num: f.instances, next: make(chan *invocation),
		exited: make(chan struct{}), inflight: map[string]*invocation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIBase+"next", inst.serveNext)
	mux.HandleFunc("POST "+runtimeAPIBase+"{id}/response", inst.servePost(false))
	mux.HandleFunc("POST "+runtimeAPIBase+"{id}/error", inst.servePost(true))
	inst.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	cmd := exec.Command(f.cfg.Binary)
	cmd.Dir = filepath.Dir(f.cfg.Binary)
	cmd.Env = f.environ(inst.num, ln.Addr().String())
	cmd.Stdout, cmd.Stderr = f.cfg.Stdout, f.cfg.Stderr
	cmd.WaitDelay = 2 * time.Second
	setProcAttrs(cmd)
	if err := cmd.Start(); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("fctest: start %s: %w", f.cfg.Binary, err)
	}
	inst.cmd = cmd
	f.live = append(f.live, inst)
	f.wg.Add(2)
	go func() {
		defer f.wg.Done()
		_ = inst.srv.Serve(ln)
	}()
	go func() {
		defer f.wg.Done()
		inst.exitErr = cmd.Wait()
		// Forgotten before exited is closed, so that whoever waited for
		// the exit (kill) no longer counts the instance.
		f.mu.Lock()
		f.live = slices.DeleteFunc(f.live, func(i *instance) bool { return i == inst })
		f.idle = slices.DeleteFunc(f.idle, func(i *instance) bool { return i == inst })
		f.mu.Unlock()
		close(inst.exited)
		_ = inst.srv.Close()
	}()
	return inst, nil
}

// environ is the process environment: FC's system variables, then
// cfg.Env, then FC_RUNTIME_API. The caller's own environment is not
// inherited, as in FC.
func (f *Function) environ(num int, api string) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"TZ=UTC",
		"FC_FUNC_CODE_PATH=" + filepath.Dir(f.cfg.Binary),
		"FC_ACCOUNT_ID=" + f.cfg.AccountID,
		"FC_FUNCTION_HANDLER=main",
		"FC_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(f.cfg.MemoryMB),
		"FC_FUNCTION_NAME=" + f.cfg.Name,
		"FC_REGION=" + f.cfg.Region,
		fmt.Sprintf("FC_INSTANCE_ID=c-%08x-%s-%d", f.now().Unix(), randHex(8), num),
	}
	if f.cfg.Credentials != nil {
		c := f.cfg.Credentials()
		env = append(env,
			"ALIBABA_CLOUD_ACCESS_KEY_ID="+c.AccessKeyID,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET="+c.AccessKeySecret,
			"ALIBABA_CLOUD_SECURITY_TOKEN="+c.SecurityToken)
	}
	env = append(env, f.cfg.Env...)
	return append(env, "FC_RUNTIME_API="+api)
}

func (inst *instance) hasExited() bool {
	select {
	case <-inst.exited:
		return true
	default:
		return false
	}
}

// kill ends the process group and waits until the process is gone.
func (inst *instance) kill() {
	if !inst.hasExited() {
		_ = killProcess(inst.cmd)
	}
	<-inst.exited
}

func (inst *instance) exitError() *InvokeError {
	status := "exited"
	if inst.exitErr != nil {
		status = inst.exitErr.Error()
	}
	return &InvokeError{ErrorMessage: "Process exited unexpectedly before completing request (" + status + ")"}
}

func (inst *instance) forget(id string) {
	inst.mu.Lock()
	delete(inst.inflight, id)
	inst.mu.Unlock()
}

// serveNext is GET /2020-11-11/runtime/invocation/next: a long poll that
// returns the next event with FC's context headers.
func (inst *instance) serveNext(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	select {
	case inv = <-inst.next:
	case <-r.Context().Done():
		return
	case <-inst.exited:
		return
	}
	f := inst.f
	inv.started = time.Now()
	inv.deadline = f.now().Add(f.cfg.Timeout)
	inst.mu.Lock()
	inst.inflight[inv.id] = inv
	inst.mu.Unlock()
	close(inv.dispatched)

	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("x-fc-request-id", inv.id)
	h.Set("x-fc-function-deadline", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("x-fc-function-timeout", strconv.Itoa(int(math.Ceil(f.cfg.Timeout.Seconds()))))
	h.Set("x-fc-function-name", f.cfg.Name)
	h.Set("x-fc-function-handler", "main")
	h.Set("x-fc-function-memory", strconv.Itoa(f.cfg.MemoryMB))
	h.Set("x-fc-function-type", strconv.Itoa(inv.fnType))
	h.Set("x-fc-region", f.cfg.Region)
	h.Set("x-fc-account-id", f.cfg.AccountID)
	h.Set("x-fc-qualifier", "LATEST")
	h.Set("x-fc-retry-count", strconv.Itoa(inv.retry))
	if f.cfg.Credentials != nil {
		c := f.cfg.Credentials()
		h.Set("x-fc-access-key-id", c.AccessKeyID)
		h.Set("x-fc-access-key-secret", c.AccessKeySecret)
		h.Set("x-fc-security-token", c.SecurityToken)
	}
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// servePost is POST .../{id}/response and .../{id}/error.
func (inst *instance) servePost(isErr bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		inst.mu.Lock()
		inv := inst.inflight[id]
		delete(inst.inflight, id)
		inst.mu.Unlock()
		if inv == nil {
			http.Error(w, `{"errorMessage":"unknown or finished request id","errorType":"InvalidRequestID"}`, http.StatusNotFound)
			return
		}
		if len(body) > maxPayload {
			inv.result <- outcome{isErr: true, body: mustJSON(InvokeError{
				ErrorMessage: fmt.Sprintf("response payload exceeds %d bytes", maxPayload),
				ErrorType:    "ResponseSizeTooLarge"})}
		} else {
			inv.result <- outcome{body: body, isErr: isErr}
		}
		w.WriteHeader(http.StatusOK)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// newRequestID returns an id shaped like FC 3.0's, e.g.
// "1-6742d1a0-0a1b2c3d4e5f60718293a4b5".
func newRequestID(now time.Time) string {
	return fmt.Sprintf("1-%08x-%s", now.Unix(), randHex(12))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

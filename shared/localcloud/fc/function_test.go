package fc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/syncbuf"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

func TestInvokeDeliversFixturesByteExact(t *testing.T) {
	f := startEcho(t, FunctionConfig{Name: "echo"})
	for _, name := range []string{"timer.json", "mns-queue.json", "http.json"} {
		t.Run(name, func(t *testing.T) {
			payload := fixture(t, name)
			got := invokeOK(t, f, payload, InvokeOptions{}).event(t)
			if !bytes.Equal(got, payload) {
				t.Errorf("handler received\n%q\nwant\n%q", got, payload)
			}
		})
	}
	log := f.Invocations()
	if len(log) != 3 {
		t.Fatalf("%d invocations logged, want 3", len(log))
	}
	if !bytes.Equal(log[1].Payload, fixture(t, "mns-queue.json")) {
		t.Error("logged payload differs from the invoked one")
	}
}

func TestInvokeContextHeaders(t *testing.T) {
	store := auth.NewStore(nil)
	cred := store.IssueSTS(time.Hour)
	now := time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	f := startEcho(t, FunctionConfig{
		Name:        "ctx",
		Timeout:     2 * time.Second,
		MemoryMB:    1024,
		Region:      "cn-shanghai",
		AccountID:   "1649015465570001",
		Credentials: func() auth.Credential { return cred },
		Env:         []string{"ECHOFN_VAR=hello"},
		Now:         func() time.Time { return now },
	})
	r := invokeOK(t, f, []byte(`{}`), InvokeOptions{RetryCount: 2, RequestID: "1-custom-id"})

	if want := now.Add(2 * time.Second).UnixMilli(); r.DeadlineMs != want {
		t.Errorf("deadline %d, want %d", r.DeadlineMs, want)
	}
	checks := []struct{ name, got, want string }{
		{"request id", r.RequestID, "1-custom-id"},
		{"access key id", r.AccessKeyID, cred.AccessKeyID},
		{"access key secret", r.AccessSecret, cred.AccessKeySecret},
		{"security token", r.Token, cred.SecurityToken},
		{"region", r.Region, "cn-shanghai"},
		{"account", r.AccountID, "1649015465570001"},
		{"function name", r.FunctionName, "ctx"},
		{"handler", r.Handler, "main"},
		{"memory", r.Memory, "1024"},
		{"qualifier", r.Qualifier, "LATEST"},
		{"env FC_FUNCTION_NAME", r.Env["FC_FUNCTION_NAME"], "ctx"},
		{"env FC_REGION", r.Env["FC_REGION"], "cn-shanghai"},
		{"env ALIBABA_CLOUD_ACCESS_KEY_ID", r.Env["ALIBABA_CLOUD_ACCESS_KEY_ID"], cred.AccessKeyID},
		{"env ECHOFN_VAR", r.Env["ECHOFN_VAR"], "hello"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if r.RetryCount != 2 || r.Timeout != 2 {
		t.Errorf("retry count %d, timeout %d; want 2, 2", r.RetryCount, r.Timeout)
	}
	if _, ok := r.Env["HOME"]; ok {
		t.Error("the caller's environment leaked into the function (HOME is set)")
	}

	// Without Credentials there are no credential headers; the request id is FC-shaped.
	g := startEcho(t, FunctionConfig{})
	r = invokeOK(t, g, []byte(`{}`), InvokeOptions{})
	if r.AccessKeyID != "" || r.Token != "" {
		t.Errorf("credentials %q/%q without FunctionConfig.Credentials", r.AccessKeyID, r.Token)
	}
	if parts := strings.Split(r.RequestID, "-"); len(parts) != 3 || parts[0] != "1" || len(parts[1]) != 8 || len(parts[2]) != 24 {
		t.Errorf("generated request id %q is not FC-shaped", r.RequestID)
	}
	if r.Region != DefaultRegion || r.AccountID != DefaultAccountID || r.Memory != "512" || r.Timeout != 3 {
		t.Errorf("defaults: region %q account %q memory %q timeout %d", r.Region, r.AccountID, r.Memory, r.Timeout)
	}
}

func TestInvokeErrorAndPanicPayloads(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	ctx := context.Background()

	res, err := f.Invoke(ctx, directive(`{"fail":"something is wrong"}`), InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Response != nil || res.Error == nil {
		t.Fatalf("error invocation: response %s, error %+v", res.Response, res.Error)
	}
	if res.Error.ErrorMessage != "something is wrong" || res.Error.ErrorType != "errorString" || res.Error.StackTrace != nil {
		t.Errorf("error payload %+v", res.Error)
	}
	if res.ErrorHeader != UnhandledInvocationError {
		t.Errorf("ErrorHeader %q", res.ErrorHeader)
	}
	pid := invokeOK(t, f, []byte(`{}`), InvokeOptions{}).PID

	res, err = f.Invoke(ctx, directive(`{"panic":"kaboom"}`), InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || res.Error.ErrorMessage != "kaboom" || res.Error.ErrorType != "string" {
		t.Fatalf("panic payload %+v", res.Error)
	}
	var frames []struct {
		Path  string `json:"path"`
		Line  int    `json:"line"`
		Label string `json:"label"`
	}
	if err := json.Unmarshal(res.Error.StackTrace, &frames); err != nil || len(frames) == 0 {
		t.Fatalf("stackTrace %s: %v", res.Error.StackTrace, err)
	}
	if frames[0].Path == "" || frames[0].Line == 0 || frames[0].Label == "" {
		t.Errorf("first frame %+v", frames[0])
	}
	// The SDK keeps serving after a panic: same process.
	if got := invokeOK(t, f, []byte(`{}`), InvokeOptions{}).PID; got != pid {
		t.Errorf("process changed after a panic: pid %d, was %d", got, pid)
	}
}

func TestInvokeTimeoutKillsProcessAndNextInvokeWorks(t *testing.T) {
	f := startEcho(t, FunctionConfig{Timeout: 300 * time.Millisecond})
	first := invokeOK(t, f, []byte(`{}`), InvokeOptions{})

	start := time.Now()
	res, err := f.Invoke(context.Background(), directive(`{"sleepMs":10000}`), InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.Error == nil || !strings.Contains(res.Error.ErrorMessage, "timed out") {
		t.Fatalf("result %+v, error %+v; want a timeout", res, res.Error)
	}
	if el := time.Since(start); el < 300*time.Millisecond { // a timer never fires early
		t.Errorf("timeout after %s, before the function's 300ms", el)
	}
	if err := syscall.Kill(first.PID, 0); err == nil {
		t.Errorf("process %d still alive after the timeout", first.PID)
	}

	second := invokeOK(t, f, []byte(`{}`), InvokeOptions{})
	if second.PID == first.PID {
		t.Error("no new process after the timeout")
	}
	log := f.Invocations()
	if len(log) != 3 || log[0].Instance != 1 || log[1].Instance != 1 || log[2].Instance != 2 {
		t.Errorf("instances in log: %+v", log)
	}
}

func TestInvokeProcessExitIsAnErrorAndNextInvokeWorks(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	res, err := f.Invoke(context.Background(), directive(`{"exit":3}`), InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || !strings.Contains(res.Error.ErrorMessage, "exit status 3") || res.TimedOut {
		t.Fatalf("result %+v, error %+v", res, res.Error)
	}
	invokeOK(t, f, []byte(`{}`), InvokeOptions{})
}

func TestInitializerRunsOncePerInstance(t *testing.T) {
	var out syncbuf.Buffer
	f := startEcho(t, FunctionConfig{Initializer: true, Timeout: 300 * time.Millisecond, Stdout: &out})
	for range 3 {
		if r := invokeOK(t, f, []byte(`{}`), InvokeOptions{}); r.InitCount != 1 {
			t.Fatalf("initializer ran %d times before the handler", r.InitCount)
		}
	}
	log := f.Invocations()
	if len(log) != 4 || !log[0].Initializer || log[1].Initializer || log[0].Result.Failed() {
		t.Fatalf("log %+v", log)
	}
	if strings.Count(out.String(), "echofn initializer") != 1 {
		t.Errorf("stdout:\n%s", out.String())
	}

	// A new instance after a timeout runs the initializer again.
	if res, _ := f.Invoke(context.Background(), directive(`{"sleepMs":5000}`), InvokeOptions{}); !res.TimedOut {
		t.Fatal("no timeout")
	}
	if r := invokeOK(t, f, []byte(`{}`), InvokeOptions{}); r.InitCount != 1 {
		t.Errorf("new instance: initializer ran %d times", r.InitCount)
	}
	n := 0
	for _, inv := range f.Invocations() {
		if inv.Initializer {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d initializer invocations over two instances, want 2", n)
	}
}

func TestInitializerFailureFailsInvocation(t *testing.T) {
	f := startEcho(t, FunctionConfig{Initializer: true, Env: []string{"ECHOFN_INITIALIZER_PANIC=1"}})
	for i := range 2 {
		res, err := f.Invoke(context.Background(), []byte(`{}`), InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.ErrorHeader != InitializationError || res.Error == nil || res.Error.ErrorMessage != "initializer failed" {
			t.Fatalf("attempt %d: %+v (error %+v)", i, res, res.Error)
		}
	}
	// Each attempt got a new instance, and the handler never ran.
	log := f.Invocations()
	if len(log) != 2 || !log[0].Initializer || !log[1].Initializer || log[0].Instance == log[1].Instance {
		t.Errorf("log %+v", log)
	}
}

func TestStdoutCarriesSDKLogLines(t *testing.T) {
	var out, errOut syncbuf.Buffer
	f := startEcho(t, FunctionConfig{Stdout: &out, Stderr: &errOut})
	r := invokeOK(t, f, []byte(`{}`), InvokeOptions{})
	// The SDK prints the end line after posting the response.
	<-out.WaitFor("FC Invoke End RequestId: " + r.RequestID)
	for _, want := range []string{"FC Invoke Start RequestId: " + r.RequestID, "echofn handling " + r.RequestID,
		"FC Invoke End RequestId: " + r.RequestID} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
}

func TestInvocationsAreSerialized(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Invoke(context.Background(), directive(`{"sleepMs":50}`), InvokeOptions{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	log := f.Invocations()
	if len(log) != 4 {
		t.Fatalf("%d invocations", len(log))
	}
	for i := 1; i < len(log); i++ {
		if log[i].Start.Before(log[i-1].End) {
			t.Errorf("invocation %d started at %s before %d ended at %s", i, log[i].Start, i-1, log[i-1].End)
		}
	}
}

func TestInvokeContextEndsEarlyButInvocationCompletes(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	g := newGate(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan error, 1)
	go func() {
		_, err := f.Invoke(ctx, g.event("/slow"), InvokeOptions{RequestID: "slow"})
		out <- err
	}()
	g.wait(t) // the function has the event
	cancel()
	if err := <-out; !errors.Is(err, context.Canceled) {
		t.Fatalf("Invoke after its context ended: %v", err)
	}
	// The invocation goes on, holding the instance, until the function ends it.
	next := make(chan Result, 1)
	go func() {
		res, _ := f.Invoke(context.Background(), []byte(`{}`), InvokeOptions{})
		next <- res
	}()
	select {
	case <-next:
		t.Fatal("another invocation ran while the abandoned one held the only instance")
	default:
	}
	g.release <- struct{}{}
	if res := <-next; res.Failed() {
		t.Fatalf("next invocation: %+v", res.Error)
	}
	log := f.Invocations()
	if len(log) != 2 || log[0].RequestID != "slow" || log[0].Result.Failed() {
		t.Errorf("log %+v", log)
	}
}

func TestCloseKillsProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f, err := Start(ctx, FunctionConfig{Binary: echoBin})
	if err != nil {
		t.Fatal(err)
	}
	pid := invokeOK(t, f, []byte(`{}`), InvokeOptions{}).PID
	cancel() // closes f
	// Close returns once the close the context started has ended.
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Fatal("process alive after the start context ended")
	}
	if _, err := f.Invoke(context.Background(), []byte(`{}`), InvokeOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after close: %v", err)
	}
}

func TestStartRejectsBadBinary(t *testing.T) {
	if _, err := Start(context.Background(), FunctionConfig{Binary: t.TempDir()}); err == nil {
		t.Error("a directory was accepted as the binary")
	}
	if _, err := Start(context.Background(), FunctionConfig{}); err == nil {
		t.Error("an empty Binary was accepted")
	}
}

package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

var (
	echoOnce sync.Once
	echoDir  string
	echoBin  string
	echoErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if echoDir != "" {
		_ = os.RemoveAll(echoDir)
	}
	os.Exit(code)
}

// echoFunction starts the FC emulator's test function (fc/testdata/echofn)
// as the local cloud's function name, so that crashes naming it kill it.
func echoFunction(t *testing.T, c *Cloud, name string) *fc.Function {
	t.Helper()
	echoOnce.Do(func() {
		if echoDir, echoErr = os.MkdirTemp("", "localcloud-echofn-"); echoErr != nil {
			return
		}
		echoBin = filepath.Join(echoDir, "main")
		cmd := exec.Command("go", "build", "-o", echoBin, "./fc/testdata/echofn")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			echoErr = fmt.Errorf("build echofn: %v\n%s", err, out)
		}
	})
	if echoErr != nil {
		t.Fatal(echoErr)
	}
	f, err := fc.Start(context.Background(), fc.FunctionConfig{Name: "rds-backup-" + name, Binary: echoBin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	c.register(name, f)
	return f
}

// hold is an HTTP endpoint the test function calls (its "call" directive)
// and that answers only when the test ends: the function is then inside its
// handler for as long as the test needs, an explicit event and no sleep.
func hold(t *testing.T) (event []byte, arrived chan struct{}) {
	t.Helper()
	arrived = make(chan struct{}, 4)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return []byte(fmt.Sprintf(`{"fctest":{"call":%q}}`, srv.URL)), arrived
}

// invokeHeld starts an invocation that stays in its handler, and returns
// its result channel once the handler runs.
func invokeHeld(t *testing.T, f *fc.Function) <-chan fc.Result {
	t.Helper()
	event, arrived := hold(t)
	out := make(chan fc.Result, 1)
	go func() {
		res, err := f.Invoke(context.Background(), event, fc.InvokeOptions{})
		if err != nil && !errors.Is(err, fc.ErrClosed) { // closed: the test is over
			t.Error(err)
		}
		out <- res
	}()
	<-arrived
	return out
}

func crashesOf(t *testing.T, url string) []crashState {
	t.Helper()
	_, body := admin(t, "GET", url+"/faults", "")
	var st struct{ Crashes []crashState }
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	return st.Crashes
}

func wantKilled(t *testing.T, res fc.Result) {
	t.Helper()
	if res.Error == nil || !strings.Contains(res.Error.ErrorMessage, "Process exited unexpectedly") || res.ErrorHeader != fc.UnhandledInvocationError {
		t.Fatalf("invocation: %+v, error %+v; want the platform's process-exit error", res, res.Error)
	}
}

// TestCrashAfterTheNthCall: {"action":"CreateBackup","crash":"queue","nth":2}
// kills the queue function's process when the second CreateBackup has made
// its job; that call's answer is never sent; the invocation fails as in FC;
// the next invocation gets a new instance.
func TestCrashAfterTheNthCall(t *testing.T) {
	c, url := testCloud(t, Fleet{Instances: []rds.Instance{{DBInstanceId: "rm-a"}, {DBInstanceId: "rm-b"}}})
	queue := echoFunction(t, c, "queue")
	other := echoFunction(t, c, "webhook")
	if status, body := admin(t, "POST", url+"/faults", `{"crashes":[{"action":"CreateBackup","crash":"queue","nth":2}]}`); status != 200 {
		t.Fatalf("POST /faults: %d %s", status, body)
	}
	held := invokeHeld(t, queue)
	otherHeld := invokeHeld(t, other)

	cli := rdsClient(t, c)
	if err := createBackup(cli, "rm-a"); err != nil {
		t.Fatalf("first CreateBackup: %v", err)
	}
	err := createBackup(cli, "rm-b")
	if code, _ := sdkCode(err); err == nil || code != "" {
		t.Fatalf("second CreateBackup: %v, want its connection closed", err)
	}
	wantKilled(t, <-held)
	if got := c.RDS.CreatedBackups(); got["rm-a"] != 1 || got["rm-b"] != 1 {
		t.Fatalf("backups created %v: the job of the crashing call must exist", got)
	}
	cs := crashesOf(t, url)
	if len(cs) != 1 || !cs[0].Fired || cs[0].Killed != 1 || cs[0].Seen != 2 || cs[0].When != "after" || cs[0].Call == "" {
		t.Fatalf("crashes %+v", cs)
	}
	// Only the named function died.
	if other.Running() != 1 {
		t.Errorf("webhook has %d processes running", other.Running())
	}
	select {
	case res := <-otherHeld:
		t.Fatalf("the webhook invocation ended: %+v", res)
	default:
	}
	// Used up: a third CreateBackup is answered.
	if code, status := sdkCode(createBackup(cli, "rm-a")); code != "BackupJobExists" || status != 400 {
		t.Fatalf("third CreateBackup: %s %d", code, status)
	}
	res, err := queue.Invoke(context.Background(), []byte(`{}`), fc.InvokeOptions{})
	if err != nil || res.Failed() {
		t.Fatalf("invocation after the crash: %v %+v", err, res.Error)
	}
	if log := queue.Invocations(); len(log) != 2 || log[1].Instance != 2 {
		t.Errorf("invocations %+v", log)
	}
}

// TestCrashBefore: with "when":"before" the process dies before the call's
// action runs: no job.
func TestCrashBefore(t *testing.T) {
	c, url := testCloud(t, Fleet{Instances: []rds.Instance{{DBInstanceId: "rm-a"}}})
	queue := echoFunction(t, c, "queue")
	if status, body := admin(t, "POST", url+"/faults",
		`{"crashes":[{"action":"CreateBackup","DBInstanceId":"rm-a","crash":"queue","when":"before"}]}`); status != 200 {
		t.Fatalf("POST /faults: %d %s", status, body)
	}
	held := invokeHeld(t, queue)
	cli := rdsClient(t, c)
	if err := attribute(cli, "rm-a"); err != nil { // another action does not count
		t.Fatal(err)
	}
	if err := createBackup(cli, "rm-a"); err == nil {
		t.Fatal("CreateBackup answered")
	}
	wantKilled(t, <-held)
	if n := c.RDS.CreatedBackups()["rm-a"]; n != 0 {
		t.Fatalf("%d backups created, want none", n)
	}
	if calls := c.RDS.Calls(); len(calls) != 2 || calls[1].Performed || calls[1].Status != 0 {
		t.Errorf("calls %+v", calls)
	}
}

// TestCrashOnAnMNSOperation: a crash on the notification queue's
// SendMessage, from the fleet file.
func TestCrashOnAnMNSOperation(t *testing.T) {
	c, url := testCloud(t, Fleet{Crashes: []Crash{{Action: "SendMessage", Queue: NotifyQueue, Function: "queue"}}})
	queue := echoFunction(t, c, "queue")
	held := invokeHeld(t, queue)
	// A send to another queue does not count.
	if _, err := mnsQueue(c, WorkQueue).SendMessage(ali_mns.MessageSendRequest{MessageBody: "w"}); err != nil {
		t.Fatal(err)
	}
	// The test is a caller that survives the crash, so fasthttp resends the
	// dropped POST: the message is there twice (the killed function would
	// have been unable to resend).
	if _, err := mnsQueue(c, NotifyQueue).SendMessage(ali_mns.MessageSendRequest{MessageBody: "o"}); err != nil {
		t.Fatal(err)
	}
	wantKilled(t, <-held)
	if n := len(c.MNS.Messages(NotifyQueue)); n != 2 {
		t.Errorf("%d messages on the notify queue, want 2", n)
	}
	if cs := crashesOf(t, url); len(cs) != 1 || !cs[0].Fired || cs[0].Killed != 1 {
		t.Errorf("crashes %+v", cs)
	}
}

// TestCrashWithNothingRunning is used up and changes nothing.
func TestCrashWithNothingRunning(t *testing.T) {
	c, url := testCloud(t, Fleet{Instances: []rds.Instance{{DBInstanceId: "rm-a"}},
		Crashes: []Crash{{Action: "CreateBackup", Function: "scheduled"}}})
	if err := createBackup(rdsClient(t, c), "rm-a"); err != nil {
		t.Fatalf("CreateBackup: %v", err)
	}
	if cs := crashesOf(t, url); len(cs) != 1 || !cs[0].Fired || cs[0].Killed != 0 {
		t.Errorf("crashes %+v", cs)
	}
}

func TestCrashBadInput(t *testing.T) {
	_, url := testCloud(t, Fleet{})
	for body, want := range map[string]string{
		`{"crashes":[{"crash":"queue"}]}`:                                                 "crashes[0].action: is required",
		`{"crashes":[{"action":"Nope","crash":"queue"}]}`:                                 "crashes[0].action:",
		`{"crashes":[{"action":"CreateBackup"}]}`:                                         "crashes[0].crash: is required",
		`{"crashes":[{"action":"CreateBackup","crash":"cron"}]}`:                          "crashes[0].crash: unknown function",
		`{"crashes":[{"action":"CreateBackup","crash":"queue","nth":-1}]}`:                "crashes[0].nth:",
		`{"crashes":[{"action":"CreateBackup","crash":"queue","when":"during"}]}`:         "crashes[0].when:",
		`{"crashes":[{"action":"CreateBackup","crash":"queue","queue":"q"}]}`:             "crashes[0].queue:",
		`{"crashes":[{"action":"SendMessage","crash":"queue","DBInstanceId":"rm-a"}]}`:    "crashes[0].DBInstanceId:",
		`{"crashes":[{"action":"CreateBackup","crash":"queue","nth":"3"}]}`:               "crashes.nth: must be a JSON number",
		`{"crashes":[{"action":"CreateBackup","crash":"queue"}],"faults":[{"rate":0.5}]}`: "faults[0]: does nothing",
	} {
		status, got := admin(t, "POST", url+"/faults", body)
		var answer struct{ Error string }
		_ = json.Unmarshal([]byte(got), &answer)
		if status != 400 || !strings.HasPrefix(answer.Error, want) {
			t.Errorf("POST %s: %d %s, want 400 starting %q", body, status, got, want)
		}
	}
	if cs := crashesOf(t, url); len(cs) != 0 {
		t.Errorf("bad bodies added crashes: %+v", cs)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
)

// invokeCommand runs one function once (or --times N with the same event,
// as a redelivery would) and prints JSON lines.
func invokeCommand(fs *flag.FlagSet) func() error {
	var o invokeOpts
	fs.StringVar(&o.function, "function", "", "`NAME` of the function to run: scheduled, queue or webhook (required)")
	fs.StringVar(&o.eventPath, "event", "", "`FILE` holding the event payload exactly as FC delivers it (required)")
	o.loadFleet = fleetFlag(fs)
	o.loadEnv = envFlags(fs, "the function (for webhook it overrides the local routes and secrets)")
	fs.IntVar(&o.times, "times", 1, "invoke `N` times with the same event, as redeliveries")
	fs.IntVar(&o.retryCount, "retry-count", 0, "send x-fc-retry-count `N` with the first invocation (FC's retries of an async invocation send 1, 2)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "the function's timeout `D`: FC kills an invocation that runs longer")
	fs.BoolVar(&o.showWork, "work", false, `also print {"kind":"work",...} for each message left on the work queue`)
	fs.BoolVar(&o.quiet, "quiet", false, "discard the function's logs (default: to stderr); why it failed to start is still printed")
	return func() error { return invoke(o) }
}

type invokeOpts struct {
	function, eventPath string
	loadFleet           func() (localcloud.Fleet, string, error)
	loadEnv             func() ([]string, error)
	times, retryCount   int
	timeout             time.Duration
	showWork, quiet     bool
}

func invoke(o invokeOpts) error {
	if !slices.Contains(localcloud.FunctionNames, o.function) {
		return usagef("--function must be one of %s, got %q", strings.Join(localcloud.FunctionNames, ", "), o.function)
	}
	if o.eventPath == "" {
		return usagef("--event FILE is required")
	}
	if o.times < 1 {
		return usagef("--times must be 1 or more, got %d", o.times)
	}
	env, err := o.loadEnv()
	if err != nil {
		return err
	}
	event, err := os.ReadFile(o.eventPath)
	if err != nil {
		return err
	}
	fleet, _, err := o.loadFleet()
	if err != nil {
		return err
	}
	cloud, err := localcloud.StartCloud(fleet, localcloud.Options{})
	if err != nil {
		return err
	}
	defer cloud.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The webhook function gets the local cloud's routes and secrets
	// (localcloud.Routes), which each --env may override.
	var fnEnv []string
	if o.function == "webhook" {
		fnEnv = localcloud.WebhookEnv()
	}
	// The function's output goes to stderr (or nowhere with --quiet); its
	// tail is kept to say why the function failed to start.
	logs := &tailWriter{w: logSink(o.quiet), max: 8 << 10}
	fn, err := cloud.StartFunction(ctx, o.function, append(fnEnv, env...), logs, o.timeout)
	if err != nil {
		return err
	}
	defer fn.Close()

	out := json.NewEncoder(os.Stdout)
	for i := 0; i < o.times; i++ {
		res, err := fn.Invoke(ctx, event, fc.InvokeOptions{RetryCount: o.retryCount})
		if err != nil {
			return err
		}
		line := map[string]any{"kind": "response", "requestId": res.RequestID, "durationMs": res.Duration.Milliseconds()}
		if res.Response != nil {
			line["response"] = res.Response
		}
		if res.Error != nil {
			line["error"] = res.Error
			line["errorType"] = res.ErrorHeader
		}
		if res.TimedOut {
			line["timedOut"] = true
		}
		if err := out.Encode(line); err != nil {
			return err
		}
		if notStarted(res) {
			time.Sleep(50 * time.Millisecond) // let the last lines of the process's output arrive
			return startFailure(o.function, res, logs.take())
		}
		logs.take()
	}
	for _, m := range cloud.MNS.Messages(localcloud.NotifyQueue) {
		var ev json.RawMessage = json.RawMessage(m.Body)
		if !json.Valid(ev) {
			ev, _ = json.Marshal(m.Body)
		}
		if err := out.Encode(map[string]any{"kind": "outcome", "event": ev}); err != nil {
			return err
		}
	}
	if o.showWork {
		for _, m := range cloud.MNS.Messages(localcloud.WorkQueue) {
			var body json.RawMessage = json.RawMessage(m.Body)
			if !json.Valid(body) {
				body, _ = json.Marshal(m.Body)
			}
			if err := out.Encode(map[string]any{"kind": "work", "delaySeconds": m.DelaySeconds, "message": body}); err != nil {
				return err
			}
		}
	}
	return out.Encode(map[string]any{
		"kind":           "summary",
		"rdsCalls":       cloud.RDS.Counts(),
		"backupsCreated": cloud.RDS.CreatedBackups(),
	})
}

// notStarted reports whether the invocation never reached the function:
// its process exited, or never asked for an invocation, before it was
// handed one (the FC emulator then fails the invocation at once, with no
// duration). That is a function that fails to start, e.g. on a bad
// configuration; a function that fails while handling the event has run.
func notStarted(res fc.Result) bool {
	return res.Error != nil && !res.TimedOut && res.Duration == 0 && res.Response == nil
}

// startFailure is the error of a function that failed to start: FC's
// message and what the process printed (its last lines).
func startFailure(function string, res fc.Result, output []byte) error {
	lines := strings.Split(strings.TrimSpace(string(output)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	said := strings.TrimSpace(strings.Join(lines, "\n  "))
	if said == "" {
		said = "(it printed nothing)"
	}
	return fmt.Errorf("the %s function failed to start: %s; it said:\n  %s", function, res.Error.ErrorMessage, said)
}

// tailWriter passes everything to w and keeps the last max bytes written
// since the last take.
type tailWriter struct {
	w   io.Writer
	max int

	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	t.mu.Unlock()
	return t.w.Write(p)
}

// take returns what was kept and starts afresh.
func (t *tailWriter) take() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := bytes.Clone(t.buf.Bytes())
	t.buf.Reset()
	return b
}

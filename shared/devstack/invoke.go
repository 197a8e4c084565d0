package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
)

// invoke runs one function once (or --times N with the same event, as a
// redelivery would) and prints JSON lines.
func invoke(args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	function := fs.String("function", "", "scheduled, queue or webhook")
	eventPath := fs.String("event", "", "file holding the event payload exactly as FC delivers it")
	loadFleet := fleetFlag(fs)
	times := fs.Int("times", 1, "invoke this many times with the same event (redeliveries)")
	retryCount := fs.Int("retry-count", 0, "x-fc-retry-count of the first invocation")
	timeout := fs.Duration("timeout", 30*time.Second, "function timeout")
	showWork := fs.Bool("work", false, `also print {"kind":"work",...} for each message left on the work queue`)
	loadEnv := envFlags(fs, "the function (for webhook it overrides the local routes and secrets)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !slices.Contains(localcloud.FunctionNames, *function) {
		return fmt.Errorf("--function must be one of %v", localcloud.FunctionNames)
	}
	if *eventPath == "" {
		return errors.New("--event FILE is required")
	}
	env, err := loadEnv()
	if err != nil {
		return err
	}
	event, err := os.ReadFile(*eventPath)
	if err != nil {
		return err
	}
	fleet, _, err := loadFleet()
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
	if *function == "webhook" {
		fnEnv = localcloud.WebhookEnv()
	}
	fn, err := cloud.StartFunction(ctx, *function, append(fnEnv, env...), os.Stderr, *timeout)
	if err != nil {
		return err
	}
	defer fn.Close()

	out := json.NewEncoder(os.Stdout)
	for i := 0; i < *times; i++ {
		res, err := fn.Invoke(ctx, event, fc.InvokeOptions{RetryCount: *retryCount})
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
	if *showWork {
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

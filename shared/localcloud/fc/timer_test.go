package fc

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func TestTimerTriggerEventShape(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	var fx timerEvent
	if err := json.Unmarshal(fixture(t, "timer.json"), &fx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)
	results, err := TimerTrigger{Name: "nightly", Payload: fx.Payload}.Fire(context.Background(), f, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Failed() {
		t.Fatalf("results %+v", results)
	}
	got := decodeReply(t, results[0].Response).event(t)
	if err := sameShape(got, fixture(t, "timer.json")); err != nil {
		t.Errorf("timer event %s: %v", got, err)
	}
	var ev timerEvent
	if err := json.Unmarshal(got, &ev); err != nil {
		t.Fatal(err)
	}
	if ev != (timerEvent{TriggerTime: "2027-03-04T05:06:07Z", TriggerName: "nightly", Payload: fx.Payload}) {
		t.Errorf("event %+v", ev)
	}
}

func TestTimerTriggerRetriesWithIncreasingRetryCount(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	delay := 30 * time.Millisecond
	start := time.Now()
	trig := TimerTrigger{Name: "t", Payload: `{"fctest":{"failUntilRetry":2}}`, RetryDelay: delay}
	results, err := trig.Fire(context.Background(), f, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 || !results[0].Failed() || !results[1].Failed() || results[2].Failed() {
		t.Fatalf("results %+v", results)
	}
	if el := time.Since(start); el < 2*delay {
		t.Errorf("two retries took %s, want at least %s", el, 2*delay)
	}
	if r := decodeReply(t, results[2].Response); r.RetryCount != 2 {
		t.Errorf("last attempt saw retry count %d", r.RetryCount)
	}
	log := f.Invocations()
	for i, inv := range log {
		if inv.RetryCount != i || inv.RequestID != log[0].RequestID {
			t.Errorf("attempt %d: retry count %d, request id %s (first %s)", i, inv.RetryCount, inv.RequestID, log[0].RequestID)
		}
	}

	// Always failing: the first attempt plus MaxAsyncRetryAttempts retries.
	trig = TimerTrigger{Payload: `{"fctest":{"fail":"no"}}`, MaxAsyncRetryAttempts: 2}
	if results, err = trig.Fire(context.Background(), f, time.Now()); err != nil || len(results) != 3 {
		t.Fatalf("%d results, err %v", len(results), err)
	}
	for _, r := range results {
		if r.Error == nil || r.Error.ErrorMessage != "no" {
			t.Errorf("result %+v", r)
		}
	}
	// Negative: no retry; default: three retries.
	if results, _ = (TimerTrigger{Payload: `{"fctest":{"fail":"no"}}`, MaxAsyncRetryAttempts: -1}).Fire(context.Background(), f, time.Now()); len(results) != 1 {
		t.Errorf("%d attempts with retries disabled", len(results))
	}
	if results, _ = (TimerTrigger{Payload: `{"fctest":{"fail":"no"}}`}).Fire(context.Background(), f, time.Now()); len(results) != 4 {
		t.Errorf("%d attempts with the default retries, want 4", len(results))
	}
}

func TestTimerTriggerRejectsOversizedPayload(t *testing.T) {
	f := startEcho(t, FunctionConfig{})
	big := make([]byte, maxAsyncPayload+1)
	for i := range big {
		big[i] = 'x'
	}
	if _, err := (TimerTrigger{Payload: string(big)}).Fire(context.Background(), f, time.Now()); err == nil {
		t.Error("a payload over 128 KB was delivered")
	}
}

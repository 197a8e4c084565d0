package fc

import (
	"context"
	"fmt"
	"time"
)

// maxAsyncPayload is FC's limit for an asynchronous invocation, which also
// bounds a timer trigger's message.
const maxAsyncPayload = 128 << 10

// TimerTrigger is an FC timer trigger. FC invokes the function
// asynchronously, so a failed invocation (function error, timeout, crash) is
// retried under the function's async invoke config.
type TimerTrigger struct {
	Name    string // triggerName
	Payload string // the trigger message, delivered as a JSON string
	// MaxAsyncRetryAttempts is asyncInvokeConfig.maxAsyncRetryAttempts: 0
	// means FC's default of 3, a negative value means no retry.
	MaxAsyncRetryAttempts int
	// RetryDelay is the pause before each retry (0: none). FC does not
	// document its async retry interval.
	RetryDelay time.Duration
}

// Fire delivers the event of a trigger firing at time at, then the retries
// of a failed invocation, with x-fc-retry-count 1..N and the same request
// id. It returns every attempt's result, first to last. err is set only when
// an attempt could not run (Invoke failed) or ctx ended.
func (t TimerTrigger) Fire(ctx context.Context, f *Function, at time.Time) ([]Result, error) {
	if len(t.Payload) > maxAsyncPayload {
		return nil, fmt.Errorf("fctest: timer payload is %d bytes, FC allows %d", len(t.Payload), maxAsyncPayload)
	}
	retries := asyncRetries(t.MaxAsyncRetryAttempts)
	event := NewTimerEvent(at, t.Name, t.Payload)
	reqID := newRequestID(f.now())
	var results []Result
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 && !sleep(ctx, t.RetryDelay) {
			return results, ctx.Err()
		}
		res, err := f.Invoke(ctx, event, InvokeOptions{RetryCount: attempt, RequestID: reqID})
		if err != nil {
			return results, err
		}
		results = append(results, res)
		if !res.Failed() {
			break
		}
	}
	return results, nil
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// asyncRetries is asyncInvokeConfig.maxAsyncRetryAttempts as FC applies
// it: 0 (unset) is FC's default of 3, a negative value no retry.
func asyncRetries(n int) int {
	switch {
	case n == 0:
		return 3
	case n < 0:
		return 0
	}
	return n
}

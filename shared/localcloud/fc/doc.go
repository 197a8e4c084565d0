// Package fc runs a real go1 function binary locally the way Alibaba
// Cloud Function Compute 3.0 runs it, and feeds it events the way FC's
// timer, MNS queue (EventBridge) and HTTP triggers do.
//
// The function is the deployable program itself: a main package that calls
// fc.Start from github.com/aliyun/fc-runtime-go-sdk (v0.3.1). Start launches
// it with FC_RUNTIME_API pointing at a local runtime API server, which
// serves GET /2020-11-11/runtime/invocation/next with FC's context headers
// (request id, deadline, timeout, STS credentials, region, account, retry
// count, function name/handler/memory, function type, qualifier) and takes
// the function's POST .../{id}/response and .../{id}/error. The timeout is
// enforced by killing the process group; the next invocation starts a new
// process. Kill does the same at any moment, as when the platform loses an
// instance (the local cloud's crash injection uses it). Facts and sources: reference/fc-platform.md (§1 events, §2
// runtime API, §3 retries) in the team's reference folder.
//
// # Usage
//
//	f, err := fc.Start(ctx, fc.FunctionConfig{
//		Name:        "queue",
//		Binary:      "build/queue/main", // go build -o build/queue/main ./functions/queue
//		Timeout:     60 * time.Second,
//		Env:         []string{"MNS_ENDPOINT=" + mns.Endpoint()},
//		Credentials: func() localauth.Credential { return store.IssueSTS(time.Hour) },
//		Stdout:      os.Stdout, Stderr: os.Stderr,
//	})
//	if err != nil { ... }
//	defer f.Close()
//
//	// One event, synchronously, like InvokeFunction.
//	res, err := f.Invoke(ctx, fc.NewTimerEvent(time.Now(), "nightly", `{"Backups":[]}`), fc.InvokeOptions{})
//	if res.Failed() { log.Print(res.Error.ErrorMessage) }
//
//	// A timer firing, with FC's asynchronous retries of a failed invocation.
//	results, err := fc.TimerTrigger{Name: "nightly", Payload: plan}.Fire(ctx, f, time.Now())
//
//	// An MNS queue trigger: batches of CloudEvents, retry, dead-letter queue.
//	trig := &fc.MNSTrigger{Endpoint: mns.Endpoint(), AccessKeyID: key.AccessKeyID,
//		AccessKeySecret: key.AccessKeySecret, Queue: "work", DeadLetterQueue: "work-dlq"}
//	go trig.Run(ctx, f)      // or trig.DrainOnce(ctx, f) for one deterministic batch
//
//	// The same with asyncInvocationType: true: asynchronous invocations,
//	// FC's async retries, DeadLetterQueue as the onFailure destination.
//	trig.Async, trig.MaxAsyncRetryAttempts = true, 3
//
//	// An HTTP trigger: real requests in, FC3 HTTP events to the function.
//	http.ListenAndServe("127.0.0.1:8080", &fc.HTTPTrigger{Function: f})
//
// NewTimerEvent and NewMNSEvents build the exact events of
// testdata/events/timer.json and mns-queue.json for direct Invoke calls.
//
// # Faithful
//
//   - The three event shapes, byte for byte where FC's samples allow (key
//     order, string payload of the timer, JSON array of CloudEvents with
//     id = messageId, HTTP headers and query joined with ",", "{}" for an
//     empty query, base64 for non-UTF-8 bodies, timeEpoch as a string).
//   - The SDK's own error and panic payloads, which pass through untouched;
//     a panic does not end the process, as in SDK v0.3.1.
//   - Each instance serves one invocation at a time (FC 3.0 built-in
//     runtimes have no instance concurrency), the SDK's goroutine-per-invoke
//     loop notwithstanding. FunctionConfig.Instances (default 1) lets up to
//     that many instances run, so that many invocations run at once, as FC
//     scales out; an invocation takes an idle instance or starts a new one.
//   - A lost instance (timeout, process exit, Kill): the invocation in
//     flight fails with "Process exited unexpectedly before completing
//     request (signal: killed)" and UnhandledInvocationError; a timer event
//     is retried by FC's async retries, an MNS batch by the trigger's retry
//     (the same event, its messages kept invisible meanwhile); the next
//     invocation starts a new instance (a new process, its initializer run
//     again).
//   - The MNS trigger's two invocation types (asyncInvocationType). Synchronous
//     (the default): one batch after another, each pushed when the one
//     before has returned, EventBridge retrying a failed one. Asynchronous
//     (MNSTrigger.Async): each batch is split into invocations of at most
//     128 KB of event (FC's example: 100 messages of 2 KB go as 64 + 36),
//     handed to FC, which runs them on as many instances as Instances
//     allows (the rest wait for one) while the trigger reads on; a failed
//     one is retried by FC's async retries (maxAsyncRetryAttempts,
//     x-fc-retry-count 1, 2, …, one request id) and then goes to the
//     onFailure destination; the messages are deleted from the queue when
//     handed over, as EventBridge acknowledges them when it reads them, so
//     an empty queue is quiet only once MNSTrigger.Pending is 0.
//   - The initializer (x-fc-function-type 1) runs once per instance before
//     its first invocation; when it fails the invocation fails with
//     InitializationError and the next invocation gets a new instance.
//   - FC's system environment variables (FC_FUNCTION_NAME, FC_REGION,
//     FC_ACCOUNT_ID, FC_FUNCTION_HANDLER, FC_FUNCTION_MEMORY_SIZE,
//     FC_INSTANCE_ID, FC_FUNC_CODE_PATH, and with Credentials
//     ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and
//     ALIBABA_CLOUD_SECURITY_TOKEN), plus PATH and TZ=UTC. The caller's own
//     environment is not inherited, so a developer's real keys cannot leak
//     into the function; pass what it needs in Env. The working directory is
//     the binary's directory (FC's /code).
//   - Limits: 32 MiB synchronous request (HTTP 413 above it), 128 KB timer
//     message, 8 KB of HTTP request headers and 4 KB of path and query.
//
// # Not modeled, or modeled on a guess
//
//   - Scaling and instance lifecycle: no more than Instances instances (FC
//     scales to its account limits), concurrent Invoke calls beyond them
//     queue up; an idle instance is never reclaimed or frozen (its
//     goroutines keep running); PreStop and PreFreeze are never sent; no
//     cold-start delay. The synchronous MNS trigger pushes one batch at a
//     time, the timer one event; the asynchronous MNS trigger, HTTP
//     requests and direct Invoke calls run concurrently, up to Instances.
//   - Resources: MemoryMB is only reported, not enforced; no CPU, disk, /tmp
//     or network isolation.
//   - Timing: the deadline counts from the moment the process takes the
//     event; x-fc-function-timeout is the timeout rounded up to whole
//     seconds; the initializer shares the function timeout (FC has a separate
//     initializer timeout). Now affects only the times the function sees,
//     while the kill timer runs on the real clock.
//   - Platform errors: "Function timed out after …" and "Process exited
//     unexpectedly before completing request (…)" imitate FC's wording; their
//     errorType is empty. FC's exact texts are not documented.
//   - Request ids imitate FC's "1-<hex time>-<hex>" form; async retries of a
//     timer event keep the request id (inferred), EventBridge retries get a
//     new one and x-fc-retry-count 0 (inferred).
//   - Timer trigger: no cron schedule (call Fire yourself); no async queueing,
//     maxAsyncEventAgeInSeconds or destinations (onSuccess/onFailure payloads
//     are not produced). FC's async retry interval is not documented; the
//     interval is RetryDelay.
//   - MNS trigger (EventBridge): no eventRuleFilterPattern, no
//     EXPONENTIAL_DECAY_RETRY; BACKOFF_RETRY's random 10-20 s is the fixed
//     RetryDelay; after the last retry the stream moves on (errorsTolerance
//     ALL), where FC's default NONE would block it. That a function error
//     makes EventBridge retry at all is not documented (modeled as yes). The
//     dead-letter queue gets each original message body (EventBridge's
//     dead-letter format is not documented). Messages are deleted from the
//     source queue after delivery or dead-lettering, whereas EventBridge
//     acknowledges them when it reads them. data.requestId is the MNS
//     receive request id; aliyunpublishaddr is 127.0.0.1. Base64Decode
//     defaults to false here, to true in FC; the RawData shape is inferred.
//   - Asynchronous MNS push: how EventBridge splits a batch is modeled on
//     the one example (greedy, in queue order, up to the 128 KB async
//     limit); a single message over it goes straight to the failure
//     destination. FC's async queue is the trigger's goroutines: no
//     maxAsyncEventAgeInSeconds, no onSuccess destination, no 429
//     throttling retries, no async task mode; the async retry interval is
//     AsyncRetryDelay, doubling from one retry to the next up to 16 times
//     it (FC does not document it). The onFailure destination
//     gets each original message body, not FC's destination payload (a JSON
//     record of the request and the event). When Run stops, invocations
//     waiting for an instance or for a retry are dropped (recorded as
//     Abandoned; one whose instance comes free as Run stops too: the wait's
//     context is checked once the instance is taken), their messages
//     already deleted, as if FC's async queue went away with the local
//     cloud.
//   - HTTP trigger: only anonymous auth, synchronous invocation (no
//     X-Fc-Invocation-Type: Async), the default domain. The statuses are
//     guesses, FC does not document them: a function error or timeout is
//     502 with X-Fc-Error-Type and {"errorMessage","errorType"}; a return
//     value that is not {statusCode, headers, isBase64Encoded, body} is 502
//     with errorType BadResponse; platform refusals carry
//     {"ErrorCode","ErrorMessage"}. Content-Length is left out of the event's
//     headers (no FC sample has it); response headers FC reserves (x-fc-*,
//     Connection, Content-Length, Date, Keep-Alive, Server) are dropped, not
//     refused.
package fc

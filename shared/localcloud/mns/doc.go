// Package mns is a local emulator of Alibaba Cloud MNS (Message Service)
// queues and topics, for tests. Code under test talks to it with the real Go
// SDK, github.com/aliyun/aliyun-mns-go-sdk (package ali_mns), over HTTP on
// 127.0.0.1; the test inspects and scripts the server directly.
//
// It speaks the wire protocol the SDK v1.0.11 speaks (see
// shared/reference/wire-protocols.md, part 2): the MNS request signature
// (HMAC-SHA1, verified against shared/localcloud/auth credentials, STS tokens in
// the security-token header), Content-MD5 in the SDK's form, the same paths,
// query parameters and XML bodies, and the real error XML
// (<Error xmlns="http://mns.aliyuncs.com/doc/v1/"><Code>…) with the HTTP
// status MNS uses (SendMessage and BatchSendMessage bodies as the SDK
// writes them are read in one pass, fastxml.go; anything else, and every
// other body, with encoding/xml), so that the SDK's error mapping works:
// ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) on an empty queue,
// ERR_MNS_QUEUE_NOT_EXIST, ERR_MNS_SIGNATURE_DOES_NOT_MATCH, and so on.
//
// # Usage
//
//	srv := mns.NewServer()          // listening already
//	defer srv.Close()
//	_ = srv.CreateQueue("rds-backup-notify", mns.QueueAttributes{})
//
//	cred := srv.Credential()
//	client := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
//		EndPoint:        srv.Endpoint(), // "http://127.0.0.1:PORT/."
//		AccessKeyId:     cred.AccessKeyID,
//		AccessKeySecret: cred.AccessKeySecret,
//		TimeoutSecond:   5,
//	})
//	// ... run the code under test with client ...
//
//	msgs := srv.Messages("rds-backup-notify") // every message ever sent, deleted ones too
//	more := srv.MessagesFrom("rds-backup-notify", len(msgs)) // only those sent since
//	n := srv.Counts()["SendMessage rds-backup-notify"]
//
// Endpoint ends in "/.": the Go SDK panics unless the endpoint splits into
// exactly five pieces at dots. With it the SDK derives region "0" and
// account "127", so MNSTopic.GenerateQueueEndpoint yields
// "acs:mns:0:127:queues/<q>"; the server accepts any "acs:mns:…:queues/<q>"
// endpoint. Clients join the endpoint and the resource: the Go SDK's
// fasthttp cleans "/./queues/..." to "/queues/..." before sending, the Node
// SDK (@alicloud/mns) sends "/./queues/..."; both sign "/queues/...". The
// server, like the service, removes dot segments from the path before
// routing and before checking the signature, so both work (TestNodeSDK runs
// the Node SDK when node is installed).
//
// # Operations
//
// Queues: CreateQueue (201; same attributes again 204, which the SDK reports
// as ERR_MNS_QUEUE_ALREADY_EXIST_AND_HAVE_SAME_ATTR; different ones 409
// QueueAlreadyExist), SetQueueAttributes (fields present in the body
// override; the SDK always sends DelaySeconds, PollingWaitSeconds and
// LoggingEnabled, so they are reset like on the real service),
// GetQueueAttributes (with Active/Inactive/DelayMessages), DeleteQueue,
// ListQueue and ListQueueDetail (prefix, marker, ret-number), SendMessage,
// BatchSendMessage (1–16 messages, 64 KB of bodies in all; a partial failure answers 500 with per-entry
// results, which the SDK returns with ERR_MNS_BATCH_OP_FAIL), ReceiveMessage
// and BatchReceiveMessage (1–16) with long polling, PeekMessage and
// BatchPeekMessage, DeleteMessage, BatchDeleteMessage (partial failure: 404
// with an <Errors> list, as documented), ChangeMessageVisibility.
//
// Topics: CreateTopic, SetTopicAttributes, GetTopicAttributes, DeleteTopic,
// ListTopic, Subscribe (queue endpoints only), SetSubscriptionAttributes,
// GetSubscriptionAttributes, Unsubscribe, ListSubscriptionByTopic,
// PublishMessage. Publishing enqueues one message on every subscribed,
// existing queue whose FilterTag (if any) equals the message tag, formatted
// by the subscription's NotifyContentFormat: SIMPLIFIED is the body verbatim,
// XML a <Notification> document (the default), JSON an object with
// TopicOwner, TopicName, Subscriber, SubscriptionName, MessageId, Message,
// MessageMD5, MessageTag (when set) and PublishTime (milliseconds, as a
// string, like the documented sample).
//
// # Message semantics
//
// A message waits DelaySeconds (its own when greater than 0, else the
// queue's: the SDK always sends 0) and is then active. Receiving it makes it
// inactive until NextVisibleTime (now + the queue's VisibilityTimeout),
// increments DequeueCount, sets FirstDequeueTime on the first receive and
// gives it a new receipt handle; only the latest handle is valid, and only
// before NextVisibleTime (otherwise DeleteMessage and ChangeMessageVisibility
// answer 404 MessageNotExist; a handle that is not of the emulator's form
// answers 400 ReceiptHandleError). ChangeMessageVisibility sets
// NextVisibleTime to now + VisibilityTimeout and returns a new handle. A
// delayed message's SendMessage answer carries a handle that can delete it
// before it is delivered. Receives prefer the lowest Priority number (Priority
// 0 on the wire, the SDK's "unset", is the default 8), then the oldest
// message (unless WithPartialBatches). A message is gone
// MessageRetentionPeriod after it was sent (see Limits). Times in message
// answers are milliseconds, queue and topic times seconds. MessageBodyMD5 is
// the upper-case hex MD5 of the body, which is stored and returned verbatim
// (the Go SDK does no base64).
//
// # Limits, each with the page it follows
//
// Sources (the same tags as shared/reference/cloud-fidelity.md):
//   - [MSIG] signature and common parameters:
//     https://www.alibabacloud.com/help/doc-detail/27487.htm,
//     https://help.aliyun.com/document_detail/27487.htm (zh),
//     https://alibabacloud.com/help/en/mns/common-parameters
//   - [MERR] error codes: https://www.alibabacloud.com/help/doc-detail/27501.html
//   - [MBATCH] "maximum number and size of messages managed in batches":
//     https://www.alibabacloud.com/help/doc-detail/175586.htm, and
//     BatchSendMessage: https://www.alibabacloud.com/help/en/mns/developer-reference/batchsendmessage
//   - [MRECV] ReceiveMessage / BatchReceiveMessage:
//     https://help.aliyun.com/document_detail/35136.htm,
//     https://www.alibabacloud.com/help/doc-detail/35137.htm; long-polling
//     best practice: https://www.alibabacloud.com/help/doc-detail/34478.htm
//   - [MCQ] CreateQueue: https://www.alibabacloud.com/help/doc-detail/35129.html
//   - [MSEND] SendMessage: https://www.alibabacloud.com/help/doc-detail/35134.htm
//
// Behaviours:
//   - Date skew [MSIG]: a request whose Date is more than 15 minutes from
//     the server's time is refused with 408 TimeExpired. [MSIG] says the
//     request is invalid with status 400 but names no code; [MERR] lists
//     TimeExpired with 408, and the SDK maps TimeExpired to
//     ERR_MNS_TIME_EXPIRED, so the table wins. The check runs after the
//     signature (a Date changed in transit is SignatureDoesNotMatch) and
//     against WithDateClock, the real clock by default, not WithClock:
//     clients stamp Date from the real clock while the message clock may be
//     fake or fast. An unparseable Date is 400 InvalidDateHeader [MERR].
//   - x-mns-date [MSIG]: may replace Date ("if your browser does not
//     support the Date parameter"); the string to sign then carries its
//     value in Date's place (zh signature page: "如果用x-mns-date替代DATE，则
//     DATE不能填空，需用x-mns-date的值替换"), and as an x-mns-* header it is
//     also among the canonical headers. When both are sent, Date is the one
//     signed and checked (the Node SDK sends both, equal).
//   - BatchSendMessage [MBATCH]: 1–16 messages and at most 64 KB (65536
//     bytes) of message bodies in all. Above either limit the whole request
//     is refused with 400 InvalidArgument and nothing is enqueued. No page
//     names a code for the size limit; InvalidArgument is [MERR]'s code for
//     a value out of its range ("The value of Element must be between Low
//     and High seconds/bytes"), which the count limit also answers with.
//     The size counted is the bodies' bytes after XML decoding, the measure
//     of MaximumMessageSize.
//   - Retention [MCQ]: a message is deleted MessageRetentionPeriod after it
//     was sent (default 345600 s; 60–604800), on the server's clock,
//     whatever its state: delayed, active or in flight. It is never received
//     again; its receipt handle answers 404 MessageNotExist; Messages
//     reports it with State "expired" and Expired set. A DelaySeconds longer
//     than the retention (both up to 604800 s [MSEND]) is accepted and
//     loses the message. The retention applied is the queue's current one.
//   - waitseconds [MRECV][MCQ]: 0–30, else 400 InvalidArgument; without it
//     the queue's PollingWaitSeconds. numOfMessages 1–16, else
//     InvalidArgument.
//   - DequeueCount [MRECV]: +1 on every receive (not on a peek);
//     FirstDequeueTime is set on the first.
//   - Partial batches [MBATCH] FAQ, opt-in with WithPartialBatches: the
//     service stores a queue on several stripes and a batch reads one, so a
//     batch may hold fewer messages than are available, in no fixed order.
//     Modeled as a seeded random stripe per message and per receive.
//   - Long-poll limit [MRECV] zh, 34478, opt-in with WithLongPollLimit:
//     above the limit a receive answers 404 MessageNotExist at once. The
//     real limit (per queue and user, on the Limits page) is not modeled:
//     the caller picks n, and it is per queue.
//
// # Long polling and time
//
// A receive waits up to waitseconds (0–30) or, without it, the queue's
// PollingWaitSeconds, and answers 404 MessageNotExist if nothing arrived
// (at once above WithLongPollLimit). It wakes as soon as a message becomes
// available: on a send or publish, on Server.Wake, and by re-checking every
// 50 ms (so delay and visibility expiry work in real time). With WithClock the server reads all times from the
// injected clock (message times, delays, visibility, retention; only the
// Date check uses WithDateClock): after advancing a fake clock, call Wake. A poll ends at
// whichever comes first of its wait in real time and its wait on the
// injected clock, so advancing a fake clock past a poll's deadline ends it.
// The server never drops a connection on its own (fasthttp silently retries
// requests whose connection closes before the answer); Close answers waiting
// polls with MessageNotExist before shutting down. Keep waitseconds below the
// client's TimeoutSecond, as with the real service: otherwise fasthttp times
// out and retries the GET.
//
// # Faults and inspection
//
// InjectFault scripts failures per operation and queue or topic (see
// Fault): an error status and code, added latency, or a dropped connection
// (which fasthttp retries up to 5 attempts in all, even for POST: one drop
// yields a duplicate request that the caller never sees), each on a
// request with a probability (Rate, decided by a generator seeded with
// WithFaultSeed, so a run repeats). With After the operation runs first and
// only its answer is lost (SendMessage enqueues its message; a dropped
// answer is then resent by fasthttp, and the message is enqueued twice).
// Faults apply after authentication. WithObserver sees every request before
// and after its operation and may drop it (the local cloud's crash
// injection). Calls returns the request log (operation, queue, status,
// error code, whether a fault matched, whether the operation ran), Counts
// the number of requests per "Op queue", Messages and Visible the messages,
// Faults the pending faults, and State a JSON-marshalable Snapshot of
// everything. CreateQueue, CreateTopic and Subscribe are admin helpers that
// bypass HTTP.
//
// # Not modeled
//
//   - Topics keep no messages (a topic's own retention is not modeled);
//     MessageCount just counts publishes.
//   - QPS and throughput limits (QpsLimitExceeded only via InjectFault),
//     and the real service's ordering and timing nondeterminism beyond
//     WithPartialBatches: by default delivery here is deterministic (all
//     available messages up to numOfMessages, by Priority then first in,
//     first out), which is kinder than the service; tests that care about
//     order or batch sizes should turn WithPartialBatches on.
//   - The long-poll connection limit by default (WithLongPollLimit is
//     opt-in, and its number is the caller's, not the service's).
//   - Whether the 64 KB batch limit counts the raw bodies, the XML-escaped
//     ones or the whole request body (the bodies here), and its exact error
//     message; what the service does with a retention lowered while
//     messages wait (the current retention applies here).
//   - Logging (LoggingEnabled is stored and reported only), tags, queue
//     "deleted recently" protection, RAM policies (any known key may call
//     anything), real account and region semantics (the configured region and
//     account only appear in URLs, endpoints and notifications; the endpoint
//     account is not checked against the key).
//   - HTTPS, HTTP/2, the internal/-control endpoints, and DNS names:
//     plain HTTP on 127.0.0.1 only.
//   - Push to HTTP, mail, SMS or DingTalk endpoints, and NotifyStrategy
//     retries: only queue endpoints, delivered once at publish time (dropped
//     if the queue does not exist then). Message attributes (DirectMail) are
//     accepted and ignored.
//   - Not verified against the real cloud: the HTTP status of a partial
//     BatchSendMessage failure (500 here), how MNS treats Priority 0 and
//     DelaySeconds 0 on the wire (taken as "unset"), whether an empty message
//     body is accepted (refused here with InvalidArgument), the exact error
//     messages, receipt-handle and message-id formats (they only look alike),
//     that the signature is also accepted over the percent-decoded path
//     (the SDK signs the path before fasthttp escapes it), and that the
//     service resolves dot segments before checking the signature (what the
//     Node SDK needs with an endpoint ending in "/."; a signature over the
//     unresolved "/./" path is refused here).
package mns

// Package mnsq is a thin, context-aware adapter over the official MNS SDK
// (github.com/aliyun/aliyun-mns-go-sdk v1.0.11, package ali_mns) for the
// three calls the product makes: SendMessage and BatchSendMessage on a queue,
// PublishMessage on a topic.
//
// What it adds to the SDK (wire-protocols.md PART 2):
//
//   - New validates the endpoint before the SDK sees it. The SDK panics unless
//     the endpoint string splits on "." into exactly five pieces; New returns
//     an error naming the accepted forms instead
//     (https://<accountId>.mns.<region>.aliyuncs.com, or
//     http://127.0.0.1:PORT/. for the local emulator), and recovers from any
//     other panic of the SDK's constructor.
//   - Every call honours its context. The SDK has no context: a call runs in a
//     goroutine and the method returns when ctx is done. The abandoned call
//     still finishes in the background within Config.Timeout, so a message may
//     be sent although the method reported ctx's error: senders must treat
//     delivery as at-least-once (outcome consumers drop duplicates by the
//     CloudEvents id).
//   - Errors are *Error values carrying the MNS error code as a string
//     ("QueueNotExist", "InternalError", ...) recovered from the SDK's numeric
//     gogap/errors codes; Code and IsRetryable classify any error. The
//     SDK's messages are rendered by shared/third_party/gogap-errors (go.mod
//     replaces github.com/gogap/errors with it: no text/template in the
//     functions' binaries); TestSDKErrorMessagesAreTextTemplates holds every
//     template of the SDK to text/template's rendering, and the code and
//     request id read from them.
//   - SendBatch splits into requests of at most MaxBatch (16) messages and
//     MaxBatchBytes (64 KB) of message bodies in all, the two limits of
//     BatchSendMessage (MNS refuses a larger request whole with
//     InvalidArgument), and reports every entry that failed, by its index in the caller's slice,
//     in a *BatchError.
//
// The SDK itself never retries (fasthttp does, for a connection closed
// before the answer, up to five times): retrying is the caller's policy
// (see package notify).
package mnsq

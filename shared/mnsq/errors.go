package mnsq

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Client-side codes, for failures MNS did not name (the SDK's own MNS#n
// errors without a server code, and context errors).
const (
	CodeNetwork          = "NetworkError"     // request not sent or answer not read (MNS#5, #6)
	CodeBadErrorResponse = "BadErrorResponse" // non-2xx answer that is not MNS error XML, e.g. a gateway page (MNS#7)
	CodeBadResponse      = "BadResponse"      // 2xx answer the SDK could not decode (MNS#8-#10)
	CodeClient           = "ClientError"      // the SDK could not build or sign the request (MNS#1-#4)
	CodeBatchOpFail      = "BatchOpFail"      // a batch failed without a per-entry result (MNS#136)
	CodeInvalidArgument  = "InvalidArgument"  // refused before sending (also MNS's own code)
	CodeMessageTooLarge  = "MessageTooLarge"  // body over MaxMessageBytes, refused before sending
	CodeCanceled         = "Canceled"         // the context was canceled
	CodeDeadlineExceeded = "DeadlineExceeded" // the context's deadline passed
	CodeUnknown          = "Unknown"          // an error this package cannot classify
)

// RetryableCodes are the codes for which the same call may succeed later:
// server-side failures, throttling and transport trouble. Everything else
// (missing queue, denied access, bad signature, invalid argument, context
// errors) is terminal for the call as made. Tests and callers may read it.
var RetryableCodes = map[string]bool{
	"InternalError":       true, // 500
	"QpsLimitExceeded":    true,
	"InternalServerError": true, // unmapped by the SDK (MNS#135) but seen from gateways
	"ServiceUnavailable":  true,
	"ServiceBusy":         true,
	"Throttling":          true,
	CodeNetwork:           true,
	CodeBadErrorResponse:  true,
}

// sdkCodes maps the SDK's numeric error ids (namespace "MNS",
// aliyun-mns-go-sdk@v1.0.11/errors.go) to the MNS code strings they were
// parsed from (client.go errMapping) or to this package's client-side codes.
var sdkCodes = map[uint64]string{
	1: CodeClient, 2: CodeClient, 3: CodeClient, 4: CodeClient,
	5: CodeNetwork, 6: CodeNetwork,
	7: CodeBadErrorResponse,
	8: CodeBadResponse, 9: CodeBadResponse, 10: CodeBadResponse,
	100: "AccessDenied",
	101: "InvalidAccessKeyId",
	102: "InternalError",
	103: "InvalidAuthorizationHeader",
	104: "InvalidDateHeader",
	105: "InvalidArgument",
	106: "InvalidDegist", // sic, as MNS spells it
	107: "InvalidRequestURL",
	108: "InvalidQueryString",
	109: "MalformedXML",
	110: "MissingAuthorizationHeader",
	111: "MissingDateHeader",
	112: "MissingVersionHeader",
	113: "MissingReceiptHandle",
	114: "MissingVisibilityTimeout",
	115: "MessageNotExist",
	116: "QueueAlreadyExist",
	117: "QueueDeletedRecently",
	118: "InvalidQueueName",
	119: "InvalidVersionHeader",
	120: "InvalidContentType",
	121: "QueueNameLengthError",
	122: "QueueNotExist",
	123: "ReceiptHandleError",
	124: "SignatureDoesNotMatch",
	125: "TimeExpired",
	126: CodeInvalidArgument, 127: CodeInvalidArgument, 128: CodeInvalidArgument, 129: CodeInvalidArgument,
	130: CodeInvalidArgument, 131: CodeInvalidArgument, 132: CodeInvalidArgument,
	134: "QpsLimitExceeded",
	136: CodeBatchOpFail,
	200: "TopicNameLengthError",
	201: "SubscriptionNameLengthError",
	202: "TopicNotExist",
	203: "TopicAlreadyExist",
	204: "TopicNameInvalid",
	205: "SubsriptionNameInvalid", // sic
	206: "SubscriptionAlreadyExist",
	207: "EndpointInvalid",
	211: "SubscriberNotExist",
}

// sdkUnknownCode is ERR_MNS_UNKNOWN_CODE: the server's code string only
// survives in the message text.
const sdkUnknownCode = 135

var (
	codeInMessage      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`status error,code: ([^,]*),`) })
	requestIDInMessage = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`request id: ([^,]*),`) })
)

// Error is a failed MNS call.
type Error struct {
	Op        string // SendMessage, BatchSendMessage, PublishMessage
	Resource  string // queue or topic name
	Code      string // MNS error code ("QueueNotExist") or a client-side Code* constant
	Retryable bool
	RequestID string // MNS request id, when the server answered
	Err       error  // the SDK's error (a gogap/errors ErrCode) or ctx's error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mnsq: ")
	b.WriteString(e.Op)
	if e.Resource != "" {
		fmt.Fprintf(&b, " %q", e.Resource)
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// wrap turns an SDK or context error into an *Error.
func wrap(op, resource string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	code := sdkCode(err)
	out := &Error{Op: op, Resource: resource, Code: code, Retryable: RetryableCodes[code], Err: err}
	if m := requestIDInMessage().FindStringSubmatch(err.Error()); m != nil {
		out.RequestID = strings.TrimSpace(m[1])
	}
	return out
}

// sdkError is the part of github.com/gogap/errors.ErrCode, the SDK's error
// type, that classification needs.
type sdkError interface {
	error
	Code() uint64
	Namespace() string
}

// sdkCode classifies an error that did not come through wrap.
func sdkCode(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	}
	var ec sdkError
	if !errors.As(err, &ec) || ec.Namespace() != "MNS" {
		return CodeUnknown
	}
	if ec.Code() == sdkUnknownCode {
		if m := codeInMessage().FindStringSubmatch(ec.Error()); m != nil && strings.TrimSpace(m[1]) != "" {
			return strings.TrimSpace(m[1])
		}
		return CodeUnknown
	}
	if c, ok := sdkCodes[ec.Code()]; ok {
		return c
	}
	return CodeUnknown
}

// Code returns the MNS error code of err ("QueueNotExist", "InternalError",
// ...) or one of the client-side Code* constants; "" when err is nil. It
// understands *Error, *BatchError (the first failed entry's code), raw SDK
// errors and context errors.
func Code(err error) string {
	if err == nil {
		return ""
	}
	var be *BatchError
	if errors.As(err, &be) {
		if len(be.Entries) == 0 {
			return ""
		}
		return be.Entries[0].Code
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return sdkCode(err)
}

// IsRetryable reports whether the same call may succeed if made again
// later. A *BatchError is retryable when every failed entry is. Context
// errors are not: the caller's time is up.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var be *BatchError
	if errors.As(err, &be) {
		for _, en := range be.Entries {
			if !en.Retryable {
				return false
			}
		}
		return len(be.Entries) > 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable
	}
	return RetryableCodes[sdkCode(err)]
}

// EntryError is one message of a batch that was not accepted.
type EntryError struct {
	Index     int // position in the slice given to SendBatch
	Code      string
	Message   string
	Retryable bool
}

// BatchError reports the messages of a SendBatch that were not accepted.
type BatchError struct {
	Queue   string
	Total   int          // messages given to SendBatch
	Entries []EntryError // in index order
}

func (e *BatchError) add(index int, err error) {
	e.Entries = append(e.Entries, EntryError{Index: index, Code: Code(err), Message: err.Error(), Retryable: IsRetryable(err)})
}

func (e *BatchError) Error() string {
	if len(e.Entries) == 0 {
		return fmt.Sprintf("mnsq: BatchSendMessage %q: no failures", e.Queue)
	}
	f := e.Entries[0]
	return fmt.Sprintf("mnsq: BatchSendMessage %q: %d of %d messages failed (first: #%d %s: %s)",
		e.Queue, len(e.Entries), e.Total, f.Index, f.Code, f.Message)
}

// Failed returns the indexes of the failed messages, in order.
func (e *BatchError) Failed() []int {
	out := make([]int, len(e.Entries))
	for i, en := range e.Entries {
		out[i] = en.Index
	}
	return out
}

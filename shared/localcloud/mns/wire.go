package mns

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
)

// xmlNS is the namespace real MNS puts on every response root element. The
// SDK decodes with namespace-less struct tags, so it accepts it either way.
const xmlNS = "http://mns.aliyuncs.com/doc/v1/"

// apiVersion is the only MNS API version (header x-mns-version).
const apiVersion = "2015-06-06"

// Error is an MNS service error: the HTTP status and the <Code> of the error
// XML. The HTTP handlers answer with it; the admin helpers return it.
type Error struct {
	Status  int    // HTTP status, e.g. 404
	Code    string // MNS error code, e.g. "QueueNotExist"
	Message string // human-readable message
}

func (e *Error) Error() string {
	return fmt.Sprintf("mnstest: %d %s: %s", e.Status, e.Code, e.Message)
}

func newErr(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error constructors, with the status and wording of the MNS error table.
func errQueueNotExist() *Error {
	return newErr(http.StatusNotFound, "QueueNotExist", "The queue name you provided is not exist.")
}

func errTopicNotExist() *Error {
	return newErr(http.StatusNotFound, "TopicNotExist", "The topic name you provided is not exist.")
}

func errSubscriptionNotExist() *Error {
	return newErr(http.StatusNotFound, "SubscriptionNotExist", "The subscription name you provided is not exist.")
}

func errMessageNotExist() *Error {
	return newErr(http.StatusNotFound, "MessageNotExist", "Message not exist.")
}

func errStaleHandle() *Error {
	return newErr(http.StatusNotFound, "MessageNotExist",
		"The message is not exist or the receipt handle is out of date (deleted, re-received or visibility expired).")
}

func errReceiptHandle(h string) *Error {
	return newErr(http.StatusBadRequest, "ReceiptHandleError", "The receipt handle you provide is not valid: %q.", h)
}

func errInvalidArgument(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "InvalidArgument", format, args...)
}

func errMalformedXML(err error) *Error {
	return newErr(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed: %v.", err)
}

// codeStatus is the HTTP status MNS uses for an error code; used for faults
// that name a code but no status.
var codeStatus = map[string]int{
	"AccessDenied":               403,
	"InvalidAccessKeyId":         403,
	"SignatureDoesNotMatch":      403,
	"InternalError":              500,
	"InvalidAuthorizationHeader": 400,
	"InvalidDateHeader":          400,
	"InvalidArgument":            400,
	"InvalidDegist":              400,
	"InvalidRequestURL":          400,
	"InvalidQueryString":         400,
	"MalformedXML":               400,
	"MissingAuthorizationHeader": 400,
	"MissingDateHeader":          400,
	"MissingVersionHeader":       400,
	"MissingReceiptHandle":       400,
	"MissingVisibilityTimeout":   400,
	"MessageNotExist":            404,
	"QueueAlreadyExist":          409,
	"QueueDeletedRecently":       400,
	"InvalidQueueName":           400,
	"QueueNameLengthError":       400,
	"QueueNotExist":              404,
	"ReceiptHandleError":         400,
	"TimeExpired":                408,
	"QpsLimitExceeded":           503,
	"TopicAlreadyExist":          409,
	"TopicNotExist":              404,
	"TopicNameInvalid":           400,
	"TopicNameLengthError":       400,
	"SubscriptionAlreadyExist":   409,
	"SubscriptionNotExist":       404,
	"EndpointInvalid":            400,
}

// ---- response bodies ----

type xmlError struct {
	XMLName   xml.Name `xml:"http://mns.aliyuncs.com/doc/v1/ Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

type xmlSendResult struct {
	XMLName        xml.Name `xml:"http://mns.aliyuncs.com/doc/v1/ Message"`
	MessageID      string   `xml:"MessageId"`
	MessageBodyMD5 string   `xml:"MessageBodyMD5"`
	ReceiptHandle  string   `xml:"ReceiptHandle,omitempty"`
}

type xmlBatchSendEntry struct {
	ErrorCode      string `xml:"ErrorCode,omitempty"`
	ErrorMessage   string `xml:"ErrorMessage,omitempty"`
	MessageID      string `xml:"MessageId,omitempty"`
	MessageBodyMD5 string `xml:"MessageBodyMD5,omitempty"`
}

type xmlBatchSendResult struct {
	XMLName  xml.Name            `xml:"http://mns.aliyuncs.com/doc/v1/ Messages"`
	Messages []xmlBatchSendEntry `xml:"Message"`
}

// xmlReceived is one received or peeked message. Peek answers carry no
// ReceiptHandle and no NextVisibleTime (as documented).
type xmlReceived struct {
	MessageID        string `xml:"MessageId"`
	ReceiptHandle    string `xml:"ReceiptHandle,omitempty"`
	MessageBodyMD5   string `xml:"MessageBodyMD5"`
	MessageBody      string `xml:"MessageBody"`
	EnqueueTime      int64  `xml:"EnqueueTime"`
	NextVisibleTime  int64  `xml:"NextVisibleTime,omitempty"`
	FirstDequeueTime int64  `xml:"FirstDequeueTime"`
	DequeueCount     int64  `xml:"DequeueCount"`
	Priority         int64  `xml:"Priority"`
}

type xmlReceiveResult struct {
	XMLName xml.Name `xml:"http://mns.aliyuncs.com/doc/v1/ Message"`
	xmlReceived
}

type xmlBatchReceiveResult struct {
	XMLName  xml.Name      `xml:"http://mns.aliyuncs.com/doc/v1/ Messages"`
	Messages []xmlReceived `xml:"Message"`
}

type xmlDeleteError struct {
	ErrorCode     string `xml:"ErrorCode"`
	ErrorMessage  string `xml:"ErrorMessage"`
	ReceiptHandle string `xml:"ReceiptHandle"`
}

type xmlBatchDeleteErrors struct {
	XMLName xml.Name         `xml:"http://mns.aliyuncs.com/doc/v1/ Errors"`
	Errors  []xmlDeleteError `xml:"Error"`
}

type xmlChangeVisibility struct {
	XMLName         xml.Name `xml:"http://mns.aliyuncs.com/doc/v1/ ChangeVisibility"`
	ReceiptHandle   string   `xml:"ReceiptHandle"`
	NextVisibleTime int64    `xml:"NextVisibleTime"`
}

// xmlQueueAttrs is the GetQueueAttributes body and, without XMLName
// namespace, one <Queue> of ListQueue (QueueURL only, or everything when
// x-mns-with-meta is true).
type xmlQueueAttrs struct {
	QueueURL               string `xml:"QueueURL,omitempty"`
	QueueName              string `xml:"QueueName,omitempty"`
	CreateTime             int64  `xml:"CreateTime,omitempty"`
	LastModifyTime         int64  `xml:"LastModifyTime,omitempty"`
	DelaySeconds           *int   `xml:"DelaySeconds"`
	MaximumMessageSize     *int   `xml:"MaximumMessageSize"`
	MessageRetentionPeriod *int   `xml:"MessageRetentionPeriod"`
	VisibilityTimeout      *int   `xml:"VisibilityTimeout"`
	PollingWaitSeconds     *int   `xml:"PollingWaitSeconds"`
	ActiveMessages         *int   `xml:"ActiveMessages"`
	InactiveMessages       *int   `xml:"InactiveMessages"`
	DelayMessages          *int   `xml:"DelayMessages"`
	LoggingEnabled         string `xml:"LoggingEnabled,omitempty"`
}

type xmlQueueAttrsDoc struct {
	XMLName xml.Name `xml:"http://mns.aliyuncs.com/doc/v1/ Queue"`
	xmlQueueAttrs
}

type xmlQueueList struct {
	XMLName    xml.Name        `xml:"http://mns.aliyuncs.com/doc/v1/ Queues"`
	Queues     []xmlQueueAttrs `xml:"Queue"`
	NextMarker string          `xml:"NextMarker,omitempty"`
}

type xmlTopicAttrs struct {
	TopicURL               string `xml:"TopicURL,omitempty"`
	TopicName              string `xml:"TopicName,omitempty"`
	CreateTime             int64  `xml:"CreateTime,omitempty"`
	LastModifyTime         int64  `xml:"LastModifyTime,omitempty"`
	MaximumMessageSize     *int   `xml:"MaximumMessageSize"`
	MessageRetentionPeriod *int   `xml:"MessageRetentionPeriod"`
	MessageCount           *int   `xml:"MessageCount"`
	LoggingEnabled         string `xml:"LoggingEnabled,omitempty"`
}

type xmlTopicAttrsDoc struct {
	XMLName xml.Name `xml:"http://mns.aliyuncs.com/doc/v1/ Topic"`
	xmlTopicAttrs
}

type xmlTopicList struct {
	XMLName    xml.Name        `xml:"http://mns.aliyuncs.com/doc/v1/ Topics"`
	Topics     []xmlTopicAttrs `xml:"Topic"`
	NextMarker string          `xml:"NextMarker,omitempty"`
}

type xmlSubscriptionAttrs struct {
	SubscriptionURL     string `xml:"SubscriptionURL,omitempty"`
	SubscriptionName    string `xml:"SubscriptionName,omitempty"`
	Subscriber          string `xml:"Subscriber,omitempty"`
	TopicOwner          string `xml:"TopicOwner,omitempty"`
	TopicName           string `xml:"TopicName,omitempty"`
	Endpoint            string `xml:"Endpoint,omitempty"`
	NotifyStrategy      string `xml:"NotifyStrategy,omitempty"`
	NotifyContentFormat string `xml:"NotifyContentFormat,omitempty"`
	FilterTag           string `xml:"FilterTag,omitempty"`
	CreateTime          int64  `xml:"CreateTime,omitempty"`
	LastModifyTime      int64  `xml:"LastModifyTime,omitempty"`
}

type xmlSubscriptionAttrsDoc struct {
	XMLName xml.Name `xml:"http://mns.aliyuncs.com/doc/v1/ Subscription"`
	xmlSubscriptionAttrs
}

type xmlSubscriptionList struct {
	XMLName       xml.Name               `xml:"http://mns.aliyuncs.com/doc/v1/ Subscriptions"`
	Subscriptions []xmlSubscriptionAttrs `xml:"Subscription"`
	NextMarker    string                 `xml:"NextMarker,omitempty"`
}

// xmlNotification is the queue message body for NotifyContentFormat XML.
type xmlNotification struct {
	XMLName          xml.Name `xml:"http://mns.aliyuncs.com/doc/v1/ Notification"`
	TopicOwner       string   `xml:"TopicOwner"`
	TopicName        string   `xml:"TopicName"`
	Subscriber       string   `xml:"Subscriber"`
	SubscriptionName string   `xml:"SubscriptionName"`
	MessageID        string   `xml:"MessageId"`
	Message          string   `xml:"Message"`
	MessageMD5       string   `xml:"MessageMD5"`
	MessageTag       string   `xml:"MessageTag,omitempty"`
	PublishTime      int64    `xml:"PublishTime"`
}

// jsonNotification is the queue message body for NotifyContentFormat JSON
// (PublishTime is a string of milliseconds, as in the documented sample).
type jsonNotification struct {
	TopicOwner       string `json:"TopicOwner"`
	TopicName        string `json:"TopicName"`
	Subscriber       string `json:"Subscriber"`
	SubscriptionName string `json:"SubscriptionName"`
	MessageID        string `json:"MessageId"`
	Message          string `json:"Message"`
	MessageMD5       string `json:"MessageMD5"`
	MessageTag       string `json:"MessageTag,omitempty"`
	PublishTime      string `json:"PublishTime"`
}

// ---- request bodies (no namespace in the tags: the SDK sends none, docs show one) ----

type reqMessage struct {
	MessageBody  *string `xml:"MessageBody"`
	DelaySeconds *string `xml:"DelaySeconds"`
	Priority     *string `xml:"Priority"`
	MessageTag   *string `xml:"MessageTag"`
}

type reqMessages struct {
	Messages []reqMessage `xml:"Message"`
}

type reqReceiptHandles struct {
	Handles []string `xml:"ReceiptHandle"`
}

type reqQueue struct {
	DelaySeconds           *string `xml:"DelaySeconds"`
	MaximumMessageSize     *string `xml:"MaximumMessageSize"`
	MessageRetentionPeriod *string `xml:"MessageRetentionPeriod"`
	VisibilityTimeout      *string `xml:"VisibilityTimeout"`
	PollingWaitSeconds     *string `xml:"PollingWaitSeconds"`
	LoggingEnabled         *string `xml:"LoggingEnabled"`
}

type reqTopic struct {
	MaximumMessageSize *string `xml:"MaximumMessageSize"`
	LoggingEnabled     *string `xml:"LoggingEnabled"`
}

type reqSubscription struct {
	Endpoint            *string `xml:"Endpoint"`
	FilterTag           *string `xml:"FilterTag"`
	NotifyStrategy      *string `xml:"NotifyStrategy"`
	NotifyContentFormat *string `xml:"NotifyContentFormat"`
}

// decodeXML decodes body into v, answering MalformedXML on any error, and
// checks the root element name.
func decodeXML(body []byte, root string, v any) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return newErr(http.StatusBadRequest, "MalformedXML", "The request body is empty; <%s> expected.", root)
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	var start xml.StartElement
	for {
		tok, err := d.Token()
		if err != nil {
			return errMalformedXML(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			start = se
			break
		}
	}
	if start.Name.Local != root {
		return newErr(http.StatusBadRequest, "MalformedXML", "The root element must be <%s>, not <%s>.", root, start.Name.Local)
	}
	if err := d.DecodeElement(v, &start); err != nil {
		return errMalformedXML(err)
	}
	return nil
}

// rootElement returns the local name of the first element of body, or "".
func rootElement(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
}

func intp(v int) *int { return &v }

func boolText(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

package fc

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Time layouts of FC and EventBridge events.
const (
	timerTimeLayout = "2006-01-02T15:04:05Z"     // triggerTime, HTTP requestContext.time
	cloudEventTime  = "2006-01-02T15:04:05.000Z" // CloudEvents time, aliyunpublishtime
)

// marshal is json.Marshal without HTML escaping (FC does not turn "<" into
// "\u003c") and without a trailing newline.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only plain structs of strings are marshalled here
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

type timerEvent struct {
	TriggerTime string `json:"triggerTime"`
	TriggerName string `json:"triggerName"`
	Payload     string `json:"payload"`
}

// NewTimerEvent returns the event a timer trigger named name delivers at
// time at: {"triggerTime","triggerName","payload"}, where payload is the
// trigger's configured payload as a JSON string (testdata/events/timer.json).
func NewTimerEvent(at time.Time, name, payload string) []byte {
	return marshal(timerEvent{
		TriggerTime: at.UTC().Format(timerTimeLayout),
		TriggerName: name,
		Payload:     payload,
	})
}

// MNSEventSource says where MNS CloudEvents come from.
type MNSEventSource struct {
	Region    string // default DefaultRegion
	AccountID string // default DefaultAccountID
	Queue     string
	// EventBus is the "source" and "aliyuneventbusname" of each event. FC
	// names the event stream "MNS-<function>-<trigger>"; default
	// "MNS-<Queue>".
	EventBus    string
	PublishAddr string // aliyunpublishaddr; default "127.0.0.1"
}

// MNSMessage is one queue message as EventBridge delivers it.
type MNSMessage struct {
	MessageID   string    // generated when empty
	RequestID   string    // data.requestId; generated when empty
	Body        string    // data.messageBody, after any base64 decoding
	EnqueueTime time.Time // the event's "time"
	PublishTime time.Time // aliyunpublishtime; default time.Now()
}

// mnsCloudEvent is one element of the FC 3.0 MNS queue event, keys in the
// order EventBridge writes them (testdata/events/mns-queue.json).
type mnsCloudEvent struct {
	ID                      string  `json:"id"`
	Source                  string  `json:"source"`
	SpecVersion             string  `json:"specversion"`
	Type                    string  `json:"type"`
	DataContentType         string  `json:"datacontenttype"`
	Subject                 string  `json:"subject"`
	Time                    string  `json:"time"`
	AliyunAccountID         string  `json:"aliyunaccountid"`
	AliyunPublishTime       string  `json:"aliyunpublishtime"`
	AliyunOriginalAccountID string  `json:"aliyunoriginalaccountid"`
	AliyunEventBusName      string  `json:"aliyuneventbusname"`
	AliyunRegionID          string  `json:"aliyunregionid"`
	AliyunPublishAddr       string  `json:"aliyunpublishaddr"`
	Data                    mnsData `json:"data"`
}

type mnsData struct {
	RequestID   string `json:"requestId"`
	MessageID   string `json:"messageId"`
	MessageBody string `json:"messageBody"`
}

// NewMNSEvents returns the event an FC 3.0 MNS queue trigger (an EventBridge
// event stream, CloudEvents schema) delivers for a batch: a JSON array with
// one CloudEvent per message (testdata/events/mns-queue.json).
func NewMNSEvents(src MNSEventSource, msgs ...MNSMessage) []byte {
	if src.Region == "" {
		src.Region = DefaultRegion
	}
	if src.AccountID == "" {
		src.AccountID = DefaultAccountID
	}
	if src.EventBus == "" {
		src.EventBus = "MNS-" + src.Queue
	}
	if src.PublishAddr == "" {
		src.PublishAddr = "127.0.0.1"
	}
	events := make([]mnsCloudEvent, 0, len(msgs))
	for _, m := range msgs {
		m = m.withDefaults()
		events = append(events, mnsCloudEvent{
			ID:                      m.MessageID,
			Source:                  src.EventBus,
			SpecVersion:             "1.0",
			Type:                    "mns:Queue:SendMessage",
			DataContentType:         "application/json; charset=utf-8",
			Subject:                 "acs:mns:" + src.Region + ":" + src.AccountID + ":queues/" + src.Queue,
			Time:                    m.EnqueueTime.UTC().Format(cloudEventTime),
			AliyunAccountID:         src.AccountID,
			AliyunPublishTime:       m.PublishTime.UTC().Format(cloudEventTime),
			AliyunOriginalAccountID: src.AccountID,
			AliyunEventBusName:      src.EventBus,
			AliyunRegionID:          src.Region,
			AliyunPublishAddr:       src.PublishAddr,
			Data:                    m.data(),
		})
	}
	return marshal(events)
}

// NewMNSRawEvents returns the batch event of the RawData push format: a
// JSON array of the CloudEvents' data objects {requestId, messageId,
// messageBody}. No sample of it is published; the shape is inferred from
// the EventBridge docs ("delivers only the event payload data").
func NewMNSRawEvents(msgs ...MNSMessage) []byte {
	data := make([]mnsData, 0, len(msgs))
	for _, m := range msgs {
		data = append(data, m.withDefaults().data())
	}
	return marshal(data)
}

func (m MNSMessage) withDefaults() MNSMessage {
	if m.MessageID == "" {
		m.MessageID = strings.ToUpper(randHex(16))
	}
	if m.RequestID == "" {
		m.RequestID = strings.ToUpper(randHex(12))
	}
	if m.PublishTime.IsZero() {
		m.PublishTime = time.Now()
	}
	if m.EnqueueTime.IsZero() {
		m.EnqueueTime = m.PublishTime
	}
	return m
}

func (m MNSMessage) data() mnsData {
	return mnsData{RequestID: m.RequestID, MessageID: m.MessageID, MessageBody: m.Body}
}

// httpEvent is the FC 3.0 HTTP trigger event (testdata/events/http.json).
type httpEvent struct {
	Version         string            `json:"version"`
	RawPath         string            `json:"rawPath"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Headers         map[string]string `json:"headers"`
	QueryParameters map[string]string `json:"queryParameters"`
	RequestContext  httpContext       `json:"requestContext"`
}

type httpContext struct {
	AccountID    string          `json:"accountId"`
	DomainName   string          `json:"domainName"`
	DomainPrefix string          `json:"domainPrefix"`
	HTTP         httpContextHTTP `json:"http"`
	RequestID    string          `json:"requestId"`
	Time         string          `json:"time"`
	TimeEpoch    string          `json:"timeEpoch"`
}

type httpContextHTTP struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// httpResponse is what a function behind an HTTP trigger returns.
type httpResponse struct {
	StatusCode      *int              `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Body            string            `json:"body"`
}

package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// Forms of MNS delivery, as MNSMessage.Form reports them.
const (
	FormCloudEvent  = "cloudevent"   // EventBridge, CloudEvents schema (the FC 3.0 default)
	FormRawData     = "rawdata"      // EventBridge, RawData schema: just the data object
	FormTopicJSON   = "topic-json"   // mns_topic trigger, notifyContentFormat JSON
	FormStreamAttrs = "stream-attrs" // mns_topic trigger, STREAM with message attributes
	FormStream      = "stream"       // mns_topic trigger, STREAM: the payload is the body
)

// MNSData is the data of an MNS CloudEvent, and the whole element in the
// RawData push format.
type MNSData struct {
	RequestID   string `json:"requestId"`
	MessageID   string `json:"messageId"`
	MessageBody string `json:"messageBody"`
}

// UnmarshalJSON accepts messageBody as a string (the documented form) or,
// tolerantly, as a JSON object or array, whose JSON text is then the body.
func (d *MNSData) UnmarshalJSON(b []byte) error {
	var w struct {
		RequestID   string          `json:"requestId"`
		MessageID   string          `json:"messageId"`
		MessageBody json.RawMessage `json:"messageBody"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = MNSData{RequestID: w.RequestID, MessageID: w.MessageID}
	body := bytes.TrimSpace(w.MessageBody)
	switch {
	case len(body) == 0 || string(body) == "null":
	case body[0] == '"':
		if err := json.Unmarshal(body, &d.MessageBody); err != nil {
			return err
		}
	case body[0] == '{' || body[0] == '[':
		d.MessageBody = string(body)
	default:
		return fmt.Errorf("messageBody: must be a JSON string, got %s", jsonKindOf(body))
	}
	return nil
}

// MNSCloudEvent is one element of the FC 3.0 MNS queue event (EventBridge,
// CloudEvents schema; fc-platform.md §1b).
type MNSCloudEvent struct {
	ID                      string  `json:"id"`
	Source                  string  `json:"source"`
	SpecVersion             string  `json:"specversion"`
	Type                    string  `json:"type"`
	DataContentType         string  `json:"datacontenttype,omitempty"`
	Subject                 string  `json:"subject,omitempty"`
	Time                    string  `json:"time,omitempty"`
	AliyunAccountID         string  `json:"aliyunaccountid,omitempty"`
	AliyunPublishTime       string  `json:"aliyunpublishtime,omitempty"`
	AliyunOriginalAccountID string  `json:"aliyunoriginalaccountid,omitempty"`
	AliyunEventBusName      string  `json:"aliyuneventbusname,omitempty"`
	AliyunRegionID          string  `json:"aliyunregionid,omitempty"`
	AliyunPublishAddr       string  `json:"aliyunpublishaddr,omitempty"`
	Data                    MNSData `json:"data"`
}

// EpochMillis is a time in milliseconds since the Unix epoch, as the
// mns_topic notification's PublishTime carries it (a JSON number; a string
// of digits is accepted too). The SDK's events.MnsTopicEvent declares it
// time.Time and cannot decode real events.
type EpochMillis int64

// UnmarshalJSON accepts a number or a string of digits.
func (m *EpochMillis) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "" || s == "null" {
		*m = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("PublishTime: want epoch milliseconds, got %s", b)
		}
		n = int64(f)
	}
	*m = EpochMillis(n)
	return nil
}

// Time returns the time in UTC.
func (m EpochMillis) Time() time.Time { return time.UnixMilli(int64(m)).UTC() }

// MNSTopicEvent is the mns_topic trigger's JSON notification
// (notifyContentFormat JSON, fc-platform.md §1c). Message attributes arrive
// as extra top-level keys; they are kept in Attributes.
type MNSTopicEvent struct {
	TopicOwner       string      `json:"TopicOwner"`
	Message          string      `json:"Message"`
	Subscriber       string      `json:"Subscriber"`
	PublishTime      EpochMillis `json:"PublishTime"`
	SubscriptionName string      `json:"SubscriptionName"`
	MessageMD5       string      `json:"MessageMD5"`
	TopicName        string      `json:"TopicName"`
	MessageID        string      `json:"MessageId"`

	Attributes map[string]json.RawMessage `json:"-"`
}

var topicFields = []string{"TopicOwner", "Message", "Subscriber", "PublishTime", "SubscriptionName", "MessageMD5", "TopicName", "MessageId"}

// topicPlain is MNSTopicEvent without its methods.
type topicPlain MNSTopicEvent

// UnmarshalJSON decodes the known fields and keeps every other key in
// Attributes.
func (e *MNSTopicEvent) UnmarshalJSON(b []byte) error {
	var p topicPlain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, v := range all {
		if !containsString(topicFields, k) {
			if p.Attributes == nil {
				p.Attributes = map[string]json.RawMessage{}
			}
			p.Attributes[k] = v
		}
	}
	*e = MNSTopicEvent(p)
	return nil
}

// MarshalJSON writes the known fields and the attributes at the top level.
func (e MNSTopicEvent) MarshalJSON() ([]byte, error) {
	known, err := json.Marshal(topicPlain(e))
	if err != nil {
		return nil, err
	}
	if len(e.Attributes) == 0 {
		return known, nil
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(known, &m); err != nil {
		return nil, err
	}
	for k, v := range e.Attributes {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// MNSStreamEvent is the mns_topic STREAM notification with message
// attributes: {"body": "<message>", "attrs": {"Extend": "{...}"}}.
type MNSStreamEvent struct {
	Body  string                     `json:"body"`
	Attrs map[string]json.RawMessage `json:"attrs,omitempty"`
}

// MNSMessage is one message of an MNS delivery, whatever its form.
type MNSMessage struct {
	// ID is the MNS message id. STREAM forms carry none; their ID is
	// "body-" + 16 hex digits of the body's SHA-256, so a redelivery of
	// the same body is recognized as the same ask.
	ID string `json:"id"`
	// Body is the message body as delivered (possibly base64; Payload
	// decodes it).
	Body string `json:"body"`
	// Source is the queue or topic name. Empty for the RawData and STREAM
	// forms, which do not say; set it before calling Requests when the
	// caller knows it.
	Source string `json:"source"`
	// Form says which delivery form the message came in (Form* constants).
	Form string `json:"form"`
	// Time is when the message was sent, where the form says (the
	// CloudEvent's time, a topic's PublishTime); EventBridge keeps it
	// through re-pushes, so it is the ask's AskedAt. Zero for the RawData
	// and STREAM forms, which do not say.
	Time time.Time `json:"time,omitzero"`
	// Err is set when this element of a batch could not be decoded; its
	// Requests returns Err. The other messages of the batch are unaffected.
	Err error `json:"-"`
}

// ParseMNS decodes an MNS delivery into its messages. It accepts
//
//   - the FC 3.0 EventBridge batch: a JSON array of CloudEvents (any size,
//     also empty), or of RawData objects {requestId, messageId, messageBody};
//   - a single CloudEvent or a single RawData object;
//   - the mns_topic JSON notification {TopicOwner, Message, PublishTime
//     (number), TopicName, MessageId, ...attribute keys};
//   - the mns_topic STREAM-with-attributes form {"body", "attrs"};
//   - anything else as a raw STREAM body: the whole payload is one message.
//
// An element of a batch that is not an MNS message becomes a message whose
// Err says why; the error returned is only for an empty payload.
func ParseMNS(data []byte) ([]MNSMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, malformed("event", "is empty; want an MNS delivery")
	}
	switch trimmed[0] {
	case '[':
		var elems []json.RawMessage
		if json.Unmarshal(trimmed, &elems) == nil {
			if msgs, ok := parseBatch(elems); ok {
				return msgs, nil
			}
		}
	case '{':
		var keys map[string]json.RawMessage
		if json.Unmarshal(trimmed, &keys) == nil {
			if m, ok := parseObject(trimmed, keys, ""); ok {
				return []MNSMessage{m}, nil
			}
		}
	}
	return []MNSMessage{streamMessage(string(data), FormStream)}, nil
}

// parseBatch decodes an array of CloudEvents or RawData objects. It reports
// false when no element looks like an MNS message (then the array is a
// STREAM body); an empty array is an empty batch.
func parseBatch(elems []json.RawMessage) ([]MNSMessage, bool) {
	msgs := make([]MNSMessage, len(elems))
	recognized := 0
	for i, raw := range elems {
		field := fmt.Sprintf("event[%d]", i)
		var keys map[string]json.RawMessage
		if json.Unmarshal(raw, &keys) != nil {
			msgs[i] = MNSMessage{Form: FormCloudEvent, Err: malformed(field, "must be a CloudEvent object, got %s", jsonKindOf(raw))}
			continue
		}
		m, ok := parseObject(raw, keys, field)
		if !ok || (m.Form != FormCloudEvent && m.Form != FormRawData) {
			msgs[i] = MNSMessage{Form: FormCloudEvent, Err: malformed(field, "is not an MNS CloudEvent or RawData object (no data.messageBody)")}
			continue
		}
		recognized++
		msgs[i] = m
	}
	if len(elems) > 0 && recognized == 0 {
		return nil, false
	}
	return msgs, true
}

// parseObject recognizes one JSON object. ok is false when it is none of
// the MNS envelopes (then it is a STREAM body, e.g. a request JSON).
func parseObject(raw []byte, keys map[string]json.RawMessage, field string) (MNSMessage, bool) {
	_, hasData := keys["data"]
	_, hasSpec := keys["specversion"]
	_, hasBody := keys["messageBody"]
	_, hasMsgID := keys["messageId"]
	_, hasTopic := keys["TopicName"]
	_, hasMessage := keys["Message"]
	_, hasStreamBody := keys["body"]
	if field == "" {
		field = "event"
	}
	switch {
	case hasData && (hasSpec || hasKey(keys, "id") && hasKey(keys, "type")):
		var ce MNSCloudEvent
		if err := json.Unmarshal(raw, &ce); err != nil {
			var subject, source string
			_ = json.Unmarshal(keys["subject"], &subject)
			_ = json.Unmarshal(keys["source"], &source)
			return MNSMessage{Form: FormCloudEvent, ID: idOf(keys), Source: queueName(subject, source), Err: decodeErr(field, err)}, true
		}
		id := ce.Data.MessageID
		if id == "" {
			id = ce.ID
		}
		if id == "" {
			id = bodyID(ce.Data.MessageBody)
		}
		m := MNSMessage{ID: id, Body: ce.Data.MessageBody, Source: queueName(ce.Subject, ce.Source), Form: FormCloudEvent,
			Time: ParseAskedAt(ce.Time)}
		if m.Time.IsZero() {
			m.Time = ParseAskedAt(ce.AliyunPublishTime)
		}
		if !hasNonNull(keys["data"], "messageBody") {
			m.Err = malformed(field+".data.messageBody", "is required")
		}
		return m, true
	case hasBody && (hasMsgID || hasKey(keys, "requestId")):
		var d MNSData
		if err := json.Unmarshal(raw, &d); err != nil {
			return MNSMessage{Form: FormRawData, Err: decodeErr(field, err)}, true
		}
		m := MNSMessage{ID: d.MessageID, Body: d.MessageBody, Form: FormRawData}
		if m.ID == "" {
			m.ID = bodyID(m.Body)
		}
		return m, true
	case hasTopic && hasMessage:
		var te MNSTopicEvent
		if err := json.Unmarshal(raw, &te); err != nil {
			return MNSMessage{Form: FormTopicJSON, Err: decodeErr(field, err)}, true
		}
		m := MNSMessage{ID: te.MessageID, Body: te.Message, Source: te.TopicName, Form: FormTopicJSON}
		if te.PublishTime > 0 {
			m.Time = te.PublishTime.Time()
		}
		if m.ID == "" {
			m.ID = bodyID(m.Body)
		}
		return m, true
	case hasStreamBody && onlyKeys(keys, "body", "attrs"):
		var se MNSStreamEvent
		if json.Unmarshal(raw, &se) != nil {
			return MNSMessage{}, false // e.g. "body" is not a string: a raw STREAM body
		}
		return streamMessage(se.Body, FormStreamAttrs), true
	}
	return MNSMessage{}, false
}

func streamMessage(body, form string) MNSMessage {
	return MNSMessage{ID: bodyID(body), Body: body, Form: form}
}

func bodyID(body string) string {
	sum := sha256.Sum256([]byte(body))
	return "body-" + hex.EncodeToString(sum[:8])
}

// queueName extracts the queue or topic name from a CloudEvent subject
// ("acs:mns:cn-hangzhou:1649...:queues/zeus" → "zeus"); the event source is
// the fallback.
func queueName(subject, source string) string {
	if i := strings.LastIndex(subject, ":"); i >= 0 {
		rest := subject[i+1:]
		for _, prefix := range []string{"queues/", "topics/"} {
			if name, ok := strings.CutPrefix(rest, prefix); ok && name != "" {
				return name
			}
		}
	}
	return source
}

func decodeErr(field string, err error) *backup.Violation {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		f := field
		if ute.Field != "" {
			f = field + "." + backup.Clip(ute.Field, backup.MaxFieldNameLen) // bounded: map keys are the sender's
		}
		return malformed(f, "must be a JSON %s, got %s", goKindToJSON(ute.Type.Kind().String()), backup.Clip(ute.Value, 32))
	}
	return malformed(field, "%s", backup.Clip(err.Error(), 200))
}

func goKindToJSON(k string) string {
	switch k {
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return k
}

func hasKey(keys map[string]json.RawMessage, k string) bool { _, ok := keys[k]; return ok }

func hasNonNull(obj json.RawMessage, k string) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(obj, &keys) != nil {
		return false
	}
	v, ok := keys[k]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

func onlyKeys(keys map[string]json.RawMessage, allowed ...string) bool {
	for k := range keys {
		if !containsString(allowed, k) {
			return false
		}
	}
	return true
}

func idOf(keys map[string]json.RawMessage) string {
	var id string
	_ = json.Unmarshal(keys["id"], &id)
	return id
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Trigger returns where the message's requests come from: kind "mns",
// source the queue or topic, delivery id the message id.
func (m MNSMessage) Trigger() backup.Trigger {
	return backup.Trigger{Kind: KindMNS, Source: m.Source, DeliveryId: m.ID}
}

// Payload returns the message body, base64-decoded when it is not JSON but
// is standard base64 of JSON (a producer or the MNS console that encodes,
// with the trigger's IsBase64Decode off).
func (m MNSMessage) Payload() []byte { return DecodeBody([]byte(m.Body)) }

// ErrEnvelope is returned by MNSMessage.Requests for a work-queue envelope
// (IsEnvelope): it is not a user's request.
var ErrEnvelope = errors.New("mns: message is a work-queue envelope, not a backup request")

// Requests normalizes the message: its (possibly base64) body is a request
// JSON (one request, a list or a plan; backup.ParsePlan). The error, for
// this message alone, wraps a *backup.Violation (or is ErrEnvelope, or the
// message's Err). The plan is returned so the caller can expand Select.
func (m MNSMessage) Requests() ([]backup.Request, backup.Plan, error) {
	if m.Err != nil {
		return nil, backup.Plan{}, fmt.Errorf("mns message %s: %w", backup.Quote(m.ID, 64), m.Err)
	}
	body := m.Payload()
	if IsEnvelope(body) {
		return nil, backup.Plan{}, ErrEnvelope
	}
	p, err := backup.ParsePlan(body)
	if err != nil {
		return nil, backup.Plan{}, fmt.Errorf("mns message %s: %w", backup.Quote(m.ID, 64), err)
	}
	return WithAskedAt(NormalizePlan(p, m.Trigger()), m.Time), p, nil
}

// IsEnvelope reports whether body (base64-aware, like Payload) is a
// work-queue envelope: a JSON object with the top-level keys "kind" and
// "v". The queue function routes those to the work-queue handler.
func IsEnvelope(body []byte) bool {
	body = DecodeBody(body)
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return false
	}
	_, kind := keys["kind"]
	_, v := keys["v"]
	return kind && v
}

// DecodeBody returns body trimmed of surrounding white space; when that is
// not valid JSON but is standard base64 (padded; line breaks allowed) of a
// JSON object or array, it returns the decoded JSON instead.
func DecodeBody(body []byte) []byte {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || json.Valid(body) {
		return body
	}
	compact := bytes.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, body)
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(compact)))
	n, err := base64.StdEncoding.Decode(dec, compact)
	if err != nil {
		return body
	}
	dec = bytes.TrimSpace(dec[:n])
	if len(dec) > 0 && (dec[0] == '{' || dec[0] == '[') && json.Valid(dec) {
		return dec
	}
	return body
}

package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// TimerEvent is what a timer trigger delivers (fc-platform.md §1a):
//
//	{"triggerTime":"2023-12-26T07:49:00Z","triggerName":"timer-trigger","payload":"awesome-fc"}
//
// Payload is the trigger's configured payload, passed through verbatim as a
// string; for fc-rds-backup it holds the plan JSON (DESIGN.md §3).
type TimerEvent struct {
	TriggerTime string `json:"triggerTime"`
	TriggerName string `json:"triggerName"`
	Payload     string `json:"payload"`
}

// ParseTimer decodes a timer event. triggerTime is required (RFC 3339); it
// is the delivery id, so an FC retry of the same tick yields the same
// idempotency keys. A payload that is a JSON object instead of a string
// (a hand-written test event) is accepted as that object's JSON text.
// Unknown fields are ignored: the envelope is the platform's.
func ParseTimer(data []byte) (TimerEvent, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return TimerEvent{}, malformed("event", "a timer event is a JSON object {triggerTime, triggerName, payload}")
	}
	if !utf8.Valid(data) {
		// JSON text is UTF-8 (RFC 8259): a payload object is kept as it
		// came, so invalid bytes in it would become U+FFFD only later.
		return TimerEvent{}, malformed("event", "must be valid UTF-8 (JSON text is)")
	}
	var wire struct {
		TriggerTime *string         `json:"triggerTime"`
		TriggerName *string         `json:"triggerName"`
		Payload     json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return TimerEvent{}, malformed(ute.Field, "must be a JSON string, got %s", ute.Value)
		}
		return TimerEvent{}, malformed("event", "invalid JSON: %v", err)
	}
	var ev TimerEvent
	if wire.TriggerTime == nil || *wire.TriggerTime == "" {
		return TimerEvent{}, malformed("triggerTime", "is required; this is not a timer event")
	}
	ev.TriggerTime = *wire.TriggerTime
	if _, err := time.Parse(time.RFC3339, ev.TriggerTime); err != nil {
		return TimerEvent{}, malformed("triggerTime", "must be an RFC 3339 time, got %q", ev.TriggerTime)
	}
	if wire.TriggerName != nil {
		ev.TriggerName = *wire.TriggerName
	}
	p := bytes.TrimSpace(wire.Payload)
	switch {
	case len(p) == 0 || string(p) == "null":
	case p[0] == '"':
		if err := json.Unmarshal(p, &ev.Payload); err != nil {
			return TimerEvent{}, malformed("payload", "invalid JSON string: %v", err)
		}
	case p[0] == '{':
		ev.Payload = string(p)
	default:
		return TimerEvent{}, malformed("payload", "must be a JSON string holding the plan JSON, got %s", jsonKindOf(p))
	}
	return ev, nil
}

// Time returns the trigger time.
func (e TimerEvent) Time() (time.Time, error) { return time.Parse(time.RFC3339, e.TriggerTime) }

// Trigger returns where the event's requests come from: kind "timer",
// source the trigger name, delivery id the trigger time.
func (e TimerEvent) Trigger() backup.Trigger {
	return backup.Trigger{Kind: KindTimer, Source: e.TriggerName, DeliveryId: e.TriggerTime}
}

// Plan parses the payload string with backup.ParsePlan. The error wraps the
// *backup.Violation that says what is wrong.
func (e TimerEvent) Plan() (backup.Plan, error) {
	p, err := backup.ParsePlan([]byte(e.Payload))
	if err != nil {
		return backup.Plan{}, fmt.Errorf("timer %q: payload: %w", e.TriggerName, err)
	}
	return p, nil
}

// Requests normalizes the payload's plan (NormalizePlan with Trigger). The
// plan is returned too, so the caller can expand its Select.
func (e TimerEvent) Requests() ([]backup.Request, backup.Plan, error) {
	p, err := e.Plan()
	if err != nil {
		return nil, backup.Plan{}, err
	}
	return WithAskedAt(NormalizePlan(p, e.Trigger()), ParseAskedAt(e.TriggerTime)), p, nil
}

func jsonKindOf(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

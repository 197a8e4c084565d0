package workqueue

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// Version is the envelope version this package writes and reads.
const Version = 1

// MaxBytes is the largest body MNS accepts (64 KiB).
const MaxBytes = 64 * 1024

// Kind says what an internal message asks for.
type Kind string

// The kinds of internal messages.
const (
	KindBackup  Kind = "backup"  // run or resume a request
	KindTrack   Kind = "track"   // check a backup job
	KindOutcome Kind = "outcome" // publish a parked outcome event
	KindPlan    Kind = "plan"    // the rest of a plan run: its explicit requests, then its Select
	KindSelect  Kind = "select"  // a plan run's Select, from page Page on
)

// Kinds lists every kind in a stable order.
var Kinds = []Kind{KindBackup, KindTrack, KindOutcome, KindPlan, KindSelect}

// Message is one internal work-queue message. Which fields are used depends
// on Kind; see the package doc.
type Message struct {
	Kind Kind

	// Request is the request to run (backup) or whose job is tracked (track).
	Request backup.Request

	// backup (and select: the page's failed reads so far)
	Attempts  []backup.Attempt // attempts made so far, oldest first
	FirstSeen time.Time        // when the request was first received (backup, select)
	// Facts the fan-out's DescribeDBInstances listing gave of the instance
	// (engine, status, storage...), so the item needs no read of its own.
	Facts *backup.InstanceFacts

	// select: the plan's selector and defaults, the plan's trigger and
	// when it was asked (kept for every request it expands to).
	Select   *backup.Selector
	Defaults backup.Spec
	Trigger  backup.Trigger
	AskedAt  time.Time
	Page     int // select: the DescribeDBInstances page to run next (1 when 0)

	// Run is the plan run's summary so far (plan, select): it travels with
	// the run until every ask has a first outcome, then is published.
	Run *backup.RunSummary
	// Step (plan, select) names the message's step in a run whose steps
	// run in parallel, counted in the ask ledger's run row ("0" the first,
	// "c3" a chunk of its asks, "p7" Select page 7 alone); Run is then the
	// step's own part of the summary. "": the run goes step after step,
	// Run carrying the summary so far.
	Step string
	// Specs (plan) are the asks still to run in compact form: the backups'
	// parameters only (their keys, trigger and askedAt are derived again
	// from the message's Trigger and AskedAt), gzip-compressed on the wire,
	// so that a plan of thousands of backups still fits one 64 KiB message.
	Specs []backup.Spec

	// track
	BackupJobId string
	Started     time.Time // when the job was accepted
	Checks      int       // checks made so far
	LastStatus  string    // BackupStatus seen by the last check ("NotFound" when the job was missing)
	LastProcess string    // progress percentage seen by the last check

	// outcome: the CloudEvents JSON object, published again byte for byte.
	Event json.RawMessage

	// plan
	Requests []backup.Request

	// Note is free text for people reading the queue, e.g. that attempts
	// were trimmed to fit the size limit.
	Note string

	// Delay is used by Sender.SendBatch only (Send takes its delay as an
	// argument); it is not part of the encoded message.
	Delay time.Duration
}

// Backup returns a "backup" message.
func Backup(r backup.Request, attempts []backup.Attempt, firstSeen time.Time) Message {
	return Message{Kind: KindBackup, Request: r, Attempts: attempts, FirstSeen: firstSeen}
}

// Track returns the first "track" message for a job accepted at started.
func Track(r backup.Request, jobID string, started time.Time) Message {
	return Message{Kind: KindTrack, Request: r, BackupJobId: jobID, Started: started}
}

// Select returns a "select" message: a plan's selector to expand again.
func Select(sel backup.Selector, defaults backup.Spec, trig backup.Trigger, askedAt, firstSeen time.Time) Message {
	return Message{Kind: KindSelect, Select: &sel, Defaults: defaults, Trigger: trig, AskedAt: askedAt, FirstSeen: firstSeen}
}

// Outcome returns an "outcome" message parking a CloudEvents JSON object.
func Outcome(event []byte) Message {
	return Message{Kind: KindOutcome, Event: json.RawMessage(event)}
}

// Plan returns a "plan" message.
func Plan(reqs []backup.Request) Message { return Message{Kind: KindPlan, Requests: reqs} }

// wire is the JSON form. Pointers and omitempty keep each kind's message
// free of the other kinds' keys.
type wire struct {
	V           int                   `json:"v"`
	Kind        Kind                  `json:"kind"`
	Request     *backup.Request       `json:"request,omitempty"`
	Attempts    []backup.Attempt      `json:"attempts,omitempty"`
	FirstSeen   *time.Time            `json:"firstSeen,omitempty"`
	BackupJobId string                `json:"backupJobId,omitempty"`
	Started     *time.Time            `json:"started,omitempty"`
	Checks      int                   `json:"checks,omitempty"`
	LastStatus  string                `json:"lastStatus,omitempty"`
	LastProcess string                `json:"lastProcess,omitempty"`
	Event       json.RawMessage       `json:"event,omitempty"`
	Requests    []backup.Request      `json:"requests,omitempty"`
	Facts       *backup.InstanceFacts `json:"facts,omitempty"`
	Select      *backup.Selector      `json:"select,omitempty"`
	Defaults    *backup.Spec          `json:"defaults,omitempty"`
	Trigger     *backup.Trigger       `json:"trigger,omitempty"`
	AskedAt     *time.Time            `json:"askedAt,omitempty"`
	Page        int                   `json:"page,omitempty"`
	Run         *backup.RunSummary    `json:"run,omitempty"`
	Step        string                `json:"step,omitempty"`
	SpecsGz     []byte                `json:"specsGz,omitempty"`
	Note        string                `json:"note,omitempty"`
}

// fields lists, per kind, the keys a message may carry beyond v and kind;
// required ones are marked.
var fields = map[Kind]map[string]bool{
	KindBackup:  {"request": true, "attempts": false, "firstSeen": true, "facts": false, "note": false},
	KindSelect:  {"select": true, "defaults": false, "trigger": true, "askedAt": false, "firstSeen": true, "page": false, "run": false, "step": false, "attempts": false, "note": false},
	KindTrack:   {"request": true, "backupJobId": true, "started": true, "checks": false, "lastStatus": false, "lastProcess": false, "note": false},
	KindOutcome: {"event": true, "note": false},
	KindPlan:    {"requests": false, "specsGz": false, "select": false, "defaults": false, "trigger": false, "askedAt": false, "firstSeen": false, "page": false, "run": false, "step": false, "note": false},
}

// DecodeError is a message that is not a valid envelope; Field names the
// key at fault ("" for the body as a whole).
type DecodeError struct {
	Field  string
	Reason string
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return "workqueue: " + e.Reason
	}
	return fmt.Sprintf("workqueue: %s: %s", e.Field, e.Reason)
}

func fieldErr(field, format string, args ...any) error {
	return &DecodeError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// IsEnvelope reports whether body is a JSON object with the top-level keys
// "v" and "kind", i.e. meant as an internal message (it may still fail to
// Decode). A user's backup request never has those keys. It is the check the
// MNS decoder uses to route messages (events.IsEnvelope), so the two cannot
// disagree.
func IsEnvelope(body []byte) bool { return events.IsEnvelope(body) }

// Decode parses an internal message strictly. It does not authenticate:
// a sealed envelope's seal is set aside unchecked, so that tests and tools
// can read the queue. The functions use Sealer.Open.
func Decode(body []byte) (Message, error) {
	body = Unseal(bytes.TrimSpace(body))
	if len(body) == 0 || body[0] != '{' {
		return Message{}, fieldErr("", "body must be a JSON object")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return Message{}, fieldErr("", "invalid JSON: %v", err)
	}
	rawV, ok := keys["v"]
	if !ok {
		return Message{}, fieldErr("v", "required (the envelope version, %d)", Version)
	}
	var v int
	if err := json.Unmarshal(rawV, &v); err != nil {
		return Message{}, fieldErr("v", "must be a number, got %s", rawV)
	}
	if v != Version {
		return Message{}, fieldErr("v", "unsupported envelope version %d (this build reads %d)", v, Version)
	}
	rawKind, ok := keys["kind"]
	if !ok {
		return Message{}, fieldErr("kind", "required (one of %s)", kindList())
	}
	var kind Kind
	if err := json.Unmarshal(rawKind, &kind); err != nil {
		return Message{}, fieldErr("kind", "must be a string, got %s", rawKind)
	}
	allowed, ok := fields[kind]
	if !ok {
		return Message{}, fieldErr("kind", "unknown kind %q (one of %s)", kind, kindList())
	}
	for _, k := range sortedKeys(keys) {
		if k == "v" || k == "kind" {
			continue
		}
		if _, ok := allowed[k]; !ok {
			if isField(k) {
				return Message{}, fieldErr(k, "not allowed in a %q message", kind)
			}
			return Message{}, fieldErr(k, "unknown field")
		}
	}
	for _, k := range []string{"firstSeen", "started", "askedAt"} {
		if raw, ok := keys[k]; ok {
			var t time.Time
			if err := json.Unmarshal(raw, &t); err != nil {
				return Message{}, fieldErr(k, "must be an RFC 3339 time string, got %s", raw)
			}
		}
	}
	for _, k := range sortedKeys(allowed) {
		if _, present := keys[k]; allowed[k] && !present {
			return Message{}, fieldErr(k, "required in a %q message", kind)
		}
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Message{}, jsonErr(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Message{}, fieldErr("", "trailing data after the JSON object")
	}
	m := fromWire(w)
	if len(w.SpecsGz) > 0 {
		specs, err := unpackSpecs(w.SpecsGz)
		if err != nil {
			return Message{}, err
		}
		m.Specs = specs
	}
	if err := m.validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isField(k string) bool {
	for _, f := range fields {
		if _, ok := f[k]; ok {
			return true
		}
	}
	return false
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// jsonErr names the field of a decoding error.
func jsonErr(err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		f := ute.Field
		if f == "" {
			f = "body"
		}
		return fieldErr(f, "must be a JSON %s, got %s", ute.Type.Kind(), ute.Value)
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fieldErr(strings.Trim(name, `"`), "unknown field")
	}
	return fieldErr("", "%v", err)
}

func fromWire(w wire) Message {
	m := Message{
		Kind:        w.Kind,
		Attempts:    w.Attempts,
		BackupJobId: w.BackupJobId,
		Checks:      w.Checks,
		LastStatus:  w.LastStatus,
		LastProcess: w.LastProcess,
		Event:       w.Event,
		Requests:    w.Requests,
		Facts:       w.Facts,
		Select:      w.Select,
		Page:        w.Page,
		Run:         w.Run,
		Step:        w.Step,
		Note:        w.Note,
	}
	if w.Defaults != nil {
		m.Defaults = *w.Defaults
	}
	if w.Trigger != nil {
		m.Trigger = *w.Trigger
	}
	if w.AskedAt != nil {
		m.AskedAt = *w.AskedAt
	}
	if w.Request != nil {
		m.Request = *w.Request
	}
	if w.FirstSeen != nil {
		m.FirstSeen = *w.FirstSeen
	}
	if w.Started != nil {
		m.Started = *w.Started
	}
	return m
}

func (m Message) toWire() wire {
	w := wire{V: Version, Kind: m.Kind, Note: m.Note}
	utc := func(t time.Time) *time.Time { u := t.UTC(); return &u }
	switch m.Kind {
	case KindBackup:
		r := m.Request
		w.Request, w.Attempts, w.FirstSeen, w.Facts = &r, m.Attempts, utc(m.FirstSeen), m.Facts
	case KindSelect:
		d, t := m.Defaults, m.Trigger
		w.Select, w.Trigger, w.FirstSeen, w.Page, w.Run, w.Step = m.Select, &t, utc(m.FirstSeen), m.Page, m.Run, m.Step
		w.Attempts = m.Attempts // the page's failed reads so far
		if d != (backup.Spec{}) {
			w.Defaults = &d
		}
		if !m.AskedAt.IsZero() {
			w.AskedAt = utc(m.AskedAt)
		}
	case KindTrack:
		r := m.Request
		w.Request, w.BackupJobId, w.Started = &r, m.BackupJobId, utc(m.Started)
		w.Checks, w.LastStatus, w.LastProcess = m.Checks, m.LastStatus, m.LastProcess
	case KindOutcome:
		w.Event = m.Event
	case KindPlan:
		w.Requests, w.Select, w.Run, w.Page, w.Step = m.Requests, m.Select, m.Run, m.Page, m.Step
		if len(m.Specs) > 0 {
			w.SpecsGz = packSpecs(m.Specs)
		}
		if m.Trigger != (backup.Trigger{}) {
			t := m.Trigger
			w.Trigger = &t
		}
		if d := m.Defaults; m.Select != nil && d != (backup.Spec{}) {
			w.Defaults = &d
		}
		if !m.AskedAt.IsZero() {
			w.AskedAt = utc(m.AskedAt)
		}
		if !m.FirstSeen.IsZero() {
			w.FirstSeen = utc(m.FirstSeen)
		}
	}
	return w
}

// validate checks what both Encode and Decode require of a kind.
// validStep is a step id's grammar: up to 4 dot-separated parts of 1-8
// lower-case letters and digits ("0", "0.c3", "p7"). Written by hand, not
// as a regular expression compiled when the functions start.
func validStep(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if len(p) < 1 || len(p) > 8 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
				return false
			}
		}
	}
	return true
}

func (m Message) validate() error {
	if m.Step != "" && !validStep(m.Step) {
		return fieldErr("step", "must be a step id: up to 4 dot-separated parts of 1-8 lower-case letters and digits")
	}
	switch m.Kind {
	case KindBackup:
		if m.Request.DBInstanceId == "" {
			return fieldErr("request.DBInstanceId", "required")
		}
		if m.FirstSeen.IsZero() {
			return fieldErr("firstSeen", "required in a %q message", m.Kind)
		}
	case KindTrack:
		if m.Request.DBInstanceId == "" {
			return fieldErr("request.DBInstanceId", "required")
		}
		if m.BackupJobId == "" {
			return fieldErr("backupJobId", "required in a %q message", m.Kind)
		}
		if !backup.ValidJobID(m.BackupJobId) {
			return fieldErr("backupJobId", "%s", backup.JobIdRule)
		}
		if m.Started.IsZero() {
			return fieldErr("started", "required in a %q message", m.Kind)
		}
		if m.Checks < 0 {
			return fieldErr("checks", "must not be negative, got %d", m.Checks)
		}
	case KindOutcome:
		ev := bytes.TrimSpace(m.Event)
		if len(ev) == 0 || ev[0] != '{' || !json.Valid(ev) {
			return fieldErr("event", "must be a JSON object (the CloudEvents event)")
		}
	case KindSelect:
		if m.Select == nil {
			return fieldErr("select", "required in a %q message", m.Kind)
		}
		if m.FirstSeen.IsZero() {
			return fieldErr("firstSeen", "required in a %q message", m.Kind)
		}
	case KindPlan:
		if len(m.Requests) == 0 && len(m.Specs) == 0 && m.Select == nil {
			return fieldErr("requests", "must list at least one request (or specs, or a select)")
		}
		for i, sp := range m.Specs {
			if sp.DBInstanceId == "" {
				return fieldErr(fmt.Sprintf("specs[%d].DBInstanceId", i), "required")
			}
		}
		for i, r := range m.Requests {
			if r.DBInstanceId == "" {
				return fieldErr(fmt.Sprintf("requests[%d].DBInstanceId", i), "required")
			}
		}
	default:
		return fieldErr("kind", "unknown kind %q (one of %s)", m.Kind, kindList())
	}
	return nil
}

// ErrTooLarge is returned (wrapped) by Encode when a message cannot be made
// to fit MaxBytes.
var ErrTooLarge = errors.New("workqueue: message larger than the 64 KiB MNS limit")

// Encode validates m and returns its JSON body. A "backup" message over
// MaxBytes has its attempts trimmed (see TrimAttempts) and a note added;
// any other message over the limit is an error wrapping ErrTooLarge.
func Encode(m Message) (string, error) {
	if err := m.validate(); err != nil {
		return "", err
	}
	b, err := marshal(m.toWire())
	if err != nil {
		return "", fmt.Errorf("workqueue: encode %s message: %w", m.Kind, err)
	}
	if len(b) > MaxBytes-sealOverhead && m.Kind == KindBackup && len(m.Attempts) > 2 {
		var note string
		m.Attempts, note = TrimAttempts(m.Attempts)
		m.Note = backup.JoinNote(m.Note, note)
		if b, err = marshal(m.toWire()); err != nil {
			return "", fmt.Errorf("workqueue: encode %s message: %w", m.Kind, err)
		}
	}
	if len(b) > MaxBytes-sealOverhead { // room for the seal (seal.go)
		return "", fmt.Errorf("%w: a %q message of %d bytes", ErrTooLarge, m.Kind, len(b))
	}
	return string(b), nil
}

// marshal is json.Marshal without HTML escaping, so that a parked event's
// "<", ">" and "&" stay as they were published.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// TrimAttempts shortens an attempt list to its first and last attempts and
// returns a note saying how many were dropped. Lists of two or fewer are
// returned as they are, with an empty note.
func TrimAttempts(a []backup.Attempt) ([]backup.Attempt, string) {
	if len(a) <= 2 {
		return a, ""
	}
	out := []backup.Attempt{a[0], a[len(a)-1]}
	return out, fmt.Sprintf("attempts trimmed to fit the 64 KiB MNS message limit: kept the first and the last of %d (%d dropped)", len(a), len(a)-2)
}

// SplitPlan cuts reqs into "plan" messages of at most perMessage requests
// (all in one when perMessage <= 0) that each encode within MaxBytes,
// halving a chunk that does not fit. Order is kept.
func SplitPlan(reqs []backup.Request, perMessage int) ([]Message, error) {
	if perMessage <= 0 {
		perMessage = max(len(reqs), 1)
	}
	var out []Message
	var add func(chunk []backup.Request) error
	add = func(chunk []backup.Request) error {
		m := Plan(chunk)
		_, err := Encode(m)
		switch {
		case err == nil:
			out = append(out, m)
			return nil
		case errors.Is(err, ErrTooLarge) && len(chunk) > 1:
			h := len(chunk) / 2
			if err := add(chunk[:h]); err != nil {
				return err
			}
			return add(chunk[h:])
		}
		return err
	}
	for c := range slices.Chunk(reqs, perMessage) {
		if err := add(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// packSpecs is the gzip of the specs' JSON (an array).
func packSpecs(specs []backup.Spec) []byte {
	b, _ := json.Marshal(specs)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// unpackSpecs reverses packSpecs, refusing more than 1 MiB of JSON.
func unpackSpecs(b []byte) ([]backup.Spec, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fieldErr("specsGz", "not gzip: %v", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, 1<<20+1))
	if err != nil || len(raw) > 1<<20 {
		return nil, fieldErr("specsGz", "unreadable or over 1 MiB")
	}
	var specs []backup.Spec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&specs); err != nil {
		return nil, fieldErr("specsGz", "not a JSON array of backups: %v", err)
	}
	return specs, nil
}

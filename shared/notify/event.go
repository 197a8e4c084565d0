package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// Contract constants (DESIGN.md §6).
const (
	SpecVersion     = "1.0"
	DataContentType = "application/json"
	// SchemaVersion is data.schemaVersion; DataSchema is the versioned URI
	// of the same schema. A change that removes or renames a field, or
	// changes its meaning, bumps both.
	SchemaVersion = 1
	DataSchema    = "https://github.com/fc-rds-backup/fc-rds-backup/schemas/outcome/v1"
	// SourcePrefix is the product part of source; the function name follows.
	SourcePrefix = "fc-rds-backup"
	// TypePrefix is the type without the status.
	TypePrefix = "rds.backup."
)

// Event is one outcome as a CloudEvents 1.0 structured-mode JSON object.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	DataSchema      string    `json:"dataschema"`
	Data            Data      `json:"data"`
}

// Data is the event's data. Every key is always present, so consumers see
// the whole schema in every message: an unknown string is "", an absent
// error or notBefore is null, no attempts is [].
type Data struct {
	SchemaVersion  int           `json:"schemaVersion"`
	Status         backup.Status `json:"status"`
	Terminal       bool          `json:"terminal"`
	Request        RequestData   `json:"request"`
	BackupJobId    string        `json:"backupJobId"`
	RequestId      string        `json:"requestId"`
	BackupStatus   string        `json:"backupStatus"`
	Process        string        `json:"process"`
	BackupId       string        `json:"backupId"`
	Attempts       []Attempt     `json:"attempts"`
	Error          *ErrorData    `json:"error"`
	Trigger        TriggerData   `json:"trigger"`
	CorrelationId  string        `json:"correlationId"`
	IdempotencyKey string        `json:"idempotencyKey"`
	AskedAt        *time.Time    `json:"askedAt"`
	NotBefore      *time.Time    `json:"notBefore"`
	Note           string        `json:"note"`
	// Run is the summary of a plan run, in rds.backup.run events only
	// (null in every outcome).
	Run *RunData `json:"run"`
}

// RunData is what a plan run came to (backup.RunSummary).
type RunData struct {
	Items    int            `json:"items"`    // asks the plan made
	Verdict  string         `json:"verdict"`  // complete, partial or failed (backup.RunSummary.Verdict)
	Counts   map[string]int `json:"counts"`   // first outcome per ask, per status (every status listed)
	Problems []RunProblem   `json:"problems"` // the asks rejected or failed, at most 50
	More     int            `json:"more"`     // problems beyond those listed
	// Targets counts the first outcomes per "<account>/<region>" (account
	// "own" for the functions' own) and status, every status listed.
	Targets map[string]map[string]int `json:"targets"`
	// Accounts are the member accounts the run could not act in (their
	// role could not be assumed), each with STS's code and its asks.
	Accounts []RunAccount `json:"accounts"`
}

// RunProblem is one ask of a run that was rejected or failed.
type RunProblem struct {
	DBInstanceId string `json:"DBInstanceId"`
	AccountId    string `json:"AccountId"` // "" the functions' own account
	RegionId     string `json:"RegionId"`
	Status       string `json:"status"`
	Code         string `json:"code"`
	Message      string `json:"message"`
}

// RunAccount is a member account a run could not act in.
type RunAccount struct {
	AccountId string `json:"AccountId"`
	Code      string `json:"code"`
	Asks      int    `json:"asks"`
}

// TypeRun is the type of a plan run's summary event.
const TypeRun = TypePrefix + "run"

// StatusRun is data.status of a run summary.
const StatusRun backup.Status = "run"

// RunEventID is the id of a run's summary: one per run, however often the
// last step of the run is delivered.
func RunEventID(runKey string) string { return backup.Key(SourcePrefix+"/run/v1", runKey) }

// BuildRunEvent is the rds.backup.run event of a finished plan run: subject
// the plan's source (the timer trigger's name, the queue), data.run the
// counts. It is never terminal: it ends no ask.
func BuildRunEvent(function string, s backup.RunSummary, askedAt, now time.Time) Event {
	counts := map[string]int{}
	for _, st := range backup.Statuses {
		counts[string(st)] = s.Counts[st]
	}
	run := &RunData{Items: s.Items, Verdict: s.Verdict(), Counts: counts, Problems: []RunProblem{}, More: s.More,
		Targets: map[string]map[string]int{}, Accounts: []RunAccount{}}
	for _, p := range s.Problems {
		run.Problems = append(run.Problems, RunProblem{DBInstanceId: p.DBInstanceId, AccountId: p.AccountId, RegionId: p.RegionId,
			Status: string(p.Status), Code: p.Code, Message: p.Message})
	}
	for k, byStatus := range s.Targets {
		t := map[string]int{}
		for _, st := range backup.Statuses {
			t[string(st)] = byStatus[st]
		}
		run.Targets[k] = t
	}
	for _, a := range s.Accounts {
		run.Accounts = append(run.Accounts, RunAccount{AccountId: a.AccountId, Code: a.Code, Asks: a.Asks})
	}
	d := Data{
		SchemaVersion:  SchemaVersion,
		Status:         StatusRun,
		Attempts:       []Attempt{},
		Trigger:        TriggerData{Kind: s.Trigger.Kind, Source: s.Trigger.Source, DeliveryId: s.Trigger.DeliveryId},
		CorrelationId:  correlation(s.Key),
		IdempotencyKey: s.Key,
		Note:           fmt.Sprintf("plan run: %d asks, each counted by its first outcome; %s", s.Items, s.Verdict()),
		Run:            run,
	}
	if !askedAt.IsZero() {
		at := askedAt.UTC()
		d.AskedAt = &at
	}
	subject := s.Trigger.Source
	if subject == "" {
		subject = s.Trigger.Kind
	}
	return Event{SpecVersion: SpecVersion, ID: RunEventID(s.Key), Source: Source(function), Type: TypeRun, Subject: subject,
		Time: now.UTC(), DataContentType: DataContentType, DataSchema: DataSchema, Data: d}
}

func correlation(key string) string {
	if len(key) > 16 {
		return key[:16]
	}
	return key
}

// RequestData is the request with the CreateBackup API's parameter names;
// DBName is the API's comma-separated list.
type RequestData struct {
	AccountId      string `json:"AccountId"` // the member account (DESIGN.md §10); "" the functions' own
	DBInstanceId   string `json:"DBInstanceId"`
	DBName         string `json:"DBName"`
	BackupStrategy string `json:"BackupStrategy"`
	BackupMethod   string `json:"BackupMethod"`
	BackupType     string `json:"BackupType"`
	RegionId       string `json:"RegionId"`
}

// Attempt is one try at an RDS call.
type Attempt struct {
	Time      time.Time `json:"time"`
	Action    string    `json:"action"`
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	Retryable bool      `json:"retryable"`
	Class     string    `json:"class"`
	RequestId string    `json:"requestId"`
}

// ErrorData is the error that decided the outcome.
type ErrorData struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
	Field     string `json:"field"`
}

// TriggerData says where the request came from.
type TriggerData struct {
	Kind       string `json:"kind"`
	Source     string `json:"source"`
	DeliveryId string `json:"deliveryId"`
}

// Terminal reports whether an outcome of status s ends its request, given
// what the producer said: rejected, failed and completed always do,
// deferred never does, accepted and coalesced do when the job is not
// tracked to completion (the producer's terminal flag).
func Terminal(s backup.Status, producer bool) bool {
	switch s {
	case backup.StatusRejected, backup.StatusFailed, backup.StatusCompleted:
		return true
	case backup.StatusDeferred:
		return false
	}
	return producer
}

// EventID is the deterministic id of an outcome, so consumers can drop
// duplicates (DESIGN.md §2, one story per ask):
//
//   - a terminal outcome's id depends only on the ask (its idempotency key)
//     and its verdict: "satisfied" (accepted or coalesced when final,
//     completed), "rejected" or "failed". However often and by however many
//     deliveries of the ask it is built, the same verdict has the same id:
//     a redelivered ask that finds the job its first delivery created, or
//     the set that job made, publishes the id its first delivery would have.
//     (A finished set carries no job id, so the job cannot be part of it.)
//     Two distinct terminal ids for one ask are two different verdicts: a
//     bug, never a duplicate.
//   - a non-terminal outcome's id depends on the ask, its status and its
//     job; a deferred one also on the time of its last attempt (or its
//     notBefore), because one ask may be deferred more than once.
func EventID(o backup.Outcome) string {
	key := o.Request.IdempotencyKey
	if key == "" {
		key = "correlation:" + o.Request.CorrelationId
	}
	if o.Request.IdempotencyKey == "" && o.Request.CorrelationId == "" {
		key = "instance:" + o.Request.DBInstanceId
	}
	if Terminal(o.Status, o.Terminal) {
		return backup.Key(SourcePrefix+"/outcome/v2", key, "terminal", Verdict(o.Status))
	}
	var extra string
	if o.Status == backup.StatusDeferred {
		switch {
		case len(o.Attempts) > 0:
			extra = o.Attempts[len(o.Attempts)-1].Time.UTC().Format(time.RFC3339Nano)
		case !o.NotBefore.IsZero():
			extra = o.NotBefore.UTC().Format(time.RFC3339Nano)
		}
	}
	return backup.Key(SourcePrefix+"/outcome/v1", key, string(o.Status), o.BackupJobId, extra)
}

// Verdict is what a terminal outcome says of its ask: "satisfied" (a
// backup was made or found), "rejected" or "failed".
func Verdict(s backup.Status) string {
	switch s {
	case backup.StatusRejected, backup.StatusFailed:
		return string(s)
	}
	return "satisfied"
}

// Source returns the CloudEvents source of a function's outcomes.
func Source(function string) string {
	if function == "" {
		return SourcePrefix
	}
	return SourcePrefix + "/" + function
}

// BuildEvent turns an outcome into its event. It is pure except for one
// thing: an outcome without a Time is stamped with the current time.
func BuildEvent(function string, o backup.Outcome) Event {
	t := o.Time
	if t.IsZero() {
		t = time.Now()
	}
	r := o.Request
	d := Data{
		SchemaVersion: SchemaVersion,
		Status:        o.Status,
		Terminal:      Terminal(o.Status, o.Terminal),
		Request: RequestData{
			AccountId:      r.AccountId,
			DBInstanceId:   r.DBInstanceId,
			DBName:         strings.Join(r.DBName, ","),
			BackupStrategy: r.BackupStrategy,
			BackupMethod:   r.BackupMethod,
			BackupType:     r.BackupType,
			RegionId:       r.RegionId,
		},
		BackupJobId:    o.BackupJobId,
		RequestId:      o.RequestId,
		BackupStatus:   o.BackupStatus,
		Process:        o.Process,
		BackupId:       o.BackupId,
		Attempts:       make([]Attempt, len(o.Attempts)),
		Trigger:        TriggerData{Kind: r.Trigger.Kind, Source: r.Trigger.Source, DeliveryId: r.Trigger.DeliveryId},
		CorrelationId:  r.CorrelationId,
		IdempotencyKey: r.IdempotencyKey,
		Note:           o.Note,
	}
	for i, a := range o.Attempts {
		d.Attempts[i] = Attempt{Time: a.Time.UTC(), Action: a.Action, Code: a.Code, Message: a.Message,
			Retryable: a.Retryable, Class: a.Class, RequestId: a.RequestId}
	}
	if o.Error != nil {
		d.Error = &ErrorData{Code: o.Error.Code, Message: o.Error.Message, Retryable: o.Error.Retryable, Field: o.Error.Field}
	}
	if !o.NotBefore.IsZero() {
		nb := o.NotBefore.UTC()
		d.NotBefore = &nb
	}
	if !r.AskedAt.IsZero() {
		at := r.AskedAt.UTC()
		d.AskedAt = &at
	}
	return Event{
		SpecVersion:     SpecVersion,
		ID:              EventID(o),
		Source:          Source(function),
		Type:            TypePrefix + string(o.Status),
		Subject:         r.DBInstanceId,
		Time:            t.UTC(),
		DataContentType: DataContentType,
		DataSchema:      DataSchema,
		Data:            d,
	}
}

// JSON returns the event's structured-mode JSON (compact, "<>&" not
// escaped).
func (e Event) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("notify: encode event %s: %w", e.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ParseEvent decodes an outcome event strictly (unknown keys are refused)
// and checks the CloudEvents attributes the contract requires.
func ParseEvent(b []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("notify: parse event: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Event{}, errors.New("notify: parse event: trailing data after the JSON object")
	}
	switch {
	case e.SpecVersion != SpecVersion:
		return Event{}, fmt.Errorf("notify: parse event: specversion %q, want %q", e.SpecVersion, SpecVersion)
	case e.ID == "":
		return Event{}, errors.New("notify: parse event: id is empty")
	case !strings.HasPrefix(e.Type, TypePrefix):
		return Event{}, fmt.Errorf("notify: parse event: type %q does not start with %q", e.Type, TypePrefix)
	case !strings.HasPrefix(e.Source, SourcePrefix):
		return Event{}, fmt.Errorf("notify: parse event: source %q does not start with %q", e.Source, SourcePrefix)
	}
	return e, nil
}

package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/plainjson"
)

// Allowed values of the CreateBackup parameters (API page, request parameters).
const (
	MethodLogical  = "Logical"
	MethodPhysical = "Physical"
	MethodSnapshot = "Snapshot"

	StrategyDB       = "db"
	StrategyInstance = "instance"

	TypeAuto       = "Auto"
	TypeFullBackup = "FullBackup"
)

// Engines as DescribeDBInstanceAttribute reports them.
const (
	EngineMySQL      = "MySQL"
	EnginePostgreSQL = "PostgreSQL"
	EngineSQLServer  = "SQLServer"
	EngineMariaDB    = "MariaDB"
)

// Spec is a backup request as a user writes it (DESIGN.md §3, a contract):
// the CreateBackup parameters with the API's own names, plus the region.
// DBName is the API's comma-separated list.
type Spec struct {
	DBInstanceId   string `json:"DBInstanceId,omitempty"`
	BackupMethod   string `json:"BackupMethod,omitempty"`
	BackupStrategy string `json:"BackupStrategy,omitempty"`
	DBName         string `json:"DBName,omitempty"`
	BackupType     string `json:"BackupType,omitempty"`
	RegionId       string `json:"RegionId,omitempty"`
	// AccountId (DESIGN.md §10) is the member account the instance lives
	// in; "" the functions' own.
	AccountId string `json:"AccountId,omitempty"`
}

// Over returns s with every empty field taken from defaults.
func (s Spec) Over(defaults Spec) Spec {
	pick := func(v, d string) string {
		if v != "" {
			return v
		}
		return d
	}
	return Spec{
		DBInstanceId:   pick(s.DBInstanceId, defaults.DBInstanceId),
		BackupMethod:   pick(s.BackupMethod, defaults.BackupMethod),
		BackupStrategy: pick(s.BackupStrategy, defaults.BackupStrategy),
		DBName:         pick(s.DBName, defaults.DBName),
		BackupType:     pick(s.BackupType, defaults.BackupType),
		RegionId:       pick(s.RegionId, defaults.RegionId),
		AccountId:      pick(s.AccountId, defaults.AccountId),
	}
}

// Selector picks instances through DescribeDBInstances: every instance of the
// region that has all Tags (and the Engine, when set). Accounts and
// Regions (DESIGN.md §10) widen it to every (account, region) pair: each
// account (its member role assumed) in each region; without them, the
// own account in RegionId. Regions and RegionId exclude each other.
type Selector struct {
	RegionId string            `json:"RegionId,omitempty"`
	Engine   string            `json:"Engine,omitempty"`
	Tags     map[string]string `json:"Tags,omitempty"`
	Accounts []string          `json:"Accounts,omitempty"`
	Regions  []string          `json:"Regions,omitempty"`
}

// Plan is a list of backups with shared defaults and an optional selector
// (DESIGN.md §3). A single request parses as a Plan with one backup.
type Plan struct {
	Defaults Spec      `json:"Defaults,omitzero"`
	Backups  []Spec    `json:"Backups,omitempty"`
	Select   *Selector `json:"Select,omitempty"`
	// AskedAt (RFC 3339, optional) is when the caller made the ask
	// (DESIGN.md §2): a pipeline that re-POSTs the same ask keeps it, so the
	// repeat is recognised as the same ask. Any form may carry it.
	AskedAt time.Time `json:"AskedAt,omitzero"`
}

// Specs returns the explicit backups with the defaults applied.
func (p Plan) Specs() []Spec {
	out := make([]Spec, len(p.Backups))
	for i, b := range p.Backups {
		out[i] = b.Over(p.Defaults)
	}
	return out
}

// MaxSelectorTags is DescribeDBInstances' limit on the Tags filter.
const MaxSelectorTags = 5

// ParsePlan decodes the request JSON of DESIGN.md §3: one request
// ({"DBInstanceId":...}), a list ({"Backups":[...]}) or a plan with Defaults
// and Select. Unknown fields are refused with their name. The result is not
// yet validated (see Validate); only its shape is checked here.
func ParsePlan(data []byte) (Plan, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return Plan{}, &Violation{Code: CodeMalformed, HTTPStatus: 400, Field: "body", Message: "body: is empty, want a JSON object"}
	}
	if data[0] != '{' {
		return Plan{}, &Violation{Code: CodeMalformed, HTTPStatus: 400, Field: "body", Message: "body: must be a JSON object"}
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return Plan{}, malformed("body", err)
	}
	var askedAt time.Time
	if raw, ok := keys["AskedAt"]; ok {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return Plan{}, &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: "AskedAt", Message: "AskedAt: must be an RFC 3339 time string"}
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Plan{}, &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: "AskedAt",
				Message: "AskedAt: must be an RFC 3339 time such as 2026-11-25T10:00:00Z"}
		}
		askedAt = t.UTC()
		delete(keys, "AskedAt")
		if data, err = json.Marshal(keys); err != nil {
			return Plan{}, malformed("body", err)
		}
	}
	_, hasBackups := keys["Backups"]
	_, hasDefaults := keys["Defaults"]
	_, hasSelect := keys["Select"]
	var p Plan
	if hasBackups || hasDefaults || hasSelect {
		if err := checkPlanKeys(keys); err != nil {
			return Plan{}, err
		}
		if err := decodeStrict(data, &p, ""); err != nil {
			return Plan{}, err
		}
	} else {
		if err := checkKeys(keys, specFields, ""); err != nil {
			return Plan{}, err
		}
		var s Spec
		if err := decodeStrict(data, &s, ""); err != nil {
			return Plan{}, err
		}
		p.Backups = []Spec{s}
	}
	p.AskedAt = askedAt
	if len(p.Backups) == 0 && p.Select == nil {
		return Plan{}, &Violation{Code: CodeRequiredParam, HTTPStatus: 400, Field: "Backups",
			Message: "Backups: a plan needs at least one backup or a Select"}
	}
	// The grammar of the regions a plan names outside its backups (each
	// backup's RegionId is rule R10): the Select's is sent to
	// DescribeDBInstances, and both pick an endpoint.
	if r := p.Defaults.RegionId; r != "" && !ValidRegionID(r) {
		return Plan{}, &Violation{Code: CodeRegionFormat, HTTPStatus: 400, Field: "Defaults.RegionId",
			Message: fmt.Sprintf("Defaults.RegionId %s: %s", Quote(r, 48), RegionIdRule)}
	}
	if p.Select != nil && p.Select.RegionId != "" && !ValidRegionID(p.Select.RegionId) {
		return Plan{}, &Violation{Code: CodeRegionFormat, HTTPStatus: 400, Field: "Select.RegionId",
			Message: fmt.Sprintf("Select.RegionId %s: %s", Quote(p.Select.RegionId, 48), RegionIdRule)}
	}
	// The accounts and regions a plan reaches beyond its own, by grammar
	// (the deployment's allow-lists are Fleet.CheckPlan's).
	if v := checkAccountGrammar("Defaults.AccountId", p.Defaults.AccountId); v != nil {
		return Plan{}, v
	}
	for i, b := range p.Backups {
		if v := checkAccountGrammar(fmt.Sprintf("Backups[%d].AccountId", i), b.AccountId); v != nil {
			return Plan{}, v
		}
	}
	if p.Select != nil {
		if v := checkSelectLists(p.Select); v != nil {
			return Plan{}, v
		}
	}
	if p.Select != nil && len(p.Select.Tags) > MaxSelectorTags {
		return Plan{}, &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: "Select.Tags",
			Message: fmt.Sprintf("Select.Tags: at most %d tags, got %d", MaxSelectorTags, len(p.Select.Tags))}
	}
	if p.Select != nil && p.Select.Engine != "" && !ValidEngine(p.Select.Engine) {
		return Plan{}, &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: "Select.Engine",
			Message: fmt.Sprintf("Select.Engine %s: %s", Quote(p.Select.Engine, 48), EngineRule)}
	}
	if p.Select != nil {
		keys := make([]string, 0, len(p.Select.Tags))
		for k := range p.Select.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !ValidTagKey(k) {
				return Plan{}, &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: "Select.Tags",
					Message: fmt.Sprintf("Select.Tags key %s: %s", Quote(k, 48), TagKeyRule)}
			}
			if v := p.Select.Tags[k]; !ValidTagValue(v) {
				return Plan{}, &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: "Select.Tags",
					Message: fmt.Sprintf("Select.Tags[%s] value %s: %s", Quote(k, 48), Quote(v, 48), TagValueRule)}
			}
		}
	}
	if p.Select != nil && len(p.Select.Tags) == 0 && p.Select.Engine == "" {
		return Plan{}, &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: "Select",
			Message: "Select: needs Tags or Engine; refusing to select every instance of the region"}
	}
	return p, nil
}

// ParseBackups decodes a list of backups as ParsePlan decodes a plan's
// Backups: each key spelled exactly, each field a string, each AccountId
// by its grammar, errors naming "Backups[i].Field" as ParsePlan's do. An
// empty list is no backups. It is for lists read at start-up (a webhook
// route's backups): decoding them as a whole Plan would cost every cold
// start the reflection over the Plan's types, about 0.15 ms.
func ParseBackups(list []byte) ([]Spec, error) {
	specs, ok := parsePlainBackups(list)
	if !ok {
		return parseBackupsJSON(list)
	}
	return specs, checkBackupsAccounts(specs)
}

// parsePlainBackups reads list when it is plain JSON (shared/plainjson): a
// list of objects whose keys are Spec's fields, spelled exactly, each
// value a plain string or null (which leaves the field empty, as
// encoding/json does). Anything else is read by parseBackupsJSON, which
// gives the answer or the error it always gave.
func parsePlainBackups(list []byte) ([]Spec, bool) {
	v, ok := plainjson.Parse(list)
	if !ok || v.Kind != plainjson.Array {
		return nil, false
	}
	specs := make([]Spec, 0, len(v.Items))
	for _, item := range v.Items {
		if item.Kind != plainjson.Object {
			return nil, false
		}
		var s Spec
		for i, k := range item.Keys {
			dst := s.field(k)
			val := item.Items[i]
			switch {
			case dst == nil:
				return nil, false
			case val.Kind == plainjson.String:
				*dst = val.Str
			case val.Kind != plainjson.Null:
				return nil, false
			}
		}
		specs = append(specs, s)
	}
	return specs, true
}

// field is the field of s named name exactly (nil for none).
func (s *Spec) field(name string) *string {
	switch name {
	case "DBInstanceId":
		return &s.DBInstanceId
	case "BackupMethod":
		return &s.BackupMethod
	case "BackupStrategy":
		return &s.BackupStrategy
	case "DBName":
		return &s.DBName
	case "BackupType":
		return &s.BackupType
	case "RegionId":
		return &s.RegionId
	case "AccountId":
		return &s.AccountId
	}
	return nil
}

// checkBackupsAccounts checks each spec's AccountId's grammar.
func checkBackupsAccounts(specs []Spec) error {
	for i, b := range specs {
		if v := checkAccountGrammar(fmt.Sprintf("Backups[%d].AccountId", i), b.AccountId); v != nil {
			return v
		}
	}
	return nil
}

// parseBackupsJSON is ParseBackups with encoding/json, for any list.
func parseBackupsJSON(list []byte) ([]Spec, error) {
	data := make([]byte, 0, len(list)+len(`{"Backups":}`))
	data = append(append(append(data, `{"Backups":`...), bytes.TrimSpace(list)...), '}')
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, malformed("Backups", err)
	}
	if err := checkPlanKeys(keys); err != nil {
		return nil, err
	}
	// Decoded field by field, in the document's order, with the types the
	// keys' check already used: a struct's first decode builds encoding/json's
	// reflection of its type, the cost ParseBackups avoids. A type error
	// names the field as the struct's decode would ("Backups.DBName").
	typeErr := func(err error, field string) error {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			e := *ute
			e.Field = field
			return malformed("", &e)
		}
		return malformed("Backups", err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(keys["Backups"], &items); err != nil {
		return nil, typeErr(err, "Backups")
	}
	specs := make([]Spec, 0, len(items))
	var first error // the first type error, as the struct's decode reports it
	for _, item := range items {
		var s Spec
		dec := json.NewDecoder(bytes.NewReader(item))
		if tok, _ := dec.Token(); tok != json.Delim('{') {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(item, &obj); err != nil && first == nil {
				first = typeErr(err, "Backups")
			}
			specs = append(specs, s)
			continue
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, malformed("Backups", err)
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, malformed("Backups", err)
			}
			if err := json.Unmarshal(raw, s.field(tok.(string))); err != nil && first == nil {
				first = typeErr(err, "Backups."+tok.(string))
			}
		}
		specs = append(specs, s)
	}
	if first != nil {
		return nil, first
	}
	if err := checkBackupsAccounts(specs); err != nil {
		return nil, err
	}
	return specs, nil
}

var (
	specFields     = []string{"DBInstanceId", "BackupMethod", "BackupStrategy", "DBName", "BackupType", "RegionId", "AccountId"}
	planFields     = []string{"Defaults", "Backups", "Select"}
	selectorFields = []string{"RegionId", "Engine", "Tags", "Accounts", "Regions"}
)

// checkKeys refuses any key not spelled exactly as allowed (encoding/json
// alone would accept "dbinstanceid" for DBInstanceId).
func checkKeys(keys map[string]json.RawMessage, allowed []string, prefix string) error {
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !slices.Contains(allowed, k) {
			name := FieldName(k) // bounded: a caller chose it
			return &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: prefix + name,
				Message: fmt.Sprintf("%s%s: unknown field (allowed here: %s)", prefix, name, strings.Join(allowed, ", "))}
		}
	}
	return nil
}

// checkObjectKeys applies checkKeys to raw when it is a JSON object; other
// shapes are left for the decoder to refuse with a type error.
func checkObjectKeys(raw json.RawMessage, allowed []string, prefix string) error {
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) != nil {
		return nil
	}
	return checkKeys(keys, allowed, prefix)
}

func checkPlanKeys(keys map[string]json.RawMessage) error {
	if err := checkKeys(keys, planFields, ""); err != nil {
		return err
	}
	if err := checkObjectKeys(keys["Defaults"], specFields, "Defaults."); err != nil {
		return err
	}
	if err := checkObjectKeys(keys["Select"], selectorFields, "Select."); err != nil {
		return err
	}
	var list []json.RawMessage
	if json.Unmarshal(keys["Backups"], &list) == nil {
		for i, raw := range list {
			if err := checkObjectKeys(raw, specFields, fmt.Sprintf("Backups[%d].", i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func decodeStrict(data []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(prefix, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Violation{Code: CodeMalformed, HTTPStatus: 400, Field: "body", Message: "body: trailing data after the JSON object"}
	}
	return nil
}

func malformed(field string, err error) *Violation {
	msg := err.Error()
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case strings.HasPrefix(msg, "json: unknown field "):
		name := strings.TrimPrefix(msg, "json: unknown field ")
		if u, err := strconv.Unquote(name); err == nil {
			name = u
		}
		name = FieldName(name) // bounded: a caller chose it
		return &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: name,
			Message: fmt.Sprintf("%s: unknown field (allowed: DBInstanceId, BackupMethod, BackupStrategy, DBName, BackupType, RegionId, AccountId; in a plan also Defaults, Backups, Select)", name)}
	case errors.As(err, &ute):
		f := Clip(ute.Field, MaxFieldNameLen)
		if f == "" {
			f = "body"
		}
		return &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: f,
			Message: fmt.Sprintf("%s: must be a JSON %s, got %s", f, jsonKind(ute.Type.Kind().String()), Clip(ute.Value, 32))}
	case errors.As(err, &se):
		return &Violation{Code: CodeMalformed, HTTPStatus: 400, Field: "body",
			Message: fmt.Sprintf("body: invalid JSON at byte %d: %v", se.Offset, err)}
	}
	if field == "" {
		field = "body"
	}
	return &Violation{Code: CodeMalformed, HTTPStatus: 400, Field: field, Message: field + ": " + Clip(msg, 200)}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	}
	return k
}

// Trigger says where a request came from.
type Trigger struct {
	Kind       string `json:"kind"`                 // timer, mns, http, github, gitlab, jira, token, signed, fanout, deferred
	Source     string `json:"source,omitempty"`     // trigger name, queue, repository, route...
	DeliveryId string `json:"deliveryId,omitempty"` // message id, X-GitHub-Delivery, trigger time...
}

// Request is one normalized backup request (an ask): the five CreateBackup parameters
// (DBName as a list), the region, where it came from, an idempotency key (the
// same ask always yields the same key) and a correlation id (follows the
// request through logs and outcomes).
type Request struct {
	DBInstanceId   string   `json:"DBInstanceId"`
	DBName         []string `json:"DBName,omitempty"`
	BackupStrategy string   `json:"BackupStrategy,omitempty"`
	BackupMethod   string   `json:"BackupMethod,omitempty"`
	BackupType     string   `json:"BackupType,omitempty"`
	RegionId       string   `json:"RegionId,omitempty"`
	AccountId      string   `json:"AccountId,omitempty"` // DESIGN.md §10; "" the functions' own
	Trigger        Trigger  `json:"trigger"`
	IdempotencyKey string   `json:"idempotencyKey"`
	CorrelationId  string   `json:"correlationId"`
	// AskedAt is when the ask was made (DESIGN.md §2): it never changes
	// through redeliveries, retries, deferrals, fan-out and tracking, and it
	// alone decides which backups satisfy the ask (Satisfies).
	AskedAt time.Time `json:"askedAt,omitzero"`
}

// FromSpec builds a Request from a user's Spec, splitting DBName on commas
// (names are kept verbatim, empty entries included, so Validate can name them).
func FromSpec(s Spec, t Trigger) Request {
	r := Request{
		DBInstanceId:   s.DBInstanceId,
		BackupStrategy: s.BackupStrategy,
		BackupMethod:   s.BackupMethod,
		BackupType:     s.BackupType,
		RegionId:       s.RegionId,
		AccountId:      s.AccountId,
		Trigger:        t,
	}
	if s.DBName != "" {
		r.DBName = strings.Split(s.DBName, ",")
	}
	return r
}

// Spec returns the request's parameters in the API's form.
func (r Request) Spec() Spec {
	return Spec{
		DBInstanceId:   r.DBInstanceId,
		BackupMethod:   r.BackupMethod,
		BackupStrategy: r.BackupStrategy,
		DBName:         strings.Join(r.DBName, ","),
		BackupType:     r.BackupType,
		RegionId:       r.RegionId,
		AccountId:      r.AccountId,
	}
}

// Method returns the backup method that the API applies: Physical when unset.
func (r Request) Method() string {
	if r.BackupMethod == "" {
		return MethodPhysical
	}
	return r.BackupMethod
}

// Key returns a stable hex key derived from parts (used for idempotency keys
// and correlation ids that must be the same when the same ask is repeated).
func Key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// checkAccountGrammar: an AccountId is "" or an account id.
func checkAccountGrammar(field, account string) *Violation {
	if account == "" || ValidAccountID(account) {
		return nil
	}
	return &Violation{Code: CodeAccountFormat, HTTPStatus: 400, Field: field,
		Message: fmt.Sprintf("%s %s: %s", field, Quote(account, 48), AccountIDRule)}
}

// checkSelectLists holds a Select's Accounts and Regions to their grammar:
// each an account id / region id, no repeats, bounded, and Regions
// instead of RegionId, not with it.
func checkSelectLists(s *Selector) *Violation {
	bad := func(field, msg string) *Violation {
		return &Violation{Code: CodeParametersInvalid, HTTPStatus: 400, Field: field, Message: field + ": " + msg}
	}
	if len(s.Accounts) > MaxSelectAccounts {
		return bad("Select.Accounts", fmt.Sprintf("at most %d accounts, got %d", MaxSelectAccounts, len(s.Accounts)))
	}
	if len(s.Regions) > MaxSelectRegions {
		return bad("Select.Regions", fmt.Sprintf("at most %d regions, got %d", MaxSelectRegions, len(s.Regions)))
	}
	if len(s.Regions) > 0 && s.RegionId != "" {
		return bad("Select.Regions", "name the regions in Regions or one in RegionId, not both")
	}
	for i, a := range s.Accounts {
		field := fmt.Sprintf("Select.Accounts[%d]", i)
		if v := checkAccountGrammar(field, a); v != nil || a == "" {
			if v == nil {
				v = &Violation{Code: CodeAccountFormat, HTTPStatus: 400, Field: field, Message: field + ` "": ` + AccountIDRule}
			}
			return v
		}
		if slices.Contains(s.Accounts[:i], a) {
			return bad(field, fmt.Sprintf("%q is named twice", a))
		}
	}
	for i, r := range s.Regions {
		field := fmt.Sprintf("Select.Regions[%d]", i)
		if !ValidRegionID(r) {
			return &Violation{Code: CodeRegionFormat, HTTPStatus: 400, Field: field,
				Message: fmt.Sprintf("%s %s: %s", field, Quote(r, 48), RegionIdRule)}
		}
		if slices.Contains(s.Regions[:i], r) {
			return bad(field, fmt.Sprintf("%q is named twice", r))
		}
	}
	return nil
}

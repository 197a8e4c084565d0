package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// Token routes (POST /v1/hooks/token/<route name>): for tools that can only
// send a fixed header (Jira Automation's "Send web request", ServiceNow
// outbound REST messages, Opsgenie/PagerDuty actions, in-house tools). The
// route's secret is a bearer token (Authorization: Bearer <token>, or
// Basic base64(<user>:<token>) when the route has a user); the body is
// mapped to an ask with JSON pointers (RFC 6901).
//
// A bearer token binds nothing (not the body, not the time), so a token
// route must name the instances it may touch (allow, never "*"), the
// delivery's identity (id: retries and replays of one delivery are one
// ask) and its time (askedAt, judged by the route's maxAskAge, else
// BACKUP_MAX_ASK_AGE; never unlimited).

// SourceToken is the source of token routes.
const SourceToken = "token"

// KindToken is the trigger kind of requests a token route asked for; the
// trigger's Source is the route's name and its DeliveryId the body's id.
const KindToken = "token"

// HeaderAuthorization carries a token route's credentials.
const HeaderAuthorization = "Authorization"

// TokenWhen is a token route's condition: the body's value at Pointer must
// equal Equals (a string equal to it, or a number or boolean whose JSON
// text is it), else the delivery is 202 ignored.
type TokenWhen struct {
	Pointer string `json:"pointer"`
	Equals  string `json:"equals"`
}

// tokenFields are the route fields only token routes have.
var tokenFields = []string{"user", "instances", "askedAt", "id", "when", "maxAskAge"}

// maxTokenID bounds the body's delivery id (as an Idempotency-Key).
const maxTokenID = maxIdempotencyKey

// parseTokenFields reads the token route fields of a route document and
// refuses them on a route of another source.
func parseTokenFields(keys map[string]json.RawMessage, r *Route, bad func(field, format string, args ...any)) {
	for _, f := range []struct {
		name string
		dst  *string
	}{{"user", &r.User}, {"instances", &r.Instances}, {"askedAt", &r.AskedAt}, {"id", &r.ID}, {"maxAskAge", &r.MaxAskAge}} {
		if v, ok := keys[f.name]; ok && decodeString(v, f.dst) != nil {
			bad(f.name, "must be a string, got %s", clip(string(v), 64))
		}
	}
	if v, ok := keys["when"]; ok && string(bytes.TrimSpace(v)) != "null" {
		w, err := decodeObject(v)
		if err != nil {
			bad("when", `must be an object {"pointer": "/state", "equals": "Implement"}`)
		} else {
			r.When = &TokenWhen{}
			var unknown []string
			for k, raw := range w {
				var dst *string
				switch k {
				case "pointer":
					dst = &r.When.Pointer
				case "equals":
					dst = &r.When.Equals
				default:
					unknown = append(unknown, k)
					continue
				}
				if decodeString(raw, dst) != nil {
					bad("when."+k, "must be a string, got %s", clip(string(raw), 64))
				}
			}
			if len(unknown) > 0 { // one line however many: errors stay bounded
				slices.Sort(unknown)
				bad("when", "unknown field %s%s (allowed: pointer, equals)", backup.Quote(unknown[0], 32), map[bool]string{true: fmt.Sprintf(" and %d more", len(unknown)-1)}[len(unknown) > 1])
			}
		}
	}
	if r.Source == SourceToken {
		return
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"user", r.User != ""}, {"instances", r.Instances != ""}, {"askedAt", r.AskedAt != ""}, {"id", r.ID != ""}, {"when", r.When != nil}, {"maxAskAge", r.MaxAskAge != ""}} {
		if f.set {
			bad(f.name, "only token routes have %s", f.name)
		}
	}
}

// checkTokenRoute validates a token route: its pointers by RFC 6901's
// grammar; instances, id and askedAt required; allow required and never
// "*"; maxAskAge a positive duration when set; backups at most one entry
// without DBInstanceId (the parameters of every mapped instance); the
// fields of other sources refused.
func checkTokenRoute(r *Route, bad func(field, format string, args ...any)) {
	for _, f := range []struct {
		name string
		set  bool
	}{{"repository", r.Repository != ""}, {"organization", r.Organization != ""}, {"environments", len(r.Environments) > 0}, {"stage", r.Stage != ""}} {
		if f.set {
			bad(f.name, "a token route has no %s (the URL names the route: /v1/hooks/token/<name>)", f.name)
		}
	}
	pointer := func(field, v, what string) {
		switch {
		case v == "":
			bad(field, "is required for a token route: the JSON pointer (RFC 6901) to %s, e.g. /sys_id", what)
		case !validPointer(v):
			bad(field, "must be a JSON pointer (RFC 6901: empty or /-separated tokens, ~ only as ~0 or ~1), got %s", backup.Quote(v, 64))
		}
	}
	pointer("instances", r.Instances, "the instance ids (a string of ids separated by commas or spaces, or a list of strings)")
	pointer("id", r.ID, "the delivery's identity (a string or number the same on the sender's retries)")
	pointer("askedAt", r.AskedAt, "when the ask was made (RFC 3339, ServiceNow's 2026-11-24 06:00:00 in UTC, or unix seconds or milliseconds)")
	if r.When != nil {
		pointer("when.pointer", r.When.Pointer, "the value the condition compares")
		if !validStage(r.When.Equals) {
			bad("when.equals", "must be 1-255 characters without control characters, got %s", backup.Quote(r.When.Equals, 64))
		}
	}
	if r.User != "" && (strings.ContainsRune(r.User, ':') || !validStage(r.User)) {
		bad("user", "must be a basic auth user name (no ':', no control characters), got %s", backup.Quote(r.User, 64))
	}
	if r.MaxAskAge != "" {
		if d, err := time.ParseDuration(r.MaxAskAge); err != nil || d <= 0 {
			bad("maxAskAge", "must be a positive duration such as 2h or 30m (a token route's asks are always judged by their age), got %s", backup.Quote(r.MaxAskAge, 32))
		}
	}
	switch {
	case len(r.Allow) == 0:
		bad("allow", "is required for a token route (a bearer token binds nothing: name the instances or patterns it may back up)")
	case allowsAll(r.Allow):
		bad("allow", `may not be "*" on a token route (a leaked token would reach every instance): name the instances or patterns, e.g. rm-shop-*`)
	}
	checkParameters(r.Backups, "a token route", "the body names", "the body (instances)", bad)
}

// checkParameters checks the backups of a route whose instances come
// from the request (a token route's body, a jira route's instancesField):
// at most one entry, without DBInstanceId, whose other fields are the
// parameters of every instance.
func checkParameters(backups []backup.Spec, what, names, from string, bad func(field, format string, args ...any)) {
	switch {
	case len(backups) > 1:
		bad("backups", "%s has at most one entry: the parameters (BackupMethod, ...) of every instance %s", what, names)
	case len(backups) == 1:
		s := backups[0]
		if s.DBInstanceId != "" {
			bad("backups[0].DBInstanceId", "%s's instances come from %s; leave DBInstanceId out", what, from)
			break
		}
		s.DBInstanceId = "rm-token-defaults" // a valid id: the other fields are checked
		if vs := backup.Validate(backup.FromSpec(s, backup.Trigger{})); len(vs) > 0 {
			bad("backups[0]."+vs.First().Field, "%s (%s)", vs.First().Message, vs.First().Code)
		}
	}
}

// backupsChecked are the backups parseRoute checks as requests: the one
// entry of a token route, or of a jira route with instancesField, names
// no instance (checkParameters checks it).
func backupsChecked(r Route) []backup.Spec {
	if r.Source == SourceToken || r.Source == SourceJira && r.InstancesField != "" {
		return nil
	}
	return r.Backups
}

// tokenMaxAskAge is a token route's max ask age: its maxAskAge, else the
// deployment's (BACKUP_MAX_ASK_AGE), else DefaultMaxAskAge (a token route
// is never without one).
func tokenMaxAskAge(r Route, deployment time.Duration) (time.Duration, string) {
	if d, err := time.ParseDuration(r.MaxAskAge); err == nil && d > 0 {
		return d, "the route's maxAskAge"
	}
	if deployment > 0 {
		return deployment, "BACKUP_MAX_ASK_AGE"
	}
	return DefaultMaxAskAge, "the default for token routes; BACKUP_MAX_ASK_AGE=0 does not apply to them"
}

// CheckTokenRoutes reports token routes that would have no max ask age
// (no maxAskAge while BACKUP_MAX_ASK_AGE is 0): the webhook function
// should refuse to start with them. The Handler never serves a token
// route without a limit (it then applies DefaultMaxAskAge).
func CheckTokenRoutes(routes []Route, maxAskAge time.Duration) error {
	var names []string
	for _, r := range routes {
		if r.Source == SourceToken && r.MaxAskAge == "" && maxAskAge <= 0 {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("routes %s: a token route needs a max ask age: set its maxAskAge, or a BACKUP_MAX_ASK_AGE other than 0", strings.Join(names, ", "))
}

// validPointer reports whether p is a JSON pointer (RFC 6901):
// *( "/" reference-token ), "~" only in the escapes ~0 and ~1.
func validPointer(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '~' && (i+1 == len(p) || p[i+1] != '0' && p[i+1] != '1') {
			return false
		}
	}
	return true
}

// resolvePointer returns the value at pointer p (valid, validPointer) in
// doc (decoded with UseNumber), and whether there is one.
func resolvePointer(doc any, p string) (any, bool) {
	if p == "" {
		return doc, true
	}
	cur := doc
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, ok := arrayIndex(tok)
			if !ok || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// arrayIndex parses an RFC 6901 array index: "0" or digits without a
// leading zero ("-", past the end, is never a value).
func arrayIndex(tok string) (int, bool) {
	if tok == "" || len(tok) > 9 || len(tok) > 1 && tok[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, false
		}
		n = n*10 + int(tok[i]-'0')
	}
	return n, true
}

// tokenAsk is what a token route maps a body to.
type tokenAsk struct {
	ID        string
	Instances []string // sorted, without duplicates
	AskedAt   time.Time
}

// tokenUnmet is a body the route's condition does not hold for: the reason.
type tokenUnmet string

// mapTokenBody maps a body with the route's pointers. It returns the ask,
// or the reason the condition is unmet (non-empty: 202 ignored), or a
// violation naming the field (400). Every value of the body that reaches
// a message is clipped and quoted.
func mapTokenBody(r Route, body []byte) (tokenAsk, tokenUnmet, *backup.Violation) {
	bad := func(field, format string, args ...any) (tokenAsk, tokenUnmet, *backup.Violation) {
		return tokenAsk{}, "", &backup.Violation{Code: backup.CodeParametersInvalid, HTTPStatus: 400, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
	}
	missing := func(field, ptr string) (tokenAsk, tokenUnmet, *backup.Violation) {
		return tokenAsk{}, "", &backup.Violation{Code: backup.CodeRequiredParam, HTTPStatus: 400, Field: field,
			Message: fmt.Sprintf("%s: is required: the body has no value at %s (route %s)", field, backup.Quote(ptr, 64), r.Name)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return tokenAsk{}, "", &backup.Violation{Code: backup.CodeMalformed, HTTPStatus: 400, Field: "body", Message: "body: must be JSON"}
	}
	if dec.More() {
		return tokenAsk{}, "", &backup.Violation{Code: backup.CodeMalformed, HTTPStatus: 400, Field: "body", Message: "body: must be one JSON value"}
	}
	if w := r.When; w != nil {
		v, ok := resolvePointer(doc, w.Pointer)
		if !ok {
			return tokenAsk{}, tokenUnmet(fmt.Sprintf("when: the body has no value at %s (route %s acts when it is %s)", backup.Quote(w.Pointer, 64), r.Name, backup.Quote(w.Equals, 64))), nil
		}
		if got, scalar := scalarText(v); !scalar || got != w.Equals {
			shown := "a non-scalar value"
			if scalar {
				shown = backup.Quote(got, 64)
			}
			return tokenAsk{}, tokenUnmet(fmt.Sprintf("when: %s is %s, not %s (route %s)", backup.Quote(w.Pointer, 64), shown, backup.Quote(w.Equals, 64), r.Name)), nil
		}
	}
	var ask tokenAsk
	v, ok := resolvePointer(doc, r.ID)
	if !ok || v == nil {
		return missing("id", r.ID)
	}
	id, scalar := scalarText(v)
	if _, isBool := v.(bool); !scalar || isBool {
		return bad("id", "the value at %s must be a string or a number", backup.Quote(r.ID, 64))
	}
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return missing("id", r.ID)
	case len(id) > maxTokenID || !printable(id):
		return bad("id", "the value at %s must be 1-%d printable ASCII characters, got %s", backup.Quote(r.ID, 64), maxTokenID, backup.Quote(id, 32))
	}
	ask.ID = id

	v, ok = resolvePointer(doc, r.AskedAt)
	if !ok || v == nil {
		return missing("askedAt", r.AskedAt)
	}
	t, err := tokenTime(v)
	if err != "" {
		return bad("askedAt", "the value at %s %s", backup.Quote(r.AskedAt, 64), err)
	}
	ask.AskedAt = t

	v, ok = resolvePointer(doc, r.Instances)
	if !ok || v == nil {
		return missing("instances", r.Instances)
	}
	switch list := v.(type) {
	case string:
		ask.Instances = strings.FieldsFunc(list, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r' })
	case []any:
		for i, e := range list {
			s, isStr := e.(string)
			if !isStr {
				return bad("instances", "the value at %s must be a string or a list of strings; item %d is not a string", backup.Quote(r.Instances, 64), i)
			}
			if s = strings.TrimSpace(s); s != "" {
				ask.Instances = append(ask.Instances, s)
			}
		}
	default:
		return bad("instances", "the value at %s must be a string of instance ids (separated by commas or spaces) or a list of strings", backup.Quote(r.Instances, 64))
	}
	if len(ask.Instances) == 0 {
		return missing("instances", r.Instances)
	}
	slices.Sort(ask.Instances)
	ask.Instances = slices.Compact(ask.Instances)
	return ask, "", nil
}

// scalarText is a string's value, or a number's or boolean's JSON text.
func scalarText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

// ServiceNowTime is the layout of a ServiceNow date-time as its Table API
// returns it without display values (sysparm_display_value=false, the
// default): "2026-12-07 05:13:02", in UTC.
const ServiceNowTime = "2006-01-02 15:04:05"

// tokenTime reads an askedAt value: an RFC 3339 string, ServiceNow's
// "2026-12-07 05:13:02" (UTC), or a number of unix seconds (below 1e11)
// or milliseconds. It returns what is wrong with any other value.
func tokenTime(v any) (time.Time, string) {
	switch t := v.(type) {
	case string:
		s := strings.TrimSpace(t)
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			// No zone: UTC. Strictly the layout (time.Parse alone takes
			// a one-digit hour, extra spaces and fractions).
			if at, err = time.Parse(ServiceNowTime, s); err == nil && at.Format(ServiceNowTime) != s {
				err = errors.New("not " + ServiceNowTime)
			}
		}
		if err != nil {
			return time.Time{}, "must be an RFC 3339 time such as 2026-11-24T06:00:00Z, ServiceNow's 2026-11-24 06:00:00 (UTC), or unix seconds or milliseconds, got " + backup.Quote(t, 40)
		}
		return at.UTC(), ""
	case json.Number:
		f, err := t.Float64()
		if err != nil || f <= 0 || f > 1e15 || math.IsNaN(f) {
			return time.Time{}, "must be unix seconds or milliseconds, got " + backup.Quote(t.String(), 40)
		}
		if f < 1e11 {
			return time.Unix(int64(f), 0).UTC(), ""
		}
		return time.UnixMilli(int64(f)).UTC(), ""
	}
	return time.Time{}, "must be an RFC 3339 string, ServiceNow's 2026-11-24 06:00:00 (UTC), or unix seconds or milliseconds"
}

// tokenRoute is the token route named name, or nil.
func (h *Handler) tokenRoute(name string) *route {
	for _, r := range h.routes {
		if r.Source == SourceToken && r.Name == name {
			return r
		}
	}
	return nil
}

// authToken checks the Authorization header against the named route's
// token (and the token being rotated out): Bearer <token>, or Basic
// base64(<user>:<token>) when the route has a user. Both sides are hashed
// (SHA-256) before a constant-time comparison, so their lengths do not
// leak; an unknown route costs the same comparisons (random keys), and
// every failure gets the one 401 of the other doors.
func (h *Handler) authToken(ev events.HTTPEvent, name string, c *call) (*route, *events.HTTPResponse) {
	rt := h.tokenRoute(name)
	fail := func(reason string) (*route, *events.HTTPResponse) {
		c.route = ""
		c.source = claimed(name)
		r := unauthorized(c, reason, "")
		return nil, &r
	}
	// Always two comparisons (the token and the one being rotated out, or
	// random keys standing in): an unknown route costs what a known one does.
	dummy := h.dummyKeys()
	secrets, user := [][]byte{dummy[0], dummy[1]}, ""
	if rt != nil {
		user = rt.User
		copy(secrets, rt.secrets)
	}
	header := strings.TrimSpace(ev.Header(HeaderAuthorization))
	scheme, cred, _ := strings.Cut(header, " ")
	cred = strings.TrimSpace(cred)
	var presented []byte
	basic := false
	switch {
	case header == "":
		return fail("no Authorization")
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		presented = []byte(cred)
	case strings.EqualFold(scheme, "Basic") && cred != "":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return fail("Authorization: Basic is not base64")
		}
		presented, basic = raw, true
	default:
		return fail("Authorization is not Bearer <token> or Basic <base64>")
	}
	got := sha256.Sum256(presented)
	match := 0
	for _, secret := range secrets {
		want := secret
		if basic {
			want = []byte(user + ":" + string(secret))
		}
		w := sha256.Sum256(want)
		match |= subtle.ConstantTimeCompare(got[:], w[:])
	}
	switch {
	case rt == nil:
		return fail("no token route of that name")
	case basic && rt.User == "":
		return fail("basic auth on a token route without a user")
	case match != 1:
		return fail("token does not match the route's")
	}
	c.route = rt.Name
	return rt, nil
}

// token serves POST /v1/hooks/token/<name>: the route's token, then its
// condition (202 ignored when unmet), then the ask its pointers map:
// identity the route, the body's id and the instance set (a retry or a
// replay of the delivery is the same ask); older than the route's max ask
// age, 202 ignored; every instance by grammar and within allow (400, 403).
func (h *Handler) token(ctx context.Context, ev events.HTTPEvent, body []byte, name string, c *call) events.HTTPResponse {
	rt, fail := h.authToken(ev, name, c)
	if fail != nil {
		return *fail
	}
	ask, unmet, v := mapTokenBody(rt.Route, body)
	switch {
	case v != nil:
		c.reason = "bad request: " + violationReason(v)
		return violationResponse(v, "")
	case unmet != "":
		return ignored(c, string(unmet))
	}
	c.delivery = ask.ID
	c.source = rt.Name
	maxAge, rule := tokenMaxAskAge(rt.Route, h.maxAskAge)
	askedAt := ask.AskedAt
	if askedAt.After(c.received) {
		askedAt = c.received // never later than its arrival
	}
	if age := c.received.Sub(askedAt); age > maxAge {
		return ignored(c, fmt.Sprintf("askedAt %s is %s old, older than the max ask age %s (%s): a delivery this late (a replay or a late retry) makes no backup",
			askedAt.UTC().Format(time.RFC3339), shortDuration(age), shortDuration(maxAge), rule))
	}
	plan := backup.Plan{Backups: make([]backup.Spec, len(ask.Instances))}
	if len(rt.Backups) == 1 {
		plan.Defaults = rt.Backups[0]
		plan.Defaults.DBInstanceId = ""
	}
	for i, id := range ask.Instances {
		plan.Backups[i] = backup.Spec{DBInstanceId: id}
	}
	trig := backup.Trigger{Kind: KindToken, Source: rt.Name, DeliveryId: ask.ID}
	set := backup.Key(ask.Instances...)
	reqs := events.WithAskedAt(events.NormalizePlan(plan, trig, "instances:"+set), askedAt)
	return h.submit(ctx, c, []*route{rt}, plan, trig, reqs)
}

package memberauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	stssdk "github.com/alibabacloud-go/sts-20150401/v2/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// Request names the credential wanted: the role Role of account AccountID,
// assumed with ExternalID, the session named SessionName (the plan run's
// id through SessionName). Every field is checked against its grammar
// before anything else happens.
type Request struct {
	AccountID   string
	Role        string
	ExternalID  string
	SessionName string
}

// Credentials are temporary credentials of a member account's role. The
// secret and the token never print: every fmt verb, slog and encoding/json
// show the key id, the account, the role and the expiry only.
type Credentials struct {
	AccountID   string    `json:"accountId"`
	RoleArn     string    `json:"roleArn"`
	SessionName string    `json:"sessionName"`
	AccessKeyID string    `json:"accessKeyId"`
	Expiration  time.Time `json:"expiration"`
	// AccessKeySecret and SecurityToken sign requests; never log them.
	AccessKeySecret string `json:"-"`
	SecurityToken   string `json:"-"`
}

func (c Credentials) String() string {
	return fmt.Sprintf("memberauth.Credentials{account %s, role %s, key %s, expires %s}",
		c.AccountID, c.RoleArn, c.AccessKeyID, c.Expiration.UTC().Format(time.RFC3339))
}

// Format prints String for every verb (%v, %+v, %#v, %d...), so no verb
// reaches the secret fields.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue is what slog records.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account", c.AccountID), slog.String("roleArn", c.RoleArn),
		slog.String("accessKeyId", c.AccessKeyID), slog.Time("expiration", c.Expiration))
}

// CallerKey is the key AssumeRole is signed with: the functions' own
// credentials (in Function Compute, the invocation context's STS
// credentials). It prints without its secret and token.
type CallerKey struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
}

func (k CallerKey) String() string { return "memberauth.CallerKey{" + k.AccessKeyID + "}" }

// Format prints String for every verb.
func (k CallerKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// Config configures a Broker. Caller is required; the rest have defaults.
type Config struct {
	// Caller returns the key to sign AssumeRole with, called before every
	// call (FC hands each invocation fresh credentials; ctx carries the
	// first asker's values, not its cancellation).
	Caller func(ctx context.Context) (CallerKey, error)
	// Endpoint is the STS endpoint host[:port] (no scheme or path); empty:
	// the SDK's endpoint for RegionID (sts.<region>.aliyuncs.com).
	Endpoint string
	// Protocol is "https" (default) or "http" (the local cloud).
	Protocol string
	// RegionID picks the SDK's endpoint when Endpoint is empty; a region id
	// (backup.RegionIdRule). Default "cn-hangzhou".
	RegionID string

	// Duration is AssumeRole's DurationSeconds: 900s to the role's
	// MaxSessionDuration (3600s unless raised), default 3600s.
	Duration time.Duration
	// RefreshBefore: a credential is handed out until RefreshBefore before
	// its expiry, then replaced. At least 180s (the default); below
	// Duration.
	RefreshBefore time.Duration
	// FailureTTL: a terminal answer about the member account
	// (NoPermission, EntityNotExist.Role...) is given again without a call
	// for this long (default 60s), so a broken account costs one
	// AssumeRole a minute, not one per ask. Answers about the caller's own
	// key (CallerFault) are not remembered: the next invocation's key may
	// be good. Negative: nothing is remembered.
	FailureTTL time.Duration

	// MaxAttempts per refresh (default 5), MaxFlight its whole time,
	// waits included (default 30s, on Now's clock).
	MaxAttempts int
	MaxFlight   time.Duration
	// Policy is the backoff (a zero Policy is retry.DefaultPolicy: full
	// jitter, 200ms doubling up to 5s for throttling, 5xx and transport
	// errors).
	Policy retry.Policy
	// Quota pays for retries (default retry.NewQuota(retry.DefaultQuotaSize),
	// one bucket for every account's refreshes).
	Quota *retry.Quota
	// ConnectTimeout (default 5s, whole seconds) and ReadTimeout (default
	// 10s) bound one AssumeRole call.
	ConnectTimeout, ReadTimeout time.Duration

	// Seams: the clock (time.Now), sleeping between attempts (retry.Sleep;
	// it must honour ctx) and jitter (the Policy's).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
	// OnEvent, when set, is told what the broker does (for log lines and
	// tests). It is called without any lock held and must not block long.
	OnEvent func(Event)
}

// Defaults.
const (
	DefaultDuration      = time.Hour
	DefaultRefreshBefore = 180 * time.Second
	DefaultFailureTTL    = time.Minute
	DefaultMaxAttempts   = 5
	DefaultMaxFlight     = 30 * time.Second
	DefaultRegion        = "cn-hangzhou"
	minDuration          = 900 * time.Second
	maxDuration          = 43200 * time.Second
)

// EventKind says what happened.
type EventKind string

// Events, in the order one refresh tells them: EventCall before each
// AssumeRole, EventRetry before each wait, then EventIssued or EventFailed.
// EventHit: a credential from the cache; EventRemembered: a terminal
// answer from the cache; EventJoin: an asker waits for a refresh already
// under way.
const (
	EventHit        EventKind = "hit"
	EventJoin       EventKind = "join"
	EventCall       EventKind = "call"
	EventRetry      EventKind = "retry"
	EventIssued     EventKind = "issued"
	EventFailed     EventKind = "failed"
	EventRemembered EventKind = "remembered"
)

// Event is one thing the broker did, for one (account, role). It holds no
// secret.
type Event struct {
	Kind    EventKind
	Account string
	Role    string
	Attempt int           // EventCall, EventRetry, EventFailed
	Code    string        // EventRetry, EventFailed, EventRemembered
	Delay   time.Duration // EventRetry
	Expires time.Time     // EventIssued, EventHit
}

// Broker hands out member-account credentials: one per (account, role,
// ExternalId) per process, reused until RefreshBefore before its expiry,
// refreshed by one AssumeRole however many ask at once. It is safe for
// concurrent use; its lock is never held over a call, so an account whose
// STS calls hang or fail delays no other account.
type Broker struct {
	cfg Config

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	cred      Credentials
	has       bool
	fail      *Error // a terminal answer, until failUntil
	failUntil time.Time
	flight    *flight
}

type flight struct {
	done chan struct{}
	cred Credentials
	err  error
}

// New checks cfg and returns a Broker. It does no I/O.
func New(cfg Config) (*Broker, error) {
	if cfg.Caller == nil {
		return nil, errors.New("memberauth: Config.Caller is required (the functions' own key signs AssumeRole)")
	}
	if cfg.Endpoint != "" && (strings.Contains(cfg.Endpoint, "://") || strings.ContainsAny(cfg.Endpoint, "/?#@ ")) {
		return nil, fmt.Errorf("memberauth: Config.Endpoint %s: must be host[:port] without scheme, path or user", quote(cfg.Endpoint))
	}
	cfg.Protocol = strings.ToLower(cfg.Protocol)
	switch cfg.Protocol {
	case "":
		cfg.Protocol = "https"
	case "http", "https":
	default:
		return nil, fmt.Errorf("memberauth: Config.Protocol %s: must be http or https", quote(cfg.Protocol))
	}
	if cfg.RegionID == "" {
		cfg.RegionID = DefaultRegion
	}
	if !backup.ValidRegionID(cfg.RegionID) {
		return nil, fmt.Errorf("memberauth: Config.RegionID %s: %s", quote(cfg.RegionID), backup.RegionIdRule)
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Duration < minDuration || cfg.Duration > maxDuration || cfg.Duration%time.Second != 0 {
		return nil, fmt.Errorf("memberauth: Config.Duration %v: must be whole seconds from 900s to 43200s", cfg.Duration)
	}
	if cfg.RefreshBefore == 0 {
		cfg.RefreshBefore = DefaultRefreshBefore
	}
	if cfg.RefreshBefore < DefaultRefreshBefore || cfg.RefreshBefore >= cfg.Duration {
		return nil, fmt.Errorf("memberauth: Config.RefreshBefore %v: must be at least 180s and below Duration (%v)", cfg.RefreshBefore, cfg.Duration)
	}
	if cfg.FailureTTL == 0 {
		cfg.FailureTTL = DefaultFailureTTL
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxFlight <= 0 {
		cfg.MaxFlight = DefaultMaxFlight
	}
	if zeroBackoff(cfg.Policy.Transient) && zeroBackoff(cfg.Policy.StateWait) {
		cfg.Policy = retry.DefaultPolicy
	}
	if cfg.Quota == nil {
		cfg.Quota = retry.NewQuota(retry.DefaultQuotaSize)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = retry.Sleep
	}
	return &Broker{cfg: cfg, entries: map[string]*entry{}}, nil
}

func zeroBackoff(b retry.Backoff) bool { return b.Base == 0 && b.Max == 0 }

// Check reports the first field of r outside its grammar, as an *Error
// with Code CodeInvalidInput naming the field and the rule; nil if r is
// well formed.
func (r Request) Check() error {
	refuse := func(field, value, rule string) error {
		acct, role := r.AccountID, r.Role
		if !ValidAccountID(acct) {
			acct = quote(acct)
		}
		if !ValidRoleName(role) {
			role = quote(role)
		}
		if value != "" {
			value = " " + value
		}
		return &Error{Account: acct, Role: role, Code: CodeInvalidInput, Message: field + value + ": " + rule}
	}
	switch {
	case !ValidAccountID(r.AccountID):
		return refuse("AccountID", quote(r.AccountID), AccountIDRule)
	case !ValidRoleName(r.Role):
		return refuse("Role", quote(r.Role), RoleNameRule)
	case !ValidExternalID(r.ExternalID):
		return refuse("ExternalID", fmt.Sprintf("(value not shown, %d characters)", len(r.ExternalID)), ExternalIDRule)
	case !ValidSessionName(r.SessionName):
		return refuse("SessionName", quote(r.SessionName), SessionNameRule+" (use SessionName(runID))")
	}
	return nil
}

// Get returns the credential of r's role: the one held when it has more
// than RefreshBefore left, else a new one from AssumeRole — one call for
// every asker of the same (account, role, ExternalId), retried on
// throttling, 5xx and transport errors. A terminal answer comes back as
// *Error (Terminal() true, Code STS's) and is remembered for FailureTTL.
// When ctx ends first, Get returns ctx's error and the refresh goes on for
// the others. The credential handed out belongs to the first asker's
// session name; later askers share it until it is refreshed.
func (b *Broker) Get(ctx context.Context, r Request) (Credentials, error) {
	if err := r.Check(); err != nil {
		return Credentials{}, err
	}
	key := r.AccountID + "\x00" + strings.ToLower(r.Role) + "\x00" + r.ExternalID
	b.mu.Lock()
	e := b.entries[key]
	if e == nil {
		e = &entry{}
		b.entries[key] = e
	}
	now := b.cfg.Now()
	switch {
	case e.has && now.Before(e.cred.Expiration.Add(-b.cfg.RefreshBefore)):
		c := e.cred
		b.mu.Unlock()
		b.emit(Event{Kind: EventHit, Account: r.AccountID, Role: r.Role, Expires: c.Expiration})
		return c, nil
	case e.fail != nil && now.Before(e.failUntil):
		fe := *e.fail
		b.mu.Unlock()
		fe.Remembered, fe.Attempts = true, 0
		b.emit(Event{Kind: EventRemembered, Account: r.AccountID, Role: r.Role, Code: fe.Code})
		return Credentials{}, &fe
	}
	f, joined := e.flight, e.flight != nil
	if !joined {
		f = &flight{done: make(chan struct{})}
		e.flight = f
	}
	b.mu.Unlock()
	if joined {
		b.emit(Event{Kind: EventJoin, Account: r.AccountID, Role: r.Role})
	} else {
		go b.refresh(context.WithoutCancel(ctx), e, f, r)
	}
	select {
	case <-f.done:
		return f.cred, f.err
	case <-ctx.Done():
		return Credentials{}, fmt.Errorf("memberauth: account %s role %s: waiting for credentials: %w", r.AccountID, r.Role, ctx.Err())
	}
}

// refresh runs one flight: AssumeRole in the one retry loop, then the
// result into the entry, then done.
func (b *Broker) refresh(ctx context.Context, e *entry, f *flight, r Request) {
	cred, err := b.assume(ctx, r)
	b.mu.Lock()
	e.flight = nil
	if err == nil {
		e.cred, e.has, e.fail = cred, true, nil
	} else {
		var me *Error
		if errors.As(err, &me) && me.Terminal() && !me.CallerFault() && b.cfg.FailureTTL > 0 {
			e.fail, e.failUntil = me, b.cfg.Now().Add(b.cfg.FailureTTL)
		}
	}
	b.mu.Unlock()
	// Told before the askers are let go, so an asker that returns has
	// always been preceded by its EventIssued or EventFailed.
	if err == nil {
		b.emit(Event{Kind: EventIssued, Account: r.AccountID, Role: r.Role, Expires: cred.Expiration})
	} else {
		var me *Error
		code := ""
		if errors.As(err, &me) {
			code = me.Code
		}
		b.emit(Event{Kind: EventFailed, Account: r.AccountID, Role: r.Role, Code: code, Attempt: attemptsOf(err)})
	}
	f.cred, f.err = cred, err
	close(f.done)
}

func attemptsOf(err error) int {
	var me *Error
	if errors.As(err, &me) {
		return me.Attempts
	}
	return 0
}

// assume calls AssumeRole until it succeeds or retry.Do's rules stop it.
func (b *Broker) assume(ctx context.Context, r Request) (Credentials, error) {
	var cred Credentials
	loop := retry.Loop{
		MaxAttempts: b.cfg.MaxAttempts,
		Policy:      b.cfg.Policy,
		Classify:    Classify,
		StopAt:      b.cfg.Now().Add(b.cfg.MaxFlight),
		Quota:       b.cfg.Quota,
		Now:         b.cfg.Now,
		Sleep:       b.cfg.Sleep,
		Rand:        b.cfg.Rand,
		OnRetry: func(rt retry.Retry) {
			var me *Error
			code := ""
			if errors.As(rt.Err, &me) {
				code = me.Code
			}
			b.emit(Event{Kind: EventRetry, Account: r.AccountID, Role: r.Role, Attempt: rt.Attempt, Code: code, Delay: rt.Delay})
		},
	}
	res, err := retry.Do(ctx, loop, func(ctx context.Context, attempt int) error {
		b.emit(Event{Kind: EventCall, Account: r.AccountID, Role: r.Role, Attempt: attempt})
		c, err := b.call(ctx, r)
		if err == nil {
			cred = c
		}
		return err
	})
	if err != nil {
		var me *Error
		if !errors.As(err, &me) {
			me = &Error{Message: scrub(err).Error(), err: scrub(err)}
		}
		me.Account, me.Role, me.Attempts, me.Stop = r.AccountID, r.Role, res.Attempts, res.Stop
		return Credentials{}, me
	}
	return cred, nil
}

// callerError is the Caller's failure: no key to sign with. It is not
// retried (another try cannot conjure one).
type callerError struct{ err error }

func (e callerError) Error() string { return "memberauth: the caller's key: " + e.err.Error() }

// call makes one AssumeRole with a fresh SDK client (the SDK's client is not
// safe for concurrent use, and the caller's key may change between calls).
func (b *Broker) call(ctx context.Context, r Request) (Credentials, error) {
	key, err := b.cfg.Caller(ctx)
	if err != nil {
		return Credentials{}, &Error{Code: CodeCallerKey, Message: scrub(callerError{err}).Error()}
	}
	if key.AccessKeyID == "" || key.AccessKeySecret == "" {
		return Credentials{}, &Error{Code: CodeCallerKey, Message: "the caller's key has no AccessKeyId or AccessKeySecret"}
	}
	secrets := []string{key.AccessKeySecret, key.SecurityToken}
	oc := &openapi.Config{
		AccessKeyId:     tea.String(key.AccessKeyID),
		AccessKeySecret: tea.String(key.AccessKeySecret),
		Protocol:        tea.String(b.cfg.Protocol),
		RegionId:        tea.String(b.cfg.RegionID),
		UserAgent:       tea.String("fc-rds-backup"),
	}
	if key.SecurityToken != "" {
		oc.SecurityToken = tea.String(key.SecurityToken)
	}
	if b.cfg.Endpoint != "" {
		oc.Endpoint = tea.String(b.cfg.Endpoint)
	}
	cl, err := stssdk.NewClient(oc)
	if err != nil {
		return Credentials{}, &Error{Code: CodeCallerKey, Message: "STS client: " + scrub(err, secrets...).Error()}
	}
	arn := RoleArn(r.AccountID, r.Role)
	resp, err := cl.AssumeRoleWithOptions(&stssdk.AssumeRoleRequest{
		RoleArn:         tea.String(arn),
		RoleSessionName: tea.String(r.SessionName),
		ExternalId:      tea.String(r.ExternalID),
		DurationSeconds: tea.Int64(int64(b.cfg.Duration / time.Second)),
	}, &util.RuntimeOptions{
		Autoretry:      tea.Bool(false),
		MaxAttempts:    tea.Int(0),
		ReadTimeout:    tea.Int(int(b.cfg.ReadTimeout / time.Millisecond)),
		ConnectTimeout: tea.Int(int(math.Ceil(b.cfg.ConnectTimeout.Seconds()))), // seconds in tea v1.2.2
	})
	if err != nil {
		var se *tea.SDKError
		if errors.As(err, &se) {
			e := fromSDKError(se)
			e.Message = scrub(errors.New(e.Message), secrets...).Error()
			return Credentials{}, e
		}
		s := scrub(err, secrets...)
		return Credentials{}, &Error{Message: s.Error(), err: s}
	}
	return credentialsOf(resp, r, arn)
}

// credentialsOf checks the answer: every credential field present and an
// expiry STS's way ("2006-01-02T15:04:05Z"). A malformed answer is a
// transient failure (no code, no status), like an undecodable body.
func credentialsOf(resp *stssdk.AssumeRoleResponse, r Request, arn string) (Credentials, error) {
	if resp == nil || resp.Body == nil || resp.Body.Credentials == nil {
		return Credentials{}, &Error{Message: "AssumeRole answered without Credentials"}
	}
	c := resp.Body.Credentials
	exp, err := time.Parse("2006-01-02T15:04:05Z", tea.StringValue(c.Expiration))
	if err != nil {
		return Credentials{}, &Error{Message: "AssumeRole answered an Expiration that is not 2006-01-02T15:04:05Z"}
	}
	out := Credentials{
		AccountID:       r.AccountID,
		RoleArn:         arn,
		SessionName:     r.SessionName,
		AccessKeyID:     tea.StringValue(c.AccessKeyId),
		AccessKeySecret: tea.StringValue(c.AccessKeySecret),
		SecurityToken:   tea.StringValue(c.SecurityToken),
		Expiration:      exp,
	}
	if out.AccessKeyID == "" || out.AccessKeySecret == "" || out.SecurityToken == "" {
		return Credentials{}, &Error{Message: "AssumeRole answered incomplete Credentials"}
	}
	return out, nil
}

func (b *Broker) emit(e Event) {
	if b.cfg.OnEvent != nil {
		b.cfg.OnEvent(e)
	}
}

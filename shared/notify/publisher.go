package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/groupcommit"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// Policy selects which outcomes are published.
type Policy string

// Policies.
const (
	PolicyAll      Policy = "all"      // every outcome (the default)
	PolicyTerminal Policy = "terminal" // outcomes that end their request (never deferred)
	PolicyFailures Policy = "failures" // rejected and failed only
)

// ParsePolicy reads a policy name; "" is PolicyAll.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case "":
		return PolicyAll, nil
	case PolicyAll, PolicyTerminal, PolicyFailures:
		return p, nil
	}
	return "", fmt.Errorf("notify: unknown policy %q (want all, terminal or failures)", s)
}

// Allows reports whether an outcome is published under p.
func (p Policy) Allows(o backup.Outcome) bool {
	switch p {
	case PolicyTerminal:
		return Terminal(o.Status, o.Terminal)
	case PolicyFailures:
		return o.Status == backup.StatusRejected || o.Status == backup.StatusFailed
	}
	return true
}

// Transport is what a Publisher needs of *mnsq.Client.
type Transport interface {
	Send(ctx context.Context, queue, body string, delay time.Duration) (string, error)
	Publish(ctx context.Context, topic, body string) (string, error)
}

var _ Transport = (*mnsq.Client)(nil)

// EachSender is a Transport that can also send several messages to a queue
// in one request and answer each (*mnsq.Client's SendEach). A queue
// Publisher over one combines the events of outcomes published at the
// same time into BatchSendMessage calls (shared/groupcommit); a lone event
// is still one SendMessage.
type EachSender interface {
	SendEach(ctx context.Context, queue string, msgs []mnsq.OutMessage) (ids []string, errs []error)
}

var _ EachSender = (*mnsq.Client)(nil)

// sendsInFlight is the most combined send calls out at once.
const sendsInFlight = 2

// sent is one event's send: its MNS message id or its error.
type sent struct {
	id  string
	err error
}

// Defaults of Config.
const (
	// DefaultMaxBytes leaves 1 KiB below MNS's 64 KiB so that an event that
	// could not be published still fits a work-queue envelope when parked.
	DefaultMaxBytes    = mnsq.MaxMessageBytes - 1024
	DefaultMaxAttempts = 6
	DefaultReserve     = time.Second
)

// DefaultBackoff is the wait between publish attempts: full jitter below
// 200 ms, 400 ms, 800 ms ... up to 5 s.
var DefaultBackoff = retry.TransientBackoff

// Config configures a Publisher. Exactly one of Queue and Topic is set.
type Config struct {
	Function string // source is "fc-rds-backup/<Function>"
	Queue    string // publish with SendMessage to this queue, or
	Topic    string // with PublishMessage to this topic
	Policy   Policy // "" is PolicyAll

	MaxBytes    int           // largest event body; 0 is DefaultMaxBytes
	MaxAttempts int           // sends per event; 0 is DefaultMaxAttempts
	Backoff     retry.Backoff // zero Base means DefaultBackoff (keeping Rand)
	// Reserve is the time left before ctx's deadline below which no retry
	// is started, so the caller can still park the event; 0 is
	// DefaultReserve.
	Reserve time.Duration
	// Quota is the retry token bucket of every send of the Publisher (nil:
	// a new retry.NewQuota(0), 500 tokens, 5 a retry, 10 after a timeout):
	// while MNS fails most sends, events go back to the caller to park after
	// their first failure instead of each spending MaxAttempts.
	Quota *retry.Quota

	Now    func() time.Time                                 // time.Now when nil; compared with ctx's deadline
	Sleep  func(ctx context.Context, d time.Duration) error // retry.Sleep when nil
	Logger *slog.Logger                                     // slog.Default() when nil
}

// Publisher publishes outcomes. It is safe for concurrent use.
type Publisher struct {
	t     Transport
	cfg   Config
	quota *retry.Quota                        // shared by every event's sends
	sends *groupcommit.Combiner[string, sent] // queue sends combined; nil: each alone
}

// New returns a Publisher over t.
func New(t Transport, cfg Config) (*Publisher, error) {
	if t == nil {
		return nil, errors.New("notify: no transport")
	}
	if (cfg.Queue == "") == (cfg.Topic == "") {
		return nil, errors.New("notify: set exactly one of Queue and Topic")
	}
	p, err := ParsePolicy(string(cfg.Policy))
	if err != nil {
		return nil, err
	}
	cfg.Policy = p
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff.Base <= 0 {
		rnd := cfg.Backoff.Rand
		cfg.Backoff = DefaultBackoff
		cfg.Backoff.Rand = rnd
	}
	if cfg.Reserve <= 0 {
		cfg.Reserve = DefaultReserve
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = retry.Sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	q := cfg.Quota
	if q == nil {
		q = retry.NewQuota(0)
	}
	pub := &Publisher{t: t, cfg: cfg, quota: q}
	if each, ok := t.(EachSender); ok && cfg.Queue != "" {
		pub.sends = &groupcommit.Combiner[string, sent]{
			MaxItems: mnsq.MaxBatch, MaxInFlight: sendsInFlight,
			Fit: func() func(string) bool {
				n := 0
				return func(next string) bool {
					if n+len(next) > mnsq.MaxBatchBytes {
						return false
					}
					n += len(next)
					return true
				}
			},
			Solo: func(ctx context.Context, body string) (sent, error) {
				id, err := t.Send(ctx, cfg.Queue, body, 0)
				return sent{id, err}, nil
			},
			Batch: func(ctx context.Context, bodies []string) ([]sent, error) {
				msgs := make([]mnsq.OutMessage, len(bodies))
				for i, b := range bodies {
					msgs[i] = mnsq.OutMessage{Body: b}
				}
				ids, errs := each.SendEach(ctx, cfg.Queue, msgs)
				out := make([]sent, len(bodies))
				for i := range out {
					out[i] = sent{ids[i], errs[i]}
				}
				return out, nil
			},
		}
	}
	return pub, nil
}

// Destination describes where events go, e.g. `queue "notify"`.
func (p *Publisher) Destination() string {
	if p.cfg.Topic != "" {
		return fmt.Sprintf("topic %q", p.cfg.Topic)
	}
	return fmt.Sprintf("queue %q", p.cfg.Queue)
}

// ErrTooLarge is wrapped by the error of an event that does not fit
// MaxBytes even after trimming.
var ErrTooLarge = errors.New("notify: event larger than the message size limit even after trimming")

// PublishError is returned when an event could not be published. It
// carries the event exactly as it was being sent, so the caller can park it
// (Park) and publish it later with the same id.
type PublishError struct {
	Event       Event
	Body        []byte // the event's JSON as sent
	Destination string
	Attempts    int
	Err         error
}

func (e *PublishError) Error() string {
	return fmt.Sprintf("notify: publish %s %s (%s) to %s failed after %d attempt(s): %v",
		e.Event.Type, e.Event.ID, backup.Clip(e.Event.Subject, 80), e.Destination, e.Attempts, e.Err)
}

func (e *PublishError) Unwrap() error { return e.Err }

// Park returns the work-queue message that keeps the event for a later
// PublishParked. It is only meaningful when Body is set (an event too large
// to encode has none).
func (e *PublishError) Park() workqueue.Message { return workqueue.Outcome(e.Body) }

// Publish publishes an outcome if the policy allows it. An outcome without
// a Time is stamped with the publisher's clock. It returns nil when the
// event was sent or filtered out, and a *PublishError when it could not be
// sent: retryable failures are retried with backoff while ctx's deadline
// (less Reserve) allows and the Publisher's retry quota pays for them
// (retry.Do); a terminal failure (missing queue, access denied) ends at
// once.
func (p *Publisher) Publish(ctx context.Context, o backup.Outcome) error {
	if !p.cfg.Policy.Allows(o) {
		p.cfg.Logger.DebugContext(ctx, "outcome not published: policy", "policy", p.cfg.Policy,
			"status", o.Status, "dbInstanceId", o.Request.DBInstanceId, "correlationId", o.Request.CorrelationId)
		return nil
	}
	if o.Time.IsZero() {
		o.Time = p.cfg.Now()
	}
	return p.PublishEvent(ctx, BuildEvent(p.cfg.Function, o))
}

// PublishEvent publishes an event as it is (trimmed only if it is over
// MaxBytes), with the same retries as Publish. The policy is not applied.
func (p *Publisher) PublishEvent(ctx context.Context, ev Event) error {
	body, ev, err := p.encode(ev)
	if err != nil {
		return &PublishError{Event: ev, Destination: p.Destination(), Err: err}
	}
	return p.send(ctx, ev, body)
}

// PublishParked publishes the event of a parked "outcome" work-queue
// message byte for byte, with the same retries as Publish.
func (p *Publisher) PublishParked(ctx context.Context, m workqueue.Message) error {
	if m.Kind != workqueue.KindOutcome {
		return fmt.Errorf("notify: PublishParked: a %q message, want %q", m.Kind, workqueue.KindOutcome)
	}
	ev, err := ParseEvent(m.Event)
	if err != nil {
		return err
	}
	if len(m.Event) > p.cfg.MaxBytes {
		return p.PublishEvent(ctx, ev)
	}
	return p.send(ctx, ev, m.Event)
}

func (p *Publisher) send(ctx context.Context, ev Event, body []byte) error {
	// The event's logger is made only for a line that is written: a
	// success is one debug line (the ask's one line at info is settle's
	// "outcome"), and a fleet publishes thousands.
	var logger *slog.Logger
	log := func() *slog.Logger {
		if logger == nil {
			logger = p.cfg.Logger.With("eventId", ev.ID, "type", ev.Type, "subject", backup.Clip(ev.Subject, 80), "destination", p.Destination())
		}
		return logger
	}
	var mid string
	loop := retry.Loop{
		MaxAttempts: p.cfg.MaxAttempts,
		Policy:      retry.Policy{Transient: p.cfg.Backoff},
		Classify:    retry.ClassifyRetryable(mnsq.IsRetryable),
		Reserve:     p.cfg.Reserve,
		Quota:       p.quota,
		Now:         p.cfg.Now,
		Sleep:       p.cfg.Sleep,
		OnRetry: func(r retry.Retry) {
			log().WarnContext(ctx, "outcome publish failed; retrying", "attempt", r.Attempt, "code", mnsq.Code(r.Err), "waitMs", r.Delay.Milliseconds(), "error", r.Err)
		},
	}
	res, err := retry.Do(ctx, loop, func(ctx context.Context, _ int) error {
		var err error
		switch {
		case p.cfg.Topic != "":
			mid, err = p.t.Publish(ctx, p.cfg.Topic, string(body))
		case p.sends != nil:
			var s sent
			if s, err = p.sends.Do(ctx, string(body)); err == nil {
				mid, err = s.id, s.err
			}
		default:
			mid, err = p.t.Send(ctx, p.cfg.Queue, string(body), 0)
		}
		return err
	})
	switch res.Stop {
	case retry.StopSucceeded:
		if p.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
			log().DebugContext(ctx, "outcome published", "mnsMessageId", mid, "attempts", res.Attempts, "bytes", len(body))
		}
		return nil
	case retry.StopNoTimeLeft:
		log().WarnContext(ctx, "outcome publish failed; no time left to retry", "attempt", res.Attempts, "code", mnsq.Code(err), "error", err)
	case retry.StopQuotaSpent:
		log().WarnContext(ctx, "outcome publish failed; retry quota spent (MNS failing for many events), not retrying", "attempt", res.Attempts, "code", mnsq.Code(err), "error", err)
	}
	log().WarnContext(ctx, "outcome not published; returning it to the caller to park", "attempts", res.Attempts, "code", mnsq.Code(err), "error", err)
	return &PublishError{Event: ev, Body: body, Destination: p.Destination(), Attempts: res.Attempts, Err: err}
}

// maxString is the length long texts are cut to when trimming is not
// enough.
const maxString = 1024

// encode returns the event's JSON within MaxBytes: first as it is, then
// with its attempts trimmed to the first and last, then with long messages
// cut. The returned event is the one encoded.
func (p *Publisher) encode(ev Event) ([]byte, Event, error) {
	b, err := ev.JSON()
	if err != nil || len(b) <= p.cfg.MaxBytes {
		return b, ev, err
	}
	orig := len(b)
	ev.Data.Attempts = append([]Attempt(nil), ev.Data.Attempts...)
	if n := len(ev.Data.Attempts); n > 2 {
		ev.Data.Attempts = []Attempt{ev.Data.Attempts[0], ev.Data.Attempts[n-1]}
		ev.Data.Note = backup.JoinNote(ev.Data.Note, fmt.Sprintf(
			"attempts trimmed to fit the %d-byte message limit: kept the first and the last of %d (%d dropped)", p.cfg.MaxBytes, n, n-2))
		if b, err = ev.JSON(); err != nil || len(b) <= p.cfg.MaxBytes {
			return b, ev, err
		}
	}
	for i := range ev.Data.Attempts {
		ev.Data.Attempts[i].Message = cut(ev.Data.Attempts[i].Message)
	}
	if ev.Data.Error != nil {
		e := *ev.Data.Error
		e.Message = cut(e.Message)
		ev.Data.Error = &e
	}
	ev.Data.Note = backup.JoinNote(cut(ev.Data.Note), "long messages cut to 1024 bytes")
	if b, err = ev.JSON(); err != nil || len(b) <= p.cfg.MaxBytes {
		return b, ev, err
	}
	return nil, ev, fmt.Errorf("%w: %d bytes (limit %d, %d before trimming)", ErrTooLarge, len(b), p.cfg.MaxBytes, orig)
}

// cut shortens s to at most maxString bytes on a rune boundary, marking the
// cut.
func cut(s string) string {
	const mark = "…(cut)"
	if len(s) <= maxString {
		return s
	}
	n := maxString - len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// Verdict is how a gate ends; its value is the command's exit code.
type Verdict int

const (
	VerdictBackedUp Verdict = 0 // every instance has a backup that is Finished
	VerdictRefused  Verdict = 1 // a backup was refused or failed: do not deploy
	VerdictTimeout  Verdict = 2 // no verdict before the deadline
	// VerdictCouldNotAsk: no ask was accepted — the webhook could not be
	// reached or would not take the call (a wrong URL, scheme, certificate
	// or secret; an unreachable host; a 5xx that persisted for the
	// connect timeout). The error is a *CouldNotAskError saying what to
	// check.
	VerdictCouldNotAsk Verdict = 3
)

func (v Verdict) String() string {
	switch v {
	case VerdictBackedUp:
		return "backed up"
	case VerdictRefused:
		return "refused"
	case VerdictCouldNotAsk:
		return "could not ask"
	}
	return "no verdict in time"
}

// Event is one state change of a gate, for people (Text) and machines.
type Event struct {
	Time         time.Time  `json:"time"`
	Event        string     `json:"event"` // asked, accepted, coalesced, progress, finished, job-failed, deferred, rejected, failed, retry, verdict
	DBInstanceId string     `json:"DBInstanceId,omitempty"`
	BackupJobId  string     `json:"BackupJobId,omitempty"`
	BackupId     string     `json:"BackupId,omitempty"`
	BackupStatus string     `json:"BackupStatus,omitempty"`
	Process      string     `json:"Process,omitempty"`
	Code         string     `json:"code,omitempty"`
	Message      string     `json:"message,omitempty"`
	NotBefore    *time.Time `json:"notBefore,omitempty"`
	Key          string     `json:"idempotencyKey,omitempty"`
	AskedAt      *time.Time `json:"askedAt,omitempty"`
	Verdict      string     `json:"verdict,omitempty"`
	Text         string     `json:"text"`
}

// GateOptions tune Gate.
type GateOptions struct {
	// Ask is what is asked; without a Key, Gate gives it DefaultKey(CI,
	// Ask, nil) once, before the first try.
	Ask     Ask
	CI      CIJob         // the CI job the gate runs in (zero outside CI)
	Timeout time.Duration // whole gate (default 30m)
	// ConnectTimeout (default 2m) bounds the tries before any ask was
	// accepted (a 2xx answer to the POST): a failure that may pass (no
	// connection, a 5xx) still there at its end is VerdictCouldNotAsk.
	// Failures that cannot pass (TLS, DNS "no such host", 401, 403, 404,
	// 405, a redirect elsewhere, an answer not the webhook's) are
	// VerdictCouldNotAsk at once. Once an ask was accepted, network errors
	// and 5xx are asked again until Timeout.
	ConnectTimeout time.Duration
	Poll           time.Duration // between job status reads (default 10s)
	// Observer gets every event (nil: none).
	Observer func(Event)
	// Sleep waits d or until ctx ends (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
}

// instance is the gate's view of one instance.
type instance struct {
	job, status, process string
	done                 bool
	refused              bool
}

// Gate asks once and follows the ask to a verdict (see the package doc).
// The error says why when the verdict is not VerdictBackedUp.
func (c *Client) Gate(ctx context.Context, o GateOptions) (Verdict, error) {
	if len(o.Ask.Instances) == 0 {
		return VerdictRefused, errors.New("no DBInstanceId given")
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 10 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 2 * time.Minute
	}
	if o.Sleep == nil {
		o.Sleep = retry.Sleep
	}
	// The key and AskedAt are fixed here, at the first try: every re-send
	// (a network error, deferred, a job that failed) is the same ask.
	if o.Ask.Key == "" {
		o.Ask.Key = DefaultKey(o.CI, o.Ask, nil)
	}
	if o.Ask.AskedAt.IsZero() {
		o.Ask.AskedAt = c.now().UTC().Truncate(time.Second)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := c.now()
	g := &gate{c: c, o: o, state: map[string]*instance{}, start: start, deadline: start.Add(o.Timeout), connectEnd: start.Add(o.ConnectTimeout)}
	for _, id := range o.Ask.Instances {
		g.state[id] = &instance{}
	}
	v, err := g.run(ctx)
	ev := Event{Event: "verdict", Verdict: v.String(), Text: "verdict: " + v.String()}
	var cna *CouldNotAskError
	switch {
	case errors.As(err, &cna):
		ev.Message = cna.Reason
		ev.Text += ": " + cna.Reason
	case err != nil:
		ev.Text += ": " + err.Error()
	}
	g.emit(ev)
	return v, err
}

type gate struct {
	c        *Client
	o        GateOptions
	state    map[string]*instance
	tries    int
	start    time.Time // on the client's clock
	deadline time.Time // on the client's clock
	// Until an ask is accepted (a 2xx answer to a POST): the end of the
	// connect timeout, and the failure that may pass (nil: none yet).
	accepted   bool
	connectEnd time.Time
	pending    *CouldNotAskError
}

func (g *gate) emit(e Event) {
	if g.o.Observer == nil {
		return
	}
	e.Time = g.c.now().UTC()
	g.o.Observer(e)
}

func (g *gate) run(ctx context.Context) (Verdict, error) {
	at := g.o.Ask.AskedAt.UTC()
	g.emit(Event{Event: "asked", Key: g.o.Ask.Key, AskedAt: &at,
		Text: fmt.Sprintf("asking for a backup of %s (idempotency key %s, asked at %s)", strings.Join(g.o.Ask.Instances, ", "), g.o.Ask.Key, at.Format(time.RFC3339))})
	needPost := true
	for {
		wait := g.o.Poll
		if needPost {
			again, w, err := g.post(ctx)
			if err != nil {
				return g.stopped(ctx, err)
			}
			if v, err, over := g.verdict(); over {
				return v, err
			}
			needPost = again
			if again {
				wait = w
			}
		}
		if !needPost {
			// Every open instance has a job: follow the jobs.
			again, err := g.follow(ctx)
			if err != nil {
				return g.stopped(ctx, err)
			}
			if v, err, over := g.verdict(); over {
				return v, err
			}
			if again { // a job failed: ask again at once
				needPost = true
				continue
			}
		}
		if g.c.now().Add(wait).After(g.deadline) {
			return g.timedOut()
		}
		if err := g.o.Sleep(ctx, wait); err != nil {
			return g.stopped(ctx, err)
		}
	}
}

// stopped turns the end of the context into the timeout verdict.
func (g *gate) stopped(ctx context.Context, err error) (Verdict, error) {
	if ctx.Err() != nil {
		return g.timedOut()
	}
	var cna *CouldNotAskError
	if errors.As(err, &cna) {
		return VerdictCouldNotAsk, err
	}
	return VerdictRefused, err
}

func (g *gate) timedOut() (Verdict, error) {
	if !g.accepted && g.pending != nil {
		return VerdictCouldNotAsk, g.pending
	}
	var open []string
	for id, s := range g.state {
		if !s.done {
			open = append(open, id)
		}
	}
	sort.Strings(open)
	return VerdictTimeout, fmt.Errorf("no verdict within %s for %s", g.o.Timeout, strings.Join(open, ", "))
}

// verdict: refused as soon as one instance is; backed up when all are.
func (g *gate) verdict() (Verdict, error, bool) {
	all := true
	for id, s := range g.state {
		if s.refused {
			return VerdictRefused, fmt.Errorf("the backup of %s was refused or failed", id), true
		}
		all = all && s.done
	}
	if all {
		return VerdictBackedUp, nil, true
	}
	return 0, nil, false
}

// post sends the same ask again (all its instances: the same body, the
// same key, the same AskedAt) and reads the entries. again says a new
// POST is due after wait (deferred, not parked, or a retryable failure).
func (g *gate) post(ctx context.Context) (again bool, wait time.Duration, err error) {
	pctx := ctx
	if left := g.connectEnd.Sub(g.c.now()); !g.accepted && left > 0 {
		// Before any ask was accepted a try ends with the connect timeout
		// (mapped from the client's clock to the context's).
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, left)
		defer cancel()
	}
	entries, err := g.c.Post(pctx, g.o.Ask)
	if err != nil {
		if ctx.Err() != nil {
			return false, 0, ctx.Err()
		}
		var he *HTTPError
		isHTTP := errors.As(err, &he)
		if !g.accepted {
			kind, reason := classify(err, g.c.URL, g.c.now().Sub(g.start))
			switch kind {
			case definitive:
				e := &CouldNotAskError{Reason: reason, Err: err}
				if isHTTP {
					e.Status = he.Status
				}
				return false, 0, e
			case persisting:
				g.pending = &CouldNotAskError{Reason: reason, Err: err}
				if isHTTP {
					g.pending.Status = he.Status
				}
			default:
				g.pending = nil
			}
		}
		if isHTTP && !he.Retryable() {
			msg := he.Message
			if he.Status == http.StatusUnauthorized {
				msg = "the webhook did not accept the signature: check RDSBACKUP_CALLER and RDSBACKUP_SECRET (and this machine's clock)"
			}
			g.emit(Event{Event: "rejected", Code: he.Code, Message: msg, Text: "refused: " + describe(he, msg)})
			return false, 0, errors.New(describe(he, msg))
		}
		g.tries++
		d := backoff(g.tries)
		if !g.accepted && g.pending != nil {
			left := g.connectEnd.Sub(g.c.now())
			if left <= 0 {
				return false, 0, g.pending
			}
			d = min(d, left)
		}
		g.emit(Event{Event: "retry", Message: err.Error(), Text: fmt.Sprintf("could not ask (%v); asking again in %s", err, d)})
		return true, d, nil
	}
	g.accepted, g.pending = true, nil
	g.tries = 0
	wait = time.Duration(1<<62 - 1)
	for _, e := range entries {
		s := g.state[e.DBInstanceId]
		if s == nil || s.done {
			continue
		}
		ev := Event{DBInstanceId: e.DBInstanceId, BackupJobId: e.BackupJobId, BackupId: e.BackupId, BackupStatus: e.BackupStatus, NotBefore: e.NotBefore}
		if e.Error != nil {
			ev.Code, ev.Message = e.Error.Code, e.Error.Message
		}
		switch {
		case (e.Status == "accepted" || e.Status == "coalesced") && e.BackupJobId != "":
			if s.job != e.BackupJobId {
				s.job, s.status = e.BackupJobId, e.BackupStatus
				ev.Event = e.Status
				ev.Text = fmt.Sprintf("%s: %s, job %s", e.DBInstanceId, e.Status, e.BackupJobId)
				if e.Status == "coalesced" {
					ev.Text = fmt.Sprintf("%s: a backup was already running: following its job %s", e.DBInstanceId, e.BackupJobId)
				}
				g.emit(ev)
			}
		case e.Status == "coalesced" || e.Status == "completed":
			s.done = true
			ev.Event = "finished"
			ev.Text = fmt.Sprintf("%s: a backup made at or after the ask already exists (set %s)", e.DBInstanceId, e.BackupId)
			g.emit(ev)
		case e.Status == "deferred":
			d := g.o.Poll
			if e.NotBefore != nil {
				d = max(e.NotBefore.Sub(g.c.now()), time.Second)
			}
			wait, again = min(wait, d), true
			ev.Event = "deferred"
			ev.Text = fmt.Sprintf("%s: deferred (%s: %s); asking again in %s", e.DBInstanceId, ev.Code, ev.Message, d.Round(time.Second))
			g.emit(ev)
		case e.Status == "failed" && ev.Code == "NotParked":
			wait, again = min(wait, backoff(1)), true
			ev.Event = "retry"
			ev.Text = fmt.Sprintf("%s: the service could not park the ask; asking again", e.DBInstanceId)
			g.emit(ev)
		default: // rejected, failed
			s.refused = true
			ev.Event = e.Status
			ev.Text = fmt.Sprintf("%s: %s: %s: %s", e.DBInstanceId, e.Status, ev.Code, ev.Message)
			g.emit(ev)
		}
	}
	return again, wait, nil
}

// follow reads the status of every open job once. again says the ask must
// be sent again (a job failed: a failed backup satisfies no ask).
func (g *gate) follow(ctx context.Context) (bool, error) {
	ids := make([]string, 0, len(g.state))
	for id := range g.state {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	again := false
	for _, id := range ids {
		s := g.state[id]
		if s.done || s.job == "" {
			continue
		}
		j, err := g.c.Status(ctx, g.o.Ask.Region, id, s.job)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			var he *HTTPError
			if errors.As(err, &he) && !he.Retryable() && he.Status != http.StatusNotFound {
				s.refused = true
				g.emit(Event{Event: "failed", DBInstanceId: id, BackupJobId: s.job, Code: he.Code, Message: he.Message,
					Text: fmt.Sprintf("%s: the job status cannot be read: %s", id, describe(he, he.Message))})
				continue
			}
			g.emit(Event{Event: "retry", DBInstanceId: id, BackupJobId: s.job, Message: err.Error(),
				Text: fmt.Sprintf("%s: could not read job %s (%v); reading again", id, s.job, err)})
			continue
		}
		ev := Event{DBInstanceId: id, BackupJobId: s.job, BackupStatus: j.BackupStatus, Process: j.Process, BackupId: j.BackupId}
		switch j.BackupStatus {
		case "Finished":
			s.done = true
			ev.Event = "finished"
			ev.Text = fmt.Sprintf("%s: job %s Finished (backup set %s)", id, s.job, j.BackupId)
			g.emit(ev)
		case "Failed":
			// A failed backup satisfies no ask: the same ask is sent
			// again and the service takes another.
			ev.Event = "job-failed"
			ev.Text = fmt.Sprintf("%s: job %s Failed; asking again", id, s.job)
			g.emit(ev)
			s.job, again = "", true
		default:
			if j.BackupStatus != s.status || j.Process != s.process {
				s.status, s.process = j.BackupStatus, j.Process
				ev.Event = "progress"
				ev.Text = fmt.Sprintf("%s: job %s %s", id, s.job, j.BackupStatus)
				if j.Process != "" {
					ev.Text += " " + j.Process + "%"
				}
				g.emit(ev)
			}
		}
	}
	return again, nil
}

// describe is an HTTP error in a line: the status, the request, and the
// webhook's code and message when it gave them (never "HTTP 404 : ").
func describe(he *HTTPError, msg string) string {
	s := fmt.Sprintf("HTTP %d", he.Status)
	if he.Method != "" {
		s += " from " + he.Method + " " + he.Path
	}
	switch {
	case he.Code != "" && msg != "":
		s += ": " + he.Code + ": " + msg
	case he.Code != "" || msg != "":
		s += ": " + he.Code + msg
	case he.Body != "":
		s += fmt.Sprintf(" (%q)", he.Body)
	}
	return s
}

// askBackoff is the schedule of a failed POST's re-sends: the caps of a
// retry.Backoff from 1 s to 30 s, without jitter (one CI job asks alone).
var askBackoff = retry.Backoff{Base: time.Second, Max: 30 * time.Second}

// backoff is the wait before try n, from 1 (1, 2, 4 … 30 s).
//
// The gate's re-sends are not a retry.Do loop: a failed POST, a deferred
// entry and a NotParked entry all come back to the gate's one ask/poll loop,
// which keeps the verdict, the deadline and the connect timeout (a wait is
// cut to the connect timeout's end, not refused) between them.
func backoff(n int) time.Duration { return askBackoff.Cap(n - 1) }

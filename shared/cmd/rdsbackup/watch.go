package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

// story is what watch knows of one ask.
type story struct {
	key, instance string
	askedAt       *time.Time
	last          time.Time // the time of its latest event
	steps         []string
	terminal      string
}

// peekBatch is the most messages one BatchPeekMessage (or
// BatchReceiveMessage) returns: MNS allows 1–16.
const peekBatch = 16

// stamp is a time as every line of watch prints it: RFC 3339, UTC, with
// the date (the lines of a long watch, or of a log, span days).
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func watch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", getenv("RDSBACKUP_MNS_ENDPOINT"), "MNS endpoint (RDSBACKUP_MNS_ENDPOINT)")
	queue := fs.String("queue", or(getenv("RDSBACKUP_NOTIFY_QUEUE"), "rds-backup-notify"), "the notification queue (RDSBACKUP_NOTIFY_QUEUE)")
	idle := fs.Duration("until-idle", 0, "stop (exit 0) after this long without a new message and print a summary per ask (0: run until interrupted)")
	consume := fs.Bool("consume", false, "receive and delete the messages (only on a queue dedicated to you: the other consumers never see them)")
	poll := fs.Duration("poll", 2*time.Second, "time between peeks (without --consume; --consume long-polls)")
	keep := fs.Bool("keep", false, "do not delete, which peeking (the default) never does: kept for old scripts; not with --consume")
	asJSON := fs.Bool("json", false, "print each outcome event as a JSON line")
	pos, code, ok := parse(fs, args, watchHelp, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case len(pos) > 0:
		fmt.Fprintf(stderr, "rdsbackup watch: takes no arguments, got %q (rdsbackup watch --help)\n", pos)
		return exitUsage
	case *consume && *keep:
		fmt.Fprintln(stderr, "rdsbackup watch: --consume deletes what it reads and --keep does not: give one (rdsbackup watch --help)")
		return exitUsage
	case *poll <= 0:
		fmt.Fprintf(stderr, "rdsbackup watch: --poll %s: must be more than 0 (rdsbackup watch --help)\n", *poll)
		return exitUsage
	case *queue == "":
		fmt.Fprintln(stderr, "rdsbackup watch: --queue is empty (rdsbackup watch --help)")
		return exitUsage
	}
	ak, sk := getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	if *endpoint == "" || ak == "" || sk == "" {
		fmt.Fprintln(stderr, "rdsbackup watch: could not watch: not configured: set RDSBACKUP_MNS_ENDPOINT (or --endpoint), ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
		return exitCouldNotAsk
	}
	ep, err := mnsq.NormalizeEndpoint(*endpoint)
	if err != nil {
		fmt.Fprintln(stderr, "rdsbackup watch: could not watch: check RDSBACKUP_MNS_ENDPOINT (or --endpoint):", err)
		return exitCouldNotAsk
	}
	q := ali_mns.NewMNSQueue(*queue, ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: ep, AccessKeyId: ak, AccessKeySecret: sk, Token: getenv("ALIBABA_CLOUD_SECURITY_TOKEN"), TimeoutSecond: 35,
	}))
	w := &watcher{stdout: stdout, stderr: stderr, asJSON: *asJSON, seenMsg: map[string]bool{}, seenEvent: map[string]bool{}, stories: map[string]*story{}}
	reached := false // MNS has answered once: from then on, transport trouble is retried
	warnedFull := false
	last := time.Now()
	// pause waits d, or less when --until-idle or ctx ends sooner.
	pause := func(d time.Duration) {
		if *idle > 0 {
			d = max(min(d, *idle-time.Since(last)), 0)
		}
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	for ctx.Err() == nil {
		if *idle > 0 && time.Since(last) >= *idle {
			break
		}
		var batch ali_mns.BatchMessageReceiveResponse
		var err error
		if *consume {
			wait := int64(5)
			if *idle > 0 {
				wait = max(min(int64((*idle-time.Since(last)).Seconds()), 5), 1)
			}
			batch, err = call(ctx, func(r chan ali_mns.BatchMessageReceiveResponse, e chan error) {
				q.BatchReceiveMessage(r, e, peekBatch, wait)
			})
		} else {
			batch, err = call(ctx, func(r chan ali_mns.BatchMessageReceiveResponse, e chan error) {
				q.BatchPeekMessage(r, e, peekBatch)
			})
		}
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			c := mnsq.Code(err)
			if c == "MessageNotExist" { // an empty queue
				reached = true
				if !*consume {
					pause(*poll)
				}
				continue
			}
			if what := couldNotWatch(c, err, *queue, ep, *consume, reached); what != "" {
				fmt.Fprintf(stderr, "%s rdsbackup watch: could not watch: %s\n", stamp(time.Now()), what)
				return exitCouldNotAsk
			}
			fmt.Fprintf(stderr, "%s rdsbackup watch: %s (trying again)\n", stamp(time.Now()), short(err))
			pause(2 * time.Second)
			continue
		}
		reached = true
		for _, m := range batch.Messages {
			if w.message(m.MessageId, m.MessageBody) {
				last = time.Now()
			}
			if *consume {
				if err := q.DeleteMessage(m.ReceiptHandle); err != nil && !errors.Is(err, context.Canceled) {
					fmt.Fprintf(stderr, "%s rdsbackup watch: delete message %s: %s\n", stamp(time.Now()), m.MessageId, short(err))
				}
			}
		}
		if !*consume {
			if len(batch.Messages) >= peekBatch && !warnedFull {
				warnedFull = true
				fmt.Fprintf(stderr, "%s rdsbackup watch: a peek of queue %q came back full (%d messages, the most one peek returns): others may not show until these leave the queue; to read them all, use --consume on a queue dedicated to you\n",
					stamp(time.Now()), *queue, peekBatch)
			}
			pause(*poll)
		}
	}
	if *idle > 0 && !*asJSON {
		summary(stdout, w.stories, w.order)
	}
	return exitOK
}

// watcher prints each message once per run.
type watcher struct {
	stdout, stderr io.Writer
	asJSON         bool
	seenMsg        map[string]bool // MNS message ids: a peek returns the same messages again
	seenEvent      map[string]bool // event ids: a delivery twice is two messages with one id
	stories        map[string]*story
	order          []string
}

// message handles one message; true when it was new to this run.
func (w *watcher) message(id, body string) bool {
	if w.seenMsg[id] {
		return false
	}
	w.seenMsg[id] = true
	ev, err := notify.ParseEvent([]byte(body))
	if err != nil {
		fmt.Fprintf(w.stderr, "%s rdsbackup watch: message %s is not an outcome event: %v\n", stamp(time.Now()), id, err)
		return true
	}
	if w.seenEvent[ev.ID] {
		return true
	}
	w.seenEvent[ev.ID] = true
	if w.asJSON {
		fmt.Fprintln(w.stdout, body)
	} else {
		fmt.Fprintln(w.stdout, line(ev))
	}
	if ev.Type == notify.TypeRun {
		return true // a run is no ask: its line is its story
	}
	s := w.stories[ev.Data.CorrelationId]
	if s == nil {
		s = &story{key: ev.Data.CorrelationId, instance: ev.Subject, askedAt: ev.Data.AskedAt}
		w.stories[ev.Data.CorrelationId] = s
		w.order = append(w.order, ev.Data.CorrelationId)
	}
	if ev.Time.After(s.last) {
		s.last = ev.Time
	}
	step := strings.TrimPrefix(ev.Type, notify.TypePrefix)
	s.steps = append(s.steps, step)
	if ev.Data.Terminal {
		s.terminal = step
	}
	return true
}

// call runs one SDK call, which cannot be canceled, until it answers or ctx
// ends.
func call(ctx context.Context, fn func(chan ali_mns.BatchMessageReceiveResponse, chan error)) (ali_mns.BatchMessageReceiveResponse, error) {
	resp := make(chan ali_mns.BatchMessageReceiveResponse, 1)
	errc := make(chan error, 1)
	go fn(resp, errc)
	select {
	case r := <-resp:
		return r, nil
	case err := <-errc:
		return ali_mns.BatchMessageReceiveResponse{}, err
	case <-ctx.Done():
		return ali_mns.BatchMessageReceiveResponse{}, ctx.Err()
	}
}

// couldNotWatch says what to check when err (MNS code c) means watching
// cannot work however often it is tried; "" when it may pass (a 5xx,
// throttling, or transport trouble once MNS has answered).
func couldNotWatch(c string, err error, queue, endpoint string, consume, reached bool) string {
	perm := "mns:BatchPeekMessage"
	if consume {
		perm = "mns:BatchReceiveMessage and mns:DeleteMessage"
	}
	key := "check ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN with an STS key)"
	switch c {
	case "QueueNotExist":
		return fmt.Sprintf("queue %q does not exist at %s: check the queue name (--queue, RDSBACKUP_NOTIFY_QUEUE) and RDSBACKUP_MNS_ENDPOINT (the account and the region)", queue, endpoint)
	case "InvalidQueueName", "QueueNameLengthError":
		return fmt.Sprintf("queue name %q is refused (%s): check --queue and RDSBACKUP_NOTIFY_QUEUE", queue, c)
	case "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidAuthorizationHeader", "MissingAuthorizationHeader":
		return fmt.Sprintf("MNS at %s refused the key (%s): %s", endpoint, c, key)
	case "AccessDenied": // also an expired or missing STS token
		return fmt.Sprintf("MNS at %s denied the key on queue %q (AccessDenied: %s): %s, and that its RAM policy allows %s on the queue",
			endpoint, queue, mnsMessage(err), key, perm)
	case "TimeExpired", "InvalidDateHeader":
		return fmt.Sprintf("MNS at %s refused the request's time (%s): check this machine's clock", endpoint, c)
	case mnsq.CodeNetwork:
		if !reached {
			return fmt.Sprintf("no answer from %s (%s): check RDSBACKUP_MNS_ENDPOINT (scheme, host and port) and the network", endpoint, short(err))
		}
	case mnsq.CodeBadErrorResponse:
		if !reached {
			return fmt.Sprintf("%s does not answer as MNS (%s): check RDSBACKUP_MNS_ENDPOINT", endpoint, short(err))
		}
	}
	return ""
}

var mnsMessageRe = regexp.MustCompile(`, message: (.*?), resource: `)

// mnsMessage is the message MNS sent with its error code.
func mnsMessage(err error) string {
	if m := mnsMessageRe.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return short(err)
}

// short is an SDK error without the SDK's id suffix.
func short(err error) string {
	s := err.Error()
	if i := strings.Index(s, ", Id: MNS#"); i > 0 {
		s = s[:i]
	}
	return s
}

// line is one event as a sentence.
func line(ev notify.Event) string {
	d := ev.Data
	var b strings.Builder
	if ev.Type == notify.TypeRun && d.Run != nil {
		at := stamp(ev.Time)
		fmt.Fprintf(&b, "%s plan run %s (%s", at, ev.Subject, d.Trigger.Kind)
		if d.AskedAt != nil {
			fmt.Fprintf(&b, ", asked %s", stamp(*d.AskedAt))
		}
		fmt.Fprintf(&b, "): %d asks", d.Run.Items)
		for _, st := range []string{"accepted", "coalesced", "completed", "rejected", "failed", "deferred"} {
			if n := d.Run.Counts[st]; n > 0 {
				fmt.Fprintf(&b, ", %d %s", n, st)
			}
		}
		// The problems are lines of their own, each with the run's time.
		for _, p := range d.Run.Problems {
			fmt.Fprintf(&b, "\n%s     %s %s: %s", at, p.DBInstanceId, p.Status, p.Code)
		}
		if d.Run.More > 0 {
			fmt.Fprintf(&b, "\n%s     … and %d more", at, d.Run.More)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s %s %-9s %s", stamp(ev.Time), d.CorrelationId, strings.TrimPrefix(ev.Type, notify.TypePrefix), ev.Subject)
	if d.BackupJobId != "" {
		fmt.Fprintf(&b, " job %s", d.BackupJobId)
	}
	if d.BackupStatus != "" {
		fmt.Fprintf(&b, " (%s)", d.BackupStatus)
	}
	if d.BackupId != "" {
		fmt.Fprintf(&b, " set %s", d.BackupId)
	}
	if d.Error != nil {
		fmt.Fprintf(&b, " — %s: %s", d.Error.Code, d.Error.Message)
	}
	if d.NotBefore != nil {
		fmt.Fprintf(&b, " — again at %s", stamp(*d.NotBefore))
	}
	if d.Terminal {
		b.WriteString(" [final]")
	}
	return b.String()
}

func summary(w io.Writer, stories map[string]*story, order []string) {
	now := stamp(time.Now())
	if len(order) == 0 {
		fmt.Fprintf(w, "%s no outcome arrived\n", now)
		return
	}
	sort.SliceStable(order, func(i, j int) bool { return stories[order[i]].instance < stories[order[j]].instance })
	fmt.Fprintf(w, "\n%s %d ask(s):\n", now, len(order))
	for _, k := range order {
		s := stories[k]
		end := "[final]"
		if s.terminal == "" {
			end = "→ not final yet"
		}
		asked := ""
		if s.askedAt != nil {
			asked = " asked " + stamp(*s.askedAt)
		}
		// The line's time is that of the ask's latest event.
		fmt.Fprintf(w, "%s   %s %s%s: %s %s\n", stamp(s.last), k, s.instance, asked, strings.Join(s.steps, " → "), end)
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
	steps         []string
	terminal      string
}

func watch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", getenv("RDSBACKUP_MNS_ENDPOINT"), "MNS endpoint (RDSBACKUP_MNS_ENDPOINT)")
	queue := fs.String("queue", or(getenv("RDSBACKUP_NOTIFY_QUEUE"), "rds-backup-notify"), "the notification queue (RDSBACKUP_NOTIFY_QUEUE)")
	idle := fs.Duration("until-idle", 0, "stop after this long without a message and print a summary per ask (0: run until interrupted)")
	keep := fs.Bool("keep", false, "do not delete the messages read (they come back after the queue's visibility timeout)")
	asJSON := fs.Bool("json", false, "print each outcome event as a JSON line")
	pos, code, ok := parse(fs, args, watchHelp, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "rdsbackup watch: takes no arguments, got %q (rdsbackup watch --help)\n", pos)
		return exitUsage
	}
	ak, sk := getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	if *endpoint == "" || ak == "" || sk == "" {
		fmt.Fprintln(stderr, "rdsbackup watch: could not ask: not configured: set RDSBACKUP_MNS_ENDPOINT (or --endpoint), ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
		return exitCouldNotAsk
	}
	ep, err := mnsq.NormalizeEndpoint(*endpoint)
	if err != nil {
		fmt.Fprintln(stderr, "rdsbackup watch: could not ask:", err)
		return exitCouldNotAsk
	}
	q := ali_mns.NewMNSQueue(*queue, ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: ep, AccessKeyId: ak, AccessKeySecret: sk, Token: getenv("ALIBABA_CLOUD_SECURITY_TOKEN"), TimeoutSecond: 35,
	}))
	seen := map[string]bool{}
	stories := map[string]*story{}
	var order []string
	last := time.Now()
	for ctx.Err() == nil {
		if *idle > 0 && time.Since(last) >= *idle {
			break
		}
		wait := int64(5)
		if *idle > 0 {
			wait = max(min(int64((*idle-time.Since(last)).Seconds()), 5), 1)
		}
		resp := make(chan ali_mns.BatchMessageReceiveResponse, 1)
		errc := make(chan error, 1)
		go q.BatchReceiveMessage(resp, errc, 16, wait)
		var batch ali_mns.BatchMessageReceiveResponse
		select {
		case batch = <-resp:
		case err := <-errc:
			if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
				continue
			}
			fmt.Fprintln(stderr, "rdsbackup watch:", err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
			continue
		case <-ctx.Done():
		}
		for _, m := range batch.Messages {
			last = time.Now()
			ev, err := notify.ParseEvent([]byte(m.MessageBody))
			switch {
			case err != nil:
				fmt.Fprintf(stderr, "rdsbackup watch: message %s is not an outcome event: %v\n", m.MessageId, err)
			case !seen[ev.ID]:
				seen[ev.ID] = true
				if *asJSON {
					fmt.Fprintln(stdout, m.MessageBody)
				} else {
					fmt.Fprintln(stdout, line(ev))
				}
				if ev.Type == notify.TypeRun {
					break // a run is no ask: its line is its story
				}
				s := stories[ev.Data.CorrelationId]
				if s == nil {
					s = &story{key: ev.Data.CorrelationId, instance: ev.Subject, askedAt: ev.Data.AskedAt}
					stories[ev.Data.CorrelationId] = s
					order = append(order, ev.Data.CorrelationId)
				}
				step := strings.TrimPrefix(ev.Type, notify.TypePrefix)
				s.steps = append(s.steps, step)
				if ev.Data.Terminal {
					s.terminal = step
				}
			}
			if !*keep {
				if err := q.DeleteMessage(m.ReceiptHandle); err != nil && !errors.Is(err, context.Canceled) {
					fmt.Fprintln(stderr, "rdsbackup watch: delete:", err)
				}
			}
		}
	}
	if *idle > 0 && !*asJSON {
		summary(stdout, stories, order)
	}
	return 0
}

// line is one event as a sentence.
func line(ev notify.Event) string {
	d := ev.Data
	var b strings.Builder
	if ev.Type == notify.TypeRun && d.Run != nil {
		fmt.Fprintf(&b, "%s plan run %s (%s", ev.Time.Local().Format("15:04:05"), ev.Subject, d.Trigger.Kind)
		if d.AskedAt != nil {
			fmt.Fprintf(&b, ", asked %s", d.AskedAt.Local().Format("15:04:05"))
		}
		fmt.Fprintf(&b, "): %d asks", d.Run.Items)
		for _, st := range []string{"accepted", "coalesced", "completed", "rejected", "failed", "deferred"} {
			if n := d.Run.Counts[st]; n > 0 {
				fmt.Fprintf(&b, ", %d %s", n, st)
			}
		}
		for _, p := range d.Run.Problems {
			fmt.Fprintf(&b, "\n    %s %s: %s", p.DBInstanceId, p.Status, p.Code)
		}
		if d.Run.More > 0 {
			fmt.Fprintf(&b, "\n    … and %d more", d.Run.More)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s %s %-9s %s", ev.Time.Local().Format("15:04:05"), d.CorrelationId, strings.TrimPrefix(ev.Type, notify.TypePrefix), ev.Subject)
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
		fmt.Fprintf(&b, " — again at %s", d.NotBefore.Local().Format("15:04:05"))
	}
	if d.Terminal {
		b.WriteString(" [final]")
	}
	return b.String()
}

func summary(w io.Writer, stories map[string]*story, order []string) {
	if len(order) == 0 {
		fmt.Fprintln(w, "no outcome arrived")
		return
	}
	sort.SliceStable(order, func(i, j int) bool { return stories[order[i]].instance < stories[order[j]].instance })
	fmt.Fprintf(w, "\n%d ask(s):\n", len(order))
	for _, k := range order {
		s := stories[k]
		end := "[final]"
		if s.terminal == "" {
			end = "→ not final yet"
		}
		asked := ""
		if s.askedAt != nil {
			asked = " asked " + s.askedAt.Local().Format("15:04:05")
		}
		fmt.Fprintf(w, "  %s %s%s: %s %s\n", k, s.instance, asked, strings.Join(s.steps, " → "), end)
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

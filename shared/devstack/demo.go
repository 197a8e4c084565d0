package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// demo runs the product end to end on the demo fleet and prints what happens.
// It exits non-zero when an expected outcome does not arrive in time, so
// `make run` in CI catches a broken product.
func demo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	loadFleet := fleetFlag(fs)
	verbose := fs.Bool("v", false, "show the functions' JSON logs")
	timeout := fs.Duration("timeout", 90*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fleet, fleetPath, err := loadFleet()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var logs io.Writer = io.Discard
	if *verbose {
		logs = os.Stderr
	}
	start := time.Now()
	fmt.Printf("fc-rds-backup demo: %d instances from %s; building the functions...\n", len(fleet.Instances), rel(fleetPath))
	// MNS time runs 20x faster so that delayed work-queue messages (retries,
	// job tracking every 30 s and more) play out in seconds.
	st, err := localcloud.StartStack(ctx, fleet, localcloud.Options{MNSSpeed: 20}, logs)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Printf("local cloud up in %.1fs: RDS %s, MNS %s, webhook %s\n\n", time.Since(start).Seconds(),
		st.Cloud.RDS.Endpoint(), st.Cloud.MNS.Endpoint(), st.WebhookURL)

	w := newWatcher(st)
	go w.run(ctx)

	step := func(n int, text string) { fmt.Printf("\n▶ %d. %s\n", n, text) }

	step(1, `the timer "local-timer" fires a plan: every instance tagged backup=nightly, Physical`)
	plan := `{"Defaults":{"BackupMethod":"Physical"},"Select":{"RegionId":"` + fleet.Region + `","Tags":{"backup":"nightly"}}}`
	fmt.Printf("   payload %s\n", plan)
	if err := fireTimer(st, ctx, plan); err != nil {
		return err
	}

	step(2, "a CI pipeline POSTs a signed request to /v1/backups: logical backup of orders on rm-demo-flaky (RDS answers InvokeProxyFailure twice)")
	body := `{"DBInstanceId":"rm-demo-flaky","BackupMethod":"Logical","BackupStrategy":"db","DBName":"orders"}`
	status, resp, err := postSignedV1(ctx, st.WebhookURL, body)
	if err != nil {
		return err
	}
	fmt.Printf("   HTTP %d %s\n", status, compact(resp))

	step(3, "a message on the work queue asks for a backup of rm-demo-maria")
	if err := st.SendMessage(`{"DBInstanceId":"rm-demo-maria"}`); err != nil {
		return err
	}
	step(4, `an invalid request on the queue: DBName "Sales-DB" on rm-demo-mysql1`)
	if err := st.SendMessage(`{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"Sales-DB"}`); err != nil {
		return err
	}

	fmt.Printf("\n… waiting for every request to reach its terminal outcome (jobs are tracked with DescribeBackupTasks)\n")
	want := map[string]string{
		"rm-demo-mysql1": "completed", "rm-demo-pg1": "completed", "rm-demo-mssql1": "completed",
		"rm-demo-flaky": "completed", "rm-demo-maria": "completed",
	}
	if err := w.waitFor(ctx, want, 1); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // let late duplicates, if any, show up
	w.printSummary(time.Since(start))
	if n := w.unexpected(); n > 0 {
		return fmt.Errorf("%d unexpected outcome(s) (see above)", n)
	}
	return nil
}

func fireTimer(st *localcloud.Stack, ctx context.Context, payload string) error {
	results, err := st.FireTimer(ctx, payload)
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Error != nil {
			fmt.Printf("   scheduled function failed: %s (FC retries it)\n", r.Error.ErrorMessage)
		} else {
			fmt.Printf("   scheduled function returned %s\n", compact(r.Response))
		}
	}
	return nil
}

// watcher prints outcome messages and job progress as they happen.
type watcher struct {
	st       *localcloud.Stack
	seen     int
	events   []outcomeEvent
	progress map[string]string // job → last status
	ch       chan outcomeEvent
}

type outcomeEvent struct {
	ID, Type, Subject string
	Data              struct {
		Status       string `json:"status"`
		Terminal     bool   `json:"terminal"`
		BackupJobId  string `json:"backupJobId"`
		BackupStatus string `json:"backupStatus"`
		BackupId     string `json:"backupId"`
		Note         string `json:"note"`
		Attempts     []struct {
			Code string `json:"code"`
		} `json:"attempts"`
		Error *struct {
			Code, Message string
		} `json:"error"`
		Trigger struct {
			Kind, Source string
		} `json:"trigger"`
	} `json:"data"`
}

func newWatcher(st *localcloud.Stack) *watcher {
	return &watcher{st: st, progress: map[string]string{}, ch: make(chan outcomeEvent, 1024)}
}

func (w *watcher) run(ctx context.Context) {
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		msgs := w.st.Cloud.MNS.Messages(localcloud.NotifyQueue)
		for _, m := range msgs[w.seen:] {
			var ev outcomeEvent
			if err := json.Unmarshal([]byte(m.Body), &ev); err != nil {
				fmt.Printf("   ? unreadable outcome message: %.80s\n", m.Body)
				continue
			}
			w.print(ev)
			w.ch <- ev
		}
		w.seen = len(msgs)
		w.printProgress()
	}
}

var marks = map[string]string{"accepted": "✓", "coalesced": "≡", "rejected": "✗", "failed": "✗", "deferred": "…", "completed": "★"}

func (w *watcher) print(ev outcomeEvent) {
	status := strings.TrimPrefix(ev.Type, "rds.backup.")
	d := ev.Data
	line := fmt.Sprintf("   %s %-9s %-15s", marks[status], status, ev.Subject)
	if d.BackupJobId != "" {
		line += " job " + d.BackupJobId
	}
	if d.BackupId != "" {
		line += " backup " + d.BackupId
	}
	if d.Error != nil {
		line += fmt.Sprintf(" %s: %s", d.Error.Code, d.Error.Message)
	}
	if n := len(d.Attempts); n > 1 {
		var codes []string
		for _, a := range d.Attempts {
			if a.Code != "" {
				codes = append(codes, a.Code)
			}
		}
		line += fmt.Sprintf(" after %d attempts (%s)", n, strings.Join(codes, ", "))
	}
	if d.Note != "" {
		line += " — " + d.Note
	}
	line += fmt.Sprintf("  [%s %s]", d.Trigger.Kind, d.Trigger.Source)
	fmt.Println(line)
}

func (w *watcher) printProgress() {
	for _, in := range w.st.Cloud.Fleet.Instances {
		for _, j := range w.st.Cloud.RDS.Jobs(in.DBInstanceId) {
			key := in.DBInstanceId + "/" + j.BackupJobId
			// Report a change of status, and Uploading in 25% steps.
			pct, _ := strconv.Atoi(j.Process)
			now := j.BackupStatus
			if j.BackupStatus == "Uploading" {
				now += " " + strconv.Itoa(pct/25*25) + "%+"
			}
			if w.progress[key] != now {
				w.progress[key] = now
				fmt.Printf("   ⋯ job %s on %s: %s %s%%\n", j.BackupJobId, in.DBInstanceId, j.BackupStatus, j.Process)
			}
		}
	}
}

// waitFor returns when every instance in want has its terminal outcome and
// rejected outcomes number at least rejected.
func (w *watcher) waitFor(ctx context.Context, want map[string]string, rejected int) error {
	got := map[string]string{}
	nRejected := 0
	done := func() bool {
		for id, s := range want {
			if got[id] != s {
				return false
			}
		}
		return nRejected >= rejected
	}
	for !done() {
		select {
		case <-ctx.Done():
			var missing []string
			for id, s := range want {
				if got[id] != s {
					missing = append(missing, id+" "+s)
				}
			}
			sort.Strings(missing)
			return fmt.Errorf("timed out waiting for: %s (rejected %d of %d)", strings.Join(missing, ", "), nRejected, rejected)
		case ev := <-w.ch:
			w.events = append(w.events, ev)
			s := strings.TrimPrefix(ev.Type, "rds.backup.")
			switch s {
			case "completed":
				got[ev.Subject] = s
			case "rejected":
				nRejected++
			case "failed":
				got[ev.Subject] = s
			}
		}
	}
	return nil
}

func (w *watcher) unexpected() int {
	n := 0
	for _, ev := range w.events {
		if ev.Type == "rds.backup.failed" {
			n++
		}
	}
	return n
}

func (w *watcher) printSummary(d time.Duration) {
	counts := map[string]int{}
	for _, ev := range w.events {
		counts[strings.TrimPrefix(ev.Type, "rds.backup.")]++
	}
	var parts []string
	for _, k := range []string{"accepted", "coalesced", "deferred", "rejected", "failed", "completed"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	fmt.Printf("\ndone in %.1fs. outcomes: %s\n", d.Seconds(), strings.Join(parts, ", "))
	calls := w.st.Cloud.RDS.Counts()
	keys := make([]string, 0, len(calls))
	for k := range calls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var cs []string
	for _, k := range keys {
		cs = append(cs, fmt.Sprintf("%s %d", k, calls[k]))
	}
	fmt.Printf("RDS calls: %s\n", strings.Join(cs, ", "))
	fmt.Printf("backups created: %s\n", compactMap(w.st.Cloud.RDS.CreatedBackups()))
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

func compactMap(m map[string]int) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func rel(p string) string {
	root, err := localcloud.ModuleRoot()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// postSignedV1 POSTs body to /v1/backups as the local signed caller,
// signed with webhook.SignV1 (DESIGN.md §5's signature v1).
func postSignedV1(ctx context.Context, webhookURL, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL+"/v1/backups", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Caller", localcloud.SignedCaller)
	req.Header.Set("X-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Signature-256", webhook.SignV1(localcloud.SignedSecret, ts, http.MethodPost, "/v1/backups", nil, []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

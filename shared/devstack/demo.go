package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// mnsSpeed is how much faster than real time the demo's MNS clock runs, so
// that the work queue's delayed messages (a deferral's notBefore, the job
// checks 30 s, 1 m and 2 m after a job is accepted) play out in seconds.
const mnsSpeed = 20

// demoAttempts is the scheduled function's BACKUP_ATTEMPTS_PER_INVOCATION in
// the demo (default 6): it defers a Rebooting instance after one state wait
// instead of waiting it out for a minute.
const demoAttempts = 2

// The demo fleet's instances the story uses.
const (
	idMySQL   = "rm-demo-mysql1"
	idPG      = "rm-demo-pg1"
	idMSSQL   = "rm-demo-mssql1"
	idFlaky   = "rm-demo-flaky"
	idMaria   = "rm-demo-maria"
	idReplica = "rm-demo-replica"
	idDev1    = "rm-demo-dev1" // in the member account devAccount, the fleet's region
	idDev2    = "rm-demo-dev2" // in devAccount, cn-shanghai
)

// devAccount is the demo fleet's second account: a team's own account
// whose role fc-rds-backup-member trusts the functions' account.
const devAccount = "2000000000000002"

// demoCommand runs the product end to end on the demo fleet and prints each
// step as it happens. It fails (exit 1) when an expected outcome does not
// arrive in time or an unexpected one does, so `make run` in CI catches a
// broken product.
func demoCommand(fs *flag.FlagSet) func() error {
	loadFleet := fleetFlag(fs)
	verbose := fs.Bool("v", false, "also show the functions' JSON logs (on stderr)")
	timeout := fs.Duration("timeout", 90*time.Second, "give up when the story has not ended `D` after the local cloud is up")
	return func() error { return demo(loadFleet, *verbose, *timeout) }
}

func demo(loadFleet func() (localcloud.Fleet, string, error), verbose bool, timeout time.Duration) error {
	fleet, fleetPath, err := loadFleet()
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, in := range fleet.Instances {
		have[in.DBInstanceId] = true
	}
	for _, id := range []string{idMySQL, idPG, idMSSQL, idFlaky, idMaria, idReplica, idDev1, idDev2} {
		if !have[id] {
			return fmt.Errorf("the demo's story needs instance %s, which %s does not have (use testdata/fleet/demo.json or a copy of it)", id, rel(fleetPath))
		}
	}
	var logs io.Writer = io.Discard
	if verbose {
		logs = os.Stderr
	}
	backupTakes := fmt.Sprintf("%gs per backup", cmp.Or(fleet.BackupSeconds, 60))
	if m := fleet.BackupSecondsByMethod; len(m) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s %gs", k, m[k]))
		}
		backupTakes = "per backup " + strings.Join(parts, ", ")
	}
	p := &printer{}
	p.say("fc-rds-backup demo: the product end to end on the local cloud (RDS, MNS and Function Compute emulators; no account, no network)")
	p.say("  fleet   %d instances from %s; RDS takes %s", len(fleet.Instances), rel(fleetPath), backupTakes)
	p.say("  clock   MNS runs %d× faster than real time, so the work queue's delayed messages come back %d× sooner: a deferral's", mnsSpeed, mnsSpeed)
	p.say("          notBefore, and the job checks 30 s, 1 m and 2 m after a job is accepted (here %s, %s and %s).",
		secs(30*time.Second/mnsSpeed), secs(60*time.Second/mnsSpeed), secs(120*time.Second/mnsSpeed))
	p.say("          RDS, the functions and their retries run in real time.")
	p.say("  config  the functions as deployed, except the scheduled function's BACKUP_ATTEMPTS_PER_INVOCATION=%d (default 6),", demoAttempts)
	p.say("          so that it defers a Rebooting instance after one wait instead of waiting a minute")

	if err := buildFunctions(p, fleet.Region); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := localcloud.StartStack(ctx, fleet, localcloud.Options{
		MNSSpeed:    mnsSpeed,
		FunctionEnv: map[string][]string{"scheduled": {"BACKUP_ATTEMPTS_PER_INVOCATION=" + strconv.Itoa(demoAttempts)}},
	}, logs)
	if err != nil {
		return err
	}
	defer st.Close()
	p.start = time.Now()
	p.say("local cloud up: RDS %s, MNS %s, webhook %s", st.Cloud.RDS.Endpoint(), st.Cloud.MNS.Endpoint(), st.WebhookURL)
	p.say("each line below prints when it happens; the first column is the time since the local cloud came up")

	w := newWatcher(st, p)
	go w.run(ctx)
	d := &story{ctx: ctx, st: st, p: p, w: w, region: fleet.Region}
	for _, step := range []func() error{d.timerPlan, d.rebootEnds, d.signedRequest, d.redelivery, d.invalidRequest, d.jobsFinish, d.jiraChange, d.secondAccount} {
		if err := step(); err != nil {
			return err
		}
	}
	time.Sleep(500 * time.Millisecond) // let late duplicates, if any, show up
	return d.summary()
}

// buildFunctions builds the three function binaries (localcloud builds them
// once per process), saying so: the first time it compiles the product.
func buildFunctions(p *printer, region string) error {
	p.say("building the three functions into build/local (the first time compiles the product: a minute or more) …")
	start := time.Now()
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(15 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				p.say("  … still building (%s)", secs(time.Since(start)))
			}
		}
	}()
	cloud, err := localcloud.StartCloud(localcloud.Fleet{Region: region}, localcloud.Options{})
	if err == nil {
		err = cloud.BuildAll()
		cloud.Close()
	}
	close(done)
	if err != nil {
		return err
	}
	p.say("built in %s", secs(time.Since(start)))
	return nil
}

// story is the demo's steps on one local cloud.
type story struct {
	ctx    context.Context
	st     *localcloud.Stack
	p      *printer
	w      *watcher
	region string
	n      int
}

func (d *story) step(format string, args ...any) {
	d.n++
	d.p.say("")
	d.p.step(d.n, fmt.Sprintf(format, args...))
}

// timerPlan: the nightly plan, one instance Rebooting and one read-only, so
// that the run summary has something to say.
func (d *story) timerPlan() error {
	d.st.Cloud.RDS.SetStatus(idPG, "Rebooting")
	d.step(`the timer "local-timer" fires the nightly plan: every instance tagged backup=nightly, and %s, Physical`, idReplica)
	d.p.note("%s is Rebooting just now (the demo set its status in the local RDS); %s is a read-only instance", idPG, idReplica)
	plan := `{"Defaults":{"BackupMethod":"Physical"},"Backups":[{"DBInstanceId":"` + idReplica + `"}],` +
		`"Select":{"RegionId":"` + d.region + `","Tags":{"backup":"nightly"}}}`
	d.p.note("payload %s", plan)
	d.p.note("the scheduled function runs the plan; it waits once for %s (a few seconds), then defers it …", idPG)
	results, err := d.st.FireTimer(d.ctx, plan)
	if err != nil {
		return err
	}
	d.w.poll() // the outcomes it published, before saying it returned
	for _, r := range results {
		if r.Error != nil {
			d.p.note("the scheduled function failed: %s (FC retries it)", r.Error.ErrorMessage)
		} else {
			d.p.note("the scheduled function returned %s after %s", compact(r.Response), secs(r.Duration))
		}
	}
	return d.w.wait(d.ctx, "the plan run's summary (rds.backup.run)", func(evs []notify.Event) bool {
		return slices.ContainsFunc(evs, func(ev notify.Event) bool { return ev.Type == notify.TypeRun })
	})
}

// rebootEnds: the Rebooting instance turns Running; its deferred request
// comes back from the work queue at notBefore and gets its backup.
func (d *story) rebootEnds() error {
	d.step("%s finishes rebooting; its deferred request waits in the work queue until notBefore, then the queue function runs it again", idPG)
	if err := d.w.wait(d.ctx, idPG+" deferred", has(idPG, "deferred")); err != nil {
		return err
	}
	d.st.Cloud.RDS.SetStatus(idPG, "Running")
	d.p.note("%s is Running (the demo set its status in the local RDS)", idPG)
	if err := d.w.wait(d.ctx, idPG+" accepted after its deferral", func(evs []notify.Event) bool {
		return has(idPG, "accepted")(evs) || has(idPG, "coalesced")(evs)
	}); err != nil {
		return err
	}
	var deferred, resumed notify.Event
	for _, ev := range d.w.events() {
		switch {
		case ev.Subject != idPG:
		case ev.Type == notify.TypePrefix+"deferred" && deferred.ID == "":
			deferred = ev
		case ev.Type == notify.TypePrefix+"accepted", ev.Type == notify.TypePrefix+"coalesced":
			resumed = ev
		}
	}
	if deferred.Data.IdempotencyKey == resumed.Data.IdempotencyKey {
		d.p.note("the same ask, resumed by %s: idempotency key %s, askedAt %s, its attempts carried over", resumed.Source,
			clip(resumed.Data.IdempotencyKey, 16), askedAt(resumed))
	}
	return nil
}

func askedAt(ev notify.Event) string {
	if ev.Data.AskedAt == nil {
		return "unknown"
	}
	return ev.Data.AskedAt.Format(time.RFC3339)
}

// signedRequest: a pipeline's signed POST, on an instance whose first two
// CreateBackup calls fail with a 500 (the fleet's faults).
func (d *story) signedRequest() error {
	d.step("a CI pipeline POSTs a signed request to /v1/backups: a logical backup of orders on %s (RDS answers InvokeProxyFailure twice)", idFlaky)
	body := `{"DBInstanceId":"` + idFlaky + `","BackupMethod":"Logical","BackupStrategy":"db","DBName":"orders"}`
	status, resp, err := postSignedV1(d.ctx, d.st.WebhookURL, body)
	if err != nil {
		return err
	}
	d.p.note("HTTP %d %s", status, compact(resp))
	return d.w.wait(d.ctx, idFlaky+" accepted", has(idFlaky, "accepted"))
}

// redelivery: a message whose first delivery dies after RDS made the job;
// FC retries the asynchronous invocation of its batch (the work-queue
// trigger invokes asynchronously), and the second delivery coalesces.
func (d *story) redelivery() error {
	crash := localcloud.Crash{Action: "CreateBackup", DBInstanceId: idMaria, Function: "queue", When: localcloud.CrashAfter}
	if err := d.st.Cloud.AddFaults(localcloud.FaultSet{Crashes: []localcloud.Crash{crash}}); err != nil {
		return err
	}
	d.step("a producer sends a message to the work queue asking for a backup of %s; the demo has the local cloud kill the queue function", idMaria)
	d.p.cont("(SIGKILL) right after RDS makes the job, before the function can answer, so FC retries the invocation and the message is delivered again")
	if err := d.st.SendMessage(`{"DBInstanceId":"` + idMaria + `"}`); err != nil {
		return err
	}
	if err := d.wait("the crash", func() bool {
		for _, c := range d.st.Cloud.Faults().Crashes {
			if c.Action == crash.Action && c.DBInstanceId == idMaria && c.Fired {
				return true
			}
		}
		return false
	}); err != nil {
		return err
	}
	jobs := d.st.Cloud.RDS.Jobs(idMaria)
	job := "?"
	if len(jobs) > 0 {
		job = jobs[len(jobs)-1].BackupJobId
	}
	d.p.event("↯", "RDS made job %s on %s; the queue function was killed before it could answer (delivery 1)", job, idMaria)
	if err := d.w.wait(d.ctx, idMaria+" coalesced", has(idMaria, "coalesced")); err != nil {
		return err
	}
	msgID := ""
	for _, ev := range d.w.events() {
		if ev.Subject == idMaria && ev.Type == notify.TypePrefix+"coalesced" {
			msgID = ev.Data.Trigger.DeliveryId
		}
	}
	// The trigger's log of the message's batch: the killed invocation, then
	// FC's async retry that succeeded.
	_ = d.wait("FC's log of the message's invocation", func() bool {
		for _, b := range d.st.Trigger.Batches() {
			if slices.Contains(b.MessageIDs, msgID) && b.Delivered {
				var tries []string
				for i, a := range b.Attempts {
					what := "ok"
					if a.Error != nil {
						what = a.Error.ErrorMessage
					}
					tries = append(tries, fmt.Sprintf("retry count %d: %s", i, what))
				}
				retries := "its retries"
				if len(b.Attempts) == 2 {
					retries = "its retry"
				}
				d.p.event("↻", "FC delivered message %s %d times, an asynchronous invocation and %s (%s): one backup, one ask", msgID, len(b.Attempts), retries, strings.Join(tries, "; "))
				return true
			}
		}
		return false
	})
	return nil
}

func (d *story) invalidRequest() error {
	d.step(`an invalid request on the work queue: DBName "Sales-DB" on %s (refused before any RDS call)`, idMySQL)
	if err := d.st.SendMessage(`{"DBInstanceId":"` + idMySQL + `","BackupMethod":"Logical","BackupStrategy":"db","DBName":"Sales-DB"}`); err != nil {
		return err
	}
	return d.w.wait(d.ctx, idMySQL+" rejected", has(idMySQL, "rejected"))
}

// jobsFinish waits for every job to be tracked to completed.
func (d *story) jobsFinish() error {
	d.step("the jobs run in RDS; the queue function checks each one 30 s, 1 m and 2 m after it was accepted (MNS time) until it ends")
	want := []string{idMySQL, idMSSQL, idPG, idFlaky, idMaria}
	return d.w.wait(d.ctx, "completed for "+strings.Join(want, ", "), func(evs []notify.Event) bool {
		for _, id := range want {
			if !has(id, "completed")(evs) {
				return false
			}
		}
		return true
	})
}

// jiraChange: a change-management ask. A Jira change, OPS-123, moves to
// Implementing; Jira's webhook (signed with the route's secret) asks the
// local route ops-change for a Snapshot backup of rm-demo-mysql1 before the
// change starts, and Jira's retry of the delivery is the same ask.
func (d *story) jiraChange() error {
	d.step("a change in Jira, OPS-123, moves to Implementing: Jira's webhook POSTs the event to /v1/hooks/jira, signed with the route's secret")
	d.p.cont("(route ops-change: project OPS, status Implementing, a Snapshot backup of " + idMySQL + " before the change starts: snapshots take seconds)")
	root, err := localcloud.ModuleRoot()
	if err != nil {
		return err
	}
	body, err := os.ReadFile(filepath.Join(root, "testdata", "events", "jira-issue-updated.json"))
	if err != nil {
		return err
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		return err
	}
	p["timestamp"] = time.Now().UnixMilli() // the fixture's moment is long past: older than BACKUP_MAX_ASK_AGE
	if body, err = json.Marshal(p); err != nil {
		return err
	}
	post := func() (int, []byte, error) {
		mac := hmac.New(sha256.New, []byte(localcloud.JiraSecret))
		mac.Write(body)
		return postHook(d.ctx, d.st.WebhookURL+"/v1/hooks/jira", body, map[string]string{
			"Content-Type":               "application/json; charset=UTF-8",
			webhook.HeaderJiraIdentifier: "9c1f7a52-3d4e-4b8a-a0f6-2e7d5c91b364",
			webhook.HeaderJiraSig:        "sha256=" + hex.EncodeToString(mac.Sum(nil)),
		})
	}
	status, resp, err := post()
	if err != nil {
		return err
	}
	d.p.note("HTTP %d %s", status, clip(compact(resp), 220))
	fromJira := func(status string) func([]notify.Event) bool {
		return func(evs []notify.Event) bool {
			return slices.ContainsFunc(evs, func(ev notify.Event) bool {
				return ev.Subject == idMySQL && ev.Type == notify.TypePrefix+status && ev.Data.Trigger.Kind == "jira"
			})
		}
	}
	if err := d.w.wait(d.ctx, idMySQL+" accepted for OPS-123", fromJira("accepted")); err != nil {
		return err
	}
	d.p.note("Jira retries the delivery (the same X-Atlassian-Webhook-Identifier): the same ask, no second backup")
	status, resp, err = post()
	if err != nil {
		return err
	}
	d.p.note("HTTP %d %s", status, clip(compact(resp), 220))
	return d.w.wait(d.ctx, idMySQL+" completed for OPS-123", fromJira("completed"))
}

// secondAccount: a plan across accounts and regions. The demo fleet's
// second account holds rm-demo-dev1 and rm-demo-dev2 (cn-shanghai) and a
// role fc-rds-backup-member trusting the functions' account with the
// deployment's ExternalId; a timer plan selects its instances tagged
// backup=weekly in both regions, one step per (account, region), and the
// queue function backs them up with the role's credentials.
func (d *story) secondAccount() error {
	d.step("a second account: %s, a team's own account, holds %s and %s (cn-shanghai) and a role fc-rds-backup-member", devAccount, idDev1, idDev2)
	d.p.cont("trusting the functions' account with the deployment's ExternalId; a timer plan selects its backup=weekly instances in two regions")
	plan := `{"Select":{"Tags":{"backup":"weekly"},"Accounts":["` + devAccount + `"],"Regions":["` + d.region + `","cn-shanghai"]}}`
	d.p.note("payload %s", plan)
	if _, err := d.st.FireTimer(d.ctx, plan); err != nil {
		return err
	}
	if err := d.w.wait(d.ctx, idDev1+" and "+idDev2+" accepted, and the run's summary", func(evs []notify.Event) bool {
		runs := 0
		for _, ev := range evs {
			if ev.Type == notify.TypeRun {
				runs++
			}
		}
		return has(idDev1, "accepted")(evs) && has(idDev2, "accepted")(evs) && runs == 2
	}); err != nil {
		return err
	}
	var assumed []string
	for _, c := range d.st.Cloud.STS.Calls() {
		if c.Action == "AssumeRole" && c.Status == 200 {
			assumed = append(assumed, fmt.Sprintf("%s as session %s", c.RoleArn, clip(c.RoleSessionName, 24)))
		}
	}
	d.p.note("STS: %d AssumeRole (%s); ActionTrail in %s names the run", len(assumed), strings.Join(assumed, "; "), devAccount)
	for _, c := range d.st.Cloud.RDS.Calls() {
		if c.Action == "CreateBackup" && (c.DBInstanceId == idDev1 || c.DBInstanceId == idDev2) {
			d.p.note("RDS: CreateBackup of %s signed with a key of account %s", c.DBInstanceId, d.st.Cloud.Auth.AccountOf(c.AccessKeyId))
		}
	}
	return nil
}

// postHook POSTs body to url with headers.
func postHook(ctx context.Context, url string, body []byte, headers map[string]string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// summary prints the counts and checks the story's promises: no failure,
// and exactly one backup per instance that was asked for one.
func (d *story) summary() error {
	evs := d.w.events()
	counts := map[string]int{}
	for _, ev := range evs {
		counts[strings.TrimPrefix(ev.Type, notify.TypePrefix)]++
	}
	var parts []string
	for _, k := range []string{"accepted", "coalesced", "deferred", "rejected", "failed", "completed", "run"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	d.p.say("")
	d.p.say("done in %s. outcome messages: %s (duplicates dropped by id: %d)", secs(time.Since(d.p.start)), strings.Join(parts, ", "), d.w.duplicates())
	calls := d.st.Cloud.RDS.Counts()
	var cs []string
	for _, k := range slices.Sorted(maps.Keys(calls)) {
		cs = append(cs, fmt.Sprintf("%s %d", k, calls[k]))
	}
	d.p.say("RDS calls: %s", strings.Join(cs, ", "))
	created := d.st.Cloud.RDS.CreatedBackups()
	d.p.say("backups created: %s (one per ask: %s's message delivered twice and Jira's retry included; %s twice, the nightly plan's and the change's;",
		compactMap(created), idMaria, idMySQL)
	d.p.say("  %s and %s in account %s)", idDev1, idDev2, devAccount)

	var problems []string
	if counts["failed"] > 0 {
		problems = append(problems, fmt.Sprintf("%d failed outcome(s)", counts["failed"]))
	}
	for id, want := range map[string]int{idMySQL: 2, idPG: 1, idMSSQL: 1, idFlaky: 1, idMaria: 1, idDev1: 1, idDev2: 1} {
		if created[id] != want {
			problems = append(problems, fmt.Sprintf("%d backups of %s, want %d", created[id], id, want))
		}
	}
	if created[idReplica] != 0 {
		problems = append(problems, fmt.Sprintf("%d backups of the read-only %s, want 0", created[idReplica], idReplica))
	}
	if len(problems) > 0 {
		return errors.New("the story went wrong: " + strings.Join(problems, "; "))
	}
	return nil
}

// wait polls cond until it holds.
func (d *story) wait(what string, cond func() bool) error {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-d.ctx.Done():
			return fmt.Errorf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
	return nil
}

// has is a condition: an outcome of status for instance id arrived.
func has(id, status string) func([]notify.Event) bool {
	return func(evs []notify.Event) bool {
		return slices.ContainsFunc(evs, func(ev notify.Event) bool {
			return ev.Subject == id && ev.Type == notify.TypePrefix+status
		})
	}
}

// printer writes the demo's lines, one at a time, with the time since the
// local cloud came up.
type printer struct {
	mu    sync.Mutex
	start time.Time
}

func (p *printer) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Printf(format+"\n", args...)
}

func (p *printer) step(n int, text string) { p.say("▶ %d. %s", n, text) }

// cont continues a step's text on the next line.
func (p *printer) cont(text string) { p.say("     %s", text) }

// note is a line of a step said by the demo itself.
func (p *printer) note(format string, args ...any) {
	p.event(" ", format, args...)
}

// detail is a line under an event.
func (p *printer) detail(format string, args ...any) {
	p.say("%6s   %-9s %s", "", "", fmt.Sprintf(format, args...))
}

// event is something that happened, with its time.
func (p *printer) event(mark, format string, args ...any) {
	p.say("%6s %s %s", secs(time.Since(p.start)), mark, fmt.Sprintf(format, args...))
}

// watcher prints outcome messages (dropping duplicates by id, as a consumer
// should) and the ends of RDS jobs as they happen.
type watcher struct {
	st *localcloud.Stack
	p  *printer

	mu       sync.Mutex
	seen     int             // notify messages read
	ids      map[string]bool // event ids printed
	evs      []notify.Event
	dups     int
	finished map[string]bool // jobs seen ended in RDS
	changed  chan struct{}   // closed and replaced when evs grows
}

func newWatcher(st *localcloud.Stack, p *printer) *watcher {
	return &watcher{st: st, p: p, ids: map[string]bool{}, finished: map[string]bool{}, changed: make(chan struct{})}
}

func (w *watcher) run(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w.poll()
	}
}

func (w *watcher) poll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	msgs := w.st.Cloud.MNS.Messages(localcloud.NotifyQueue)
	grew := false
	for _, m := range msgs[w.seen:] {
		ev, err := notify.ParseEvent([]byte(m.Body))
		if err != nil {
			w.p.event("?", "unreadable outcome message (%v): %.80s", err, m.Body)
			continue
		}
		if w.ids[ev.ID] {
			w.dups++
			continue
		}
		w.ids[ev.ID] = true
		w.evs = append(w.evs, ev)
		w.print(ev)
		grew = true
	}
	w.seen = len(msgs)
	for _, in := range w.st.Cloud.Fleet.Instances {
		for _, j := range w.st.Cloud.RDS.Jobs(in.DBInstanceId) {
			if j.Terminal() && !w.finished[j.BackupJobId] {
				w.finished[j.BackupJobId] = true
				w.p.event("⋯", "RDS: job %s on %s is %s (backup set %s); the queue function's next check will see it", j.BackupJobId, in.DBInstanceId, j.BackupStatus, j.BackupId)
			}
		}
	}
	if grew {
		close(w.changed)
		w.changed = make(chan struct{})
	}
}

var marks = map[string]string{"accepted": "✓", "coalesced": "≡", "rejected": "✗", "failed": "✗", "deferred": "…", "completed": "★", "run": "■"}

func (w *watcher) print(ev notify.Event) {
	status := strings.TrimPrefix(ev.Type, notify.TypePrefix)
	d := ev.Data
	from := fmt.Sprintf("  [%s %s]", d.Trigger.Kind, d.Trigger.Source)
	if ev.Type == notify.TypeRun && d.Run != nil {
		var counts []string
		for _, s := range []string{"accepted", "coalesced", "completed", "deferred", "rejected", "failed"} {
			if n := d.Run.Counts[s]; n > 0 {
				counts = append(counts, fmt.Sprintf("%s %d", s, n))
			}
		}
		w.p.event(marks[status], "%-9s %-15s the plan run's summary (%s)%s", status, ev.Subject, ev.Type, from)
		w.p.detail("%d asks, by first outcome: %s (%s)", d.Run.Items, strings.Join(counts, ", "), d.Run.Verdict)
		for _, k := range slices.Sorted(maps.Keys(d.Run.Targets)) {
			if !strings.HasPrefix(k, "own/") {
				w.p.detail("in %s: accepted %d", k, d.Run.Targets[k]["accepted"])
			}
		}
		for _, pr := range d.Run.Problems {
			w.p.detail("%s %s: %s", pr.DBInstanceId, pr.Status, pr.Code)
		}
		if d.Run.More > 0 {
			w.p.detail("… and %d more", d.Run.More)
		}
		return
	}
	line := fmt.Sprintf("%-9s %-15s", status, ev.Subject)
	if a := d.Request.AccountId; a != "" {
		line += " (account " + a + ")"
	}
	if d.BackupJobId != "" {
		line += " job " + d.BackupJobId
	}
	if d.BackupId != "" {
		line += ", backup set " + d.BackupId
	}
	w.p.event(marks[status], "%s%s", line, from)
	// The details, each on a line of its own under the status.
	if d.Error != nil {
		w.p.detail("%s: %s", d.Error.Code, clip(d.Error.Message, 140))
	}
	if n := len(d.Attempts); n > 1 {
		var codes []string
		for _, a := range d.Attempts {
			if a.Code != "" {
				codes = append(codes, a.Code)
			}
		}
		w.p.detail("after %d attempts (%s)", n, strings.Join(codes, ", "))
	}
	if d.NotBefore != nil {
		wait := d.NotBefore.Sub(ev.Time)
		w.p.detail("resumes at notBefore, %s later (%s here: MNS time runs %d×)", secs(wait), secs(wait/mnsSpeed), mnsSpeed)
	}
	if d.Note != "" {
		w.p.detail("%s", d.Note)
	}
}

// events returns the distinct outcome messages so far.
func (w *watcher) events() []notify.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.evs)
}

func (w *watcher) duplicates() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dups
}

// wait returns once cond holds for the outcome messages so far.
func (w *watcher) wait(ctx context.Context, what string, cond func([]notify.Event) bool) error {
	for {
		w.mu.Lock()
		ok, changed := cond(w.evs), w.changed
		w.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for %s", what)
		case <-changed:
		}
	}
}

func secs(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	default:
		return d.Round(time.Second).String()
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
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

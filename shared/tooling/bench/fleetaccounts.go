package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

// fleetAccountsSpec is the fleet across accounts (issue 21's first "Done
// when"): accounts member accounts × regions regions × perPair tagged
// instances, RDS's per-API quotas on with CreateBackup at quota calls per
// second per (account, region).
type fleetAccountsSpec struct {
	accounts, regions, perPair int
	quota                      float64
	// fcInstances: instances of each function at once, and so batches the
	// work queue's asynchronous trigger runs at once (default 10: Function
	// Compute starts an instance per asynchronous invocation running, and
	// the fleet's steps are 10 batches; 0: the local cloud's default, 1 and
	// localcloud.QueueInstances for the queue function).
	fcInstances int
	// env is added to the functions' environment (what-ifs: -env
	// BACKUP_FRESH_FOR=1m); the table's row runs without.
	env   []string
	trace bool
}

// The regions of the fleet across accounts, the first the functions' own.
var benchRegions = []string{"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "cn-zhangjiakou",
	"cn-qingdao", "cn-huhehaote", "cn-chengdu"}

const (
	benchMemberRole = "fc-rds-backup-member"
	benchExternalID = "ext-bench-fleet"
)

// benchAccount is the i-th member account id (16 digits, never the local
// cloud's own).
func benchAccount(i int) string { return fmt.Sprintf("7%015d", i+1) }

// floor is the quota-bound floor: the most instances of one (account,
// region) ÷ its CreateBackup quota.
func (s fleetAccountsSpec) floor() time.Duration {
	return time.Duration(float64(s.perPair) / s.quota * float64(time.Second))
}

// fleetAccountsResult is what one run of the plan came to.
type fleetAccountsResult struct {
	wall       time.Duration
	tagged     int
	missed     int            // tagged instances without a backup
	duplicates int            // backups beyond one per tagged instance
	outcomes   map[string]int // first outcome per ask (the run summary's counts)
	events     map[string]int // every outcome event, by status
	// throttledFailed, throttledDeferred: outcome events failed or
	// deferred with a Throttling code.
	throttledFailed, throttledDeferred int
	verdict                            string
	assume                             map[string]int // AssumeRole calls per role ARN
	assumeCalls                        int
	started                            map[string]int // function instances started during the run
	rdsCalls                           map[string]int // RDS calls during the run, by action
	rdsThrottled                       map[string]int // of them answered Throttling.*, by action
	// firstCreate is when the first CreateBackup went out, lastCreate
	// when the last accepted one did (from the trigger).
	firstCreate, lastCreate time.Duration
	// slowestPair is the (account/region) whose accepted CreateBackups
	// spanned longest, and that span; medianSpan the median over pairs.
	slowestPair             string
	slowestSpan, medianSpan time.Duration
	// startSpread is how far apart the pairs' first CreateBackups were.
	startSpread   time.Duration
	cpuAll, cpuFn time.Duration
	workers       int // queue function instances at once
}

// measureFleetAccounts runs a timer plan over the fleet across accounts end
// to end through the built functions with the ask ledger, on the local
// cloud with a generated fleet: a member role per account in the STS
// emulator trusting the functions' account under benchExternalID.
func measureFleetAccounts(spec fleetAccountsSpec) (fleetAccountsResult, error) {
	res := fleetAccountsResult{}
	if spec.regions > len(benchRegions) {
		return res, fmt.Errorf("at most %d regions", len(benchRegions))
	}
	regions := benchRegions[:spec.regions]
	fleet := localcloud.Fleet{Region: regions[0], BackupSeconds: 3600, MemberExternalID: benchExternalID,
		Quotas: map[string]float64{"CreateBackup": spec.quota}}
	var accounts []string
	regionOf := map[string]string{}
	for a := range spec.accounts {
		acct := benchAccount(a)
		accounts = append(accounts, acct)
		fleet.Roles = append(fleet.Roles, sts.Role{AccountID: acct, Name: benchMemberRole, ExternalID: benchExternalID,
			Trusted: []string{localcloud.AccountID}})
		for r, reg := range regions {
			for i := range spec.perPair {
				id := fmt.Sprintf("rm-fa%02d%d%04d", a, r, i)
				fleet.Instances = append(fleet.Instances, rds.Instance{DBInstanceId: id, AccountId: acct, RegionId: reg,
					Engine: "MySQL", Tags: map[string]string{"bench": "accounts"}})
				regionOf[id] = reg
			}
		}
	}
	res.tagged = len(fleet.Instances)
	fleet.Instances = append(fleet.Instances, rds.Instance{DBInstanceId: "rm-warm", Engine: "MySQL"})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var logs io.Writer = io.Discard
	if spec.trace {
		f, err := os.Create("/tmp/bench-fleet-accounts.log")
		if err != nil {
			return res, err
		}
		defer f.Close()
		logs = f
	}
	st, err := localcloud.StartStack(ctx, fleet, localcloud.Options{Env: append([]string{"BACKUP_TRACK_JOBS=false"}, spec.env...),
		FCInstances: spec.fcInstances}, logs)
	if err != nil {
		return res, err
	}
	defer st.Close()
	res.workers = st.Queue.Config().Instances
	// Warm up both functions in the own account (their first invocation
	// starts the process); member credentials are not warmed: the run
	// assumes every role, which is what the STS log counts.
	if _, err := st.FireTimer(ctx, `{"Backups":[{"DBInstanceId":"rm-warm"}]}`); err != nil {
		return res, err
	}
	src := fc.MNSEventSource{Queue: localcloud.WorkQueue, Region: regions[0], AccountID: localcloud.AccountID}
	if r, err := st.Queue.Invoke(ctx, fc.NewMNSEvents(src, fc.MNSMessage{Body: `{"DBInstanceId":"rm-warm"}`}), fc.InvokeOptions{}); err != nil || r.Failed() {
		return res, fmt.Errorf("warm-up invocation: %v %+v", err, r.Error)
	}
	// A timer's delivery id is its time to the second: the run must not
	// share the warm-up's.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	runs0 := runSummaries(st)
	notify0 := len(st.Cloud.MNS.Messages(localcloud.NotifyQueue))
	rds0, sts0 := len(st.Cloud.RDS.Calls()), len(st.Cloud.STS.Calls())
	started0 := map[string]int{"scheduled": st.Scheduled.Started(), "queue": st.Queue.Started()}
	cpu0 := cpuOf(append(st.Scheduled.PIDs(), append(st.Queue.PIDs(), os.Getpid())...))
	fn0 := cpuOf(append(st.Scheduled.PIDs(), st.Queue.PIDs()...))

	plan := fmt.Sprintf(`{"Select":{"Tags":{"bench":"accounts"},"Accounts":["%s"],"Regions":["%s"]}}`,
		strings.Join(accounts, `","`), strings.Join(regions, `","`))
	start := time.Now()
	if rs, err := st.FireTimer(ctx, plan); err != nil || len(rs) == 0 || rs[len(rs)-1].Failed() {
		return res, fmt.Errorf("timer: %v %+v", err, rs)
	}
	var watch summaryWatch
	for watch.count(st) <= runs0 {
		if ctx.Err() != nil {
			return res, fmt.Errorf("no run summary within the time: %w", ctx.Err())
		}
		// MNS.Messages copies the whole log under the emulator's lock:
		// every 25 ms (0.25 % of the floor) keeps it off the functions' way.
		time.Sleep(25 * time.Millisecond)
	}
	res.wall = time.Since(start)
	// CPU is read when the summary is out, PIDs then (an instance started
	// during the run counts whole).
	res.cpuAll = cpuOf(append(st.Scheduled.PIDs(), append(st.Queue.PIDs(), os.Getpid())...)) - cpu0
	res.cpuFn = cpuOf(append(st.Scheduled.PIDs(), st.Queue.PIDs()...)) - fn0

	// Let late work land before counting backups: nothing in the work
	// queue and no outcome for two seconds (a duplicate after the summary
	// is still a duplicate).
	settle(ctx, st, 2*time.Second)

	created := st.Cloud.RDS.CreatedBackups()
	for _, in := range fleet.Instances {
		if in.DBInstanceId == "rm-warm" {
			continue
		}
		switch n := created[in.DBInstanceId]; {
		case n == 0:
			res.missed++
		case n > 1:
			res.duplicates += n - 1
		}
	}
	res.events = map[string]int{}
	for _, m := range st.Cloud.MNS.Messages(localcloud.NotifyQueue)[notify0:] {
		ev, err := notify.ParseEvent([]byte(m.Body))
		if err != nil {
			return res, fmt.Errorf("notify message %s: %w", m.MessageID, err)
		}
		if ev.Type == notify.TypeRun {
			if ev.Data.Run != nil && res.outcomes == nil {
				res.verdict, res.outcomes = ev.Data.Run.Verdict, ev.Data.Run.Counts
			}
			continue
		}
		res.events[string(ev.Data.Status)]++
		if e := ev.Data.Error; e != nil && strings.HasPrefix(e.Code, "Throttling") {
			switch ev.Data.Status {
			case "failed":
				res.throttledFailed++
			case "deferred":
				res.throttledDeferred++
			}
		}
	}
	res.assume = map[string]int{}
	for _, c := range st.Cloud.STS.Calls()[sts0:] {
		if c.Action == "AssumeRole" {
			res.assume[c.RoleArn]++
			res.assumeCalls++
		}
	}
	res.started = map[string]int{"scheduled": st.Scheduled.Started() - started0["scheduled"], "queue": st.Queue.Started() - started0["queue"]}

	// Where the time went: per (account, region), the accepted
	// CreateBackups' span (the quota's floor is (perPair-1) ÷ quota).
	res.rdsCalls, res.rdsThrottled = map[string]int{}, map[string]int{}
	type span struct{ first, last time.Time }
	pairs := map[string]*span{}
	firstCall := map[string]time.Time{} // a pair's first RDS call naming an instance
	var first, last time.Time
	for _, c := range st.Cloud.RDS.Calls()[rds0:] {
		if reg := regionOf[c.DBInstanceId]; reg != "" {
			k := st.Cloud.Auth.AccountOf(c.AccessKeyId) + "/" + reg
			if t, ok := firstCall[k]; !ok || c.Start.Before(t) {
				firstCall[k] = c.Start
			}
		}
		res.rdsCalls[c.Action]++
		if strings.HasPrefix(c.Code, "Throttling") {
			res.rdsThrottled[c.Action]++
		}
		if c.Action != "CreateBackup" {
			continue
		}
		if first.IsZero() || c.Start.Before(first) {
			first = c.Start
		}
		if c.Status != 200 {
			continue
		}
		if c.Start.After(last) {
			last = c.Start
		}
		k := st.Cloud.Auth.AccountOf(c.AccessKeyId) + "/" + regionOf[c.DBInstanceId]
		p := pairs[k]
		if p == nil {
			p = &span{c.Start, c.Start}
			pairs[k] = p
		}
		if c.Start.Before(p.first) {
			p.first = c.Start
		}
		if c.Start.After(p.last) {
			p.last = c.Start
		}
	}
	if !first.IsZero() {
		res.firstCreate, res.lastCreate = first.Sub(start), last.Sub(start)
	}
	var spans []time.Duration
	var earliest, latest time.Time
	for _, k := range slices.Sorted(maps.Keys(pairs)) {
		p := pairs[k]
		d := p.last.Sub(p.first)
		spans = append(spans, d)
		if d > res.slowestSpan {
			res.slowestPair, res.slowestSpan = k, d
		}
		if earliest.IsZero() || p.first.Before(earliest) {
			earliest = p.first
		}
		if p.first.After(latest) {
			latest = p.first
		}
	}
	if len(spans) > 0 {
		res.medianSpan = median(spans)
		res.startSpread = latest.Sub(earliest)
	}
	if spec.trace {
		printFleetAccountsTrace(os.Stderr, st, start)
		printAskWaits(os.Stderr, st, start, rds0, regionOf)
		for _, k := range slices.SortedFunc(maps.Keys(pairs), func(a, b string) int { return pairs[a].first.Compare(pairs[b].first) }) {
			p := pairs[k]
			fmt.Fprintf(os.Stderr, "trace: pair %s: first call naming an instance +%s; accepted CreateBackups from +%s to +%s (%s)\n", k, firstCall[k].Sub(start).Round(time.Millisecond),
				p.first.Sub(start).Round(time.Millisecond), p.last.Sub(start).Round(time.Millisecond), p.last.Sub(p.first).Round(time.Millisecond))
		}
	}
	return res, nil
}

// settle waits until the work queue holds no message and no outcome has
// been published for quiet (or ctx ends).
func settle(ctx context.Context, st *localcloud.Stack, quiet time.Duration) {
	n, since := -1, time.Now()
	for ctx.Err() == nil {
		c := len(st.Cloud.MNS.Messages(localcloud.NotifyQueue))
		if c != n || len(st.Cloud.MNS.Visible(localcloud.WorkQueue)) > 0 {
			n, since = c, time.Now()
		}
		if time.Since(since) >= quiet {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// printFleetAccountsTrace prints the functions' invocations of the run and
// the RDS calls per second (all, CreateBackup accepted, throttled).
func printFleetAccountsTrace(w io.Writer, st *localcloud.Stack, start time.Time) {
	for _, f := range []*fc.Function{st.Scheduled, st.Queue} {
		var n int
		var busy time.Duration
		for _, inv := range f.Invocations() {
			if inv.Start.After(start.Add(-100 * time.Millisecond)) {
				n++
				busy += inv.End.Sub(inv.Start)
			}
		}
		fmt.Fprintf(w, "trace: %s: %d invocations in the run, %s busy in all\n", f.Config().Name, n, busy.Round(time.Millisecond))
		for _, inv := range f.Invocations() {
			if inv.Start.After(start.Add(-100 * time.Millisecond)) {
				fmt.Fprintf(w, "trace: %s invocation %s +%s → +%s\n", f.Config().Name, inv.RequestID,
					inv.Start.Sub(start).Round(time.Millisecond), inv.End.Sub(start).Round(time.Millisecond))
			}
		}
	}
	type sec struct{ all, created, throttled, describe, ots, mns int }
	var secs []sec
	for _, c := range st.Cloud.RDS.Calls() {
		if c.Start.Before(start) {
			continue
		}
		i := int(c.Start.Sub(start) / time.Second)
		for len(secs) <= i {
			secs = append(secs, sec{})
		}
		secs[i].all++
		switch {
		case strings.HasPrefix(c.Code, "Throttling"):
			secs[i].throttled++
		case c.Action == "CreateBackup" && c.Status == 200:
			secs[i].created++
		case strings.HasPrefix(c.Action, "Describe"):
			secs[i].describe++
		}
	}
	at := func(t time.Time) int {
		if t.Before(start) {
			return -1
		}
		i := int(t.Sub(start) / time.Second)
		for len(secs) <= i {
			secs = append(secs, sec{})
		}
		return i
	}
	otsBy := map[int]map[string]int{}
	for _, c := range st.Cloud.OTS.Calls() {
		if i := at(c.Time); i >= 0 {
			secs[i].ots++
			if otsBy[i] == nil {
				otsBy[i] = map[string]int{}
			}
			k := c.Action
			if c.Code != "" {
				k += " " + c.Code
			}
			otsBy[i][k]++
		}
	}
	defer func() {
		for i := range secs {
			fmt.Fprintf(w, "trace: +%2ds Tablestore %v\n", i, otsBy[i])
		}
	}()
	for _, c := range st.Cloud.MNS.Calls() {
		if i := at(c.Time); i >= 0 {
			secs[i].mns++
		}
	}
	for i, s := range secs {
		fmt.Fprintf(w, "trace: +%2ds RDS calls %5d: CreateBackup accepted %5d, Describe* %5d, throttled %5d; Tablestore %4d, MNS %4d\n",
			i, s.all, s.created, s.describe, s.throttled, s.ots, s.mns)
	}
}

// fleetAccountsRows are the table's rows of the fleet across accounts.
func fleetAccountsRows(spec fleetAccountsSpec, r fleetAccountsResult) []row {
	floor := spec.floor()
	name := fmt.Sprintf("fleet across accounts: %d accounts × %d regions × %d tagged (%d), CreateBackup %g/s per account and region, ledger, end to end",
		spec.accounts, spec.regions, spec.perPair, r.tagged, spec.quota)
	perRole := 0
	for _, n := range r.assume {
		perRole = max(perRole, n)
	}
	return []row{
		{name, r.wall.Round(time.Millisecond).String(),
			fmt.Sprintf("%d ÷ %g/s = %s", spec.perPair, spec.quota, floor), ratio(r.wall, floor), 1.2},
		{"  its missed backups / duplicates / asks failed by throttling", fmt.Sprintf("%d / %d / %d", r.missed, r.duplicates, r.throttledFailed),
			"0 / 0 / 0", float64(r.missed + r.duplicates + r.throttledFailed), countTarget},
		{fmt.Sprintf("  its AssumeRole calls, most per role (%d roles, %d calls)", len(r.assume), r.assumeCalls), fmt.Sprint(perRole),
			fmt.Sprintf("1 per warm instance (%d queue, %d scheduled)", max(r.workers, 1), 1), float64(perRole) / float64(max(r.workers, 1)+1), 1},
	}
}

// printFleetAccounts is -only fleet-accounts: the measure and where the time
// went.
func printFleetAccounts(w io.Writer, spec fleetAccountsSpec, r fleetAccountsResult) {
	floor := spec.floor()
	fmt.Fprintf(w, "fleet across accounts — %s, %d CPUs: %d accounts × %d regions × %d tagged instances = %d, quotas CreateBackup %g/s (others the emulator's defaults), queue function instances %d\n",
		time.Now().UTC().Format("2006-01-02"), numCPU(), spec.accounts, spec.regions, spec.perPair, r.tagged, spec.quota, max(r.workers, 1))
	if len(spec.env) > 0 {
		fmt.Fprintf(w, "  what-if: the functions run with %v\n", spec.env)
	}
	fmt.Fprintf(w, "  wall (timer to rds.backup.run): %s; quota-bound floor %s: %.2f× (target ≤ 1.20×)\n", r.wall.Round(time.Millisecond), floor, ratio(r.wall, floor))
	fmt.Fprintf(w, "  missed %d, duplicates %d; outcome events %v; failed by throttling %d, deferred by throttling %d\n",
		r.missed, r.duplicates, r.events, r.throttledFailed, r.throttledDeferred)
	fmt.Fprintf(w, "  run summary: verdict %s, first outcomes %v\n", r.verdict, nonZero(r.outcomes))
	perRole := map[int]int{}
	for _, n := range r.assume {
		perRole[n]++
	}
	fmt.Fprintf(w, "  AssumeRole: %d calls over %d roles (roles by calls: %v); function instances started in the run %v\n", r.assumeCalls, len(r.assume), perRole, r.started)
	fmt.Fprintf(w, "  RDS calls %v; answered Throttling.* %v\n", r.rdsCalls, r.rdsThrottled)
	fmt.Fprintf(w, "  first CreateBackup at +%s, last accepted at +%s; pairs' first CreateBackups spread over %s; span of a pair's accepted CreateBackups: median %s, slowest %s (%s) — the quota's own is %s\n",
		r.firstCreate.Round(time.Millisecond), r.lastCreate.Round(time.Millisecond), r.startSpread.Round(time.Millisecond),
		r.medianSpan.Round(time.Millisecond), r.slowestSpan.Round(time.Millisecond), r.slowestPair,
		time.Duration(float64(spec.perPair-1)/spec.quota*float64(time.Second)))
	fmt.Fprintf(w, "  CPU during the run: %s in all over %s of wall (%.2f of %d cores), the functions %s\n",
		r.cpuAll.Round(10*time.Millisecond), r.wall.Round(time.Millisecond), r.cpuAll.Seconds()/max(r.wall.Seconds(), 1e-9), numCPU(), r.cpuFn.Round(10*time.Millisecond))
}

func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// printAskWaits splits each ask's time, from the RDS log: from the trigger
// to the ask's first RDS call about its instance (waiting to start: for a
// worker, the ledger's claim, the step's delivery), and from there to its
// accepted CreateBackup (inside the ask: the look, the pacer, the ledger's
// send mark, retries); per (account, region), the median and the most.
func printAskWaits(w io.Writer, st *localcloud.Stack, start time.Time, rds0 int, regionOf map[string]string) {
	type ask struct{ first, created time.Time }
	asks := map[string]*ask{}
	for _, c := range st.Cloud.RDS.Calls()[rds0:] {
		if c.DBInstanceId == "" || regionOf[c.DBInstanceId] == "" {
			continue
		}
		a := asks[c.DBInstanceId]
		if a == nil {
			a = &ask{first: c.Start}
			asks[c.DBInstanceId] = a
		}
		if c.Action == "CreateBackup" && c.Status == 200 {
			a.created = c.Start
		}
	}
	type waits struct{ before, inside []time.Duration }
	pairs := map[string]*waits{}
	for id, a := range asks {
		if a.created.IsZero() {
			continue
		}
		k := id[:len("rm-fa")+3] + " " + regionOf[id] // rm-fa<account><region>
		p := pairs[k]
		if p == nil {
			p = &waits{}
			pairs[k] = p
		}
		p.before = append(p.before, a.first.Sub(start))
		p.inside = append(p.inside, a.created.Sub(a.first))
	}
	for _, k := range slices.Sorted(maps.Keys(pairs)) {
		p := pairs[k]
		fmt.Fprintf(w, "trace: asks %s: first RDS call at +%s median, +%s last; first call to accepted CreateBackup %s median, %s most\n", k,
			median(p.before).Round(time.Millisecond), slices.Max(p.before).Round(time.Millisecond),
			median(p.inside).Round(time.Millisecond), slices.Max(p.inside).Round(time.Millisecond))
	}
}

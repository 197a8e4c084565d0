package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// fleetE2E is one timer plan run over a tagged fleet, end to end through
// the built functions on the local cloud: the timer fires the scheduled
// function, whose Select hands the fleet on to the work queue, whose
// trigger pushes it to the queue function, until the run's rds.backup.run
// summary is in the notification queue.
type fleetE2E struct {
	wall     time.Duration
	rdsCalls int
	creates  int
	otsCalls map[string]int // the ask ledger's Tablestore calls, by action
	mnsCalls map[string]int // MNS calls, by action
	// CPU during the run: the functions' processes, and this one (the
	// local cloud's emulators, and the harness's watcher).
	cpuFn, cpuLocal time.Duration
}

// measureFleetE2E runs that story for n instances with latency on every
// RDS call; noLedger runs the functions without the ask ledger (the run
// then goes step after step).
func measureFleetE2E(n int, latency time.Duration, noLedger, trace bool) (fleetE2E, error) {
	var res fleetE2E
	fleet := localcloud.Fleet{Region: "cn-hangzhou", BackupSeconds: 3600}
	for i := range n {
		fleet.Instances = append(fleet.Instances, rds.Instance{DBInstanceId: fmt.Sprintf("rm-e2e-%04d", i), Engine: "MySQL",
			Tags: map[string]string{"bench": "fleet"}})
	}
	fleet.Instances = append(fleet.Instances, rds.Instance{DBInstanceId: "rm-warm", Engine: "MySQL"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var logs io.Writer = io.Discard
	if trace {
		f, err := os.Create(fmt.Sprintf("/tmp/bench-fleet-e2e-ledger-%v.log", !noLedger))
		if err != nil {
			return res, err
		}
		defer f.Close()
		logs = f
	}
	st, err := localcloud.StartStack(ctx, fleet, localcloud.Options{Env: []string{"BACKUP_TRACK_JOBS=false"}, NoLedger: noLedger}, logs)
	if err != nil {
		return res, err
	}
	defer st.Close()
	// Warm up both functions (their first invocation starts the process).
	if _, err := st.FireTimer(ctx, `{"Backups":[{"DBInstanceId":"rm-warm"}]}`); err != nil {
		return res, err
	}
	src := fc.MNSEventSource{Queue: localcloud.WorkQueue, Region: "cn-hangzhou", AccountID: localcloud.AccountID}
	if r, err := st.Queue.Invoke(ctx, fc.NewMNSEvents(src, fc.MNSMessage{Body: `{"DBInstanceId":"rm-warm"}`}), fc.InvokeOptions{}); err != nil || r.Failed() {
		return res, fmt.Errorf("warm-up invocation: %v %+v", err, r.Error)
	}
	// A timer's delivery id is its time to the second: the run must not
	// share the warm-up's.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	runs0 := runSummaries(st)
	st.Cloud.RDS.InjectFault(rds.Fault{Latency: latency})
	rds0, ots0, mns0 := len(st.Cloud.RDS.Calls()), len(st.Cloud.OTS.Calls()), len(st.Cloud.MNS.Calls())
	fn0, local0 := cpuOf(append(st.Scheduled.PIDs(), st.Queue.PIDs()...)), cpuOf([]int{os.Getpid()})
	start := time.Now()
	if rs, err := st.FireTimer(ctx, `{"Select":{"Tags":{"bench":"fleet"}}}`); err != nil || len(rs) == 0 || rs[len(rs)-1].Failed() {
		return res, fmt.Errorf("timer: %v %+v", err, rs)
	}
	var watch summaryWatch
	for {
		if watch.count(st) > runs0 {
			break
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("no run summary within the time: %w", ctx.Err())
		}
		time.Sleep(2 * time.Millisecond)
	}
	res.wall = time.Since(start)
	// PIDs now: an instance started during the run counts whole.
	res.cpuFn, res.cpuLocal = cpuOf(append(st.Scheduled.PIDs(), st.Queue.PIDs()...))-fn0, cpuOf([]int{os.Getpid()})-local0
	if trace {
		fmt.Fprintf(os.Stderr, "trace: CPU during the run: %s in all, of which the functions %s (the rest: the emulators and this harness)\n",
			(res.cpuFn + res.cpuLocal).Round(time.Millisecond), res.cpuFn.Round(time.Millisecond))
		for _, f := range []*fc.Function{st.Scheduled, st.Queue} {
			for _, inv := range f.Invocations() {
				if inv.Start.After(start.Add(-time.Second)) {
					fmt.Fprintf(os.Stderr, "trace: %s invocation %s +%s → +%s (%s)\n", f.Config().Name, inv.RequestID,
						inv.Start.Sub(start).Round(time.Millisecond), inv.End.Sub(start).Round(time.Millisecond), inv.End.Sub(inv.Start).Round(time.Millisecond))
				}
			}
		}
	}
	if trace {
		var otsAt, mnsAt []time.Time
		for _, c := range st.Cloud.OTS.Calls()[ots0:] {
			otsAt = append(otsAt, c.Time)
		}
		for _, c := range st.Cloud.MNS.Calls()[mns0:] {
			mnsAt = append(mnsAt, c.Time)
		}
		traceRDSInFlight(st.Cloud.RDS.Calls()[rds0:], otsAt, mnsAt, start)
		for _, c := range st.Cloud.RDS.Calls()[rds0:] {
			if c.Action != "CreateBackup" {
				fmt.Fprintf(os.Stderr, "trace: rds %s +%s..+%s\n", c.Action, c.Start.Sub(start).Round(time.Millisecond), c.End.Sub(start).Round(time.Millisecond))
			}
		}
	}
	for _, c := range st.Cloud.RDS.Calls()[rds0:] {
		res.rdsCalls++
		if c.Action == "CreateBackup" {
			res.creates++
		}
	}
	res.otsCalls, res.mnsCalls = map[string]int{}, map[string]int{}
	for _, c := range st.Cloud.OTS.Calls()[ots0:] {
		res.otsCalls[c.Action]++
	}
	for _, c := range st.Cloud.MNS.Calls()[mns0:] {
		res.mnsCalls[c.Op+" "+c.Queue]++
	}
	if res.creates != n {
		return res, fmt.Errorf("%d backups for a fleet of %d", res.creates, n)
	}
	return res, nil
}

// runSummaries counts the run summary events in the notification queue.
func runSummaries(st *localcloud.Stack) int {
	var w summaryWatch
	return w.count(st)
}

// summaryWatch counts run summaries in the notification queue as it grows,
// reading each message once: polled every few milliseconds while 10,000
// outcomes arrive, rescanning them all took more CPU than the functions
// (make bench, fleet across accounts: the bench process 224 s of CPU in a
// 5.5 min run).
type summaryWatch struct{ seen, runs int }

func (w *summaryWatch) count(st *localcloud.Stack) int {
	msgs := st.Cloud.MNS.MessagesFrom(localcloud.NotifyQueue, w.seen)
	for _, m := range msgs {
		if strings.Contains(m.Body, `"type":"rds.backup.run"`) {
			w.runs++
		}
	}
	w.seen += len(msgs)
	return w.runs
}

// askCalls is what one MNS ask costs through the built queue function with
// the ask ledger: its first delivery, then the same message delivered twice
// more (EventBridge re-pushing it).
type askCalls struct {
	first, all, backups int
}

// measureAskCalls delivers one fresh MNS message three times to the queue
// function on the local cloud and counts RDS calls from the emulator's log.
func measureAskCalls() (askCalls, error) {
	var res askCalls
	fleet := localcloud.Fleet{Region: "cn-hangzhou", BackupSeconds: 3600}
	fleet.Instances = []rds.Instance{{DBInstanceId: "rm-calls", Engine: "MySQL"}, {DBInstanceId: "rm-warm", Engine: "MySQL"}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := localcloud.StartStack(ctx, fleet, localcloud.Options{Env: []string{"BACKUP_TRACK_JOBS=false"}}, io.Discard)
	if err != nil {
		return res, err
	}
	defer st.Close()
	src := fc.MNSEventSource{Queue: localcloud.WorkQueue, Region: "cn-hangzhou", AccountID: localcloud.AccountID}
	if r, err := st.Queue.Invoke(ctx, fc.NewMNSEvents(src, fc.MNSMessage{Body: `{"DBInstanceId":"rm-warm"}`}), fc.InvokeOptions{}); err != nil || r.Failed() {
		return res, fmt.Errorf("warm-up invocation: %v %+v", err, r.Error)
	}
	msg := fc.MNSMessage{MessageID: "5F290C920000926F-1-BENCH-000000001", Body: `{"DBInstanceId":"rm-calls","BackupMethod":"Physical"}`, PublishTime: time.Now()}
	rds0 := len(st.Cloud.RDS.Calls())
	for i := range 3 {
		if r, err := st.Queue.Invoke(ctx, fc.NewMNSEvents(src, msg), fc.InvokeOptions{}); err != nil || r.Failed() {
			return res, fmt.Errorf("delivery %d: %v %+v", i+1, err, r.Error)
		}
		if i == 0 {
			res.first = len(st.Cloud.RDS.Calls()) - rds0
		}
	}
	for _, c := range st.Cloud.RDS.Calls()[rds0:] {
		res.all++
		if c.Action == "CreateBackup" && c.Status == 200 {
			res.backups++
		}
	}
	return res, nil
}

// cpuOf is the CPU the processes pids have used so far (0 for one that is
// gone).
func cpuOf(pids []int) time.Duration {
	var d time.Duration
	for _, pid := range pids {
		if c, err := procCPU(pid); err == nil {
			d += c
		}
	}
	return d
}

// traceRDSInFlight prints, per 20 ms from start, the RDS calls begun and
// in flight at the step's middle, and the Tablestore and MNS calls that
// arrived: where a run's time goes between its calls.
func traceRDSInFlight(calls []rds.Call, ots, mns []time.Time, start time.Time) {
	within := func(ts []time.Time, from, to time.Time) int {
		n := 0
		for _, x := range ts {
			if !x.Before(from) && x.Before(to) {
				n++
			}
		}
		return n
	}
	const step = 20 * time.Millisecond
	var last time.Time
	for _, c := range calls {
		last = maxTime(last, c.End)
	}
	for t := start; t.Before(last); t = t.Add(step) {
		begun, inflight := 0, 0
		for _, c := range calls {
			if !c.Start.Before(t) && c.Start.Before(t.Add(step)) {
				begun++
			}
			if c.Start.Before(t.Add(step/2)) && c.End.After(t.Add(step/2)) {
				inflight++
			}
		}
		fmt.Fprintf(os.Stderr, "trace: rds +%4dms begun %3d in flight %3d · tablestore calls %3d · mns calls %3d\n",
			t.Sub(start).Milliseconds(), begun, inflight, within(ots, t, t.Add(step)), within(mns, t, t.Add(step)))
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

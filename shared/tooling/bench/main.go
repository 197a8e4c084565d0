// Command bench prints `make bench`'s table: each figure of the product
// measured side by side with its physical floor, in the same run, against
// the same local RDS emulator (20 ms injected on every call):
//
//   - one fresh backup ask through the executor vs one direct SDK
//     CreateBackup (the 1-call floor);
//   - a fleet of 1,000 fresh asks vs 1,000 × one round trip ÷ the
//     concurrency the adaptive limit reached;
//   - each function's start-up (exec to its first request to the runtime
//     API, best of 31 interleaved starts, the median of 3 such sets) vs a
//     hello-world fc.Start binary built the same way;
//   - its peak RSS for one batch of 100 asks (target 40 MiB), and the
//     batch's CPU vs the same RDS and MNS calls made with the bare SDKs;
//   - the fleet end to end through the built functions (timer → scheduled
//     → work queue → queue function → the run's summary) vs 1,000 × one
//     round trip ÷ the configured ceiling, with the ask ledger (steps in
//     parallel; the median of three runs) and without it (step after
//     step, reported); with the ledger, also that run's CPU (the
//     functions' and the local cloud's, which share this host's cores) ÷
//     the cores, the least time that CPU takes here, and one run at four
//     times the latency, where the cores do not bind (both reported);
//   - the RDS calls of a fresh MNS ask delivered once and three times;
//   - a fleet across accounts (issue 21): a timer plan over 20 member
//     accounts × 5 regions × 100 tagged instances with RDS's per-API
//     quotas on (CreateBackup 10/s per account and region) end to end
//     through the built functions with the ask ledger, vs its quota-bound
//     floor (100 ÷ 10/s = 10 s); missed backups, duplicates and asks
//     failed by throttling (target 0) and AssumeRole calls per role.
//
// Usage: go run ./shared/tooling/bench [-latency 20ms] [-fleet 1000] [-runs 5] [-only startup|fleet-e2e|fleet-accounts|calls]
// [-accounts 20 -regions 5 -per-pair 100 -quota 10 -fc-instances 1]
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

func main() {
	debug.SetGCPercent(localcloud.EmulatorGCPercent) // the emulators run in this process
	latency := flag.Duration("latency", 20*time.Millisecond, "latency injected on every RDS call")
	fleet := flag.Int("fleet", 1000, "instances in the fleet run")
	runs := flag.Int("runs", 5, "repetitions of the single-backup measurement (median)")
	only := flag.String("only", "", "run one measure only: startup (each function's start-up vs hello-world), fleet-e2e (the fleet end to end, with and without the ledger) or calls (a fresh MNS ask's RDS calls)")
	startRounds := flag.Int("startup-rounds", 31, "with -only startup: interleaved starts of each binary in each of the sets (the best of a set is kept, the set with the median ratio shown)")
	trace := flag.Bool("trace", false, "with -only fleet-e2e or fleet-accounts: print the functions' invocations (and the RDS calls per second)")
	var fa fleetAccountsSpec
	flag.IntVar(&fa.accounts, "accounts", 20, "fleet across accounts: member accounts")
	flag.IntVar(&fa.regions, "regions", 5, "fleet across accounts: regions (at most 8)")
	flag.IntVar(&fa.perPair, "per-pair", 100, "fleet across accounts: tagged instances per (account, region)")
	flag.Float64Var(&fa.quota, "quota", 10, "fleet across accounts: CreateBackup calls per second per (account, region)")
	flag.IntVar(&fa.fcInstances, "fc-instances", 10, "fleet across accounts: instances of each function at once, and so batches of the work queue run at once (10: FC scales out to one instance per asynchronous invocation, and the fleet's 100 steps are 10 batches; 0: the local cloud's default, 1 and 4 for the queue function)")
	flag.Func("env", "fleet across accounts, with -only: KEY=VALUE added to the functions' environment (repeatable; a what-if, e.g. BACKUP_FRESH_FOR=1m)", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		fa.env = append(fa.env, v)
		return nil
	})
	flag.Parse()
	fa.trace = *trace
	if *only == "fleet-accounts" {
		r, err := measureFleetAccounts(fa)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		printFleetAccounts(os.Stdout, fa, r)
		fmt.Println()
		if err := printRows(os.Stdout, fleetAccountsRows(fa, r)); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *only == "startup" {
		if err := runStartup(os.Stdout, *startRounds); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *only == "calls" {
		c, err := measureAskCalls()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		fmt.Printf("fresh MNS ask: %d RDS calls on its first delivery; %d in all over 3 deliveries, %d backup(s)\n", c.first, c.all, c.backups)
		return
	}
	if *only == "fleet-e2e" {
		for _, noLedger := range []bool{false, true} {
			r, err := measureFleetE2E(*fleet, *latency, noLedger, *trace)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				os.Exit(1)
			}
			floor := time.Duration(float64(*fleet) * float64(*latency) / float64(executor.DefaultOptions().Concurrency))
			fmt.Printf("fleet of %d end to end (ledger %v): %s, %d RDS calls; %s latency floor %s: %.2f×\n  Tablestore %v\n  MNS %v\n",
				*fleet, !noLedger, r.wall.Round(time.Millisecond), r.rdsCalls, *latency, floor, ratio(r.wall, floor), r.otsCalls, r.mnsCalls)
		}
		return
	}
	fa.env = nil // the table measures the defaults
	if err := run(os.Stdout, *latency, *fleet, *runs, fa); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct {
	name, product, floor string
	ratio                float64
	target               float64 // 0: reported only; countTarget: ratio is a count whose target is 0
}

// countTarget marks a row whose ratio is a count that should be 0 (missed
// backups, duplicates, ...).
const countTarget = -1

func run(out io.Writer, latency time.Duration, fleet, runs int, fa fleetAccountsSpec) error {
	srv := rds.NewServer(rds.WithBackupDuration(time.Hour))
	defer func() { go srv.Close() }()
	cred := srv.Credential()
	cli, err := rdsclient.New(rdsclient.Config{RegionID: "cn-hangzhou", Endpoint: srv.Endpoint(), Protocol: "http",
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, ReadTimeout: 10 * time.Second})
	if err != nil {
		return err
	}
	srv.InjectFault(rds.Fault{Latency: latency})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	ask := func(id string) backup.Request {
		return backup.Request{DBInstanceId: id, RegionId: "cn-hangzhou", AskedAt: time.Now(),
			Trigger: backup.Trigger{Kind: "timer", Source: "bench"}, IdempotencyKey: backup.Key("bench", id), CorrelationId: id}
	}

	// 1. One backup: the executor vs a direct SDK CreateBackup.
	sdk, err := rdssdk.NewClient(sdkConfig(srv))
	if err != nil {
		return err
	}
	var prod, direct []time.Duration
	for i := range runs {
		id := fmt.Sprintf("rm-single-%02d", i)
		srv.AddInstance(rds.Instance{DBInstanceId: id, RegionId: "cn-hangzhou"})
		ex := executor.New(executor.Options{Logger: quiet})
		start := time.Now()
		o := ex.Run(ctx, cli, ask(id), executor.History{})
		prod = append(prod, time.Since(start))
		if o.Status != backup.StatusAccepted {
			return fmt.Errorf("single backup: %s %+v", o.Status, o.Error)
		}
		id2 := fmt.Sprintf("rm-direct-%02d", i)
		srv.AddInstance(rds.Instance{DBInstanceId: id2, RegionId: "cn-hangzhou"})
		start = time.Now()
		if _, err := sdk.CreateBackup(&rdssdk.CreateBackupRequest{DBInstanceId: &id2}); err != nil {
			return fmt.Errorf("direct CreateBackup: %w", err)
		}
		direct = append(direct, time.Since(start))
	}
	p, d := median(prod), median(direct)

	// 2. A fleet: RunAll vs n × one round trip ÷ the concurrency reached.
	reqs := make([]backup.Request, fleet)
	for i := range reqs {
		id := fmt.Sprintf("rm-fleet-%04d", i)
		srv.AddInstance(rds.Instance{DBInstanceId: id, RegionId: "cn-hangzhou"})
		reqs[i] = ask(id)
	}
	ex := executor.New(executor.Options{Logger: quiet})
	before := len(srv.Calls())
	start := time.Now()
	outs := ex.RunAll(ctx, cli, reqs, nil)
	fleetTime := time.Since(start)
	for _, o := range outs {
		if o.Status != backup.StatusAccepted {
			return fmt.Errorf("fleet: %s %s %+v", o.Request.DBInstanceId, o.Status, o.Error)
		}
	}
	calls := len(srv.Calls()) - before
	_, peak := ex.Concurrency()
	floor := time.Duration(float64(fleet) * float64(d) / float64(max(peak, 1)))

	// 2b. One round trip at slowLatency, the floor of the fleet end to end
	// run at that latency (step 6).
	slow := slowFactor * latency
	srv.ClearFaults()
	srv.InjectFault(rds.Fault{Latency: slow})
	var slowDirect []time.Duration
	for i := range runs {
		id := fmt.Sprintf("rm-slow-%02d", i)
		srv.AddInstance(rds.Instance{DBInstanceId: id, RegionId: "cn-hangzhou"})
		start := time.Now()
		if _, err := sdk.CreateBackup(&rdssdk.CreateBackupRequest{DBInstanceId: &id}); err != nil {
			return fmt.Errorf("direct CreateBackup at %s: %w", slow, err)
		}
		slowDirect = append(slowDirect, time.Since(start))
	}
	dSlow := median(slowDirect)

	// 3. Start-up: each function vs a hello-world fc.Start binary.
	root, err := localcloud.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := measureStartup(root, dir, 31)
	if err != nil {
		return err
	}

	// 4, 5. One batch of 100 asks through the queue function: peak RSS, and
	// CPU against the same calls made with the bare SDKs.
	b, err := measureBatch(root, dir, 100)
	if err != nil {
		return err
	}

	// 6. The same fleet end to end: timer → scheduled → work queue →
	// queue function → the run's summary, with the ask ledger (steps in
	// parallel) and without it (step after step, reported).
	// Three runs, the median kept: on a shared 2-core machine the same
	// binaries vary by ±10 % from one run to the next, and this run is
	// CPU-bound (docs/performance.md).
	var e2eRuns []fleetE2E
	for range e2eRounds {
		r, err := measureFleetE2E(fleet, latency, false, false)
		if err != nil {
			return fmt.Errorf("fleet end to end: %w", err)
		}
		e2eRuns = append(e2eRuns, r)
	}
	slices.SortFunc(e2eRuns, func(a, b fleetE2E) int { return cmp.Compare(a.wall, b.wall) })
	e2e := e2eRuns[len(e2eRuns)/2]
	// The same at slowFactor times the latency: this host's two cores, which
	// the functions share with the local cloud, are then not the bound, and
	// what is left over the floor is the run's own shape (the listing, the
	// adaptive limit's ramp, the summary).
	slowRun, err := measureFleetE2E(fleet, slow, false, false)
	if err != nil {
		return fmt.Errorf("fleet end to end at %s: %w", slow, err)
	}
	chain, err := measureFleetE2E(fleet, latency, true, false)
	if err != nil {
		return fmt.Errorf("fleet end to end without the ledger: %w", err)
	}
	ac, err := measureAskCalls()
	if err != nil {
		return fmt.Errorf("ask calls: %w", err)
	}
	// 7. The fleet across accounts, against RDS's quotas (no latency
	// injected: the quota is the bound).
	far, err := measureFleetAccounts(fa)
	if err != nil {
		return fmt.Errorf("fleet across accounts: %w", err)
	}
	ceiling := executor.DefaultOptions().Concurrency
	e2eFloor := time.Duration(float64(fleet) * float64(d) / float64(ceiling))
	slowFloor := time.Duration(float64(fleet) * float64(dSlow) / float64(ceiling))
	cpuBound := (e2e.cpuFn + e2e.cpuLocal) / time.Duration(numCPU())

	rows := []row{
		{"one fresh backup ask (1 RDS call)", p.Round(time.Microsecond).String(), "direct SDK CreateBackup " + d.Round(time.Microsecond).String(), ratio(p, d), 1.25},
		{fmt.Sprintf("fleet of %d (%d calls, peak %d in flight)", fleet, calls, peak), fleetTime.Round(time.Millisecond).String(),
			fmt.Sprintf("%d × %s ÷ %d = %s", fleet, d.Round(time.Microsecond), peak, floor.Round(time.Millisecond)), ratio(fleetTime, floor), 1.5},
		{fmt.Sprintf("fleet of %d end to end: timer to run summary, ask ledger (%d RDS calls; median of %d runs, %s–%s)", fleet, e2e.rdsCalls, e2eRounds,
			e2eRuns[0].wall.Round(time.Millisecond), e2eRuns[len(e2eRuns)-1].wall.Round(time.Millisecond)), e2e.wall.Round(time.Millisecond).String(),
			fmt.Sprintf("%d × %s ÷ %d (the ceiling) = %s", fleet, d.Round(time.Microsecond), ceiling, e2eFloor.Round(time.Millisecond)), ratio(e2e.wall, e2eFloor), 1.5},
		{fmt.Sprintf("  that run's CPU (the functions %s, the local cloud %s) ÷ %d cores: the least time that CPU takes here", e2e.cpuFn.Round(time.Millisecond),
			e2e.cpuLocal.Round(time.Millisecond), numCPU()), cpuBound.Round(time.Millisecond).String(), e2eFloor.Round(time.Millisecond).String(), ratio(cpuBound, e2eFloor), 0},
		{fmt.Sprintf("  the same run at %s a call, where the cores do not bind (one run; CPU %s)", slow, (slowRun.cpuFn + slowRun.cpuLocal).Round(time.Millisecond)),
			slowRun.wall.Round(time.Millisecond).String(),
			fmt.Sprintf("%d × %s ÷ %d = %s", fleet, dSlow.Round(time.Microsecond), ceiling, slowFloor.Round(time.Millisecond)), ratio(slowRun.wall, slowFloor), 0},
		{fmt.Sprintf("the same without the ledger (step after step, %d RDS calls)", chain.rdsCalls), chain.wall.Round(time.Millisecond).String(),
			e2eFloor.Round(time.Millisecond).String(), ratio(chain.wall, e2eFloor), 0},
		{"RDS calls of a fresh MNS ask, first delivery (ask ledger)", fmt.Sprint(ac.first), "1 (CreateBackup)", float64(ac.first), 1},
		{"RDS calls of that message delivered 3 times in all", fmt.Sprintf("%d (%d backup)", ac.all, ac.backups), "3, and 1 backup", float64(ac.all) / 3, 1},
	}
	rows = append(rows, fleetAccountsRows(fa, far)...)
	rows = append(rows, startupRows(st)...)
	rows = append(rows, []row{
		{fmt.Sprintf("peak RSS of the queue function, a batch of %d asks", b.n), fmt.Sprintf("%.1f MiB", float64(b.peakRSS)/(1<<20)), "target 40 MiB",
			float64(b.peakRSS) / (40 << 20), 1},
		{fmt.Sprintf("CPU of that batch (%d RDS calls, %d MNS sends)", b.rdsCalls, b.sent), b.cpu.Round(10 * time.Microsecond).String(), "the same calls with the bare SDKs " + b.floorCPU.Round(10*time.Microsecond).String(),
			ratio(b.cpu, b.floorCPU), 0},
	}...)
	fmt.Fprintf(out, "make bench — %s, %d CPUs, %s injected on every RDS call\n\n", time.Now().UTC().Format("2006-01-02"), numCPU(), latency)
	return printRows(out, rows)
}

func printRows(out io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tproduct\tfloor\tratio\ttarget\t")
	for _, r := range rows {
		if r.target == countTarget {
			verdict := "ok"
			if r.ratio > 0 {
				verdict = "MISSED"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%g\t= 0 %s\t\n", r.name, r.product, r.floor, r.ratio, verdict)
			continue
		}
		if r.target == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f×\t(reported)\t\n", r.name, r.product, r.floor, r.ratio)
			continue
		}
		verdict := "ok"
		if r.ratio > r.target {
			verdict = "MISSED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f×\t≤ %.2f× %s\t\n", r.name, r.product, r.floor, r.ratio, r.target, verdict)
	}
	return tw.Flush()
}

// startupRows are the table's start-up rows: each function against
// hello-world.
func startupRows(st startupResult) []row {
	var rows []row
	for _, f := range startupFunctions {
		d, h := st.fn[f], st.hello[f]
		rows = append(rows, row{fmt.Sprintf("start-up of the %s function to its first /next (best of %d, the median of %d sets)", f, st.rounds, st.sets), d.Round(10 * time.Microsecond).String(),
			"hello-world fc.Start " + h.Round(10*time.Microsecond).String(), ratio(d, h), 1.5})
	}
	return rows
}

// runStartup is -only startup: the start-up rows alone.
func runStartup(out io.Writer, rounds int) error {
	root, err := localcloud.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := measureStartup(root, dir, rounds)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "start-up — %s, %d CPUs, %d sets of %d interleaved starts of each binary\n\n", time.Now().UTC().Format("2006-01-02"), numCPU(), startupSets, rounds)
	return printRows(out, startupRows(st))
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }

// e2eRounds are the runs of the fleet end to end whose median the table
// shows.
const e2eRounds = 3

// slowFactor is how many times the injected latency the fleet end to end
// is run once more at, for the table's reported row.
const slowFactor = 4

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

package main

import (
	"cmp"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// build builds pkg the way `make build` builds a function (static,
// -trimpath -ldflags "-s -w") for this machine, into dir.
func build(root, pkg, dir, name string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// startup measures, n times, how long bin takes from exec to its first
// request to the runtime API (the go1 runtime's GET /next): process start,
// package init, config and client set-up. The best of the n is returned:
// the machine's other work only ever adds to it, so the minimum is the
// binary's own cost (both binaries are measured the same way).
func startup(bin string, env []string, n int) (time.Duration, error) {
	var ds []time.Duration
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		first := make(chan time.Time, 1)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case first <- time.Now():
			default:
			}
			<-r.Context().Done() // hold /next: no invocation
		})}
		go srv.Serve(ln)
		cmd := exec.Command(bin)
		cmd.Env = append(append(os.Environ(), env...), "FC_RUNTIME_API="+ln.Addr().String())
		start := time.Now()
		if err := cmd.Start(); err != nil {
			srv.Close()
			return 0, err
		}
		select {
		case t := <-first:
			ds = append(ds, t.Sub(start))
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			srv.Close()
			return 0, fmt.Errorf("%s made no request to the runtime API in 10s", filepath.Base(bin))
		}
		cmd.Process.Kill()
		cmd.Wait()
		srv.Close()
	}
	return slices.Min(ds), nil
}

// startupFunctions are the functions whose start-up is measured, in the
// order of the table.
var startupFunctions = []string{"scheduled", "queue", "webhook"}

// startupEnv is the environment each function needs to pass config.Load
// and app.New on this machine: the local cloud's loopback endpoints (so
// the envelope key is the local one), and for the webhook routes of each
// source (the routes of shared/webhook/ROUTES.md, as JSON like s.yaml's)
// with their secrets.
func startupEnv(function string) []string {
	env := []string{"BACKUP_MNS_ENDPOINT=http://127.0.0.1:1/.", "BACKUP_REGION=cn-hangzhou", "BACKUP_RDS_ENDPOINT=127.0.0.1:1"}
	if function == "webhook" {
		env = append(env,
			`BACKUP_ROUTES={"routes":[`+
				`{"name":"shop-prod","source":"github","repository":"acme/shop","environments":["production"],"secretEnv":"GITHUB_WEBHOOK_SECRET","backups":[{"DBInstanceId":"rm-shop1","BackupMethod":"Physical"}]},`+
				`{"name":"billing-deploy","source":"gitlab","repository":"acme/billing","environments":["production","prod-*"],"stage":"deploy","secretEnv":"GITLAB_WEBHOOK_TOKEN","backups":[{"DBInstanceId":"rm-billing1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"invoices"}]},`+
				`{"name":"release-bot","source":"signed","repository":"release-bot","secretEnv":"RELEASE_BOT_SECRET","allow":["rm-shop*","rm-billing1"]}]}`,
			"GITHUB_WEBHOOK_SECRET=bench-github", "GITLAB_WEBHOOK_TOKEN=bench-gitlab", "RELEASE_BOT_SECRET=bench-signed")
	}
	return env
}

// startupResult is, for each function, the set of interleaved starts
// whose ratio to hello-world is the median of startupSets: each set keeps
// the best start of each binary, and the median of the sets' ratios keeps
// one lucky (or unlucky) start of hello-world or of a function from
// deciding the row (the best of one set moved the ratio by up to 0.3×
// from one run to the next on the 2-core machine).
type startupResult struct {
	rounds, sets int
	fn, hello    map[string]time.Duration // per function: its best and hello-world's best in the median set
}

// startupSets are the sets of interleaved starts measureStartup runs.
const startupSets = 3

// measureStartup builds hello-world and the functions into dir and starts
// each in turn, rounds times (interleaved, so that all meet the same
// machine), keeping the best of each; it does that startupSets times and
// keeps, for each function, the set with the median ratio.
func measureStartup(root, dir string, rounds int) (startupResult, error) {
	r := startupResult{rounds: rounds, sets: startupSets, fn: map[string]time.Duration{}, hello: map[string]time.Duration{}}
	hello, err := build(root, "./shared/tooling/bench/testdata/hello", dir, "hello")
	if err != nil {
		return r, err
	}
	bins := map[string]string{}
	for _, f := range startupFunctions {
		if bins[f], err = build(root, "./functions/"+f, dir, f); err != nil {
			return r, err
		}
		// A function that refuses its configuration never reaches /next:
		// say why instead of timing out.
		if err := startsUp(bins[f], startupEnv(f)); err != nil {
			return r, err
		}
	}
	best := func(d time.Duration, cur *time.Duration) {
		if *cur == 0 || d < *cur {
			*cur = d
		}
	}
	type set struct {
		hello time.Duration
		fn    map[string]time.Duration
	}
	sets := make([]set, startupSets)
	for i := range sets {
		s := &sets[i]
		s.fn = map[string]time.Duration{}
		for range rounds {
			h, err := startup(hello, startupEnv("hello"), 1)
			if err != nil {
				return r, err
			}
			best(h, &s.hello)
			for _, f := range startupFunctions {
				d, err := startup(bins[f], startupEnv(f), 1)
				if err != nil {
					return r, err
				}
				cur := s.fn[f]
				best(d, &cur)
				s.fn[f] = cur
			}
		}
	}
	for _, f := range startupFunctions {
		byRatio := slices.Clone(sets)
		slices.SortFunc(byRatio, func(a, b set) int { return cmp.Compare(ratio(a.fn[f], a.hello), ratio(b.fn[f], b.hello)) })
		m := byRatio[len(byRatio)/2]
		r.fn[f], r.hello[f] = m.fn[f], m.hello
	}
	return r, nil
}

// startsUp starts bin once and returns its output as the error when it
// exits before asking the runtime API for work.
func startsUp(bin string, env []string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	asked := make(chan struct{}, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	})}
	go srv.Serve(ln)
	defer srv.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), env...), "FC_RUNTIME_API="+ln.Addr().String())
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-asked:
		cmd.Process.Kill()
		<-exited
		return nil
	case err := <-exited:
		return fmt.Errorf("%s exited before asking for work (%v): %s", filepath.Base(bin), err, out.String())
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s made no request to the runtime API in 10s: %s", filepath.Base(bin), out.String())
	}
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if n := 4096 - len(l.b); n > 0 {
		l.b = append(l.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }

package main

import (
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

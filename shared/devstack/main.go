// Command devstack is the local cloud of fc-rds-backup: RDS, MNS and Function
// Compute emulators (shared/localcloud/rds, shared/localcloud/mns, shared/localcloud/fc) that speak
// the real wire protocols, with the real function binaries running on them.
// Its command line is a contract (DESIGN.md §7):
//
//	go run ./shared/devstack demo
//	go run ./shared/devstack serve [--fleet FILE] [--env KEY=VALUE]... [--env-file FILE] [--fc-instances N]
//	go run ./shared/devstack invoke --function NAME --event FILE [--fleet FILE] [--env KEY=VALUE]... [--env-file FILE]
//
// demo runs the product end to end on testdata/fleet/demo.json and prints
// what happens (make run). serve starts everything on 127.0.0.1 and prints
// one JSON line with the endpoints and a key for the official SDKs; its
// admin URL answers GET /state and GET, POST and DELETE /faults. invoke
// runs one built function once and prints JSON lines: the response, one line
// per outcome message, and a summary of RDS calls and backups created; the
// webhook function gets the local routes and secrets (localcloud.WebhookEnv),
// which --env may override. serve and invoke add the --env-file's variables,
// then each --env, to every function's environment (the functions never
// inherit devstack's own environment, as in FC).
//
// devstack is the composition root of the local cloud; nothing imports it,
// and nothing of it ships in a function binary.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
)

const usage = `usage:
  devstack demo [--fleet FILE]
  devstack serve [--fleet FILE] [--env KEY=VALUE]... [--env-file FILE] [--fc-instances N] [--quiet]
  devstack invoke --function scheduled|queue|webhook --event FILE [--fleet FILE] [--env KEY=VALUE]... [--env-file FILE] [--times N] [--work]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "demo":
		err = demo(os.Args[2:])
	case "serve":
		err = serve(os.Args[2:])
	case "invoke":
		err = invoke(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "devstack: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

// fleetFlag adds --fleet to fs; its load function reads the chosen file, the
// demo fleet by default, and says which file it read.
func fleetFlag(fs *flag.FlagSet) func() (localcloud.Fleet, string, error) {
	path := fs.String("fleet", "", "fleet file (default testdata/fleet/demo.json)")
	return func() (localcloud.Fleet, string, error) {
		p := *path
		if p == "" {
			root, err := localcloud.ModuleRoot()
			if err != nil {
				return localcloud.Fleet{}, "", err
			}
			p = filepath.Join(root, "testdata", "fleet", "demo.json")
		}
		f, err := localcloud.LoadFleet(p)
		return f, p, err
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// envFlags adds --env (repeatable) and --env-file to fs; its function
// returns the file's variables, then each --env, in order (later ones win).
func envFlags(fs *flag.FlagSet, what string) func() ([]string, error) {
	var env multiFlag
	fs.Var(&env, "env", "environment KEY=VALUE for "+what+" (repeatable; later ones win)")
	file := fs.String("env-file", "", "file of KEY=VALUE lines for "+what+" (blank lines and # comments ignored; --env wins)")
	return func() ([]string, error) {
		var out []string
		if *file != "" {
			vars, err := readEnvFile(*file)
			if err != nil {
				return nil, err
			}
			out = vars
		}
		for _, kv := range env {
			if err := checkEnv(kv); err != nil {
				return nil, fmt.Errorf("--env %q: %w", kv, err)
			}
			out = append(out, kv)
		}
		return out, nil
	}
}

// readEnvFile reads KEY=VALUE lines; the value is taken verbatim (no quotes
// or escapes are interpreted), blank lines and lines starting with # are
// skipped, and "export " before the key is allowed.
func readEnvFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--env-file: %w", err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		if err := checkEnv(line); err != nil {
			return nil, fmt.Errorf("--env-file %s:%d: %w", path, n, err)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--env-file %s: %w", path, err)
	}
	return out, nil
}

func checkEnv(kv string) error {
	k, _, ok := strings.Cut(kv, "=")
	switch {
	case !ok:
		return fmt.Errorf("want KEY=VALUE")
	case k == "" || strings.ContainsAny(k, " \t"):
		return fmt.Errorf("%q is not a variable name", k)
	}
	return nil
}

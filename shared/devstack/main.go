// Command devstack is the local cloud of fc-rds-backup: RDS, MNS and Function
// Compute emulators (shared/localcloud/rds, shared/localcloud/mns, shared/localcloud/fc) that speak
// the real wire protocols, with the real function binaries running on them.
// Its command line is a contract (DESIGN.md §7); `devstack help` prints
// every flag:
//
//	go run ./shared/devstack demo [--fleet FILE] [-v] [--timeout D]
//	go run ./shared/devstack serve [--fleet FILE] [--env KEY=VALUE]... [--env-file FILE] [--fc-instances N] [--quiet]
//	go run ./shared/devstack invoke --function NAME --event FILE [--fleet FILE] [--env KEY=VALUE]... [--env-file FILE]
//	    [--times N] [--retry-count N] [--timeout D] [--work] [--quiet]
//
// demo runs the product end to end on testdata/fleet/demo.json and prints
// each step as it happens (make run builds devstack and the functions into build/local and
// runs it): a timer plan with a Rebooting and a read-only instance (deferred,
// rejected, the plan run's summary), the deferral resolving, a signed
// request through transient faults, a work-queue message redelivered after
// the queue function is killed (coalesced: one backup), an invalid request,
// every job tracked to completed, then a Jira change moving to Implementing
// (its signed webhook backs up rm-demo-mysql1; Jira's retry is the same ask). MNS time runs 20 times faster there,
// and it says so. serve starts everything on 127.0.0.1 and prints one JSON
// line with the endpoints and a key for the official SDKs; its admin URL
// answers GET /state, GET, POST and DELETE /faults and POST /timer. invoke
// runs one built function once and prints JSON lines: the response, one line
// per outcome message, and a summary of RDS calls and backups created; it
// exits 1 with the function's own words when the function fails to start
// (e.g. on a bad configuration). The webhook function gets the local routes
// and secrets (localcloud.WebhookEnv), which --env may override. serve and
// invoke add the --env-file's variables, then each --env, to every
// function's environment (the functions never inherit devstack's own
// environment, as in FC).
//
// Exit status: 0 done, 1 failed, 2 a mistake on the command line.
//
// devstack is the composition root of the local cloud; nothing imports it,
// and nothing of it ships in a function binary.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
)

// commands are devstack's subcommands, in the order usage lists them. Each
// defines its flags on a fresh FlagSet, so that usage lists every flag
// from the same definitions the command parses.
var commands = []command{
	{"demo", "[--fleet FILE] [-v] [--timeout D]",
		"runs the product end to end on the local cloud and narrates it (make run); exits 0 when every expected outcome arrived",
		demoCommand},
	{"serve", "[--fleet FILE] [--env KEY=VALUE]... [--env-file FILE] [--fc-instances N] [--quiet]",
		"starts everything on 127.0.0.1, prints one JSON line (endpoints, keys, admin URL), runs until Ctrl-C",
		serveCommand},
	{"invoke", "--function scheduled|queue|webhook --event FILE [--fleet FILE] [--env KEY=VALUE]... [--env-file FILE]\n" +
		"                [--times N] [--retry-count N] [--timeout D] [--work] [--quiet]",
		"runs one function once (or --times N, as redeliveries) on a fresh local cloud and prints JSON lines;\n" +
			"exits 1 with the reason when the function fails to start (e.g. bad configuration)",
		invokeCommand},
}

// command is one subcommand: define adds its flags to fs and returns the
// function that runs it once fs is parsed.
type command struct {
	name, synopsis, about string
	define                func(fs *flag.FlagSet) func() error
}

const usageTail = `
exit status: 0 done; 1 failed (demo: an expected outcome did not arrive or a
wrong one did; invoke: the function failed to start; any other error of
devstack's own); 2 a mistake on the command line.
`

// usage is the whole usage text: every command with every flag.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: devstack demo|serve|invoke [flags]   (go run ./shared/devstack ..., or make run for the demo)\n")
	for _, c := range commands {
		b.WriteString("\n")
		writeCommandUsage(&b, c)
	}
	b.WriteString(usageTail)
	return b.String()
}

func writeCommandUsage(b *strings.Builder, c command) {
	fmt.Fprintf(b, "devstack %s %s\n", c.name, c.synopsis)
	for line := range strings.Lines(c.about) {
		fmt.Fprintf(b, "  %s", line)
	}
	b.WriteString("\n")
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.define(fs)
	fs.VisitAll(func(f *flag.Flag) {
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		name, text := flag.UnquoteUsage(f)
		arg := dash + f.Name
		if name != "" {
			arg += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			text += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(b, "    %-22s %s\n", arg, text)
	})
}

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(localcloud.EmulatorGCPercent)
	}
	os.Exit(run(os.Args[1:]))
}

// run runs devstack with args and returns its exit status.
func run(args []string) int {
	if len(args) < 1 {
		fmt.Fprint(os.Stderr, usage())
		return 2
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Print(usage())
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		runCmd := c.define(fs)
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				var b strings.Builder
				writeCommandUsage(&b, c)
				fmt.Print(b.String())
				return 0
			}
			fmt.Fprintf(os.Stderr, "devstack %s: %v (devstack help lists every flag)\n", c.name, err)
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(os.Stderr, "devstack %s takes no arguments, got %q (devstack help lists every flag)\n", c.name, fs.Args())
			return 2
		}
		if err := runCmd(); err != nil {
			var ue usageError
			if errors.As(err, &ue) {
				fmt.Fprintf(os.Stderr, "devstack %s: %v (devstack help lists every flag)\n", c.name, err)
				return 2
			}
			fmt.Fprintln(os.Stderr, "devstack:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "devstack: unknown command %q\n%s", args[0], usage())
	return 2
}

// usageError is a mistake on the command line found after parsing (a
// required flag missing, a value out of range): exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// fleetFlag adds --fleet to fs; its load function reads the chosen file, the
// demo fleet by default, and says which file it read.
func fleetFlag(fs *flag.FlagSet) func() (localcloud.Fleet, string, error) {
	path := fs.String("fleet", "", "fleet `FILE` (instances, faults, crashes, backupSeconds; default testdata/fleet/demo.json)")
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
	fs.Var(&env, "env", "environment variable `KEY=VALUE` for "+what+" (repeatable; later ones win)")
	file := fs.String("env-file", "", "`FILE` of KEY=VALUE lines for "+what+" (blank lines and # comments ignored; --env wins)")
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

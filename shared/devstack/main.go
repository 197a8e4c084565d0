// Command devstack is the local cloud of fc-rds-backup: RDS, MNS and Function
// Compute emulators (shared/localcloud/rds, shared/localcloud/mns, shared/localcloud/fc) that speak
// the real wire protocols, with the real function binaries running on them.
// Its command line is a contract (DESIGN.md §7):
//
//	go run ./shared/devstack demo
//	go run ./shared/devstack serve [--fleet FILE]
//	go run ./shared/devstack invoke --function NAME --event FILE [--fleet FILE] [--env KEY=VALUE]...
//
// demo runs the product end to end on testdata/fleet/demo.json and prints
// what happens (make run). serve starts everything on 127.0.0.1 and prints
// one JSON line with the endpoints and a key for the official SDKs. invoke
// runs one built function once and prints JSON lines: the response, one line
// per outcome message, and a summary of RDS calls and backups created; the
// webhook function gets the local routes and secrets (localcloud.WebhookEnv),
// which --env may override.
//
// devstack is the composition root of the local cloud; nothing imports it,
// and nothing of it ships in a function binary.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
)

const usage = `usage:
  devstack demo [--fleet FILE]
  devstack serve [--fleet FILE]
  devstack invoke --function scheduled|queue|webhook --event FILE [--fleet FILE] [--env KEY=VALUE]... [--times N] [--work]
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

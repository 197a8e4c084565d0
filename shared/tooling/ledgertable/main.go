// Command ledgertable creates the ask ledger's Tablestore table (DESIGN.md
// §2a) for a deployment, once, before the functions are deployed with
// BACKUP_LEDGER_ENDPOINT (the functions never create it):
//
//	go run ./shared/tooling/ledgertable -endpoint https://<instance>.<region>.ots.aliyuncs.com -instance <instance> [-table rds_backup_asks] [-ttl 840h]
//
// or `make ledger-table`, which passes BACKUP_LEDGER_ENDPOINT,
// BACKUP_LEDGER_INSTANCE and BACKUP_LEDGER_TABLE from the environment. The
// table is ledger.TableMeta's: primary key (scope STRING, key STRING), rows
// living -ttl after their last write (default ledger.DefaultTTL, 35 days;
// -1ns: never), one version, on-demand. The key is the default credential
// chain's (ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET,
// a profile, ...): a deployer's, allowed ots:CreateTable on the table; the
// functions' role is not.
//
// An existing table is left as it is (exit 0, and says so). Exit 1 when
// the table could not be made, 2 on a mistake on the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	"github.com/aliyun/credentials-go/credentials"

	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, chain))
}

// credential returns an access key (and token, for STS keys).
type credential func() (ak, sk, token string, err error)

// chain is the default credential chain.
func chain() (string, string, string, error) {
	cred, err := credentials.NewCredential(nil)
	if err != nil {
		return "", "", "", err
	}
	m, err := cred.GetCredential()
	if err != nil {
		return "", "", "", err
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	return deref(m.AccessKeyId), deref(m.AccessKeySecret), deref(m.SecurityToken), nil
}

// defaultTable is BACKUP_LEDGER_TABLE's default, the functions'.
func defaultTable() string {
	for _, v := range config.Vars {
		if v.Name == "BACKUP_LEDGER_TABLE" {
			return v.Default
		}
	}
	return ""
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, cred credential) int {
	fs := flag.NewFlagSet("ledgertable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "", "Tablestore endpoint, https://<instance>.<region>.ots.aliyuncs.com (BACKUP_LEDGER_ENDPOINT)")
	instance := fs.String("instance", "", "Tablestore instance name (BACKUP_LEDGER_INSTANCE)")
	table := fs.String("table", defaultTable(), "table name (BACKUP_LEDGER_TABLE)")
	ttl := fs.Duration("ttl", ledger.DefaultTTL, "how long a row lives after its last write: at least 24h, or -1ns for never")
	timeout := fs.Duration("timeout", 30*time.Second, "time allowed for the CreateTable call")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ledgertable: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usage("unexpected argument %q (flags only; -h lists them)", fs.Arg(0))
	case *endpoint == "":
		return usage("-endpoint is required (BACKUP_LEDGER_ENDPOINT, e.g. https://<instance>.<region>.ots.aliyuncs.com)")
	case *instance == "":
		return usage("-instance is required (BACKUP_LEDGER_INSTANCE)")
	case !config.ValidTablestoreInstance(*instance):
		return usage("-instance %q: %s", *instance, config.TablestoreInstanceRule)
	case !config.ValidTablestoreTable(*table):
		return usage("-table %q: %s", *table, config.TablestoreTableRule)
	}
	if err := config.CheckTablestoreEndpoint(*endpoint); err != nil {
		return usage("-endpoint: %v", err) // the value is not repeated: it may carry user info
	}
	if _, err := ledger.TableMeta(*table, *ttl); err != nil {
		return usage("-ttl %v: %v", *ttl, err)
	}
	ak, sk, token, err := cred()
	if err != nil || ak == "" {
		fmt.Fprintf(stderr, "ledgertable: no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (a key allowed ots:CreateTable), or a profile: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := tablestore.NewClientWithConfig(*endpoint, *instance, ak, sk, token, ledger.ClientConfig())
	err = ledger.CreateTable(ctx, client, *table, *ttl)
	var le *ledger.Error
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "created table %s on instance %s (primary key scope, key; rows live %v after their last write); it takes a few seconds to be ready\n", *table, *instance, *ttl)
		return 0
	case errors.As(err, &le) && le.Code == "OTSObjectAlreadyExist":
		fmt.Fprintf(stdout, "table %s already exists on instance %s: left as it is\n", *table, *instance)
		return 0
	default:
		fmt.Fprintf(stderr, "ledgertable: %v\n", err)
		return 1
	}
}

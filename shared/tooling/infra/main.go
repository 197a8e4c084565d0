// Command infra makes what s.yaml needs and the functions never create: the
// three MNS queues (work, notify, dead-letter) and the ask ledger's
// Tablestore table. It is `make infra`:
//
//	make infra            # dry run: prints the plan, changes nothing
//	make infra APPLY=1    # creates what is missing
//
// or go run ./shared/tooling/infra [-apply] -account-id <id> -ledger-endpoint <url> -ledger-instance <name>.
//
// Names come from s.yaml (-s): vars.workQueue, vars.notifyQueue,
// vars.deadLetterQueue, vars.ledgerTable and vars.region; the work queue's
// visibility timeout follows the queue function's timeout there. Flags
// override them. The MNS endpoint is -mns-endpoint, else
// https://<-account-id>.mns.<region>.aliyuncs.com. Without
// -ledger-endpoint the table is skipped (the functions then run without
// the ledger). The Makefile passes BACKUP_MNS_ENDPOINT,
// ALIBABA_CLOUD_ACCOUNT_ID, BACKUP_LEDGER_ENDPOINT, BACKUP_LEDGER_INSTANCE
// and BACKUP_LEDGER_TABLE as flags; this program reads no environment
// variable itself. The key is the default credential chain's
// (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, a profile, ...): a deployer's,
// allowed mns:GetQueueAttributes and mns:CreateQueue on the queues and
// ots:DescribeTable and ots:CreateTable on the table; the functions' role
// is not.
//
// Each resource is one line: "exists, matches", "exists, DIFFERS: <attribute>
// <have> (want <want>)", "would create (<attributes>)" (dry run) or
// "created (<attributes>)". It never changes or deletes an existing
// resource, so a second run with -apply changes nothing.
//
// With -member-accounts (BACKUP_ALLOWED_ACCOUNTS; the Makefile passes it,
// BACKUP_MEMBER_ROLE and MEMBER_TAG) it also prints what plans across
// accounts need (docs/fleets.md): the member role's trust policy (the
// ExternalId as the placeholder ${BACKUP_MEMBER_EXTERNAL_ID}: infra never
// takes it), its permission policy, and the sts:AssumeRole statement of the
// functions' role. It creates none of them (they live in other accounts);
// -only members prints them alone, without a key.
//
// Exit status: 0 when every resource exists and matches, or would be (dry
// run) or was (-apply) created; 1 when a resource exists but differs (it is
// left as it is; change or recreate it yourself); 2 on a mistake on the
// command line or in s.yaml; 3 when a call failed (the resource could not be
// read or created).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	"github.com/aliyun/credentials-go/credentials"

	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/deploy"
)

// Exit statuses.
const (
	exitOK      = 0
	exitDiffers = 1
	exitUsage   = 2
	exitFailed  = 3
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, chain))
}

// credential returns an access key (and token, for STS keys).
type credential func() (ak, sk, token string, err error)

// chain is the default credential chain (the library reads the
// ALIBABA_CLOUD_* variables, profiles, RRSA; this program reads none).
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

// options is the command line, after s.yaml filled what flags left empty.
type options struct {
	apply                    bool
	only                     string
	mnsEndpoint              string
	work, notify, deadLetter string
	queueTimeout             time.Duration
	ledgerEndpoint, instance string
	table                    string
	ttl                      time.Duration
	syamlTable               string
}

var queueName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,255}$`)

func run(ctx context.Context, args []string, stdout, stderr io.Writer, cred credential) int {
	fs := flag.NewFlagSet("infra", flag.ContinueOnError)
	fs.SetOutput(stderr)
	syamlPath := fs.String("s", "s.yaml", "the s.yaml whose vars name the queues, the table and the region")
	apply := fs.Bool("apply", false, "create what is missing (default: a dry run that prints the plan)")
	only := fs.String("only", "", "queues, ledger or members: only those (default: all; members needs -member-accounts and no key)")
	mnsEndpoint := fs.String("mns-endpoint", "", "MNS endpoint https://<accountId>.mns.<region>.aliyuncs.com (BACKUP_MNS_ENDPOINT); default from -account-id and the region")
	accountID := fs.String("account-id", "", "account id for the default MNS endpoint (ALIBABA_CLOUD_ACCOUNT_ID)")
	region := fs.String("region", "", "region for the default MNS endpoint (default: s.yaml's vars.region)")
	work := fs.String("work-queue", "", "work queue (default: s.yaml's vars.workQueue)")
	notify := fs.String("notify-queue", "", "notification queue (default: s.yaml's vars.notifyQueue)")
	deadLetter := fs.String("dead-letter-queue", "", "dead-letter queue (default: s.yaml's vars.deadLetterQueue)")
	ledgerEndpoint := fs.String("ledger-endpoint", "", "Tablestore endpoint https://<instance>.<region>.ots.aliyuncs.com (BACKUP_LEDGER_ENDPOINT); empty: no ledger table")
	instance := fs.String("ledger-instance", "", "Tablestore instance (BACKUP_LEDGER_INSTANCE)")
	table := fs.String("ledger-table", "", "ledger table (BACKUP_LEDGER_TABLE; default: s.yaml's vars.ledgerTable)")
	ttl := fs.Duration("ttl", ledger.DefaultTTL, "how long a ledger row lives after its last write: at least 24h, or -1ns for never")
	memberAccounts := fs.String("member-accounts", "", "comma-separated member account ids (BACKUP_ALLOWED_ACCOUNTS): print their role's trust and permission policies and the functions' AssumeRole statement")
	memberRole := fs.String("member-role", "", "the member accounts' role (BACKUP_MEMBER_ROLE; default "+memberauth.DefaultRole+")")
	memberTag := fs.String("member-tag", "", "key=value: the member role may back up only instances with this tag (rds:ResourceTag)")
	functionsRole := fs.String("functions-role", "", "the functions' role ARN, which the member role trusts (default: s.yaml's vars.role with -account-id)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "infra: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q (flags only; -h lists them)", fs.Arg(0))
	}
	if *only != "" && *only != "queues" && *only != "ledger" && *only != "members" {
		return usage("-only %q: queues, ledger or members", *only)
	}
	o := options{apply: *apply, only: *only, ledgerEndpoint: *ledgerEndpoint, instance: *instance, ttl: *ttl}

	s, err := deploy.LoadSYAML(*syamlPath)
	if err != nil {
		return usage("-s: %v", err)
	}
	var m *members
	if o.only == "" || o.only == "members" {
		syamlRole, _ := s.Vars["role"].(string)
		if m, err = parseMembers(*memberAccounts, *memberRole, *memberTag, *functionsRole, strings.TrimSpace(syamlRole), *accountID); err != nil {
			return usage("%v", err)
		}
	}
	if o.only == "members" {
		if m == nil {
			return usage("-only members needs -member-accounts (BACKUP_ALLOWED_ACCOUNTS)")
		}
		if err := m.print(stdout); err != nil {
			return usage("%v", err)
		}
		return exitOK
	}
	pick := func(flagValue, varName string) string {
		if flagValue != "" {
			return flagValue
		}
		v, _ := s.Vars[varName].(string)
		return strings.TrimSpace(v)
	}
	o.work, o.notify, o.deadLetter = pick(*work, "workQueue"), pick(*notify, "notifyQueue"), pick(*deadLetter, "deadLetterQueue")
	o.table = pick(*table, "ledgerTable")
	o.syamlTable = pick("", "ledgerTable")
	reg := pick(*region, "region")
	o.queueTimeout = 120 * time.Second
	if t, ok := s.Resources["queue"].Props["timeout"].(int); ok && t > 0 {
		o.queueTimeout = time.Duration(t) * time.Second
	}

	if o.only != "ledger" {
		for _, q := range []struct{ flag, name string }{{"-work-queue", o.work}, {"-notify-queue", o.notify}, {"-dead-letter-queue", o.deadLetter}} {
			if !queueName.MatchString(q.name) {
				return usage("%s %q: a queue name is 1-256 letters, digits and hyphens, not starting with a hyphen (set it in s.yaml's vars or with the flag)", q.flag, q.name)
			}
		}
		o.mnsEndpoint = *mnsEndpoint
		if o.mnsEndpoint == "" {
			if *accountID == "" {
				return usage("-mns-endpoint or -account-id is required (BACKUP_MNS_ENDPOINT or ALIBABA_CLOUD_ACCOUNT_ID)")
			}
			if !regexp.MustCompile(`^[0-9]{1,32}$`).MatchString(*accountID) {
				return usage("-account-id %q: an account id is digits", *accountID)
			}
			if !regexp.MustCompile(`^[a-z0-9-]{2,64}$`).MatchString(reg) {
				return usage("-region %q: not a region id", reg)
			}
			o.mnsEndpoint = fmt.Sprintf("https://%s.mns.%s.aliyuncs.com", *accountID, reg)
		}
		ep, err := mnsq.NormalizeEndpoint(o.mnsEndpoint)
		if err != nil {
			return usage("-mns-endpoint: %v", err)
		}
		if err := httpsOffLoopback(ep); err != nil {
			return usage("-mns-endpoint: %v", err)
		}
		o.mnsEndpoint = ep
	}
	if o.only != "queues" {
		switch {
		case o.ledgerEndpoint == "" && o.only == "ledger":
			return usage("-ledger-endpoint is required (BACKUP_LEDGER_ENDPOINT, e.g. https://<instance>.<region>.ots.aliyuncs.com)")
		case o.ledgerEndpoint == "":
		case o.instance == "":
			return usage("-ledger-instance is required with -ledger-endpoint (BACKUP_LEDGER_INSTANCE)")
		case !config.ValidTablestoreInstance(o.instance):
			return usage("-ledger-instance %q: %s", o.instance, config.TablestoreInstanceRule)
		case !config.ValidTablestoreTable(o.table):
			return usage("-ledger-table %q: %s", o.table, config.TablestoreTableRule)
		}
		if o.ledgerEndpoint != "" {
			if err := config.CheckTablestoreEndpoint(o.ledgerEndpoint); err != nil {
				return usage("-ledger-endpoint: %v", err) // the value is not repeated: it may carry user info
			}
			if _, err := ledger.TableMeta(o.table, o.ttl); err != nil {
				return usage("-ttl %v: %v", o.ttl, err)
			}
		}
	}

	ak, sk, token, err := cred()
	if err != nil || ak == "" {
		fmt.Fprintf(stderr, "infra: no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (a deployer's key), or a profile: %v\n", err)
		return exitFailed
	}
	code := plan(ctx, o, key{ak, sk, token}, stdout, stderr)
	if m != nil {
		if err := m.print(stdout); err != nil {
			return usage("%v", err)
		}
	}
	return code
}

// httpsOffLoopback refuses plain http except to a loopback address (the
// local cloud's emulators).
func httpsOffLoopback(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	if u.Scheme == "https" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
		return nil
	}
	return errors.New("must use https (http only on loopback, for the local cloud)")
}

type key struct{ ak, sk, token string }

// newMNS builds the SDK's queue manager; the SDK panics on what it does not
// like, which New's checks should have caught.
func newMNS(endpoint string, k key) (m ali_mns.AliQueueManager, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("the MNS SDK refused the configuration: %v", r)
		}
	}()
	cl := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: endpoint, AccessKeyId: k.ak, AccessKeySecret: k.sk, Token: k.token, TimeoutSecond: 15,
	})
	return ali_mns.NewMNSQueueManager(cl), nil
}

func newOTS(endpoint, instance string, k key) *tablestore.TableStoreClient {
	return tablestore.NewClientWithConfig(endpoint, instance, k.ak, k.sk, k.token, ledger.ClientConfig())
}

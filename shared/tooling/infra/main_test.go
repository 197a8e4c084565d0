package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

const syaml = "../../../s.yaml"

// cloud is an empty local cloud: MNS and Tablestore emulators that accept
// one key.
type cloud struct {
	mns  *mns.Server
	ots  *tablestore.Server
	cred credential
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	store := auth.NewStore(time.Now)
	key := store.NewAccessKey()
	c := &cloud{
		mns:  mns.NewServer(mns.WithCredentials(store)),
		ots:  tablestore.NewServer(tablestore.WithCredentials(store)),
		cred: func() (string, string, string, error) { return key.AccessKeyID, key.AccessKeySecret, "", nil },
	}
	t.Cleanup(c.mns.Close)
	t.Cleanup(c.ots.Close)
	return c
}

func (c *cloud) args(extra ...string) []string {
	return append([]string{"-s", syaml, "-mns-endpoint", c.mns.Endpoint(),
		"-ledger-endpoint", c.ots.Endpoint(), "-ledger-instance", c.ots.Instance()}, extra...)
}

// creates lists the Create* calls both emulators answered.
func (c *cloud) creates() []string {
	var out []string
	for _, call := range c.mns.Calls() {
		if strings.HasPrefix(call.Op, "Create") {
			out = append(out, call.Op+" "+call.Queue)
		}
	}
	for _, call := range c.ots.Calls() {
		if strings.HasPrefix(call.Action, "Create") {
			out = append(out, call.Action+" "+call.Table)
		}
	}
	return out
}

func invoke(t *testing.T, cred credential, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, cred)
	t.Logf("infra %s → exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

func countLines(out, substr string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// TestPlanApplyAgain: on an empty cloud the dry run plans four creations
// and makes nothing; -apply makes the three queues with their attributes
// and the ledger's table (ledger.TableMeta's, the one the local cloud
// makes for the functions); a second -apply and a dry run find everything
// as it should be and create nothing.
func TestPlanApplyAgain(t *testing.T) {
	c := newCloud(t)

	code, out, errs := invoke(t, c.cred, c.args()...)
	if code != exitOK || countLines(out, "would create") != 4 || errs != "" {
		t.Fatalf("dry run: exit %d, want 4 \"would create\" lines\n%s%s", code, out, errs)
	}
	for _, name := range []string{"rds-backup-work", "rds-backup-notify", "rds-backup-dlq", c.ots.Instance() + "/rds_backup_asks"} {
		if !strings.Contains(out, name) {
			t.Errorf("dry run does not name %s", name)
		}
	}
	if cr := c.creates(); len(cr) != 0 || len(c.ots.Tables()) != 0 {
		t.Fatalf("the dry run created %v", cr)
	}

	code, out, _ = invoke(t, c.cred, c.args("-apply")...)
	if code != exitOK || countLines(out, " created (") != 4 {
		t.Fatalf("apply: exit %d, want 4 created\n%s", code, out)
	}
	want := map[string]mns.QueueAttributes{
		"rds-backup-work":   {MaximumMessageSize: 65536, MessageRetentionPeriod: 345600, VisibilityTimeout: 180},
		"rds-backup-notify": {MaximumMessageSize: 65536, MessageRetentionPeriod: 345600, VisibilityTimeout: 30},
		"rds-backup-dlq":    {MaximumMessageSize: 65536, MessageRetentionPeriod: 345600, VisibilityTimeout: 30},
	}
	snap := c.mns.State()
	for name, w := range want {
		got, ok := queueAttrs(snap, name)
		if !ok || got != w {
			t.Errorf("queue %s: %+v (found %v), want %+v", name, got, ok, w)
		}
	}
	ts := c.ots.Tables()
	spec := localcloud.LedgerTableSpec()
	if len(ts) != 1 || ts[0].Name != spec.Name || !slices.Equal(ts[0].PrimaryKey, spec.PrimaryKey) || ts[0].TTLSeconds != spec.TTLSeconds || ts[0].MaxVersions != spec.MaxVersions {
		t.Errorf("tables %+v; the local cloud makes %+v", ts, spec)
	}
	if int64(spec.TTLSeconds) != int64(ledger.DefaultTTL.Seconds()) {
		t.Errorf("the local cloud's ledger TTL %d s, ledger.DefaultTTL %v", spec.TTLSeconds, ledger.DefaultTTL)
	}
	created := len(c.creates())

	for _, args := range [][]string{c.args("-apply"), c.args()} {
		code, out, _ = invoke(t, c.cred, args...)
		if code != exitOK || countLines(out, "exists, matches") != 4 || strings.Contains(out, "would create") {
			t.Fatalf("again: exit %d, want 4 \"exists, matches\"\n%s", code, out)
		}
		if n := len(c.creates()); n != created {
			t.Fatalf("a run over existing resources called Create*: %v", c.creates()[created:])
		}
	}
}

func queueAttrs(snap any, name string) (mns.QueueAttributes, bool) {
	s, ok := snap.(mns.Snapshot)
	if !ok {
		return mns.QueueAttributes{}, false
	}
	for _, q := range s.Queues {
		if q.Name == name {
			return q.Attributes, true
		}
	}
	return mns.QueueAttributes{}, false
}

// TestDifferenceIsReportedAndLeftAlone: a work queue with a smaller
// MaximumMessageSize and a ledger table with another TTL are reported,
// attribute by attribute, and left as they are; exit 1.
func TestDifferenceIsReportedAndLeftAlone(t *testing.T) {
	c := newCloud(t)
	small := mns.QueueAttributes{MaximumMessageSize: 1024, MessageRetentionPeriod: 345600, VisibilityTimeout: 180}
	if err := c.mns.CreateQueue("rds-backup-work", small); err != nil {
		t.Fatal(err)
	}
	spec := localcloud.LedgerTableSpec()
	spec.TTLSeconds = 86400
	if err := c.ots.CreateTable(spec); err != nil {
		t.Fatal(err)
	}
	for _, apply := range []bool{false, true} {
		args := c.args()
		if apply {
			args = c.args("-apply")
		}
		code, out, _ := invoke(t, c.cred, args...)
		if code != exitDiffers {
			t.Fatalf("apply=%v: exit %d, want %d", apply, code, exitDiffers)
		}
		if !strings.Contains(out, "rds-backup-work                  exists, DIFFERS: MaximumMessageSize 1024 (want 65536") ||
			!strings.Contains(out, "DIFFERS: TimeToLive 86400 s (want 3024000 s") {
			t.Errorf("apply=%v: the differences are not named:\n%s", apply, out)
		}
		if got, _ := queueAttrs(c.mns.State(), "rds-backup-work"); got != small {
			t.Fatalf("the work queue was changed: %+v", got)
		}
		if ts := c.ots.Tables(); len(ts) != 1 || ts[0].TTLSeconds != 86400 {
			t.Fatalf("the table was changed: %+v", ts)
		}
	}
	for _, cr := range c.creates() {
		if strings.Contains(cr, "rds-backup-work") || strings.Contains(cr, "rds_backup_asks") {
			t.Errorf("called %s on an existing resource", cr)
		}
	}
	// The other two queues were created by the -apply run.
	if n := len(c.creates()); n != 2 {
		t.Errorf("creates %v, want the notify and dead-letter queues", c.creates())
	}
}

// TestWorkQueueVisibilityMayBeLonger: at least the queue function's
// timeout and at least 4 days' retention are enough.
func TestWorkQueueVisibilityMayBeLonger(t *testing.T) {
	c := newCloud(t)
	if err := c.mns.CreateQueue("rds-backup-work", mns.QueueAttributes{MaximumMessageSize: 65536, MessageRetentionPeriod: 604800, VisibilityTimeout: 600}); err != nil {
		t.Fatal(err)
	}
	code, out, _ := invoke(t, c.cred, c.args("-only", "queues")...)
	if code != exitOK || !strings.Contains(out, "rds-backup-work                  exists, matches") || strings.Contains(out, "table") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if err := c.mns.CreateQueue("short", mns.QueueAttributes{VisibilityTimeout: 30}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = invoke(t, c.cred, c.args("-only", "queues", "-work-queue", "short")...)
	if code != exitDiffers || !strings.Contains(out, "VisibilityTimeout 30 (want at least 120") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestLedgerOnly is `make ledger-table`: the table alone, no MNS endpoint.
func TestLedgerOnly(t *testing.T) {
	c := newCloud(t)
	args := []string{"-s", syaml, "-only", "ledger", "-apply", "-ledger-endpoint", c.ots.Endpoint(), "-ledger-instance", c.ots.Instance(), "-ledger-table", "asks_short", "-ttl", "24h"}
	code, out, _ := invoke(t, c.cred, args...)
	if code != exitOK || !strings.Contains(out, "asks_short") || !strings.Contains(out, "created") ||
		!strings.Contains(out, "note: -ledger-table asks_short is not s.yaml's vars.ledgerTable rds_backup_asks") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if ts := c.ots.Tables(); len(ts) != 1 || ts[0].Name != "asks_short" || ts[0].TTLSeconds != 86400 {
		t.Fatalf("tables %+v", ts)
	}
	if len(c.mns.Calls()) != 0 {
		t.Fatalf("-only ledger called MNS: %+v", c.mns.Calls())
	}
}

// TestNoLedgerEndpoint: the table is skipped, not an error.
func TestNoLedgerEndpoint(t *testing.T) {
	c := newCloud(t)
	code, out, _ := invoke(t, c.cred, "-s", syaml, "-mns-endpoint", c.mns.Endpoint())
	if code != exitOK || countLines(out, "would create") != 3 || !strings.Contains(out, "skipped: no -ledger-endpoint") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestRefusesMistakes(t *testing.T) {
	c := newCloud(t)
	ok := c.cred
	ep := "https://rds-asks.cn-hangzhou.ots.aliyuncs.com"
	tests := []struct {
		name string
		args []string
		cred credential
		code int
		want string
	}{
		{"no mns endpoint", []string{"-s", syaml}, ok, exitUsage, "-mns-endpoint or -account-id is required"},
		{"bad account", []string{"-s", syaml, "-account-id", "acme"}, ok, exitUsage, `-account-id "acme"`},
		{"http off loopback", []string{"-s", syaml, "-mns-endpoint", "http://1.mns.cn-hangzhou.aliyuncs.com"}, ok, exitUsage, "must use https"},
		{"bad queue", []string{"-s", syaml, "-account-id", "1", "-work-queue", "-x"}, ok, exitUsage, `-work-queue "-x"`},
		{"no s.yaml", []string{"-s", "nowhere.yaml", "-account-id", "1"}, ok, exitUsage, "-s: "},
		{"only what", []string{"-s", syaml, "-only", "topics"}, ok, exitUsage, `-only "topics"`},
		{"ledger only, no endpoint", []string{"-s", syaml, "-only", "ledger"}, ok, exitUsage, "-ledger-endpoint is required"},
		{"no instance", []string{"-s", syaml, "-only", "ledger", "-ledger-endpoint", ep}, ok, exitUsage, "-ledger-instance is required"},
		{"bad instance", []string{"-s", syaml, "-only", "ledger", "-ledger-endpoint", ep, "-ledger-instance", "rds_asks"}, ok, exitUsage, `-ledger-instance "rds_asks"`},
		{"bad table", []string{"-s", syaml, "-only", "ledger", "-ledger-endpoint", ep, "-ledger-instance", "rds-asks", "-ledger-table", "rds-asks"}, ok, exitUsage, `-ledger-table "rds-asks"`},
		{"user info", []string{"-s", syaml, "-only", "ledger", "-ledger-endpoint", "https://ak:pa55word@rds-asks.cn-hangzhou.ots.aliyuncs.com", "-ledger-instance", "rds-asks"}, ok, exitUsage, "must not carry user info"},
		{"short ttl", []string{"-s", syaml, "-only", "ledger", "-ledger-endpoint", ep, "-ledger-instance", "rds-asks", "-ttl", "1h"}, ok, exitUsage, "-ttl 1h0m0s"},
		{"argument", []string{"-s", syaml, "extra"}, ok, exitUsage, `unexpected argument "extra"`},
		{"no credentials", []string{"-s", syaml, "-account-id", "1"}, func() (string, string, string, error) { return "", "", "", errors.New("no source") }, exitFailed, "no credentials"},
		{"wrong key", c.args(), func() (string, string, string, error) { return "LTAIwrong", "wrong", "", nil }, exitFailed, "GetQueueAttributes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := invoke(t, tc.cred, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s\nwant %q", code, tc.code, out, errs, tc.want)
			}
			if strings.Contains(errs+out, "pa55word") {
				t.Fatalf("repeats the password")
			}
		})
	}
	if len(c.creates()) != 0 {
		t.Fatalf("a refused run created %v", c.creates())
	}
}

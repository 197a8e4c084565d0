package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

func invoke(t *testing.T, cred credential, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, cred)
	return code, out.String(), errb.String()
}

// TestCreatesTheLedgerTable: against the Tablestore emulator, the tool
// makes the table ledger.TableMeta describes, which is also the table the
// local cloud makes for the functions (localcloud.LedgerTableSpec, written
// out there since the local cloud imports nothing of the product); a second
// run leaves it alone.
func TestCreatesTheLedgerTable(t *testing.T) {
	srv := tablestore.NewServer()
	t.Cleanup(srv.Close)
	key := srv.Credential()
	cred := func() (string, string, string, error) { return key.AccessKeyID, key.AccessKeySecret, "", nil }
	args := []string{"-endpoint", srv.Endpoint(), "-instance", srv.Instance()}

	code, out, errs := invoke(t, cred, args...)
	if code != 0 || !strings.Contains(out, "created table rds_backup_asks on instance "+srv.Instance()) {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	ts := srv.Tables()
	if len(ts) != 1 {
		t.Fatalf("tables %+v", ts)
	}
	spec := localcloud.LedgerTableSpec()
	if got := ts[0]; got.Name != spec.Name || !slices.Equal(got.PrimaryKey, spec.PrimaryKey) || got.TTLSeconds != spec.TTLSeconds || got.MaxVersions != spec.MaxVersions {
		t.Errorf("the tool made %+v; the local cloud makes %+v", got, spec)
	}
	if int64(spec.TTLSeconds) != int64(ledger.DefaultTTL.Seconds()) {
		t.Errorf("the local cloud's ledger TTL %d s, ledger.DefaultTTL %v", spec.TTLSeconds, ledger.DefaultTTL)
	}
	if spec.Name != defaultTable() {
		t.Errorf("the local cloud's ledger table %q, BACKUP_LEDGER_TABLE's default %q", spec.Name, defaultTable())
	}

	code, out, errs = invoke(t, cred, args...)
	if code != 0 || !strings.Contains(out, "already exists") {
		t.Fatalf("second run: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}

	code, out, _ = invoke(t, cred, append(args, "-table", "asks_short", "-ttl", "24h")...)
	if code != 0 || !strings.Contains(out, "created table asks_short") {
		t.Fatalf("-table -ttl: exit %d %s", code, out)
	}
	for _, tb := range srv.Tables() {
		if tb.Name == "asks_short" && tb.TTLSeconds != 86400 {
			t.Errorf("-ttl 24h made TTL %d s", tb.TTLSeconds)
		}
	}
}

func TestRefusesMistakes(t *testing.T) {
	srv := tablestore.NewServer()
	t.Cleanup(srv.Close)
	key := srv.Credential()
	cred := func() (string, string, string, error) { return key.AccessKeyID, key.AccessKeySecret, "", nil }
	ep := "https://rds-asks.cn-hangzhou.ots.aliyuncs.com"
	tests := []struct {
		name string
		args []string
		cred credential
		code int
		want string
	}{
		{"no endpoint", []string{"-instance", "rds-asks"}, cred, 2, "-endpoint is required"},
		{"no instance", []string{"-endpoint", ep}, cred, 2, "-instance is required"},
		{"bad instance", []string{"-endpoint", ep, "-instance", "rds_asks"}, cred, 2, `-instance "rds_asks": must be a Tablestore instance name`},
		{"bad table", []string{"-endpoint", ep, "-instance", "rds-asks", "-table", "rds-asks"}, cred, 2, `-table "rds-asks": must be a Tablestore table name`},
		{"http off loopback", []string{"-endpoint", "http://rds-asks.cn-hangzhou.ots.aliyuncs.com", "-instance", "rds-asks"}, cred, 2, "-endpoint: must use https"},
		{"user info", []string{"-endpoint", "https://ak:pa55word@rds-asks.cn-hangzhou.ots.aliyuncs.com", "-instance", "rds-asks"}, cred, 2, "-endpoint: must not carry user info"},
		{"short ttl", []string{"-endpoint", ep, "-instance", "rds-asks", "-ttl", "1h"}, cred, 2, "-ttl 1h0m0s"},
		{"argument", []string{"-endpoint", ep, "-instance", "rds-asks", "extra"}, cred, 2, `unexpected argument "extra"`},
		{"unknown flag", []string{"-region", "x"}, cred, 2, "flag provided but not defined"},
		{"no credentials", []string{"-endpoint", ep, "-instance", "rds-asks"}, func() (string, string, string, error) { return "", "", "", errors.New("no source") }, 1, "no credentials"},
		{"wrong key", []string{"-endpoint", srv.Endpoint(), "-instance", srv.Instance()}, func() (string, string, string, error) { return "LTAIwrong", "wrong", "", nil }, 1, "ledgertable: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := invoke(t, tc.cred, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s\nwant %q", code, tc.code, out, errs, tc.want)
			}
			if strings.Contains(errs, "pa55word") {
				t.Fatalf("stderr repeats the password: %s", errs)
			}
		})
	}
	if len(srv.Tables()) != 0 {
		t.Fatalf("a refused run made a table: %+v", srv.Tables())
	}
}

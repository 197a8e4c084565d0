package localcloud

import (
	"slices"
	"strings"
	"testing"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// envValue is the last value of name in env ("", false when absent).
func envValue(env []string, name string) (string, bool) {
	v, ok := "", false
	for _, kv := range env {
		if k, val, _ := strings.Cut(kv, "="); k == name {
			v, ok = val, true
		}
	}
	return v, ok
}

// TestLedgerByDefault: the local cloud makes the ask ledger's table at
// start and points every function at it; the functions' role key writes
// and reads it through the official SDK.
func TestLedgerByDefault(t *testing.T) {
	c, _ := testCloud(t, Fleet{Instances: oneInstance})
	ts := c.OTS.Tables()
	i := slices.IndexFunc(ts, func(s tablestore.TableState) bool { return s.Name == LedgerTable })
	if i < 0 {
		t.Fatalf("no ledger table among %+v", ts)
	}
	spec := LedgerTableSpec()
	if got := ts[i]; !slices.Equal(got.PrimaryKey, spec.PrimaryKey) || got.TTLSeconds != 3024000 || got.MaxVersions != 1 {
		t.Errorf("ledger table %+v, want primary key (scope, key) STRING, TTL 35 days, one version", got)
	}

	env := c.FunctionEnv()
	for name, want := range map[string]string{
		"BACKUP_LEDGER_ENDPOINT": c.OTS.Endpoint(),
		"BACKUP_LEDGER_INSTANCE": c.OTS.Instance(),
		"BACKUP_LEDGER_TABLE":    LedgerTable,
	} {
		if got, _ := envValue(env, name); got != want {
			t.Errorf("FunctionEnv %s=%q, want %q", name, got, want)
		}
	}

	role := c.RoleCredential()
	client := ots.NewClientWithConfig(c.OTS.Endpoint(), c.OTS.Instance(), role.AccessKeyID, role.AccessKeySecret, role.SecurityToken, nil)
	pk := new(ots.PrimaryKey)
	pk.AddPrimaryKeyColumn("scope", "mns:rds-backup-work")
	pk.AddPrimaryKeyColumn("key", "k-1")
	chg := &ots.PutRowChange{TableName: LedgerTable, PrimaryKey: pk}
	chg.AddColumn("state", "claimed")
	chg.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
	if _, err := client.PutRow(&ots.PutRowRequest{PutRowChange: chg}); err != nil {
		t.Fatalf("PutRow with the role's key: %v", err)
	}
	got, err := client.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: LedgerTable, PrimaryKey: pk, MaxVersion: 1}})
	if err != nil || len(got.Columns) != 1 || got.Columns[0].Value != "claimed" {
		t.Fatalf("GetRow with the role's key: %+v %v", got, err)
	}
}

// TestNoLedger: Options.NoLedger leaves the ledger out of the functions'
// environment (the table is made all the same), and a fleet cannot declare
// a table of the ledger's name.
func TestNoLedger(t *testing.T) {
	c, err := StartCloud(Fleet{Region: "cn-hangzhou"}, Options{NoLedger: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for _, kv := range c.FunctionEnv() {
		if strings.HasPrefix(kv, "BACKUP_LEDGER_") {
			t.Errorf("NoLedger, yet FunctionEnv has %s", kv)
		}
	}
	if ts := c.OTS.Tables(); len(ts) != 1 || ts[0].Name != LedgerTable {
		t.Errorf("tables %+v, want the ledger's", ts)
	}

	_, err = StartCloud(Fleet{Region: "cn-hangzhou", Tables: []tablestore.TableSpec{{Name: LedgerTable, PrimaryKey: []tablestore.PKColumn{{Name: "id", Type: "STRING"}}}}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "creates the ask ledger's table itself") {
		t.Fatalf("a fleet table named %s: %v", LedgerTable, err)
	}
}

package localcloud

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"
	stssdk "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// otherAccount owns a role of the test fleet and no instance.
const otherAccount = "2000000000000002"

// otsSTSFleet is a fleet file with a table, two roles (one of the cloud's
// own account, one of another account trusting it) and a Tablestore fault.
const otsSTSFleet = `{"region":"cn-hangzhou",
  "instances":[{"DBInstanceId":"rm-a"}],
  "tables":[{"name":"asks","primaryKey":[{"name":"id","type":"STRING"}],"ttlSeconds":86400}],
  "roles":[{"accountId":"1234567890123456","name":"fc-rds-backup-ledger"},
           {"accountId":"2000000000000002","name":"fc-rds-backup-member","externalId":"ext-1","trusted":["1234567890123456"]}],
  "otsFaults":[{"action":"GetRow","table":"asks","code":"OTSTimeout","times":1}]}`

// stsClient is the official STS SDK client for cred on the cloud's STS
// (Endpoint "127.0.0.1:PORT", Protocol http).
func stsClient(t *testing.T, c *Cloud, cred auth.Credential) *stssdk.Client {
	t.Helper()
	cli, err := stssdk.NewClient(&openapi.Config{
		AccessKeyId: tea.String(cred.AccessKeyID), AccessKeySecret: tea.String(cred.AccessKeySecret),
		Endpoint: tea.String(c.STS.Endpoint()), Protocol: tea.String("http"), RegionId: tea.String(c.Fleet.Region),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// assumeRole assumes arn with the user's key and returns the credential.
func assumeRole(t *testing.T, c *Cloud, arn, externalID string) auth.Credential {
	t.Helper()
	req := &stssdk.AssumeRoleRequest{RoleArn: tea.String(arn), RoleSessionName: tea.String("test-session")}
	if externalID != "" {
		req.ExternalId = tea.String(externalID)
	}
	resp, err := stsClient(t, c, c.User).AssumeRole(req)
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", arn, err)
	}
	cr := resp.Body.Credentials
	return auth.Credential{AccessKeyID: tea.StringValue(cr.AccessKeyId), AccessKeySecret: tea.StringValue(cr.AccessKeySecret),
		SecurityToken: tea.StringValue(cr.SecurityToken)}
}

// otsClient is the official Tablestore SDK client for cred, without
// retries so that a fault is seen at once.
func otsClient(c *Cloud, cred auth.Credential) *ots.TableStoreClient {
	cfg := ots.NewDefaultTableStoreConfig()
	cfg.RetryTimes = 0
	cfg.DefaultRetryInterval = 2 * time.Millisecond // the SDK panics at 1 ms
	cfg.MaxRetryInterval = 4 * time.Millisecond
	return ots.NewClientWithConfig(c.OTS.Endpoint(), c.OTS.Instance(), cred.AccessKeyID, cred.AccessKeySecret, cred.SecurityToken, cfg)
}

func askKey(id string) *ots.PrimaryKey {
	pk := new(ots.PrimaryKey)
	pk.AddPrimaryKeyColumn("id", id)
	return pk
}

func getAsk(cli *ots.TableStoreClient, id string) (*ots.GetRowResponse, error) {
	return cli.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{
		TableName: "asks", PrimaryKey: askKey(id), MaxVersion: 1}})
}

func otsCode(err error) (string, int) {
	var oe *ots.OtsError
	if !errors.As(err, &oe) {
		return "", 0
	}
	return oe.Code, oe.HttpStatusCode
}

// TestFleetTablesAndRoles: a fleet file's table and roles exist at start;
// through the official SDKs the user's key assumes a role, the role's
// credential puts and reads a row in Tablestore, the fleet's otsFault is
// seen with its code and status, and another account's role sees none of
// the cloud's instances; GET /state shows the table's rows, the sessions
// without secrets and the call counts.
func TestFleetTablesAndRoles(t *testing.T) {
	fleet, err := LoadFleet(writeFleet(t, otsSTSFleet))
	if err != nil {
		t.Fatal(err)
	}
	c, url := testCloud(t, fleet)

	ledger := assumeRole(t, c, "acs:ram::1234567890123456:role/fc-rds-backup-ledger", "")
	cli := otsClient(c, ledger)

	// The fleet's fault: the first GetRow on asks answers 503 OTSTimeout.
	if code, status := otsCode(func() error { _, err := getAsk(cli, "a1"); return err }()); code != "OTSTimeout" || status != 503 {
		t.Fatalf("first GetRow: %s %d, want the fleet's OTSTimeout 503", code, status)
	}
	chg := &ots.PutRowChange{TableName: "asks", PrimaryKey: askKey("a1")}
	chg.AddColumn("state", "asked")
	chg.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
	if _, err := cli.PutRow(&ots.PutRowRequest{PutRowChange: chg}); err != nil {
		t.Fatalf("PutRow with the role's credential: %v", err)
	}
	if code, status := otsCode(func() error { _, err := cli.PutRow(&ots.PutRowRequest{PutRowChange: chg}); return err }()); code != "OTSConditionCheckFail" || status != 403 {
		t.Fatalf("second conditional PutRow: %s %d", code, status)
	}
	row, err := getAsk(cli, "a1")
	if err != nil || len(row.Columns) != 1 || row.Columns[0].ColumnName != "state" || row.Columns[0].Value != "asked" {
		t.Fatalf("GetRow: %+v %v", row, err)
	}

	// A role of an account with no instance: trusted by the cloud's
	// account, needs its ExternalId, and sees none of the cloud's instances.
	if code, status := sdkCode(func() error {
		_, err := stsClient(t, c, c.User).AssumeRole(&stssdk.AssumeRoleRequest{
			RoleArn: tea.String("acs:ram::" + otherAccount + ":role/fc-rds-backup-member"), RoleSessionName: tea.String("no-ext")})
		return err
	}()); code != "NoPermission" || status != 403 {
		t.Fatalf("AssumeRole without the ExternalId: %s %d", code, status)
	}
	member := assumeRole(t, c, "acs:ram::"+otherAccount+":role/fc-rds-backup-member", "ext-1")
	rdsMember, err := rdssdk.NewClient(&openapi.Config{
		AccessKeyId: tea.String(member.AccessKeyID), AccessKeySecret: tea.String(member.AccessKeySecret),
		SecurityToken: tea.String(member.SecurityToken),
		Endpoint:      tea.String(c.RDS.Endpoint()), Protocol: tea.String("http"), RegionId: tea.String(c.Fleet.Region),
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, status := sdkCode(attribute(rdsMember, "rm-a")); code != "InvalidDBInstanceId.NotFound" || status != 404 {
		t.Fatalf("another account's credential on rm-a: %s %d", code, status)
	}
	if err := attribute(rdsClient(t, c), "rm-a"); err != nil {
		t.Fatalf("the user's key on rm-a: %v", err)
	}

	_, body := admin(t, "GET", url+"/state", "")
	var state struct {
		Tablestore tablestore.Snapshot
		STS        struct {
			Roles    []struct{ Arn string }
			Sessions []struct{ RoleArn, Account string }
		}
		OTSCalls map[string]int `json:"otsCalls"`
		STSCalls map[string]int `json:"stsCalls"`
		Faults   FaultsState
	}
	if err := json.Unmarshal([]byte(body), &state); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	// The fleet's table, and the ask ledger's that the local cloud makes.
	if ts := state.Tablestore.Tables; len(ts) != 2 || ts[0].Name != "asks" || ts[0].Rows != 1 || ts[0].TTLSeconds != 86400 || ts[1].Name != LedgerTable {
		t.Errorf("/state tablestore tables: %+v", ts)
	}
	if len(state.STS.Roles) != 2 || len(state.STS.Sessions) != 2 || state.STS.Sessions[1].Account != otherAccount {
		t.Errorf("/state sts: %+v", state.STS)
	}
	if state.OTSCalls["GetRow asks"] != 2 || state.OTSCalls["PutRow asks"] != 2 || state.STSCalls["AssumeRole"] != 3 {
		t.Errorf("/state otsCalls %v stsCalls %v", state.OTSCalls, state.STSCalls)
	}
	if len(state.Faults.OTS) != 0 || len(state.Faults.STS) != 0 {
		t.Errorf("/state faults: %+v (the times-1 fault is used up)", state.Faults)
	}
	for _, secret := range []string{ledger.AccessKeySecret, ledger.SecurityToken, member.AccessKeySecret, member.SecurityToken, "ext-1"} {
		if strings.Contains(body, secret) {
			t.Errorf("/state shows a secret, token or ExternalId: %q", secret)
		}
	}
}

// TestAdminOTSSTSFaults: otsFaults and stsFaults added through POST /faults
// are listed by GET /faults, seen by the official SDKs with their codes,
// and cleared by DELETE /faults.
func TestAdminOTSSTSFaults(t *testing.T) {
	c, url := testCloud(t, Fleet{Instances: oneInstance,
		Tables: []tablestore.TableSpec{{Name: "asks", PrimaryKey: []tablestore.PKColumn{{Name: "id", Type: "STRING"}}}}})
	status, body := admin(t, "POST", url+"/faults", `{
	  "otsFaults":[{"action":"PutRow","table":"asks","code":"OTSServerBusy","times":1,"after":true}],
	  "stsFaults":[{"action":"GetCallerIdentity","code":"ServiceUnavailable"}]}`)
	if status != 200 {
		t.Fatalf("POST /faults: %d %s", status, body)
	}
	var listed FaultsState
	_, body = admin(t, "GET", url+"/faults", "")
	if err := json.Unmarshal([]byte(body), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.OTS) != 1 || listed.OTS[0].Table != "asks" || !listed.OTS[0].After || len(listed.STS) != 1 || listed.STS[0].Code != "ServiceUnavailable" {
		t.Fatalf("GET /faults: %s", body)
	}

	// after: the row is written, the SDK sees the code.
	chg := &ots.PutRowChange{TableName: "asks", PrimaryKey: askKey("a1")}
	chg.AddColumn("state", "asked")
	chg.SetCondition(ots.RowExistenceExpectation_IGNORE)
	if code, status := otsCode(func() error { _, err := otsClient(c, c.User).PutRow(&ots.PutRowRequest{PutRowChange: chg}); return err }()); code != "OTSServerBusy" || status != 503 {
		t.Fatalf("PutRow: %s %d", code, status)
	}
	if ts := c.OTS.Tables(); ts[0].Rows != 1 {
		t.Fatalf("rows after the lost answer: %d, want 1", ts[0].Rows)
	}
	if code, status := sdkCode(func() error { _, err := stsClient(t, c, c.User).GetCallerIdentity(); return err }()); code != "ServiceUnavailable" || status != 503 {
		t.Fatalf("GetCallerIdentity: %s %d", code, status)
	}

	if status, body := admin(t, "DELETE", url+"/faults", ""); status != 200 || !strings.Contains(body, `"ots":[]`) || !strings.Contains(body, `"sts":[]`) {
		t.Fatalf("DELETE /faults: %d %s", status, body)
	}
	if _, err := stsClient(t, c, c.User).GetCallerIdentity(); err != nil {
		t.Fatalf("GetCallerIdentity after DELETE /faults: %v", err)
	}
}

// TestFleetRolesTablesBadValues: a wrong role, table or Tablestore/STS
// fault in a fleet file is refused, naming the file and the field.
func TestFleetRolesTablesBadValues(t *testing.T) {
	for body, want := range map[string]string{
		`{"roles":[{"accountId":"42","name":"r"}]}`:                                              "roles[0].accountId: must be 16 digits",
		`{"roles":[{"name":"r/x"}]}`:                                                             "roles[0].name: must be 1 to 64",
		`{"roles":[{"name":"r","trusted":["me"]}]}`:                                              "roles[0].trusted: account ids are 16 digits",
		`{"roles":[{"name":"r"},{"name":"R"}]}`:                                                  "roles[1].name: acs:ram::1234567890123456:role/r is already a role",
		`{"roles":[{"name":"r","trust":[]}]}`:                                                    `unknown field "trust"`,
		`{"tables":[{"name":"1t","primaryKey":[{"name":"id","type":"STRING"}]}]}`:                "tables[0].name: must be 1 to 255",
		`{"tables":[{"name":"t","primaryKey":[]}]}`:                                              "tables[0].primaryKey: must have 1 to 4 columns",
		`{"tables":[{"name":"t","primaryKey":[{"name":"id","type":"TEXT"}]}]}`:                   "tables[0].primaryKey[0].type: must be STRING, INTEGER or BINARY",
		`{"tables":[{"name":"t","primaryKey":[{"name":"id","type":"STRING"}],"ttlSeconds":60}]}`: "tables[0].ttlSeconds: must be -1 or 0",
		`{"tables":[{"name":"t","primaryKey":[{"name":"id","type":"STRING"}]},{"name":"t","primaryKey":[{"name":"id","type":"STRING"}]}]}`: `tables[1].name: "t" is already a table`,
		`{"tables":[{"name":"t","primaryKey":[{"name":"id","type":"STRING","autoIncrement":true}]}]}`:                                      "tables[0].primaryKey[0].autoIncrement:",
		`{"tables":[{"name":"t","primaryKey":[{"name":"id","typ":"STRING"}]}]}`:                                                            `unknown field "typ"`,
		`{"otsFaults":[{"action":"PutRow","code":"OTSServerBusy","rate":2}]}`:                                                              "otsFaults[0].rate: must be a probability",
		`{"stsFaults":[{"action":"AssumeRol","code":"InternalError"}]}`:                                                                    "stsFaults[0].action: unknown STS action",
	} {
		path := writeFleet(t, body)
		if _, err := LoadFleet(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadFleet(%s) = %v, want an error naming %s and %q", body, err, path, want)
		}
	}
}

// TestOTSSTSOnTheRDSClock: with Options.RDSClock, Tablestore and STS read
// the same clock as RDS (TTL, flow control, session expiry marks).
func TestOTSSTSOnTheRDSClock(t *testing.T) {
	clock := rds.NewFakeClock(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC))
	c, err := StartCloud(Fleet{Region: "cn-hangzhou", Instances: oneInstance}, Options{RDSClock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	clock.Advance(time.Minute)
	want := clock.Now()
	if got := c.OTS.State().Now; !got.Equal(want) {
		t.Errorf("Tablestore now %v, want the RDS clock's %v", got, want)
	}
	b, _ := json.Marshal(c.STS.State())
	var st struct{ Time time.Time }
	if err := json.Unmarshal(b, &st); err != nil || !st.Time.Equal(want) {
		t.Errorf("STS time %v (%v), want the RDS clock's %v", st.Time, err, want)
	}
}

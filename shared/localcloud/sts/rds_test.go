package sts

import (
	"reflect"
	"slices"
	"testing"
	"time"

	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// newRDS starts the RDS emulator on the same store and clock as e.
func newRDS(t *testing.T, e *env) *rds.Server {
	t.Helper()
	srv := rds.NewServer(rds.WithCredentials(e.store), rds.WithClock(e.clock))
	t.Cleanup(srv.Close)
	return srv
}

func describeIDs(t *testing.T, cli *rdssdk.Client) ([]string, error) {
	t.Helper()
	resp, err := cli.DescribeDBInstances(&rdssdk.DescribeDBInstancesRequest{RegionId: tea.String("cn-hangzhou")})
	if err != nil {
		return nil, err
	}
	var ids []string
	if resp.Body.Items != nil {
		for _, in := range resp.Body.Items.DBInstance {
			ids = append(ids, tea.StringValue(in.DBInstanceId))
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// TestAssumedCredentialsOnRDS: credentials AssumeRole issued are accepted
// by the RDS emulator sharing the store, until they expire on the clock.
func TestAssumedCredentialsOnRDS(t *testing.T) {
	e := newEnv(t)
	rsrv := newRDS(t, e)
	rsrv.AddInstance(withAccount(t, rds.Instance{DBInstanceId: "rm-a1"}, memberA))

	body, err := assume(e.cli(t), backupArn, "run-1", "ext-123", 900)
	noErr(t, err)
	cli := rdsClient(t, rsrv.Endpoint(), credOf(body))
	_, err = describeIDs(t, cli)
	noErr(t, err)
	calls := rsrv.Calls()
	if last := calls[len(calls)-1]; last.Status != 200 || last.AccessKeyId != tea.StringValue(body.Credentials.AccessKeyId) {
		t.Fatalf("rds call = %+v", last)
	}

	// Past Expiration on the fake clock: refused.
	e.clock.Advance(900 * time.Second)
	_, err = describeIDs(t, cli)
	wantErr(t, err, "InvalidSecurityToken.Expired", 400)

	// Wrong token: refused.
	bad := credOf(body)
	bad.SecurityToken = "CAISnot"
	_, err = describeIDs(t, rdsClient(t, rsrv.Endpoint(), bad))
	wantErr(t, err, "InvalidSecurityToken.Malformed", 400)
}

// withAccount sets the instance's owner account when rds.Instance has an
// account field (AccountId, the RDS emulator's accounts work of issue 17),
// and skips the test when it has none.
func withAccount(t *testing.T, in rds.Instance, account string) rds.Instance {
	t.Helper()
	if !hasAccountField() {
		t.Skip("rds.Instance has no AccountId field yet: instances cannot belong to an account (issue 17, RDS emulator accounts)")
	}
	return setAccountField(in, account)
}

func hasAccountField() bool {
	f, ok := reflect.TypeFor[rds.Instance]().FieldByName("AccountId")
	return ok && f.Type.Kind() == reflect.String
}

// setAccountField sets AccountId when rds.Instance has it.
func setAccountField(in rds.Instance, account string) rds.Instance {
	if hasAccountField() {
		reflect.ValueOf(&in).Elem().FieldByName("AccountId").SetString(account)
	}
	return in
}

// TestCredentialsScopedToRoleAccount: credentials for account A's role see
// A's instances and not B's (issue 17, "STS credentials for account A
// cannot read account B's instances").
func TestCredentialsScopedToRoleAccount(t *testing.T) {
	e := newEnv(t)
	mustAddRole(t, e.srv, Role{AccountID: memberB, Name: "Backup", ExternalID: "ext-b", Trusted: []string{hub}})
	rsrv := newRDS(t, e)
	rsrv.AddInstance(withAccount(t, rds.Instance{DBInstanceId: "rm-a1"}, memberA))
	rsrv.AddInstance(withAccount(t, rds.Instance{DBInstanceId: "rm-a2"}, memberA))
	rsrv.AddInstance(withAccount(t, rds.Instance{DBInstanceId: "rm-b1"}, memberB))

	bodyA, err := assume(e.cli(t), backupArn, "run-1", "ext-123", 0)
	noErr(t, err)
	bodyB, err := assume(e.cli(t), "acs:ram::"+memberB+":role/backup", "run-1", "ext-b", 0)
	noErr(t, err)
	cliA := rdsClient(t, rsrv.Endpoint(), credOf(bodyA))
	cliB := rdsClient(t, rsrv.Endpoint(), credOf(bodyB))

	ids, err := describeIDs(t, cliA)
	noErr(t, err)
	if !slices.Equal(ids, []string{"rm-a1", "rm-a2"}) {
		t.Errorf("account A's credentials list %v, want [rm-a1 rm-a2] (the RDS emulator must scope DescribeDBInstances by auth.Store.AccountOf)", ids)
	}
	ids, err = describeIDs(t, cliB)
	noErr(t, err)
	if !slices.Equal(ids, []string{"rm-b1"}) {
		t.Errorf("account B's credentials list %v, want [rm-b1]", ids)
	}
	// A's credentials cannot read B's instance by id.
	_, err = cliA.DescribeDBInstanceAttribute(&rdssdk.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String("rm-b1")})
	if code, _ := sdkCode(err); code != "InvalidDBInstanceId.NotFound" {
		t.Errorf("A reading B's rm-b1: err = %v, want InvalidDBInstanceId.NotFound", err)
	}
	_, err = cliA.CreateBackup(&rdssdk.CreateBackupRequest{DBInstanceId: tea.String("rm-b1")})
	if code, _ := sdkCode(err); code != "InvalidDBInstanceId.NotFound" {
		t.Errorf("A backing up B's rm-b1: err = %v, want InvalidDBInstanceId.NotFound", err)
	}
	// The hub's own key sees neither member's instances.
	ids, err = describeIDs(t, rdsClient(t, rsrv.Endpoint(), e.caller))
	noErr(t, err)
	if len(ids) != 0 {
		t.Errorf("hub's key lists %v, want none", ids)
	}
}

package memberauth

import (
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// TestRDSClientActsInTheMemberAccount: the RDS emulator, sharing the STS
// emulator's credential store, shows a client built from a member
// credential that account's instances only.
func TestRDSClientActsInTheMemberAccount(t *testing.T) {
	e := newEnv(t)
	rsrv := rds.NewServer(rds.WithCredentials(e.store), rds.WithClock(e.clock))
	t.Cleanup(rsrv.Close)
	rsrv.AddInstance(rds.Instance{DBInstanceId: "rm-member-a", AccountId: memberA})
	rsrv.AddInstance(rds.Instance{DBInstanceId: "rm-member-b", AccountId: memberB})
	rsrv.AddInstance(rds.Instance{DBInstanceId: "rm-hub", AccountId: hub})

	base, err := rdsclient.New(rdsclient.Config{RegionID: "cn-hangzhou", Endpoint: rsrv.Endpoint(), Protocol: "http",
		AccessKeyID: e.hub.AccessKeyID, AccessKeySecret: e.hub.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	ids := func(cli *rdsclient.Client) []string {
		t.Helper()
		facts, _, _, err := cli.ListInstances(ctx, backup.Selector{RegionId: "cn-hangzhou"}, 1, 30)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range facts {
			out = append(out, f.DBInstanceId)
		}
		return out
	}
	if got := ids(base); len(got) != 1 || got[0] != "rm-hub" {
		t.Fatalf("the hub's own client sees %v", got)
	}
	cred, err := e.broker(nil).Get(ctx, req(memberA))
	if err != nil {
		t.Fatal(err)
	}
	member, err := RDSClient(base, cred)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(member); len(got) != 1 || got[0] != "rm-member-a" {
		t.Fatalf("memberA's client sees %v", got)
	}
	if _, err := RDSClient(base, Credentials{AccountID: memberA, AccessKeyID: "x"}); err == nil {
		t.Error("RDSClient accepted incomplete credentials")
	}
	if _, err := RDSClient(nil, cred); err == nil {
		t.Error("RDSClient accepted no base client")
	}
}

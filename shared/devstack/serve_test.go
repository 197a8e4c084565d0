package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	stssdk "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// serveLineOn starts the local cloud on fleet (closed when the test ends)
// and returns it with serve's line for it, as JSON.
func serveLineOn(t *testing.T, fleet localcloud.Fleet) (*localcloud.Cloud, []byte) {
	t.Helper()
	c, err := localcloud.StartCloud(fleet, localcloud.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	b, err := json.Marshal(serveLine(&localcloud.Stack{Cloud: c}, "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	return c, b
}

// printedSTS is the official STS client with what serve's line printed.
func printedSTS(t *testing.T, endpoint, protocol, id, secret string) *stssdk.Client {
	t.Helper()
	cli, err := stssdk.NewClient(&openapi.Config{
		AccessKeyId: tea.String(id), AccessKeySecret: tea.String(secret),
		Endpoint: tea.String(endpoint), Protocol: tea.String(protocol), RegionId: tea.String("cn-hangzhou"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// TestServeLineNamesEveryEmulator: serve's line carries the Tablestore
// endpoint and instance and the STS endpoint and protocol next to RDS and
// MNS, and the official SDKs work with them and the printed key.
func TestServeLineNamesEveryEmulator(t *testing.T) {
	_, b := serveLineOn(t, localcloud.Fleet{Region: "cn-hangzhou"})
	var line struct {
		RDSEndpoint, RDSProtocol, MNSEndpoint                  string
		TablestoreEndpoint, TablestoreInstance                 string
		STSEndpoint, STSProtocol, AccessKeyID, AccessKeySecret string
	}
	if err := json.Unmarshal(b, &line); err != nil {
		t.Fatal(err)
	}
	if line.RDSEndpoint == "" || line.MNSEndpoint == "" || !strings.HasPrefix(line.TablestoreEndpoint, "http://127.0.0.1:") ||
		line.TablestoreInstance != tablestore.DefaultInstance || !strings.HasPrefix(line.STSEndpoint, "127.0.0.1:") || line.STSProtocol != "http" {
		t.Fatalf("serve line: %s", b)
	}

	cli := printedSTS(t, line.STSEndpoint, line.STSProtocol, line.AccessKeyID, line.AccessKeySecret)
	if id, err := cli.GetCallerIdentity(); err != nil || tea.StringValue(id.Body.AccountId) != localcloud.AccountID {
		t.Fatalf("GetCallerIdentity with the printed key: %v %v", id, err)
	}
	cfg := ots.NewDefaultTableStoreConfig()
	cfg.RetryTimes = 0
	tables, err := ots.NewClientWithConfig(line.TablestoreEndpoint, line.TablestoreInstance, line.AccessKeyID, line.AccessKeySecret, "", cfg).ListTable()
	if err != nil || len(tables.TableNames) != 1 || tables.TableNames[0] != localcloud.LedgerTable { // the ask ledger's, made at start
		t.Fatalf("ListTable with the printed key: %v %v", tables, err)
	}
}

// TestServeLineNamesAccounts: on a fleet of several accounts and regions,
// serve's line names the functions' own account, the member accounts and
// regions they may reach and the fleet's roles; the printed key assumes a
// printed role through the printed STS endpoint with the fleet file's
// ExternalId, which the line does not repeat.
func TestServeLineNamesAccounts(t *testing.T) {
	fleet := localcloud.Fleet{Region: "cn-hangzhou",
		Roles: []sts.Role{{AccountID: "2000000000000002", Name: "fc-rds-backup-member", ExternalID: "ext-fleet-1", Trusted: []string{localcloud.AccountID}}},
		Instances: []rds.Instance{{DBInstanceId: "rm-own", RegionId: "cn-hangzhou"},
			{DBInstanceId: "rm-m1", AccountId: "2000000000000002", RegionId: "cn-shanghai"}}}
	c, b := serveLineOn(t, fleet)
	var line struct {
		AccountID                                              string
		MemberAccounts, Roles, AllowedRegions                  []string
		STSEndpoint, STSProtocol, AccessKeyID, AccessKeySecret string
	}
	if err := json.Unmarshal(b, &line); err != nil {
		t.Fatal(err)
	}
	if line.AccountID != localcloud.AccountID || fmt.Sprint(line.MemberAccounts) != "[2000000000000002]" ||
		fmt.Sprint(line.Roles) != "[acs:ram::2000000000000002:role/fc-rds-backup-member]" || fmt.Sprint(line.AllowedRegions) != "[cn-shanghai]" {
		t.Fatalf("serve line: %s", b)
	}
	if strings.Contains(string(b), "ext-fleet-1") {
		t.Errorf("the serve line repeats the ExternalId: %s", b)
	}
	cli := printedSTS(t, line.STSEndpoint, line.STSProtocol, line.AccessKeyID, line.AccessKeySecret)
	resp, err := cli.AssumeRole(&stssdk.AssumeRoleRequest{RoleArn: tea.String(line.Roles[0]), RoleSessionName: tea.String("me"), ExternalId: tea.String("ext-fleet-1")})
	if err != nil {
		t.Fatalf("AssumeRole of the printed role: %v", err)
	}
	if got := c.Auth.AccountOf(tea.StringValue(resp.Body.Credentials.AccessKeyId)); got != "2000000000000002" {
		t.Errorf("the assumed key is of account %s, want the member's", got)
	}
}

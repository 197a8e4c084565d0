package main

import (
	"encoding/json"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	stssdk "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// TestServeLineNamesEveryEmulator: serve's line carries the Tablestore
// endpoint and instance and the STS endpoint and protocol next to RDS and
// MNS, and the official SDKs work with them and the printed key.
func TestServeLineNamesEveryEmulator(t *testing.T) {
	c, err := localcloud.StartCloud(localcloud.Fleet{Region: "cn-hangzhou"}, localcloud.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := json.Marshal(serveLine(&localcloud.Stack{Cloud: c}, "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
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

	cli, err := stssdk.NewClient(&openapi.Config{
		AccessKeyId: tea.String(line.AccessKeyID), AccessKeySecret: tea.String(line.AccessKeySecret),
		Endpoint: tea.String(line.STSEndpoint), Protocol: tea.String(line.STSProtocol), RegionId: tea.String("cn-hangzhou"),
	})
	if err != nil {
		t.Fatal(err)
	}
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

package rdsclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// TestRegionCannotPickTheHost is the SSRF of issue 12: without an endpoint
// override the SDK builds the host rds.<RegionId>.aliyuncs.com, so the
// RegionId "x@<attacker>/" used to send the function's signed call, with its
// STS token, to the attacker's server. No client is built for a RegionId
// that is not a region id, whichever operation carries it; nothing reaches
// the attacker and the error is terminal and names no transport detail.
func TestRegionCannotPickTheHost(t *testing.T) {
	var hits atomic.Int32
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(attacker.Close)
	host := strings.TrimPrefix(attacker.URL, "http://")

	c, err := rdsclient.New(rdsclient.Config{RegionID: "cn-hangzhou", Protocol: "http",
		AccessKeyID: "STS.fn", AccessKeySecret: "secret", SecurityToken: "CAIS-token"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, region := range []string{
		"x@" + host + "/",
		host,
		"cn-hangzhou.attacker.example",
		"cn-hangzhou/../x",
		"cn-hangzhou\r\nHost: evil",
		"CN-HANGZHOU",
		strings.Repeat("a-", 40) + "b",
	} {
		calls := map[string]func() error{
			"CreateBackup": func() error {
				_, _, err := c.CreateBackup(ctx, backup.Request{DBInstanceId: "rm-a", RegionId: region})
				return err
			},
			"DescribeBackupTasks": func() error { _, _, _, err := c.Job(ctx, region, "rm-a", "1"); return err },
			"DescribeDBInstances": func() error {
				_, _, _, err := c.ListInstances(ctx, backup.Selector{RegionId: region, Engine: "MySQL"}, 1, 100)
				return err
			},
			"DescribeDBInstanceAttribute": func() error { _, _, err := c.DescribeInstance(ctx, region, "rm-a"); return err },
			"DescribeBackups":             func() error { _, _, err := c.RecentBackups(ctx, region, "rm-a", time.Now()); return err },
			"DescribeDatabases":           func() error { _, _, _, err := c.Databases(ctx, region, "rm-a"); return err },
		}
		for action, call := range calls {
			err := call()
			if err == nil || retry.Classify(err) != retry.Terminal {
				t.Errorf("%s with RegionId %q: err %v, want a terminal error", action, region, err)
				continue
			}
			if strings.Contains(err.Error(), "dial") || strings.Contains(err.Error(), "://") {
				t.Errorf("%s with RegionId %q: the error names transport details: %v", action, region, err)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the attacker's host", n)
	}
}

// A region id is still taken as it is, with or without an endpoint
// override (the local cloud's).
func TestValidRegionIsUsed(t *testing.T) {
	s := newStub(t)
	s.json(rdsclient.ActionDescribeDBInstances, 200, `{"RequestId":"L1","TotalRecordCount":0,"Items":{"DBInstance":[]}}`)
	c := s.client(t)
	if _, _, _, err := c.ListInstances(context.Background(), backup.Selector{RegionId: "cn-shanghai-finance-1", Engine: "MySQL"}, 1, 100); err != nil {
		t.Fatal(err)
	}
	if got := s.requests(rdsclient.ActionDescribeDBInstances)[0].Query.Get("RegionId"); got != "cn-shanghai-finance-1" {
		t.Fatalf("RegionId sent %q", got)
	}
}

func TestNewRefusesABadDefaultRegion(t *testing.T) {
	if _, err := rdsclient.New(rdsclient.Config{RegionID: "x@evil:1/", AccessKeyID: "a", AccessKeySecret: "b"}); err == nil {
		t.Fatal("a default region that is not a region id must be refused")
	}
}

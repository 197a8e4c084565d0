package sts_test

import (
	"fmt"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"
	stssdk "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
)

func Example() {
	clock := rds.NewFakeClock(time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC))
	store := auth.NewStore(clock.Now)
	stsSrv := sts.NewServer(sts.WithCredentials(store), sts.WithClock(clock))
	defer stsSrv.Close()
	rdsSrv := rds.NewServer(rds.WithCredentials(store), rds.WithClock(clock))
	defer rdsSrv.Close()

	hub := store.NewAccessKeyFor("1000000000000001")
	if err := stsSrv.AddRole(sts.Role{AccountID: "2000000000000002", Name: "fc-rds-backup-member",
		ExternalID: "ext-1", Trusted: []string{"1000000000000001"}}); err != nil {
		panic(err)
	}
	cli, err := stssdk.NewClient(&openapi.Config{
		AccessKeyId: tea.String(hub.AccessKeyID), AccessKeySecret: tea.String(hub.AccessKeySecret),
		Endpoint: tea.String(stsSrv.Endpoint()), Protocol: tea.String("http"), RegionId: tea.String("cn-hangzhou"),
	})
	if err != nil {
		panic(err)
	}
	resp, err := cli.AssumeRole(&stssdk.AssumeRoleRequest{
		RoleArn:         tea.String("acs:ram::2000000000000002:role/fc-rds-backup-member"),
		RoleSessionName: tea.String("run-1"),
		ExternalId:      tea.String("ext-1"),
	})
	if err != nil {
		panic(err)
	}
	c := resp.Body.Credentials
	fmt.Println(tea.StringValue(resp.Body.AssumedRoleUser.Arn))
	fmt.Println(tea.StringValue(c.Expiration), store.AccountOf(tea.StringValue(c.AccessKeyId)))

	member, err := rdssdk.NewClient(&openapi.Config{
		AccessKeyId: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken,
		Endpoint: tea.String(rdsSrv.Endpoint()), Protocol: tea.String("http"), RegionId: tea.String("cn-hangzhou"),
	})
	if err != nil {
		panic(err)
	}
	_, err = member.DescribeDBInstances(&rdssdk.DescribeDBInstancesRequest{RegionId: tea.String("cn-hangzhou")})
	fmt.Println("rds:", err == nil)

	_, err = cli.AssumeRole(&stssdk.AssumeRoleRequest{
		RoleArn:         tea.String("acs:ram::2000000000000002:role/fc-rds-backup-member"),
		RoleSessionName: tea.String("run-1"),
		ExternalId:      tea.String("wrong"),
	})
	if se, ok := err.(*tea.SDKError); ok {
		fmt.Println(tea.IntValue(se.StatusCode), tea.StringValue(se.Code))
	}
	// Output:
	// acs:ram::2000000000000002:role/fc-rds-backup-member/run-1
	// 2026-01-05T03:00:00Z 2000000000000002
	// rds: true
	// 403 NoPermission
}

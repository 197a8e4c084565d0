package rds_test

import (
	"fmt"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	localrds "github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

func Example() {
	clock := localrds.NewFakeClock(time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC))
	srv := localrds.NewServer(localrds.WithClock(clock), localrds.WithBackupDuration(time.Minute))
	defer srv.Close()
	srv.AddInstance(localrds.Instance{DBInstanceId: "rm-1", Engine: "MySQL", Databases: []string{"app"}})

	cred := srv.Credential()
	cli, err := rds.NewClient(&openapi.Config{
		AccessKeyId:     tea.String(cred.AccessKeyID),
		AccessKeySecret: tea.String(cred.AccessKeySecret),
		Endpoint:        tea.String(srv.Endpoint()),
		Protocol:        tea.String("http"),
		RegionId:        tea.String("cn-hangzhou"),
	})
	if err != nil {
		panic(err)
	}
	created, err := cli.CreateBackup(&rds.CreateBackupRequest{DBInstanceId: tea.String("rm-1")})
	if err != nil {
		panic(err)
	}
	fmt.Println("job", tea.StringValue(created.Body.BackupJobId))

	_, err = cli.CreateBackup(&rds.CreateBackupRequest{DBInstanceId: tea.String("rm-1")})
	if se, ok := err.(*tea.SDKError); ok {
		fmt.Println(tea.IntValue(se.StatusCode), tea.StringValue(se.Code))
	}

	for _, d := range []time.Duration{0, 30 * time.Second, 30 * time.Second} {
		clock.Advance(d)
		tasks, err := cli.DescribeBackupTasks(&rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1"), BackupJobId: tea.Int32(5073731)})
		if err != nil {
			panic(err)
		}
		j := tasks.Body.Items.BackupJob[0]
		fmt.Println(strings.TrimSpace(tea.StringValue(j.BackupStatus) + " " + tea.StringValue(j.Process) + " " + tea.StringValue(j.BackupId)))
	}
	// Output:
	// job 5073731
	// 400 BackupJobExists
	// NoStart 0
	// Uploading 50
	// Finished 100 1000000001
}

package rdsclient_test

import (
	"fmt"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

func ExampleToCreateBackupRequest() {
	req := rdsclient.ToCreateBackupRequest(backup.Request{
		DBInstanceId: "rm-uf6wjk5xxxx", DBName: []string{"orders", "billing"},
		BackupStrategy: "db", BackupMethod: "Logical", RegionId: "cn-shanghai",
	})
	fmt.Println(tea.StringValue(req.DBInstanceId), tea.StringValue(req.DBName), tea.StringValue(req.BackupMethod), req.BackupType == nil)
	// Output: rm-uf6wjk5xxxx orders,billing Logical true
}

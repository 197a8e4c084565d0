package rdsclient_test

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/golden"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestToCreateBackupRequestGolden(t *testing.T) {
	cases := map[string]backup.Request{
		"instance-only": {DBInstanceId: "rm-uf6wjk5xxxx", RegionId: "cn-shanghai",
			Trigger: backup.Trigger{Kind: "timer"}, IdempotencyKey: "k", CorrelationId: "c"},
		"mysql-logical-db": {DBInstanceId: "rm-uf6wjk5xxxx", DBName: []string{"orders", "billing"},
			BackupStrategy: "db", BackupMethod: "Logical", RegionId: "cn-shanghai"},
		"sqlserver-full-db": {DBInstanceId: "rm-sql", DBName: []string{"erp"}, BackupStrategy: "db",
			BackupMethod: "Physical", BackupType: "FullBackup"},
		"sqlserver-auto": {DBInstanceId: "rm-sql", BackupMethod: "Physical", BackupType: "Auto"},
		"snapshot":       {DBInstanceId: "pgm-snap", BackupMethod: "Snapshot"},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			golden.Check(t, filepath.Join("testdata", "createbackup-"+name+".golden"), golden.JSON(t, rdsclient.ToCreateBackupRequest(r)), *update)
		})
	}
}

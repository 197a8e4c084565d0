package rds

import (
	"sync"
	"testing"
	"time"

	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// ruleFleet covers the engines, storage types, states and shapes the rule
// table distinguishes.
var ruleFleet = []Instance{
	{DBInstanceId: "rm-mysql", Engine: "MySQL", Databases: []string{"app", "logs"}},
	{DBInstanceId: "rm-mysql-local", Engine: "MySQL", DBInstanceStorageType: "local_ssd", Databases: []string{"app"}},
	{DBInstanceId: "rm-mysql-empty", Engine: "MySQL"},
	{DBInstanceId: "rm-pg", Engine: "PostgreSQL", Databases: []string{"app"}},
	{DBInstanceId: "rm-mssql", Engine: "SQLServer", DBInstanceStorageType: "cloud_ssd", Databases: []string{"sales", "hr"}},
	{DBInstanceId: "rm-maria", Engine: "MariaDB", Databases: []string{"app"}},
	{DBInstanceId: "rm-reboot", Engine: "MySQL", DBInstanceStatus: "Rebooting"},
	{DBInstanceId: "rm-locked", Engine: "MySQL", LockMode: "ManualLock"},
	{DBInstanceId: "rm-ro", Engine: "MySQL", DBInstanceType: "Readonly"},
	{DBInstanceId: "rm-busy", Engine: "MySQL"},
	{DBInstanceId: "rm-full", Engine: "MySQL"},
}

// TestCreateBackupRules holds one case per refusal the emulator makes, with
// the code and HTTP status exactly as the API page's error table writes them
// (literals, never read from a table in code), and the accepted shapes.
func TestCreateBackupRules(t *testing.T) {
	e := newEnv(t)
	for _, in := range ruleFleet {
		e.srv.AddInstance(in)
	}
	cli := e.cli(t)
	_, err := createBackup(cli, "rm-busy") // a job is ongoing
	noErr(t, err)
	for range 20 { // "cannot exceed 20" a day: the day's quota is used up
		e.srv.AddBackup("rm-full", Backup{BackupStartTime: t0.Add(-30 * time.Minute)})
	}

	type req = rds.CreateBackupRequest
	s := tea.String
	cases := []struct {
		name       string
		req        req
		wantCode   string // "" = accepted
		wantStatus int
	}{
		// DBInstanceId: Required "Yes".
		{"no DBInstanceId", req{BackupMethod: s("Physical")}, "RequiredParam.NotFound", 400},
		{"blank DBInstanceId", req{DBInstanceId: s("  ")}, "RequiredParam.NotFound", 400},
		// BackupMethod: "Valid values: Logical, Physical, Snapshot".
		{"method Incremental", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Incremental")}, "InvalidBackupMethod.ValueNotSupport", 400},
		{"method lower case", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("physical")}, "InvalidBackupMethod.ValueNotSupport", 400},
		// InvalidDBName.Format: up to 16 lowercase letters, digits, _; starts with a letter, ends with a letter or digit.
		{"DBName upper case", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), DBName: s("app,Logs")}, "InvalidDBName.Format", 400},
		{"DBName 17 characters", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), DBName: s("abcdefghijklmnopq")}, "InvalidDBName.Format", 400},
		{"DBName starts with a digit", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), DBName: s("1app")}, "InvalidDBName.Format", 400},
		{"DBName ends with _", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), DBName: s("app_")}, "InvalidDBName.Format", 400},
		{"DBName empty entry", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), DBName: s("app,,logs")}, "InvalidDBName.Format", 400},
		// BackupStrategy: "Valid values: db, instance".
		{"strategy table", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), BackupStrategy: s("table")}, "Parameters.Invalid", 400},
		{"strategy db without DBName", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), BackupStrategy: s("db")}, "RequiredParam.NotFound", 400},
		// BackupType: "Valid values: Auto, FullBackup"; "valid only when [...] BackupMethod [...] Physical".
		{"type Differential", req{DBInstanceId: s("rm-mssql"), BackupType: s("Differential")}, "BackupType.NotSupport", 400},
		{"type with Logical", req{DBInstanceId: s("rm-mssql"), BackupMethod: s("Logical"), BackupType: s("FullBackup")}, "BackupType.NotSupport", 400},
		{"Snapshot with DBName", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Snapshot"), DBName: s("app")}, "Parameters.Invalid", 400},
		// "The DBInstanceId provided does not exist in records."
		{"unknown instance", req{DBInstanceId: s("rm-none")}, "InvalidDBInstanceId.NotFound", 400},
		// Prerequisites: "The instance is in the Running state."
		{"instance rebooting", req{DBInstanceId: s("rm-reboot")}, "IncorrectDBInstanceState", 403},
		{"instance locked", req{DBInstanceId: s("rm-locked")}, "IncorrectDBInstanceLockMode.ValueNotSupported", 400},
		{"read-only instance", req{DBInstanceId: s("rm-ro")}, "ReadDBInstanceNotSupport", 400},
		// BackupType: "only when the instance runs SQL Server".
		{"BackupType on MySQL", req{DBInstanceId: s("rm-mysql"), BackupType: s("FullBackup")}, "BackupType.NotSupport", 400},
		// DBName: "logical backup [...] MySQL [...] full physical backup [...] SQL Server".
		{"DBName on PostgreSQL logical", req{DBInstanceId: s("rm-pg"), BackupMethod: s("Logical"), DBName: s("app")}, "Parameters.Invalid", 400},
		{"DBName on MySQL physical", req{DBInstanceId: s("rm-mysql"), DBName: s("app")}, "Parameters.Invalid", 400},
		{"SQL Server db-level Auto", req{DBInstanceId: s("rm-mssql"), DBName: s("sales"), BackupType: s("Auto")}, "Parameters.Invalid", 400},
		// BackupMethod: "snapshot backup on [...] MariaDB [...] you must set this parameter to Physical".
		{"MariaDB Snapshot", req{DBInstanceId: s("rm-maria"), BackupMethod: s("Snapshot")}, "InvalidBackupMethod.ValueNotSupport", 400},
		{"Snapshot on local disks", req{DBInstanceId: s("rm-mysql-local"), BackupMethod: s("Snapshot")}, "InvalidBackupMethod.ValueNotSupport", 400},
		// BackupMethod: "a logical backup only when databases are created on the instance".
		{"Logical without databases", req{DBInstanceId: s("rm-mysql-empty"), BackupMethod: s("Logical")}, "InvalidBackupMethod.ValueNotSupport", 400},
		{"DBName not on instance", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), DBName: s("app,nope")}, "InvalidDB.NotFound", 404},
		// Prerequisites: "does not have ongoing backup tasks"; "cannot exceed 20".
		{"job ongoing", req{DBInstanceId: s("rm-busy")}, "BackupJobExists", 400},
		{"20 today", req{DBInstanceId: s("rm-full")}, "Exceeded.BackupTimes", 403},
		// Accepted, each on its own instance (one job per instance at a time).
		{"MySQL logical db-level", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), BackupStrategy: s("db"), DBName: s("app,logs")}, "", 0},
		{"SQL Server db-level physical", req{DBInstanceId: s("rm-mssql"), DBName: s("sales")}, "", 0},
		{"PostgreSQL snapshot", req{DBInstanceId: s("rm-pg"), BackupMethod: s("Snapshot")}, "", 0},
		{"MariaDB default", req{DBInstanceId: s("rm-maria")}, "", 0},
		{"MySQL local physical", req{DBInstanceId: s("rm-mysql-local"), BackupMethod: s("Physical")}, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			resp, err := cli.CreateBackup(&r)
			if tc.wantCode == "" {
				noErr(t, err)
				if id := tea.StringValue(resp.Body.BackupJobId); id == "" {
					t.Fatal("no BackupJobId")
				}
				return
			}
			wantErr(t, err, tc.wantCode, tc.wantStatus)
		})
	}
	// The page's defaults are resolved on the job: "Default value: Physical";
	// a SQL Server database-level backup is a full backup.
	jobs := e.srv.Jobs("rm-mssql")
	if len(jobs) != 1 || jobs[0].BackupMethod != "Physical" || jobs[0].BackupType != "FullBackup" || jobs[0].DBName != "sales" {
		t.Errorf("rm-mssql jobs = %+v", jobs)
	}
	if jobs := e.srv.Jobs("rm-maria"); len(jobs) != 1 || jobs[0].BackupMethod != "Physical" || jobs[0].BackupType != "" {
		t.Errorf("rm-maria jobs = %+v", jobs)
	}
	if got := e.srv.CreatedBackups(); got["rm-busy"] != 1 || got["rm-reboot"] != 0 || len(got) != 6 {
		t.Errorf("CreatedBackups = %v", got)
	}
}

// TestCreateBackupMessages: the answer carries the page's message for its
// code ("Error message" column).
func TestCreateBackupMessages(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
	cli := e.cli(t)
	_, err := cli.CreateBackup(&rds.CreateBackupRequest{DBInstanceId: tea.String("rm-1"), BackupMethod: tea.String("Nope")})
	wantMessage(t, err, `The specified parameter "BackupMethod" is not valid.`)
	_, err = createBackup(cli, "rm-none")
	wantMessage(t, err, "The DBInstanceId provided does not exist in records.")
	_, err = createBackup(cli, "rm-1")
	noErr(t, err)
	_, err = createBackup(cli, "rm-1")
	wantMessage(t, err, "A backup job already exists in the specified DB instance.")
}

// TestSQLServerDefaultType: "BackupType [...] Default value: Auto" for an
// instance-level SQL Server physical backup.
func TestSQLServerDefaultType(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-mssql", Engine: "SQLServer", Databases: []string{"sales"}})
	_, err := createBackup(e.cli(t), "rm-mssql")
	noErr(t, err)
	if jobs := e.srv.Jobs("rm-mssql"); len(jobs) != 1 || jobs[0].BackupMethod != "Physical" || jobs[0].BackupType != "Auto" {
		t.Errorf("jobs = %+v", jobs)
	}
	e.clock.Advance(time.Hour)
	if sets := e.srv.Backups("rm-mssql"); len(sets) != 1 || sets[0].BackupType != "FullBackup" {
		t.Errorf("sets = %+v", sets)
	}
}

func TestBackupJobExists(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
	cli := e.cli(t)
	first, err := createBackup(cli, "rm-1")
	noErr(t, err)
	e.clock.Advance(50 * time.Second)
	_, err = createBackup(cli, "rm-1")
	wantErr(t, err, "BackupJobExists", 400)
	e.clock.Advance(50 * time.Second) // finished
	second, err := createBackup(cli, "rm-1")
	noErr(t, err)
	if second != "5073732" || first != "5073731" {
		t.Errorf("job ids = %s, %s", first, second)
	}
}

func TestConcurrentCreateBackup(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		cli := e.cli(t)
		wg.Go(func() { _, errs[i] = createBackup(cli, "rm-1") })
	}
	wg.Wait()
	ok, exists := 0, 0
	for _, err := range errs {
		code, _, _ := sdkError(err)
		switch {
		case err == nil:
			ok++
		case code == "BackupJobExists":
			exists++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || exists != n-1 {
		t.Errorf("accepted %d, BackupJobExists %d", ok, exists)
	}
	if got := e.srv.Counts()["CreateBackup"]; got != n {
		t.Errorf("Counts = %d", got)
	}
}

func TestDailyQuota(t *testing.T) {
	e := newEnv(t, WithBackupDuration(time.Minute))
	e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
	cli := e.cli(t)
	for i := range 20 {
		_, err := createBackup(cli, "rm-1")
		if err != nil {
			t.Fatalf("backup %d: %v", i+1, err)
		}
		e.clock.Advance(61 * time.Second)
	}
	_, err := createBackup(cli, "rm-1")
	wantErr(t, err, "Exceeded.BackupTimes", 403)
	e.clock.Set(time.Date(2026, 3, 3, 0, 0, 1, 0, time.UTC)) // next day, UTC
	_, err = createBackup(cli, "rm-1")
	noErr(t, err)
	if got := e.srv.CreatedBackups()["rm-1"]; got != 21 {
		t.Errorf("CreatedBackups = %d, want 21", got)
	}
}

func TestQuotaLocation(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	// 20 manual sets at 15:00 UTC = 23:00 CST; asked at 16:30 UTC = 00:30 CST next day.
	cases := []struct {
		name     string
		loc      *time.Location
		wantCode string
	}{
		{"UTC day", time.UTC, "Exceeded.BackupTimes"},
		{"CST day", cst, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, WithQuotaLocation(tc.loc))
			e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
			for range 20 {
				e.srv.AddBackup("rm-1", Backup{BackupStartTime: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)})
			}
			// Automated sets never count.
			e.srv.AddBackup("rm-1", Backup{BackupMode: "Automated", BackupStartTime: time.Date(2026, 3, 2, 16, 10, 0, 0, time.UTC)})
			e.clock.Set(time.Date(2026, 3, 2, 16, 30, 0, 0, time.UTC))
			_, err := createBackup(e.cli(t), "rm-1")
			if tc.wantCode == "" {
				noErr(t, err)
			} else {
				wantErr(t, err, tc.wantCode, 403)
			}
		})
	}
}

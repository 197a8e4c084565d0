package rds

import (
	"slices"
	"sync"
	"testing"
	"time"

	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
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

func TestCreateBackupRules(t *testing.T) {
	e := newEnv(t)
	for _, in := range ruleFleet {
		e.srv.AddInstance(in)
	}
	cli := e.cli(t)
	_, err := createBackup(cli, "rm-busy") // I11: a job is ongoing
	noErr(t, err)
	for range backup.MaxBackupsPerDay { // I12: the day's quota is used up
		e.srv.AddBackup("rm-full", Backup{BackupStartTime: t0.Add(-30 * time.Minute)})
	}

	type req = rds.CreateBackupRequest
	s := tea.String
	cases := []struct {
		name string
		req  req
		rule string // rule ID of backup.Rules; "" = accepted; "404" = unknown instance
	}{
		{"no DBInstanceId", req{BackupMethod: s("Physical")}, "R1"},
		{"method Incremental", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Incremental")}, "R2"},
		{"DBName upper case", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), DBName: s("app,Logs")}, "R3"},
		{"strategy table", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), BackupStrategy: s("table")}, "R4"},
		{"strategy db without DBName", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), BackupStrategy: s("db")}, "R5"},
		{"type Differential", req{DBInstanceId: s("rm-mssql"), BackupType: s("Differential")}, "R6"},
		{"type with Logical", req{DBInstanceId: s("rm-mssql"), BackupMethod: s("Logical"), BackupType: s("FullBackup")}, "R7"},
		{"Snapshot with DBName", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Snapshot"), DBName: s("app")}, "R8"},
		{"unknown instance", req{DBInstanceId: s("rm-none")}, "404"},
		{"instance rebooting", req{DBInstanceId: s("rm-reboot")}, "I1"},
		{"instance locked", req{DBInstanceId: s("rm-locked")}, "I2"},
		{"read-only instance", req{DBInstanceId: s("rm-ro")}, "I3"},
		{"BackupType on MySQL", req{DBInstanceId: s("rm-mysql"), BackupType: s("FullBackup")}, "I4"},
		{"DBName on PostgreSQL logical", req{DBInstanceId: s("rm-pg"), BackupMethod: s("Logical"), DBName: s("app")}, "I5"},
		{"SQL Server db-level Auto", req{DBInstanceId: s("rm-mssql"), DBName: s("sales"), BackupType: s("Auto")}, "I6"},
		{"MariaDB Snapshot", req{DBInstanceId: s("rm-maria"), BackupMethod: s("Snapshot")}, "I7"},
		{"Snapshot on local disks", req{DBInstanceId: s("rm-mysql-local"), BackupMethod: s("Snapshot")}, "I8"},
		{"Logical without databases", req{DBInstanceId: s("rm-mysql-empty"), BackupMethod: s("Logical")}, "I9"},
		{"DBName not on instance", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), DBName: s("app,nope")}, "I10"},
		{"job ongoing", req{DBInstanceId: s("rm-busy")}, "I11"},
		{"20 today", req{DBInstanceId: s("rm-full")}, "I12"},
		// Accepted, each on its own instance (one job per instance at a time).
		{"MySQL logical db-level", req{DBInstanceId: s("rm-mysql"), BackupMethod: s("Logical"), BackupStrategy: s("db"), DBName: s("app,logs")}, ""},
		{"SQL Server db-level physical", req{DBInstanceId: s("rm-mssql"), DBName: s("sales")}, ""},
		{"PostgreSQL snapshot", req{DBInstanceId: s("rm-pg"), BackupMethod: s("Snapshot")}, ""},
		{"MariaDB default", req{DBInstanceId: s("rm-maria")}, ""},
		{"MySQL local physical", req{DBInstanceId: s("rm-mysql-local"), BackupMethod: s("Physical")}, ""},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			resp, err := cli.CreateBackup(&r)
			switch tc.rule {
			case "":
				noErr(t, err)
				if id := tea.StringValue(resp.Body.BackupJobId); id == "" {
					t.Fatal("no BackupJobId")
				}
			case "404":
				wantErr(t, err, backup.CodeInstanceNotFound, 404)
			default:
				i := slices.IndexFunc(backup.Rules, func(r backup.Rule) bool { return r.ID == tc.rule })
				if i < 0 {
					t.Fatalf("no rule %s", tc.rule)
				}
				wantErr(t, err, backup.Rules[i].Code, backup.Rules[i].HTTPStatus)
				covered[tc.rule] = true
			}
		})
	}
	for _, r := range backup.Rules {
		if !covered[r.ID] {
			t.Errorf("rule %s (%s) has no case", r.ID, r.Code)
		}
	}
	// The API's defaults are resolved on the job: SQL Server db-level → FullBackup.
	jobs := e.srv.Jobs("rm-mssql")
	if len(jobs) != 1 || jobs[0].BackupMethod != "Physical" || jobs[0].BackupType != "FullBackup" || jobs[0].DBName != "sales" {
		t.Errorf("rm-mssql jobs = %+v", jobs)
	}
	if got := e.srv.CreatedBackups(); got["rm-busy"] != 1 || got["rm-reboot"] != 0 || len(got) != 6 {
		t.Errorf("CreatedBackups = %v", got)
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
	for i := range backup.MaxBackupsPerDay {
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
			for range backup.MaxBackupsPerDay {
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

package rds

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is CreateBackup as the API page describes it
// (reference/000_bfd9ea46a3d5b533.txt): its parameters and their valid
// values and defaults, its prerequisites, and the codes of its error table.
// It is written from the page alone; nothing of the product is consulted,
// so a wrong rule in the product shows up as a disagreement with the
// emulator.

// Engines, as DescribeDBInstanceAttribute reports them ("Supported database
// engines": MySQL, PostgreSQL, SQL Server, MariaDB).
const (
	EngineMySQL      = "MySQL"
	EnginePostgreSQL = "PostgreSQL"
	EngineSQLServer  = "SQLServer"
	EngineMariaDB    = "MariaDB"
)

// Valid values of CreateBackup's parameters ("Request parameters").
const (
	methodLogical  = "Logical"
	methodPhysical = "Physical"
	methodSnapshot = "Snapshot"

	strategyDB       = "db"
	strategyInstance = "instance"

	typeAuto       = "Auto"
	typeFullBackup = "FullBackup"
)

// MaxBackupsPerDay is the page's prerequisite: "The number of backup sets
// that can be created for an instance per day cannot exceed 20."
const MaxBackupsPerDay = 20

// dbNamePattern is InvalidDBName.Format's description: "The name can be up
// to 16 characters in length and can contain lowercase letters, digits, and
// underscores (_). The name must start with a lowercase letter and end with a
// lowercase letter or a digit."
var dbNamePattern = regexp.MustCompile(`^[a-z]([a-z0-9_]{0,14}[a-z0-9])?$`)

// backupParams is one CreateBackup request, its parameters as sent.
type backupParams struct {
	DBInstanceId   string
	DBName         string // comma-separated
	BackupStrategy string
	BackupMethod   string
	BackupType     string
}

func paramsOf(req *request) backupParams {
	p := req.params
	return backupParams{
		DBInstanceId:   p.Get("DBInstanceId"),
		DBName:         p.Get("DBName"),
		BackupStrategy: p.Get("BackupStrategy"),
		BackupMethod:   p.Get("BackupMethod"),
		BackupType:     p.Get("BackupType"),
	}
}

// method is the backup method the page applies: "Default value: Physical."
func (b backupParams) method() string {
	if b.BackupMethod == "" {
		return methodPhysical
	}
	return b.BackupMethod
}

// dbNames splits DBName at its commas ("Separate the names of the databases
// with commas"), keeping empty names so that they are refused.
func (b backupParams) dbNames() []string {
	if b.DBName == "" {
		return nil
	}
	return strings.Split(b.DBName, ",")
}

// dbLevel reports whether the request names databases or a database-level
// strategy.
func (b backupParams) dbLevel() bool { return b.BackupStrategy == strategyDB || b.DBName != "" }

// checkRequest checks what needs no instance, in this order. The code of
// each refusal is the page's; where the page names no code for a refusal it
// implies, the choice is noted.
func checkRequest(b backupParams) *apiError {
	m := b.method()
	switch {
	case strings.TrimSpace(b.DBInstanceId) == "":
		// DBInstanceId: Required "Yes".
		return pageError("RequiredParam.NotFound")
	case b.BackupMethod != "" && b.BackupMethod != methodLogical && b.BackupMethod != methodPhysical && b.BackupMethod != methodSnapshot:
		// BackupMethod: "Valid values: Logical, Physical, Snapshot".
		return pageError("InvalidBackupMethod.ValueNotSupport")
	case slices.ContainsFunc(b.dbNames(), func(n string) bool { return !dbNamePattern.MatchString(n) }):
		return pageError("InvalidDBName.Format")
	case b.BackupStrategy != "" && b.BackupStrategy != strategyDB && b.BackupStrategy != strategyInstance:
		// BackupStrategy: "Valid values: db, instance". The page names no
		// code for another value; Parameters.Invalid is its generic one.
		return pageError("Parameters.Invalid")
	case b.BackupStrategy == strategyDB && b.DBName == "":
		// "db: a database-level backup" of the databases DBName names:
		// without DBName there is nothing to back up (code inferred).
		return pageError("RequiredParam.NotFound")
	case b.BackupType != "" && b.BackupType != typeAuto && b.BackupType != typeFullBackup:
		// BackupType: "Valid values: Auto, FullBackup".
		return pageError("BackupType.NotSupport")
	case b.BackupType != "" && m != methodPhysical:
		// BackupType: "valid only when you set the BackupMethod parameter
		// to Physical".
		return pageError("BackupType.NotSupport")
	case (b.BackupStrategy != "" || b.DBName != "") && m == methodSnapshot:
		// DBName and BackupStrategy go with a MySQL logical or a SQL Server
		// full physical backup, never a snapshot (code inferred).
		return pageError("Parameters.Invalid")
	}
	return nil
}

// localDisk reports whether a storage type is a local disk, which has no
// snapshots.
func localDisk(storageType string) bool {
	return storageType == "local_ssd" || storageType == "ephemeral_ssd"
}

// checkInstanceLocked checks the prerequisites and the rules that depend on
// the instance, in this order.
func (s *Server) checkInstanceLocked(b backupParams, in *Instance, now time.Time) *apiError {
	m := b.method()
	switch {
	case in.DBInstanceStatus != "Running":
		// Prerequisites: "The instance is in the Running state."
		return pageError("IncorrectDBInstanceState")
	case in.LockMode != "" && in.LockMode != "Unlock":
		// IncorrectDBInstanceLockMode.ValueNotSupported: "The RDS instance
		// is locked."
		return pageError("IncorrectDBInstanceLockMode.ValueNotSupported")
	case strings.EqualFold(in.DBInstanceType, "Readonly"):
		// ReadDBInstanceNotSupport: "not permitted due to type of the
		// instance".
		return pageError("ReadDBInstanceNotSupport")
	case b.BackupType != "" && in.Engine != EngineSQLServer:
		// BackupType: "You must set this parameter only when the instance
		// runs SQL Server."
		return pageError("BackupType.NotSupport")
	case (b.BackupStrategy != "" || b.DBName != "") &&
		!(in.Engine == EngineMySQL && m == methodLogical) && !(in.Engine == EngineSQLServer && m == methodPhysical):
		// DBName, BackupStrategy: "when you perform a logical backup on
		// [...] MySQL [...] a full physical backup on [...] SQL Server".
		return pageError("Parameters.Invalid")
	case in.Engine == EngineSQLServer && b.dbLevel() && b.BackupType == typeAuto:
		// DBName: "a full physical backup on individual databases of an
		// ApsaraDB RDS for SQL Server instance": never Auto (code inferred).
		return pageError("Parameters.Invalid")
	case in.Engine == EngineMariaDB && m == methodSnapshot:
		// BackupMethod: "When you perform a snapshot backup on an ApsaraDB
		// RDS for MariaDB instance, you must set this parameter to
		// Physical."
		return pageError("InvalidBackupMethod.ValueNotSupport")
	case m == methodSnapshot && localDisk(in.DBInstanceStorageType):
		// A snapshot backup is one of cloud disks ("SQL Server instance that
		// uses cloud disks, you must set this parameter to Snapshot").
		return pageError("InvalidBackupMethod.ValueNotSupport")
	case m == methodLogical && len(in.Databases) == 0:
		// BackupMethod: "You can perform a logical backup only when
		// databases are created on the instance."
		return pageError("InvalidBackupMethod.ValueNotSupport")
	case slices.ContainsFunc(b.dbNames(), func(n string) bool { return !slices.Contains(in.Databases, n) }):
		// InvalidDB.NotFound: "The database cannot be found".
		return pageError("InvalidDB.NotFound")
	case s.ongoingLocked(in.DBInstanceId, now):
		// Prerequisites: "The instance does not have ongoing backup tasks."
		return pageError("BackupJobExists")
	case s.backupsTodayLocked(in.DBInstanceId, now) >= MaxBackupsPerDay:
		// Prerequisites: "The number of backup sets that can be created for
		// an instance per day cannot exceed 20."
		return pageError("Exceeded.BackupTimes")
	}
	return nil
}

// resolve makes the page's defaults explicit for the job: BackupMethod
// Physical when unset; for a SQL Server physical backup BackupType Auto
// ("Default value: Auto"), or FullBackup for a database-level one (a "full
// physical backup on individual databases"). Other engines take no
// BackupType.
func resolve(b backupParams, in *Instance) backupParams {
	b.BackupMethod = b.method()
	if in.Engine == EngineSQLServer && b.BackupMethod == methodPhysical && b.BackupType == "" {
		if b.dbLevel() {
			b.BackupType = typeFullBackup
		} else {
			b.BackupType = typeAuto
		}
	}
	return b
}

// ongoingLocked reports whether the instance has a backup job that has not
// ended.
func (s *Server) ongoingLocked(id string, now time.Time) bool {
	for _, j := range s.jobs[id] {
		if !j.view(now).Terminal() {
			return true
		}
	}
	return false
}

// backupsTodayLocked counts the instance's manual jobs created today plus
// seeded manual backup sets that started today, "today" in the quota
// location. Automated tasks are not counted: the page's limit is on the
// sets "created" by this call, and the schedule is the service's own.
func (s *Server) backupsTodayLocked(id string, now time.Time) int {
	local := now.In(s.quotaLoc)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.quotaLoc)
	dayEnd := dayStart.AddDate(0, 0, 1)
	today := func(t time.Time) bool { return !t.Before(dayStart) && t.Before(dayEnd) }
	n := 0
	for _, j := range s.jobs[id] {
		if j.mode != modeAutomated && today(j.created) {
			n++
		}
	}
	for _, b := range s.backups[id] {
		if b.BackupMode == "Manual" && today(b.BackupStartTime) {
			n++
		}
	}
	return n
}

// createBackup is the action: the request's checks, the instance, its
// checks, then a new job.
func (s *Server) createBackup(req *request) (map[string]any, *apiError) {
	b := paramsOf(req)
	if e := checkRequest(b); e != nil {
		return nil, e
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked(now)
	in, ok := s.instances[b.DBInstanceId]
	if !ok || in.AccountId != req.account {
		// Another account's instance is answered like an unknown one.
		return nil, pageError("InvalidDBInstanceId.NotFound")
	}
	if e := s.checkInstanceLocked(b, in, now); e != nil {
		return nil, e
	}
	r := resolve(b, in)
	j := &job{
		id:       s.nextJob,
		instance: in.DBInstanceId,
		req:      r,
		mode:     modeManual,
		created:  now,
		duration: s.durationLocked(in, r.BackupMethod),
		lag:      s.lagLocked(in),
		backupId: strconv.FormatInt(s.nextBackup, 10),
		size:     backupSize(b),
	}
	s.nextJob++
	s.nextBackup++
	if _, ok := s.takeFaultLocked(req, in.DBInstanceId, faultFailJob); ok {
		j.fail = true
	}
	s.jobs[in.DBInstanceId] = append(s.jobs[in.DBInstanceId], j)
	s.created[in.DBInstanceId]++
	return map[string]any{"BackupJobId": strconv.FormatInt(j.id, 10)}, nil
}

// backupSize is a made-up but stable size: logical backups are smaller.
func backupSize(b backupParams) int64 {
	if b.method() == methodLogical {
		return int64(len(b.dbNames())+1) * (8 << 20)
	}
	return 256 << 20
}

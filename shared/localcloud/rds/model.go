package rds

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

// Instance is one RDS instance of the fleet. The JSON names are the API's, so
// a fleet file's instance decodes into it directly. Empty fields get the
// defaults listed on AddInstance.
type Instance struct {
	DBInstanceId          string
	RegionId              string
	Engine                string // MySQL, PostgreSQL, SQLServer, MariaDB
	EngineVersion         string
	DBInstanceStatus      string // Running, Rebooting, ...
	LockMode              string // Unlock, ManualLock, ...
	DBInstanceType        string // Primary, Readonly, Guard, Temp
	Category              string // Basic, HighAvailability, ...
	DBInstanceStorageType string // local_ssd, cloud_essd, ...
	DBInstanceClass       string `json:",omitempty"`
	Databases             []string
	Tags                  map[string]string
	// AccountId is the Alibaba Cloud account that owns the instance
	// (default auth.DefaultAccountID). Only keys of that account see it.
	AccountId string `json:",omitempty"`
	// MasterInstanceId is the primary of a read-only (Readonly) instance;
	// the primary lists it in ReadOnlyDBInstanceIds.
	MasterInstanceId string `json:",omitempty"`

	// What the fleet says about the instance beyond the API's fields
	// (nil: the server's settings).

	// SetLagSeconds is how long after a task of this instance ends its
	// set appears in DescribeBackups (overrides WithSetLag).
	SetLagSeconds *float64 `json:"setLagSeconds,omitempty"`
	// BackupSeconds is how long a backup of this instance takes, per
	// BackupMethod (overrides WithBackupDuration and WithMethodDuration).
	BackupSeconds MethodSeconds `json:"backupSeconds,omitempty"`
	// AutomatedBackup is the instance's automatic backup schedule.
	AutomatedBackup *AutomatedBackup `json:"automatedBackup,omitempty"`
}

// withDefaults fills the empty fields: region cn-hangzhou, Running, Unlock,
// Primary, HighAvailability, cloud_essd, and an engine version and class
// that fit the engine.
func (in Instance) withDefaults() Instance {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&in.RegionId, "cn-hangzhou")
	def(&in.Engine, EngineMySQL)
	def(&in.DBInstanceStatus, "Running")
	def(&in.LockMode, "Unlock")
	def(&in.DBInstanceType, "Primary")
	def(&in.Category, "HighAvailability")
	def(&in.DBInstanceStorageType, "cloud_essd")
	def(&in.AccountId, auth.DefaultAccountID)
	e := engines[in.Engine]
	def(&in.EngineVersion, e.version)
	def(&in.DBInstanceClass, e.class)
	in.Databases = slices.Clone(in.Databases)
	tags := make(map[string]string, len(in.Tags))
	for k, v := range in.Tags {
		tags[k] = v
	}
	in.Tags = tags
	in.BackupSeconds = maps.Clone(in.BackupSeconds)
	if in.SetLagSeconds != nil {
		lag := *in.SetLagSeconds
		in.SetLagSeconds = &lag
	}
	if in.AutomatedBackup != nil {
		a := *in.AutomatedBackup
		in.AutomatedBackup = &a
	}
	return in
}

// engineInfo is what DescribeDBInstanceAttribute and DescribeDatabases report
// per engine where the fleet says nothing.
type engineInfo struct {
	version, class, port, charset, domain string
}

var engines = map[string]engineInfo{
	EngineMySQL:      {"8.0", "mysql.n2.medium.2c", "3306", "utf8mb4", "mysql.rds.aliyuncs.com"},
	EnginePostgreSQL: {"14.0", "pg.n2.medium.2c", "5432", "UTF8", "pg.rds.aliyuncs.com"},
	EngineSQLServer:  {"2019_std_ha", "mssql.x4.medium.e2", "1433", "Chinese_PRC_CI_AS", "sqlserver.rds.aliyuncs.com"},
	EngineMariaDB:    {"10.3", "mariadb.n2.medium.2c", "3306", "utf8mb4", "mariadb.rds.aliyuncs.com"},
}

// Backup is a backup set as DescribeBackups reports it. Seed one with
// AddBackup; jobs that end add their own. Empty fields default to
// BackupMethod Physical, BackupMode Manual, BackupType FullBackup,
// BackupStatus Success; a zero BackupStartTime is "now" minus the backup
// duration and a zero BackupEndTime is the start plus the backup duration.
type Backup struct {
	BackupId        string    `json:"BackupId,omitempty"`     // generated when empty
	DBInstanceId    string    `json:"DBInstanceId,omitempty"` // set by the server
	BackupMethod    string    `json:"BackupMethod,omitempty"` // Logical, Physical, Snapshot
	BackupMode      string    `json:"BackupMode,omitempty"`   // Manual, Automated
	BackupType      string    `json:"BackupType,omitempty"`   // FullBackup, IncrementalBackup
	BackupStatus    string    `json:"BackupStatus,omitempty"` // Success, Failed
	BackupStartTime time.Time `json:"BackupStartTime"`
	BackupEndTime   time.Time `json:"BackupEndTime"`
	BackupSize      int64     `json:"BackupSize,omitempty"`
	BackupJobId     string    `json:"BackupJobId,omitempty"` // the job that made it (not part of the API's answer)
}

// initiator is BackupInitiator: User for manual backups, System otherwise.
func (b Backup) initiator() string {
	if b.BackupMode == "Manual" {
		return "User"
	}
	return "System"
}

// Job is a backup task as the emulator sees it at one instant: the fields
// DescribeBackupTasks reports, plus the request it came from and its times.
type Job struct {
	BackupJobId          string    `json:"BackupJobId"`
	DBInstanceId         string    `json:"DBInstanceId"`
	BackupStatus         string    `json:"BackupStatus"` // NoStart, Preparing, Waiting, Uploading, Checking, Finished, Failed
	BackupProgressStatus string    `json:"BackupProgressStatus"`
	Process              string    `json:"Process"` // "0".."100"
	JobMode              string    `json:"JobMode"` // Manual, Automated
	TaskAction           string    `json:"TaskAction"`
	BackupId             string    `json:"BackupId,omitempty"` // once Finished
	BackupMethod         string    `json:"BackupMethod"`
	BackupType           string    `json:"BackupType,omitempty"`
	BackupStrategy       string    `json:"BackupStrategy,omitempty"`
	DBName               string    `json:"DBName,omitempty"`
	Created              time.Time `json:"Created"`
	Ends                 time.Time `json:"Ends"`       // when it reaches (or reached) Finished or Failed
	SetVisible           time.Time `json:"SetVisible"` // when its set shows in DescribeBackups (Ends plus the set lag)
}

// Terminal reports whether the job has ended.
func (j Job) Terminal() bool { return terminal(j.BackupStatus) }

// terminal reports whether a BackupStatus is final: Finished or Failed
// (DescribeBackupTasks' statuses; every other one is still going).
func terminal(status string) bool { return status == "Finished" || status == "Failed" }

// Job modes and the task actions that go with them (DescribeBackupTasks:
// JobMode Automated or Manual; TaskAction NormalBackupTask for an automated
// backup, TempBackupTask for a manual one).
const (
	modeManual    = "Manual"
	modeAutomated = "Automated"
)

// job is the stored task; its status is computed from the clock.
type job struct {
	id       int64
	instance string
	req      backupParams // resolved: BackupMethod (and BackupType) explicit
	mode     string       // modeManual or modeAutomated
	created  time.Time
	duration time.Duration
	lag      time.Duration // from the end to the set showing in DescribeBackups
	fail     bool
	backupId string // revealed when the job ends
	size     int64
}

func (j *job) ends() time.Time { return j.created.Add(j.duration) }

// setVisible reports whether the job's set shows in DescribeBackups at now:
// the job has ended and its lag has passed.
func (j *job) setVisible(now time.Time) bool { return !now.Before(j.ends().Add(j.lag)) }

// phases: the share of the duration at which each status begins, in the
// order of DescribeBackupTasks' BackupProgressStatus values (NoStart,
// Preparing, Waiting, Uploading, Checking, Finished).
var phases = []struct {
	from   float64
	status string
}{
	{0.0, "NoStart"},
	{0.1, "Preparing"},
	{0.2, "Waiting"},
	{0.3, "Uploading"},
	{0.9, "Checking"},
}

// failedProgress is the BackupProgressStatus of a failed task. Failed is
// not among the documented progress values (DescribeBackupTasks: NoStart,
// Preparing, Waiting, Uploading, Checking, Finished); a failed task keeps
// the last phase it reached, Checking.
const failedProgress = "Checking"

// view is the job at instant now.
func (j *job) view(now time.Time) Job {
	mode, action := modeManual, "TempBackupTask"
	if j.mode == modeAutomated {
		mode, action = modeAutomated, "NormalBackupTask"
	}
	v := Job{
		BackupJobId:    strconv.FormatInt(j.id, 10),
		DBInstanceId:   j.instance,
		JobMode:        mode,
		TaskAction:     action,
		BackupMethod:   j.req.BackupMethod,
		BackupType:     j.req.BackupType,
		BackupStrategy: j.req.BackupStrategy,
		DBName:         j.req.DBName,
		Created:        j.created,
		Ends:           j.ends(),
		SetVisible:     j.ends().Add(j.lag),
	}
	elapsed := now.Sub(j.created)
	switch {
	case elapsed >= j.duration && j.fail:
		v.BackupStatus, v.BackupProgressStatus, v.Process = "Failed", failedProgress, "99"
		return v
	case elapsed >= j.duration:
		v.BackupStatus, v.BackupProgressStatus, v.Process = "Finished", "Finished", "100"
		v.BackupId = j.backupId
		return v
	}
	frac := 0.0
	if elapsed > 0 {
		frac = float64(elapsed) / float64(j.duration)
	}
	for _, p := range phases {
		if frac >= p.from {
			v.BackupStatus = p.status
		}
	}
	v.BackupProgressStatus = v.BackupStatus
	pct := int(frac * 100)
	if v.BackupStatus == "NoStart" {
		pct = 0
	}
	v.Process = strconv.Itoa(min(pct, 99))
	return v
}

// set is the backup set a job leaves behind once it has ended.
func (j *job) set() Backup {
	status, size := "Success", j.size
	if j.fail {
		status, size = "Failed", 0
	}
	typ := j.req.BackupType
	if typ == "" || typ == typeAuto {
		typ = typeFullBackup
	}
	mode := modeManual
	if j.mode == modeAutomated {
		mode = modeAutomated
	}
	return Backup{
		BackupId:        j.backupId,
		DBInstanceId:    j.instance,
		BackupMethod:    j.req.BackupMethod,
		BackupMode:      mode,
		BackupType:      typ,
		BackupStatus:    status,
		BackupStartTime: j.created,
		BackupEndTime:   j.ends(),
		BackupSize:      size,
		BackupJobId:     strconv.FormatInt(j.id, 10),
	}
}

// ongoing reports whether a job's status counts as unfinished for
// DescribeBackupTasks' filter: NoStart or one of the Progressing states.
func ongoing(status string) bool { return !terminal(status) }

// progressing maps a BackupStatus onto DescribeBackupTasks' BackupJobStatus
// filter values.
func progressing(status string) string {
	if status == "NoStart" {
		return "NoStart"
	}
	return "Progressing"
}

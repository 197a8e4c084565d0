package backup

import "slices"

// InstanceFacts is what preflight learned about an instance. Fields that
// preflight did not read stay unknown (the *Known flags), and the rules that
// need them are then left to the API.
type InstanceFacts struct {
	DBInstanceId  string `json:"DBInstanceId"`
	RegionId      string `json:"RegionId,omitempty"`
	Engine        string `json:"Engine"`                // MySQL, PostgreSQL, SQLServer, MariaDB
	EngineVersion string `json:"EngineVersion"`         // "8.0"
	Status        string `json:"DBInstanceStatus"`      // Running, Rebooting...
	LockMode      string `json:"LockMode"`              // Unlock, ManualLock...
	InstanceType  string `json:"DBInstanceType"`        // Primary, Readonly, Guard, Temp
	Category      string `json:"Category,omitempty"`    // Basic, HighAvailability...
	StorageType   string `json:"DBInstanceStorageType"` // local_ssd, cloud_essd...

	Databases      []string `json:"Databases,omitempty"`
	DatabasesKnown bool     `json:"-"`

	OngoingJobs []Job `json:"OngoingJobs,omitempty"` // unfinished backup tasks

	BackupsToday      int  `json:"BackupsToday"`
	BackupsTodayKnown bool `json:"-"`
}

// Job is a backup task as DescribeBackupTasks reports it.
type Job struct {
	BackupJobId  string `json:"BackupJobId"`
	BackupStatus string `json:"BackupStatus"` // NoStart, Checking, Preparing, Waiting, Uploading, Finished, Failed
	Process      string `json:"Process,omitempty"`
	JobMode      string `json:"JobMode,omitempty"` // Automated, Manual
	BackupId     string `json:"BackupId,omitempty"`
}

// Terminal reports whether the job has ended.
func (j Job) Terminal() bool { return JobStatusTerminal(j.BackupStatus) }

// JobStatusTerminal reports whether a BackupStatus is final.
func JobStatusTerminal(s string) bool { return s == "Finished" || s == "Failed" }

// LocalDisk reports whether the storage type is a local disk (no snapshots).
func LocalDisk(storageType string) bool {
	return storageType == "local_ssd" || storageType == "ephemeral_ssd"
}

// MaxBackupsPerDay is the API page's prerequisite: "The number of backup sets
// that can be created for an instance per day cannot exceed 20."
const MaxBackupsPerDay = 20

func (f InstanceFacts) hasDatabase(name string) bool { return slices.Contains(f.Databases, name) }

package notify

import (
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

var t0 = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

func fixtureRequest() backup.Request {
	return backup.Request{
		DBInstanceId:   "rm-uf6wjk5xxxx",
		DBName:         []string{"orders", "billing"},
		BackupStrategy: "db",
		BackupMethod:   "Logical",
		RegionId:       "cn-shanghai",
		Trigger:        backup.Trigger{Kind: "github", Source: "acme/shop", DeliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		IdempotencyKey: backup.Key("github", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "rm-uf6wjk5xxxx"),
		CorrelationId:  "c0ffee00d15ea5e5c0ffee00d15ea5e5",
	}
}

// fixtures are one fixed outcome per status, as the executor and the
// tracker produce them; they feed the golden files and OUTCOMES.md.
func fixtures() map[backup.Status]backup.Outcome {
	r := fixtureRequest()
	return map[backup.Status]backup.Outcome{
		backup.StatusAccepted: {
			Status: backup.StatusAccepted, Terminal: false, Request: r,
			BackupJobId: "347621853", RequestId: "1E43AAE0-BEE8-43DA-860D-EAF2AA0724DC",
			Attempts: []backup.Attempt{
				{Time: t0.Add(-900 * time.Millisecond), Action: "CreateBackup", Code: "Throttling.User", Message: "Request was denied due to user flow control.", Retryable: true, Class: "transient", RequestId: "5A2C6E41-0B7B-4C7A-9F0E-1D2A3B4C5D6E"},
				{Time: t0.Add(-200 * time.Millisecond), Action: "CreateBackup", Retryable: false, RequestId: "1E43AAE0-BEE8-43DA-860D-EAF2AA0724DC"},
			},
			Time: t0,
		},
		backup.StatusCoalesced: {
			Status: backup.StatusCoalesced, Terminal: true, Request: r,
			BackupJobId: "347621850", BackupStatus: "Uploading", Process: "35",
			Attempts: []backup.Attempt{},
			Note:     "preflight: a Manual job (347621850) is already Uploading on the instance; reporting it instead of creating another (35%)",
			Time:     t0,
		},
		backup.StatusRejected: {
			Status: backup.StatusRejected, Terminal: true, Request: withDBName(r, "orders", "Sales-DB"),
			Attempts: []backup.Attempt{},
			// The violation exactly as the rule table words it.
			Error: backup.ErrorFromViolation(backup.Validate(withDBName(r, "orders", "Sales-DB")).First()),
			Time:  t0,
		},
		backup.StatusFailed: {
			Status: backup.StatusFailed, Terminal: true, Request: r,
			RequestId: "0D6C1F0B-9B1A-4C55-8E1F-6A4B1C2D3E4F",
			Attempts: []backup.Attempt{
				{Time: t0.Add(-time.Second), Action: "CreateBackup", Code: "Exceeded.BackupTimes", Message: "The backup times exceeds.", Retryable: false, Class: "terminal", RequestId: "0D6C1F0B-9B1A-4C55-8E1F-6A4B1C2D3E4F"},
			},
			Error: &backup.ErrorInfo{Code: "Exceeded.BackupTimes", Message: "The backup times exceeds.", Retryable: false},
			Time:  t0,
		},
		backup.StatusDeferred: {
			Status: backup.StatusDeferred, Terminal: true /* ignored: deferred is never terminal */, Request: r,
			Attempts: []backup.Attempt{
				{Time: t0.Add(-40 * time.Second), Action: "CreateBackup", Code: "IncorrectDBInstanceState", Message: "Current DB instance state does not support this operation.", Retryable: true, Class: "state-wait", RequestId: "9C8B7A6D-5E4F-4321-8765-0A1B2C3D4E5F"},
				{Time: t0.Add(-5 * time.Second), Action: "CreateBackup", Code: "IncorrectDBInstanceState", Message: "Current DB instance state does not support this operation.", Retryable: true, Class: "state-wait", RequestId: "8D7C6B5A-4F3E-4D2C-9B1A-0F1E2D3C4B5A"},
			},
			Error:     &backup.ErrorInfo{Code: "IncorrectDBInstanceState", Message: "Current DB instance state does not support this operation.", Retryable: true},
			Note:      "the instance is not Running (Rebooting); the request waits in the work queue and resumes at notBefore",
			Time:      t0,
			NotBefore: t0.Add(5 * time.Minute),
		},
		backup.StatusCompleted: {
			Status: backup.StatusCompleted, Terminal: true, Request: r,
			BackupJobId: "347621853", BackupStatus: "Finished", Process: "100", BackupId: "1638124829",
			Attempts: []backup.Attempt{},
			Note:     "finished 14m30s after it was accepted (7 checks)",
			Time:     t0.Add(15 * time.Minute),
		},
	}
}

func withDBName(r backup.Request, names ...string) backup.Request {
	r.DBName = names
	return r
}

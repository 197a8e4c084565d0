package backup

import "time"

// Status is the kind of an outcome; the notifier publishes it as the
// CloudEvents type "rds.backup.<status>".
type Status string

const (
	StatusAccepted  Status = "accepted"  // CreateBackup returned a job id
	StatusCoalesced Status = "coalesced" // an equivalent backup already exists or runs; its job id is reported
	StatusRejected  Status = "rejected"  // the request breaks a rule or is not allowed; no CreateBackup was sent
	StatusFailed    Status = "failed"    // retries exhausted, a terminal API error, or the job failed
	StatusDeferred  Status = "deferred"  // parked in the work queue to be resumed later (never terminal)
	StatusCompleted Status = "completed" // the job finished
)

// Statuses lists every status in a stable order.
var Statuses = []Status{StatusAccepted, StatusCoalesced, StatusRejected, StatusFailed, StatusDeferred, StatusCompleted}

// Attempt is one try at an RDS call.
type Attempt struct {
	Time      time.Time `json:"time"`
	Action    string    `json:"action,omitempty"` // CreateBackup, DescribeDBInstanceAttribute...
	Code      string    `json:"code,omitempty"`   // error code; empty on success
	Message   string    `json:"message,omitempty"`
	Retryable bool      `json:"retryable"`
	Class     string    `json:"class,omitempty"` // transient, state-wait, terminal
	RequestId string    `json:"requestId,omitempty"`
}

// ErrorInfo is the error that decided an outcome.
type ErrorInfo struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
	Field     string `json:"field,omitempty"`
}

// ErrorFromViolation converts a rule violation into the outcome's error.
func ErrorFromViolation(v *Violation) *ErrorInfo {
	if v == nil {
		return nil
	}
	return &ErrorInfo{Code: v.Code, Message: v.Message, Field: v.Field}
}

// Outcome is what happened to one request. Exactly one terminal outcome ends
// every request; accepted and coalesced are terminal only when the job is not
// tracked to completion, deferred never is.
type Outcome struct {
	Status   Status  `json:"status"`
	Terminal bool    `json:"terminal"`
	Request  Request `json:"-"`

	BackupJobId  string `json:"backupJobId,omitempty"`
	RequestId    string `json:"requestId,omitempty"`    // RDS request id of the deciding call
	BackupStatus string `json:"backupStatus,omitempty"` // final or current BackupStatus of the job
	Process      string `json:"process,omitempty"`      // progress percentage of the job
	BackupId     string `json:"backupId,omitempty"`     // backup set id, when known

	Attempts  []Attempt  `json:"attempts"`
	Error     *ErrorInfo `json:"error,omitempty"`
	Note      string     `json:"note,omitempty"` // e.g. why it was coalesced, or that attempts were trimmed
	Time      time.Time  `json:"-"`
	NotBefore time.Time  `json:"-"` // for deferred: when it will be resumed
}

// JoinNote appends note b to note a ("a; b"), either may be empty.
func JoinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

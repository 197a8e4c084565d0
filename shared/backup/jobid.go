package backup

import "math"

// A BackupJobId is the number CreateBackup returned. DescribeBackupTasks
// takes it as an int32 (github.com/alibabacloud-go/rds-20140815/v3,
// DescribeBackupTasksRequest.BackupJobId), so a job id is 1 to 2147483647,
// written in decimal digits with no sign, space or leading zero: one job has
// one spelling, and nothing that could not be sent reaches an SDK call.

// MaxJobID is the largest BackupJobId (the SDK's int32).
const MaxJobID = math.MaxInt32

// JobIdRule is the message of a refused BackupJobId.
const JobIdRule = "must be the number CreateBackup returned: 1 to 2147483647 in decimal digits, no sign or leading zero (DescribeBackupTasks takes an int32)"

// ParseJobID returns the job id s names, and false when s is not a
// BackupJobId by the grammar above.
func ParseJobID(s string) (int32, bool) {
	if len(s) == 0 || len(s) > 10 || s[0] == '0' {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n > MaxJobID {
		return 0, false
	}
	return int32(n), true
}

// ValidJobID reports whether s is a BackupJobId (see ParseJobID).
func ValidJobID(s string) bool {
	_, ok := ParseJobID(s)
	return ok
}

package memberauth

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// The grammars every input is held to before it reaches an SDK client or a
// log line (doc.go names the pages they follow).
// The account, role and ExternalId grammars are the domain's
// (shared/backup/account.go): plans name accounts and config checks the
// role and the ExternalId with the same rules.
//
// RoleSessionName's grammar, [A-Za-z0-9.@_-]{2,64}, is checked by hand: as a
// regular expression its counted repetition took 0.36 ms to compile at
// every cold start (docs/performance.md).

// The rules, as error messages say them.
const (
	AccountIDRule   = backup.AccountIDRule
	RoleNameRule    = backup.RoleNameRule
	ExternalIDRule  = backup.ExternalIDRule
	SessionNameRule = "must be 2 to 64 characters of letters, digits and . @ _ -"
)

// DefaultRole is the member-account role's name when BACKUP_MEMBER_ROLE is
// not set.
const DefaultRole = "fc-rds-backup-member"

// ValidAccountID reports whether s is an Alibaba Cloud account id (UID).
func ValidAccountID(s string) bool { return backup.ValidAccountID(s) }

// ValidRoleName reports whether s is a RAM role name.
func ValidRoleName(s string) bool { return backup.ValidRoleName(s) }

// ValidExternalID reports whether s is an ExternalId STS accepts.
func ValidExternalID(s string) bool { return backup.ValidExternalID(s) }

// ValidSessionName reports whether s is a RoleSessionName STS accepts.
func ValidSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '@' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// RoleArn is acs:ram::<account>:role/<role>, the ARN AssumeRole names. The
// role name is written in lower case, as RAM writes it in ARNs; RAM matches
// role names without regard to case. It does not check its arguments.
func RoleArn(account, role string) string {
	return "acs:ram::" + account + ":role/" + strings.ToLower(role)
}

// sessionNameMax and the length of the digest suffix SessionName appends.
const (
	sessionNameMax = 64
	sessionHashLen = 8
)

// SessionName makes a run id fit RoleSessionName's grammar, deterministically:
// a run id that already fits is used as it is; otherwise every character
// outside [A-Za-z0-9.@_-] becomes '_', the result is cut to leave room and
// '.' plus 8 hex digits of the run id's SHA-256 are appended (so two run ids
// that differ only in what was replaced or cut still get different names);
// an empty run id is "run-none". The result always satisfies
// ValidSessionName.
func SessionName(runID string) string {
	if ValidSessionName(runID) {
		return runID
	}
	var b strings.Builder
	for _, r := range runID {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '@', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if runID == "" {
		return "run-none"
	}
	sum := sha256.Sum256([]byte(runID))
	suffix := "." + hex.EncodeToString(sum[:])[:sessionHashLen]
	if len(s) > sessionNameMax-len(suffix) {
		s = s[:sessionNameMax-len(suffix)] // ASCII only by now: byte cut is safe
	}
	return s + suffix
}

// quote is how a value a caller chose goes into an error message: clipped
// and %q-quoted (backup.Quote).
func quote(s string) string { return backup.Quote(s, 48) }

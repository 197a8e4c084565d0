package ledger

import (
	"fmt"
	"time"
)

// The bounds of what goes into a row. Scope and key are attacker-influenced
// (an Idempotency-Key header, a delivery id): Tablestore takes a STRING
// primary key column up to 1 KB; these are tighter, and refused before any
// call.
const (
	MaxScope   = 128 // bytes, printable ASCII without space: "route:demo-pipeline", "mns:rds-backup-work"
	MaxKey     = 256 // bytes, printable ASCII (space allowed: a caller's Idempotency-Key may hold one; the webhook takes ≤ 200)
	MaxOwner   = 128 // bytes, printable ASCII without space: a delivery's id (FC request id, message id + dequeue count)
	MaxDigest  = 128 // bytes, printable ASCII without space: a hex SHA-256 is 64
	MaxValue   = 256 // bytes, printable ASCII: method, target, run id
	MaxID      = 256 // bytes, printable ASCII without space: job and outcome ids
	minTTLDays = 1   // Tablestore's smallest TimeToLive is 86400 s
)

func checkText(field, s string, max int, space, required bool) error {
	if s == "" {
		if required {
			return &ValidationError{Field: field, Rule: "required"}
		}
		return nil
	}
	if len(s) > max {
		return &ValidationError{Field: field, Rule: fmt.Sprintf("at most %d bytes, got %d", max, len(s))}
	}
	lo := byte(0x21)
	kind := "printable ASCII without spaces (0x21-0x7E)"
	if space {
		lo, kind = 0x20, "printable ASCII (0x20-0x7E)"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > 0x7e {
			return &ValidationError{Field: field, Rule: fmt.Sprintf("%s only; byte %d is 0x%02X", kind, i, s[i])}
		}
	}
	return nil
}

func checkRowKey(scope, key string) error {
	if err := checkText("scope", scope, MaxScope, false, true); err != nil {
		return err
	}
	return checkText("key", key, MaxKey, true, true)
}

// Validate reports the first field of a that breaks a rule, naming the field
// and the rule (never the value); Claim calls it before any Tablestore call.
func (a Ask) Validate() error {
	checks := []error{
		checkRowKey(a.Scope, a.Key),
		checkText("digest", a.Digest, MaxDigest, false, true),
		checkText("owner", a.Owner, MaxOwner, false, true),
		checkText("method", a.Method, MaxValue, true, false),
		checkText("target", a.Target, MaxValue, true, false),
		checkText("runId", a.RunID, MaxValue, false, false),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if a.AskedAt.IsZero() {
		return &ValidationError{Field: "askedAt", Rule: "required"}
	}
	if a.AskedAt.Before(time.Unix(0, 0)) {
		return &ValidationError{Field: "askedAt", Rule: "must not be before 1970"}
	}
	return nil
}

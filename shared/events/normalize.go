package events

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// Trigger kinds (backup.Trigger.Kind) set by this package.
const (
	KindTimer  = "timer"
	KindMNS    = "mns"
	KindGitHub = "github"
	KindGitLab = "gitlab"
	KindSigned = "signed"
)

// NormalizePlan turns the explicit backups of p (p.Specs(), defaults
// applied) into requests from trig. Each request's IdempotencyKey is
// IdempotencyKey(trig, spec, keyParts...) and its CorrelationId is
// CorrelationID of that key. Backups that are identical after the defaults
// are applied yield one request (the first). p.Select is not expanded.
//
// The requests are not validated; run backup.Validate on them.
func NormalizePlan(p backup.Plan, trig backup.Trigger, keyParts ...string) []backup.Request {
	specs := p.Specs()
	out := make([]backup.Request, 0, len(specs))
	seen := make(map[string]bool, len(specs))
	for _, s := range specs {
		key := IdempotencyKey(trig, s, keyParts...)
		if seen[key] {
			continue
		}
		seen[key] = true
		r := backup.FromSpec(s, trig)
		r.IdempotencyKey = key
		r.CorrelationId = CorrelationID(key)
		out = append(out, r)
	}
	return out
}

// IdempotencyKey is the key of one backup asked for by one delivery:
// backup.Key over the trigger (kind, source, delivery id), the extra parts,
// the instance and the five CreateBackup parameters and the region, and
// the AccountId when there is one.
func IdempotencyKey(trig backup.Trigger, s backup.Spec, keyParts ...string) string {
	parts := make([]string, 0, 11+len(keyParts))
	parts = append(parts, trig.Kind, trig.Source, trig.DeliveryId, strconv.Itoa(len(keyParts)))
	parts = append(parts, keyParts...)
	parts = append(parts, s.DBInstanceId, s.BackupMethod, s.BackupStrategy, s.DBName, s.BackupType, s.RegionId)
	if s.AccountId != "" {
		// An ask in a member account (DESIGN.md §10) is another ask than
		// the same parameters in the own account; asks without one keep
		// the keys they always had.
		parts = append(parts, "account", s.AccountId)
	}
	return backup.Key(parts...)
}

// CorrelationID derives a request's correlation id from its idempotency
// key: the first 16 hex digits.
func CorrelationID(idempotencyKey string) string {
	if len(idempotencyKey) <= 16 {
		return idempotencyKey
	}
	return idempotencyKey[:16]
}

// malformed is the violation for an event (or part of one) that is not the
// shape it should be.
func malformed(field, format string, args ...any) *backup.Violation {
	return &backup.Violation{Code: backup.CodeMalformed, HTTPStatus: 400, Field: field,
		Message: field + ": " + fmt.Sprintf(format, args...)}
}

// WithAskedAt sets every request's AskedAt (DESIGN.md §2: when the ask was
// made, the same through every redelivery) and returns reqs.
func WithAskedAt(reqs []backup.Request, t time.Time) []backup.Request {
	if t.IsZero() {
		return reqs
	}
	t = t.UTC()
	for i := range reqs {
		reqs[i].AskedAt = t
	}
	return reqs
}

// askedAtLayouts are the time forms the sources use: RFC 3339 (timer,
// CloudEvents, GitHub) and GitLab's "2021-04-28 21:50:00 +0200" and
// "2016-08-12 15:23:28 UTC".
var askedAtLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST", "2006-01-02T15:04:05.000Z07:00"}

// ParseAskedAt parses a source's time; the zero time when s is empty or in
// no known form (the caller then uses the time it first saw the ask).
func ParseAskedAt(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range askedAtLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

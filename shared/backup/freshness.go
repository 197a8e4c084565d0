package backup

import "time"

// SatisfiedBy reports whether a backup set satisfies ask r (DESIGN.md §2,
// freshness): a set of the same method that did not fail and that was in
// progress at r.AskedAt or started after it, i.e. whose end is at or after
// AskedAt (a set without an end is still in progress). A set that had
// already ended when the ask was made never does. The verdict depends only on
// AskedAt and the set, never on when the ask is processed.
//
// DescribeBackups reports a set's times in whole seconds, so AskedAt is
// compared at that resolution: a set reported to end in the second the ask
// was made satisfies it (the choice errs towards no duplicate, by at most a
// second). An ask without AskedAt is satisfied only by a set still in
// progress.
func SatisfiedBy(r Request, method, status string, end time.Time) bool {
	if method != r.Method() || status == "Failed" {
		return false
	}
	if end.IsZero() {
		return true
	}
	if r.AskedAt.IsZero() {
		return false
	}
	return !end.Before(r.AskedAt.Truncate(time.Second))
}

package backup

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input grammar (DESIGN.md §5): identifiers a caller sends reach an SDK
// client, an endpoint, a query and log lines, so they are checked against
// the grammar of the thing they name before anything else is done with them.
//
//   - A DBInstanceId is what RDS hands out: rm-uf6wjk5xxxx (MySQL and SQL
//     Server), pgm-bp1abc (PostgreSQL), mr-… (MariaDB), rr-… (read-only),
//     older rds… ids. Lowercase letters, digits and '-', starting with a
//     letter, 2-64 characters: no comma (DescribeDBInstanceAttribute takes
//     comma-separated lists), no space, no control character, no glob
//     character, so an allow-list pattern only ever sees a real id.
//   - A RegionId is lowercase words and numbers joined by single hyphens,
//     the first a word: cn-hangzhou, ap-southeast-1, cn-shanghai-finance-1,
//     cn-hongkong-finance-pop. At most 40 characters. The SDK builds the
//     endpoint host rds.<RegionId>.aliyuncs.com from it, so nothing else
//     (no '@', ':', '/', '.') may get through.

//   - A Select's Engine is one of the API's engines: MySQL, PostgreSQL,
//     SQLServer, MariaDB (exactly so spelled).
//   - A Select's tag key is 1-128 characters, does not start with "aliyun"
//     or "acs:" and contains no "http://" or "https://"; a tag value is at
//     most 128 characters, does not start with "acs:" and contains no
//     "http://" or "https://" (the Alibaba Cloud tag limits). Neither holds
//     a control character or invalid UTF-8 (ours: they reach log lines).
//   - A field name a caller wrote (an unknown field) appears in an error
//     only through FieldName: bounded, and quoted unless it is a plain name.

// Limits of the grammar.
const (
	MaxInstanceIdLen = 64
	MaxRegionIdLen   = 40
	MaxTagKeyLen     = 128 // characters
	MaxTagValueLen   = 128 // characters
	// MaxFieldNameLen bounds a caller's field name in an error message.
	MaxFieldNameLen = 64
	// MaxDBNames bounds the DBName list of one request. The API page names
	// no limit; the bound keeps one request's log lines, outcome messages
	// and work-queue envelopes small.
	MaxDBNames = 100
)

// Codes of the grammar (ours, not the API's: RDS never sees such input).
const (
	CodeInstanceIdFormat = "InvalidDBInstanceId.Format"
	CodeRegionFormat     = "InvalidRegionId.Format"
	CodeRegionNotAllowed = "InvalidRegionId.NotAllowed"
	// CodeTooManyBackups: one call (a signed POST, a webhook, a timer plan,
	// an MNS message) names more backups than the deployment accepts at
	// once (BACKUP_MAX_REQUESTS_PER_CALL).
	CodeTooManyBackups = "TooManyBackups"
)

// instanceIdGrammar reports whether s matches ^[a-z][a-z0-9-]{1,63}$,
// checked by hand: compiled, the counted repetition costs ~60 µs at every
// cold start (route loading and the first request validate ids).
// grammar_test.go checks it against the expression.
func instanceIdGrammar(s string) bool {
	if len(s) < 2 || len(s) > 64 || !isLower(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// regionIdGrammar reports whether s matches ^[a-z]{2,}(-[a-z0-9]+){1,4}$:
// a word of at least two lowercase letters, then one to four parts of
// lowercase letters and digits, each after a '-'.
func regionIdGrammar(s string) bool {
	first, rest, ok := strings.Cut(s, "-")
	if !ok || len(first) < 2 {
		return false
	}
	for i := 0; i < len(first); i++ {
		if !isLower(first[i]) {
			return false
		}
	}
	for parts := 1; ; parts++ {
		part, more, cut := strings.Cut(rest, "-")
		if part == "" || parts > 4 {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isLower(part[i]) && !isDigit(part[i]) {
				return false
			}
		}
		if !cut {
			return true
		}
		rest = more
	}
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// InstanceIdRule is the message of CodeInstanceIdFormat.
const InstanceIdRule = "must be an RDS instance id: 2-64 lowercase letters, digits and '-', starting with a letter (e.g. rm-uf6wjk5xxxx)"

// RegionIdRule is the message of CodeRegionFormat.
const RegionIdRule = "must be a region id: lowercase words and numbers joined by '-', at most 40 characters (e.g. cn-hangzhou)"

// EngineRule is the message of a Select.Engine that is not an engine.
const EngineRule = "must be one of MySQL, PostgreSQL, SQLServer, MariaDB"

// TagKeyRule and TagValueRule are the messages of a Select.Tags entry
// outside the tag grammar.
const (
	TagKeyRule   = "a tag key must be 1-128 characters, not start with aliyun or acs:, and contain no http://, https:// or control character"
	TagValueRule = "a tag value must be at most 128 characters, not start with acs:, and contain no http://, https:// or control character"
)

// Engines are the engines a Select may name.
var Engines = []string{EngineMySQL, EnginePostgreSQL, EngineSQLServer, EngineMariaDB}

// ValidEngine reports whether s is one of Engines.
func ValidEngine(s string) bool { return slices.Contains(Engines, s) }

// ValidTagKey reports whether s is a tag key (see the grammar above).
func ValidTagKey(s string) bool {
	return s != "" && tagText(s, MaxTagKeyLen) && !strings.HasPrefix(s, "aliyun") && !strings.HasPrefix(s, "acs:")
}

// ValidTagValue reports whether s is a tag value (see the grammar above).
func ValidTagValue(s string) bool {
	return tagText(s, MaxTagValueLen) && !strings.HasPrefix(s, "acs:")
}

func tagText(s string, max int) bool {
	if len(s) > 4*max || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max ||
		strings.Contains(s, "http://") || strings.Contains(s, "https://") {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// FieldName is a field name a caller wrote, fit for an error message or a
// log line: a plain name (letters, digits, '_', '-', at most
// MaxFieldNameLen bytes) as it is, anything else clipped and quoted.
func FieldName(s string) string {
	if s != "" && len(s) <= MaxFieldNameLen && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return s
	}
	return Quote(s, MaxFieldNameLen)
}

// ValidInstanceID reports whether s is an RDS instance id (see the grammar
// above).
func ValidInstanceID(s string) bool {
	return len(s) <= MaxInstanceIdLen && instanceIdGrammar(s)
}

// ValidRegionID reports whether s is a region id (see the grammar above).
func ValidRegionID(s string) bool {
	return len(s) <= MaxRegionIdLen && regionIdGrammar(s)
}

// Quote returns s clipped to n bytes (on a rune boundary, "…" appended when
// cut) and quoted with %q, so that input a caller chose can go into an
// error message or a log line without control characters and without
// growing it: error messages name the value at fault this way.
func Quote(s string, n int) string { return fmt.Sprintf("%q", Clip(s, n)) }

// Clip returns s cut to at most n bytes on a rune boundary, with "…"
// appended when it was cut. Identifiers go into log lines clipped.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Regions is the set of regions a deployment allows requests to name
// (DESIGN.md §5): the function's own region plus a configured list. The
// zero value allows none; a request without a RegionId (the function's
// region) is always allowed.
type Regions struct {
	ids []string // sorted, unique, each ValidRegionID
}

// NewRegions returns the set of ids; every id must be a valid region id
// (the error names the first that is not). Empty ids are skipped.
func NewRegions(ids ...string) (Regions, error) {
	var rs Regions
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !ValidRegionID(id) {
			return Regions{}, fmt.Errorf("%s: %s", Quote(id, 48), RegionIdRule)
		}
		rs = rs.With(id)
	}
	return rs, nil
}

// With returns the set with the valid ids among ids added (invalid ones are
// ignored: a set never holds what the grammar refuses).
func (rs Regions) With(ids ...string) Regions {
	out := Regions{ids: slices.Clone(rs.ids)}
	for _, id := range ids {
		if ValidRegionID(id) && !slices.Contains(out.ids, id) {
			out.ids = append(out.ids, id)
		}
	}
	slices.Sort(out.ids)
	return out
}

// IDs returns the allowed region ids, sorted.
func (rs Regions) IDs() []string { return slices.Clone(rs.ids) }

// String lists the ids ("cn-hangzhou, cn-shanghai"), or "none".
func (rs Regions) String() string {
	if len(rs.ids) == 0 {
		return "none"
	}
	return strings.Join(rs.ids, ", ")
}

// Allows reports whether a request may name region: "" (the function's own
// region) or a member of the set.
func (rs Regions) Allows(region string) bool {
	return region == "" || slices.Contains(rs.ids, region)
}

// Check returns the violation of a RegionId named by field ("RegionId",
// "Select.RegionId", ...): the grammar first, then membership. nil when
// region is "" or allowed.
func (rs Regions) Check(field, region string) *Violation {
	switch {
	case region == "":
		return nil
	case !ValidRegionID(region):
		return &Violation{Code: CodeRegionFormat, HTTPStatus: 400, Field: field,
			Message: fmt.Sprintf("%s %s: %s", field, Quote(region, 48), RegionIdRule)}
	case !rs.Allows(region):
		return &Violation{Code: CodeRegionNotAllowed, HTTPStatus: 400, Field: field,
			Message: fmt.Sprintf("%s %q: not a region this deployment allows (%s); the operator adds regions to BACKUP_ALLOWED_REGIONS", field, region, rs)}
	}
	return nil
}

// CheckPlan checks every RegionId a plan names: Defaults, each backup and
// the Select, and returns the first violation.
func (rs Regions) CheckPlan(p Plan) *Violation {
	if v := rs.Check("Defaults.RegionId", p.Defaults.RegionId); v != nil {
		return v
	}
	for i, b := range p.Backups {
		if v := rs.Check(fmt.Sprintf("Backups[%d].RegionId", i), b.RegionId); v != nil {
			return v
		}
	}
	if p.Select != nil {
		return rs.Check("Select.RegionId", p.Select.RegionId)
	}
	return nil
}

// CheckRequests checks the RegionId of every request and returns the first
// violation with the index of its request (-1 when there is none).
func (rs Regions) CheckRequests(reqs []Request) (int, *Violation) {
	for i, r := range reqs {
		if v := rs.Check("RegionId", r.RegionId); v != nil {
			return i, v
		}
	}
	return -1, nil
}

// TooMany is the violation of a call that names n backups when at most max
// are accepted (max <= 0: no limit, nil).
func TooMany(field string, n, max int) *Violation {
	if max <= 0 || n <= max {
		return nil
	}
	return &Violation{Code: CodeTooManyBackups, HTTPStatus: 413, Field: field,
		Message: fmt.Sprintf("%s: %d backups in one call, at most %d (BACKUP_MAX_REQUESTS_PER_CALL); split the call, or select instances by tag in a timer plan", field, n, max)}
}

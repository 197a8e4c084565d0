package sts

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

// Session durations (seconds): AssumeRole's DurationSeconds is 900 to the
// role's MaxSessionDuration, default 3600 (AssumeRole page; sts-20150401
// v2.0.4 AssumeRoleRequest). A role's MaxSessionDuration is 3600 to 43200
// (RAM CreateRole page; [inference] not verified here, see
// accounts-quotas-observability.md "Things not found").
const (
	MinDuration            = 900
	DefaultDuration        = 3600
	DefaultMaxSession      = 3600
	MaxMaxSessionDuration  = 43200
	minMaxSessionDurationS = 3600
)

// Role is a RAM role that AssumeRole can assume.
type Role struct {
	// AccountID owns the role: 16 digits ("" is auth.DefaultAccountID).
	// Credentials issued for the role belong to this account.
	AccountID string `json:"accountId"`
	// Name is the role name (RAM: 1 to 64 letters, digits, "." and "-";
	// matched without regard to case).
	Name string `json:"name"`
	// ExternalID, when set, is the trust policy's sts:ExternalId condition:
	// AssumeRole must pass exactly this ExternalId.
	ExternalID string `json:"externalId,omitempty"`
	// Trusted are the accounts whose keys may assume the role (the trust
	// policy's principals); empty means the role's own account.
	Trusted []string `json:"trusted,omitempty"`
	// MaxSessionDuration in seconds, 3600 to 43200 (0 is 3600).
	MaxSessionDuration int `json:"maxSessionDuration,omitempty"`
}

var (
	accountRE  = regexp.MustCompile(`^[0-9]{16}$`)
	roleNameRE = regexp.MustCompile(`^[A-Za-z0-9.\-]{1,64}$`)
	// arnRE is the RoleArn grammar acs:ram::<account>:role/<name>
	// (AssumeRole page). The account part is checked for 16 digits after.
	arnRE = regexp.MustCompile(`^acs:ram::([^:]*):role/([^/]+)$`)
)

// withDefaults fills the account, trust and duration defaults.
func (r Role) withDefaults() Role {
	if r.AccountID == "" {
		r.AccountID = auth.DefaultAccountID
	}
	if len(r.Trusted) == 0 {
		r.Trusted = []string{r.AccountID}
	}
	if r.MaxSessionDuration == 0 {
		r.MaxSessionDuration = DefaultMaxSession
	}
	return r
}

// Check reports the first thing wrong with r (after its defaults).
func (r Role) Check() error {
	r = r.withDefaults()
	switch {
	case !accountRE.MatchString(r.AccountID):
		return fmt.Errorf("accountId: must be 16 digits, got %q", r.AccountID)
	case !roleNameRE.MatchString(r.Name):
		return fmt.Errorf("name: must be 1 to 64 letters, digits, '.' or '-', got %q", r.Name)
	case r.MaxSessionDuration < minMaxSessionDurationS || r.MaxSessionDuration > MaxMaxSessionDuration:
		return fmt.Errorf("maxSessionDuration: must be 3600 to 43200 seconds, got %d", r.MaxSessionDuration)
	case r.ExternalID != "" && !externalIDOK(r.ExternalID):
		return fmt.Errorf("externalId: must be 2 to 1224 characters of [\\w+=,.@:/-], got %q", r.ExternalID)
	}
	for _, a := range r.Trusted {
		if !accountRE.MatchString(a) {
			return fmt.Errorf("trusted: account ids are 16 digits, got %q", a)
		}
	}
	return nil
}

// Arn is the role's ARN, acs:ram::<account>:role/<name>, with the name in
// lower case as RAM writes it [inference from published ARNs].
func (r Role) Arn() string {
	r = r.withDefaults()
	return "acs:ram::" + r.AccountID + ":role/" + strings.ToLower(r.Name)
}

// roleKey identifies a role: account and lower-cased name.
func roleKey(account, name string) string { return account + "\x00" + strings.ToLower(name) }

// roleID is the role's numeric id (stable per ARN; RAM's ids are 19-digit
// numbers).
func roleID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	n := binary.BigEndian.Uint64(sum[:8])%9_000_000_000_000_000_000 + 1_000_000_000_000_000_000
	return strconv.FormatUint(n, 10)
}

// parseRoleArn splits a RoleArn into account and role name.
func parseRoleArn(arn string) (account, name string, err error) {
	m := arnRE.FindStringSubmatch(arn)
	if m == nil || !accountRE.MatchString(m[1]) {
		return "", "", errors.New("not acs:ram::<16-digit account>:role/<name>")
	}
	return m[1], m[2], nil
}

// sessionNameRE is RoleSessionName's grammar: letters, digits, ".", "@",
// "-", "_", 2 to 64 characters (sts-20150401 v2.0.4's AssumeRoleRequest;
// the older API page says 2 to 32).
var sessionNameRE = regexp.MustCompile(`^[A-Za-z0-9.@\-_]{2,64}$`)

// externalIDRE is ExternalId's grammar (sts-20150401 v2.0.4:
// 2 to 1,224 characters of [\w+=,.@:\/-]).
var externalIDRE = regexp.MustCompile(`^[\w+=,.@:/\-]+$`)

func externalIDOK(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && externalIDRE.MatchString(s)
}

// trusts tells whether the role's trust policy admits account.
func (r Role) trusts(account string) bool { return slices.Contains(r.withDefaults().Trusted, account) }

package backup

import "regexp"

// The grammar of the member-account vocabulary (DESIGN.md §10): the
// account ids a plan may name (AccountId, Select.Accounts), and the role
// name and ExternalId the deployment assumes into them. Every value is
// held to it before it is routed, logged or sent to STS or RDS.
// shared/memberauth's doc.go names the pages each rule follows.
var (
	accountRE    = regexp.MustCompile(`^[0-9]{16}$`)
	roleNameRE   = regexp.MustCompile(`^[A-Za-z0-9.-]{1,64}$`)
	externalIDRE = regexp.MustCompile(`^[A-Za-z0-9_+=,.@:/-]+$`)
)

// The rules, as error messages say them.
const (
	AccountIDRule  = "must be an Alibaba Cloud account id: 16 digits"
	RoleNameRule   = "must be a RAM role name: 1 to 64 letters, digits, '.' or '-'"
	ExternalIDRule = "must be 2 to 1224 characters of letters, digits and _ + = , . @ : / -"
)

// ValidAccountID reports whether s is an Alibaba Cloud account id (UID).
func ValidAccountID(s string) bool { return accountRE.MatchString(s) }

// ValidRoleName reports whether s is a RAM role name.
func ValidRoleName(s string) bool { return roleNameRE.MatchString(s) }

// ValidExternalID reports whether s is an ExternalId STS accepts.
func ValidExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && externalIDRE.MatchString(s)
}

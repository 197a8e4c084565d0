package memberauth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// MemberConfig is the deployment's settings for plans that reach other
// accounts (DESIGN.md §10). LoadMemberConfig reads it.
type MemberConfig struct {
	// AllowedAccounts (BACKUP_ALLOWED_ACCOUNTS) are the member accounts a
	// plan may name, sorted, without repeats; empty: none (a plan stays in
	// the functions' own account).
	AllowedAccounts []string
	// AllowedRegions (BACKUP_ALLOWED_REGIONS) are the regions a plan may
	// name besides the functions' own, sorted, without repeats. (config.Load
	// reads the same variable with the same rule, backup.RegionIdRule.)
	AllowedRegions []string
	// Role (BACKUP_MEMBER_ROLE) is the role assumed in every member account;
	// default DefaultRole.
	Role string
	// ExternalID (BACKUP_MEMBER_EXTERNAL_ID) is passed to every AssumeRole;
	// the member role's trust policy requires it. Required when
	// AllowedAccounts is not empty. It is not a secret in STS's model, but
	// it is never logged here either: String leaves it out.
	ExternalID string
}

// String describes c without the ExternalId.
func (c MemberConfig) String() string {
	ext := "unset"
	if c.ExternalID != "" {
		ext = "set"
	}
	return fmt.Sprintf("accounts=%v regions=%v role=%s externalId=%s", c.AllowedAccounts, c.AllowedRegions, c.Role, ext)
}

// AllowsAccount reports whether account is one of AllowedAccounts.
func (c MemberConfig) AllowsAccount(account string) bool {
	_, ok := slices.BinarySearch(c.AllowedAccounts, account)
	return ok
}

// The variables LoadMemberConfig reads.
const (
	EnvAllowedAccounts = "BACKUP_ALLOWED_ACCOUNTS"
	EnvAllowedRegions  = "BACKUP_ALLOWED_REGIONS"
	EnvMemberRole      = "BACKUP_MEMBER_ROLE"
	EnvExternalID      = "BACKUP_MEMBER_EXTERNAL_ID"
)

// LoadMemberConfig reads the member-account settings through getenv (the
// process's os.Getenv in main, a map in tests). It fails fast, naming every
// variable that is wrong and the rule it breaks, one per line:
//
//   - BACKUP_ALLOWED_ACCOUNTS: comma-separated account ids (AccountIDRule);
//     blanks around commas are ignored, repeats collapse;
//   - BACKUP_ALLOWED_REGIONS: comma-separated region ids
//     (backup.RegionIdRule);
//   - BACKUP_MEMBER_ROLE: a RAM role name (RoleNameRule), default
//     DefaultRole;
//   - BACKUP_MEMBER_EXTERNAL_ID: an ExternalId (ExternalIDRule), required
//     when BACKUP_ALLOWED_ACCOUNTS names any account: a member role without
//     the sts:ExternalId condition is the confused-deputy hole the
//     condition closes.
//
// Values in messages are clipped and quoted; the ExternalId's value is never
// repeated in one.
func LoadMemberConfig(getenv func(string) string) (MemberConfig, error) {
	var c MemberConfig
	var errs []string
	bad := func(name, value, rule string) {
		errs = append(errs, fmt.Sprintf("%s: %s: %s", name, quote(value), rule))
	}
	for _, a := range splitList(getenv(EnvAllowedAccounts)) {
		if !ValidAccountID(a) {
			bad(EnvAllowedAccounts, a, AccountIDRule)
			continue
		}
		c.AllowedAccounts = append(c.AllowedAccounts, a)
	}
	for _, r := range splitList(getenv(EnvAllowedRegions)) {
		if !backup.ValidRegionID(r) {
			bad(EnvAllowedRegions, r, backup.RegionIdRule)
			continue
		}
		c.AllowedRegions = append(c.AllowedRegions, r)
	}
	c.Role = strings.TrimSpace(getenv(EnvMemberRole))
	if c.Role == "" {
		c.Role = DefaultRole
	} else if !ValidRoleName(c.Role) {
		bad(EnvMemberRole, c.Role, RoleNameRule)
	}
	c.ExternalID = strings.TrimSpace(getenv(EnvExternalID))
	switch {
	case c.ExternalID != "" && !ValidExternalID(c.ExternalID):
		errs = append(errs, fmt.Sprintf("%s: (value not shown, %d characters): %s", EnvExternalID, len(c.ExternalID), ExternalIDRule))
	case c.ExternalID == "" && len(c.AllowedAccounts) > 0:
		errs = append(errs, EnvExternalID+": is required when "+EnvAllowedAccounts+" names accounts (the member role's trust policy requires sts:ExternalId)")
	}
	if len(errs) > 0 {
		return MemberConfig{}, errors.New("memberauth: " + strings.Join(errs, "\n"))
	}
	slices.Sort(c.AllowedAccounts)
	c.AllowedAccounts = slices.Compact(c.AllowedAccounts)
	slices.Sort(c.AllowedRegions)
	c.AllowedRegions = slices.Compact(c.AllowedRegions)
	return c, nil
}

// splitList splits a comma-separated value, trimming blanks and dropping
// empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

package backup

import (
	"fmt"
	"slices"
	"strings"
)

// The grammar of the member-account vocabulary (DESIGN.md §10): the
// account ids a plan may name (AccountId, Select.Accounts), and the role
// name and ExternalId the deployment assumes into them. Every value is
// held to it before it is routed, logged or sent to STS or RDS.
// shared/memberauth's doc.go names the pages each rule follows. Checked by
// hand, not by expressions compiled at every cold start.

// The rules, as error messages say them.
const (
	AccountIDRule  = "must be an Alibaba Cloud account id: 16 digits"
	RoleNameRule   = "must be a RAM role name: 1 to 64 letters, digits, '.' or '-'"
	ExternalIDRule = "must be 2 to 1224 characters of letters, digits and _ + = , . @ : / -"
)

// ValidAccountID reports whether s is an Alibaba Cloud account id (UID).
func ValidAccountID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidRoleName reports whether s is a RAM role name.
func ValidRoleName(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && allOf(s, func(c byte) bool { return alnum(c) || c == '.' || c == '-' })
}

// ValidExternalID reports whether s is an ExternalId STS accepts.
func ValidExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && allOf(s, func(c byte) bool { return alnum(c) || strings.IndexByte("_+=,.@:/-", c) >= 0 })
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// Codes of the fleet rules (ours: neither STS nor RDS sees such input).
const (
	CodeAccountFormat     = "InvalidAccountId.Format"
	CodeAccountNotAllowed = "InvalidAccountId.NotAllowed"
	// CodeTooManyTargets: a Select reaches more (account, region) pairs
	// than the deployment allows one plan (BACKUP_MAX_FANOUT).
	CodeTooManyTargets = "Select.TooManyTargets"
)

// Grammar bounds of a Select's lists, before any allow-list: no
// deployment allows more (BACKUP_MAX_FANOUT is at most 1000 pairs).
const (
	MaxSelectAccounts = 1000
	MaxSelectRegions  = 100
)

// Fleet is what a deployment lets plans reach beyond its own account
// (DESIGN.md §10): Own is the functions' own account id ("" when unknown:
// then no AccountId is taken for it), Accounts the member accounts
// (BACKUP_ALLOWED_ACCOUNTS, sorted) and MaxFanout the most (account,
// region) pairs one Select may reach (BACKUP_MAX_FANOUT; 0: 1).
type Fleet struct {
	Own       string
	Accounts  []string
	MaxFanout int
}

// Allows reports whether a plan may name account: "" (the own account),
// Own, or one of Accounts.
func (f Fleet) Allows(account string) bool {
	if account == "" || account == f.Own {
		return true
	}
	_, ok := slices.BinarySearch(f.Accounts, account)
	return ok
}

// Member reports whether account is another account than the functions'
// own: an ask in it runs with the member role's credentials.
func (f Fleet) Member(account string) bool { return account != "" && account != f.Own }

// CheckAccount returns the violation of an AccountId named by field: the
// grammar first, then membership. nil when account is "" or allowed.
func (f Fleet) CheckAccount(field, account string) *Violation {
	switch {
	case account == "":
		return nil
	case !ValidAccountID(account):
		return &Violation{Code: CodeAccountFormat, HTTPStatus: 400, Field: field,
			Message: fmt.Sprintf("%s %s: %s", field, Quote(account, 48), AccountIDRule)}
	case !f.Allows(account):
		return &Violation{Code: CodeAccountNotAllowed, HTTPStatus: 403, Field: field,
			Message: fmt.Sprintf("%s %q: not an account this deployment allows; the operator adds member accounts to BACKUP_ALLOWED_ACCOUNTS", field, account)}
	}
	return nil
}

// CheckPlan checks every account and region a plan reaches beyond its own
// (Defaults.AccountId, each backup's AccountId, Select.Accounts,
// Select.Regions) against f and regions, and the Select's fan-out against
// MaxFanout, before anything of the plan is built or any STS call is made.
// It returns the first violation.
func (f Fleet) CheckPlan(p Plan, regions Regions) *Violation {
	if v := f.CheckAccount("Defaults.AccountId", p.Defaults.AccountId); v != nil {
		return v
	}
	for i, b := range p.Backups {
		if v := f.CheckAccount(fmt.Sprintf("Backups[%d].AccountId", i), b.AccountId); v != nil {
			return v
		}
	}
	if p.Select == nil {
		return nil
	}
	for i, a := range p.Select.Accounts {
		if v := f.CheckAccount(fmt.Sprintf("Select.Accounts[%d]", i), a); v != nil {
			return v
		}
	}
	for i, r := range p.Select.Regions {
		if v := regions.Check(fmt.Sprintf("Select.Regions[%d]", i), r); v != nil {
			return v
		}
	}
	if n, most := p.Select.Fanout(), max(f.MaxFanout, 1); n > most {
		return &Violation{Code: CodeTooManyTargets, HTTPStatus: 413, Field: "Select",
			Message: fmt.Sprintf("Select: reaches %d (account, region) pairs (%d accounts × %d regions), at most %d (BACKUP_MAX_FANOUT); split the plan",
				n, max(len(p.Select.Accounts), 1), max(len(p.Select.Regions), 1), most)}
	}
	return nil
}

// CheckRequests checks the AccountId of every request and returns the
// first violation with the index of its request (-1 when there is none).
func (f Fleet) CheckRequests(reqs []Request) (int, *Violation) {
	for i, r := range reqs {
		if v := f.CheckAccount("AccountId", r.AccountId); v != nil {
			return i, v
		}
	}
	return -1, nil
}

// Fanout is how many (account, region) pairs s reaches: its Accounts (or
// the own account) times its Regions (or its RegionId's one).
func (s Selector) Fanout() int { return max(len(s.Accounts), 1) * max(len(s.Regions), 1) }

// Target is one (account, region) pair a Select reaches; Account "" is
// the functions' own account, Region "" the plan's default region.
type Target struct{ Account, Region string }

// Targets lists the (account, region) pairs s reaches, accounts outer,
// in the order the plan names them.
func (s Selector) Targets() []Target {
	accounts, regions := s.Accounts, s.Regions
	if len(accounts) == 0 {
		accounts = []string{""}
	}
	if len(regions) == 0 {
		regions = []string{s.RegionId}
	}
	out := make([]Target, 0, len(accounts)*len(regions))
	for _, a := range accounts {
		for _, r := range regions {
			out = append(out, Target{a, r})
		}
	}
	return out
}

// At is s narrowed to one target: the same filters, in t's account and
// region only.
func (s Selector) At(t Target) Selector {
	n := Selector{RegionId: t.Region, Engine: s.Engine, Tags: s.Tags}
	if t.Account != "" {
		n.Accounts = []string{t.Account}
	}
	return n
}

// Account is the one account s reaches once narrowed (At): "" the own.
func (s Selector) Account() string {
	if len(s.Accounts) == 1 {
		return s.Accounts[0]
	}
	return ""
}

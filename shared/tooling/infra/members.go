package main

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/rampolicy"
)

// Plans across accounts (DESIGN.md §10, docs/fleets.md): infra prints what
// each member account needs — the member role's trust policy and
// permission policy — and the statement the functions' own role needs,
// rendered by shared/tooling/rampolicy. It creates none of them: the role
// lives in other accounts, made with their keys.

// externalIDPlaceholder stands for BACKUP_MEMBER_EXTERNAL_ID in the printed
// trust policy: infra never takes the ExternalId, so it can never print it.
const externalIDPlaceholder = "${BACKUP_MEMBER_EXTERNAL_ID}"

// sentinelExternalID renders the trust policy (MemberTrustPolicy checks
// an ExternalId's grammar); it is replaced by externalIDPlaceholder.
const sentinelExternalID = "fc-rds-backup-infra-external-id-sentinel"

// members is what the member section needs, after the flags are checked.
type members struct {
	accounts      []string // BACKUP_ALLOWED_ACCOUNTS, sorted
	role          string   // BACKUP_MEMBER_ROLE
	functionsRole string   // the functions' role ARN (s.yaml's vars.role)
	tagKey        string   // the member policy's rds:ResourceTag condition, "" none
	tagValue      string
}

var envAccountRef = regexp.MustCompile(`ENV_ALIBABA_CLOUD_ACCOUNT_ID`)

// parseMembers checks the member flags: the accounts (each 16 digits),
// the role name, the tag (key=value) and the functions' role ARN (the
// flag, else s.yaml's vars.role with -account-id in place of
// ${env('ALIBABA_CLOUD_ACCOUNT_ID')}). nil when no account is named.
func parseMembers(accounts, role, tag, functionsRole, syamlRole, accountID string) (*members, error) {
	var m members
	for _, a := range strings.Split(accounts, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if !memberauth.ValidAccountID(a) {
			return nil, fmt.Errorf("-member-accounts: %q: %s", a, memberauth.AccountIDRule)
		}
		m.accounts = append(m.accounts, a)
	}
	if len(m.accounts) == 0 {
		return nil, nil
	}
	slices.Sort(m.accounts)
	m.accounts = slices.Compact(m.accounts)
	m.role = role
	if m.role == "" {
		m.role = memberauth.DefaultRole
	}
	if !memberauth.ValidRoleName(m.role) {
		return nil, fmt.Errorf("-member-role %q: %s", m.role, memberauth.RoleNameRule)
	}
	if tag != "" {
		k, v, ok := strings.Cut(tag, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("-member-tag %q: want key=value, e.g. backup=enabled", tag)
		}
		m.tagKey, m.tagValue = k, v
	}
	m.functionsRole = functionsRole
	if m.functionsRole == "" {
		if accountID == "" && envAccountRef.MatchString(syamlRole) {
			return nil, fmt.Errorf("-functions-role or -account-id is required with -member-accounts: the member role's trust policy names the functions' role (s.yaml's vars.role)")
		}
		m.functionsRole = envAccountRef.ReplaceAllString(syamlRole, accountID)
	}
	// The documents' own checks, now, so a mistake is a usage error.
	if _, _, _, err := m.documents(); err != nil {
		return nil, err
	}
	return &m, nil
}

// documents renders the trust policy (with externalIDPlaceholder), the
// permission policy and the functions' AssumeRole statement.
func (m members) documents() (trust, perms, hub []byte, err error) {
	if trust, err = rampolicy.MemberTrustPolicy(m.functionsRole, sentinelExternalID); err != nil {
		return nil, nil, nil, fmt.Errorf("-functions-role: %w", err)
	}
	trust = bytes.Replace(trust, []byte(`"`+sentinelExternalID+`"`), []byte(`"`+externalIDPlaceholder+`"`), 1)
	if perms, err = rampolicy.MemberPolicy(m.tagKey, m.tagValue); err != nil {
		return nil, nil, nil, fmt.Errorf("-member-tag: %w", err)
	}
	if hub, err = rampolicy.HubAssumePolicy(m.accounts, m.role); err != nil {
		return nil, nil, nil, fmt.Errorf("-member-accounts: %w", err)
	}
	return trust, perms, hub, nil
}

// print writes the member section: what to create in each member account
// and what to add to the functions' role.
func (m members) print(w io.Writer) error {
	trust, perms, hub, err := m.documents()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "member role %s in %s (BACKUP_ALLOWED_ACCOUNTS): create it in each member account with the two policies below; infra does not (it holds no key of those accounts)\n",
		m.role, strings.Join(m.accounts, ", "))
	fmt.Fprintf(w, "  trust policy (put the deployment's ExternalId, BACKUP_MEMBER_EXTERNAL_ID, for %s; infra never takes or prints it):\n", externalIDPlaceholder)
	indent(w, trust)
	if m.tagKey != "" {
		fmt.Fprintf(w, "  permission policy (only instances tagged %s=%s):\n", m.tagKey, m.tagValue)
	} else {
		fmt.Fprintln(w, "  permission policy (every instance of the account; -member-tag key=value limits it to tagged ones):")
	}
	indent(w, perms)
	fmt.Fprintf(w, "functions' role %s: add this statement to its policy (sts:AssumeRole on each member role):\n", m.functionsRole)
	indent(w, hub)
	return nil
}

func indent(w io.Writer, doc []byte) {
	for _, l := range strings.Split(strings.TrimRight(string(doc), "\n"), "\n") {
		fmt.Fprintln(w, "    "+l)
	}
}

package rampolicy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
)

// The member-account role (DESIGN.md §10): a role named
// BACKUP_MEMBER_ROLE (default memberauth.DefaultRole) in every member
// account, which the functions assume through STS. Three documents:
//
//   - MemberTrustPolicy, the role's trust policy (its
//     AssumeRolePolicyDocument): only the functions' role may assume it,
//     and only with the deployment's ExternalId (the sts:ExternalId
//     condition, against the confused deputy);
//   - MemberPolicy, the role's permission policy: exactly RDSActions (the
//     RDS calls the functions make, which shared/tooling/deploy's test
//     derives from the shipped code), on the member's instances, optionally
//     only those carrying a tag (rds:ResourceTag/<key>, as for the
//     functions' own policy);
//   - HubAssumePolicy, what the functions' own role needs in addition:
//     sts:AssumeRole on that role in each member account.

// TrustPolicy is a RAM role's trust policy document.
type TrustPolicy struct {
	Version   string           `json:"Version"`
	Statement []TrustStatement `json:"Statement"`
}

// TrustStatement is one statement of a TrustPolicy.
type TrustStatement struct {
	Effect    string                         `json:"Effect"`
	Action    string                         `json:"Action"`
	Principal map[string][]string            `json:"Principal"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// roleArnRE is a RAM role's ARN: acs:ram::<16-digit account>:role/<name>.
var roleArnRE = regexp.MustCompile(`^acs:ram::([0-9]{16}):role/([A-Za-z0-9.-]{1,64})$`)

// tagRE bounds a tag key or value that goes into a condition key (RDS's
// tag grammar is wider; this keeps the key a plain name).
var tagRE = regexp.MustCompile(`^[A-Za-z0-9._:/=+@-]{1,128}$`)

// MemberTrustPolicy is the member role's trust policy: Allow sts:AssumeRole
// to the principal functionsRoleArn (the functions' role,
// acs:ram::<hub account>:role/<name>) under StringEquals sts:ExternalId
// externalID. Both are checked against their grammar
// (memberauth.ExternalIDRule); the document is built with encoding/json, so
// no value can change its shape.
func MemberTrustPolicy(functionsRoleArn, externalID string) ([]byte, error) {
	if !roleArnRE.MatchString(functionsRoleArn) {
		return nil, fmt.Errorf("rampolicy: functions' role ARN %q: must be acs:ram::<16-digit account>:role/<role name>", functionsRoleArn)
	}
	if !memberauth.ValidExternalID(externalID) {
		return nil, fmt.Errorf("rampolicy: ExternalId (value not shown, %d characters): %s", len(externalID), memberauth.ExternalIDRule)
	}
	return marshal(TrustPolicy{Version: "1", Statement: []TrustStatement{{
		Effect:    "Allow",
		Action:    "sts:AssumeRole",
		Principal: map[string][]string{"RAM": {functionsRoleArn}},
		Condition: map[string]map[string][]string{"StringEquals": {"sts:ExternalId": {externalID}}}},
	}})
}

// MemberPolicy is the member role's permission policy: RDSActions but
// rds:DescribeDBInstances on the account's instances
// (acs:rds:*:*:dbinstance/*, any region: a plan names regions), and
// rds:DescribeDBInstances on "*" (it lists, and cannot be scoped). With
// tagKey set, the instance statement holds only for instances tagged
// tagKey=tagValue (Condition StringEquals rds:ResourceTag/<tagKey>), so
// the role can back up nothing else whatever a plan asks.
func MemberPolicy(tagKey, tagValue string) ([]byte, error) {
	var perInstance []string
	for _, a := range RDSActions {
		if a != "rds:DescribeDBInstances" {
			perInstance = append(perInstance, a)
		}
	}
	inst := Statement{Effect: "Allow", Action: perInstance, Resource: []string{"acs:rds:*:*:dbinstance/*"}}
	switch {
	case tagKey == "" && tagValue == "":
	case !tagRE.MatchString(tagKey) || !tagRE.MatchString(tagValue):
		return nil, fmt.Errorf("rampolicy: tag %q=%q: key and value must be 1 to 128 of letters, digits and . _ : / = + @ -", tagKey, tagValue)
	default:
		inst.Condition = map[string]map[string][]string{"StringEquals": {"rds:ResourceTag/" + tagKey: {tagValue}}}
	}
	out, err := marshal(Policy{Version: "1", Statement: []Statement{
		inst,
		{Effect: "Allow", Action: []string{"rds:DescribeDBInstances"}, Resource: []string{"*"}},
	}})
	if err != nil {
		return nil, err
	}
	if _, err := Parse(out); err != nil {
		return nil, err
	}
	return out, nil
}

// HubAssumePolicy is the statement the functions' own role needs to reach
// the members: sts:AssumeRole on acs:ram::<account>:role/<role> for each
// member account (sorted, repeats dropped). Accounts and the role name
// are checked (memberauth.AccountIDRule, RoleNameRule).
func HubAssumePolicy(accounts []string, role string) ([]byte, error) {
	if !memberauth.ValidRoleName(role) {
		return nil, fmt.Errorf("rampolicy: role %q: %s", role, memberauth.RoleNameRule)
	}
	if len(accounts) == 0 {
		return nil, fmt.Errorf("rampolicy: no member account")
	}
	var res []string
	for _, a := range accounts {
		if !memberauth.ValidAccountID(a) {
			return nil, fmt.Errorf("rampolicy: account %q: %s", a, memberauth.AccountIDRule)
		}
		res = append(res, memberauth.RoleArn(a, role))
	}
	slices.Sort(res)
	res = slices.Compact(res)
	out, err := marshal(Policy{Version: "1", Statement: []Statement{{Effect: "Allow", Action: []string{"sts:AssumeRole"}, Resource: res}}})
	if err != nil {
		return nil, err
	}
	if _, err := Parse(out); err != nil {
		return nil, err
	}
	return out, nil
}

func marshal(v any) ([]byte, error) {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("rampolicy: %w", err)
	}
	return append(out, '\n'), nil
}

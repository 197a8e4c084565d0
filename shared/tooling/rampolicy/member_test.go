package rampolicy

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

const fnRole = "acs:ram::1000000000000001:role/fc-rds-backup-functions"

// TestMemberPolicyGrantsExactlyTheRDSCalls: the member role's policy
// grants exactly RDSActions — which shared/tooling/deploy's test holds to
// the RDS SDK calls of the shipped code — nothing of MNS, Tablestore or
// anything else, no wildcard action; DescribeDBInstances alone on "*".
func TestMemberPolicyGrantsExactlyTheRDSCalls(t *testing.T) {
	for _, tag := range [][2]string{{"", ""}, {"backup", "enabled"}} {
		doc, err := MemberPolicy(tag[0], tag[1])
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.Actions(), sorted(RDSActions); !slices.Equal(got, want) {
			t.Fatalf("member policy grants %v, the code calls %v", got, want)
		}
		for i, s := range p.Statement {
			if s.Effect != "Allow" {
				t.Errorf("Statement[%d] is %s", i, s.Effect)
			}
			for _, a := range s.Action {
				if strings.Contains(a, "*") {
					t.Errorf("wildcard action %q", a)
				}
			}
			star := slices.Contains(s.Resource, "*")
			if star != slices.Equal(s.Action, []string{"rds:DescribeDBInstances"}) {
				t.Errorf("Statement[%d] %v on %v: only DescribeDBInstances may be on \"*\"", i, s.Action, s.Resource)
			}
			if !star && !slices.Equal(s.Resource, []string{"acs:rds:*:*:dbinstance/*"}) {
				t.Errorf("Statement[%d] on %v", i, s.Resource)
			}
			switch {
			case tag[0] == "" && s.Condition != nil:
				t.Errorf("untagged policy has a condition: %v", s.Condition)
			case tag[0] != "" && !star && !slices.Equal(s.Condition["StringEquals"]["rds:ResourceTag/backup"], []string{"enabled"}):
				t.Errorf("Statement[%d] lacks the tag condition: %v", i, s.Condition)
			}
		}
	}
	for _, bad := range [][2]string{{"backup", ""}, {"", "enabled"}, {`k"],"x":["`, "v"}, {"k", "v w"}} {
		if _, err := MemberPolicy(bad[0], bad[1]); err == nil {
			t.Errorf("MemberPolicy(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestMemberTrustPolicy(t *testing.T) {
	doc, err := MemberTrustPolicy(fnRole, "ext-123")
	if err != nil {
		t.Fatal(err)
	}
	var p TrustPolicy
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Version != "1" || len(p.Statement) != 1 {
		t.Fatalf("trust policy %s", doc)
	}
	s := p.Statement[0]
	if s.Effect != "Allow" || s.Action != "sts:AssumeRole" || !slices.Equal(s.Principal["RAM"], []string{fnRole}) || len(s.Principal) != 1 ||
		!slices.Equal(s.Condition["StringEquals"]["sts:ExternalId"], []string{"ext-123"}) || len(s.Condition) != 1 {
		t.Fatalf("trust policy %s", doc)
	}
	tests := []struct{ name, arn, ext, want string }{
		{"account root is too wide", "acs:ram::1000000000000001:root", "ext-123", "functions' role ARN"},
		{"short account", "acs:ram::100000000000001:role/fn", "ext-123", "functions' role ARN"},
		{"no ExternalId", fnRole, "", "ExternalId"},
		{"ExternalId injection", fnRole, `x"],"Principal":{"RAM":["*`, "ExternalId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MemberTrustPolicy(tt.arn, tt.ext)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("MemberTrustPolicy = %v, want an error naming %s", err, tt.want)
			}
			if tt.ext != "" && strings.Contains(err.Error(), tt.ext) {
				t.Errorf("error repeats the ExternalId: %v", err)
			}
		})
	}
}

func TestHubAssumePolicy(t *testing.T) {
	doc, err := HubAssumePolicy([]string{"3000000000000003", "2000000000000002", "3000000000000003"}, "FC-RDS-Backup-Member")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acs:ram::2000000000000002:role/fc-rds-backup-member", "acs:ram::3000000000000003:role/fc-rds-backup-member"}
	if len(p.Statement) != 1 || !slices.Equal(p.Actions(), []string{"sts:AssumeRole"}) || !slices.Equal(p.Statement[0].Resource, want) {
		t.Fatalf("hub policy %s", doc)
	}
	for _, bad := range []struct {
		accts []string
		role  string
	}{{nil, "r"}, {[]string{"2000000000000002"}, "a/b"}, {[]string{"*"}, "r"}, {[]string{"2000000000000002:role/x"}, "r"}} {
		if _, err := HubAssumePolicy(bad.accts, bad.role); err == nil {
			t.Errorf("HubAssumePolicy(%v, %q) accepted", bad.accts, bad.role)
		}
	}
}

// TestMemberDocsShowWhatTheCodeRenders: docs/ram-policy.md shows the three
// documents exactly as the functions render them for its example values.
func TestMemberDocsShowWhatTheCodeRenders(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/ram-policy.md")
	if err != nil {
		t.Fatal(err)
	}
	trust, err := MemberTrustPolicy("acs:ram::1000000000000001:role/fc-rds-backup-functions", "your-external-id")
	if err != nil {
		t.Fatal(err)
	}
	member, err := MemberPolicy("backup", "enabled")
	if err != nil {
		t.Fatal(err)
	}
	hub, err := HubAssumePolicy([]string{"2000000000000002", "3000000000000003"}, "fc-rds-backup-member")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"trust policy": trust, "member policy": member, "hub statement": hub} {
		if !bytes.Contains(doc, append([]byte("```json\n"), want...)) {
			t.Errorf("docs/ram-policy.md does not show the %s as rendered:\n%s", name, want)
		}
	}
}

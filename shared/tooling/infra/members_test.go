package main

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/rampolicy"
)

// docBlocks are the JSON documents of infra's output: the runs of lines
// indented by four spaces, in order.
func docBlocks(t *testing.T, out string) []json.RawMessage {
	t.Helper()
	var blocks []json.RawMessage
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			b := json.RawMessage(strings.Join(cur, "\n"))
			if !json.Valid(b) {
				t.Fatalf("an indented block is not JSON:\n%s", b)
			}
			blocks = append(blocks, b)
			cur = nil
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "    ") {
			cur = append(cur, l)
			continue
		}
		flush()
	}
	flush()
	return blocks
}

// TestMemberPolicies: with -member-accounts, infra prints the member role's
// trust policy (trusting the functions' role from s.yaml with -account-id,
// under the sts:ExternalId condition, the ExternalId left as a placeholder),
// its permission policy (exactly the RDS calls the functions make, on
// tagged instances with -member-tag) and the functions' sts:AssumeRole
// statement on each member's role — the documents rampolicy renders,
// which its tests hold to the shipped code. -only members needs no key and
// calls nothing; the full run prints them after the queues and the table.
func TestMemberPolicies(t *testing.T) {
	noKey := func() (string, string, string, error) {
		t.Error("-only members asked for a key")
		return "", "", "", errors.New("no key")
	}
	code, out, errs := invoke(t, noKey, "-s", syaml, "-only", "members", "-account-id", "1000000000000001",
		"-member-accounts", "3000000000000003, 2000000000000002,3000000000000003", "-member-tag", "backup=enabled")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	docs := docBlocks(t, out)
	if len(docs) != 3 {
		t.Fatalf("%d documents, want trust, permission and the functions' statement:\n%s", len(docs), out)
	}

	var trust rampolicy.TrustPolicy
	if err := json.Unmarshal(docs[0], &trust); err != nil {
		t.Fatal(err)
	}
	st := trust.Statement
	if len(st) != 1 || st[0].Effect != "Allow" || st[0].Action != "sts:AssumeRole" ||
		!slices.Equal(st[0].Principal["RAM"], []string{"acs:ram::1000000000000001:role/fc-rds-backup"}) ||
		!slices.Equal(st[0].Condition["StringEquals"]["sts:ExternalId"], []string{externalIDPlaceholder}) {
		t.Errorf("trust policy %s: want sts:AssumeRole by the functions' role under sts:ExternalId %s", docs[0], externalIDPlaceholder)
	}

	perms, err := rampolicy.Parse(docs[1])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(perms.Actions(), rampolicy.RDSActions) {
		t.Errorf("member policy actions %v, want exactly the RDS calls the functions make %v", perms.Actions(), rampolicy.RDSActions)
	}
	want, _ := rampolicy.MemberPolicy("backup", "enabled")
	if !jsonEqual(t, docs[1], want) {
		t.Errorf("member policy %s, want MemberPolicy(backup, enabled) %s", docs[1], want)
	}

	hub, err := rampolicy.Parse(docs[2])
	if err != nil {
		t.Fatal(err)
	}
	wantRes := []string{memberauth.RoleArn("2000000000000002", memberauth.DefaultRole), memberauth.RoleArn("3000000000000003", memberauth.DefaultRole)}
	if len(hub.Statement) != 1 || !slices.Equal(hub.Actions(), rampolicy.STSActions) || !slices.Equal(hub.Statement[0].Resource, wantRes) {
		t.Errorf("the functions' statement %s: want %v on %v", docs[2], rampolicy.STSActions, wantRes)
	}

	// Another role, no tag: the role's name in the statement, no condition.
	code, out, _ = invoke(t, noKey, "-s", syaml, "-only", "members", "-functions-role", "acs:ram::1000000000000001:role/backup-fns",
		"-member-accounts", "2000000000000002", "-member-role", "rds-backup.member")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	docs = docBlocks(t, out)
	if len(docs) != 3 || !strings.Contains(string(docs[0]), "acs:ram::1000000000000001:role/backup-fns") ||
		strings.Contains(string(docs[1]), "Condition") || !strings.Contains(string(docs[2]), "acs:ram::2000000000000002:role/rds-backup.member") {
		t.Errorf("documents:\n%s", out)
	}

	// The full run: queues and table first, then the member section.
	c := newCloud(t)
	code, out, _ = invoke(t, c.cred, c.args("-account-id", "1000000000000001", "-member-accounts", "2000000000000002")...)
	if code != exitOK || countLines(out, "would create") != 4 || len(docBlocks(t, out)) != 3 ||
		strings.Index(out, "would create") > strings.Index(out, "member role") {
		t.Errorf("full dry run: exit %d\n%s", code, out)
	}
	// Without member accounts, no member section.
	code, out, _ = invoke(t, c.cred, c.args()...)
	if code != exitOK || strings.Contains(out, "member role") {
		t.Errorf("without -member-accounts: exit %d\n%s", code, out)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// TestMemberMistakes: a wrong member flag is a usage error naming it, and
// nothing is printed or called.
func TestMemberMistakes(t *testing.T) {
	noKey := func() (string, string, string, error) { return "", "", "", errors.New("no key") }
	base := []string{"-s", syaml, "-only", "members", "-account-id", "1000000000000001"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad account", []string{"-member-accounts", "2000000000000002,20000"}, `-member-accounts: "20000": ` + memberauth.AccountIDRule},
		{"bad role", []string{"-member-accounts", "2000000000000002", "-member-role", "a/b"}, `-member-role "a/b"`},
		{"bad tag", []string{"-member-accounts", "2000000000000002", "-member-tag", "backup"}, `-member-tag "backup": want key=value`},
		{"bad tag value", []string{"-member-accounts", "2000000000000002", "-member-tag", `backup=a"b`}, "-member-tag: rampolicy: tag"},
		{"bad functions role", []string{"-member-accounts", "2000000000000002", "-functions-role", "acs:ram::1:role/x"}, "-functions-role: rampolicy: functions' role ARN"},
		{"members without accounts", nil, "-only members needs -member-accounts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := invoke(t, noKey, append(slices.Clone(base), tc.args...)...)
			if code != exitUsage || !strings.Contains(errs, tc.want) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errs, exitUsage, tc.want)
			}
		})
	}
	// s.yaml's role names the deployer's account: without -account-id or
	// -functions-role the trust policy cannot name it.
	code, _, errs := invoke(t, noKey, "-s", syaml, "-only", "members", "-member-accounts", "2000000000000002")
	if code != exitUsage || !strings.Contains(errs, "-functions-role or -account-id is required") {
		t.Fatalf("exit %d %s", code, errs)
	}
}

package sts

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	stssdk "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

func TestAssumeRole(t *testing.T) {
	for _, tc := range []struct {
		name string
		acs3 bool
		kind string
	}{
		{"SDK default (v2 RPC signature)", false, auth.SigV2},
		{"ACS3-HMAC-SHA256", true, auth.SigACS3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cli := stsClient(t, e.srv.Endpoint(), e.caller, tc.acs3)
			// The role name is matched without regard to case.
			body, err := assume(cli, "acs:ram::"+memberA+":role/BACKUP", "run-2026.03.02@x_1", "ext-123", 0)
			noErr(t, err)
			c := body.Credentials
			if tea.StringValue(body.RequestId) == "" || !strings.HasPrefix(tea.StringValue(c.AccessKeyId), "STS.") ||
				tea.StringValue(c.AccessKeySecret) == "" || tea.StringValue(c.SecurityToken) == "" {
				t.Fatalf("body = %v", body)
			}
			if got, want := tea.StringValue(c.Expiration), "2026-03-02T02:00:00Z"; got != want {
				t.Errorf("Expiration = %q, want %q (default 3600 s on the fake clock)", got, want)
			}
			u := body.AssumedRoleUser
			if got, want := tea.StringValue(u.Arn), backupArn+"/run-2026.03.02@x_1"; got != want {
				t.Errorf("AssumedRoleUser.Arn = %q, want %q", got, want)
			}
			if id := tea.StringValue(u.AssumedRoleId); !strings.HasSuffix(id, ":run-2026.03.02@x_1") || len(id) != 19+1+len("run-2026.03.02@x_1") {
				t.Errorf("AssumedRoleId = %q", id)
			}
			if got := e.store.AccountOf(tea.StringValue(c.AccessKeyId)); got != memberA {
				t.Errorf("issued key's account = %q, want the role's %q", got, memberA)
			}
			calls := e.srv.Calls()
			if len(calls) != 1 {
				t.Fatalf("calls = %d", len(calls))
			}
			if cl := calls[0]; cl.Action != "AssumeRole" || cl.SignatureKind != tc.kind || cl.CallerAccount != hub || cl.AccessKeyId != e.caller.AccessKeyID ||
				cl.RoleArn != "acs:ram::"+memberA+":role/BACKUP" || cl.RoleSessionName != "run-2026.03.02@x_1" || cl.Status != 200 || !cl.Performed {
				t.Errorf("call = %+v", cl)
			}
			if got := e.srv.Counts()["AssumeRole"]; got != 1 {
				t.Errorf("Counts[AssumeRole] = %d", got)
			}
		})
	}
}

func TestAssumeRoleDurations(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		arn      string
		duration int64
		want     string // Expiration, or "" for InvalidParameter.DurationSeconds
	}{
		{backupArn, 900, "2026-03-02T01:15:00Z"},
		{backupArn, 7200, "2026-03-02T03:00:00Z"}, // the role's max
		{backupArn, 899, ""},
		{backupArn, 7201, ""},
		{"acs:ram::" + memberA + ":role/plain", 3601, ""}, // default max 3600
	} {
		ext := "ext-123"
		if !strings.HasSuffix(tc.arn, "backup") {
			ext = ""
		}
		caller := e.caller
		if ext == "" {
			caller = e.store.NewAccessKeyFor(memberA) // plain trusts its own account
		}
		body, err := assume(stsClient(t, e.srv.Endpoint(), caller, false), tc.arn, "s1", ext, tc.duration)
		if tc.want == "" {
			wantErr(t, err, "InvalidParameter.DurationSeconds", 400)
			continue
		}
		noErr(t, err)
		if got := tea.StringValue(body.Credentials.Expiration); got != tc.want {
			t.Errorf("duration %d: Expiration = %q, want %q", tc.duration, got, tc.want)
		}
	}
}

func TestAssumeRoleErrors(t *testing.T) {
	e := newEnv(t)
	memberBKey := e.store.NewAccessKeyFor(memberB)
	cases := []struct {
		name              string
		caller            auth.Credential
		arn, session, ext string
		policy            string
		code              string
		status            int
	}{
		{"role missing", e.caller, "acs:ram::" + memberA + ":role/nosuch", "s1", "ext-123", "", "EntityNotExist.Role", 404},
		{"role of another account", e.caller, "acs:ram::" + memberB + ":role/backup", "s1", "ext-123", "", "EntityNotExist.Role", 404},
		{"caller's account not trusted", memberBKey, backupArn, "s1", "ext-123", "", "NoPermission", 403},
		{"ExternalId missing", e.caller, backupArn, "s1", "", "", "NoPermission", 403},
		{"ExternalId wrong", e.caller, backupArn, "s1", "ext-999", "", "NoPermission", 403},
		{"ExternalId malformed", e.caller, backupArn, "s1", "has space", "", "InvalidParameter", 400},
		{"session name too short", e.caller, backupArn, "a", "ext-123", "", "InvalidParameter.RoleSessionName", 400},
		{"session name with *", e.caller, backupArn, "abc*abc", "ext-123", "", "InvalidParameter.RoleSessionName", 400},
		{"session name too long", e.caller, backupArn, strings.Repeat("x", 65), "ext-123", "", "InvalidParameter.RoleSessionName", 400},
		{"user ARN", e.caller, "acs:ram::" + memberA + ":user/backup", "s1", "ext-123", "", "InvalidParameter.RoleArn", 400},
		{"short account", e.caller, "acs:ram::12345:role/backup", "s1", "ext-123", "", "InvalidParameter.RoleArn", 400},
		{"not an ARN", e.caller, "backup", "s1", "ext-123", "", "InvalidParameter.RoleArn", 400},
		{"policy not JSON", e.caller, backupArn, "s1", "ext-123", "{", "InvalidParameter.PolicyGrammar", 400},
		{"policy too long", e.caller, backupArn, "s1", "ext-123", `{"a":"` + strings.Repeat("x", 2048) + `"}`, "InvalidParameter.PolicySize", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := &stssdk.AssumeRoleRequest{RoleArn: tea.String(tc.arn), RoleSessionName: tea.String(tc.session)}
			if tc.ext != "" {
				req.ExternalId = tea.String(tc.ext)
			}
			if tc.policy != "" {
				req.Policy = tea.String(tc.policy)
			}
			_, err := stsClient(t, e.srv.Endpoint(), tc.caller, false).AssumeRole(req)
			wantErr(t, err, tc.code, tc.status)
		})
	}
	t.Run("missing RoleArn", func(t *testing.T) {
		_, err := e.cli(t).AssumeRole(&stssdk.AssumeRoleRequest{RoleSessionName: tea.String("s1")})
		wantErr(t, err, "MissingRoleArn", 400)
	})
	t.Run("a valid session policy is accepted", func(t *testing.T) {
		req := &stssdk.AssumeRoleRequest{RoleArn: tea.String(backupArn), RoleSessionName: tea.String("s1"), ExternalId: tea.String("ext-123"),
			Policy: tea.String(`{"Statement":[{"Action":["rds:CreateBackup"],"Effect":"Allow","Resource":["*"]}],"Version":"1"}`)}
		_, err := e.cli(t).AssumeRole(req)
		noErr(t, err)
	})
	t.Run("a removed role is missing", func(t *testing.T) {
		mustAddRole(t, e.srv, Role{AccountID: memberB, Name: "gone", Trusted: []string{hub}})
		arn := "acs:ram::" + memberB + ":role/gone"
		_, err := assume(e.cli(t), arn, "s1", "", 0)
		noErr(t, err)
		if !e.srv.RemoveRole(arn) {
			t.Fatal("RemoveRole = false")
		}
		_, err = assume(e.cli(t), arn, "s1", "", 0)
		wantErr(t, err, "EntityNotExist.Role", 404)
	})
	for _, c := range e.srv.Calls() {
		if c.Status != 200 && c.Performed {
			t.Errorf("refused call performed: %+v", c)
		}
	}
}

func TestGatewayErrors(t *testing.T) {
	e := newEnv(t)
	bad := e.caller
	bad.AccessKeySecret += "x"
	_, err := assume(stsClient(t, e.srv.Endpoint(), bad, false), backupArn, "s1", "ext-123", 0)
	wantErr(t, err, "SignatureDoesNotMatch", 400)
	_, err = assume(stsClient(t, e.srv.Endpoint(), bad, true), backupArn, "s1", "ext-123", 0)
	wantErr(t, err, "SignatureDoesNotMatch", 400)
	_, err = assume(stsClient(t, e.srv.Endpoint(), auth.Credential{AccessKeyID: "LTAInobody", AccessKeySecret: "s"}, false), backupArn, "s1", "ext-123", 0)
	wantErr(t, err, "InvalidAccessKeyId.NotFound", 404)

	// An expired STS key cannot call STS either.
	sts := e.store.IssueSTSFor(hub, 15*time.Minute)
	e.clock.Advance(15 * time.Minute)
	_, err = assume(stsClient(t, e.srv.Endpoint(), sts, false), backupArn, "s1", "ext-123", 0)
	wantErr(t, err, "InvalidSecurityToken.Expired", 400)
}

func TestRoleChecks(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	for _, r := range []Role{
		{AccountID: "123", Name: "x"},
		{Name: "has space"},
		{Name: "x", MaxSessionDuration: 1800},
		{Name: "x", MaxSessionDuration: 43201},
		{Name: "x", Trusted: []string{"nope"}},
		{Name: "x", ExternalID: "a"},
	} {
		if err := srv.AddRole(r); err == nil {
			t.Errorf("AddRole(%+v) = nil, want an error", r)
		}
	}
	if err := srv.AddRole(Role{Name: "Own"}); err != nil {
		t.Fatal(err)
	}
	roles := srv.Roles()
	if len(roles) != 1 || roles[0].AccountID != auth.DefaultAccountID || roles[0].MaxSessionDuration != 3600 ||
		len(roles[0].Trusted) != 1 || roles[0].Trusted[0] != auth.DefaultAccountID || roles[0].Arn() != "acs:ram::"+auth.DefaultAccountID+":role/own" {
		t.Fatalf("Roles() = %+v", roles)
	}
	// The server's own store and key: the default account assumes its own role.
	body, err := assume(stsClient(t, srv.Endpoint(), srv.Credential(), false), roles[0].Arn(), "s1", "", 0)
	noErr(t, err)
	if got := srv.Store().AccountOf(tea.StringValue(body.Credentials.AccessKeyId)); got != auth.DefaultAccountID {
		t.Fatalf("account = %q", got)
	}
}

func TestGetCallerIdentity(t *testing.T) {
	e := newEnv(t)
	body, err := assume(e.cli(t), backupArn, "run-1", "ext-123", 0)
	noErr(t, err)
	assumed := credOf(body)
	for _, tc := range []struct {
		name                string
		cred                auth.Credential
		account, typ, arn   string
		principal, roleOrID string
	}{
		{"assumed role", assumed, memberA, "AssumedRoleUser", "acs:ram::" + memberA + ":assumed-role/backup/run-1", tea.StringValue(body.AssumedRoleUser.AssumedRoleId), ""},
		{"long-term key", e.caller, hub, "RAMUser", "acs:ram::" + hub + ":user/" + e.caller.AccessKeyID, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, acs3 := range []bool{false, true} {
				resp, err := stsClient(t, e.srv.Endpoint(), tc.cred, acs3).GetCallerIdentity()
				noErr(t, err)
				b := resp.Body
				if tea.StringValue(b.AccountId) != tc.account || tea.StringValue(b.IdentityType) != tc.typ || tea.StringValue(b.Arn) != tc.arn {
					t.Fatalf("GetCallerIdentity = %v", b)
				}
				if tc.principal != "" && tea.StringValue(b.PrincipalId) != tc.principal {
					t.Errorf("PrincipalId = %q, want %q", tea.StringValue(b.PrincipalId), tc.principal)
				}
			}
		})
	}
}

func TestStateHasNoSecrets(t *testing.T) {
	e := newEnv(t)
	body, err := assume(e.cli(t), backupArn, "run-1", "ext-123", 900)
	noErr(t, err)
	out, err := json.Marshal(e.srv.State())
	noErr(t, err)
	s := string(out)
	for _, secret := range []string{tea.StringValue(body.Credentials.AccessKeySecret), tea.StringValue(body.Credentials.SecurityToken), "ext-123", e.caller.AccessKeySecret} {
		if strings.Contains(s, secret) {
			t.Errorf("State() shows a secret %q:\n%s", secret, s)
		}
	}
	var snap Snapshot
	noErr(t, json.Unmarshal(out, &snap))
	if len(snap.Sessions) != 1 || len(snap.Roles) != 2 {
		t.Fatalf("State() = %s", s)
	}
	sess := snap.Sessions[0]
	if sess.RoleArn != backupArn || sess.RoleSessionName != "run-1" || sess.Account != memberA || sess.CallerAccount != hub ||
		!sess.Expiration.Equal(t0.Add(15*time.Minute)) || sess.Expired || sess.AccessKeyId != tea.StringValue(body.Credentials.AccessKeyId) {
		t.Errorf("session = %+v", sess)
	}
	if r := snap.Roles[0]; r.Arn != backupArn || !r.ExternalIDRequired || r.MaxSessionDuration != 7200 || len(r.Trusted) != 1 || r.Trusted[0] != hub {
		t.Errorf("role = %+v", r)
	}
	e.clock.Advance(15 * time.Minute)
	if !e.srv.Sessions()[0].Expired {
		t.Error("session not Expired after its Expiration")
	}
}

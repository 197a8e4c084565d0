package rds

import (
	"testing"
	"time"

	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

func TestSignatures(t *testing.T) {
	type keyFn func(e *env) auth.Credential
	longTerm := func(e *env) auth.Credential { return e.cred }
	sts := func(e *env) auth.Credential { return e.store.IssueSTS(time.Hour) }
	cases := []struct {
		name       string
		key        keyFn
		wantCode   string
		wantStatus int
	}{
		{"long-term key", longTerm, "", 200},
		{"STS key and token", sts, "", 200},
		{"wrong secret", func(e *env) auth.Credential {
			c := e.cred
			c.AccessKeySecret += "x"
			return c
		}, "SignatureDoesNotMatch", 400},
		{"unknown key", func(e *env) auth.Credential {
			return auth.Credential{AccessKeyID: "LTAInobody", AccessKeySecret: "s"}
		}, "InvalidAccessKeyId.NotFound", 404},
		{"STS token malformed", func(e *env) auth.Credential {
			c := e.store.IssueSTS(time.Hour)
			c.SecurityToken = "CAISbogus"
			return c
		}, "InvalidSecurityToken.Malformed", 400},
		{"STS token expired", func(e *env) auth.Credential {
			c := e.store.IssueSTS(10 * time.Minute)
			e.clock.Advance(11 * time.Minute)
			return c
		}, "InvalidSecurityToken.Expired", 400},
		{"STS key without token", func(e *env) auth.Credential {
			c := e.store.IssueSTS(time.Hour)
			c.SecurityToken = ""
			return c
		}, "MissingSecurityToken", 400},
		{"token with a long-term key", func(e *env) auth.Credential {
			c := e.cred
			c.SecurityToken = "CAISstray"
			return c
		}, "InvalidSecurityToken.Malformed", 400},
	}
	for _, kind := range []string{SigV3, SigV2} {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
				cred := tc.key(e)
				err := attribute(e.client(t, cred, kind == SigV2), "rm-1")
				if tc.wantCode == "" {
					noErr(t, err)
				} else {
					wantErr(t, err, tc.wantCode, tc.wantStatus)
				}
				calls := e.srv.Calls()
				if len(calls) != 1 {
					t.Fatalf("calls = %d, want 1", len(calls))
				}
				c := calls[0]
				if c.SignatureKind != kind || c.AccessKeyId != cred.AccessKeyID || c.Action != "DescribeDBInstanceAttribute" ||
					c.DBInstanceId != "rm-1" || c.Status != tc.wantStatus || c.Code != tc.wantCode {
					t.Errorf("call = %+v", c)
				}
			})
		}
	}
}

func TestSignedQueryEscaping(t *testing.T) {
	// Spaces, commas, '*' and '~' are encoded differently on the wire and in
	// the canonical query; both recipes must still match.
	for _, v2 := range []bool{false, true} {
		e := newEnv(t)
		e.srv.AddInstance(Instance{DBInstanceId: "rm-1", Databases: []string{"a"}})
		_, err := e.client(t, e.cred, v2).DescribeDatabases(&rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-1"), DBName: tea.String("db a,b*c~d/é")})
		noErr(t, err)
	}
}

func TestGatewayErrors(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
	cli := e.cli(t)
	query := map[string]*string{"DBInstanceId": tea.String("rm-1")}
	fixedNonce := map[string]*string{"x-acs-signature-nonce": tea.String("00000000000000000000000000000001")}
	cases := []struct {
		name       string
		call       func() error
		wantCode   string
		wantStatus int
	}{
		{"unknown action", func() error { return callAPI(cli, "NoSuchAction", APIVersion, "AK", query, nil) }, "InvalidAction.NotFound", 404},
		{"wrong version", func() error { return callAPI(cli, "DescribeDBInstanceAttribute", "2015-01-01", "AK", query, nil) }, "InvalidVersion", 400},
		{"no Authorization", func() error { return callAPI(cli, "DescribeDBInstanceAttribute", APIVersion, "Anonymous", query, nil) }, "MissingAuthorization", 400},
		{"stale x-acs-date", func() error {
			return callAPI(cli, "DescribeDBInstanceAttribute", APIVersion, "AK", query, map[string]*string{"x-acs-date": tea.String("2020-01-01T00:00:00Z")})
		}, "InvalidTimeStamp.Expired", 400},
		{"nonce first use", func() error { return callAPI(cli, "DescribeDBInstanceAttribute", APIVersion, "AK", query, fixedNonce) }, "", 200},
		{"nonce replayed", func() error { return callAPI(cli, "DescribeDBInstanceAttribute", APIVersion, "AK", query, fixedNonce) }, "SignatureNonceUsed", 400},
		{"v2 stale Timestamp", func() error {
			q := map[string]*string{"DBInstanceId": tea.String("rm-1"), "Timestamp": tea.String("2020-01-01T00:00:00Z")}
			return callAPI(e.client(t, e.cred, true), "DescribeDBInstanceAttribute", APIVersion, "AK", q, nil)
		}, "InvalidTimeStamp.Expired", 400},
		{"v2 unknown action", func() error { return callAPI(e.client(t, e.cred, true), "NoSuchAction", APIVersion, "AK", query, nil) }, "InvalidAction.NotFound", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.wantCode == "" {
				noErr(t, err)
				return
			}
			wantErr(t, err, tc.wantCode, tc.wantStatus)
		})
	}
	if got := e.srv.Counts()["NoSuchAction"]; got != 2 {
		t.Errorf("Counts[NoSuchAction] = %d, want 2", got)
	}
}

func TestDefaultCredential(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	srv.AddInstance(Instance{DBInstanceId: "rm-1"})
	c := srv.Credential()
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		t.Fatalf("Credential() = %+v", c)
	}
	noErr(t, attribute(newClient(t, srv.Endpoint(), c, false), "rm-1"))
}

package sts

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// trustServer makes http.DefaultTransport, which credentials-go's HTTP
// client clones for every request, trust the server's certificate for the
// test. (A separate process would set SSL_CERT_FILE to a file holding
// CertPEM instead.)
func trustServer(t *testing.T, s *Server) {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport)
	old := tr.TLSClientConfig
	tr.TLSClientConfig = &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}
	t.Cleanup(func() { tr.TLSClientConfig = old })
}

func roleProvider(t *testing.T, s *Server, caller auth.Credential, arn, extID string) credentials.Credential {
	t.Helper()
	cfg := new(credentials.Config).
		SetType("ram_role_arn").
		SetAccessKeyId(caller.AccessKeyID).
		SetAccessKeySecret(caller.AccessKeySecret).
		SetRoleArn(arn).
		SetRoleSessionName("run-42").
		SetSTSEndpoint(s.TLSEndpoint())
	if extID != "" {
		cfg.SetExternalId(extID)
	}
	cred, err := credentials.NewCredential(cfg)
	if err != nil {
		t.Fatalf("credentials.NewCredential: %v", err)
	}
	return cred
}

// TestCredentialsGoRoleProvider: credentials-go's RAM-role provider (HTTPS
// only, v2 signature over query and form body) gets credentials from the
// emulator's TLS listener, caches them until 180 s before Expiration, and
// an RDS SDK client using the provider reads the role account's instances.
func TestCredentialsGoRoleProvider(t *testing.T) {
	// The provider compares Expiration with the wall clock: start the fake
	// clock at real time so an issued credential is fresh for it too.
	fc := rds.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	e := newEnvClock(t, fc, fc)
	trustServer(t, e.srv)
	rsrv := rds.NewServer(rds.WithCredentials(e.store), rds.WithClock(fc))
	t.Cleanup(rsrv.Close)
	rsrv.AddInstance(withAccountOrDefault(rds.Instance{DBInstanceId: "rm-a1"}, memberA))

	prov := roleProvider(t, e.srv, e.caller, backupArn, "ext-123")
	first, err := prov.GetCredential()
	noErr(t, err)
	if !strings.HasPrefix(tea.StringValue(first.AccessKeyId), "STS.") || tea.StringValue(first.SecurityToken) == "" {
		t.Fatalf("GetCredential = %+v", first)
	}
	if got := e.store.AccountOf(tea.StringValue(first.AccessKeyId)); got != memberA {
		t.Errorf("issued key's account = %q, want %q", got, memberA)
	}
	second, err := prov.GetCredential()
	noErr(t, err)
	if tea.StringValue(second.AccessKeyId) != tea.StringValue(first.AccessKeyId) {
		t.Errorf("the provider fetched again within the credential's lifetime")
	}
	calls := e.srv.Calls()
	if len(calls) != 1 {
		t.Fatalf("STS calls = %d, want 1", len(calls))
	}
	if c := calls[0]; !c.TLS || c.SignatureKind != auth.SigV2 || c.RoleArn != backupArn || c.RoleSessionName != "run-42" || c.CallerAccount != hub || c.Status != 200 {
		t.Errorf("call = %+v", c)
	}

	cli, err := rdssdk.NewClient(&openapi.Config{
		Credential: prov,
		Endpoint:   tea.String(rsrv.Endpoint()),
		Protocol:   tea.String("http"),
		RegionId:   tea.String("cn-hangzhou"),
	})
	noErr(t, err)
	_, err = cli.DescribeDBInstanceAttribute(&rdssdk.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String("rm-a1")})
	noErr(t, err)
}

func TestCredentialsGoRoleProviderRefused(t *testing.T) {
	e := newEnv(t)
	trustServer(t, e.srv)
	for _, tc := range []struct{ arn, ext, code string }{
		{backupArn, "ext-wrong", "NoPermission"},
		{"acs:ram::" + memberA + ":role/nosuch", "ext-123", "EntityNotExist.Role"},
	} {
		_, err := roleProvider(t, e.srv, e.caller, tc.arn, tc.ext).GetCredential()
		// credentials-go returns the answer's body in a plain error.
		if err == nil || !strings.Contains(err.Error(), `"Code":"`+tc.code+`"`) {
			t.Errorf("%s: err = %v, want the body with Code %s", tc.arn, err, tc.code)
		}
	}
}

// withAccountOrDefault sets AccountId when rds.Instance has it; without it
// every key sees every instance, which this test does not depend on.
func withAccountOrDefault(in rds.Instance, account string) rds.Instance {
	return setAccountField(in, account)
}

package sts

import (
	"errors"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rdssdk "github.com/alibabacloud-go/rds-20140815/v3/client"
	stssdk "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// Accounts of the tests: the hub (where the backup function runs) and two
// members.
const (
	hub     = "1000000000000001"
	memberA = "2000000000000002"
	memberB = "3000000000000003"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

type env struct {
	srv   *Server
	clock *rds.FakeClock
	store *auth.Store
	// caller is a long-term key of the hub account.
	caller auth.Credential
}

// newEnv starts an STS server on a fake clock with a shared store, a hub
// caller and, in memberA, role "Backup" trusting the hub with ExternalId
// "ext-123" (MaxSessionDuration 7200), and role "plain" of memberA trusting
// memberA only.
func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	clock := rds.NewFakeClock(t0)
	return newEnvClock(t, clock, clock, opts...)
}

func newEnvClock(t *testing.T, fc *rds.FakeClock, clock Clock, opts ...Option) *env {
	t.Helper()
	store := auth.NewStore(fc.Now)
	srv := NewServer(append([]Option{WithClock(clock), WithCredentials(store)}, opts...)...)
	t.Cleanup(srv.Close)
	e := &env{srv: srv, clock: fc, store: store, caller: store.NewAccessKeyFor(hub)}
	mustAddRole(t, srv, Role{AccountID: memberA, Name: "Backup", ExternalID: "ext-123", Trusted: []string{hub}, MaxSessionDuration: 7200})
	mustAddRole(t, srv, Role{AccountID: memberA, Name: "plain"})
	return e
}

func mustAddRole(t *testing.T, s *Server, r Role) {
	t.Helper()
	if err := s.AddRole(r); err != nil {
		t.Fatalf("AddRole(%+v): %v", r, err)
	}
}

// stsClient is the official STS SDK client for cred. By default the SDK
// signs with the v2 RPC signature (its Init sets SignatureAlgorithm "v2");
// acs3 switches the client to ACS3-HMAC-SHA256.
func stsClient(t *testing.T, endpoint string, cred auth.Credential, acs3 bool) *stssdk.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     tea.String(cred.AccessKeyID),
		AccessKeySecret: tea.String(cred.AccessKeySecret),
		Endpoint:        tea.String(endpoint),
		Protocol:        tea.String("http"),
		RegionId:        tea.String("cn-hangzhou"),
	}
	if cred.SecurityToken != "" {
		cfg.SecurityToken = tea.String(cred.SecurityToken)
	}
	cli, err := stssdk.NewClient(cfg)
	if err != nil {
		t.Fatalf("sts.NewClient: %v", err)
	}
	if acs3 {
		cli.SignatureAlgorithm = tea.String(auth.SigACS3)
	}
	return cli
}

func (e *env) cli(t *testing.T) *stssdk.Client {
	return stsClient(t, e.srv.Endpoint(), e.caller, false)
}

// rdsClient is the official RDS SDK client for cred (rds/doc.go).
func rdsClient(t *testing.T, endpoint string, cred auth.Credential) *rdssdk.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     tea.String(cred.AccessKeyID),
		AccessKeySecret: tea.String(cred.AccessKeySecret),
		Endpoint:        tea.String(endpoint),
		Protocol:        tea.String("http"),
		RegionId:        tea.String("cn-hangzhou"),
	}
	if cred.SecurityToken != "" {
		cfg.SecurityToken = tea.String(cred.SecurityToken)
	}
	cli, err := rdssdk.NewClient(cfg)
	if err != nil {
		t.Fatalf("rds.NewClient: %v", err)
	}
	return cli
}

func assume(cli *stssdk.Client, arn, session, extID string, duration int64) (*stssdk.AssumeRoleResponseBody, error) {
	req := &stssdk.AssumeRoleRequest{RoleArn: tea.String(arn), RoleSessionName: tea.String(session)}
	if extID != "" {
		req.ExternalId = tea.String(extID)
	}
	if duration != 0 {
		req.DurationSeconds = tea.Int64(duration)
	}
	resp, err := cli.AssumeRole(req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// credOf is the credential an AssumeRole answer carries.
func credOf(b *stssdk.AssumeRoleResponseBody) auth.Credential {
	return auth.Credential{
		AccessKeyID:     tea.StringValue(b.Credentials.AccessKeyId),
		AccessKeySecret: tea.StringValue(b.Credentials.AccessKeySecret),
		SecurityToken:   tea.StringValue(b.Credentials.SecurityToken),
	}
}

const backupArn = "acs:ram::" + memberA + ":role/backup"

func wantErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want SDKError %d %s", err, err, status, code)
	}
	if got, st := tea.StringValue(se.Code), tea.IntValue(se.StatusCode); got != code || st != status {
		t.Fatalf("SDKError = %d %s, want %d %s\n%v", st, got, status, code, err)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// sdkCode returns the SDKError's code and status; "" for any other error.
func sdkCode(err error) (string, int) {
	var se *tea.SDKError
	if !errors.As(err, &se) {
		return "", 0
	}
	return tea.StringValue(se.Code), tea.IntValue(se.StatusCode)
}

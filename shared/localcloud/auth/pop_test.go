package auth

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// Golden requests: captured from rds-20140815/v3 (darabonba-openapi) with AK
// testAKID, secret testSecretKEY (reference/wire-protocols.md 1.2 (a) and
// (c)). Their signatures were computed by the SDK, not by this package.
const (
	goldenHost     = "127.0.0.1:34369"
	goldenACS3URL  = "http://127.0.0.1:34369/?BackupMethod=Physical&BackupType=FullBackup&DBInstanceId=rm-bp1abc&DBName=db+a%2Cdb%2Ab~"
	goldenACS3Sig  = "e6f87f7b88361a10f2fadaa4d72389029aec2d1b169ce7a62a5dd86d39ecce64"
	goldenACS3Date = "2026-11-24T18:06:57Z"
	goldenV2URL    = "http://127.0.0.1:43773/?AccessKeyId=testAKID&Action=CreateBackup&BackupMethod=Physical&BackupType=FullBackup&DBInstanceId=rm-bp1abc&DBName=db+a%2Cdb%2Ab~&Format=json&SecurityToken=STS.testToken&Signature=Iwb%2BiJumtXU3FqCQX2%2B26Jo0ZiU%3D&SignatureMethod=HMAC-SHA1&SignatureNonce=e3362baa994d77ddb4e5d393176e6047&SignatureVersion=1.0&Timestamp=2026-11-24T18%3A07%3A00Z&Version=2014-08-15"
)

var goldenTime = time.Date(2026, 11, 24, 18, 7, 0, 0, time.UTC)

func goldenACS3(mutate func(r *http.Request)) *http.Request {
	r := httptest.NewRequest(http.MethodPost, goldenACS3URL, nil)
	r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=testAKID,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="+goldenACS3Sig)
	r.Header.Set("x-acs-action", "CreateBackup")
	r.Header.Set("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	r.Header.Set("x-acs-date", goldenACS3Date)
	r.Header.Set("x-acs-signature-nonce", "308ce67072de80da0af93a6c60fdbc0a")
	r.Header.Set("x-acs-version", "2014-08-15")
	if mutate != nil {
		mutate(r)
	}
	return r
}

func wantPOPErr(t *testing.T, e *POPError, code string, status int) {
	t.Helper()
	if e == nil {
		t.Fatalf("Verify() = ok, want %d %s", status, code)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("Verify() = %v, want %d %s", e, status, code)
	}
}

func TestPOPGoldenACS3(t *testing.T) {
	store := NewStore(func() time.Time { return goldenTime })
	store.Add(Credential{AccessKeyID: "testAKID", AccessKeySecret: "testSecretKEY", AccountID: "1111111111111111"})
	v := NewPOPVerifier(store, WithPOPClock(func() time.Time { return goldenTime }))

	req := ParsePOP(goldenACS3(nil), nil)
	if req.Kind != SigACS3 || req.Action != "CreateBackup" || req.Version != "2014-08-15" || req.ClaimedKey != "testAKID" {
		t.Fatalf("ParsePOP = kind %q action %q version %q key %q", req.Kind, req.Action, req.Version, req.ClaimedKey)
	}
	cred, e := v.Verify(req)
	if e != nil {
		t.Fatalf("Verify(golden ACS3) = %v", e)
	}
	if cred.AccessKeyID != "testAKID" || cred.Account() != "1111111111111111" {
		t.Fatalf("credential = %+v", cred)
	}
	// The same request again is a replay.
	_, e = v.Verify(ParsePOP(goldenACS3(nil), nil))
	wantPOPErr(t, e, "SignatureNonceUsed", 400)

	fresh := func() *POPVerifier {
		return NewPOPVerifier(store, WithPOPClock(func() time.Time { return goldenTime }))
	}
	cases := []struct {
		name   string
		mutate func(r *http.Request)
		code   string
		status int
	}{
		{"query changed", func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "rm-bp1abc", "rm-other", 1) }, "SignatureDoesNotMatch", 400},
		{"host changed", func(r *http.Request) { r.Host = "127.0.0.1:1" }, "SignatureDoesNotMatch", 400},
		{"date unsigned", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "x-acs-date;", "", 1))
		}, "IncompleteSignature", 400},
		{"date malformed", func(r *http.Request) { r.Header.Set("x-acs-date", "yesterday") }, "InvalidTimeStamp.Format", 400},
		{"no Signature", func(r *http.Request) {
			r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=testAKID,SignedHeaders=host")
		}, "IncompleteSignature", 400},
		{"SM3", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "HMAC-SHA256", "HMAC-SM3", 1))
		}, "InvalidSignatureMethod", 400},
		{"unknown key", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "testAKID", "LTAInobody", 1))
		}, "InvalidAccessKeyId.NotFound", 404},
		{"stray token", func(r *http.Request) {
			r.Header.Set("x-acs-security-token", "CAISx")
			r.Header.Set("x-acs-accesskey-id", "testAKID")
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "x-acs-action;", "x-acs-accesskey-id;x-acs-action;", 1))
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "x-acs-date;", "x-acs-date;x-acs-security-token;", 1))
		}, "InvalidSecurityToken.Malformed", 400},
		{"accesskey-id header differs", func(r *http.Request) { r.Header.Set("x-acs-accesskey-id", "other") }, "InvalidSecurityToken.MismatchWithAccessKey", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, e := fresh().Verify(ParsePOP(goldenACS3(tc.mutate), nil))
			wantPOPErr(t, e, tc.code, tc.status)
		})
	}
	t.Run("skew", func(t *testing.T) {
		late := NewPOPVerifier(store, WithPOPClock(func() time.Time { return goldenTime.Add(16 * time.Minute) }))
		_, e := late.Verify(ParsePOP(goldenACS3(nil), nil))
		wantPOPErr(t, e, "InvalidTimeStamp.Expired", 400)
	})
	t.Run("body hashed", func(t *testing.T) {
		_, e := fresh().Verify(ParsePOP(goldenACS3(nil), []byte("x")))
		wantPOPErr(t, e, "SignatureDoesNotMatch", 400)
	})
}

func TestPOPGoldenV2(t *testing.T) {
	now := goldenTime
	store := NewStore(func() time.Time { return now })
	store.Add(Credential{AccessKeyID: "testAKID", AccessKeySecret: "testSecretKEY", SecurityToken: "STS.testToken", Expiration: goldenTime.Add(time.Hour), AccountID: "2222222222222222"})
	newV := func() *POPVerifier {
		return NewPOPVerifier(store, WithPOPClock(func() time.Time { return goldenTime }))
	}
	parse := func(mutate func(q string) string) *POPRequest {
		u := goldenV2URL
		if mutate != nil {
			u = mutate(u)
		}
		return ParsePOP(httptest.NewRequest(http.MethodPost, u, nil), nil)
	}

	req := parse(nil)
	if req.Kind != SigV2 || req.Action != "CreateBackup" || req.Version != "2014-08-15" || req.ClaimedKey != "testAKID" {
		t.Fatalf("ParsePOP = kind %q action %q version %q key %q", req.Kind, req.Action, req.Version, req.ClaimedKey)
	}
	cred, e := newV().Verify(req)
	if e != nil {
		t.Fatalf("Verify(golden v2) = %v", e)
	}
	if cred.Account() != "2222222222222222" {
		t.Fatalf("account = %q", cred.Account())
	}

	cases := []struct {
		name   string
		mutate func(string) string
		code   string
		status int
	}{
		{"param changed", func(u string) string { return strings.Replace(u, "Physical", "Logical", 1) }, "SignatureDoesNotMatch", 400},
		{"param added", func(u string) string { return u + "&Extra=1" }, "SignatureDoesNotMatch", 400},
		{"token wrong", func(u string) string { return strings.Replace(u, "STS.testToken", "STS.other", 1) }, "InvalidSecurityToken.Malformed", 400},
		{"token missing", func(u string) string { return strings.Replace(u, "SecurityToken=STS.testToken&", "", 1) }, "MissingSecurityToken", 400},
		{"no nonce", func(u string) string {
			return strings.Replace(u, "SignatureNonce=e3362baa994d77ddb4e5d393176e6047&", "", 1)
		}, "MissingSignatureNonce", 400},
		{"sha256", func(u string) string { return strings.Replace(u, "HMAC-SHA1", "HMAC-SHA256", 1) }, "InvalidSignatureMethod", 400},
		{"version 2.0", func(u string) string { return strings.Replace(u, "SignatureVersion=1.0", "SignatureVersion=2.0", 1) }, "InvalidSignatureVersion", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, e := newV().Verify(parse(tc.mutate))
			wantPOPErr(t, e, tc.code, tc.status)
		})
	}
	t.Run("token expired on the store's clock", func(t *testing.T) {
		now = goldenTime.Add(time.Hour)
		defer func() { now = goldenTime }()
		_, e := newV().Verify(parse(nil))
		wantPOPErr(t, e, "InvalidSecurityToken.Expired", 400)
	})
}

func TestPOPNoSignature(t *testing.T) {
	v := NewPOPVerifier(NewStore(nil))
	r := httptest.NewRequest(http.MethodPost, "http://h/?Action=AssumeRole", nil)
	_, e := v.Verify(ParsePOP(r, nil))
	wantPOPErr(t, e, "MissingAuthorization", 400)
	r.Header.Set("Authorization", "Bearer x")
	_, e = v.Verify(ParsePOP(r, nil))
	wantPOPErr(t, e, "IncompleteSignature", 400)
}

// TestPOPThroughSDK sends requests with the official SDK core (both
// signatures, long-term and STS keys, query and form body) to a server that
// answers with Verify's verdict.
func TestPOPThroughSDK(t *testing.T) {
	store := NewStore(nil)
	v := NewPOPVerifier(store)
	type seen struct {
		kind, action, version, account string
		params                         map[string]string
	}
	var last seen
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := ParsePOP(r, body)
		cred, e := v.Verify(req)
		w.Header().Set("Content-Type", "application/json")
		if e != nil {
			w.WriteHeader(e.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"RequestId": "R", "Code": e.Code, "Message": e.Message})
			return
		}
		last = seen{kind: req.Kind, action: req.Action, version: req.Version, account: cred.Account(), params: map[string]string{}}
		for k := range req.Params {
			last.params[k] = req.Params.Get(k)
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"RequestId": "R"})
	}))
	defer ts.Close()
	endpoint := strings.TrimPrefix(ts.URL, "http://")

	long := store.NewAccessKeyFor("3333333333333333")
	sts := store.IssueSTSFor("4444444444444444", time.Hour)
	call := func(cred Credential, alg string, body bool) error {
		cfg := &openapi.Config{
			AccessKeyId: tea.String(cred.AccessKeyID), AccessKeySecret: tea.String(cred.AccessKeySecret),
			Endpoint: tea.String(endpoint), Protocol: tea.String("http"),
		}
		if cred.SecurityToken != "" {
			cfg.SecurityToken = tea.String(cred.SecurityToken)
		}
		if alg != "" {
			cfg.SignatureAlgorithm = tea.String(alg)
		}
		cli, err := openapi.NewClient(cfg)
		if err != nil {
			return err
		}
		params := &openapi.Params{
			Action: tea.String("AssumeRole"), Version: tea.String("2015-04-01"), Protocol: tea.String("HTTPS"),
			Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"),
			Style: tea.String("RPC"), ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
		}
		fields := map[string]any{"RoleArn": "acs:ram::4444444444444444:role/a b*c~", "RoleSessionName": "s-1"}
		req := &openapi.OpenApiRequest{}
		if body {
			req.Body = fields
		} else {
			req.Query = map[string]*string{"RoleArn": tea.String(fields["RoleArn"].(string)), "RoleSessionName": tea.String("s-1")}
		}
		_, err = cli.CallApi(params, req, &util.RuntimeOptions{})
		return err
	}
	for _, tc := range []struct {
		name, alg, kind string
		cred            Credential
		body            bool
		account         string
	}{
		{"ACS3 long-term", "", SigACS3, long, false, "3333333333333333"},
		{"ACS3 STS", "", SigACS3, sts, false, "4444444444444444"},
		{"ACS3 STS form body", "", SigACS3, sts, true, "4444444444444444"},
		{"v2 long-term", "v2", SigV2, long, false, "3333333333333333"},
		{"v2 STS", "v2", SigV2, sts, false, "4444444444444444"},
		{"v2 STS form body", "v2", SigV2, sts, true, "4444444444444444"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := call(tc.cred, tc.alg, tc.body); err != nil {
				t.Fatalf("CallApi: %v", err)
			}
			if last.kind != tc.kind || last.action != "AssumeRole" || last.version != "2015-04-01" || last.account != tc.account {
				t.Fatalf("seen %+v", last)
			}
			if last.params["RoleArn"] != "acs:ram::4444444444444444:role/a b*c~" || last.params["RoleSessionName"] != "s-1" {
				t.Fatalf("params = %v", last.params)
			}
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		bad := long
		bad.AccessKeySecret += "x"
		for _, alg := range []string{"", "v2"} {
			err := call(bad, alg, false)
			var se *tea.SDKError
			if !errors.As(err, &se) || tea.StringValue(se.Code) != "SignatureDoesNotMatch" || tea.IntValue(se.StatusCode) != 400 {
				t.Fatalf("alg %q: err = %v", alg, err)
			}
		}
	})
}

func TestParsePOPV2ActionFromParametersOnly(t *testing.T) {
	// The v2 signature does not cover headers: x-acs-action and
	// x-acs-version are not read for a v2 request (rds/auth.go's rule).
	r := httptest.NewRequest(http.MethodPost, "http://h/?Signature=x&SignatureMethod=HMAC-SHA1", nil)
	r.Header.Set("x-acs-action", "CreateBackup")
	r.Header.Set("x-acs-version", "2014-08-15")
	req := ParsePOP(r, nil)
	if req.Kind != SigV2 || req.Action != "" || req.Version != "" {
		t.Fatalf("ParsePOP = kind %q action %q version %q, want v2 with no action or version", req.Kind, req.Action, req.Version)
	}
	// ACS3 (and unsigned) requests: the headers, else the parameters.
	r = httptest.NewRequest(http.MethodPost, "http://h/?Action=FromQuery&Version=1", nil)
	r.Header.Set("x-acs-action", "FromHeader")
	if req := ParsePOP(r, nil); req.Action != "FromHeader" || req.Version != "1" {
		t.Fatalf("ParsePOP = action %q version %q, want FromHeader 1", req.Action, req.Version)
	}
}

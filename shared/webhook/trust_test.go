package webhook

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// attackerRegion is the SSRF of issue 12: the SDK builds the endpoint host
// rds.<RegionId>.aliyuncs.com, so this RegionId would send the function's
// signed RDS calls, with its STS token, to 127.0.0.1:8443.
const attackerRegion = "x@127.0.0.1:8443/"

// TestRegionsOnlyFromTheDeployment: every place a call can name a region
// (a backup, Defaults, Select, a GitHub deployment's payload, the status
// endpoint's ?RegionId=) is checked against the deployment's regions before
// anything is submitted, read or published. The answer is a 400 naming the
// field and the rule; nothing reaches the Submitter, the JobReader or the
// RejectSink.
func TestRegionsOnlyFromTheDeployment(t *testing.T) {
	post := func(body string) func(*testing.T) events.HTTPEvent {
		return func(*testing.T) events.HTTPEvent {
			return signed("POST", "/v1/backups", body, "ops@acme", opsSecret, nowUnix)
		}
	}
	get := func(region string) func(*testing.T) events.HTTPEvent {
		return func(*testing.T) events.HTTPEvent {
			return signedQuery("GET", "/v1/backups/rm-demo-pg1/1000002", map[string]string{"RegionId": region}, "", "ops@acme", opsSecret, nowUnix)
		}
	}
	payload := func(rdsBackup map[string]any) func(*testing.T) events.HTTPEvent {
		return func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", func(p map[string]any) {
				p["deployment"].(map[string]any)["payload"] = map[string]any{"rdsBackup": rdsBackup}
			}, nil)
		}
	}
	tests := []struct {
		name  string
		ev    func(*testing.T) events.HTTPEvent
		code  string
		field string
	}{
		{"a backup's RegionId is a host", post(`{"DBInstanceId":"rm-demo-mysql1","RegionId":"` + attackerRegion + `"}`), backup.CodeRegionFormat, "RegionId"},
		{"Defaults.RegionId is a host", post(`{"Defaults":{"RegionId":"` + attackerRegion + `"},"Backups":[{"DBInstanceId":"rm-demo-mysql1"}]}`), backup.CodeRegionFormat, "Defaults.RegionId"},
		{"Select.RegionId is a host", post(`{"Select":{"RegionId":"` + attackerRegion + `","Engine":"MySQL"}}`), backup.CodeRegionFormat, "Select.RegionId"},
		{"a region with a dot", post(`{"DBInstanceId":"rm-demo-mysql1","RegionId":"cn-hangzhou.evil.example"}`), backup.CodeRegionFormat, "RegionId"},
		{"a region the deployment does not allow", post(`{"DBInstanceId":"rm-demo-mysql1","RegionId":"eu-central-1"}`), backup.CodeRegionNotAllowed, "RegionId"},
		{"Select in a region the deployment does not allow", post(`{"Select":{"RegionId":"us-east-1","Engine":"MySQL"}}`), backup.CodeRegionNotAllowed, "Select.RegionId"},
		{"GitHub payload's RegionId is a host", payload(map[string]any{"DBInstanceId": "rm-hello-world-1", "RegionId": attackerRegion}), backup.CodeRegionFormat, "RegionId"},
		{"GitHub payload's Defaults.RegionId is a host", payload(map[string]any{"Defaults": map[string]any{"RegionId": attackerRegion}, "Backups": []any{map[string]any{"DBInstanceId": "rm-hello-world-1"}}}), backup.CodeRegionFormat, "Defaults.RegionId"},
		{"GitHub payload in a region the deployment does not allow", payload(map[string]any{"DBInstanceId": "rm-hello-world-1", "RegionId": "ap-southeast-1"}), backup.CodeRegionNotAllowed, "RegionId"},
		{"status endpoint ?RegionId= is a host", get(attackerRegion), backup.CodeRegionFormat, "RegionId"},
		{"status endpoint ?RegionId= not allowed", get("eu-central-1"), backup.CodeRegionNotAllowed, "RegionId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev(t)))
			if d.Status != 400 || d.errCode() != tc.code || d.errField() != tc.field {
				t.Fatalf("got %d %s on %q, want 400 %s on %q: %s", d.Status, d.errCode(), d.errField(), tc.code, tc.field, d.Raw)
			}
			if len(hs.sub.Calls()) != 0 || len(hs.jobs.asked) != 0 || len(hs.rej.Requests()) != 0 {
				t.Fatalf("a refused region reached the Submitter (%d), the JobReader (%v) or the RejectSink (%d)",
					len(hs.sub.Calls()), hs.jobs.asked, len(hs.rej.Requests()))
			}
			if strings.Contains(hs.logs.String(), "127.0.0.1:8443") {
				t.Errorf("the log repeats the attacker's host:\n%s", hs.logs.String())
			}
		})
	}
	// The regions the deployment allows still work.
	hs := newHarness(t, testRoutes, nil)
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups",
		`{"Backups":[{"DBInstanceId":"rm-demo-mysql1","RegionId":"cn-shanghai"},{"DBInstanceId":"rm-demo-pg1","RegionId":"cn-hangzhou"},{"DBInstanceId":"rm-demo-x"}]}`,
		"release-bot", botSecret, nowUnix)))
	if d.Status != 202 || len(hs.sub.Calls()) != 1 {
		t.Fatalf("allowed regions: %d %s", d.Status, d.Raw)
	}
}

// TestEntriesNeverEchoTransportDetails: an outcome that failed on the way
// to RDS does not tell the caller hosts, ports or dial errors (a port-scan
// oracle); RDS's own messages are passed on.
func TestEntriesNeverEchoTransportDetails(t *testing.T) {
	tests := []struct {
		err  backup.ErrorInfo
		want string // part of the public message
		not  string
	}{
		{backup.ErrorInfo{Code: "Network", Message: `rdsclient: CreateBackup rm-a: Post "http://10.0.0.7:6379/": dial tcp 10.0.0.7:6379: connect: connection refused`}, "network error", "10.0.0.7"},
		{backup.ErrorInfo{Code: "RetryBudgetExhausted", Message: `retry budget exhausted: 12 attempts; last error Network: rdsclient: CreateBackup rm-a: dial tcp 10.0.0.7:22: i/o timeout`}, "RetryBudgetExhausted", "10.0.0.7"},
		{backup.ErrorInfo{Code: "Configuration", Message: `rdsclient: region "x": not a region id`}, "Configuration", "rdsclient"},
		{backup.ErrorInfo{Code: backup.CodeReadOnly, Message: "The operation is not permitted due to type of the instance."}, "not permitted", ""},
	}
	for _, tc := range tests {
		got := publicMessage(&tc.err)
		if !strings.Contains(got, tc.want) || (tc.not != "" && strings.Contains(got, tc.not)) {
			t.Errorf("%s %q → %q", tc.err.Code, tc.err.Message, got)
		}
	}
}

// TestAllowListSeesOnlyValidIds is the allow-list bypass of issue 12:
// path.Match lets "*" of "rm-demo-*" match a comma, so "rm-demo-x,rm-prod-1"
// passed release-bot's allow-list and reached RDS (DescribeDBInstanceAttribute
// takes comma-separated ids). The id grammar refuses it first, on every
// path an id comes in by: nothing is submitted, read or published.
func TestAllowListSeesOnlyValidIds(t *testing.T) {
	comma := "rm-demo-x,rm-prod-1"
	post := func(body string) func(*testing.T) events.HTTPEvent {
		return func(*testing.T) events.HTTPEvent {
			return signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix)
		}
	}
	get := func(path string) func(*testing.T) events.HTTPEvent {
		return func(*testing.T) events.HTTPEvent { return signed("GET", path, "", "release-bot", botSecret, nowUnix) }
	}
	tests := []struct {
		name  string
		ev    func(*testing.T) events.HTTPEvent
		code  string
		field string
	}{
		{"comma list in a signed POST", post(`{"DBInstanceId":"` + comma + `"}`), backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"comma list among good ones", post(`{"Backups":[{"DBInstanceId":"rm-demo-a"},{"DBInstanceId":"` + comma + `"}]}`), backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"space", post(`{"DBInstanceId":"rm-demo-x rm-prod-1"}`), backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"control character", post(`{"DBInstanceId":"rm-demo-x\u0000"}`), backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"5,000 characters", post(`{"DBInstanceId":"rm-demo-` + strings.Repeat("x", 5000) + `"}`), backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"upper case", post(`{"DBInstanceId":"rm-demo-X"}`), backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"GitHub payload", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", func(p map[string]any) {
				p["deployment"].(map[string]any)["payload"] = map[string]any{"rdsBackup": map[string]any{"DBInstanceId": "rm-hello-world-1,rm-payments"}}
			}, nil)
		}, backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"status endpoint, comma list", get("/v1/backups/" + comma + "/1000001"), backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"status endpoint, escaped comma", get("/v1/backups/rm-demo-x%2Crm-prod-1/1000001"), backup.CodeInstanceIdFormat, "DBInstanceId"},
		{"status endpoint, job id not a number", get("/v1/backups/rm-demo-mysql1/1,2"), backup.CodeParametersInvalid, "BackupJobId"},
		{"status endpoint, unknown query parameter", func(*testing.T) events.HTTPEvent {
			return signedQuery("GET", "/v1/backups/rm-demo-mysql1/1000001", map[string]string{"DBInstanceId": "rm-prod-1"}, "", "release-bot", botSecret, nowUnix)
		}, backup.CodeParametersInvalid, "query"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev(t)))
			if d.Status != 400 || d.errCode() != tc.code || d.errField() != tc.field {
				t.Fatalf("got %d %s on %q, want 400 %s on %q: %s", d.Status, d.errCode(), d.errField(), tc.code, tc.field, d.Raw)
			}
			if len(hs.sub.Calls()) != 0 || len(hs.jobs.asked) != 0 || len(hs.rej.Requests()) != 0 {
				t.Fatal("an invalid id reached the Submitter, the JobReader or the RejectSink")
			}
			if len(d.Raw) > 600 {
				t.Errorf("the answer repeats the whole input (%d bytes)", len(d.Raw))
			}
			for _, line := range strings.Split(hs.logs.String(), "\n") {
				if len(line) > 1500 {
					t.Errorf("a log line of %d bytes: identifiers must be clipped", len(line))
				}
			}
		})
	}
}

// backupsBody is a signed POST body naming n instances id(i).
func backupsBody(n int, id func(i int) string) string {
	var b strings.Builder
	b.WriteString(`{"Backups":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"DBInstanceId":"` + id(i) + `"}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestOneCallIsBounded is the amplification of issue 12: one signed POST
// naming 4,000 allowed ids used to make ~8,000 RDS calls and 4,000 MNS
// messages, one naming 2,000 disallowed ids a 403 plus 2,000 outcome
// messages, one GitHub deployment with 400 DBName variants ~1,600 RDS
// calls. Now a call names at most MaxRequests backups (413, nothing
// submitted, no outcome), and a refused call publishes one outcome.
func TestOneCallIsBounded(t *testing.T) {
	allowedID := func(i int) string { return "rm-demo-" + itoa(int64(i)) }
	deniedID := func(i int) string { return "rm-prod-" + itoa(int64(i)) }
	variants := func(n int) map[string]any {
		list := make([]any, n)
		for i := range list {
			list[i] = map[string]any{"DBInstanceId": "rm-hello-world-1", "DBName": "db" + itoa(int64(i))}
		}
		return map[string]any{"Defaults": map[string]any{"BackupMethod": "Logical"}, "Backups": list}
	}
	post := func(n int, id func(int) string) func(*testing.T) events.HTTPEvent {
		return func(*testing.T) events.HTTPEvent {
			return signed("POST", "/v1/backups", backupsBody(n, id), "release-bot", botSecret, nowUnix)
		}
	}
	tests := []struct {
		name     string
		ev       func(*testing.T) events.HTTPEvent
		status   int
		rejected int // outcomes published
	}{
		{"4,000 allowed ids", post(4000, allowedID), 413, 0},
		{"101 allowed ids", post(101, allowedID), 413, 0},
		{"100 allowed ids", post(100, allowedID), 202, 0},
		{"2,000 disallowed ids", post(2000, deniedID), 413, 0},
		{"60 disallowed ids: one outcome for the call", post(60, deniedID), 403, 1},
		{"GitHub deployment with 400 DBName variants", func(t *testing.T) events.HTTPEvent {
			return ghEvent(t, "github-deployment", func(p map[string]any) {
				p["deployment"].(map[string]any)["payload"] = map[string]any{"rdsBackup": variants(400)}
			}, nil)
		}, 413, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev(t)))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", d.Status, tc.status, d.Raw)
			}
			if tc.status == 413 && (d.errCode() != backup.CodeTooManyBackups || !strings.Contains(d.Raw, "at most 100")) {
				t.Fatalf("413 must name the limit: %.300s", d.Raw)
			}
			submitted := 0
			for _, c := range hs.sub.Calls() {
				submitted += len(c.Reqs)
			}
			if tc.status != 202 && submitted != 0 {
				t.Fatalf("%d requests submitted by a refused call", submitted)
			}
			if tc.status == 202 && submitted != 100 {
				t.Fatalf("%d submitted, want 100", submitted)
			}
			if n := len(hs.rej.Requests()); n != tc.rejected {
				t.Fatalf("%d outcomes published, want %d", n, tc.rejected)
			}
		})
	}
	// The limit is the deployment's.
	hs := newHarness(t, testRoutes, func(c *Config) { c.MaxRequests = 2 })
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", backupsBody(3, allowedID), "release-bot", botSecret, nowUnix)))
	if d.Status != 413 || !strings.Contains(d.Raw, "at most 2") {
		t.Fatalf("MaxRequests 2: %d %s", d.Status, d.Raw)
	}
}

// tooManySubmitter expands a Select past the limit: it answers one
// rejected outcome of code TooManyBackups and runs nothing.
type tooManySubmitter struct{ fakeSubmitter }

func (s *tooManySubmitter) Submit(_ context.Context, trig backup.Trigger, _ []backup.Request, _ backup.Plan) []backup.Outcome {
	return []backup.Outcome{{Status: backup.StatusRejected, Terminal: true, Request: backup.Request{Trigger: trig},
		Error: &backup.ErrorInfo{Code: backup.CodeTooManyBackups, Field: "Select", Message: "Select: 4000 backups in one call, at most 100"}}}
}

func TestSelectExpansionPastTheLimitIs413(t *testing.T) {
	routes, err := LoadRoutes([]byte(testRoutes))
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{Routes: routes, Secrets: testSecrets, Now: func() time.Time { return testNow },
		Logger: slog.New(slog.DiscardHandler)}, &tooManySubmitter{}, nil, nil)
	d := checkResponse(t, h.Handle(context.Background(), signed("POST", "/v1/backups", `{"Select":{"Engine":"MySQL"}}`, "ops@acme", opsSecret, nowUnix)))
	if d.Status != 413 || d.errCode() != backup.CodeTooManyBackups || d.errField() != "Select" {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
}

// TestEnumerationGetsIdenticalAnswers is the oracle of issue 12: a known
// X-Caller used to get "X-Timestamp is required", an unknown one "invalid
// signature". Now every answer that depends on the caller is the same for
// a caller that exists and one that does not.
func TestEnumerationGetsIdenticalAnswers(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	answer := func(caller string, mod func(*events.HTTPEvent)) string {
		ev := signed("POST", "/v1/backups", okBody, caller, "guessed-secret", nowUnix)
		if mod != nil {
			mod(&ev)
		}
		d := checkResponse(t, hs.h.Handle(context.Background(), ev))
		if d.Status != 401 {
			t.Fatalf("%s: %d %s", caller, d.Status, d.Raw)
		}
		return d.Raw
	}
	for name, mod := range map[string]func(*events.HTTPEvent){
		"wrong signature":   nil,
		"no timestamp":      func(e *events.HTTPEvent) { delete(e.Headers, HeaderTimestamp) },
		"stale timestamp":   func(e *events.HTTPEvent) { e.Headers[HeaderTimestamp] = itoa(nowUnix - 3600) },
		"no signature":      func(e *events.HTTPEvent) { delete(e.Headers, HeaderSignature) },
		"old form":          func(e *events.HTTPEvent) { e.Headers[HeaderSignature] = "sha256=" + strings.Repeat("ab", 32) },
		"malformed":         func(e *events.HTTPEvent) { e.Headers[HeaderSignature] = "v1=zz" },
		"wrong method path": func(e *events.HTTPEvent) { e.RawPath = "/v1/backups/" },
	} {
		known, unknown := answer("release-bot", mod), answer("mallory", mod)
		if known != unknown {
			t.Errorf("%s: a known caller gets %s, an unknown one %s", name, known, unknown)
		}
	}
}

// TestSecretRotation: a route may hold two secrets while one is rotated
// out; either verifies, a third does not, and once the previous secret is
// removed it no longer verifies.
func TestSecretRotation(t *testing.T) {
	routes := `[{"name":"bot","source":"signed","secretEnv":"NEW","previousSecretEnv":"OLD","allow":["*"]},
 {"name":"gh","source":"github","repository":"Codertocat/Hello-World","environments":["*"],"secretEnv":"GH_NEW","previousSecretEnv":"GH_SECRET","backups":[{"DBInstanceId":"rm-hello-world-1"}]}]`
	secrets := map[string]string{"NEW": "new-secret", "OLD": "old-secret", "GH_NEW": "new-gh-secret", "GH_SECRET": ghSecret}
	hs := newHarness(t, routes, func(c *Config) { c.Secrets = secrets })
	for secret, want := range map[string]int{"new-secret": 202, "old-secret": 202, "other-secret": 401} {
		d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", `{"DBInstanceId":"rm-x1"}`, "bot", secret, nowUnix)))
		if d.Status != want {
			t.Errorf("signed with %s: %d, want %d", secret, d.Status, want)
		}
	}
	// GitHub still signs with the previous secret (the fixture's).
	if d := checkResponse(t, hs.h.Handle(context.Background(), hookEvent(t, "/v1/hooks/github", "github-deployment", nil))); d.Status != 202 {
		t.Errorf("GitHub with the previous secret: %d %s", d.Status, d.Raw)
	}
	// Rotation done: the previous secret is removed.
	done := strings.ReplaceAll(routes, `"previousSecretEnv":"OLD",`, "")
	hs = newHarness(t, done, func(c *Config) { c.Secrets = secrets })
	if d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", `{"DBInstanceId":"rm-x1"}`, "bot", "old-secret", nowUnix))); d.Status != 401 {
		t.Errorf("the retired secret still verifies: %d", d.Status)
	}
}

// TestIdempotencyKeyBoundToTheBody: the same Idempotency-Key with another
// body used to be a second ask (a second backup); now it is a 409 and
// nothing is submitted. The same key for the same backups is the same ask.
func TestIdempotencyKeyBoundToTheBody(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	send := func(caller, secret, body string, ts int64) decoded {
		ev := withKey(signed("POST", "/v1/backups", body, caller, secret, ts), "deploy-42", secret, ts)
		return checkResponse(t, hs.h.Handle(context.Background(), ev))
	}
	if d := send("release-bot", botSecret, `{"DBInstanceId":"rm-demo-mysql1"}`, nowUnix); d.Status != 202 {
		t.Fatalf("first: %d %s", d.Status, d.Raw)
	}
	if d := send("release-bot", botSecret, `{"DBInstanceId":"rm-demo-mysql1"}`, nowUnix-30); d.Status != 202 {
		t.Fatalf("a retry of the same ask: %d %s", d.Status, d.Raw)
	}
	// The same backups, written otherwise and with an AskedAt (a pipeline
	// step run again with its CI run's key): the same ask.
	if d := send("release-bot", botSecret, `{ "Backups": [ {"DBInstanceId":"rm-demo-mysql1"} ], "AskedAt":"2026-11-24T06:00:00Z"}`, nowUnix); d.Status != 202 {
		t.Fatalf("the same backups with AskedAt: %d %s", d.Status, d.Raw)
	}
	d := send("release-bot", botSecret, `{"DBInstanceId":"rm-demo-pg1"}`, nowUnix)
	if d.Status != 409 || d.errCode() != CodeKeyReused || d.errField() != HeaderIdempotencyKey {
		t.Fatalf("same key, another body: %d %s", d.Status, d.Raw)
	}
	if n := len(hs.sub.Calls()); n != 3 {
		t.Fatalf("%d submissions, want 3 (the 409 submits nothing)", n)
	}
	// Keys are the caller's own: another caller may use the same one.
	if d := send("ops@acme", opsSecret, `{"DBInstanceId":"rm-demo-pg1"}`, nowUnix); d.Status != 202 {
		t.Fatalf("another caller, same key: %d %s", d.Status, d.Raw)
	}
	// A call refused before submission (here 400) does not take the key.
	if d := send("ops@acme", opsSecret, `{"DBInstanceId":"rm-demo-pg1","BackupMethod":"Incremental"}`, nowUnix); d.Status != 400 {
		t.Fatalf("bad body: %d", d.Status)
	}
}

func TestIdemCacheForgetsTheOldestFirst(t *testing.T) {
	c, rt := newIdemCache(2), &route{}
	if !c.claim(rt, "a", []byte("1")) || !c.claim(rt, "b", []byte("2")) || c.claim(rt, "a", []byte("other")) {
		t.Fatal("a key with another body must be refused")
	}
	c.claim(rt, "c", []byte("3")) // forgets a
	if !c.claim(rt, "a", []byte("other")) || c.claim(rt, "c", []byte("other")) {
		t.Fatal("the oldest key is forgotten first")
	}
}

func TestParseSignatureV1(t *testing.T) {
	hex64 := strings.Repeat("0f", 32)
	tests := []struct {
		in  string
		err error
	}{
		{"v1=" + hex64, nil},
		{"  v1=" + strings.ToUpper(hex64) + " ", nil},
		{"sha256=" + hex64, ErrSignatureOldForm},
		{"SHA256=" + hex64, ErrSignatureOldForm},
		{hex64, ErrSignatureMalformed},
		{"v1=" + hex64[:62], ErrSignatureMalformed},
		{"v1=" + hex64 + "00", ErrSignatureMalformed},
		{"v1=" + strings.Repeat("zz", 32), ErrSignatureMalformed},
		{"v2=" + hex64, ErrSignatureMalformed},
		{"v1=" + hex64 + ",v1=" + hex64, ErrSignatureMalformed},
		{"", ErrSignatureMalformed},
	}
	for _, tc := range tests {
		b, err := ParseSignatureV1(tc.in)
		if err != tc.err || (err == nil && len(b) != 32) {
			t.Errorf("ParseSignatureV1(%q) = %x, %v; want %v", tc.in, b, err, tc.err)
		}
	}
}

// TestCanonicalV1 pins the string the signature covers (DESIGN.md §5).
func TestCanonicalV1(t *testing.T) {
	got := CanonicalV1("1795500000", "get", "/v1/backups/rm-1/42", url.Values{"RegionId": {"cn-shanghai"}, "A": {"x y"}}, nil, "")
	want := "1795500000\nGET\n/v1/backups/rm-1/42\nA=x+y&RegionId=cn-shanghai\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
	if got != want {
		t.Fatalf("canonical\n%q\nwant\n%q", got, want)
	}
	got = CanonicalV1("1795500000", "POST", "/v1/backups", nil, []byte("{}"), "deploy-42")
	want = "1795500000\nPOST\n/v1/backups\n\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\ndeploy-42"
	if got != want {
		t.Fatalf("canonical with a key\n%q\nwant\n%q", got, want)
	}
}

// TestSecretsAreBoundToTheirRoutes is issue 12's identity from the body:
// routes are chosen by the repository the body names, so two routes of
// different repositories sharing one secret variable let whoever holds
// repo A's secret sign deliveries claiming repo B. Such a configuration is
// refused at start, unless the routes name one organization (an
// organization-level hook, whose secret only the organization holds).
func TestSecretsAreBoundToTheirRoutes(t *testing.T) {
	gh := func(name, repo, env, org string) string {
		o := ""
		if org != "" {
			o = `,"organization":"` + org + `"`
		}
		return `{"name":"` + name + `","source":"github","repository":"` + repo + `"` + o + `,"environments":["*"],"secretEnv":"` + env + `","backups":[{"DBInstanceId":"rm-` + name + `"}]}`
	}
	tests := []struct {
		name, routes, want string // want: part of the start-up error, "" for none
	}{
		{"two repositories, one secret", `[` + gh("a", "acme/a", "S", "") + `,` + gh("b", "acme/b", "S", "") + `]`, "routes[1] (b): secret variable S is also used by routes[0] (a)"},
		{"two repositories, one organization hook", `[` + gh("a", "acme/a", "S", "acme") + `,` + gh("b", "acme/b", "S", "acme") + `]`, ""},
		{"only one names the organization", `[` + gh("a", "acme/a", "S", "acme") + `,` + gh("b", "acme/b", "S", "") + `]`, "may not share a secret"},
		{"two organizations", `[` + gh("a", "acme/a", "S", "acme") + `,` + gh("b", "other/b", "S", "other") + `]`, "may not share a secret"},
		{"a repository outside its organization", `[` + gh("a", "other/a", "S", "acme") + `]`, `repository "other/a" is not in organization "acme"`},
		{"one repository, two environments", `[` + gh("a", "acme/a", "S", "") + `,` + gh("b", "ACME/A", "S", "") + `]`, ""},
		{"github and gitlab share a secret", `[` + gh("a", "acme/a", "S", "") + `,{"name":"g","source":"gitlab","repository":"acme/a","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-g"}]}]`, "a github route and a gitlab route may not share a secret"},
		{"two signed callers share a secret", `[{"name":"x","source":"signed","secretEnv":"S","allow":["*"]},{"name":"y","source":"signed","secretEnv":"S","allow":["*"]}]`, "each signed caller has a secret of its own"},
		{"a signed caller and a github route", `[{"name":"x","source":"signed","secretEnv":"S","allow":["*"]},` + gh("a", "acme/a", "S", "") + `]`, "may not share a secret"},
		{"a previous secret shared across repositories", `[` + gh("a", "acme/a", "A", "") + `,` + strings.Replace(gh("b", "acme/b", "B", ""), `"secretEnv":"B"`, `"secretEnv":"B","previousSecretEnv":"A"`, 1) + `]`, "secret variable A is also used"},
		{"a signed route with an organization", `[{"name":"x","source":"signed","organization":"acme","secretEnv":"S","allow":["*"]}]`, "a signed caller has a secret of its own"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRoutes([]byte(tc.routes))
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// With a secret per repository, repo A's secret does not sign for repo B:
// the body's repository picks the candidate routes, and only their own
// secrets are tried.
func TestOneRepositorysSecretDoesNotSignForAnother(t *testing.T) {
	routes := `[{"name":"a","source":"github","repository":"acme/a","environments":["*"],"secretEnv":"A","backups":[{"DBInstanceId":"rm-a"}]},
 {"name":"b","source":"github","repository":"acme/b","environments":["*"],"secretEnv":"B","backups":[{"DBInstanceId":"rm-b"}]}]`
	hs := newHarness(t, routes, func(c *Config) { c.Secrets = map[string]string{"A": "secret-of-a", "B": "secret-of-b"} })
	ev := ghEvent(t, "github-deployment", func(p map[string]any) {
		p["repository"].(map[string]any)["full_name"] = "acme/b"
	}, nil)
	var payload = []byte(ev.Body)
	m := hmacSHA256([]byte("secret-of-a"), payload)
	ev.Headers["X-Hub-Signature-256"] = "sha256=" + m
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 401 || len(hs.sub.Calls()) != 0 {
		t.Fatalf("repo A's secret signing a delivery that claims repo B: %d %s", d.Status, d.Raw)
	}
	ev.Headers["X-Hub-Signature-256"] = "sha256=" + hmacSHA256([]byte("secret-of-b"), payload)
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 202 {
		t.Fatalf("repo B's own secret: %d %s", d.Status, d.Raw)
	}
}

func hmacSHA256(key, body []byte) string {
	return hex.EncodeToString(bodyMAC(key, body))
}

package webhook

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

const okBody = `{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Physical"}`

// TestStatusCodes has one case (at least) per status code of the API.
func TestStatusCodes(t *testing.T) {
	big := `{"DBInstanceId":"rm-demo-mysql1","DBName":"` + strings.Repeat("a", 2000) + `"}`
	tests := []struct {
		name   string
		ev     events.HTTPEvent
		status int
		code   string
		allow  string // expected Allow header
	}{
		{"200 healthz", httpEvent("GET", "/healthz", "", nil), 200, "", ""},
		{"200 job status", signed("GET", "/v1/backups/rm-demo-mysql1/1000001", "", "release-bot", botSecret, nowUnix), 200, "", ""},
		{"202 signed request", signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix), 202, "", ""},
		{"400 malformed JSON", signed("POST", "/v1/backups", `{"DBInstanceId":`, "release-bot", botSecret, nowUnix), 400, backup.CodeMalformed, ""},
		{"400 unknown field", signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-mysql1","Method":"Logical"}`, "release-bot", botSecret, nowUnix), 400, backup.CodeParametersInvalid, ""},
		{"400 rule broken", signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Incremental"}`, "release-bot", botSecret, nowUnix), 400, backup.CodeInvalidMethod, ""},
		{"400 empty body", signed("POST", "/v1/backups", ``, "release-bot", botSecret, nowUnix), 400, backup.CodeMalformed, ""},
		{"401 wrong signature", signed("POST", "/v1/backups", okBody, "release-bot", "not-the-secret", nowUnix), 401, CodeUnauthorized, ""},
		{"403 instance not allowed", signed("POST", "/v1/backups", `{"DBInstanceId":"rm-prod-payments"}`, "release-bot", botSecret, nowUnix), 403, CodeNotAllowed, ""},
		{"404 unknown path", httpEvent("GET", "/v1/nothing", "", nil), 404, CodeNotFound, ""},
		{"404 root", httpEvent("GET", "/", "", nil), 404, CodeNotFound, ""},
		{"404 unknown job", signed("GET", "/v1/backups/rm-demo-mysql1/999", "", "release-bot", botSecret, nowUnix), 404, CodeJobNotFound, ""},
		{"405 GET /v1/backups", httpEvent("GET", "/v1/backups", "", nil), 405, CodeMethodNotAllowed, "POST"},
		{"405 POST job", httpEvent("POST", "/v1/backups/rm-1/2", "", nil), 405, CodeMethodNotAllowed, "GET"},
		{"405 GET github hook", httpEvent("GET", "/v1/hooks/github", "", nil), 405, CodeMethodNotAllowed, "POST"},
		{"405 DELETE healthz", httpEvent("DELETE", "/healthz", "", nil), 405, CodeMethodNotAllowed, "GET"},
		{"413 body over MaxBody", signed("POST", "/v1/backups", big, "release-bot", botSecret, nowUnix), 413, CodePayloadTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, func(c *Config) { c.MaxBody = 1024 })
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", d.Status, tc.status, d.Raw)
			}
			if d.errCode() != tc.code {
				t.Fatalf("error code %q, want %q: %s", d.errCode(), tc.code, d.Raw)
			}
			if tc.allow != "" && d.Headers["Allow"] != tc.allow {
				t.Fatalf("Allow = %q, want %q", d.Headers["Allow"], tc.allow)
			}
			if tc.status != 202 && len(hs.sub.Calls()) != 0 {
				t.Fatal("nothing may be submitted unless the answer is 202")
			}
		})
	}
}

func TestStatus501And502(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	hs.h.jobs = nil
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("GET", "/v1/backups/rm-demo-mysql1/1", "", "release-bot", botSecret, nowUnix)))
	if d.Status != 501 || d.errCode() != CodeNotConfigured {
		t.Fatalf("no JobReader: %d %s", d.Status, d.Raw)
	}
	hs = newHarness(t, testRoutes, nil)
	hs.jobs.err = errRDS
	d = checkResponse(t, hs.h.Handle(context.Background(), signed("GET", "/v1/backups/rm-demo-mysql1/1", "", "release-bot", botSecret, nowUnix)))
	if d.Status != 502 || d.errCode() != CodeJobStatus || strings.Contains(d.Raw, "ServiceUnavailable") {
		t.Fatalf("JobReader error: %d %s (the upstream error stays in the log)", d.Status, d.Raw)
	}
}

func TestSignedAccepted(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	body := `{"Defaults":{"BackupMethod":"Logical"},"Backups":[{"DBInstanceId":"rm-demo-mysql1","BackupStrategy":"db","DBName":"orders"},{"DBInstanceId":"rm-busy"},{"DBInstanceId":"rm-bad"}]}`
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix)))
	if d.Status != 202 {
		t.Fatalf("status %d: %s", d.Status, d.Raw)
	}
	calls := hs.sub.Calls()
	if len(calls) != 1 || len(calls[0].Reqs) != 3 {
		t.Fatalf("submitted %+v", calls)
	}
	r := calls[0].Reqs[0]
	if r.Trigger.Kind != "signed" || r.Trigger.Source != "release-bot" || !strings.HasPrefix(r.Trigger.DeliveryId, "req-1795500000-") {
		t.Fatalf("trigger %+v", r.Trigger)
	}
	if r.BackupMethod != "Logical" || r.BackupStrategy != "db" || r.DBName[0] != "orders" || r.CorrelationId != r.IdempotencyKey[:16] {
		t.Fatalf("request %+v", r)
	}
	want := []struct{ status, job, code string }{{"accepted", "job-rm-demo-mysql1", ""}, {"coalesced", "job-existing", ""}, {"rejected", "", backup.CodeReadOnly}}
	es := d.entries()
	if len(es) != 3 {
		t.Fatalf("entries %v", es)
	}
	for i, w := range want {
		e := es[i]
		errObj, _ := e["error"].(map[string]any)
		code, _ := errObj["code"].(string)
		job, _ := e["BackupJobId"].(string)
		if e["status"] != w.status || job != w.job || code != w.code || e["correlationId"] != calls[0].Reqs[i].CorrelationId || e["DBInstanceId"] != calls[0].Reqs[i].DBInstanceId {
			t.Errorf("entry %d = %v, want %+v", i, e, w)
		}
	}
}

func TestSignedAuth(t *testing.T) {
	body := okBody
	good := func() events.HTTPEvent { return signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix) }
	with := func(ev events.HTTPEvent, k, v string) events.HTTPEvent {
		h := map[string]string{}
		for kk, vv := range ev.Headers {
			h[kk] = vv
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		ev.Headers = h
		return ev
	}
	lower := good()
	lower.Headers = map[string]string{}
	for k, v := range good().Headers {
		lower.Headers[strings.ToLower(k)] = v
	}
	b64 := signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix)
	b64.Body, b64.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
	v1 := SignV1(botSecret, nowUnix, "POST", "/v1/backups", nil, []byte(body))
	// The forms signature v1 replaced, each correct for its own rule.
	tsDotBody := "sha256=" + hex.EncodeToString(bodyMAC([]byte(botSecret), []byte(itoa(nowUnix)+"."+body)))
	bodyOnly := "sha256=" + hex.EncodeToString(bodyMAC([]byte(botSecret), []byte(body)))
	edit := func(f func(*events.HTTPEvent)) events.HTTPEvent { e := good(); f(&e); return e }

	tests := []struct {
		name   string
		ev     events.HTTPEvent
		status int
		msg    string // part of the error message, when it says more than the default
	}{
		{"right signature", good(), 202, ""},
		{"lower-case header names", lower, 202, ""},
		{"base64 body, MAC over the raw bytes", b64, 202, ""},
		{"upper-case hex", with(good(), HeaderSignature, "v1="+strings.ToUpper(strings.TrimPrefix(v1, "v1="))), 202, ""},
		{"timestamp at the edge of the window", signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix-300), 202, ""},
		{"wrong secret", signed("POST", "/v1/backups", body, "release-bot", opsSecret, nowUnix), 401, "missing or invalid signature"},
		{"missing signature", with(good(), HeaderSignature, ""), 401, "X-Signature-256 is required"},
		{"old form: sha256= over <ts>.<body>", with(good(), HeaderSignature, tsDotBody), 401, "old form"},
		{"old form: sha256= over the body alone (replayable forever)", with(good(), HeaderSignature, bodyOnly), 401, "old form"},
		{"v1 hex without the prefix", with(good(), HeaderSignature, strings.TrimPrefix(v1, "v1=")), 401, "v1=<64 hex digits>"},
		{"signature not hex", with(good(), HeaderSignature, "v1="+strings.Repeat("z", 64)), 401, "v1=<64 hex digits>"},
		{"signature truncated", with(good(), HeaderSignature, v1[:40]), 401, "v1=<64 hex digits>"},
		{"body tampered", edit(func(e *events.HTTPEvent) { e.Body = strings.Replace(body, "Physical", "Logical", 1) }), 401, "missing or invalid signature"},
		{"signed for another path", edit(func(e *events.HTTPEvent) { e.RawPath, e.RequestContext.HTTP.Path = "/v1/backups/", "/v1/backups/" }), 401, "missing or invalid signature"},
		{"a query added after signing", edit(func(e *events.HTTPEvent) { e.QueryParameters["RegionId"] = "cn-shanghai" }), 401, "missing or invalid signature"},
		{"signed as GET, sent as POST", with(good(), HeaderSignature, SignV1(botSecret, nowUnix, "GET", "/v1/backups", nil, []byte(body))), 401, "missing or invalid signature"},
		{"missing timestamp", with(good(), HeaderTimestamp, ""), 401, "X-Timestamp is required"},
		{"timestamp not a number", with(good(), HeaderTimestamp, "2026-11-24T06:41:11Z"), 401, "unix seconds"},
		{"timestamp with a plus sign", with(good(), HeaderTimestamp, "+1795500000"), 401, "unix seconds"},
		{"stale timestamp", signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix-301), 401, "outside the 5m0s replay window"},
		{"future timestamp", signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix+301), 401, "replay window"},
		{"captured request replayed with a fresh timestamp", with(signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix-3600), HeaderTimestamp, itoa(nowUnix)), 401, "missing or invalid signature"},
		{"unknown caller", signed("POST", "/v1/backups", body, "mallory", botSecret, nowUnix), 401, "missing or invalid signature"},
		{"no caller with several signed routes", signed("POST", "/v1/backups", body, "", botSecret, nowUnix), 401, "X-Caller is required"},
		{"caller by repository (caller id)", signed("POST", "/v1/backups", body, "ops@acme", opsSecret, nowUnix), 202, ""},
		{"caller by name is not its caller id", signed("POST", "/v1/backups", body, "ops", opsSecret, nowUnix), 401, ""},
		{"another caller's secret", signed("POST", "/v1/backups", body, "ops@acme", botSecret, nowUnix), 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", d.Status, tc.status, d.Raw)
			}
			if tc.msg != "" && !strings.Contains(d.Raw, tc.msg) {
				t.Fatalf("body %s does not say %q", d.Raw, tc.msg)
			}
			if tc.status == 401 && (len(hs.sub.Calls()) != 0 || len(hs.rej.Requests()) != 0) {
				t.Fatal("an unauthenticated request must submit nothing and publish no outcome")
			}
		})
	}
}

func TestCallerResolution(t *testing.T) {
	one := `[{"name":"only","source":"signed","secretEnv":"BOT_SECRET","allow":["*"]}]`
	tests := []struct {
		name   string
		routes string
		shared string
		caller string
		secret string
		status int
		source string
	}{
		{"single signed route: X-Caller optional", one, "", "", botSecret, 202, "only"},
		{"single signed route: named", one, "", "only", botSecret, 202, "only"},
		{"SignedSecret: no X-Caller is the default caller", one, defaultSecret, "", defaultSecret, 202, DefaultCaller},
		{"SignedSecret: X-Caller default", one, defaultSecret, "default", defaultSecret, 202, DefaultCaller},
		{"SignedSecret: route secret without X-Caller is refused", one, defaultSecret, "", botSecret, 401, ""},
		{"no routes, SignedSecret only", ``, defaultSecret, "", defaultSecret, 202, DefaultCaller},
		{"no routes, no SignedSecret", ``, "", "", defaultSecret, 401, ""},
		{"route secret missing from Secrets", `[{"name":"nosecret","source":"signed","secretEnv":"UNSET","allow":["*"]}]`, "", "", "", 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, tc.routes, func(c *Config) { c.SignedSecret = tc.shared })
			d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", `{"DBInstanceId":"rm-any"}`, tc.caller, tc.secret, nowUnix)))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", d.Status, tc.status, d.Raw)
			}
			if tc.status == 202 {
				if got := hs.sub.Calls()[0].Reqs[0].Trigger.Source; got != tc.source {
					t.Fatalf("source %q, want %q", got, tc.source)
				}
			}
		})
	}
}

func TestSignedAllowlist(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	body := `{"Backups":[{"DBInstanceId":"rm-demo-mysql1"},{"DBInstanceId":"rm-prod-payments"},{"DBInstanceId":"rm-prod-ledger","BackupMethod":"Snapshot"}]}`
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix)))
	if d.Status != 403 || d.errCode() != CodeNotAllowed || d.errField() != "DBInstanceId" {
		t.Fatalf("status %d: %s", d.Status, d.Raw)
	}
	if len(hs.sub.Calls()) != 0 {
		t.Fatal("nothing is submitted when any request is refused")
	}
	rej := hs.rej.Requests()
	if len(rej) != 1 || rej[0].DBInstanceId != "rm-prod-payments" || !strings.Contains(hs.rej.errs[0].Message, "2 of the requested instances") {
		t.Fatalf("RejectSink got %+v, want one rejected outcome for the call, naming the first refused instance", rej)
	}
	if rej[0].Trigger.Kind != "signed" || rej[0].IdempotencyKey == "" || rej[0].CorrelationId == "" {
		t.Fatalf("rejected request lacks its trigger or ids: %+v", rej[0])
	}
	if hs.rej.errs[0].Code != CodeNotAllowed || hs.rej.errs[0].Field != "DBInstanceId" {
		t.Fatalf("error %+v", hs.rej.errs[0])
	}
	es := d.entries()
	if len(es) != 2 || es[0]["status"] != "rejected" || es[0]["correlationId"] != rej[0].CorrelationId || es[1]["DBInstanceId"] != "rm-prod-ledger" {
		t.Fatalf("403 entries %v", es)
	}
}

func TestSelectNeedsAllowAll(t *testing.T) {
	body := `{"Defaults":{"BackupMethod":"Physical"},"Select":{"Engine":"MySQL","Tags":{"env":"prod"}}}`
	hs := newHarness(t, testRoutes, nil)
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix)))
	if d.Status != 403 || d.errField() != "Select" {
		t.Fatalf("release-bot may not select: %d %s", d.Status, d.Raw)
	}
	d = checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", body, "ops@acme", opsSecret, nowUnix)))
	if d.Status != 202 {
		t.Fatalf("ops (allow *) may select: %d %s", d.Status, d.Raw)
	}
	calls := hs.sub.Calls()
	if len(calls) != 1 || calls[0].Plan.Select == nil || calls[0].Plan.Select.Engine != "MySQL" || len(calls[0].Reqs) != 0 {
		t.Fatalf("the plan goes to the Submitter for expansion: %+v", calls)
	}
}

func TestSignedIdempotency(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	send := func(ts int64, key string) backup.Request {
		ev := signed("POST", "/v1/backups", okBody, "release-bot", botSecret, ts)
		if key != "" {
			ev = withKey(ev, key, botSecret, ts)
		}
		d := checkResponse(t, hs.h.Handle(context.Background(), ev))
		if d.Status != 202 {
			t.Fatalf("status %d: %s", d.Status, d.Raw)
		}
		calls := hs.sub.Calls()
		return calls[len(calls)-1].Reqs[0]
	}
	a, b, c := send(nowUnix, ""), send(nowUnix, ""), send(nowUnix-10, "")
	if a.IdempotencyKey != b.IdempotencyKey {
		t.Fatal("the same signed request (a retry or a replay) must have the same key")
	}
	if a.IdempotencyKey == c.IdempotencyKey {
		t.Fatal("a new signed request is a new ask")
	}
	k1, k2 := send(nowUnix, "deploy-42"), send(nowUnix-10, "deploy-42")
	if k1.IdempotencyKey != k2.IdempotencyKey || k1.Trigger.DeliveryId != "deploy-42" {
		t.Fatalf("Idempotency-Key sets the key: %+v %+v", k1, k2)
	}

	ev := signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix)
	ev = withKey(ev, strings.Repeat("k", 201), botSecret, nowUnix)
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 400 || d.errField() != HeaderIdempotencyKey {
		t.Fatalf("over-long key: %d %s", d.Status, d.Raw)
	}
}

func TestSignedBadRequests(t *testing.T) {
	tests := []struct {
		name, body, field, code string
	}{
		{"unknown field named", `{"DBInstanceId":"rm-demo-mysql1","Region":"cn-hangzhou"}`, "Region", backup.CodeParametersInvalid},
		{"bad DBName", `{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"Orders"}`, "DBName", backup.CodeInvalidDBNameFormat},
		{"missing instance", `{"BackupMethod":"Physical"}`, "DBInstanceId", backup.CodeRequiredParam},
		{"array", `[{"DBInstanceId":"rm-demo-mysql1"}]`, "body", backup.CodeMalformed},
		{"one bad among good", `{"Backups":[{"DBInstanceId":"rm-demo-mysql1"},{"DBInstanceId":"rm-demo-pg1","BackupType":"Incremental"}]}`, "BackupType", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", tc.body, "release-bot", botSecret, nowUnix)))
			if d.Status != 400 || d.errField() != tc.field || (tc.code != "" && d.errCode() != tc.code) {
				t.Fatalf("got %d %s on %q, want 400 %s on %q: %s", d.Status, d.errCode(), d.errField(), tc.code, tc.field, d.Raw)
			}
			if len(hs.sub.Calls()) != 0 || len(hs.rej.Requests()) != 0 {
				t.Fatal("a 400 submits nothing and publishes nothing")
			}
		})
	}
}

func TestBadBase64Body(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	ev := signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix)
	ev.Body, ev.IsBase64Encoded = "%%%%", true
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 400 || d.errField() != "body" {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	// A base64 body is measured after decoding.
	hs = newHarness(t, testRoutes, func(c *Config) { c.MaxBody = 40 })
	ev = signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix)
	ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(okBody)), true
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 413 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
}

func TestJobStatus(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	ev := signedQuery("GET", "/v1/backups/rm-demo-pg1/1000002", map[string]string{"RegionId": "cn-shanghai"}, "", "release-bot", botSecret, nowUnix)
	d := checkResponse(t, hs.h.Handle(context.Background(), ev))
	want := map[string]any{"DBInstanceId": "rm-demo-pg1", "BackupJobId": "1000002", "BackupStatus": "Finished", "Process": "100", "terminal": true, "BackupId": "b-77"}
	if d.Status != 200 || len(d.Body) != len(want) {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	for k, v := range want {
		if d.Body[k] != v {
			t.Errorf("%s = %v, want %v", k, d.Body[k], v)
		}
	}
	if got := hs.jobs.asked[0]; got != "cn-shanghai/rm-demo-pg1/1000002" {
		t.Fatalf("JobStatus asked %q", got)
	}
	d = checkResponse(t, hs.h.Handle(context.Background(), signed("GET", "/v1/backups/rm-demo-mysql1/1000001", "", "release-bot", botSecret, nowUnix)))
	if d.Body["terminal"] != false || d.Body["BackupStatus"] != "Uploading" {
		t.Fatalf("%s", d.Raw)
	}

	// Authenticated like POST, and the signature binds the path and the
	// query: a captured status poll does not read another job, nor the
	// same job in another region, and a POST's signature reads nothing.
	other := signed("GET", "/v1/backups/rm-demo-pg1/1000002", "", "release-bot", botSecret, nowUnix)
	for name, sig := range map[string]string{
		"another job's signature":      SignV1(botSecret, nowUnix, "GET", "/v1/backups/rm-demo-mysql1/1000001", nil, nil),
		"the same job in a region":     SignV1(botSecret, nowUnix, "GET", "/v1/backups/rm-demo-pg1/1000002", url.Values{"RegionId": {"cn-shanghai"}}, nil),
		"a POST's signature":           SignV1(botSecret, nowUnix, "POST", "/v1/backups", nil, []byte(okBody)),
		"the old form for GET (<ts>.)": "sha256=" + hex.EncodeToString(bodyMAC([]byte(botSecret), []byte(itoa(nowUnix)+"."))),
	} {
		other.Headers[HeaderSignature] = sig
		if d := checkResponse(t, hs.h.Handle(context.Background(), other)); d.Status != 401 {
			t.Fatalf("%s: %d %s", name, d.Status, d.Raw)
		}
	}
	stale := signed("GET", "/v1/backups/rm-demo-pg1/1000002", "", "release-bot", botSecret, nowUnix-1000)
	if d := checkResponse(t, hs.h.Handle(context.Background(), stale)); d.Status != 401 {
		t.Fatalf("stale: %d", d.Status)
	}
	// The caller's route must allow the instance; no outcome for a read.
	d = checkResponse(t, hs.h.Handle(context.Background(), signed("GET", "/v1/backups/rm-prod-payments/1", "", "release-bot", botSecret, nowUnix)))
	if d.Status != 403 || len(hs.rej.Requests()) != 0 {
		t.Fatalf("not allowed: %d %s", d.Status, d.Raw)
	}
	// An escaped slash stays inside the segment, where the id grammar
	// refuses it before anything is read.
	asked := len(hs.jobs.asked)
	d = checkResponse(t, hs.h.Handle(context.Background(), signed("GET", "/v1/backups/rm-demo-pg1%2F..%2Fx/1", "", "ops@acme", opsSecret, nowUnix)))
	if d.Status != 400 || d.errField() != "DBInstanceId" || len(hs.jobs.asked) != asked {
		t.Fatalf("%d %s %q", d.Status, d.Raw, hs.jobs.asked)
	}
}

func TestHandleRaw(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	// The canonical fixture carries a placeholder signature.
	resp, err := hs.h.HandleRaw(context.Background(), readFixture(t, "http.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d := checkResponse(t, resp); d.Status != 401 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	// The same event, signed for real, with the fixture's timestamp.
	ev, err := events.ParseHTTP(readFixture(t, "http.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev.Headers[HeaderSignature] = SignV1(botSecret, nowUnix, "POST", ev.RawPath, nil, []byte(ev.Body))
	ev.Headers[HeaderCaller] = "release-bot"
	raw, _ := json.Marshal(ev)
	resp, err = hs.h.HandleRaw(context.Background(), raw)
	if d := checkResponse(t, resp); err != nil || d.Status != 202 {
		t.Fatalf("%v %d %s", err, d.Status, d.Raw)
	}
	// The base64 fixture, signed over the decoded body.
	ev, _ = events.ParseHTTP(readFixture(t, "http-base64.json"))
	body, _ := ev.RawBody()
	ev.Headers["x-signature-256"] = SignV1(botSecret, nowUnix, "POST", ev.RawPath, nil, body)
	raw, _ = json.Marshal(ev)
	resp, err = hs.h.HandleRaw(context.Background(), raw)
	if d := checkResponse(t, resp); err != nil || d.Status != 202 || len(d.entries()) != 2 {
		t.Fatalf("%v %d %s", err, d.Status, d.Raw)
	}
	// Not an HTTP event.
	resp, err = hs.h.HandleRaw(context.Background(), readFixture(t, "timer.json"))
	if err == nil {
		t.Fatal("a timer event is not an HTTP event")
	}
	if d := checkResponse(t, resp); d.Status != 400 {
		t.Fatalf("%d", d.Status)
	}
}

func TestPanicBecomes500(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	hs.sub.panic = true
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix)))
	if d.Status != 500 || d.errCode() != CodeInternal || strings.Contains(d.Raw, "exploded") {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
}

// TestNoSecretsInLogsOrBodies runs every kind of request and checks that
// no secret, signature, token or body appears in a log line or response.
func TestNoSecretsInLogsOrBodies(t *testing.T) {
	hs := newHarness(t, testRoutes, func(c *Config) { c.SignedSecret = defaultSecret })
	evs := []events.HTTPEvent{
		signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix),
		signed("POST", "/v1/backups", okBody, "release-bot", "wrong-secret-value", nowUnix),
		signed("POST", "/v1/backups", `{"DBInstanceId":"rm-prod-payments"}`, "release-bot", botSecret, nowUnix),
		signed("GET", "/v1/backups/rm-demo-pg1/1000002", "", "", defaultSecret, nowUnix),
		hookEvent(t, "/v1/hooks/github", "github-deployment", nil),
		hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{HeaderGitHubSig: "sha256=" + strings.Repeat("ab", 32)}),
		hookEvent(t, "/v1/hooks/gitlab", "gitlab-deployment", nil),
		hookEvent(t, "/v1/hooks/gitlab", "gitlab-deployment", map[string]string{HeaderGitLabToken: "guessed-token"}),
		// The paths of issue 12: a signed GET with a query, the old
		// signature forms, a reused Idempotency-Key (409), a call over the
		// limit (413), a refused region, an unknown caller.
		signedQuery("GET", "/v1/backups/rm-demo-pg1/1000002", map[string]string{"RegionId": "cn-shanghai"}, "", "release-bot", botSecret, nowUnix),
		withHeader(signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix), HeaderSignature, "sha256="+strings.Repeat("cd", 32)),
		withKey(signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix), "key-1", botSecret, nowUnix),
		withKey(signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-pg1"}`, "release-bot", botSecret, nowUnix), "key-1", botSecret, nowUnix),
		signed("POST", "/v1/backups", backupsBody(101, func(i int) string { return "rm-demo-" + itoa(int64(i)) }), "release-bot", botSecret, nowUnix),
		signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-x","RegionId":"x@evil.example:443/"}`, "release-bot", botSecret, nowUnix),
		signed("POST", "/v1/backups", okBody, "mallory", "mallorys-guess", nowUnix),
	}
	var bodies strings.Builder
	for _, ev := range evs {
		d := checkResponse(t, hs.h.Handle(context.Background(), ev))
		bodies.WriteString(d.Raw)
	}
	logs := hs.logs.String()
	if strings.Count(logs, "\n") < len(evs) {
		t.Fatalf("want one log line per request:\n%s", logs)
	}
	// The signatures' hex (the prefixes themselves appear in messages that
	// name the expected form).
	sigs := []string{strings.Repeat("cd", 32), "mallorys-guess", "evil.example"}
	for _, ev := range evs {
		if v := ev.Headers[HeaderSignature]; v != "" {
			sigs = append(sigs, strings.TrimPrefix(strings.TrimPrefix(v, "v1="), "sha256="))
		}
	}
	for _, secret := range append([]string{ghSecret, botSecret, opsSecret, defaultSecret, "wrong-secret-value", "guessed-token", strings.Repeat("ab", 32), "Physical"}, sigs...) {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
		if strings.Contains(bodies.String(), secret) && secret != "Physical" && secret != "evil.example" {
			t.Errorf("a response body contains %q", secret)
		}
	}
}

// withHeader returns ev with header k set to v.
func withHeader(ev events.HTTPEvent, k, v string) events.HTTPEvent {
	h := map[string]string{}
	for kk, vv := range ev.Headers {
		h[kk] = vv
	}
	h[k] = v
	ev.Headers = h
	return ev
}

func TestResponseWireShape(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	resp := hs.h.Handle(context.Background(), httpEvent("GET", "/healthz", "", nil))
	wire, _ := json.Marshal(resp)
	var back struct {
		StatusCode      *int              `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		IsBase64Encoded *bool             `json:"isBase64Encoded"`
		Body            *string           `json:"body"`
	}
	if err := json.Unmarshal(wire, &back); err != nil || back.StatusCode == nil || *back.StatusCode != 200 || back.Headers == nil || back.IsBase64Encoded == nil || back.Body == nil || *back.Body != `{"status":"ok"}` {
		t.Fatalf("%s", wire)
	}
}

func FuzzHandle(f *testing.F) {
	for _, name := range []string{"http.json", "http-base64.json"} {
		f.Add(readFixture(f, name))
	}
	hs := newHarness(f, testRoutes, nil)
	for _, ev := range []events.HTTPEvent{
		signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix),
		signed("GET", "/v1/backups/rm-demo-pg1/1000002", "", "release-bot", botSecret, nowUnix),
		hookEvent(f, "/v1/hooks/github", "github-deployment-payload", nil),
		hookEvent(f, "/v1/hooks/github", "github-ping", nil),
		hookEvent(f, "/v1/hooks/gitlab", "gitlab-pipeline", nil),
		httpEvent("PUT", "/v1/hooks/gitlab", "x", nil),
	} {
		raw, _ := json.Marshal(ev)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		resp, err := hs.h.HandleRaw(context.Background(), raw)
		d := checkResponse(t, resp)
		if err != nil && d.Status != 400 {
			t.Fatalf("an undecodable event gets 400, got %d", d.Status)
		}
		switch d.Status {
		case 200, 202, 400, 401, 403, 404, 405, 413, 501, 502:
		default:
			t.Fatalf("unexpected status %d: %s", d.Status, d.Raw)
		}
	})
}

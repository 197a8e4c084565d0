package webhook

import (
	"context"
	"testing"
)

// TestIdempotencyKeyIsSigned is issue 19 item 3: a request captured inside
// its window and replayed with a victim's predictable next Idempotency-Key
// used to be accepted (the key was not signed), so the victim's real call
// became a 409. The key is the sixth line of the canonical string now.
func TestIdempotencyKeyIsSigned(t *testing.T) {
	hs := newHarness(t, testRoutes, nil)
	captured := withKey(signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix), "ci-run-41", botSecret, nowUnix)

	replayed := withHeader(captured, HeaderIdempotencyKey, "ci-run-42")
	if d := checkResponse(t, hs.h.Handle(context.Background(), replayed)); d.Status != 401 || d.errCode() != CodeUnauthorized {
		t.Fatalf("captured request replayed with another Idempotency-Key: %d %s, want 401", d.Status, d.Raw)
	}
	added := withHeader(signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix), HeaderIdempotencyKey, "ci-run-42")
	if d := checkResponse(t, hs.h.Handle(context.Background(), added)); d.Status != 401 {
		t.Fatalf("a key added to a request signed without one: %d %s, want 401", d.Status, d.Raw)
	}
	dropped := withHeader(captured, HeaderIdempotencyKey, "")
	if d := checkResponse(t, hs.h.Handle(context.Background(), dropped)); d.Status != 401 {
		t.Fatalf("a signed key removed: %d %s, want 401", d.Status, d.Raw)
	}
	if n := len(hs.sub.Calls()); n != 0 {
		t.Fatalf("%d submissions, want none", n)
	}
	// The victim's real call with its next key goes through.
	victim := withKey(signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-pg1"}`, "release-bot", botSecret, nowUnix), "ci-run-42", botSecret, nowUnix)
	if d := checkResponse(t, hs.h.Handle(context.Background(), victim)); d.Status != 202 {
		t.Fatalf("the victim's call: %d %s", d.Status, d.Raw)
	}
	// The same key and body, as signed: accepted, twice (a retry).
	for i := 0; i < 2; i++ {
		if d := checkResponse(t, hs.h.Handle(context.Background(), captured)); d.Status != 202 {
			t.Fatalf("send %d of the signed request: %d %s", i+1, d.Status, d.Raw)
		}
	}
}

// TestIdempotencyKeyScopedPerCaller: the implicit default caller
// (Config.SignedSecret) and a signed route that happens to be named
// "default" are two callers; a key of one must not make the other's call a
// 409 (the cache used to key on the route's name).
func TestIdempotencyKeyScopedPerCaller(t *testing.T) {
	const routes = `
routes:
  - name: default
    source: signed
    repository: ci-bot
    secretEnv: BOT_SECRET
    allow: ["*"]
`
	hs := newHarness(t, routes, func(c *Config) { c.SignedSecret = defaultSecret })
	send := func(caller, secret, body string) decoded {
		ev := withKey(signed("POST", "/v1/backups", body, caller, secret, nowUnix), "deploy-7", secret, nowUnix)
		return checkResponse(t, hs.h.Handle(context.Background(), ev))
	}
	if d := send("ci-bot", botSecret, `{"DBInstanceId":"rm-demo-mysql1"}`); d.Status != 202 {
		t.Fatalf("ci-bot: %d %s", d.Status, d.Raw)
	}
	if d := send("", defaultSecret, `{"DBInstanceId":"rm-demo-pg1"}`); d.Status != 202 {
		t.Fatalf("the default caller, same key, other backups: %d %s (one caller's key reached another)", d.Status, d.Raw)
	}
	if d := send("ci-bot", botSecret, `{"DBInstanceId":"rm-demo-pg1"}`); d.Status != 409 {
		t.Fatalf("ci-bot reusing its own key for other backups: %d %s, want 409", d.Status, d.Raw)
	}
}

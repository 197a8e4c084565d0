package webhook

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
)

// fakeKeyLedger is a KeyLedger shared by "instances" (Handlers): one digest
// per (scope, key), the first one written; err, when set, is every call's
// answer (the ledger down).
type fakeKeyLedger struct {
	mu     sync.Mutex
	rows   map[[2]string]string
	claims []KeyClaim
	err    error
}

func (f *fakeKeyLedger) ClaimKey(_ context.Context, k KeyClaim) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims = append(f.claims, k)
	if f.err != nil {
		return f.err
	}
	if f.rows == nil {
		f.rows = map[[2]string]string{}
	}
	id := [2]string{k.Scope, k.Key}
	if d, ok := f.rows[id]; ok && d != k.Digest {
		return fmt.Errorf("ledger: %s/%s recorded with another digest: %w", k.Scope, k.Key, ErrKeyReused)
	}
	f.rows[id] = k.Digest
	return nil
}

func (f *fakeKeyLedger) calls() []KeyClaim {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]KeyClaim(nil), f.claims...)
}

// TestKeyLedgerAcrossInstances: two warm instances (Handlers) share the
// ledger. A key used on one with another body is a 409 on the other, which
// submits nothing; its memory is not taken by the refused body, so the
// first body still goes on there. The same body goes on (the per-ask rows
// of the executor do the rest), a repeat that the instance remembers
// without a ledger call.
func TestKeyLedgerAcrossInstances(t *testing.T) {
	l := &fakeKeyLedger{}
	a, b := newHarness(t, testRoutes, nil), newHarness(t, testRoutes, nil)
	a.h.UseKeyLedger(l)
	b.h.UseKeyLedger(l)
	send := func(hs *harness, body string) decoded {
		ev := withKey(signed("POST", "/v1/backups", body, "release-bot", botSecret, nowUnix), "deploy-42", botSecret, nowUnix)
		return checkResponse(t, hs.h.Handle(context.Background(), ev))
	}
	const first, other = `{"DBInstanceId":"rm-demo-mysql1"}`, `{"DBInstanceId":"rm-demo-pg1"}`
	if d := send(a, first); d.Status != 202 {
		t.Fatalf("first, on A: %d %s", d.Status, d.Raw)
	}
	for i := range 3 {
		d := send(b, other)
		if d.Status != 409 || d.errCode() != CodeKeyReused || d.errField() != HeaderIdempotencyKey {
			t.Fatalf("try %d: the same key with another body on B: %d %s, want 409 %s", i, d.Status, d.Raw, CodeKeyReused)
		}
	}
	if n := len(b.sub.Calls()); n != 0 {
		t.Fatalf("B submitted %d times, want 0 (a 409 submits nothing)", n)
	}
	// The same backups, written otherwise and with an AskedAt: the same
	// digest, on B too.
	if d := send(b, `{ "Backups": [ {"DBInstanceId":"rm-demo-mysql1"} ], "AskedAt":"2026-11-24T06:00:00Z"}`); d.Status != 202 {
		t.Fatalf("the first body's backups on B: %d %s", d.Status, d.Raw)
	}
	calls := len(l.calls())
	if d := send(b, first); d.Status != 202 {
		t.Fatalf("a repeat on B: %d %s", d.Status, d.Raw)
	}
	if d := send(b, other); d.Status != 409 {
		t.Fatalf("another body on B, known to B: %d %s", d.Status, d.Raw)
	}
	if n := len(l.calls()); n != calls {
		t.Errorf("%d ledger calls for keys B remembers, want 0 (the free first look)", n-calls)
	}
	if n := len(b.sub.Calls()); n != 2 {
		t.Errorf("B submitted %d times, want 2", n)
	}
	if got := b.logs.String(); !regexp.MustCompile(`Idempotency-Key reused with another body \(the ledger's row\)`).MatchString(got) {
		t.Errorf("the log does not say the ledger's row refused the key:\n%s", got)
	}
}

// TestKeyLedgerRows: the row's scope is the authenticated route (never a
// name a caller sends), its key the header's key behind "idem:", its
// digest the hex SHA-256 of the plan without AskedAt. A call refused
// before submission, or without a key, asks the ledger nothing.
func TestKeyLedgerRows(t *testing.T) {
	l := &fakeKeyLedger{}
	hs := newHarness(t, testRoutes, func(c *Config) { c.SignedSecret = defaultSecret })
	hs.h.UseKeyLedger(l)
	post := func(caller, secret, body, key string) decoded {
		ev := signed("POST", "/v1/backups", body, caller, secret, nowUnix)
		if key != "" {
			ev = withKey(ev, key, secret, nowUnix)
		}
		return checkResponse(t, hs.h.Handle(context.Background(), ev))
	}
	for _, c := range []struct{ caller, secret string }{{"release-bot", botSecret}, {"ops@acme", opsSecret}, {DefaultCaller, defaultSecret}} {
		if d := post(c.caller, c.secret, `{"DBInstanceId":"rm-demo-mysql1"}`, "k 1"); d.Status != 202 {
			t.Fatalf("%s: %d %s", c.caller, d.Status, d.Raw)
		}
	}
	if d := post("ops@acme", opsSecret, `{"DBInstanceId":"rm-demo-pg1","BackupMethod":"Incremental"}`, "k 2"); d.Status != 400 {
		t.Fatalf("invalid body: %d %s", d.Status, d.Raw)
	}
	if d := post("ops@acme", opsSecret, `{"DBInstanceId":"rm-demo-pg1"}`, ""); d.Status != 202 {
		t.Fatalf("no key: %d %s", d.Status, d.Raw)
	}
	calls := l.calls()
	wantScopes := []string{"route:release-bot", "route:ops", keyScopeDefault}
	if len(calls) != len(wantScopes) {
		t.Fatalf("%d ledger calls %+v, want %d (one per keyed call that reached submission)", len(calls), calls, len(wantScopes))
	}
	hexSHA := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for i, c := range calls {
		if c.Scope != wantScopes[i] || c.Key != "idem:k 1" || !hexSHA.MatchString(c.Digest) || !c.AskedAt.Equal(testNow) {
			t.Errorf("claim %d: %+v, want scope %s, key idem:k 1, a hex SHA-256, askedAt %s", i, c, wantScopes[i], testNow)
		}
		if c.Digest != calls[0].Digest {
			t.Errorf("claim %d: digest %s, want the same backups' %s", i, c.Digest, calls[0].Digest)
		}
	}
}

// TestKeyLedgerDown: a ledger that cannot answer is a 503 "try again" and
// nothing is submitted — never a key acted on unchecked, which would let
// another body through — and the instance remembers nothing of it: the
// try after the ledger is back is checked and goes on.
func TestKeyLedgerDown(t *testing.T) {
	l := &fakeKeyLedger{err: errors.New("ledger: GetRow: OTSServerBusy")}
	hs := newHarness(t, testRoutes, nil)
	hs.h.UseKeyLedger(l)
	send := func() decoded {
		ev := withKey(signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-mysql1"}`, "release-bot", botSecret, nowUnix), "deploy-7", botSecret, nowUnix)
		return checkResponse(t, hs.h.Handle(context.Background(), ev))
	}
	d := send()
	if d.Status != 503 || d.errCode() != CodeKeyUnchecked || d.errField() != HeaderIdempotencyKey || d.Headers["Retry-After"] == "" {
		t.Fatalf("ledger down: %d %v %s, want 503 %s with Retry-After", d.Status, d.Headers, d.Raw, CodeKeyUnchecked)
	}
	if n := len(hs.sub.Calls()); n != 0 {
		t.Fatalf("%d submissions with the ledger down, want 0", n)
	}
	if got := hs.logs.String(); !regexp.MustCompile(`Idempotency-Key not checked: ledger: GetRow: OTSServerBusy`).MatchString(got) {
		t.Errorf("the log does not say why the key was not checked:\n%s", got)
	}
	l.mu.Lock()
	l.err = nil
	l.rows = map[[2]string]string{{"route:release-bot", "idem:deploy-7"}: "another-body's-digest"}
	l.mu.Unlock()
	if d := send(); d.Status != 409 {
		t.Fatalf("after the outage, a key the ledger holds with another body: %d %s, want 409 (the outage left nothing in memory)", d.Status, d.Raw)
	}
}

package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

const ledgerTable = "rds_backup_asks"

// withLedger starts a Tablestore emulator that accepts the harness's keys,
// creates the ledger table with a long-term key of the account (as the
// deploy tooling would), and returns the variables that point the functions
// at it.
func (h *harness) withLedger(lease time.Duration) (*tablestore.Server, []string) {
	h.t.Helper()
	srv := tablestore.NewServer(tablestore.WithCredentials(h.auth))
	h.t.Cleanup(srv.Close)
	admin := h.auth.NewAccessKey()
	client := ots.NewClientWithConfig(srv.Endpoint(), srv.Instance(), admin.AccessKeyID, admin.AccessKeySecret, "", ledger.ClientConfig())
	if err := ledger.CreateTable(context.Background(), client, ledgerTable, 0); err != nil {
		h.t.Fatal(err)
	}
	return srv, []string{
		"BACKUP_LEDGER_ENDPOINT=" + srv.Endpoint(),
		"BACKUP_LEDGER_INSTANCE=" + srv.Instance(),
		"BACKUP_LEDGER_TABLE=" + ledgerTable,
		"BACKUP_LEDGER_LEASE=" + lease.String(),
	}
}

// invocation starts an invocation of a with credentials cred (the FC
// context's role key) and returns its context.
func (h *harness) invocation(a *App, requestID string, ak, sk, token string) context.Context {
	h.t.Helper()
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{
		RequestID: requestID, Region: "cn-hangzhou",
		Credentials: fccontext.Credentials{AccessKeyId: ak, AccessKeySecret: sk, SecurityToken: token},
	})
	ctx, _, err := a.begin(ctx, triggerPubSub)
	if err != nil {
		h.t.Fatal(err)
	}
	return ctx
}

// TestLedgerPort: with BACKUP_LEDGER_ENDPOINT the executor gets an
// AskLedger that reaches Tablestore through each invocation's own role
// credentials, with the configured table and lease; without it, none.
func TestLedgerPort(t *testing.T) {
	h := newHarness(t, "queue")
	if h.app.asks != nil {
		t.Fatalf("no BACKUP_LEDGER_ENDPOINT, yet the executor has a ledger: %#v", h.app.asks)
	}
	if inv := invocationFrom(h.invocation(h.app, "1-no-ledger", h.role.AccessKeyID, h.role.AccessKeySecret, h.role.SecurityToken)); inv.ledger != nil {
		t.Fatal("no BACKUP_LEDGER_ENDPOINT, yet the invocation has a ledger")
	}

	srv, env := h.withLedger(3 * time.Minute)
	a := h.another("queue", env...)
	if a.asks == nil {
		t.Fatal("BACKUP_LEDGER_ENDPOINT is set but the executor has no ledger")
	}
	if got := a.asks.Lease(); got != 3*time.Minute {
		t.Errorf("Lease() = %v, want BACKUP_LEDGER_LEASE 3m", got)
	}

	// The first delivery claims the ask with the role's STS key.
	role := h.role
	ctx := h.invocation(a, "1-first", role.AccessKeyID, role.AccessKeySecret, role.SecurityToken)
	ask := ledger.Ask{Scope: "mns:" + workQ, Key: "k-1", Digest: "d1", Method: "Physical", Target: "rm-a",
		AskedAt: time.Now().Add(-time.Second), Owner: "1-first"}
	c, err := a.asks.Claim(ctx, ask)
	if err != nil || !c.Won {
		t.Fatalf("Claim = %+v, %v; want won", c, err)
	}
	if c.Row.LeaseUntil.Sub(c.Row.ClaimedAt) != 3*time.Minute {
		t.Errorf("lease from %v to %v, want BACKUP_LEDGER_LEASE 3m", c.Row.ClaimedAt, c.Row.LeaseUntil)
	}
	if err := a.asks.RecordJob(ctx, ask.Scope, ask.Key, ask.Owner, "job-1"); err != nil {
		t.Fatalf("RecordJob: %v", err)
	}
	calls := srv.Calls()
	for _, call := range calls[1:] { // calls[0] is the table's creation with the admin key
		if call.AccessKeyID != role.AccessKeyID || call.Table != ledgerTable || call.Status != 200 {
			t.Errorf("%s on %q with key %s, status %d: want the role's key %s on %s", call.Action, call.Table, call.AccessKeyID, call.Status, role.AccessKeyID, ledgerTable)
		}
	}
	if len(calls) != 3 || calls[1].Action != "PutRow" || calls[2].Action != "UpdateRow" {
		t.Errorf("calls %+v, want CreateTable PutRow UpdateRow", calls)
	}

	// A redelivery in another invocation, with rotated STS credentials,
	// finds the job: its own client, signed with its own key.
	rotated := h.auth.IssueSTS(time.Hour)
	ctx2 := h.invocation(a, "1-second", rotated.AccessKeyID, rotated.AccessKeySecret, rotated.SecurityToken)
	if invocationFrom(ctx2).ledger == invocationFrom(ctx).ledger {
		t.Error("two credentials share one ledger client")
	}
	ask.Owner = "1-second"
	c, err = a.asks.Claim(ctx2, ask)
	if err != nil || c.Won || c.Row.JobID != "job-1" {
		t.Fatalf("redelivery Claim = %+v, %v; want lost with job-1", c, err)
	}
	if last := srv.Calls()[len(srv.Calls())-1]; last.AccessKeyID != rotated.AccessKeyID {
		t.Errorf("the redelivery signed with %s, want its own key %s", last.AccessKeyID, rotated.AccessKeyID)
	}
	// The same credentials again: the cached ledger.
	ctx3 := h.invocation(a, "1-third", rotated.AccessKeyID, rotated.AccessKeySecret, rotated.SecurityToken)
	if invocationFrom(ctx3).ledger != invocationFrom(ctx2).ledger {
		t.Error("the same credentials built a second ledger client")
	}

	// Outside an invocation the port refuses (the executor defers), and
	// makes no call.
	n := len(srv.Calls())
	if _, err := a.asks.Claim(context.Background(), ask); !errors.Is(err, errNoLedger) {
		t.Errorf("Claim outside an invocation = %v, want errNoLedger", err)
	}
	if err := a.asks.Release(context.Background(), ask.Scope, ask.Key, ask.Owner, false); !errors.Is(err, errNoLedger) {
		t.Errorf("Release outside an invocation = %v, want errNoLedger", err)
	}
	if len(srv.Calls()) != n {
		t.Error("the port called Tablestore outside an invocation")
	}
}

// TestKeyLedgerPort: the webhook's KeyLedger claims a caller's key in the
// invocation's ledger; a key claimed by one invocation with a digest is
// refused to another with another digest (webhook.ErrKeyReused, the 409)
// and accepted with the same one; scopes are apart; outside an invocation
// the port answers an error that is not a reuse (the webhook's 503).
func TestKeyLedgerPort(t *testing.T) {
	h := newHarness(t, "webhook")
	_, env := h.withLedger(time.Minute)
	a := h.another("webhook", env...)
	role := h.role
	var p webhook.KeyLedger = invocationKeys{}
	k := webhook.KeyClaim{Scope: "route:ops", Key: "idem:release 42", Digest: strings.Repeat("a1", 32), AskedAt: time.Now()}
	if err := p.ClaimKey(h.invocation(a, "1-first", role.AccessKeyID, role.AccessKeySecret, role.SecurityToken), k); err != nil {
		t.Fatalf("a new key: %v", err)
	}
	ctx := h.invocation(a, "1-second", role.AccessKeyID, role.AccessKeySecret, role.SecurityToken)
	if err := p.ClaimKey(ctx, k); err != nil {
		t.Fatalf("the same digest while the first holds the row: %v", err)
	}
	other := k
	other.Digest = strings.Repeat("b2", 32)
	err := p.ClaimKey(ctx, other)
	if !errors.Is(err, webhook.ErrKeyReused) || !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("another digest: %v, want webhook.ErrKeyReused wrapping ledger.ErrConflict", err)
	}
	other.Scope = "route:release-bot"
	if err := p.ClaimKey(ctx, other); err != nil {
		t.Fatalf("another caller's scope, the same key: %v", err)
	}
	if err := p.ClaimKey(context.Background(), k); err == nil || errors.Is(err, webhook.ErrKeyReused) {
		t.Fatalf("outside an invocation: %v, want an error that is not a reuse", err)
	}
	for _, id := range []string{"", "has space", strings.Repeat("x", 200)} {
		if o := keyOwner(id); !strings.HasPrefix(o, "webhook-") {
			t.Errorf("keyOwner(%q) = %q, want a random owner", id, o)
		}
	}
	if o := keyOwner("1-65a0b1c2-d3e4"); o != "1-65a0b1c2-d3e4" {
		t.Errorf("keyOwner keeps the FC request id: %q", o)
	}
}

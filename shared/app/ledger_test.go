package app

import (
	"context"
	"errors"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
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
	ctx, _, err := a.begin(ctx)
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

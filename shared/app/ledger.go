package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// ledgerFor returns the ask ledger (BACKUP_LEDGER_*) signed with the
// invocation's credentials, nil when no ledger is configured. Like the RDS
// and MNS clients it is cached per credential: STS credentials rotate, and a
// Tablestore client signs with the key it was built with. The client has
// ledger.ClientConfig (no SDK retries: the executor and the work queue own
// them). Outside Function Compute (no role credentials) the default chain
// gives the key, as for MNS.
func (a *App) ledgerFor(ak, sk, token string) (*ledger.Ledger, error) {
	if a.cfg.LedgerEndpoint == "" {
		return nil, nil
	}
	if ak == "" {
		var err error
		if ak, sk, token, err = chainCredential(); err != nil {
			return nil, fmt.Errorf("no credentials for the ledger: %w", err)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	key := ak + "\x00" + token
	if l, ok := a.ledgerBy[key]; ok {
		return l, nil
	}
	client := tablestore.NewClientWithConfig(a.cfg.LedgerEndpoint, a.cfg.LedgerInstance, ak, sk, token, ledger.ClientConfig())
	l := ledger.New(client, a.cfg.LedgerTable, ledger.WithLease(a.cfg.LedgerLease), ledger.WithClock(a.now))
	if len(a.ledgerBy) > 8 { // STS credentials rotate; keep the cache small
		clear(a.ledgerBy)
	}
	a.ledgerBy[key] = l
	return l, nil
}

// errNoLedger: the executor asked for the ledger outside an invocation, or
// in one that has none although the deployment configures it. The executor
// defers the ask (it never acts without its record).
var errNoLedger = errors.New("app: no ask ledger in this invocation")

// invocationLedger is the executor's AskLedger (Options.Ledger, set only
// when BACKUP_LEDGER_ENDPOINT is): each call goes to the ledger of the
// invocation its context belongs to, signed with that invocation's
// credentials. The executor is built once per warm instance, the ledger's
// client per credential, so the port finds the ledger through the context
// (Run is called with contexts derived from the invocation's).
type invocationLedger struct{ lease time.Duration }

var _ executor.AskLedger = invocationLedger{}

func (invocationLedger) of(ctx context.Context) (*ledger.Ledger, error) {
	if inv := invocationFrom(ctx); inv != nil && inv.ledger != nil {
		return inv.ledger, nil
	}
	return nil, errNoLedger
}

func (p invocationLedger) Claim(ctx context.Context, a ledger.Ask) (ledger.Claim, error) {
	l, err := p.of(ctx)
	if err != nil {
		return ledger.Claim{}, err
	}
	return l.Claim(ctx, a)
}

func (p invocationLedger) ClaimSending(ctx context.Context, a ledger.Ask, instKey string) (ledger.Claim, error) {
	l, err := p.of(ctx)
	if err != nil {
		return ledger.Claim{}, err
	}
	return l.ClaimSending(ctx, a, instKey)
}

func (p invocationLedger) RecordJob(ctx context.Context, scope, key, owner, jobID string) error {
	l, err := p.of(ctx)
	if err != nil {
		return err
	}
	return l.RecordJob(ctx, scope, key, owner, jobID)
}

func (p invocationLedger) MarkSending(ctx context.Context, scope, key, owner string, d time.Duration) (time.Time, error) {
	l, err := p.of(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return l.MarkSending(ctx, scope, key, owner, d)
}

func (p invocationLedger) Release(ctx context.Context, scope, key, owner string, forgetSend bool) error {
	l, err := p.of(ctx)
	if err != nil {
		return err
	}
	return l.Release(ctx, scope, key, owner, forgetSend)
}

func (p invocationLedger) Reopen(ctx context.Context, a ledger.Ask, failedJob string) (ledger.Claim, error) {
	l, err := p.of(ctx)
	if err != nil {
		return ledger.Claim{}, err
	}
	return l.Reopen(ctx, a, failedJob)
}

func (p invocationLedger) NoteInstanceJob(ctx context.Context, key, jobID string, created time.Time) error {
	l, err := p.of(ctx)
	if err != nil {
		return err
	}
	return l.NoteInstanceJob(ctx, key, jobID, created)
}

func (p invocationLedger) LastInstanceJob(ctx context.Context, key string) (string, time.Time, bool, error) {
	l, err := p.of(ctx)
	if err != nil {
		return "", time.Time{}, false, err
	}
	return l.LastInstanceJob(ctx, key)
}

func (p invocationLedger) NoteInstanceSend(ctx context.Context, key, owner string, at time.Time) error {
	l, err := p.of(ctx)
	if err != nil {
		return err
	}
	return l.NoteInstanceSend(ctx, key, owner, at)
}

func (p invocationLedger) ForgetInstanceSend(ctx context.Context, key, owner string) error {
	l, err := p.of(ctx)
	if err != nil {
		return err
	}
	return l.ForgetInstanceSend(ctx, key, owner)
}

func (p invocationLedger) ReadInstance(ctx context.Context, region, instance string) (ledger.InstanceView, error) {
	l, err := p.of(ctx)
	if err != nil {
		return ledger.InstanceView{}, err
	}
	return l.ReadInstance(ctx, region, instance)
}

func (p invocationLedger) SendBegin(ctx context.Context, scope, key, owner string, d time.Duration, instKey string) (time.Time, time.Time, error) {
	l, err := p.of(ctx)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return l.SendBegin(ctx, scope, key, owner, d, instKey)
}

func (p invocationLedger) JobMade(ctx context.Context, scope, key, owner, jobID, instKey string, created time.Time) (bool, bool, error) {
	l, err := p.of(ctx)
	if err != nil {
		return false, false, err
	}
	return l.JobMade(ctx, scope, key, owner, jobID, instKey, created)
}

// Lease is BACKUP_LEDGER_LEASE, the lease every invocation's ledger takes.
func (p invocationLedger) Lease() time.Duration { return p.lease }

// invocationKeys is the webhook's KeyLedger (Handler.UseKeyLedger, set only
// when BACKUP_LEDGER_ENDPOINT is): a caller's Idempotency-Key is claimed in
// the invocation's ledger, found through the context like
// invocationLedger's, so the key's row — and its digest — is the same for
// every function instance. The row is the key's alone (scope
// "route:<route>", key "idem:<key>"): it names no job and satisfies no
// ask, so it has no method or target; its owner is the FC request id. Won,
// busy or lost with the same digest are all "go on"; only another digest
// (ledger.ErrConflict) is webhook.ErrKeyReused. Any other error, a missing
// ledger included, is the key unchecked (the webhook answers 503).
type invocationKeys struct{}

var _ webhook.KeyLedger = invocationKeys{}

func (invocationKeys) ClaimKey(ctx context.Context, k webhook.KeyClaim) error {
	inv := invocationFrom(ctx)
	if inv == nil || inv.ledger == nil {
		return errNoLedger
	}
	_, err := inv.ledger.Claim(ctx, ledger.Ask{Scope: k.Scope, Key: k.Key, Digest: k.Digest, AskedAt: k.AskedAt, Owner: keyOwner(inv.requestID)})
	if errors.Is(err, ledger.ErrConflict) {
		return fmt.Errorf("%w: %w", webhook.ErrKeyReused, err)
	}
	return err
}

// keyOwner is the lease owner of a key's claim: the FC request id, or a
// random one where there is none fit to be an owner (outside FC).
func keyOwner(requestID string) string {
	ok := requestID != "" && len(requestID) <= ledger.MaxOwner
	for i := 0; ok && i < len(requestID); i++ {
		ok = requestID[i] > 0x20 && requestID[i] < 0x7f
	}
	if ok {
		return requestID
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "webhook-" + hex.EncodeToString(b)
}

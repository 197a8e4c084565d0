package executor

import (
	"context"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// ledgerErr answers ledger.IsRetryable explicitly.
type ledgerErr bool

func (e ledgerErr) Error() string        { return "ledger call failed" }
func (e ledgerErr) RetryableError() bool { return bool(e) }

func TestLedgerLoop(t *testing.T) {
	e := New(Options{})
	try := func(err error) retry.Result {
		res, _ := retry.Do(context.Background(), e.ledgerLoop(), func(context.Context, int) error { return err })
		return res
	}
	// As the loops it replaced: three tries of an error that may pass, one
	// of any other, none waited for.
	if res := try(ledgerErr(true)); res.Attempts != 3 || res.Stop != retry.StopAttemptsSpent {
		t.Fatalf("retryable: %+v", res)
	}
	if res := try(ledgerErr(false)); res.Attempts != 1 || res.Stop != retry.StopTerminal {
		t.Fatalf("terminal: %+v", res)
	}
	// One quota per executor, kept between calls.
	q := e.ledgerQuota()
	if q != e.ledgerQuota() || q == New(Options{}).ledgerQuota() {
		t.Fatal("the ledger quota is not the executor's own")
	}
	if got := q.Available(); got != retry.DefaultQuotaSize-2*retry.DefaultRetryCost {
		t.Fatalf("%d tokens after two unpaid retries", got)
	}
}

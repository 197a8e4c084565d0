package executor

import (
	"context"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/ledger"
)

// AskLedger is the ask ledger (DESIGN.md §2a) as Run uses it; a
// *ledger.Ledger is one. With Options.Ledger set, Run claims the ask's row
// before it acts, so a repeat of the ask — however late, whatever RDS lists
// yet — finds the job its first delivery made (see the package doc).
type AskLedger interface {
	Claim(ctx context.Context, a ledger.Ask) (ledger.Claim, error)
	RecordJob(ctx context.Context, scope, key, owner, jobID string) error
	Renew(ctx context.Context, scope, key, owner string, d time.Duration) (time.Time, error)
	Release(ctx context.Context, scope, key, owner string) error
	Reopen(ctx context.Context, a ledger.Ask, failedJob string) (ledger.Claim, error)
	Lease() time.Duration
}

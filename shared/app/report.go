package app

import (
	"context"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/report"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// reporter is the webhook's ReportReader (Handler.UseReports, set only
// when BACKUP_LEDGER_ENDPOINT is), with the invocation's RDS client and
// ledger, found through the context like jobReader's.
type reporter struct{ a *App }

var _ webhook.ReportReader = reporter{}

func (r reporter) Report(ctx context.Context, region string, instances []string, since time.Time) ([]webhook.InstanceReport, error) {
	inv := invocationFrom(ctx)
	if inv == nil {
		return nil, errNoInvocation
	}
	if inv.ledger == nil {
		return nil, errNoLedger
	}
	if v := inv.regions.Check("RegionId", region); v != nil { // the webhook checked it; defence in depth
		return nil, v
	}
	ledgerRegion := region
	if ledgerRegion == "" {
		ledgerRegion = inv.region // where noteProblem files an outcome without a RegionId
	}
	return report.Build(ctx, r.a.log, inv.rds, inv.ledger, region, ledgerRegion, instances, since, r.a.now()), nil
}

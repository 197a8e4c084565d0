package app

import (
	"context"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/report"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// reporter is the webhook's ReportReader (Handler.UseReports, set only
// when BACKUP_LEDGER_ENDPOINT is), with the invocation's RDS client and
// ledger, found through the context like jobReader's.
type reporter struct{ a *App }

var _ webhook.ReportReader = reporter{}

func (r reporter) Report(ctx context.Context, account, region string, instances []string, since time.Time) ([]webhook.InstanceReport, error) {
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
	rds := inv.rds
	if inv.fleet.Member(account) {
		// A member account's instances, through its member role (the
		// deployment must allow the account: refused before any STS call).
		if !inv.fleet.Allows(account) {
			return nil, &backup.Violation{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403, Field: "AccountId",
				Message: "AccountId: not an account this deployment allows (BACKUP_ALLOWED_ACCOUNTS)"}
		}
		cli, err := inv.accounts.Client(ctx, account, "report-"+inv.requestID)
		if err != nil {
			return nil, err
		}
		rds = cli
	}
	return report.Build(ctx, r.a.log, rds, inv.ledger, region, ledgerRegion, instances, since, r.a.now()), nil
}

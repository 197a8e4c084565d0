package app

import (
	"context"
	"errors"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// jobReader serves the webhook's status endpoint with the invocation's own
// RDS client (the webhook package knows no invocation; its callbacks get the
// invocation's context).
type jobReader struct{ a *App }

var errNoInvocation = errors.New("app: job status read outside an invocation")

func (r jobReader) JobStatus(ctx context.Context, region, instance, jobID string) (backup.Job, bool, error) {
	inv := invocationFrom(ctx)
	if inv == nil {
		return backup.Job{}, false, errNoInvocation
	}
	if v := inv.regions.Check("RegionId", region); v != nil { // the webhook checked it; defence in depth
		return backup.Job{}, false, v
	}
	return r.a.exec.JobStatus(ctx, inv.rds, region, instance, jobID)
}

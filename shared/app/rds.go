package app

import (
	"context"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// rdsFromContext lets one long-lived executor (with its facts cache) call
// RDS with each invocation's own credentials: it uses the client of the
// invocation in ctx.
type rdsFromContext struct{ a *App }

var _ executor.RDS = rdsFromContext{}

// errNoInvocation is a programming error, never retried.
var errNoInvocation = &rdsclient.ConfigError{Msg: "app: RDS called outside an invocation"}

func (r rdsFromContext) client(ctx context.Context) (*rdsclient.Client, error) {
	if inv := invocationFrom(ctx); inv != nil {
		return inv.rds, nil
	}
	return nil, errNoInvocation
}

func (r rdsFromContext) DescribeInstance(ctx context.Context, region, id string) (backup.InstanceFacts, string, error) {
	c, err := r.client(ctx)
	if err != nil {
		return backup.InstanceFacts{}, "", err
	}
	return c.DescribeInstance(ctx, region, id)
}

func (r rdsFromContext) OngoingJobs(ctx context.Context, region, id string) ([]backup.Job, string, error) {
	c, err := r.client(ctx)
	if err != nil {
		return nil, "", err
	}
	return c.OngoingJobs(ctx, region, id)
}

func (r rdsFromContext) Job(ctx context.Context, region, id, jobID string) (backup.Job, bool, string, error) {
	c, err := r.client(ctx)
	if err != nil {
		return backup.Job{}, false, "", err
	}
	return c.Job(ctx, region, id, jobID)
}

func (r rdsFromContext) RecentBackups(ctx context.Context, region, id string, since time.Time) ([]rdsclient.BackupSet, string, error) {
	c, err := r.client(ctx)
	if err != nil {
		return nil, "", err
	}
	return c.RecentBackups(ctx, region, id, since)
}

func (r rdsFromContext) Databases(ctx context.Context, region, id string) ([]string, string, error) {
	c, err := r.client(ctx)
	if err != nil {
		return nil, "", err
	}
	return c.Databases(ctx, region, id)
}

func (r rdsFromContext) CreateBackup(ctx context.Context, req backup.Request) (string, string, error) {
	c, err := r.client(ctx)
	if err != nil {
		return "", "", err
	}
	return c.CreateBackup(ctx, req)
}

func (r rdsFromContext) ListInstances(ctx context.Context, sel backup.Selector, page, size int) ([]string, int, string, error) {
	c, err := r.client(ctx)
	if err != nil {
		return nil, 0, "", err
	}
	return c.ListInstances(ctx, sel, page, size)
}

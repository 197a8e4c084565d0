package reask

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
	"github.com/fc-rds-backup/fc-rds-backup/shared/settle"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tracker"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// Accounts gives the RDS client of an account, and the outcome of an ask
// whose account's client cannot be had (accounts.Accounts).
type Accounts interface {
	Client(ctx context.Context, account, runKey string) (*rdsclient.Client, error)
	NoClient(r backup.Request, h executor.History, err error) backup.Outcome
}

// Readers bind a job reader to an account's client (executor.Executor).
type Readers interface {
	Reader(rds executor.RDS) executor.JobReader
}

// ParkedPublisher publishes an outcome parked in the work queue
// (notify.Publisher).
type ParkedPublisher interface {
	PublishParked(ctx context.Context, m workqueue.Message) error
}

// A Handler handles the follow-ups of one invocation with its clients.
type Handler struct {
	Settle   *settle.Settler
	Work     workqueue.Sender
	Pub      ParkedPublisher
	Accounts Accounts
	Tracker  *tracker.Tracker
	Readers  Readers
	Now      func() time.Time
}

// Track checks a tracked job once (a "track" message) and settles what it
// found.
func (h Handler) Track(ctx context.Context, wm workqueue.Message, sum *settle.Summary) error {
	// A job in a member account is read there.
	cli, err := h.Accounts.Client(ctx, wm.Request.AccountId, wm.Request.CorrelationId)
	if err != nil {
		if memberauth.IsTerminal(err) {
			o := h.Accounts.NoClient(wm.Request, executor.History{FirstSeen: wm.FirstSeen}, err)
			o.Status, o.Terminal, o.BackupJobId = backup.StatusFailed, true, wm.BackupJobId
			sum.Add(o)
			return h.Settle.Publish(ctx, o)
		}
		sum.Tracking++
		if err := h.Work.Send(ctx, wm, retry.DefaultPolicy.Delay(retry.StateWait, 0)); err != nil {
			return fmt.Errorf("%w: re-schedule tracking of job %s: %w", settle.ErrUnsettled, wm.BackupJobId, err)
		}
		return nil
	}
	res := h.Tracker.With(h.Readers.Reader(cli)).Check(ctx, wm, h.Now())
	if res.Done() && res.Outcome.Error != nil && res.Outcome.Error.Code == tracker.CodeJobFailed {
		return h.jobFailed(ctx, wm, *res.Outcome, sum)
	}
	if res.Done() {
		o := *res.Outcome
		sum.Add(o)
		return h.Settle.Publish(ctx, o)
	}
	if res.Next == nil {
		return h.Settle.Reject(ctx, wm.Request, res.Err, sum)
	}
	sum.Tracking++
	if err := h.Work.Send(ctx, *res.Next, res.Delay); err != nil {
		return fmt.Errorf("%w: re-schedule tracking of job %s: %w", settle.ErrUnsettled, wm.BackupJobId, err)
	}
	return nil
}

// jobFailed: the job an ask was accepted or coalesced with ended Failed. A
// failed backup satisfies no ask (DESIGN.md §2), so the ask is not over: it
// goes back to the work queue with the failure as an attempt, and runs
// again like any repeat — coalesced with a backup that satisfies it, or a
// backup of its own — until its budget is spent. Its verdict then depends
// only on its askedAt and the instance's backups, whichever delivery gives
// it: a redelivery of the ask and this retry reach the same one. The
// failure is published as a non-terminal deferred outcome.
func (h Handler) jobFailed(ctx context.Context, m workqueue.Message, failed backup.Outcome, sum *settle.Summary) error {
	att := backup.Attempt{Time: failed.Time, Action: "BackupJob", Code: failed.Error.Code, Message: failed.Error.Message,
		Retryable: true, Class: "state-wait", RequestId: failed.RequestId}
	delay := retry.DefaultPolicy.Delay(retry.StateWait, 0)
	o := failed
	o.Status, o.Terminal, o.NotBefore = backup.StatusDeferred, false, h.Now().Add(delay)
	o.Attempts = []backup.Attempt{att}
	o.Error = &backup.ErrorInfo{Code: failed.Error.Code, Message: failed.Error.Message, Retryable: true}
	o.Note = backup.JoinNote(failed.Note, "a failed backup satisfies no ask: the ask runs again")
	if err := h.Work.Send(ctx, workqueue.Backup(m.Request, []backup.Attempt{att}, m.Started), delay); err != nil {
		return fmt.Errorf("%w: retry the ask of failed job %s: %w", settle.ErrUnsettled, m.BackupJobId, err)
	}
	sum.Add(o)
	return h.Settle.Publish(ctx, o)
}

// Republish publishes a parked outcome (an "outcome" message) again, or
// parks it again when MNS still fails.
func (h Handler) Republish(ctx context.Context, wm workqueue.Message, sum *settle.Summary) error {
	if err := h.Pub.PublishParked(ctx, wm); err != nil {
		if perr := h.Work.Send(ctx, wm, settle.ParkDelay); perr != nil {
			return fmt.Errorf("%w: parked outcome: %w", settle.ErrUnsettled, errors.Join(err, perr))
		}
	}
	sum.Republished++
	return nil
}

package reask

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/settle"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/workq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

type fakePub struct {
	outcomes []backup.Outcome
	parked   int
	err      error
}

func (p *fakePub) Publish(_ context.Context, o backup.Outcome) error {
	p.outcomes = append(p.outcomes, o)
	return nil
}

func (p *fakePub) PublishParked(context.Context, workqueue.Message) error {
	p.parked++
	return p.err
}

// noAccount: the member account's credentials cannot be had.
type noAccount struct{ err error }

func (n noAccount) Client(context.Context, string, string) (*rdsclient.Client, error) {
	return nil, n.err
}

func (n noAccount) NoClient(r backup.Request, _ executor.History, err error) backup.Outcome {
	return backup.Outcome{Status: backup.StatusFailed, Terminal: true, Request: r, Error: &backup.ErrorInfo{Code: "NoPermission", Message: err.Error()}}
}

func handler(q *workq.Queue, p *fakePub, acct Accounts) Handler {
	now := func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }
	return Handler{Settle: &settle.Settler{Pub: p, Work: q, Now: now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Work: q, Pub: p, Accounts: acct, Now: now}
}

// A job in a member account whose credentials cannot be had now is
// checked again later; one whose role cannot be assumed ends failed,
// naming its job.
func TestTrackInAnUnavailableAccount(t *testing.T) {
	wm := workqueue.Track(backup.Request{DBInstanceId: "rm-a", AccountId: "2000000000000002"}, "job-1", time.Now())
	q, p := &workq.Queue{}, &fakePub{}
	var sum settle.Summary
	if err := handler(q, p, noAccount{errors.New("STS unreachable")}).Track(context.Background(), wm, &sum); err != nil {
		t.Fatal(err)
	}
	if len(q.Sent) != 1 || q.Sent[0].BackupJobId != "job-1" || sum.Tracking != 1 || len(p.outcomes) != 0 {
		t.Fatalf("sent %+v, summary %+v", q.Sent, sum)
	}
	q.Err = errors.New("MNS down")
	if err := handler(q, p, noAccount{errors.New("STS unreachable")}).Track(context.Background(), wm, &sum); !errors.Is(err, settle.ErrUnsettled) {
		t.Fatalf("a check that can be neither made nor re-scheduled: %v, want ErrUnsettled", err)
	}
	terminal := &memberauth.Error{Code: "NoPermission", HTTPStatus: 403, Message: "the role does not trust the functions"}
	if !memberauth.IsTerminal(terminal) {
		t.Skip("NoPermission is no longer terminal")
	}
	if err := handler(q, p, noAccount{terminal}).Track(context.Background(), wm, &sum); err != nil {
		t.Fatal(err)
	}
	if len(p.outcomes) != 1 || p.outcomes[0].BackupJobId != "job-1" || !p.outcomes[0].Terminal {
		t.Fatalf("outcomes %+v", p.outcomes)
	}
}

// A parked outcome is published again, or parked again; when neither
// works the invocation fails.
func TestRepublish(t *testing.T) {
	q, p := &workq.Queue{}, &fakePub{}
	var sum settle.Summary
	wm := workqueue.Message{Kind: workqueue.KindOutcome}
	if err := handler(q, p, nil).Republish(context.Background(), wm, &sum); err != nil || p.parked != 1 || len(q.Sent) != 0 {
		t.Fatalf("%v, parked %d, sent %d", err, p.parked, len(q.Sent))
	}
	p.err = errors.New("notify down")
	if err := handler(q, p, nil).Republish(context.Background(), wm, &sum); err != nil || len(q.Sent) != 1 {
		t.Fatalf("%v, sent %d: want it parked again", err, len(q.Sent))
	}
	q.Err = errors.New("MNS down")
	if err := handler(q, p, nil).Republish(context.Background(), wm, &sum); !errors.Is(err, settle.ErrUnsettled) {
		t.Fatalf("%v, want ErrUnsettled", err)
	}
	if sum.Republished != 2 {
		t.Errorf("republished %d, want 2", sum.Republished)
	}
}

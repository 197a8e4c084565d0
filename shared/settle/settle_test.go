package settle

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/workq"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// fakePub records outcomes; err fails every publish.
type fakePub struct {
	got []backup.Outcome
	err error
}

func (p *fakePub) Publish(_ context.Context, o backup.Outcome) error {
	if p.err != nil {
		return p.err
	}
	p.got = append(p.got, o)
	return nil
}

func settler(q *workq.Queue, p *fakePub) *Settler {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return &Settler{Pub: p, Work: q, Region: "cn-hangzhou", Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// The Settler works with the clients it is given, nothing else: a
// deferred outcome is parked as a backup message and published; when the
// work queue fails too, the caller is told (ErrUnsettled through Run is
// the handlers'); a publish that fails with a body is parked instead.
func TestSettleWithTheGivenClients(t *testing.T) {
	q, p := &workq.Queue{}, &fakePub{}
	s := settler(q, p)
	o := backup.Outcome{Status: backup.StatusDeferred, Request: backup.Request{DBInstanceId: "rm-a", IdempotencyKey: "k"}, NotBefore: s.Now().Add(time.Minute)}
	if err := s.Settle(context.Background(), &o, s.Now()); err != nil {
		t.Fatal(err)
	}
	if len(q.Sent) != 1 || q.Sent[0].Kind != workqueue.KindBackup || len(p.got) != 1 {
		t.Fatalf("sent %+v, published %d: want one backup message and one outcome", q.Sent, len(p.got))
	}

	q.Err = errors.New("MNS down")
	if err := s.Settle(context.Background(), &o, s.Now()); err == nil {
		t.Fatal("a deferred outcome that cannot be parked settled")
	}

	q.Err, p.err = nil, &notify.PublishError{Body: []byte("{}"), Err: errors.New("notify down")}
	if err := s.Publish(context.Background(), backup.Outcome{Status: backup.StatusAccepted}); err != nil {
		t.Fatalf("a publish that failed was not parked: %v", err)
	}
	if last := q.Sent[len(q.Sent)-1]; last.Kind != workqueue.KindOutcome {
		t.Fatalf("parked %+v, want an outcome message", last)
	}
}

// What a waiting caller is told of an outcome that could not be settled.
func TestUnsettled(t *testing.T) {
	if o := unsettled(backup.Outcome{Status: backup.StatusAccepted}, nil); o.Status != backup.StatusAccepted {
		t.Errorf("an accepted outcome became %s", o.Status)
	}
	o := unsettled(backup.Outcome{Status: backup.StatusDeferred}, nil)
	if o.Status != backup.StatusFailed || !o.Terminal || o.Error == nil || o.Error.Code != CodeNotParked || !o.Error.Retryable {
		t.Errorf("a deferred outcome not parked: %+v", o)
	}
}

func TestSummaryMerge(t *testing.T) {
	var s Summary
	s.Add(backup.Outcome{Status: backup.StatusAccepted})
	s.Merge(Summary{Requests: 2, Continued: 1, Tracking: 3, Republished: 4, Outcomes: map[string]int{"accepted": 1, "failed": 1}})
	if s.Requests != 2 || s.Continued != 1 || s.Tracking != 3 || s.Republished != 4 || s.Outcomes["accepted"] != 2 || s.Outcomes["failed"] != 1 {
		t.Errorf("%+v", s)
	}
}

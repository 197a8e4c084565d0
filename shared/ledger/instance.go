package ledger

import (
	"context"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

// InstanceScope is the scope of the rows that name, per instance and
// backup method, the latest job the product made (NoteInstanceJob). They
// share the asks' table; their key is InstanceKey's.
const InstanceScope = "instance"

// InstanceKey is the key of an instance row: region, instance and method.
func InstanceKey(region, instance, method string) string {
	return region + "/" + instance + "/" + method
}

// NoteInstanceJob records jobID, created (or seen running) at created, as
// the latest backup job the product made or joined on the instance with
// the method of key (InstanceKey): 1 UpdateRow, on the condition that the
// row notes no later job (RDS runs one backup of an instance at a time, so
// the later one is the latest); a note older than the row's is dropped
// silently. Another ask that finds no running job and no listed set reads
// it (LastInstanceJob): a job that ended while RDS does not list its set
// yet is then still known (DESIGN.md §2a, across asks).
func (l *Ledger) NoteInstanceJob(ctx context.Context, key, jobID string, created time.Time) error {
	if err := firstErr(checkRowKey(InstanceScope, key), checkText("jobId", jobID, MaxID, false, true)); err != nil {
		return err
	}
	cond := tablestore.NewSingleColumnCondition(ColClaimedAt, tablestore.CT_LESS_EQUAL, created.UnixMilli())
	cond.FilterIfMissing, cond.LatestVersionOnly = false, true
	ch := &tablestore.UpdateRowChange{TableName: l.table, PrimaryKey: pk(InstanceScope, key)}
	ch.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	ch.SetColumnCondition(cond)
	ch.PutColumn(ColJobID, jobID)
	ch.PutColumn(ColClaimedAt, created.UnixMilli())
	ch.PutColumn(ColUpdatedAt, l.clock().UnixMilli())
	err := l.do(ctx, "UpdateRow", func() error {
		_, err := l.client.UpdateRow(&tablestore.UpdateRowRequest{UpdateRowChange: ch})
		return err
	})
	if isConditionFail(err) {
		return nil // a later job is noted already
	}
	return err
}

// LastInstanceJob reads the latest job NoteInstanceJob recorded for key:
// 1 GetRow. found is false when none is recorded (or it expired).
func (l *Ledger) LastInstanceJob(ctx context.Context, key string) (jobID string, created time.Time, found bool, err error) {
	r, found, err := l.Get(ctx, InstanceScope, key)
	if err != nil || !found || r.JobID == "" {
		return "", time.Time{}, false, err
	}
	return r.JobID, r.ClaimedAt, true, nil
}

// SendScope is the scope of send markers: one row per (instance row key,
// delivery) that says a CreateBackup of that method may be on its way or
// may have made a job nobody has seen (NoteInstanceSend).
const SendScope = "send"

// sendSep joins an instance key and an owner in a send marker's key; it
// sorts after every byte an InstanceKey or owner holds before it ('|' is
// 0x7C, and the range end uses the next byte, '}').
const sendSep = "|"

// maxSendPages bounds the pages InstanceSends reads.
const maxSendPages = 10

// Send is an open send marker: owner (a delivery) sent, or was about to
// send, a CreateBackup at At.
type Send struct {
	Owner string
	At    time.Time
}

// NoteInstanceSend records, just before a CreateBackup of the method of
// key (InstanceKey) goes out, that owner is sending it at at: 1 PutRow of
// the owner's own marker row. Until the owner forgets it (the send was
// refused, or what it made is known), another ask that finds no running
// job and no listed set learns from it that a job RDS does not list yet
// may exist — the sender may have got no answer and died, or may still be
// looking (DESIGN.md §2a, across asks).
func (l *Ledger) NoteInstanceSend(ctx context.Context, key, owner string, at time.Time) error {
	if err := firstErr(checkRowKey(InstanceScope, key), checkText("owner", owner, MaxOwner, false, true)); err != nil {
		return err
	}
	if err := checkRowKey(SendScope, key+sendSep+owner); err != nil {
		return err
	}
	ch := &tablestore.PutRowChange{TableName: l.table, PrimaryKey: pk(SendScope, key+sendSep+owner)}
	ch.AddColumn(ColLeaseOwner, owner)
	ch.AddColumn(ColSentAt, at.UnixMilli())
	ch.AddColumn(ColUpdatedAt, l.clock().UnixMilli())
	ch.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	return l.do(ctx, "PutRow", func() error {
		_, err := l.client.PutRow(&tablestore.PutRowRequest{PutRowChange: ch})
		return err
	})
}

// ForgetInstanceSend deletes owner's send marker for key: one row of a
// BatchWriteRow, with the writes of other asks of the moment.
func (l *Ledger) ForgetInstanceSend(ctx context.Context, key, owner string) error {
	if err := firstErr(checkRowKey(InstanceScope, key), checkText("owner", owner, MaxOwner, false, true)); err != nil {
		return err
	}
	if err := checkRowKey(SendScope, key+sendSep+owner); err != nil {
		return err
	}
	ch := &tablestore.DeleteRowChange{TableName: l.table, PrimaryKey: pk(SendScope, key+sendSep+owner)}
	ch.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	// With the writes of other asks of the moment (combine.go): a fleet's
	// throttled CreateBackups each forget their marker.
	res, err := l.batch(ctx, "ForgetInstanceSend", ch)
	if err != nil {
		return err
	}
	if !res[0].IsSucceed {
		return rowError("ForgetInstanceSend", l.table, res[0].Error)
	}
	return nil
}

// InstanceSends reads every send marker of key (InstanceKey) not forgotten
// yet: GetRange over the key's markers, 1 call per page of 100.
func (l *Ledger) InstanceSends(ctx context.Context, key string) ([]Send, error) {
	if err := checkRowKey(InstanceScope, key); err != nil {
		return nil, err
	}
	start, end := pk(SendScope, key+sendSep), pk(SendScope, key+"}")
	var out []Send
	for page := 0; page < maxSendPages && start != nil; page++ {
		rows, next, err := l.getRange(ctx, start, end, tablestore.FORWARD, 100)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			var s Send
			for _, c := range row.Columns {
				switch v := c.Value.(type) {
				case string:
					if c.ColumnName == ColLeaseOwner {
						s.Owner = v
					}
				case int64:
					if c.ColumnName == ColSentAt {
						s.At = time.UnixMilli(v).UTC()
					}
				}
			}
			if s.Owner != "" && !s.At.IsZero() {
				out = append(out, s)
			}
		}
		start = next
	}
	return out, nil
}

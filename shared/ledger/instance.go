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

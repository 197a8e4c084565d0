package ledger

import (
	"context"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

// The ask's two moments that write several rows — just before
// CreateBackup, and once it made a job — go out as one BatchWriteRow each:
// one round trip instead of two or three, on the path every fresh ask
// takes. Each row keeps its own condition; a row's failure is reported as
// the single-row call would report it.

// SendBegin is MarkSending on the ask's row and NoteInstanceSend of
// owner's send marker for instKey in one BatchWriteRow. It returns the new
// lease expiry and the time recorded as the send's (the ledger's clock).
// The ask row's condition failing is ErrLeaseLost or ErrNotFound (1 GetRow
// more), as MarkSending's; the marker failing is its error.
func (l *Ledger) SendBegin(ctx context.Context, scope, key, owner string, d time.Duration, instKey string) (until, at time.Time, err error) {
	if err := firstErr(checkRowKey(scope, key), checkText("owner", owner, MaxOwner, false, true),
		checkRowKey(InstanceScope, instKey), checkRowKey(InstanceScope, markerKey(instKey, owner))); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if d <= 0 {
		return time.Time{}, time.Time{}, &ValidationError{Field: "lease", Rule: "must be positive"}
	}
	now := l.clock()
	until = now.Add(d)
	ask := l.update(scope, key, mustEqual(ColLeaseOwner, owner))
	ask.PutColumn(ColLeaseUntil, until.UnixMilli())
	ask.PutColumn(ColSentAt, now.UnixMilli())
	ask.PutColumn(ColUpdatedAt, now.UnixMilli())
	res, err := l.batch(ctx, "SendBegin", ask, l.markerPut(instKey, owner, now, now))
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if err := l.rowFailed(ctx, "MarkSending", scope, key, res[0], func(r Row) *StateError {
		return &StateError{Kind: ErrLeaseLost, Recorded: r.LeaseOwner, Requested: owner}
	}); err != nil {
		// Nothing will be sent: the marker written beside it must not make
		// other asks wait (best effort; a marker left waits out the lag).
		if res[1].IsSucceed {
			_ = l.ForgetInstanceSend(ctx, instKey, owner)
		}
		return time.Time{}, time.Time{}, err
	}
	if e := res[1]; !e.IsSucceed {
		return time.Time{}, time.Time{}, rowError("NoteInstanceSend", l.table, e.Error)
	}
	return toMs(until), toMs(now), nil
}

// JobMade is RecordJob on the ask's row, NoteInstanceJob for instKey and
// ForgetInstanceSend of owner's marker in one BatchWriteRow. The ask row's
// condition failing is RecordJob's error (ErrLeaseLost, ErrJobConflict,
// ErrNotFound; 1 GetRow more); a later job already noted on the instance
// row is fine, as for NoteInstanceJob. noted says the instance row now
// names the job (or a later one); forgot that the marker is gone.
func (l *Ledger) JobMade(ctx context.Context, scope, key, owner, jobID, instKey string, created time.Time) (noted, forgot bool, err error) {
	if err := firstErr(checkRowKey(scope, key), checkText("owner", owner, MaxOwner, false, true),
		checkText("jobId", jobID, MaxID, false, true), checkRowKey(InstanceScope, instKey),
		checkRowKey(InstanceScope, markerKey(instKey, owner))); err != nil {
		return false, false, err
	}
	now := l.clock()
	cond := tablestore.NewCompositeColumnCondition(tablestore.LO_AND)
	cond.AddFilter(mustEqual(ColLeaseOwner, owner))
	cond.AddFilter(missingOr(ColJobID, jobID))
	ask := l.update(scope, key, cond)
	ask.PutColumn(ColJobID, jobID)
	ask.PutColumn(ColState, string(StateActing))
	ask.PutColumn(ColUpdatedAt, now.UnixMilli())
	icond := tablestore.NewSingleColumnCondition(ColClaimedAt, tablestore.CT_LESS_EQUAL, created.UnixMilli())
	icond.FilterIfMissing, icond.LatestVersionOnly = false, true
	inst := &tablestore.UpdateRowChange{TableName: l.table, PrimaryKey: pk(InstanceScope, instKey)}
	inst.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	inst.SetColumnCondition(icond)
	inst.PutColumn(ColJobID, jobID)
	inst.PutColumn(ColClaimedAt, created.UnixMilli())
	inst.PutColumn(ColUpdatedAt, now.UnixMilli())
	forget := &tablestore.DeleteRowChange{TableName: l.table, PrimaryKey: pk(InstanceScope, markerKey(instKey, owner))}
	forget.SetCondition(tablestore.RowExistenceExpectation_IGNORE)
	res, err := l.batch(ctx, "JobMade", ask, inst, forget)
	if err != nil {
		return false, false, err
	}
	if err := l.rowFailed(ctx, "RecordJob", scope, key, res[0], func(r Row) *StateError {
		if r.LeaseOwner != owner {
			return &StateError{Kind: ErrLeaseLost, Recorded: r.LeaseOwner, Requested: owner}
		}
		return &StateError{Kind: ErrJobConflict, Recorded: r.JobID, Requested: jobID}
	}); err != nil {
		return false, false, err
	}
	noted = res[1].IsSucceed || res[1].Error.Code == codeConditionCheckFail
	return noted, res[2].IsSucceed, nil
}

// batch sends changes (rows of the ledger's table) as one BatchWriteRow,
// combined with other asks' writes of the moment (combine.go), and returns
// one result per change, in order.
func (l *Ledger) batch(ctx context.Context, op string, changes ...tablestore.RowChange) ([]tablestore.RowResult, error) {
	return l.write(ctx, writeGroup{name: op, changes: changes})
}

// rowFailed turns a failed ask-row result into the single-row call's
// error: a condition that does not hold is read back to say why.
func (l *Ledger) rowFailed(ctx context.Context, op, scope, key string, r tablestore.RowResult, why func(Row) *StateError) error {
	if r.IsSucceed {
		return nil
	}
	if r.Error.Code != codeConditionCheckFail {
		return rowError(op, l.table, r.Error)
	}
	return l.stateError(ctx, op, scope, key, why)
}

// rowError is one row's failure in a batch, classified by its code.
func rowError(op, table string, e tablestore.Error) *Error {
	return wrap(op, table, &tablestore.OtsError{Code: e.Code, Message: e.Message})
}

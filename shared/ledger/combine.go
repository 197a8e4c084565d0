package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/groupcommit"
)

// The hot path's writes — a claim, the moment before CreateBackup, the job
// made — of asks running at the same time go out together: while
// DefaultWritesInFlight calls are out, the next writes wait and leave as
// one BatchWriteRow (shared/groupcommit). A lone write goes at once by its
// own call, as before (Claim's put alone is still a PutRow). Each row keeps
// its own condition and its own result; a failure of the whole call is
// every writer's, retried by each as its own failure.

// Tablestore's bounds of one BatchWriteRow: 200 rows and 4 MB.
const (
	maxBatchRows  = 200
	maxBatchBytes = 4 << 20
)

// DefaultWritesInFlight is the most combined write calls out at once.
const DefaultWritesInFlight = 2

// WithWritesInFlight sets how many combined write calls may be out at
// once (default DefaultWritesInFlight; fewer makes larger batches).
func WithWritesInFlight(n int) Option {
	return func(l *Ledger) {
		if n > 0 {
			l.inFlight = n
		}
	}
}

// writeGroup is one caller's rows: one BatchWriteRow of their own (op
// "BatchWriteRow" with the caller's name in name) or one PutRow.
type writeGroup struct {
	name    string // the caller's operation, for errors: SendBegin, JobMade, PutRow
	put     *tablestore.PutRowChange
	changes []tablestore.RowChange
	keys    []string
	bytes   int
}

func (g writeGroup) rows() []tablestore.RowChange {
	if g.put != nil {
		return []tablestore.RowChange{g.put}
	}
	return g.changes
}

// newWrites builds the ledger's combiner.
func (l *Ledger) newWrites() *groupcommit.Combiner[writeGroup, []tablestore.RowResult] {
	return &groupcommit.Combiner[writeGroup, []tablestore.RowResult]{
		MaxItems:    maxBatchRows,
		MaxInFlight: l.inFlight,
		Fit: func() func(writeGroup) bool {
			rows, bytes := 0, 0
			seen := map[string]bool{}
			return func(next writeGroup) bool {
				if rows+len(next.keys) > maxBatchRows || bytes+next.bytes > maxBatchBytes/2 { // half: the encoding's overhead
					return false
				}
				for _, k := range next.keys {
					if seen[k] { // one row twice in a batch fails the whole call
						return false
					}
				}
				rows, bytes = rows+len(next.keys), bytes+next.bytes
				for _, k := range next.keys {
					seen[k] = true
				}
				return true
			}
		},
		Solo:  l.writeAlone,
		Batch: l.writeTogether,
	}
}

// writeAlone sends one caller's rows by its own call.
func (l *Ledger) writeAlone(_ context.Context, g writeGroup) ([]tablestore.RowResult, error) {
	if g.put != nil {
		_, err := l.client.PutRow(&tablestore.PutRowRequest{PutRowChange: g.put})
		if oe, ok := err.(*tablestore.OtsError); ok && oe.Code == codeConditionCheckFail {
			return []tablestore.RowResult{{IsSucceed: false, Error: tablestore.Error{Code: oe.Code, Message: oe.Message}}}, nil
		}
		if err != nil {
			return nil, err
		}
		return []tablestore.RowResult{{IsSucceed: true}}, nil
	}
	return l.batchWrite(g.changes)
}

// writeTogether sends several callers' rows as one BatchWriteRow and gives
// each its own results.
func (l *Ledger) writeTogether(_ context.Context, gs []writeGroup) ([][]tablestore.RowResult, error) {
	var all []tablestore.RowChange
	for _, g := range gs {
		all = append(all, g.rows()...)
	}
	rows, err := l.batchWrite(all)
	if err != nil {
		return nil, err
	}
	out := make([][]tablestore.RowResult, len(gs))
	i := 0
	for k, g := range gs {
		n := len(g.rows())
		out[k] = rows[i : i+n : i+n]
		i += n
	}
	return out, nil
}

// batchWrite is one BatchWriteRow of changes, its results in their order.
func (l *Ledger) batchWrite(changes []tablestore.RowChange) ([]tablestore.RowResult, error) {
	req := &tablestore.BatchWriteRowRequest{}
	for _, ch := range changes {
		req.AddRowChange(ch)
	}
	resp, err := l.client.BatchWriteRow(req)
	if err != nil {
		return nil, err
	}
	rows := append([]tablestore.RowResult(nil), resp.TableToRowsResult[l.table]...)
	if len(rows) != len(changes) {
		return nil, errBatchShape
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Index < rows[j].Index })
	return rows, nil
}

// write sends g with the writes of other asks at the same time and returns
// its rows' results, in order. Like do: a dead context makes no call, and
// a context that ends while the call is out leaves its effect unknown.
func (l *Ledger) write(ctx context.Context, g writeGroup) ([]tablestore.RowResult, error) {
	op := "BatchWriteRow"
	if g.put != nil {
		op = "PutRow"
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: op, Table: l.table, Canceled: true, Err: err}
	}
	g.keys = g.keys[:0]
	for _, ch := range g.rows() {
		k, n := rowKey(ch)
		g.keys = append(g.keys, k)
		g.bytes += n
	}
	res, err := l.writes.Do(ctx, g)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, &Error{Op: op, Table: l.table, Canceled: true, Err: ctx.Err()}
	case err == errBatchShape:
		return nil, &Error{Op: g.name, Table: l.table, Retryable: true, Err: errBatchShape}
	case err != nil:
		return nil, wrap(op, l.table, err)
	}
	return res, nil
}

// rowKey is a change's primary key as text (to keep one row out of a batch
// twice) and a rough size of the change (at least its values' size as
// text: every row of a fleet's batches passes here, so no value is
// formatted to be measured).
func rowKey(ch tablestore.RowChange) (string, int) {
	var pk *tablestore.PrimaryKey
	size := 256
	switch c := ch.(type) {
	case *tablestore.PutRowChange:
		pk = c.PrimaryKey
		for _, col := range c.Columns {
			size += len(col.ColumnName) + textLen(col.Value)
		}
	case *tablestore.UpdateRowChange:
		pk = c.PrimaryKey
		for _, col := range c.Columns {
			size += len(col.ColumnName) + textLen(col.Value)
		}
	case *tablestore.DeleteRowChange:
		pk = c.PrimaryKey
	}
	var b strings.Builder
	if pk != nil {
		for _, c := range pk.PrimaryKeys {
			s, ok := c.Value.(string)
			if !ok {
				s = fmt.Sprint(c.Value)
			}
			b.WriteString(s)
			b.WriteByte(0)
			size += len(s)
		}
	}
	return b.String(), size
}

// textLen is at least len(fmt.Sprint(v)) for a column's value.
func textLen(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []byte:
		return len(fmt.Sprint(v)) // "[1 2 3]": rare in the ledger's rows
	case int64, int, float64:
		return 24 // the longest int64 or float64 as text
	case bool:
		return 5
	case nil:
		return 5 // "<nil>"
	}
	return len(fmt.Sprint(v))
}

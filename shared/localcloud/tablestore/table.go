package tablestore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
)

// Limits of the service that the server enforces, as the pages "General
// limits" (doc 91524) and "Limits on the Wide Column model" state them: 64
// tables per instance, 1–4 primary key columns, table names of 1–255 bytes
// of letters, digits and "_" not starting with a digit, 200 rows per
// BatchWriteRow, GetRange pages of at most 5000 rows.
const (
	minTTLSeconds        = 86400 // TimeToLive: -1 or at least one day
	maxPrimaryKeys       = 4     // 1 to 4 primary key columns
	maxTablesPerInstance = 64    // default table quota of an instance
	maxBatchWriteRows    = 200   // rows of one BatchWriteRow
	defaultRangePage     = 5000  // rows one GetRange answers at most
	defaultDeviationSecs = 86400 // default max version offset
)

type pkSchema struct {
	name    string
	typ     otsprotocol.PrimaryKeyType
	autoInc bool
}

// vt is the variant type a primary key column of this schema holds.
func (p pkSchema) vt() byte {
	switch p.typ {
	case otsprotocol.PrimaryKeyType_INTEGER:
		return vtInteger
	case otsprotocol.PrimaryKeyType_STRING:
		return vtString
	}
	return vtBlob
}

type version struct {
	ts int64 // ms
	v  value
}

type storedRow struct {
	pk     []value
	cols   map[string][]version // newest first
	marker int64                // ms of the last write to the row (a row with no column lives by it)
	placed bool                 // in table.rows (else in table.added)
	gone   bool                 // deleted: no longer in index; sorted drops it
}

type table struct {
	name        string
	pks         []pkSchema
	defined     []*otsprotocol.DefinedColumnSchema
	ttl         int32 // seconds; -1: forever
	maxVersions int32
	deviation   int64 // seconds
	allowUpdate bool
	readCU      int32
	writeCU     int32
	created     time.Time
	rows        []*storedRow          // sorted by primary key, as of the last range read (sorted)
	added       []*storedRow          // rows made since, in no order: a write does not shift the sorted slice
	removed     []*storedRow          // the rows of rows deleted since (marked gone; deleted added ones are only marked)
	index       map[string]*storedRow // every row by pkKey: a point read or write finds its row without the binary search
	autoInc     int64
}

// comparePKValue orders two values of one primary key column:
// INF_MIN < every value < INF_MAX; integers by number, strings and blobs by
// bytes.
func comparePKValue(a, b value) int {
	rank := func(v value) int {
		switch v.vt {
		case vtInfMin:
			return -1
		case vtInfMax:
			return 1
		}
		return 0
	}
	if ra, rb := rank(a), rank(b); ra != 0 || rb != 0 {
		return cmp.Compare(ra, rb)
	}
	if a.vt != b.vt {
		return cmp.Compare(a.vt, b.vt)
	}
	if a.vt == vtInteger {
		return cmp.Compare(a.i, b.i)
	}
	return bytes.Compare(a.s, b.s)
}

func comparePK(a, b []value) int {
	for i := range min(len(a), len(b)) {
		if c := comparePKValue(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// find is where pk is or would be in sorted().
func (t *table) find(pk []value) (int, bool) {
	return slices.BinarySearchFunc(t.sorted(), pk, rowPKCmp)
}

func rowPKCmp(r *storedRow, pk []value) int { return comparePK(r.pk, pk) }

// sorted returns every row in key order (for range reads). Writes only
// append new rows (added) and mark deleted ones (removed): a fleet writes
// thousands of rows between two range reads, and each used to search and
// shift the sorted rows. Here the rows removed since the last call are cut
// out and the rows added are merged in, by binary searches and block
// copies: never more work than those writes' own inserts and deletes,
// however reads and writes interleave.
func (t *table) sorted() []*storedRow {
	if len(t.removed) > 0 {
		at := make([]int, 0, len(t.removed))
		for _, r := range t.removed {
			if i, ok := slices.BinarySearchFunc(t.rows, r.pk, rowPKCmp); ok && t.rows[i] == r {
				at = append(at, i)
			}
		}
		if len(at) > 0 {
			slices.Sort(at)
			w := at[0] // the rows before the first removed one stay where they are
			for k, i := range at {
				end := len(t.rows)
				if k+1 < len(at) {
					end = at[k+1]
				}
				w += copy(t.rows[w:], t.rows[i+1:end]) // the run up to the next removed row
			}
			clear(t.rows[w:])
			t.rows = t.rows[:w]
		}
		clear(t.removed)
		t.removed = t.removed[:0]
	}
	if len(t.added) == 0 {
		return t.rows
	}
	added := slices.DeleteFunc(t.added, func(r *storedRow) bool { return r.gone })
	slices.SortFunc(added, func(a, b *storedRow) int { return comparePK(a.pk, b.pk) })
	if len(added) <= 4 {
		for _, r := range added {
			i, _ := slices.BinarySearchFunc(t.rows, r.pk, rowPKCmp)
			t.rows = slices.Insert(t.rows, i, r)
			r.placed = true
		}
	} else {
		merged := make([]*storedRow, 0, len(t.rows)+len(added))
		i := 0
		for _, r := range added {
			j, _ := slices.BinarySearchFunc(t.rows[i:], r.pk, rowPKCmp)
			merged = append(append(merged, t.rows[i:i+j]...), r)
			i += j
			r.placed = true
		}
		t.rows = append(merged, t.rows[i:]...)
	}
	clear(t.added)
	t.added = t.added[:0]
	return t.rows
}

// live reports whether a cell written at ts (ms) is still visible at nowMs.
func (t *table) live(ts, nowMs int64) bool {
	return t.ttl < 0 || nowMs-ts < int64(t.ttl)*1000
}

// view is a row as a reader sees it at one instant: only cells within the
// table's TTL.
type view struct {
	exists bool
	row    *storedRow
	cols   map[string][]version // live versions, newest first
}

func (t *table) view(pk []value, nowMs int64) view {
	r := t.index[pkKey(pk)]
	if r == nil {
		return view{}
	}
	return t.viewOf(r, nowMs)
}

// pkKey encodes a primary key as a map key: each column's type, then its
// integer (8 bytes) or its bytes (length-prefixed).
func pkKey(pk []value) string {
	var b []byte
	for _, v := range pk {
		b = append(b, v.vt)
		if v.vt == vtInteger {
			b = binary.BigEndian.AppendUint64(b, uint64(v.i))
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(v.s)))
		b = append(b, v.s...)
	}
	return string(b)
}

func (t *table) viewOf(r *storedRow, nowMs int64) view {
	if t.allLive(r, nowMs) {
		// Nothing expired (the usual case): the view is the row's own
		// columns, read-only; a write that changes the row takes a new view.
		return view{row: r, cols: r.cols, exists: len(r.cols) > 0 || t.live(r.marker, nowMs)}
	}
	v := view{row: r, cols: map[string][]version{}}
	for name, vs := range r.cols {
		var keep []version
		for _, x := range vs {
			if t.live(x.ts, nowMs) {
				keep = append(keep, x)
			}
		}
		if len(keep) > 0 {
			v.cols[name] = keep
		}
	}
	v.exists = len(v.cols) > 0 || (len(r.cols) == 0 && t.live(r.marker, nowMs))
	return v
}

// allLive reports whether every version of r is within the table's TTL.
func (t *table) allLive(r *storedRow, nowMs int64) bool {
	if t.ttl < 0 {
		return true
	}
	for _, vs := range r.cols {
		for _, x := range vs {
			if !t.live(x.ts, nowMs) {
				return false
			}
		}
	}
	return true
}

// upsert returns the stored row for pk, creating it when absent.
func (t *table) upsert(pk []value) *storedRow {
	k := pkKey(pk)
	if r := t.index[k]; r != nil {
		return r
	}
	r := &storedRow{pk: pk, cols: map[string][]version{}}
	t.added = append(t.added, r)
	if t.index == nil {
		t.index = map[string]*storedRow{}
	}
	t.index[k] = r
	return r
}

func (t *table) remove(pk []value) {
	k := pkKey(pk)
	r := t.index[k]
	if r == nil {
		return
	}
	delete(t.index, k)
	r.gone = true
	if r.placed {
		t.removed = append(t.removed, r)
	}
}

// putVersion writes one version of a column, replacing a version with the
// same timestamp, and keeps the newest maxVersions.
func (t *table) putVersion(r *storedRow, name string, x version) {
	vs := r.cols[name]
	i, found := slices.BinarySearchFunc(vs, x.ts, func(v version, ts int64) int { return cmp.Compare(ts, v.ts) })
	if found {
		vs[i] = x
	} else {
		vs = slices.Insert(vs, i, x)
	}
	if len(vs) > int(t.maxVersions) {
		vs = vs[:t.maxVersions]
	}
	r.cols[name] = vs
}

// liveRows counts the rows visible at nowMs.
func (t *table) liveRows(nowMs int64) int {
	n := 0
	for _, r := range t.index {
		if t.viewOf(r, nowMs).exists {
			n++
		}
	}
	return n
}

func pkCells(t *table, pk []value) []pbCell {
	out := make([]pbCell, len(pk))
	for i, v := range pk {
		out[i] = pbCell{name: t.pks[i].name, hasValue: true, v: v}
	}
	return out
}

package tablestore

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

type pkMode int

const (
	pkExact pkMode = iota // every column a value of its type (GetRow, UpdateRow, DeleteRow)
	pkWrite               // and AUTO_INCREMENT where the schema says so (PutRow)
	pkRange               // or INF_MIN / INF_MAX (GetRange)
)

// validatePK checks a request's primary key against the table's schema, with
// the OTSInvalidPK messages the Python SDK's tests assert
// (tests/row_op_test.py: "Validate PK size fail. Input: 1, Meta: 2.",
// "Validate PK name fail. Input: PK2, Meta: PK1."; the type message is
// modeled on them, not verified).
func validatePK(t *table, cells []pbCell, mode pkMode) ([]value, *Error) {
	if len(cells) != len(t.pks) {
		return nil, newErr("OTSInvalidPK", "Validate PK size fail. Input: %d, Meta: %d.", len(cells), len(t.pks))
	}
	out := make([]value, len(cells))
	for i, c := range cells {
		p := t.pks[i]
		if c.name != p.name {
			return nil, newErr("OTSInvalidPK", "Validate PK name fail. Input: %s, Meta: %s.", c.name, p.name)
		}
		if !c.hasValue || c.hasOp || c.hasTS {
			return nil, newErr("OTSParameterInvalid", "Invalid primary key column '%s': a value and nothing else is expected.", c.name)
		}
		ok := c.v.vt == p.vt() ||
			(mode == pkRange && (c.v.vt == vtInfMin || c.v.vt == vtInfMax)) ||
			(mode == pkWrite && p.autoInc && c.v.vt == vtAutoIncrement)
		if !ok {
			return nil, newErr("OTSInvalidPK", "Validate PK type fail. Input: %s, Meta: %s.", vtName(c.v.vt), vtName(p.vt()))
		}
		out[i] = c.v
	}
	return out, nil
}

func isDataType(vt byte) bool {
	switch vt {
	case vtInteger, vtDouble, vtBoolean, vtString, vtBlob:
		return true
	}
	return false
}

// cellTS is the timestamp a written cell gets: now, or its own, which must
// lie in [now - min(max version offset, TTL), now + max version offset) (the
// "TableOptions" page, deviation_cell_version_in_sec).
func (s *Server) cellTS(t *table, c pbCell, nowMs int64) (int64, *Error) {
	if !c.hasTS {
		return nowMs, nil
	}
	back := t.deviation
	if t.ttl > 0 {
		back = min(back, int64(t.ttl))
	}
	if c.ts < nowMs-back*1000 || c.ts >= nowMs+t.deviation*1000 || c.ts < 0 {
		return 0, newErr("OTSParameterInvalid", "The timestamp %d of column '%s' is out of the valid version range of the table.", c.ts, c.name)
	}
	return c.ts, nil
}

// consumedFor is the capacity a write is charged: one write unit per 4 KB of
// row started, one read unit when a condition had to read the row.
func consumedFor(c *otsprotocol.Condition, size int) *otsprotocol.ConsumedCapacity {
	var read int32
	if c.GetRowExistence() != otsprotocol.RowExistenceExpectation_IGNORE || len(c.GetColumnCondition()) > 0 {
		read = 1
	}
	return consumed(read, int32(max(1, (size+4095)/4096)))
}

func pkOnly(t *table, pk []value) []byte {
	return encodeRows(pbRow{pk: pkCells(t, pk)})
}

// ---- writes ----

// applyPut replaces a row (PutRow and a BatchWriteRow PUT).
func (s *Server) applyPut(t *table, raw []byte, c *otsprotocol.Condition, rc *otsprotocol.ReturnContent) ([]byte, *Error) {
	row, err := decodeRow(raw)
	if err != nil {
		return nil, newErr("OTSParameterInvalid", "Invalid row: %v.", err)
	}
	return s.putDecoded(t, row, c, rc)
}

// putDecoded is applyPut for a decoded row.
func (s *Server) putDecoded(t *table, row pbRow, c *otsprotocol.Condition, rc *otsprotocol.ReturnContent) ([]byte, *Error) {
	pk, e := validatePK(t, row.pk, pkWrite)
	if e != nil {
		return nil, e
	}
	now := s.nowMs()
	versions := map[string][]version{}
	for _, cell := range row.cells {
		if !cell.hasValue || cell.hasOp || !isDataType(cell.v.vt) {
			return nil, newErr("OTSParameterInvalid", "Invalid attribute column '%s' in PutRow: a value of a data type is expected.", cell.name)
		}
		ts, e := s.cellTS(t, cell, now)
		if e != nil {
			return nil, e
		}
		versions[cell.name] = append(versions[cell.name], version{ts: ts, v: cell.v})
	}
	for i, v := range pk {
		if v.vt == vtAutoIncrement {
			t.autoInc = max(t.autoInc+1, now*1000)
			pk[i] = value{vt: vtInteger, i: t.autoInc}
		}
	}
	if e := checkCondition(c, t.view(pk, now)); e != nil {
		return nil, e
	}
	r := t.upsert(pk)
	r.cols = map[string][]version{}
	r.marker = now
	for name, vs := range versions {
		for _, x := range vs {
			t.putVersion(r, name, x)
		}
	}
	if rc.GetReturnType() == otsprotocol.ReturnType_RT_PK {
		return pkOnly(t, pk), nil
	}
	return nil, nil
}

// applyUpdate changes columns of a row (UpdateRow and a BatchWriteRow
// UPDATE): a cell without an op puts a version, DELETE_ALL_VERSION (0x1)
// removes the column, DELETE_ONE_VERSION (0x3) the version with the cell's
// timestamp, INCREMENT (0x4) adds the integer to the latest version.
func (s *Server) applyUpdate(t *table, raw []byte, c *otsprotocol.Condition, rc *otsprotocol.ReturnContent) ([]byte, *Error) {
	row, err := decodeRow(raw)
	if err != nil {
		return nil, newErr("OTSParameterInvalid", "Invalid row: %v.", err)
	}
	return s.updateDecoded(t, row, c, rc)
}

// updateDecoded is applyUpdate for a decoded row.
func (s *Server) updateDecoded(t *table, row pbRow, c *otsprotocol.Condition, rc *otsprotocol.ReturnContent) ([]byte, *Error) {
	pk, e := validatePK(t, row.pk, pkExact)
	if e != nil {
		return nil, e
	}
	if !t.allowUpdate {
		return nil, newErr("OTSParameterInvalid", "UpdateRow is not allowed on a table whose AllowUpdate is false.")
	}
	if len(row.cells) == 0 {
		return nil, newErr("OTSParameterInvalid", "No column is specified in UpdateRow.")
	}
	now := s.nowMs()
	creates := false
	for _, cell := range row.cells {
		switch {
		case !cell.hasOp:
			if !cell.hasValue || !isDataType(cell.v.vt) {
				return nil, newErr("OTSParameterInvalid", "Invalid attribute column '%s' in UpdateRow: a value of a data type is expected.", cell.name)
			}
			if _, e := s.cellTS(t, cell, now); e != nil {
				return nil, e
			}
			creates = true
		case cell.op == opDeleteAllVersions || cell.op == opDeleteOneVersion:
			if cell.hasValue || (cell.op == opDeleteOneVersion && !cell.hasTS) {
				return nil, newErr("OTSParameterInvalid", "Invalid delete of column '%s' in UpdateRow.", cell.name)
			}
		case cell.op == opIncrement:
			if !cell.hasValue || cell.v.vt != vtInteger || cell.hasTS {
				return nil, newErr("OTSParameterInvalid", "The increment of column '%s' must be an integer without a timestamp.", cell.name)
			}
			creates = true
		default:
			return nil, newErr("OTSParameterInvalid", "Unknown operation 0x%x on column '%s'.", cell.op, cell.name)
		}
	}
	v := t.view(pk, now)
	if e := checkCondition(c, v); e != nil {
		return nil, e
	}
	for _, cell := range row.cells {
		if cell.op == opIncrement {
			if vs := v.cols[cell.name]; len(vs) > 0 && vs[0].v.vt != vtInteger {
				return nil, newErr("OTSParameterInvalid", "Column '%s' to increment is not an integer.", cell.name)
			}
		}
	}
	if !v.exists && !creates {
		return returnAfter(t, pk, v, rc), nil // nothing to delete
	}
	r := t.upsert(pk)
	if !v.exists { // a row that expired is written anew
		r.cols = map[string][]version{}
	}
	r.marker = now
	for _, cell := range row.cells {
		switch {
		case !cell.hasOp:
			ts, _ := s.cellTS(t, cell, now)
			t.putVersion(r, cell.name, version{ts: ts, v: cell.v})
		case cell.op == opDeleteAllVersions:
			delete(r.cols, cell.name)
		case cell.op == opDeleteOneVersion:
			r.cols[cell.name] = slices.DeleteFunc(r.cols[cell.name], func(x version) bool { return x.ts == cell.ts })
			if len(r.cols[cell.name]) == 0 {
				delete(r.cols, cell.name)
			}
		case cell.op == opIncrement:
			base := int64(0)
			if cur := t.viewOf(r, now).cols[cell.name]; len(cur) > 0 {
				base = cur[0].v.i
			}
			t.putVersion(r, cell.name, version{ts: now, v: value{vt: vtInteger, i: base + cell.v.i}})
		}
	}
	return returnAfter(t, pk, t.viewOf(r, now), rc), nil
}

// returnAfter answers RT_AFTER_MODIFY: the latest version of each column
// named in return_column_names.
func returnAfter(t *table, pk []value, v view, rc *otsprotocol.ReturnContent) []byte {
	switch rc.GetReturnType() {
	case otsprotocol.ReturnType_RT_PK:
		return pkOnly(t, pk)
	case otsprotocol.ReturnType_RT_AFTER_MODIFY:
		out := pbRow{pk: pkCells(t, pk)}
		for _, name := range rc.GetReturnColumnNames() {
			if vs := v.cols[name]; len(vs) > 0 {
				out.cells = append(out.cells, pbCell{name: name, hasValue: true, v: vs[0].v, hasTS: true, ts: vs[0].ts})
			}
		}
		return encodeRows(out)
	}
	return nil
}

// applyDelete removes a row (DeleteRow and a BatchWriteRow DELETE).
func (s *Server) applyDelete(t *table, raw []byte, c *otsprotocol.Condition) *Error {
	row, err := decodeRow(raw)
	if err != nil {
		return newErr("OTSParameterInvalid", "Invalid primary key: %v.", err)
	}
	return s.deleteDecoded(t, row, c)
}

// deleteDecoded is applyDelete for a decoded row.
func (s *Server) deleteDecoded(t *table, row pbRow, c *otsprotocol.Condition) *Error {
	if len(row.cells) > 0 {
		return newErr("OTSParameterInvalid", "A row to delete carries only its primary key.")
	}
	pk, e := validatePK(t, row.pk, pkExact)
	if e != nil {
		return e
	}
	if e := checkCondition(c, t.view(pk, s.nowMs())); e != nil {
		return e
	}
	t.remove(pk)
	return nil
}

func (s *Server) putRow(in *otsprotocol.PutRowRequest) (proto.Message, *Error) {
	t, e := s.table(in.GetTableName())
	if e != nil {
		return nil, e
	}
	if in.TransactionId != nil {
		return nil, newErr("OTSParameterInvalid", "Local transactions are not modeled by the emulator.")
	}
	row, e := s.applyPut(t, in.GetRow(), in.GetCondition(), in.GetReturnContent())
	if e != nil {
		return nil, e
	}
	return &otsprotocol.PutRowResponse{Consumed: consumedFor(in.GetCondition(), len(in.GetRow())), Row: row}, nil
}

func (s *Server) updateRow(in *otsprotocol.UpdateRowRequest) (proto.Message, *Error) {
	t, e := s.table(in.GetTableName())
	if e != nil {
		return nil, e
	}
	if in.TransactionId != nil {
		return nil, newErr("OTSParameterInvalid", "Local transactions are not modeled by the emulator.")
	}
	row, e := s.applyUpdate(t, in.GetRowChange(), in.GetCondition(), in.GetReturnContent())
	if e != nil {
		return nil, e
	}
	return &otsprotocol.UpdateRowResponse{Consumed: consumedFor(in.GetCondition(), len(in.GetRowChange())), Row: row}, nil
}

func (s *Server) deleteRow(in *otsprotocol.DeleteRowRequest) (proto.Message, *Error) {
	t, e := s.table(in.GetTableName())
	if e != nil {
		return nil, e
	}
	if in.TransactionId != nil {
		return nil, newErr("OTSParameterInvalid", "Local transactions are not modeled by the emulator.")
	}
	if e := s.applyDelete(t, in.GetPrimaryKey(), in.GetCondition()); e != nil {
		return nil, e
	}
	return &otsprotocol.DeleteRowResponse{Consumed: consumedFor(in.GetCondition(), len(in.GetPrimaryKey()))}, nil
}

// ---- reads ----

// readSpec is what a read selects of each row.
type readSpec struct {
	columns     []string
	timeRange   *otsprotocol.TimeRange
	maxVersions int32
	filter      *otsprotocol.Filter
}

func newReadSpec(columns []string, tr *otsprotocol.TimeRange, maxVersions *int32, filter []byte, startCol, endCol *string) (readSpec, *Error) {
	spec := readSpec{columns: columns, timeRange: tr, maxVersions: -1}
	if maxVersions != nil {
		if *maxVersions < 1 {
			return spec, newErr("OTSParameterInvalid", "MaxVersions must be greater than 0.")
		}
		spec.maxVersions = *maxVersions
	}
	if maxVersions == nil && tr == nil {
		return spec, newErr("OTSParameterInvalid", "Either max_versions or time_range must be specified.")
	}
	if startCol != nil || endCol != nil {
		return spec, newErr("OTSParameterInvalid", "start_column and end_column are not modeled by the emulator.")
	}
	if len(filter) > 0 {
		f, e := decodeFilter(filter)
		if e != nil {
			return spec, e
		}
		spec.filter = f
	}
	return spec, nil
}

func (spec readSpec) inRange(ts int64) bool {
	tr := spec.timeRange
	switch {
	case tr == nil:
		return true
	case tr.SpecificTime != nil:
		return ts == tr.GetSpecificTime()
	}
	return (tr.StartTime == nil || ts >= tr.GetStartTime()) && (tr.EndTime == nil || ts < tr.GetEndTime())
}

// project returns the row as a read selects it, ok false when the read
// returns nothing for it: the row does not exist, the filter refuses it, or
// columns_to_get names only columns the row does not have.
func (spec readSpec) project(t *table, v view) (pbRow, bool, *Error) {
	if !v.exists {
		return pbRow{}, false, nil
	}
	if spec.filter != nil {
		ok, e := evalFilter(spec.filter, v.cols, 0)
		if e != nil || !ok {
			return pbRow{}, false, e
		}
	}
	out := pbRow{pk: pkCells(t, v.row.pk)}
	names := make([]string, 0, len(v.cols))
	for name := range v.cols {
		if len(spec.columns) == 0 || slices.Contains(spec.columns, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		n := int32(0)
		for _, x := range v.cols[name] {
			if spec.maxVersions > 0 && n >= spec.maxVersions {
				break
			}
			if spec.inRange(x.ts) {
				out.cells = append(out.cells, pbCell{name: name, hasValue: true, v: x.v, hasTS: true, ts: x.ts})
				n++
			}
		}
	}
	if len(spec.columns) > 0 && len(out.cells) == 0 {
		return pbRow{}, false, nil
	}
	return out, true, nil
}

func rowReadCU(rowBytes int) int32 { return int32(max(1, (rowBytes+4095)/4096)) }

func (s *Server) getRow(in *otsprotocol.GetRowRequest) (proto.Message, *Error) {
	t, e := s.table(in.GetTableName())
	if e != nil {
		return nil, e
	}
	if in.TransactionId != nil {
		return nil, newErr("OTSParameterInvalid", "Local transactions are not modeled by the emulator.")
	}
	row, err := decodeRow(in.GetPrimaryKey())
	if err != nil {
		return nil, newErr("OTSParameterInvalid", "Invalid primary key: %v.", err)
	}
	pk, e := validatePK(t, row.pk, pkExact)
	if e != nil {
		return nil, e
	}
	spec, e := newReadSpec(in.GetColumnsToGet(), in.GetTimeRange(), in.MaxVersions, in.GetFilter(), in.StartColumn, in.EndColumn)
	if e != nil {
		return nil, e
	}
	out, ok, e := spec.project(t, t.view(pk, s.nowMs()))
	if e != nil {
		return nil, e
	}
	body := []byte{}
	if ok {
		body = encodeRows(out)
	}
	return &otsprotocol.GetRowResponse{Consumed: consumed(rowReadCU(len(body)), 0), Row: body}, nil
}

// getRange reads rows from inclusive_start_primary_key to
// exclusive_end_primary_key, FORWARD (start < end) or BACKWARD (start > end),
// at most limit rows and at most the page size (WithRangePageSize); when it
// stops early it answers next_start_primary_key, the key to continue from.
func (s *Server) getRange(in *otsprotocol.GetRangeRequest) (proto.Message, *Error) {
	t, e := s.table(in.GetTableName())
	if e != nil {
		return nil, e
	}
	if in.TransactionId != nil {
		return nil, newErr("OTSParameterInvalid", "Local transactions are not modeled by the emulator.")
	}
	if len(in.GetToken()) > 0 {
		return nil, newErr("OTSParameterInvalid", "Tokens (wide-row paging) are not modeled by the emulator.")
	}
	var keys [2][]value
	for i, raw := range [][]byte{in.GetInclusiveStartPrimaryKey(), in.GetExclusiveEndPrimaryKey()} {
		row, err := decodeRow(raw)
		if err != nil {
			return nil, newErr("OTSParameterInvalid", "Invalid primary key: %v.", err)
		}
		if keys[i], e = validatePK(t, row.pk, pkRange); e != nil {
			return nil, e
		}
	}
	start, end := keys[0], keys[1]
	backward := in.GetDirection() == otsprotocol.Direction_BACKWARD
	switch c := comparePK(start, end); {
	case !backward && c >= 0:
		return nil, newErr("OTSParameterInvalid", "Begin key must less than end key in FORWARD")
	case backward && c <= 0:
		return nil, newErr("OTSParameterInvalid", "Begin key must more than end key in BACKWARD")
	}
	limit := s.rangePage
	if in.Limit != nil {
		if in.GetLimit() <= 0 {
			return nil, newErr("OTSParameterInvalid", "The limit must be greater than 0.")
		}
		limit = min(limit, int(in.GetLimit()))
	}
	spec, e := newReadSpec(in.GetColumnsToGet(), in.GetTimeRange(), in.MaxVersions, in.GetFilter(), in.StartColumn, in.EndColumn)
	if e != nil {
		return nil, e
	}

	now := s.nowMs()
	i, found := t.find(start) // t.rows is sorted from here on
	step := 1
	if backward {
		step = -1
		if !found {
			i-- // the last row below start
		}
	}
	inRange := func(pk []value) bool {
		if backward {
			return comparePK(pk, end) > 0
		}
		return comparePK(pk, end) < 0
	}
	var rows []pbRow
	var next []value
	scanned := 0
	for ; i >= 0 && i < len(t.rows) && inRange(t.rows[i].pk); i += step {
		v := t.viewOf(t.rows[i], now)
		if !v.exists {
			continue
		}
		if len(rows) >= limit || scanned >= s.rangePage {
			next = t.rows[i].pk
			break
		}
		scanned++
		out, ok, e := spec.project(t, v)
		if e != nil {
			return nil, e
		}
		if ok {
			rows = append(rows, out)
		}
	}
	body := encodeRows(rows...)
	if body == nil {
		body = []byte{}
	}
	resp := &otsprotocol.GetRangeResponse{
		Consumed:      consumed(rowReadCU(len(body)), 0),
		Rows:          body,
		DataBlockType: otsprotocol.DataBlockType_DBT_PLAIN_BUFFER.Enum(),
		CompressType:  otsprotocol.CompressType_CPT_NONE.Enum(),
	}
	if next != nil {
		resp.NextStartPrimaryKey = pkOnly(t, next)
	}
	return resp, nil
}

// ---- batch ----

// batchWriteRow applies each row on its own, in order, with its own
// condition, and answers a result per row in the request's order: a row that
// fails (its condition, its primary key, a missing table) does not stop the
// others, and the request itself succeeds. Request-level errors follow the
// Python SDK's tests (tests/row_op_test.py): no table, a table with no row,
// a PUT without attribute columns.
func (s *Server) batchWriteRow(in *otsprotocol.BatchWriteRowRequest) (proto.Message, *Error, []string) {
	if len(in.GetTables()) == 0 {
		return nil, newErr("OTSParameterInvalid", "No row is specified in BatchWriteRow."), nil
	}
	if in.GetIsAtomic() || in.TransactionId != nil {
		return nil, newErr("OTSParameterInvalid", "Atomic batches and local transactions are not modeled by the emulator."), nil
	}
	total := 0
	decoded := make([][]pbRow, len(in.GetTables())) // each row decoded once, here
	for ti, tb := range in.GetTables() {
		if len(tb.GetRows()) == 0 {
			return nil, newErr("OTSParameterInvalid", "No operation is specified for table: '%s'.", tb.GetTableName()), nil
		}
		total += len(tb.GetRows())
		seen := make(map[string]bool, len(tb.GetRows()))
		for _, r := range tb.GetRows() {
			row, err := decodeRow(r.GetRowChange())
			if err != nil {
				return nil, newErr("OTSParameterInvalid", "Invalid row: %v.", err), nil
			}
			if r.GetType() == otsprotocol.OperationType_PUT && len(row.cells) == 0 {
				return nil, newErr("OTSParameterInvalid", "Attribute column is missing."), nil
			}
			// The same primary key twice in one table of a batch fails the
			// whole request (BatchWriteRow's page; the message is the
			// service's, which names nothing).
			var k strings.Builder
			for _, c := range row.pk {
				k.WriteString(c.name)
				k.WriteByte(0)
				k.WriteByte(c.v.vt)
				k.WriteString(strconv.FormatInt(c.v.i, 10))
				k.WriteByte(0)
				k.Write(c.v.s)
				k.WriteByte(0)
			}
			if seen[k.String()] {
				return nil, newErr("OTSParameterInvalid", "The input parameter is invalid."), nil
			}
			seen[k.String()] = true
			decoded[ti] = append(decoded[ti], row)
		}
	}
	if total > maxBatchWriteRows {
		return nil, newErr("OTSParameterInvalid", "Rows count exceeds the upper limit: %d.", maxBatchWriteRows), nil
	}
	resp := &otsprotocol.BatchWriteRowResponse{}
	var rowErrs []string
	for ti, tb := range in.GetTables() {
		out := &otsprotocol.TableInBatchWriteRowResponse{TableName: proto.String(tb.GetTableName())}
		t, tableErr := s.table(tb.GetTableName())
		for ri, r := range tb.GetRows() {
			e := tableErr
			var row []byte
			if e == nil {
				switch r.GetType() {
				case otsprotocol.OperationType_PUT:
					row, e = s.putDecoded(t, decoded[ti][ri], r.GetCondition(), r.GetReturnContent())
				case otsprotocol.OperationType_UPDATE:
					row, e = s.updateDecoded(t, decoded[ti][ri], r.GetCondition(), r.GetReturnContent())
				case otsprotocol.OperationType_DELETE:
					e = s.deleteDecoded(t, decoded[ti][ri], r.GetCondition())
				default:
					e = newErr("OTSParameterInvalid", "Unknown operation type %d.", r.GetType())
				}
			}
			res := &otsprotocol.RowInBatchWriteRowResponse{IsOk: proto.Bool(e == nil)}
			if e != nil {
				res.Error = &otsprotocol.Error{Code: proto.String(e.Code), Message: proto.String(e.Message)}
				rowErrs = append(rowErrs, e.Code)
			} else {
				res.Consumed = consumedFor(r.GetCondition(), len(r.GetRowChange()))
				res.Row = row
			}
			out.Rows = append(out.Rows, res)
		}
		resp.Tables = append(resp.Tables, out)
	}
	return resp, nil, rowErrs
}

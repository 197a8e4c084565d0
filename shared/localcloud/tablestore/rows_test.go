package tablestore_test

import (
	"cmp"
	"errors"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

func TestTablesThroughSDK(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	createTable(t, c, "asks", 86400*7, 1)

	d, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: "asks"})
	mustOK(t, err)
	if d.TableOption.TimeToAlive != 86400*7 || d.TableOption.MaxVersion != 1 || len(d.TableMeta.SchemaEntry) != 2 || *d.TableMeta.SchemaEntry[0].Name != "id" {
		t.Fatalf("DescribeTable = %+v %+v", d.TableOption, d.TableMeta)
	}
	l, err := c.ListTable()
	mustOK(t, err)
	if !reflect.DeepEqual(l.TableNames, []string{"asks"}) {
		t.Fatalf("ListTable = %v", l.TableNames)
	}

	// Codes and statuses: the error-code page and the Python SDK's tests.
	meta := &ots.TableMeta{TableName: "asks"}
	meta.AddPrimaryKeyColumn("id", ots.PrimaryKeyType_STRING)
	_, err = c.CreateTable(&ots.CreateTableRequest{TableMeta: meta, TableOption: &ots.TableOption{TimeToAlive: -1, MaxVersion: 1}, ReservedThroughput: &ots.ReservedThroughput{}})
	if oe := otsErr(t, err, 409, "OTSObjectAlreadyExist"); oe.Message != "Requested table already exists." {
		t.Errorf("message %q", oe.Message)
	}
	meta.TableName = "short_ttl"
	_, err = c.CreateTable(&ots.CreateTableRequest{TableMeta: meta, TableOption: &ots.TableOption{TimeToAlive: 3600, MaxVersion: 1}, ReservedThroughput: &ots.ReservedThroughput{}})
	otsErr(t, err, 400, "OTSParameterInvalid")

	_, err = c.DeleteTable(&ots.DeleteTableRequest{TableName: "asks"})
	mustOK(t, err)
	for name, call := range map[string]func() error{
		"DescribeTable": func() error { _, err := c.DescribeTable(&ots.DescribeTableRequest{TableName: "asks"}); return err },
		"DeleteTable":   func() error { _, err := c.DeleteTable(&ots.DeleteTableRequest{TableName: "asks"}); return err },
		"PutRow": func() error {
			return put(c, "asks", pk("a", 1), ots.RowExistenceExpectation_IGNORE, col{"x", int64(1)})
		},
		"GetRow": func() error {
			_, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "asks", PrimaryKey: pk("a", 1), MaxVersion: 1}})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			if oe := otsErr(t, call(), 404, "OTSObjectNotExist"); oe.Message != "Requested table does not exist." {
				t.Errorf("message %q", oe.Message)
			}
		})
	}
}

func TestPutGetDeleteRow(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	createTable(t, c, "asks", -1, 1)

	mustOK(t, put(c, "asks", pk("a", 1), ots.RowExistenceExpectation_IGNORE,
		col{"s", "text"}, col{"i", int64(-7)}, col{"f", 2.5}, col{"b", true}, col{"blob", []byte{0, 1, 2}}))
	got := get(t, c, "asks", pk("a", 1))
	want := map[string]any{"s": "text", "i": int64(-7), "f": 2.5, "b": true, "blob": []byte{0, 1, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetRow = %v, want %v", got, want)
	}
	if get(t, c, "asks", pk("a", 2)) != nil {
		t.Fatal("GetRow of an absent row returned a row")
	}
	// The cell's timestamp is the emulator's clock in ms.
	resp, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "asks", PrimaryKey: pk("a", 1), MaxVersion: 1, ColumnsToGet: []string{"s"}}})
	mustOK(t, err)
	if len(resp.Columns) != 1 || resp.Columns[0].Timestamp != start.UnixMilli() {
		t.Fatalf("columns = %+v, want s at %d", resp.Columns, start.UnixMilli())
	}

	// PutRow replaces the whole row.
	mustOK(t, put(c, "asks", pk("a", 1), ots.RowExistenceExpectation_EXPECT_EXIST, col{"s", "new"}))
	if got := get(t, c, "asks", pk("a", 1)); !reflect.DeepEqual(got, map[string]any{"s": "new"}) {
		t.Fatalf("after second put: %v", got)
	}

	del := &ots.DeleteRowChange{TableName: "asks", PrimaryKey: pk("a", 1)}
	del.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
	_, err = c.DeleteRow(&ots.DeleteRowRequest{DeleteRowChange: del})
	mustOK(t, err)
	_, err = c.DeleteRow(&ots.DeleteRowRequest{DeleteRowChange: del})
	otsErr(t, err, 403, "OTSConditionCheckFail")
	if get(t, c, "asks", pk("a", 1)) != nil {
		t.Fatal("row still there after DeleteRow")
	}

	// A primary key that does not match the schema.
	bad := new(ots.PrimaryKey)
	bad.AddPrimaryKeyColumn("id", "a")
	err = put(c, "asks", bad, ots.RowExistenceExpectation_IGNORE, col{"x", int64(1)})
	if oe := otsErr(t, err, 400, "OTSInvalidPK"); oe.Message != "Validate PK size fail. Input: 1, Meta: 2." {
		t.Errorf("message %q", oe.Message)
	}
}

// A second put of the same key with EXPECT_NOT_EXIST is refused: the
// documented 403 OTSConditionCheckFail "Condition check failed.".
func TestConditionalPutExpectNotExist(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	createTable(t, c, "asks", -1, 1)

	mustOK(t, put(c, "asks", pk("ask-1", 0), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"state", "new"}))
	err := put(c, "asks", pk("ask-1", 0), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"state", "second"})
	if oe := otsErr(t, err, 403, "OTSConditionCheckFail"); oe.Message != "Condition check failed." {
		t.Errorf("message %q", oe.Message)
	}
	if got := get(t, c, "asks", pk("ask-1", 0)); got["state"] != "new" {
		t.Fatalf("row = %v, want the first put's", got)
	}
	err = put(c, "asks", pk("ask-2", 0), ots.RowExistenceExpectation_EXPECT_EXIST, col{"state", "x"})
	otsErr(t, err, 403, "OTSConditionCheckFail")
}

// UpdateRow with a column condition passes when the condition holds and is
// refused with OTSConditionCheckFail when it does not.
func TestConditionalUpdateOnColumn(t *testing.T) {
	single := func(name string, op ots.ComparatorType, v any) ots.ColumnFilter {
		return ots.NewSingleColumnCondition(name, op, v)
	}
	composite := func(lo ots.LogicalOperator, fs ...ots.ColumnFilter) ots.ColumnFilter {
		c := ots.NewCompositeColumnCondition(lo)
		for _, f := range fs {
			c.AddFilter(f)
		}
		return c
	}
	missing := func(ifMissing bool) ots.ColumnFilter {
		f := ots.NewSingleColumnCondition("nope", ots.CT_EQUAL, "x")
		f.FilterIfMissing = ifMissing
		return f
	}
	tests := []struct {
		name   string
		exist  ots.RowExistenceExpectation
		filter ots.ColumnFilter
		pass   bool
	}{
		{"equal holds", ots.RowExistenceExpectation_EXPECT_EXIST, single("state", ots.CT_EQUAL, "running"), true},
		{"equal fails", ots.RowExistenceExpectation_EXPECT_EXIST, single("state", ots.CT_EQUAL, "done"), false},
		{"not equal holds", ots.RowExistenceExpectation_IGNORE, single("state", ots.CT_NOT_EQUAL, "done"), true},
		{"not equal fails", ots.RowExistenceExpectation_IGNORE, single("state", ots.CT_NOT_EQUAL, "running"), false},
		{"greater holds", ots.RowExistenceExpectation_IGNORE, single("attempt", ots.CT_GREATER_THAN, int64(2)), true},
		{"greater fails", ots.RowExistenceExpectation_IGNORE, single("attempt", ots.CT_GREATER_THAN, int64(3)), false},
		{"greater equal", ots.RowExistenceExpectation_IGNORE, single("attempt", ots.CT_GREATER_EQUAL, int64(3)), true},
		{"less than", ots.RowExistenceExpectation_IGNORE, single("attempt", ots.CT_LESS_THAN, int64(3)), false},
		{"less equal", ots.RowExistenceExpectation_IGNORE, single("attempt", ots.CT_LESS_EQUAL, int64(3)), true},
		{"other type", ots.RowExistenceExpectation_IGNORE, single("attempt", ots.CT_EQUAL, "3"), false},
		{"and holds", ots.RowExistenceExpectation_IGNORE, composite(ots.LO_AND, single("state", ots.CT_EQUAL, "running"), single("attempt", ots.CT_EQUAL, int64(3))), true},
		{"and fails", ots.RowExistenceExpectation_IGNORE, composite(ots.LO_AND, single("state", ots.CT_EQUAL, "running"), single("attempt", ots.CT_EQUAL, int64(4))), false},
		{"or holds", ots.RowExistenceExpectation_IGNORE, composite(ots.LO_OR, single("state", ots.CT_EQUAL, "done"), single("attempt", ots.CT_EQUAL, int64(3))), true},
		{"not", ots.RowExistenceExpectation_IGNORE, composite(ots.LO_NOT, single("state", ots.CT_EQUAL, "running")), false},
		{"missing column passes", ots.RowExistenceExpectation_IGNORE, missing(false), true},
		{"missing column with FilterIfMissing", ots.RowExistenceExpectation_IGNORE, missing(true), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.client()
			createTable(t, c, "asks", -1, 1)
			mustOK(t, put(c, "asks", pk("ask-1", 0), ots.RowExistenceExpectation_IGNORE, col{"state", "running"}, col{"attempt", int64(3)}))

			ch := &ots.UpdateRowChange{TableName: "asks", PrimaryKey: pk("ask-1", 0)}
			ch.PutColumn("state", "claimed")
			ch.SetCondition(tc.exist)
			ch.SetColumnCondition(tc.filter)
			_, err := c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: ch})
			want := "running"
			if tc.pass {
				mustOK(t, err)
				want = "claimed"
			} else {
				otsErr(t, err, 403, "OTSConditionCheckFail")
			}
			if got := get(t, c, "asks", pk("ask-1", 0)); got["state"] != want || got["attempt"] != int64(3) {
				t.Fatalf("row = %v, want state %q and attempt 3", got, want)
			}
		})
	}
}

func TestUpdateRowOperations(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	createTable(t, c, "asks", -1, 1)
	mustOK(t, put(c, "asks", pk("a", 1), ots.RowExistenceExpectation_IGNORE, col{"n", int64(5)}, col{"gone", "x"}, col{"keep", "k"}))

	ch := &ots.UpdateRowChange{TableName: "asks", PrimaryKey: pk("a", 1)}
	ch.IncrementColumn("n", 2)
	ch.DeleteColumn("gone")
	ch.PutColumn("added", 1.5)
	ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
	ch.SetReturnIncrementValue()
	ch.AppendIncrementColumnToReturn("n")
	resp, err := c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: ch})
	mustOK(t, err)
	if len(resp.Columns) != 1 || resp.Columns[0].Value != int64(7) {
		t.Fatalf("returned columns %+v, want n=7", resp.Columns)
	}
	want := map[string]any{"n": int64(7), "keep": "k", "added": 1.5}
	if got := get(t, c, "asks", pk("a", 1)); !reflect.DeepEqual(got, want) {
		t.Fatalf("row = %v, want %v", got, want)
	}

	// UpdateRow with IGNORE creates a missing row; EXPECT_EXIST refuses.
	ch = &ots.UpdateRowChange{TableName: "asks", PrimaryKey: pk("b", 1)}
	ch.PutColumn("x", "y")
	ch.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
	_, err = c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: ch})
	otsErr(t, err, 403, "OTSConditionCheckFail")
	ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
	_, err = c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: ch})
	mustOK(t, err)
	if got := get(t, c, "asks", pk("b", 1)); got["x"] != "y" {
		t.Fatalf("row b = %v", got)
	}
}

// A table keeps MaxVersions versions per column; GetRow answers as many as
// asked, newest first.
func TestMaxVersions(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	createTable(t, c, "asks", -1, 2)
	for i := range 3 {
		ch := &ots.UpdateRowChange{TableName: "asks", PrimaryKey: pk("a", 1)}
		ch.PutColumn("v", int64(i))
		ch.SetCondition(ots.RowExistenceExpectation_IGNORE)
		_, err := c.UpdateRow(&ots.UpdateRowRequest{UpdateRowChange: ch})
		mustOK(t, err)
		e.clock.Advance(time.Second)
	}
	resp, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "asks", PrimaryKey: pk("a", 1), MaxVersion: 5}})
	mustOK(t, err)
	var got []any
	for _, x := range resp.Columns {
		got = append(got, x.Value)
	}
	if !reflect.DeepEqual(got, []any{int64(2), int64(1)}) {
		t.Fatalf("versions = %v, want [2 1]", got)
	}
	if get(t, c, "asks", pk("a", 1))["v"] != int64(2) {
		t.Fatal("latest version is not the last write")
	}
}

// A row whose cells are older than the table's TTL, measured on the
// emulator's clock, is invisible to every read and to conditions.
func TestTTLExpiry(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	const day = 86400
	createTable(t, c, "asks", day, 1)
	mustOK(t, put(c, "asks", pk("old", 1), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"state", "done"}))
	e.clock.Advance(12 * time.Hour)
	mustOK(t, put(c, "asks", pk("young", 1), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"state", "done"}))

	e.clock.Advance(12*time.Hour - time.Second) // old is 1 s short of its TTL
	if get(t, c, "asks", pk("old", 1)) == nil {
		t.Fatal("row gone before its TTL")
	}
	e.clock.Advance(2 * time.Second)
	if got := get(t, c, "asks", pk("old", 1)); got != nil {
		t.Fatalf("row past its TTL still readable: %v", got)
	}
	if get(t, c, "asks", pk("young", 1)) == nil {
		t.Fatal("the younger row expired too")
	}
	if keys := scan(t, c, "asks", ots.FORWARD, 0); !reflect.DeepEqual(keys, []string{"young/1"}) {
		t.Fatalf("GetRange = %v, want only young/1", keys)
	}
	if tb := e.srv.Tables(); len(tb) != 1 || tb[0].Rows != 1 {
		t.Fatalf("State tables = %+v, want 1 live row", tb)
	}
	// An expired row does not exist for a condition either.
	mustOK(t, put(c, "asks", pk("old", 1), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"state", "again"}))
}

// scan pages through the whole table with GetRange and returns the keys in
// the order read ("id/seq"), checking that the pages follow
// next_start_primary_key. limit 0: no limit.
func scan(t *testing.T, c *ots.TableStoreClient, table string, dir ots.Direction, limit int32) []string {
	keys, _ := scanPages(t, c, table, dir, limit)
	return keys
}

func scanPages(t *testing.T, c *ots.TableStoreClient, table string, dir ots.Direction, limit int32) ([]string, []int) {
	t.Helper()
	startPK, endPK := new(ots.PrimaryKey), new(ots.PrimaryKey)
	if dir == ots.FORWARD {
		startPK.AddPrimaryKeyColumnWithMinValue("id")
		startPK.AddPrimaryKeyColumnWithMinValue("seq")
		endPK.AddPrimaryKeyColumnWithMaxValue("id")
		endPK.AddPrimaryKeyColumnWithMaxValue("seq")
	} else {
		startPK.AddPrimaryKeyColumnWithMaxValue("id")
		startPK.AddPrimaryKeyColumnWithMaxValue("seq")
		endPK.AddPrimaryKeyColumnWithMinValue("id")
		endPK.AddPrimaryKeyColumnWithMinValue("seq")
	}
	var keys []string
	var pages []int
	for range 100 {
		resp, err := c.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: &ots.RangeRowQueryCriteria{
			TableName: table, StartPrimaryKey: startPK, EndPrimaryKey: endPK, Direction: dir, MaxVersion: 1, Limit: limit,
		}})
		mustOK(t, err)
		pages = append(pages, len(resp.Rows))
		for _, r := range resp.Rows {
			keys = append(keys, keyOf(r.PrimaryKey))
		}
		if resp.NextStartPrimaryKey == nil {
			return keys, pages
		}
		startPK = resp.NextStartPrimaryKey
	}
	t.Fatal("GetRange did not finish in 100 pages")
	return nil, nil
}

func keyOf(p *ots.PrimaryKey) string {
	return p.PrimaryKeys[0].Value.(string) + "/" + itoa(p.PrimaryKeys[1].Value.(int64))
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// GetRange answers pages of at most the page size (and the request's
// limit), chained by next_start_primary_key, in both directions, and honours
// an inclusive start and an exclusive end.
func TestGetRangePages(t *testing.T) {
	e := newEnv(t, tablestore.WithRangePageSize(3))
	c := e.client()
	createTable(t, c, "asks", -1, 1)
	var all []string
	for _, id := range []string{"a", "b", "c"} {
		for seq := int64(1); seq <= 3; seq++ {
			mustOK(t, put(c, "asks", pk(id, seq), ots.RowExistenceExpectation_IGNORE, col{"v", seq}))
			all = append(all, id+"/"+itoa(seq))
		}
	}
	mustOK(t, put(c, "asks", pk("d", 1), ots.RowExistenceExpectation_IGNORE, col{"v", int64(1)}))
	all = append(all, "d/1")
	reversed := slices.Clone(all)
	slices.Reverse(reversed)

	tests := []struct {
		name      string
		dir       ots.Direction
		limit     int32
		want      []string
		wantPages []int
	}{
		{"forward, page cap", ots.FORWARD, 0, all, []int{3, 3, 3, 1}},
		{"backward, page cap", ots.BACKWARD, 0, reversed, []int{3, 3, 3, 1}},
		{"forward, limit 2", ots.FORWARD, 2, all, []int{2, 2, 2, 2, 2}},
		{"backward, limit 4 above the cap", ots.BACKWARD, 4, reversed, []int{3, 3, 3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, pages := scanPages(t, c, "asks", tc.dir, tc.limit)
			if !reflect.DeepEqual(keys, tc.want) || !reflect.DeepEqual(pages, tc.wantPages) {
				t.Fatalf("keys %v pages %v, want %v pages %v", keys, pages, tc.want, tc.wantPages)
			}
		})
	}

	t.Run("inclusive start, exclusive end", func(t *testing.T) {
		startPK, endPK := pk("b", 2), new(ots.PrimaryKey)
		endPK.AddPrimaryKeyColumn("id", "c")
		endPK.AddPrimaryKeyColumnWithMinValue("seq")
		resp, err := c.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: &ots.RangeRowQueryCriteria{
			TableName: "asks", StartPrimaryKey: startPK, EndPrimaryKey: endPK, Direction: ots.FORWARD, MaxVersion: 1,
		}})
		mustOK(t, err)
		var keys []string
		for _, r := range resp.Rows {
			keys = append(keys, keyOf(r.PrimaryKey))
		}
		if !reflect.DeepEqual(keys, []string{"b/2", "b/3"}) || resp.NextStartPrimaryKey != nil {
			t.Fatalf("keys %v next %v, want [b/2 b/3] and no next", keys, resp.NextStartPrimaryKey)
		}
		resp, err = c.GetRange(&ots.GetRangeRequest{RangeRowQueryCriteria: &ots.RangeRowQueryCriteria{
			TableName: "asks", StartPrimaryKey: endPK, EndPrimaryKey: startPK, Direction: ots.FORWARD, MaxVersion: 1,
		}})
		if oe := otsErr(t, err, 400, "OTSParameterInvalid"); oe.Message != "Begin key must less than end key in FORWARD" {
			t.Errorf("message %q", oe.Message)
		}
	})
}

// One primary key twice in one table of a BatchWriteRow fails the whole
// request with OTSParameterInvalid, and nothing is written (BatchWriteRow's
// page lists it among the whole-request errors); the same key in two
// tables is two rows.
func TestBatchWriteRowRefusesOneRowTwice(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	createTable(t, c, "asks", -1, 1)
	createTable(t, c, "runs", -1, 1)
	req := &ots.BatchWriteRowRequest{}
	p1 := &ots.PutRowChange{TableName: "asks", PrimaryKey: pk("a", 1)}
	p1.AddColumn("v", int64(1))
	p1.SetCondition(ots.RowExistenceExpectation_IGNORE)
	other := &ots.PutRowChange{TableName: "asks", PrimaryKey: pk("b", 1)}
	other.AddColumn("v", int64(1))
	other.SetCondition(ots.RowExistenceExpectation_IGNORE)
	d := &ots.DeleteRowChange{TableName: "asks", PrimaryKey: pk("a", 1)}
	d.SetCondition(ots.RowExistenceExpectation_IGNORE)
	for _, ch := range []ots.RowChange{p1, other, d} {
		req.AddRowChange(ch)
	}
	_, err := c.BatchWriteRow(req)
	var oe *ots.OtsError
	if !errors.As(err, &oe) || oe.Code != "OTSParameterInvalid" || oe.HttpStatusCode != 400 {
		t.Fatalf("BatchWriteRow with one row twice = %v, want 400 OTSParameterInvalid", err)
	}
	if got := get(t, c, "asks", pk("b", 1)); got != nil {
		t.Fatalf("row b = %v: a refused batch wrote a row", got)
	}

	req = &ots.BatchWriteRowRequest{}
	r := &ots.PutRowChange{TableName: "runs", PrimaryKey: pk("a", 1)}
	r.AddColumn("v", int64(2))
	r.SetCondition(ots.RowExistenceExpectation_IGNORE)
	req.AddRowChange(p1)
	req.AddRowChange(r)
	if _, err := c.BatchWriteRow(req); err != nil {
		t.Fatalf("one key in two tables: %v", err)
	}
}

// BatchWriteRow answers a result per row: a row whose own condition fails is
// refused with OTSConditionCheckFail while the others are written.
func TestBatchWriteRowPerRowResults(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	createTable(t, c, "asks", -1, 1)
	createTable(t, c, "runs", -1, 1)
	mustOK(t, put(c, "asks", pk("exists", 1), ots.RowExistenceExpectation_IGNORE, col{"v", int64(1)}))
	mustOK(t, put(c, "asks", pk("exists", 2), ots.RowExistenceExpectation_IGNORE, col{"v", int64(1)}))

	req := &ots.BatchWriteRowRequest{}
	p1 := &ots.PutRowChange{TableName: "asks", PrimaryKey: pk("new", 1)}
	p1.AddColumn("v", int64(2))
	p1.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST)
	p2 := &ots.PutRowChange{TableName: "asks", PrimaryKey: pk("exists", 1)}
	p2.AddColumn("v", int64(3))
	p2.SetCondition(ots.RowExistenceExpectation_EXPECT_NOT_EXIST) // fails
	u := &ots.UpdateRowChange{TableName: "asks", PrimaryKey: pk("exists", 2)}
	u.PutColumn("w", "x")
	u.SetCondition(ots.RowExistenceExpectation_EXPECT_EXIST)
	d := &ots.DeleteRowChange{TableName: "runs", PrimaryKey: pk("none", 1)}
	d.SetCondition(ots.RowExistenceExpectation_IGNORE)
	for _, ch := range []ots.RowChange{p1, p2, u, d} {
		req.AddRowChange(ch)
	}
	resp, err := c.BatchWriteRow(req)
	mustOK(t, err)

	asks := resp.TableToRowsResult["asks"]
	if len(asks) != 3 || len(resp.TableToRowsResult["runs"]) != 1 {
		t.Fatalf("results %+v", resp.TableToRowsResult)
	}
	if !asks[0].IsSucceed || asks[1].IsSucceed || !asks[2].IsSucceed || !resp.TableToRowsResult["runs"][0].IsSucceed {
		t.Fatalf("row results %+v", asks)
	}
	if asks[1].Error.Code != "OTSConditionCheckFail" || asks[1].Error.Message != "Condition check failed." {
		t.Fatalf("failed row's error %+v", asks[1].Error)
	}
	if got := get(t, c, "asks", pk("exists", 1)); !reflect.DeepEqual(got, map[string]any{"v": int64(1)}) {
		t.Fatalf("the row whose condition failed = %v, want it unchanged", got)
	}
	if got := get(t, c, "asks", pk("exists", 2)); !reflect.DeepEqual(got, map[string]any{"v": int64(1), "w": "x"}) {
		t.Fatalf("updated row = %v", got)
	}
	if get(t, c, "asks", pk("new", 1))["v"] != int64(2) {
		t.Fatal("the new row was not written")
	}
	calls := e.srv.Calls()
	i := slices.IndexFunc(calls, func(c tablestore.Call) bool { return c.Action == "BatchWriteRow" })
	if i < 0 || calls[i].Status != 200 || !reflect.DeepEqual(calls[i].RowErrors, []string{"OTSConditionCheckFail"}) {
		t.Fatalf("calls %+v, want a BatchWriteRow answered 200 with one OTSConditionCheckFail row", calls)
	}
}

// Range reads see every write before them in key order, however writes,
// deletes and reads interleave: rows written in no order, a row deleted
// and written again, deletes between two reads (the emulator places new
// rows only when a range is read).
func TestGetRangeOrderAcrossWritesAndDeletes(t *testing.T) {
	e := newEnv(t, tablestore.WithRangePageSize(4))
	c := e.client()
	createTable(t, c, "asks", -1, 1)
	live := map[string]bool{}
	write := func(id string, seq int64) {
		t.Helper()
		mustOK(t, put(c, "asks", pk(id, seq), ots.RowExistenceExpectation_IGNORE, col{"v", seq}))
		live[id+"/"+itoa(seq)] = true
	}
	remove := func(id string, seq int64) {
		t.Helper()
		_, err := c.DeleteRow(&ots.DeleteRowRequest{DeleteRowChange: &ots.DeleteRowChange{TableName: "asks", PrimaryKey: pk(id, seq),
			Condition: &ots.RowCondition{RowExistenceExpectation: ots.RowExistenceExpectation_IGNORE}}})
		mustOK(t, err)
		delete(live, id+"/"+itoa(seq))
	}
	check := func(when string) {
		t.Helper()
		want := slices.Sorted(maps.Keys(live))
		slices.SortFunc(want, func(a, b string) int { // by id, then seq as a number
			ai, as, _ := strings.Cut(a, "/")
			bi, bs, _ := strings.Cut(b, "/")
			if c := strings.Compare(ai, bi); c != 0 {
				return c
			}
			an, _ := strconv.Atoi(as)
			bn, _ := strconv.Atoi(bs)
			return an - bn
		})
		if got := scan(t, c, "asks", ots.FORWARD, 0); !slices.Equal(got, want) {
			t.Errorf("%s: forward %v, want %v", when, got, want)
		}
		slices.Reverse(want)
		if got := scan(t, c, "asks", ots.BACKWARD, 0); !slices.Equal(got, want) {
			t.Errorf("%s: backward %v, want %v", when, got, want)
		}
	}
	for _, k := range []struct {
		id  string
		seq int64
	}{{"m", 2}, {"b", 10}, {"z", 1}, {"b", 9}, {"a", 3}, {"m", 1}} {
		write(k.id, k.seq)
	}
	check("written in no order")
	remove("m", 2)
	write("c", 1)
	remove("zz", 1) // not there
	check("one deleted, one added")
	remove("b", 9)
	write("b", 9)
	write("b", 2)
	check("deleted and written again before a read")
	remove("a", 3)
	remove("z", 1)
	check("deletes alone")
	remove("b", 2)
	remove("b", 9)
	remove("b", 10)
	remove("c", 1)
	remove("m", 1)
	check("every row deleted")
}

// The same against a model, at random: puts, deletes and range reads in a
// seeded random order over a small key space, every read checked (few and
// many writes between two reads take different paths in the emulator).
func TestGetRangeOrderAtRandom(t *testing.T) {
	e := newEnv(t, tablestore.WithRangePageSize(16))
	c := e.client()
	createTable(t, c, "asks", -1, 1)
	rnd := rand.New(rand.NewPCG(18, 2026))
	live := map[string]bool{}
	ids := []string{"a", "b", "c", "d", "e"}
	for op := range 600 {
		id, seq := ids[rnd.IntN(len(ids))], int64(rnd.IntN(12))
		key := id + "/" + itoa(seq)
		switch n := rnd.IntN(10); {
		case n < 6:
			mustOK(t, put(c, "asks", pk(id, seq), ots.RowExistenceExpectation_IGNORE, col{"v", seq}))
			live[key] = true
		case n < 9:
			_, err := c.DeleteRow(&ots.DeleteRowRequest{DeleteRowChange: &ots.DeleteRowChange{TableName: "asks", PrimaryKey: pk(id, seq),
				Condition: &ots.RowCondition{RowExistenceExpectation: ots.RowExistenceExpectation_IGNORE}}})
			mustOK(t, err)
			delete(live, key)
		default:
			want := slices.SortedFunc(maps.Keys(live), func(a, b string) int {
				ai, as, _ := strings.Cut(a, "/")
				bi, bs, _ := strings.Cut(b, "/")
				an, _ := strconv.Atoi(as)
				bn, _ := strconv.Atoi(bs)
				return cmp.Or(strings.Compare(ai, bi), an-bn)
			})
			if got := scan(t, c, "asks", ots.FORWARD, 0); !slices.Equal(got, want) {
				t.Fatalf("op %d: forward %v, want %v", op, got, want)
			}
		}
	}
}

package tablestore

import (
	"bytes"
	"cmp"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

// Column conditions and read filters share one form: a serialized
// otsprotocol.Filter (ots_filter.proto) whose filter bytes are a
// SingleColumnValueFilter or a CompositeColumnValueFilter; the compared value
// is a PlainBuffer value without its length prefix (SDK util.go,
// NewSingleColumnValueFilter / WriteCellValueWithoutLengthPrefix).
//
// Semantics, after the "Conditional update" and "Filter" pages of
// Tablestore: a single-column filter on a column the row does not have
// passes unless filter_if_missing is set; with latest_version_only only the
// newest version is compared, otherwise any version that satisfies the
// comparator passes; NOT negates its one sub-filter, AND and OR combine
// theirs. Values of different types are only ever "not equal" (not verified
// against the service).

func decodeFilter(b []byte) (*otsprotocol.Filter, *Error) {
	f := new(otsprotocol.Filter)
	if err := proto.Unmarshal(b, f); err != nil {
		return nil, newErr("OTSParameterInvalid", "Invalid filter: %v.", err)
	}
	return f, nil
}

// evalFilter evaluates f against a row's live columns (nil for a missing
// row: every column is then missing).
func evalFilter(f *otsprotocol.Filter, cols map[string][]version, depth int) (bool, *Error) {
	if depth > 10 {
		return false, newErr("OTSParameterInvalid", "The depth of the composite filter exceeds 10.")
	}
	switch f.GetType() {
	case otsprotocol.FilterType_FT_SINGLE_COLUMN_VALUE:
		s := new(otsprotocol.SingleColumnValueFilter)
		if err := proto.Unmarshal(f.GetFilter(), s); err != nil {
			return false, newErr("OTSParameterInvalid", "Invalid single column value filter: %v.", err)
		}
		if s.ValueTransRule != nil {
			return false, newErr("OTSParameterInvalid", "value_trans_rule (regex filters) is not modeled by the emulator.")
		}
		want, err := decodeRawValue(s.GetColumnValue())
		if err != nil {
			return false, newErr("OTSParameterInvalid", "Invalid column value of filter on column '%s': %v.", s.GetColumnName(), err)
		}
		vs := cols[s.GetColumnName()]
		if len(vs) == 0 {
			return !s.GetFilterIfMissing(), nil
		}
		if s.GetLatestVersionOnly() {
			vs = vs[:1]
		}
		for _, x := range vs {
			if compareMatches(s.GetComparator(), x.v, want) {
				return true, nil
			}
		}
		return false, nil
	case otsprotocol.FilterType_FT_COMPOSITE_COLUMN_VALUE:
		c := new(otsprotocol.CompositeColumnValueFilter)
		if err := proto.Unmarshal(f.GetFilter(), c); err != nil {
			return false, newErr("OTSParameterInvalid", "Invalid composite column value filter: %v.", err)
		}
		subs := c.GetSubFilters()
		switch c.GetCombinator() {
		case otsprotocol.LogicalOperator_LO_NOT:
			if len(subs) != 1 {
				return false, newErr("OTSParameterInvalid", "The logical operator NOT takes exactly one sub-filter, got %d.", len(subs))
			}
			ok, e := evalFilter(subs[0], cols, depth+1)
			return !ok, e
		case otsprotocol.LogicalOperator_LO_AND, otsprotocol.LogicalOperator_LO_OR:
			if len(subs) < 2 {
				return false, newErr("OTSParameterInvalid", "The logical operators AND and OR take at least two sub-filters, got %d.", len(subs))
			}
			and := c.GetCombinator() == otsprotocol.LogicalOperator_LO_AND
			for _, sub := range subs {
				ok, e := evalFilter(sub, cols, depth+1)
				if e != nil {
					return false, e
				}
				if and && !ok {
					return false, nil
				}
				if !and && ok {
					return true, nil
				}
			}
			return and, nil
		}
		return false, newErr("OTSParameterInvalid", "Unknown logical operator %d.", c.GetCombinator())
	case otsprotocol.FilterType_FT_COLUMN_PAGINATION:
		return false, newErr("OTSParameterInvalid", "Column pagination filters are not modeled by the emulator.")
	}
	return false, newErr("OTSParameterInvalid", "Unknown filter type %d.", f.GetType())
}

func compareMatches(op otsprotocol.ComparatorType, got, want value) bool {
	c, comparable := compareValues(got, want)
	if !comparable {
		return op == otsprotocol.ComparatorType_CT_NOT_EQUAL
	}
	switch op {
	case otsprotocol.ComparatorType_CT_EQUAL:
		return c == 0
	case otsprotocol.ComparatorType_CT_NOT_EQUAL:
		return c != 0
	case otsprotocol.ComparatorType_CT_GREATER_THAN:
		return c > 0
	case otsprotocol.ComparatorType_CT_GREATER_EQUAL:
		return c >= 0
	case otsprotocol.ComparatorType_CT_LESS_THAN:
		return c < 0
	case otsprotocol.ComparatorType_CT_LESS_EQUAL:
		return c <= 0
	}
	return false
}

func compareValues(a, b value) (int, bool) {
	if a.vt != b.vt {
		return 0, false
	}
	switch a.vt {
	case vtInteger:
		return cmp.Compare(a.i, b.i), true
	case vtDouble:
		return cmp.Compare(a.f, b.f), true
	case vtBoolean:
		ai, bi := 0, 0
		if a.b {
			ai = 1
		}
		if b.b {
			bi = 1
		}
		return cmp.Compare(ai, bi), true
	case vtString, vtBlob:
		return bytes.Compare(a.s, b.s), true
	}
	return 0, false
}

// checkCondition applies a write's condition to the row as it is now.
func checkCondition(c *otsprotocol.Condition, v view) *Error {
	switch c.GetRowExistence() {
	case otsprotocol.RowExistenceExpectation_EXPECT_EXIST:
		if !v.exists {
			return newErr("OTSConditionCheckFail", msgConditionCheckFail)
		}
	case otsprotocol.RowExistenceExpectation_EXPECT_NOT_EXIST:
		if v.exists {
			return newErr("OTSConditionCheckFail", msgConditionCheckFail)
		}
	}
	if len(c.GetColumnCondition()) == 0 {
		return nil
	}
	f, e := decodeFilter(c.GetColumnCondition())
	if e != nil {
		return e
	}
	var cols map[string][]version
	if v.exists {
		cols = v.cols
	}
	ok, e := evalFilter(f, cols, 0)
	if e != nil {
		return e
	}
	if !ok {
		return newErr("OTSConditionCheckFail", msgConditionCheckFail)
	}
	return nil
}

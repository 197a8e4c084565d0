package tablestore

import (
	"regexp"
	"slices"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

// operation routes one action: the request message it takes, the tables it
// names, and its implementation (run with s.mu held).
type operation struct {
	newRequest func() proto.Message
	tables     func(proto.Message) []string
	run        func(s *Server, in proto.Message) (proto.Message, *Error, []string)
}

func one(name string) []string {
	if name == "" {
		return nil
	}
	return []string{name}
}

func op[Req proto.Message](newReq func() Req, table func(Req) string, run func(*Server, Req) (proto.Message, *Error)) operation {
	return operation{
		newRequest: func() proto.Message { return newReq() },
		tables: func(m proto.Message) []string {
			if table == nil {
				return nil
			}
			return one(table(m.(Req)))
		},
		run: func(s *Server, m proto.Message) (proto.Message, *Error, []string) {
			out, e := run(s, m.(Req))
			return out, e, nil
		},
	}
}

var operations = map[string]operation{
	"CreateTable": op(func() *otsprotocol.CreateTableRequest { return new(otsprotocol.CreateTableRequest) },
		func(r *otsprotocol.CreateTableRequest) string { return r.GetTableMeta().GetTableName() }, (*Server).createTable),
	"DescribeTable": op(func() *otsprotocol.DescribeTableRequest { return new(otsprotocol.DescribeTableRequest) },
		(*otsprotocol.DescribeTableRequest).GetTableName, (*Server).describeTable),
	"ListTable": op(func() *otsprotocol.ListTableRequest { return new(otsprotocol.ListTableRequest) }, nil, (*Server).listTable),
	"DeleteTable": op(func() *otsprotocol.DeleteTableRequest { return new(otsprotocol.DeleteTableRequest) },
		(*otsprotocol.DeleteTableRequest).GetTableName, (*Server).deleteTable),
	"PutRow": op(func() *otsprotocol.PutRowRequest { return new(otsprotocol.PutRowRequest) },
		(*otsprotocol.PutRowRequest).GetTableName, (*Server).putRow),
	"UpdateRow": op(func() *otsprotocol.UpdateRowRequest { return new(otsprotocol.UpdateRowRequest) },
		(*otsprotocol.UpdateRowRequest).GetTableName, (*Server).updateRow),
	"DeleteRow": op(func() *otsprotocol.DeleteRowRequest { return new(otsprotocol.DeleteRowRequest) },
		(*otsprotocol.DeleteRowRequest).GetTableName, (*Server).deleteRow),
	"GetRow": op(func() *otsprotocol.GetRowRequest { return new(otsprotocol.GetRowRequest) },
		(*otsprotocol.GetRowRequest).GetTableName, (*Server).getRow),
	"GetRange": op(func() *otsprotocol.GetRangeRequest { return new(otsprotocol.GetRangeRequest) },
		(*otsprotocol.GetRangeRequest).GetTableName, (*Server).getRange),
	"BatchWriteRow": {
		newRequest: func() proto.Message { return new(otsprotocol.BatchWriteRowRequest) },
		tables: func(m proto.Message) []string {
			var out []string
			for _, t := range m.(*otsprotocol.BatchWriteRowRequest).GetTables() {
				if !slices.Contains(out, t.GetTableName()) {
					out = append(out, t.GetTableName())
				}
			}
			slices.Sort(out) // the SDK sends tables in map order
			return out
		},
		run: func(s *Server, m proto.Message) (proto.Message, *Error, []string) {
			return s.batchWriteRow(m.(*otsprotocol.BatchWriteRowRequest))
		},
	},
}

// actions lists the operations in a fixed order (for messages).
var actions = []string{"CreateTable", "DescribeTable", "ListTable", "DeleteTable", "PutRow", "UpdateRow", "DeleteRow", "GetRow", "GetRange", "BatchWriteRow"}

// Actions lists the operations the server answers.
func Actions() []string { return slices.Clone(actions) }

func consumed(read, write int32) *otsprotocol.ConsumedCapacity {
	return &otsprotocol.ConsumedCapacity{CapacityUnit: &otsprotocol.CapacityUnit{Read: proto.Int32(read), Write: proto.Int32(write)}}
}

func (s *Server) table(name string) (*table, *Error) {
	t, ok := s.tables[name]
	if !ok {
		return nil, newErr("OTSObjectNotExist", msgTableNotExist)
	}
	return t, nil
}

// ---- tables ----

var tableNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)

func (s *Server) createTable(in *otsprotocol.CreateTableRequest) (proto.Message, *Error) {
	meta := in.GetTableMeta()
	name := meta.GetTableName()
	if !tableNameRE.MatchString(name) {
		return nil, newErr("OTSParameterInvalid", "Invalid table name: '%s'.", name)
	}
	if n := len(meta.GetPrimaryKey()); n < 1 || n > maxPrimaryKeys {
		return nil, newErr("OTSParameterInvalid", "The number of primary key columns must be in range: [1, %d].", maxPrimaryKeys)
	}
	if len(in.GetIndexMetas()) > 0 || len(meta.GetIndexMeta()) > 0 {
		return nil, newErr("OTSParameterInvalid", "Secondary indexes are not modeled by the emulator.")
	}
	if in.GetStreamSpec().GetEnableStream() {
		return nil, newErr("OTSParameterInvalid", "Streams are not modeled by the emulator.")
	}
	t := &table{name: name, ttl: -1, maxVersions: 1, deviation: defaultDeviationSecs, allowUpdate: true,
		readCU: in.GetReservedThroughput().GetCapacityUnit().GetRead(), writeCU: in.GetReservedThroughput().GetCapacityUnit().GetWrite(),
		created: s.clock.Now(), defined: meta.GetDefinedColumn()}
	for i, p := range meta.GetPrimaryKey() {
		if slices.ContainsFunc(t.pks, func(q pkSchema) bool { return q.name == p.GetName() }) {
			return nil, newErr("OTSParameterInvalid", "Duplicated primary key name: '%s'.", p.GetName())
		}
		ps := pkSchema{name: p.GetName(), typ: p.GetType(), autoInc: p.Option != nil && p.GetOption() == otsprotocol.PrimaryKeyOption_AUTO_INCREMENT}
		if ps.autoInc && (i == 0 || ps.typ != otsprotocol.PrimaryKeyType_INTEGER) {
			return nil, newErr("OTSParameterInvalid", "Only an INTEGER primary key column other than the partition key can be AUTO_INCREMENT: '%s'.", ps.name)
		}
		if p.Option != nil && !ps.autoInc {
			return nil, newErr("OTSParameterInvalid", "Unknown primary key option %d of '%s'.", p.GetOption(), ps.name)
		}
		t.pks = append(t.pks, ps)
	}
	if o := in.GetTableOptions(); o != nil {
		if o.TimeToLive != nil {
			t.ttl = o.GetTimeToLive()
		}
		if o.MaxVersions != nil {
			t.maxVersions = o.GetMaxVersions()
		}
		if o.DeviationCellVersionInSec != nil {
			t.deviation = o.GetDeviationCellVersionInSec()
		}
		if o.AllowUpdate != nil {
			t.allowUpdate = o.GetAllowUpdate()
		}
	}
	if t.ttl != -1 && t.ttl < minTTLSeconds {
		return nil, newErr("OTSParameterInvalid", "TimeToLive must be -1 (never expire) or at least %d seconds, got %d.", minTTLSeconds, t.ttl)
	}
	if t.maxVersions < 1 {
		return nil, newErr("OTSParameterInvalid", "MaxVersions must be at least 1, got %d.", t.maxVersions)
	}
	if t.deviation < 1 {
		return nil, newErr("OTSParameterInvalid", "DeviationCellVersionInSec must be positive, got %d.", t.deviation)
	}
	if _, ok := s.tables[name]; ok {
		return nil, newErr("OTSObjectAlreadyExist", msgTableExists)
	}
	if len(s.tables) >= maxTablesPerInstance {
		return nil, newErr("OTSQuotaExhausted", "Number of tables exceeded the quota.")
	}
	s.tables[name] = t
	return &otsprotocol.CreateTableResponse{}, nil
}

func (s *Server) describeTable(in *otsprotocol.DescribeTableRequest) (proto.Message, *Error) {
	t, e := s.table(in.GetTableName())
	if e != nil {
		return nil, e
	}
	meta := &otsprotocol.TableMeta{TableName: proto.String(t.name), DefinedColumn: t.defined}
	for _, p := range t.pks {
		ps := &otsprotocol.PrimaryKeySchema{Name: proto.String(p.name), Type: p.typ.Enum()}
		if p.autoInc {
			ps.Option = otsprotocol.PrimaryKeyOption_AUTO_INCREMENT.Enum()
		}
		meta.PrimaryKey = append(meta.PrimaryKey, ps)
	}
	return &otsprotocol.DescribeTableResponse{
		TableMeta: meta,
		ReservedThroughputDetails: &otsprotocol.ReservedThroughputDetails{
			CapacityUnit:     &otsprotocol.CapacityUnit{Read: proto.Int32(t.readCU), Write: proto.Int32(t.writeCU)},
			LastIncreaseTime: proto.Int64(t.created.Unix()),
		},
		TableOptions: &otsprotocol.TableOptions{
			TimeToLive:                proto.Int32(t.ttl),
			MaxVersions:               proto.Int32(t.maxVersions),
			DeviationCellVersionInSec: proto.Int64(t.deviation),
			AllowUpdate:               proto.Bool(t.allowUpdate),
		},
		TableStatus:   otsprotocol.TableStatus_ACTIVE.Enum(),
		StreamDetails: &otsprotocol.StreamDetails{EnableStream: proto.Bool(false)},
	}, nil
}

func (s *Server) listTable(*otsprotocol.ListTableRequest) (proto.Message, *Error) {
	names := make([]string, 0, len(s.tables))
	for n := range s.tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return &otsprotocol.ListTableResponse{TableNames: names}, nil
}

func (s *Server) deleteTable(in *otsprotocol.DeleteTableRequest) (proto.Message, *Error) {
	if _, e := s.table(in.GetTableName()); e != nil {
		return nil, e
	}
	delete(s.tables, in.GetTableName())
	return &otsprotocol.DeleteTableResponse{}, nil
}

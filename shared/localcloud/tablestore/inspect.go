package tablestore

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
	"github.com/golang/protobuf/proto"
)

// PKColumn is one primary key column of a TableSpec.
type PKColumn struct {
	Name          string `json:"name"`
	Type          string `json:"type"` // "STRING", "INTEGER" or "BINARY"
	AutoIncrement bool   `json:"autoIncrement,omitempty"`
}

// TableSpec describes a table for Server.CreateTable.
type TableSpec struct {
	Name        string     `json:"name"`
	PrimaryKey  []PKColumn `json:"primaryKey"`
	TTLSeconds  int32      `json:"ttlSeconds,omitempty"`  // 0 or -1: never expire; else at least 86400
	MaxVersions int32      `json:"maxVersions,omitempty"` // 0: 1
}

// CreateTable creates a table without going through HTTP, with the checks
// and errors of the CreateTable action (a seeding helper for the local cloud
// and tests).
func (s *Server) CreateTable(spec TableSpec) error {
	meta := &otsprotocol.TableMeta{TableName: proto.String(spec.Name)}
	for _, c := range spec.PrimaryKey {
		typ, ok := otsprotocol.PrimaryKeyType_value[c.Type]
		if !ok {
			return fmt.Errorf("tablestore: primary key column %q: unknown type %q (STRING, INTEGER or BINARY)", c.Name, c.Type)
		}
		ps := &otsprotocol.PrimaryKeySchema{Name: proto.String(c.Name), Type: otsprotocol.PrimaryKeyType(typ).Enum()}
		if c.AutoIncrement {
			ps.Option = otsprotocol.PrimaryKeyOption_AUTO_INCREMENT.Enum()
		}
		meta.PrimaryKey = append(meta.PrimaryKey, ps)
	}
	ttl, versions := spec.TTLSeconds, spec.MaxVersions
	if ttl == 0 {
		ttl = -1
	}
	if versions == 0 {
		versions = 1
	}
	req := &otsprotocol.CreateTableRequest{
		TableMeta:          meta,
		ReservedThroughput: &otsprotocol.ReservedThroughput{CapacityUnit: &otsprotocol.CapacityUnit{Read: proto.Int32(0), Write: proto.Int32(0)}},
		TableOptions:       &otsprotocol.TableOptions{TimeToLive: proto.Int32(ttl), MaxVersions: proto.Int32(versions)},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.createTable(req); e != nil {
		return e
	}
	return nil
}

// TableState is a table in a Snapshot.
type TableState struct {
	Name        string     `json:"name"`
	PrimaryKey  []PKColumn `json:"primaryKey"`
	TTLSeconds  int32      `json:"ttlSeconds"` // -1: never expire
	MaxVersions int32      `json:"maxVersions"`
	Rows        int        `json:"rows"`       // rows visible now (within TTL)
	StoredRows  int        `json:"storedRows"` // rows kept, expired ones included
	Created     time.Time  `json:"created"`
}

// Snapshot is what State returns; it marshals to JSON.
type Snapshot struct {
	Endpoint string         `json:"endpoint"`
	Instance string         `json:"instance"`
	Now      time.Time      `json:"now"`
	Tables   []TableState   `json:"tables"`
	Faults   []PendingFault `json:"faults"`
	Counts   map[string]int `json:"counts"`
}

// Tables returns the tables, sorted by name, with their row counts.
func (s *Server) Tables() []TableState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tablesLocked()
}

func (s *Server) tablesLocked() []TableState {
	now := s.nowMs()
	out := []TableState{}
	for _, name := range slices.Sorted(maps.Keys(s.tables)) {
		t := s.tables[name]
		ts := TableState{Name: name, TTLSeconds: t.ttl, MaxVersions: t.maxVersions, Rows: t.liveRows(now), StoredRows: len(t.index), Created: t.created}
		for _, p := range t.pks {
			ts.PrimaryKey = append(ts.PrimaryKey, PKColumn{Name: p.name, Type: p.typ.String(), AutoIncrement: p.autoInc})
		}
		out = append(out, ts)
	}
	return out
}

// State returns a snapshot of the server: tables with row counts, pending
// faults and request counts.
func (s *Server) State() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Snapshot{
		Endpoint: s.endpoint,
		Instance: s.instance,
		Now:      s.clock.Now(),
		Tables:   s.tablesLocked(),
		Faults:   s.faultsLocked(),
		Counts:   maps.Clone(s.counts),
	}
}

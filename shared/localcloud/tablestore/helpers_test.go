package tablestore_test

import (
	"errors"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// start is the fake clock's first reading.
var start = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

type env struct {
	srv   *tablestore.Server
	clock *tablestore.FakeClock
	store *auth.Store
	key   auth.Credential
}

func newEnv(t *testing.T, opts ...tablestore.Option) *env {
	t.Helper()
	e := &env{clock: tablestore.NewFakeClock(start)}
	e.store = auth.NewStore(e.clock.Now)
	e.key = e.store.NewAccessKey()
	e.srv = tablestore.NewServer(append([]tablestore.Option{tablestore.WithClock(e.clock), tablestore.WithCredentials(e.store)}, opts...)...)
	t.Cleanup(e.srv.Close)
	return e
}

// config is the SDK's default configuration without retries, so that a
// refused or faulted request is seen at once.
func config(retries uint) *ots.TableStoreConfig {
	c := ots.NewDefaultTableStoreConfig()
	c.RetryTimes = retries
	c.DefaultRetryInterval = 2 * time.Millisecond // the SDK draws rand.Int63n(interval-1): keep it above 1 ms
	c.MaxRetryInterval = 4 * time.Millisecond
	return c
}

func (e *env) client() *ots.TableStoreClient {
	return ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), e.key.AccessKeyID, e.key.AccessKeySecret, "", config(0))
}

// otsErr asserts err is the service error code with status.
func otsErr(t *testing.T, err error, status int, code string) *ots.OtsError {
	t.Helper()
	var oe *ots.OtsError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v (%T), want *OtsError %d %s", err, err, status, code)
	}
	if oe.Code != code || oe.HttpStatusCode != status {
		t.Fatalf("err = %d %s %q, want %d %s", oe.HttpStatusCode, oe.Code, oe.Message, status, code)
	}
	return oe
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// createTable creates a table with a STRING and an INTEGER primary key
// through the SDK.
func createTable(t *testing.T, c *ots.TableStoreClient, name string, ttl, versions int) {
	t.Helper()
	meta := &ots.TableMeta{TableName: name}
	meta.AddPrimaryKeyColumn("id", ots.PrimaryKeyType_STRING)
	meta.AddPrimaryKeyColumn("seq", ots.PrimaryKeyType_INTEGER)
	_, err := c.CreateTable(&ots.CreateTableRequest{
		TableMeta:          meta,
		TableOption:        &ots.TableOption{TimeToAlive: ttl, MaxVersion: versions},
		ReservedThroughput: &ots.ReservedThroughput{},
	})
	mustOK(t, err)
}

func pk(id string, seq int64) *ots.PrimaryKey {
	p := new(ots.PrimaryKey)
	p.AddPrimaryKeyColumn("id", id)
	p.AddPrimaryKeyColumn("seq", seq)
	return p
}

type col struct {
	name string
	v    any
}

func put(c *ots.TableStoreClient, table string, key *ots.PrimaryKey, cond ots.RowExistenceExpectation, cols ...col) error {
	ch := &ots.PutRowChange{TableName: table, PrimaryKey: key}
	for _, x := range cols {
		ch.AddColumn(x.name, x.v)
	}
	ch.SetCondition(cond)
	_, err := c.PutRow(&ots.PutRowRequest{PutRowChange: ch})
	return err
}

// get reads the latest version of every column; nil when the row is absent.
func get(t *testing.T, c *ots.TableStoreClient, table string, key *ots.PrimaryKey) map[string]any {
	t.Helper()
	resp, err := c.GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: table, PrimaryKey: key, MaxVersion: 1}})
	mustOK(t, err)
	if len(resp.PrimaryKey.PrimaryKeys) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, x := range resp.Columns {
		out[x.ColumnName] = x.Value
	}
	return out
}

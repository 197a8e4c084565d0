package ledger

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// start is the fake clock's first reading.
var start = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

const table = "rds_backup_ledger"

// env is a Tablestore emulator on a fake clock, a ledger table created
// through the SDK with the package's own TableMeta, and a client with
// ClientConfig (no SDK retries).
type env struct {
	t     *testing.T
	srv   *tablestore.Server
	clock *tablestore.FakeClock
	key   auth.Credential
	l     *Ledger
}

func newEnv(t *testing.T, ttl time.Duration, opts ...Option) *env {
	t.Helper()
	e := &env{t: t, clock: tablestore.NewFakeClock(start)}
	store := auth.NewStore(e.clock.Now)
	e.key = store.NewAccessKey()
	e.srv = tablestore.NewServer(tablestore.WithClock(e.clock), tablestore.WithCredentials(store))
	t.Cleanup(e.srv.Close)
	if err := CreateTable(context.Background(), e.client(ClientConfig()), table, ttl); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	// A transport of its own, closed before the server: connections the
	// transport dialed for concurrent calls and never used would otherwise
	// hold the server's Shutdown for 5 s.
	cfg := ClientConfig()
	tr := &http.Transport{}
	cfg.Transport = tr
	t.Cleanup(tr.CloseIdleConnections)
	e.l = New(e.client(cfg), table, append([]Option{WithClock(e.clock.Now)}, opts...)...)
	e.reset()
	return e
}

func (e *env) client(c *ots.TableStoreConfig) *ots.TableStoreClient {
	return ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), e.key.AccessKeyID, e.key.AccessKeySecret, "", c)
}

// callMark is where the call log stood; the calls since it are what a step
// cost.
type callMark int

func (e *env) reset() callMark { return callMark(len(e.srv.Calls())) }

// since lists the actions called since m, e.g. "PutRow GetRow".
func (e *env) since(m callMark) string {
	var out []string
	for _, c := range e.srv.Calls()[m:] {
		out = append(out, c.Action)
	}
	return strings.Join(out, " ")
}

func ask(owner string) Ask {
	return Ask{
		Scope: "route:demo-pipeline", Key: "k-0001", Digest: "d1",
		Method: "Physical", Target: "rm-demo-mysql1", AskedAt: start.Add(-time.Minute),
		Owner: owner, RunID: "run-1",
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) claim(a Ask) Claim {
	e.t.Helper()
	c, err := e.l.Claim(context.Background(), a)
	if err != nil {
		e.t.Fatalf("Claim(%s): %v", a.Owner, err)
	}
	return c
}

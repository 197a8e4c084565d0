package rdsclient_test

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// countingProxy forwards TCP connections to target and counts them: how
// many connections the client opened.
func countingProxy(t *testing.T, target string) (addr string, opened *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opened = new(atomic.Int64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns { // the SDK keeps its idle connections for the process's life
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			opened.Add(1)
			mu.Lock()
			conns = append(conns, in)
			mu.Unlock()
			wg.Go(func() {
				defer in.Close()
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { io.Copy(out, in); out.Close() }()
				io.Copy(in, out)
			})
		}
	})
	return ln.Addr().String(), opened
}

// proxiedClient is an RDS emulator with instance rm-conns and a client
// (MaxIdleConns idle, 0: the default) that reaches it through
// countingProxy.
func proxiedClient(t *testing.T, idle int) (*rds.Server, *rdsclient.Client, *atomic.Int64) {
	t.Helper()
	store := auth.NewStore(nil)
	cred := store.NewAccessKey()
	srv := rds.NewServer(rds.WithCredentials(store))
	t.Cleanup(srv.Close)
	srv.AddInstance(rds.Instance{DBInstanceId: "rm-conns", Engine: "MySQL"})
	addr, opened := countingProxy(t, srv.Endpoint())
	c, err := rdsclient.New(rdsclient.Config{RegionID: "cn-hangzhou", Endpoint: addr, Protocol: "http",
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, MaxIdleConns: idle})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, opened
}

// TestConnectionsAreKeptAcrossConcurrentCalls: rounds of calls made at
// once (as the executor makes them, up to BACKUP_RDS_CONCURRENCY) reuse
// the connections of the round before. net/http keeps 2 idle connections
// per host unless told otherwise: every other call would open a
// connection (over HTTPS a TLS handshake) and close it after.
func TestConnectionsAreKeptAcrossConcurrentCalls(t *testing.T) {
	const perRound, rounds = 24, 3
	srv, c, opened := proxiedClient(t, perRound)
	srv.InjectFault(rds.Fault{Latency: 30 * time.Millisecond}) // the round's calls overlap
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range rounds {
		var wg sync.WaitGroup
		for range perRound {
			wg.Go(func() {
				if _, _, err := c.DescribeInstance(ctx, "cn-hangzhou", "rm-conns"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	// Without kept connections: 24 + 22 + 22.
	if n := opened.Load(); n > perRound+4 {
		t.Errorf("%d rounds of %d calls at once opened %d connections; want the first round's %d reused", rounds, perRound, n, perRound)
	}
}

// TestDeadlinesDoNotOpenConnections: calls whose deadlines differ by
// milliseconds share the SDK's HTTP client and its connections (the
// SDK keys its clients by their timeouts).
func TestDeadlinesDoNotOpenConnections(t *testing.T) {
	_, c, opened := proxiedClient(t, 0)
	base := time.Now().Add(3 * time.Second) // under the 10 s read timeout: the deadline decides
	for i := range 10 {
		ctx, cancel := context.WithDeadline(context.Background(), base.Add(time.Duration(i)*7*time.Millisecond))
		if _, _, err := c.DescribeInstance(ctx, "cn-hangzhou", "rm-conns"); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	if n := opened.Load(); n > 2 {
		t.Errorf("10 calls one after another, deadlines 7 ms apart, opened %d connections; want 1 (2 if a second boundary fell between)", n)
	}
}

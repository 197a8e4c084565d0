package executor_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
)

// RDS's API limits are per account and region: a member account that
// throttles slows down only its own calls. Account A answers every
// CreateBackup with Throttling.User; its ask ends deferred and its gate is
// closed. Account B's ask, and then one of the functions' own account, go
// straight to CreateBackup: one call each, no wait on the clock.
func TestAThrottledAccountHoldsOnlyItsOwnCalls(t *testing.T) {
	own := newFake()
	ex, c := newExec(own)
	member := func(id, account string) backup.Request {
		return fresh(id, func(r *backup.Request) { r.AccountId, r.RegionId = account, "cn-shanghai" })
	}

	a := newFake()
	a.create = func(int) (string, error) { return "", apiErr("Throttling.User", 400) }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if o := ex.Run(ctx, a, member("rm-a1", "1111111111111111"), executor.History{}); o.Status != backup.StatusDeferred {
		t.Fatalf("account A's ask: %s, want deferred after throttling", o.Status)
	}
	if a.count("CreateBackup") < 2 {
		t.Fatalf("account A: %d CreateBackup, want its retries", a.count("CreateBackup"))
	}
	if now, _ := ex.MemberConcurrency("1111111111111111", "cn-shanghai"); now >= executor.DefaultOptions().InitialConcurrency {
		t.Errorf("account A's limit %d: throttling did not lower it", now)
	}

	b := newFake()
	before := c.Now()
	if o := ex.Run(ctx, b, member("rm-b1", "2222222222222222"), executor.History{}); o.Status != backup.StatusAccepted {
		t.Fatalf("account B's ask: %s, want accepted", o.Status)
	}
	if n := b.count("CreateBackup"); n != 1 || !c.Now().Equal(before) {
		t.Fatalf("account B: %d CreateBackup, clock moved %v: held by account A's throttling", n, c.Now().Sub(before))
	}
	if o := ex.Run(ctx, own, fresh("rm-own1"), executor.History{}); o.Status != backup.StatusAccepted || own.count("CreateBackup") != 1 {
		t.Fatalf("own account's ask: %s after %d calls", o.Status, own.count("CreateBackup"))
	}
	if p := ex.Gate().Pause(); p != 0 || !c.Now().Equal(before) {
		t.Fatalf("own account's gate pause %v (clock moved %v): account A's throttling reached it", p, c.Now().Sub(before))
	}
}

// An API's own quota (Throttling.Api) is that API's: the ask retries and
// is accepted, and the flow's gate stays open for every other call (an
// account-level Throttling.User closes it, as before).
func TestAnAPIQuotaAnswerPacesOnlyThatAPI(t *testing.T) {
	for _, c := range []struct {
		code     string
		gateOpen bool
	}{{"Throttling.Api", true}, {"Throttling.User", false}} {
		f := newFake()
		f.create = func(n int) (string, error) {
			if n <= 2 {
				return "", apiErr(c.code, 400)
			}
			return "", nil
		}
		ex, _ := newExec(f, func(o *executor.Options) { o.FreshFor = time.Minute })
		o := ex.Run(context.Background(), f, fresh("rm-q1"), executor.History{})
		if o.Status != backup.StatusAccepted || f.count("CreateBackup") != 3 {
			t.Fatalf("%s: %s after %d CreateBackup", c.code, o.Status, f.count("CreateBackup"))
		}
		if open := ex.Gate().NotBefore().IsZero(); open != c.gateOpen {
			t.Errorf("%s: gate never closed = %v, want %v", c.code, open, c.gateOpen)
		}
	}
}

// Asks of an account and region start as the pair can take them: a
// fleet's 60 asks of one pair do not all start at once (each would claim
// its row, mark its send and wait in the pacer or the adaptive limit,
// ahead of other pairs' first asks): twice the adaptive limit's start
// while its calls are out, and, once CreateBackup's quota paces the pair,
// about two seconds of its pace (at least 8). Every ask is still backed
// up.
func TestAPacedPairAdmitsItsAsksAsItCanTakeThem(t *testing.T) {
	f := newFake()
	release := make(chan struct{})
	blocked := make(chan struct{}, 64)
	f.create = func(n int) (string, error) {
		if n <= 3 {
			return "", apiErr("Throttling.Api", 400) // the quota paces the pair
		}
		blocked <- struct{}{}
		<-release
		return "", nil
	}
	ex, _ := newExec(f, func(o *executor.Options) { o.FreshFor = time.Hour })
	const n = 60
	reqs := make([]backup.Request, n)
	for i := range reqs {
		reqs[i] = fresh(fmt.Sprintf("rm-p%02d", i), func(r *backup.Request) { r.AccountId, r.RegionId = "3333333333333333", "cn-shanghai" })
	}
	var mu sync.Mutex
	started, held := 0, 0
	go func() {
		// The calls the adaptive limit lets out are held until it is
		// full: meanwhile asks would pile up before it unless admission
		// held them back.
		for range executor.DefaultOptions().InitialConcurrency {
			<-blocked
		}
		mu.Lock()
		held = started
		mu.Unlock()
		close(release)
	}()
	outs := ex.RunEach(context.Background(), f, reqs, func(int) executor.History {
		mu.Lock()
		defer mu.Unlock()
		started++
		return executor.History{}
	}, nil)
	for i, o := range outs {
		if o.Status != backup.StatusAccepted {
			t.Errorf("%s: %s, want accepted", reqs[i].DBInstanceId, o.Status)
		}
	}
	if first := 2 * executor.DefaultOptions().InitialConcurrency; held > first {
		t.Errorf("%d asks of the pair started while its first calls were out, want at most %d", held, first)
	}
}

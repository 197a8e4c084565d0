package executor

import (
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// A pair admits twice its adaptive limit's asks while CreateBackup is not
// paced, and about two seconds of the pace (at least 8) once it is; an
// ask that ends lets the next one in.
func TestAdmissionFollowsTheLimitAndThePace(t *testing.T) {
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	o := DefaultOptions()
	o.Now = func() time.Time { return now }
	e := New(o)
	const account, region = "3333333333333333", "cn-shanghai"
	a := e.newAdmission(account, region)
	fill := func() int {
		n := 0
		for ; n < 1000; n++ {
			if ok, _ := a.try(false); !ok {
				break
			}
		}
		return n
	}
	if got, want := fill(), 2*o.InitialConcurrency; got != want {
		t.Fatalf("unpaced: %d asks admitted, want %d (twice the limit's start)", got, want)
	}
	ok, freed := a.try(false)
	if ok {
		t.Fatal("admitted past the limit")
	}
	a.end()
	select {
	case <-freed:
	default:
		t.Fatal("an ask ended and the waiting dispatcher was not woken")
	}
	if ok, _ := a.try(false); !ok {
		t.Fatal("an ask ended, the next one was not admitted")
	}
	if ok, _ := a.try(true); !ok {
		t.Fatal("forced (the invocation ending) and not admitted")
	}

	// The quota throws CreateBackup back: the pair is paced.
	pc := e.flowFor(account, region).pacer(region, rdsclient.ActionCreateBackup, o.Now)
	pc.Update(true)
	r, paced := pc.Rate()
	if !paced {
		t.Fatal("the pacer did not start pacing")
	}
	want := max(minPacedAsks, int(2*r+0.999))
	for range 2*o.InitialConcurrency + 1 {
		a.end()
	}
	if got := fill(); got != want {
		t.Errorf("paced at %.1f/s: %d asks admitted, want %d", r, got, want)
	}
}

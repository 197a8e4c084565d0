package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A delivery that ends without a job releases its lease: the next delivery
// takes the row over at once (no Busy wait), and only the holder can
// release.
func TestReleaseLetsTheNextDeliveryTakeOver(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.claim(ask("a"))
	if c := e.claim(ask("b")); !c.Busy {
		t.Fatalf("before release: %+v, want Busy", c)
	}
	if err := e.l.Release(ctx, "route:demo-pipeline", "k-0001", "b", false); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("release by a non-holder: %v, want ErrLeaseLost", err)
	}
	m := e.reset()
	must(t, e.l.Release(ctx, "route:demo-pipeline", "k-0001", "a", false))
	if got := e.since(m); got != "UpdateRow" {
		t.Errorf("release calls %q, want one UpdateRow", got)
	}
	c := e.claim(ask("b"))
	if !c.Won || !c.TakenOver {
		t.Fatalf("after release: %+v, want won by takeover", c)
	}
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "b", "5073731"))
	if err := e.l.Release(ctx, "route:demo-pipeline", "k-0001", "b", false); !errors.Is(err, ErrJobConflict) {
		t.Errorf("release of a row with a job: %v, want ErrJobConflict", err)
	}
}

// A row whose job failed is reopened once: the winner holds the lease
// without a job and records its new one; a second reopen of the same
// failed job sees the new job instead.
func TestReopenAFailedJob(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.claim(ask("a"))
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "a", "5073731"))

	m := e.reset()
	c, err := e.l.Reopen(ctx, ask("b"), "5073731")
	if err != nil || !c.Won || !c.TakenOver {
		t.Fatalf("Reopen: %+v, %v; want won by takeover", c, err)
	}
	if got := e.since(m); got != "UpdateRow" {
		t.Errorf("reopen calls %q, want one UpdateRow", got)
	}
	row, _, err := e.l.Get(ctx, "route:demo-pipeline", "k-0001")
	must(t, err)
	if row.JobID != "" || row.LeaseOwner != "b" {
		t.Fatalf("row after reopen: job %q owner %q, want no job, owner b", row.JobID, row.LeaseOwner)
	}
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "b", "5073740"))

	c, err = e.l.Reopen(ctx, ask("c"), "5073731")
	if err != nil || c.Won || c.Row.JobID != "5073740" {
		t.Fatalf("second reopen of the failed job: %+v, %v; want lost, seeing job 5073740", c, err)
	}
}

// Of concurrent reopens of one failed job exactly one wins.
func TestConcurrentReopensOneWinner(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.claim(ask("a"))
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "a", "5073731"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.l.Reopen(ctx, ask(string(rune('p'+i))), "5073731")
			if err != nil {
				t.Error(err)
				return
			}
			if c.Won {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d reopens won, want 1", won)
	}
}

// MarkSending records the send and renews the holder's lease; anyone else
// is refused; a reopen forgets the send of the failed job.
func TestMarkSending(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.claim(ask("a"))
	e.clock.Advance(time.Minute)
	if _, err := e.l.MarkSending(ctx, "route:demo-pipeline", "k-0001", "b", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("MarkSending by a non-holder: %v, want ErrLeaseLost", err)
	}
	until, err := e.l.MarkSending(ctx, "route:demo-pipeline", "k-0001", "a", time.Minute)
	must(t, err)
	row, _, err := e.l.Get(ctx, "route:demo-pipeline", "k-0001")
	must(t, err)
	if !row.SentAt.Equal(e.clock.Now()) || !row.LeaseUntil.Equal(until) || !until.Equal(e.clock.Now().Add(time.Minute)) {
		t.Errorf("row sentAt %s leaseUntil %s (returned %s), want now %s and a minute on", row.SentAt, row.LeaseUntil, until, e.clock.Now())
	}
	must(t, e.l.RecordJob(ctx, "route:demo-pipeline", "k-0001", "a", "5073731"))
	_, err = e.l.Reopen(ctx, ask("c"), "5073731")
	must(t, err)
	row, _, err = e.l.Get(ctx, "route:demo-pipeline", "k-0001")
	must(t, err)
	if !row.SentAt.IsZero() || row.JobID != "" {
		t.Errorf("after reopen: sentAt %s job %q, want neither", row.SentAt, row.JobID)
	}
}

// The latest job per instance and method: the last note wins; another
// instance or method has its own.
func TestInstanceJobs(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	k := InstanceKey("cn-hangzhou", "rm-1", "Physical")
	if _, _, found, err := e.l.LastInstanceJob(ctx, k); err != nil || found {
		t.Fatalf("before any note: found %v, %v", found, err)
	}
	must(t, e.l.NoteInstanceJob(ctx, k, "5073731", start))
	must(t, e.l.NoteInstanceJob(ctx, k, "5073740", start.Add(time.Minute)))
	must(t, e.l.NoteInstanceJob(ctx, k, "5073735", start.Add(time.Second))) // older than the note: dropped
	must(t, e.l.NoteInstanceJob(ctx, InstanceKey("cn-hangzhou", "rm-1", "Snapshot"), "5073799", start))
	id, created, found, err := e.l.LastInstanceJob(ctx, k)
	must(t, err)
	if !found || id != "5073740" || !created.Equal(start.Add(time.Minute)) {
		t.Errorf("latest job %q created %s (found %v), want 5073740 at %s", id, created, found, start.Add(time.Minute))
	}
	m := e.reset()
	if err := e.l.NoteInstanceJob(ctx, k, "", start); err == nil || e.since(m) != "" {
		t.Errorf("an empty job id: %v with calls %q, want refused before any call", err, e.since(m))
	}
}

// Send markers: one per delivery, read per instance and method; another
// instance's, method's or a neighbouring instance id's markers are not
// read; a forgotten marker is gone; many markers page.
func TestInstanceSends(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	k := InstanceKey("cn-hangzhou", "rm-1", "Physical")
	must(t, e.l.NoteInstanceSend(ctx, k, "run-a", start))
	must(t, e.l.NoteInstanceSend(ctx, k, "run-b", start.Add(time.Second)))
	must(t, e.l.NoteInstanceSend(ctx, k, "run-a", start.Add(2*time.Second))) // a's next send: its marker moves on
	must(t, e.l.NoteInstanceSend(ctx, InstanceKey("cn-hangzhou", "rm-1", "Snapshot"), "run-c", start))
	must(t, e.l.NoteInstanceSend(ctx, InstanceKey("cn-hangzhou", "rm-10", "Physical"), "run-d", start))
	must(t, e.l.NoteInstanceSend(ctx, InstanceKey("cn-hangzhou", "rm-1", "PhysicalX"), "run-e", start))
	got, err := e.l.InstanceSends(ctx, k)
	must(t, err)
	want := map[string]time.Time{"run-a": start.Add(2 * time.Second), "run-b": start.Add(time.Second)}
	if len(got) != len(want) {
		t.Fatalf("markers %v, want %v", got, want)
	}
	for _, s := range got {
		if at, ok := want[s.Owner]; !ok || !s.At.Equal(at) {
			t.Errorf("marker %+v, want one of %v", s, want)
		}
	}
	must(t, e.l.ForgetInstanceSend(ctx, k, "run-a"))
	must(t, e.l.ForgetInstanceSend(ctx, k, "run-z")) // none: no error
	got, err = e.l.InstanceSends(ctx, k)
	must(t, err)
	if len(got) != 1 || got[0].Owner != "run-b" {
		t.Errorf("after forgetting run-a: %v, want run-b's only", got)
	}
	for i := range 250 {
		must(t, e.l.NoteInstanceSend(ctx, k, fmt.Sprintf("run-%03d", i), start))
	}
	m := e.reset()
	got, err = e.l.InstanceSends(ctx, k)
	must(t, err)
	if len(got) != 251 || e.since(m) != "GetRange GetRange GetRange" {
		t.Errorf("%d markers with calls %q, want 251 in three pages", len(got), e.since(m))
	}
	m = e.reset()
	if err := e.l.NoteInstanceSend(ctx, k, "run a", start); err == nil || e.since(m) != "" {
		t.Errorf("an owner with a space: %v with calls %q, want refused before any call", err, e.since(m))
	}
}

// ReadInstance: an instance's latest job of each method and its open send
// markers, in one GetRange; neighbouring instance ids (rm-10, rm-1-b)
// and other regions are not read.
func TestReadInstance(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	phys, snap := InstanceKey("cn-hangzhou", "rm-1", "Physical"), InstanceKey("cn-hangzhou", "rm-1", "Snapshot")
	must(t, e.l.NoteInstanceJob(ctx, phys, "5073731", start))
	must(t, e.l.NoteInstanceJob(ctx, InstanceKey("cn-hangzhou", "rm-1", "Unknown"), "5073740", start.Add(time.Minute)))
	must(t, e.l.NoteInstanceSend(ctx, phys, "run-a", start.Add(time.Second)))
	must(t, e.l.NoteInstanceSend(ctx, phys, "run-b", start.Add(2*time.Second)))
	must(t, e.l.NoteInstanceSend(ctx, snap, "run-c", start.Add(3*time.Second)))
	for _, other := range []string{InstanceKey("cn-hangzhou", "rm-10", "Physical"), InstanceKey("cn-hangzhou", "rm-1-b", "Physical"),
		InstanceKey("cn-shanghai", "rm-1", "Physical")} {
		must(t, e.l.NoteInstanceJob(ctx, other, "9999999", start))
		must(t, e.l.NoteInstanceSend(ctx, other, "run-x", start))
	}
	m := e.reset()
	v, err := e.l.ReadInstance(ctx, "cn-hangzhou", "rm-1")
	must(t, err)
	if got := e.since(m); got != "GetRange" {
		t.Errorf("calls %q, want one GetRange", got)
	}
	wantJobs := map[string]InstanceJob{"Physical": {"5073731", start}, "Unknown": {"5073740", start.Add(time.Minute)}}
	if len(v.Jobs) != len(wantJobs) {
		t.Errorf("jobs %v, want %v", v.Jobs, wantJobs)
	}
	for method, want := range wantJobs {
		if got := v.Jobs[method]; got.JobID != want.JobID || !got.Created.Equal(want.Created) {
			t.Errorf("%s job %+v, want %+v", method, got, want)
		}
	}
	owners := func(ss []Send) (out []string) {
		for _, s := range ss {
			out = append(out, fmt.Sprintf("%s@%s", s.Owner, s.At.Sub(start)))
		}
		return out
	}
	if got := fmt.Sprint(owners(v.Sends["Physical"]), owners(v.Sends["Snapshot"])); got != "[run-a@1s run-b@2s] [run-c@3s]" || len(v.Sends) != 2 {
		t.Errorf("markers %v, want run-a and run-b of Physical, run-c of Snapshot", v.Sends)
	}
	for _, bad := range []string{"rm 1", "rm-1/Physical", ""} {
		m = e.reset()
		if _, err := e.l.ReadInstance(ctx, "cn-hangzhou", bad); err == nil || e.since(m) != "" {
			t.Errorf("instance id %q: %v with calls %q, want refused before any call", bad, err, e.since(m))
		}
	}
}

// SendBegin and JobMade: what MarkSending + NoteInstanceSend and
// RecordJob + NoteInstanceJob + ForgetInstanceSend do, one BatchWriteRow
// each, with the single-row calls' errors.
func TestSendBeginAndJobMade(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	_, err := e.l.Claim(ctx, ask("a"))
	must(t, err)
	k := InstanceKey("cn-hangzhou", "rm-demo-mysql1", "Physical")
	m := e.reset()
	until, at, err := e.l.SendBegin(ctx, "route:demo-pipeline", "k-0001", "a", time.Minute, k)
	must(t, err)
	if got := e.since(m); got != "BatchWriteRow" {
		t.Errorf("SendBegin calls %q, want one BatchWriteRow", got)
	}
	row, _, err := e.l.Get(ctx, "route:demo-pipeline", "k-0001")
	must(t, err)
	sends, err := e.l.InstanceSends(ctx, k)
	must(t, err)
	if !row.SentAt.Equal(at) || !row.LeaseUntil.Equal(until) || len(sends) != 1 || sends[0].Owner != "a" || !sends[0].At.Equal(at) {
		t.Errorf("after SendBegin: row sentAt %s lease %s, markers %v; want sentAt and the marker at %s", row.SentAt, row.LeaseUntil, sends, at)
	}
	if _, _, err := e.l.SendBegin(ctx, "route:demo-pipeline", "k-0001", "b", time.Minute, k); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("SendBegin by another owner: %v, want ErrLeaseLost", err)
	}
	must(t, e.l.NoteInstanceJob(ctx, k, "5073800", start.Add(time.Hour))) // a later job noted already
	m = e.reset()
	noted, forgot, err := e.l.JobMade(ctx, "route:demo-pipeline", "k-0001", "a", "5073731", k, start)
	must(t, err)
	if got := e.since(m); got != "BatchWriteRow" || !noted || !forgot {
		t.Errorf("JobMade: calls %q noted %v forgot %v, want one BatchWriteRow, noted (a later job stands) and forgotten", got, noted, forgot)
	}
	row, _, err = e.l.Get(ctx, "route:demo-pipeline", "k-0001")
	must(t, err)
	id, _, _, err := e.l.LastInstanceJob(ctx, k)
	must(t, err)
	sends, err = e.l.InstanceSends(ctx, k)
	must(t, err)
	if row.JobID != "5073731" || row.State != StateActing || id != "5073800" || len(sends) != 0 {
		t.Errorf("after JobMade: row job %q state %s, instance job %q, markers %v", row.JobID, row.State, id, sends)
	}
	if _, _, err := e.l.JobMade(ctx, "route:demo-pipeline", "k-0001", "a", "5073732", k, start); !errors.Is(err, ErrJobConflict) {
		t.Errorf("JobMade with another job: %v, want ErrJobConflict", err)
	}
}

// ClaimSending: a new key is claimed with its send said — the row's SentAt
// and the marker, one BatchWriteRow, the claim's time in both. A repeat
// loses as with Claim and leaves no marker of its own behind (other asks
// of the method would wait on it); so does a key reused with another body.
func TestClaimSending(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	k := InstanceKey("cn-hangzhou", "rm-demo-mysql1", "Physical")
	m := e.reset()
	c, err := e.l.ClaimSending(ctx, ask("a"), k)
	must(t, err)
	if got := e.since(m); got != "BatchWriteRow" {
		t.Errorf("ClaimSending calls %q, want one BatchWriteRow", got)
	}
	if !c.Won || !c.Sending || c.TakenOver || c.Resumed || !c.Row.SentAt.Equal(start) || !c.Row.LeaseUntil.Equal(start.Add(DefaultLease)) {
		t.Fatalf("claim = %+v, want won and sending at %s, leased for DefaultLease", c, start)
	}
	row, found, err := e.l.Get(ctx, "route:demo-pipeline", "k-0001")
	must(t, err)
	if !found || row != c.Row {
		t.Errorf("Get = %+v %v, want the row ClaimSending wrote %+v", row, found, c.Row)
	}
	sends, err := e.l.InstanceSends(ctx, k)
	must(t, err)
	if len(sends) != 1 || sends[0].Owner != "a" || !sends[0].At.Equal(start) {
		t.Errorf("markers %v, want a's at %s", sends, start)
	}

	e.clock.Advance(time.Second)
	m = e.reset()
	c, err = e.l.ClaimSending(ctx, ask("b"), k)
	must(t, err)
	if c.Won || !c.Busy || c.Sending || c.Row.LeaseOwner != "a" {
		t.Errorf("repeat while a works = %+v, want lost and busy (a's lease)", c)
	}
	if got := e.since(m); got != "BatchWriteRow BatchWriteRow GetRow" {
		t.Errorf("repeat calls %q, want the claim, the marker's delete, the read", got)
	}
	other := ask("c")
	other.Digest = "d2"
	var conflict *ConflictError
	if _, err := e.l.ClaimSending(ctx, other, k); !errors.As(err, &conflict) {
		t.Errorf("the key with another digest: %v, want a ConflictError", err)
	}
	sends, err = e.l.InstanceSends(ctx, k)
	must(t, err)
	if len(sends) != 1 || sends[0].Owner != "a" {
		t.Errorf("markers after the repeats %v, want a's alone", sends)
	}
	m = e.reset()
	var invalid *ValidationError
	if _, err := e.l.ClaimSending(ctx, ask("d"), ""); !errors.As(err, &invalid) || e.since(m) != "" {
		t.Errorf("ClaimSending without an instance key: %v, calls %q; want a ValidationError before any call", err, e.since(m))
	}
}

package ledger

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Asks running at the same time share Tablestore calls, and each still
// gets exactly its own row's answer: 60 claims (20 keys, each claimed by
// three deliveries) with one write call out at a time make fewer calls
// than claims; per key exactly one delivery wins and the two others find
// its live lease (Busy) — as if each had claimed alone. Then every winner
// writes SendBegin and JobMade at once: every one succeeds, the send
// markers are gone, the instance rows name the jobs.
func TestConcurrentWritesShareCallsAndKeepTheirOwnAnswers(t *testing.T) {
	e := newEnv(t, 0, WithWritesInFlight(1))
	m := e.reset()
	const keys, deliveries = 20, 3
	type res struct {
		owner string
		c     Claim
		err   error
	}
	results := make(chan res, keys*deliveries)
	var wg sync.WaitGroup
	for k := range keys {
		for d := range deliveries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := ask(fmt.Sprintf("owner-%02d-%d", k, d))
				a.Key = fmt.Sprintf("k-%02d", k)
				a.Target = fmt.Sprintf("rm-c%02d", k)
				c, err := e.l.Claim(context.Background(), a)
				results <- res{a.Owner, c, err}
			}()
		}
	}
	wg.Wait()
	close(results)
	winners := map[string]string{} // key -> owner
	busy := map[string]int{}
	for r := range results {
		if r.err != nil {
			t.Fatalf("%s: %v", r.owner, r.err)
		}
		switch {
		case r.c.Won:
			if w, dup := winners[r.c.Row.Key]; dup {
				t.Fatalf("key %s won by %s and %s", r.c.Row.Key, w, r.owner)
			}
			winners[r.c.Row.Key] = r.owner
		case r.c.Busy:
			busy[r.c.Row.Key]++
		default:
			t.Fatalf("%s: claim %+v, want won or busy", r.owner, r.c)
		}
	}
	if len(winners) != keys {
		t.Fatalf("%d keys won, want %d", len(winners), keys)
	}
	for k, n := range busy {
		if n != deliveries-1 {
			t.Errorf("key %s: %d deliveries found it busy, want %d", k, n, deliveries-1)
		}
	}
	calls := strings.Fields(e.since(m))
	puts, batches := 0, 0
	for _, c := range calls {
		switch c {
		case "PutRow":
			puts++
		case "BatchWriteRow":
			batches++
		}
	}
	if puts+batches >= keys*deliveries {
		t.Fatalf("%d PutRow + %d BatchWriteRow for %d claims: writes were not combined", puts, batches, keys*deliveries)
	}
	if batches == 0 {
		t.Fatalf("calls %v: no BatchWriteRow, the claims never shared a call", calls)
	}

	// Every winner: the send, then the job, all at once.
	m = e.reset()
	var mu sync.Mutex
	errs := []error{}
	for key, owner := range winners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst := InstanceKey("cn-hangzhou", "rm-"+key, "Physical")
			_, _, err := e.l.SendBegin(context.Background(), ask("").Scope, key, owner, time.Minute, inst)
			if err == nil {
				var noted, forgot bool
				noted, forgot, err = e.l.JobMade(context.Background(), ask("").Scope, key, owner, "job-"+key, inst, start)
				if err == nil && (!noted || !forgot) {
					err = fmt.Errorf("JobMade %s: noted %v forgot %v", key, noted, forgot)
				}
			}
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(strings.Fields(e.since(m))); n >= 2*keys {
		t.Fatalf("%d calls for %d SendBegin and %d JobMade: not combined", n, keys, keys)
	}
	for key := range winners {
		inst := InstanceKey("cn-hangzhou", "rm-"+key, "Physical")
		if job, _, found, err := e.l.LastInstanceJob(context.Background(), inst); err != nil || !found || job != "job-"+key {
			t.Errorf("instance %s: job %q found %v err %v", inst, job, found, err)
		}
		if sends, err := e.l.InstanceSends(context.Background(), inst); err != nil || len(sends) != 0 {
			t.Errorf("instance %s: send markers %v (err %v), want none", inst, sends, err)
		}
		r, _, err := e.l.Get(context.Background(), ask("").Scope, key)
		if err != nil || r.JobID != "job-"+key {
			t.Errorf("ask %s: row %+v err %v", key, r, err)
		}
	}
}

// A lone claim is still one PutRow: combining changes nothing at low load.
func TestALoneClaimIsOnePutRow(t *testing.T) {
	e := newEnv(t, 0)
	m := e.reset()
	e.claim(ask("A"))
	if got := e.since(m); got != "PutRow" {
		t.Fatalf("calls %q, want one PutRow", got)
	}
}

// TestConcurrentForgetsShareCalls: markers forgotten at the same time (a
// fleet's CreateBackups thrown back by a quota, each forgetting its send
// marker) leave together as BatchWriteRows, and every marker is gone while
// other owners' stay.
func TestConcurrentForgetsShareCalls(t *testing.T) {
	e := newEnv(t, 0, WithWritesInFlight(1))
	ctx := context.Background()
	const n = 30
	keys := make([]string, n)
	for i := range keys {
		keys[i] = InstanceKey("cn-hangzhou", fmt.Sprintf("rm-f%02d", i), "Physical")
		must(t, e.l.NoteInstanceSend(ctx, keys[i], "run-a", start))
		must(t, e.l.NoteInstanceSend(ctx, keys[i], "run-b", start))
	}
	m := e.reset()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range keys {
		wg.Go(func() { errs[i] = e.l.ForgetInstanceSend(ctx, keys[i], "run-a") })
	}
	wg.Wait()
	calls := strings.Fields(e.since(m))
	for i, err := range errs {
		if err != nil {
			t.Errorf("forget %s: %v", keys[i], err)
		}
	}
	if len(calls) >= n || slices.ContainsFunc(calls, func(c string) bool { return c != "BatchWriteRow" }) {
		t.Errorf("calls %v for %d forgets: want fewer BatchWriteRows than forgets", calls, n)
	}
	for _, k := range keys {
		got, err := e.l.InstanceSends(ctx, k)
		must(t, err)
		if len(got) != 1 || got[0].Owner != "run-b" {
			t.Errorf("%s: markers %v, want run-b's only", k, got)
		}
	}
}

// A row's size in a batch is never under its values' size as text (the
// batch's byte limit counts on it), without formatting them.
func TestTextLenIsNeverUnderTheText(t *testing.T) {
	for _, v := range []any{int64(math.MinInt64), int64(math.MaxInt64), -math.MaxFloat64, -math.SmallestNonzeroFloat64, 1.0 / 3,
		"", "rm-1/Physical", true, false, nil, []byte{255, 0, 7}, int(-1 << 62)} {
		if got, text := textLen(v), fmt.Sprint(v); got < len(text) {
			t.Errorf("textLen(%#v) = %d, under %d (%q)", v, got, len(text), text)
		}
	}
}

package webhook

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// movingClock is the handler's clock, moved by the test.
type movingClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movingClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *movingClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestFutureTimestampCannotMakeAReplayFresh is issue 19 item 2: signed
// with X-Timestamp = now+120 s, no Idempotency-Key and no AskedAt, the ask
// used to be dated at the timestamp, so it stayed fresh (straight to
// CreateBackup) until ts+2 s and a replay of the same bytes after each
// backup ended made a new one. askedAt is now the arrival (never later),
// and every replay of the same request is the same ask: the same key and
// the same askedAt, so the freshness rules find the first delivery's
// backup.
func TestFutureTimestampCannotMakeAReplayFresh(t *testing.T) {
	clk := &movingClock{now: testNow.Add(300 * time.Millisecond)}
	hs := newHarness(t, testRoutes, func(c *Config) { c.Now = clk.Now })
	received := clk.Now()
	ts := int64(nowUnix + 120)
	ev := signed("POST", "/v1/backups", okBody, "release-bot", botSecret, ts)

	send := func(what string) (backup.Request, decoded) {
		t.Helper()
		d := checkResponse(t, hs.h.Handle(context.Background(), ev))
		if d.Status != 202 {
			t.Fatalf("%s: %d %s", what, d.Status, d.Raw)
		}
		calls := hs.sub.Calls()
		return calls[len(calls)-1].Reqs[0], d
	}
	first, d := send("first delivery")
	if first.AskedAt.After(received) {
		t.Fatalf("askedAt %s is later than the request arrived (%s)", first.AskedAt, received)
	}
	entry := d.Body["requests"].([]any)[0].(map[string]any)
	if at, err := time.Parse(time.RFC3339, entry["askedAt"].(string)); err != nil || at.After(received) {
		t.Fatalf("the answer's askedAt %v is later than the request arrived (%s)", entry["askedAt"], received)
	}
	// Replays of the same bytes, before and after the timestamp: one ask.
	for _, d := range []time.Duration{30 * time.Second, 100 * time.Second, 60 * time.Second} {
		clk.Add(d)
		r, _ := send("replay")
		if r.IdempotencyKey != first.IdempotencyKey || !r.AskedAt.Equal(first.AskedAt) {
			t.Fatalf("a replay %s later is another ask: key %s askedAt %s, first %s %s",
				clk.Now().Sub(received), r.IdempotencyKey, r.AskedAt, first.IdempotencyKey, first.AskedAt)
		}
	}

	// The same for a body's AskedAt in the future, and for a caller's key.
	for name, mk := range map[string]func() events.HTTPEvent{
		"AskedAt in the future": func() events.HTTPEvent {
			return signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-pg1","AskedAt":"2030-01-01T00:00:00Z"}`, "release-bot", botSecret, nowUnix+200)
		},
		"a caller's key": func() events.HTTPEvent {
			return withKey(signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-pg1"}`, "release-bot", botSecret, nowUnix+400), "deploy-9", botSecret, nowUnix+400)
		},
	} {
		ev = mk()
		at := clk.Now()
		a, _ := send(name)
		if a.AskedAt.After(at) {
			t.Fatalf("%s: askedAt %s is later than the request arrived (%s)", name, a.AskedAt, at)
		}
		clk.Add(45 * time.Second)
		if b, _ := send(name + ", replayed"); b.IdempotencyKey != a.IdempotencyKey || !b.AskedAt.Equal(a.AskedAt) {
			t.Fatalf("%s: a replay is another ask: %s %s, first %s %s", name, b.IdempotencyKey, b.AskedAt, a.IdempotencyKey, a.AskedAt)
		}
	}

	// A timestamp in the past is the ask's time, as before.
	ev = signed("POST", "/v1/backups", okBody, "release-bot", botSecret, clk.Now().Unix()-10)
	if r, _ := send("past timestamp"); !r.AskedAt.Equal(time.Unix(clk.Now().Unix()-10, 0)) {
		t.Fatalf("askedAt %s, want the X-Timestamp", r.AskedAt)
	}
}

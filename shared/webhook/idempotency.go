package webhook

import (
	"crypto/sha256"
	"sync"
	"time"
)

// idemCacheSize bounds the Idempotency-Keys a warm instance remembers.
const idemCacheSize = 4096

// idemCache remembers, per caller and Idempotency-Key, the SHA-256 of the
// body the key first came with, so that the same key with another body is
// refused (409) instead of becoming a second ask (DESIGN.md §5). A key is
// scoped by the route that authenticated the request (the caller itself,
// not a name it shares), so one caller's key never meets another's.
//
// Best effort, honestly: it lives in one warm function instance. A cold
// start forgets it, and two instances do not share it, so a key reused
// with another body on another instance (or after the instance was
// recycled, or after idemCacheSize newer keys) is not caught; the second
// body is then a separate ask with keys of its own. The oldest key is
// forgotten first.
type idemCache struct {
	mu    sync.Mutex
	size  int
	sums  map[idemKey][sha256.Size]byte
	order []idemKey // ring of keys, oldest at next
	next  int
}

// idemKey is one caller's Idempotency-Key.
type idemKey struct {
	caller *route
	key    string
}

func newIdemCache(size int) *idemCache {
	return &idemCache{size: size, sums: make(map[idemKey][sha256.Size]byte, size)}
}

// claim records body under caller's key and reports whether the key is free
// or already names the same body; false means the key came with another body.
func (c *idemCache) claim(caller *route, k string, body []byte) bool {
	key := idemKey{caller, k}
	sum := sha256.Sum256(body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.sums[key]; ok {
		return prev == sum
	}
	if len(c.order) < c.size {
		c.order = append(c.order, key)
	} else {
		delete(c.sums, c.order[c.next])
		c.order[c.next] = key
		c.next = (c.next + 1) % c.size
	}
	c.sums[key] = sum
	return true
}

// firstSeen remembers, per caller and ask, when a request that claimed a
// time later than its arrival (X-Timestamp or AskedAt in the future) first
// arrived: that is the ask's askedAt, and a replay of the same request gets
// it again instead of its own, later arrival (which would make the replay a
// fresh ask and, once the first backup ended, a second backup).
//
// Best effort like idemCache: one warm instance's memory, the oldest
// forgotten first. Only requests with a future claimed time are recorded
// (only a holder of a caller's secret can make one), and an entry is
// needed only while such a request can still be replayed (its time plus
// the replay window).
type firstSeen struct {
	mu    sync.Mutex
	size  int
	at    map[idemKey]time.Time
	order []idemKey // ring of keys, oldest at next
	next  int
}

func newFirstSeen(size int) *firstSeen {
	return &firstSeen{size: size, at: make(map[idemKey]time.Time, size)}
}

// askedAt is the askedAt of caller's request k that claims the time
// claimed and arrived at received: the first arrival recorded for k, else
// claimed when it is not later than received, else received (recorded).
func (f *firstSeen) askedAt(caller *route, k string, claimed, received time.Time) time.Time {
	key := idemKey{caller, k}
	f.mu.Lock()
	defer f.mu.Unlock()
	if at, ok := f.at[key]; ok {
		return at
	}
	if !claimed.After(received) {
		return claimed
	}
	if len(f.order) < f.size {
		f.order = append(f.order, key)
	} else {
		delete(f.at, f.order[f.next])
		f.order[f.next] = key
		f.next = (f.next + 1) % f.size
	}
	f.at[key] = received
	return received
}

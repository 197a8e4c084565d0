package webhook

import (
	"context"
	"crypto/sha256"
	"errors"
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
// Without a KeyLedger it is the only check, and best effort, honestly: it
// lives in one warm function instance. A cold start forgets it, and two
// instances do not share it, so a key reused with another body on another
// instance (or after the instance was recycled, or after idemCacheSize
// newer keys) is not caught; the second body is then a separate ask with
// keys of its own. The oldest key is forgotten first.
//
// With a KeyLedger (Handler.UseKeyLedger) the ledger's row is the record
// and the cache its free first look: it remembers only what the ledger
// agreed to (a key claimed with this digest), so a hit with another body
// is a 409 without a call, a hit with the same body proceeds without one,
// and a miss asks the ledger.
type idemCache struct {
	mu    sync.Mutex
	size  int
	sums  map[idemKey][sha256.Size]byte
	order []idemKey // ring of keys, oldest at next
	next  int
	// ledger, when set, is the record every instance shares (KeyLedger).
	ledger KeyLedger
}

// idemKey is one caller's Idempotency-Key.
type idemKey struct {
	caller *route
	key    string
}

// newIdemCache makes an empty cache of at most size keys. Its map grows as
// keys come: sized up front it would allocate and clear some 300 KB at
// every cold start, for keys most instances never see.
func newIdemCache(size int) *idemCache {
	return &idemCache{size: size, sums: map[idemKey][sha256.Size]byte{}}
}

// claim records body under caller's key and reports whether the key is free
// or already names the same body; false means the key came with another body.
func (c *idemCache) claim(caller *route, k string, body []byte) bool {
	sum := sha256.Sum256(body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if same, known := c.lookupLocked(idemKey{caller, k}, sum); known {
		return same
	}
	c.rememberLocked(idemKey{caller, k}, sum)
	return true
}

// lookup reports whether caller's key is remembered (known) and, if so,
// whether with sum.
func (c *idemCache) lookup(caller *route, k string, sum [sha256.Size]byte) (same, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookupLocked(idemKey{caller, k}, sum)
}

func (c *idemCache) lookupLocked(key idemKey, sum [sha256.Size]byte) (same, known bool) {
	prev, ok := c.sums[key]
	return ok && prev == sum, ok
}

// remember records sum under caller's key (the ledger agreed to it).
func (c *idemCache) remember(caller *route, k string, sum [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sums[idemKey{caller, k}]; ok {
		return
	}
	c.rememberLocked(idemKey{caller, k}, sum)
}

func (c *idemCache) rememberLocked(key idemKey, sum [sha256.Size]byte) {
	if len(c.order) < c.size {
		c.order = append(c.order, key)
	} else {
		delete(c.sums, c.order[c.next])
		c.order[c.next] = key
		c.next = (c.next + 1) % c.size
	}
	c.sums[key] = sum
}

// KeyLedger is the webhook's port to the ask ledger (DESIGN.md §2a) for
// the Idempotency-Key check: one row per caller and key, holding the
// digest of the backups the key first asked for, shared by every function
// instance. shared/app implements it with the invocation's ledger (found
// through ctx); tests use a fake. It decides only "same body or not": the
// per-ask rows of the executor do the rest.
type KeyLedger interface {
	// ClaimKey records k.Digest under (k.Scope, k.Key) unless the row
	// exists. It returns nil when the key is new or recorded with the
	// same digest (whoever holds the row's lease), an error that
	// errors.Is ErrKeyReused when the row holds another digest, and any
	// other error when the ledger could not say (unreachable, throttled,
	// contended): the key was not checked.
	ClaimKey(ctx context.Context, k KeyClaim) error
}

// KeyClaim is the row ClaimKey records.
type KeyClaim struct {
	// Scope is the caller's: "route:<route name>" for a signed route,
	// keyScopeDefault for SignedSecret's implicit caller.
	Scope string
	// Key is "idem:" and the Idempotency-Key (at most 200 printable ASCII
	// characters, so within the ledger's key grammar).
	Key string
	// Digest is the hex SHA-256 of the canonical plan without AskedAt
	// (what idemCache compares).
	Digest string
	// AskedAt is when the request arrived (the handler's clock).
	AskedAt time.Time
}

// ErrKeyReused is what a KeyLedger's ClaimKey wraps when the key is recorded
// with another digest: the HTTP answer is a 409.
var ErrKeyReused = errors.New("webhook: Idempotency-Key recorded with other backups")

// keyScopeDefault is the ledger scope of SignedSecret's implicit caller:
// not "route:default", which a signed route named "default" (with its own
// secret) has. Route names have no ':', so no route's scope is this one.
const keyScopeDefault = "route::signed-secret"

// keyPrefix starts the ledger key of an Idempotency-Key, so that a caller's
// key never meets other rows of its scope.
const keyPrefix = "idem:"

// UseKeyLedger makes l the record of Idempotency-Keys across every
// function instance: the same key with another body is then a 409 on every
// instance, not only on the warm one that saw it. Call it before the
// Handler serves; nil leaves the per-instance check alone.
func (h *Handler) UseKeyLedger(l KeyLedger) { h.idem.ledger = l }

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

// newFirstSeen makes an empty record of at most size keys, grown as keys
// come (like newIdemCache, not sized up front).
func newFirstSeen(size int) *firstSeen {
	return &firstSeen{size: size, at: map[idemKey]time.Time{}}
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

package executor

import (
	"slices"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// factsCache keeps, per instance, what the rules need and what does not
// change for a warm function: the engine and the storage type for good, the
// database names for the TTL (they change when users create or drop one).
// Status, lock mode and jobs are never kept: CreateBackup checks them.
type factsCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedFacts
}

type cachedFacts struct {
	engine, storage string
	databases       []string
	databasesUntil  time.Time // zero: not known
}

func newFactsCache(ttl time.Duration) *factsCache {
	return &factsCache{ttl: ttl, m: map[string]cachedFacts{}}
}

func cacheKey(region, id string) string { return region + "/" + id }

// fill completes f (engine, storage, databases) from the cache.
func (c *factsCache) fill(region string, f *backup.InstanceFacts, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[cacheKey(region, f.DBInstanceId)]
	if !ok {
		return
	}
	if f.Engine == "" {
		f.Engine = e.engine
	}
	if f.StorageType == "" {
		f.StorageType = e.storage
	}
	if !f.DatabasesKnown && !e.databasesUntil.IsZero() && now.Before(e.databasesUntil) {
		f.Databases, f.DatabasesKnown = slices.Clone(e.databases), true
	}
}

// store keeps what f knows.
func (c *factsCache) store(region string, f backup.InstanceFacts, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := cacheKey(region, f.DBInstanceId)
	e := c.m[key]
	if f.Engine != "" {
		e.engine = f.Engine
	}
	if f.StorageType != "" {
		e.storage = f.StorageType
	}
	if f.DatabasesKnown {
		e.databases, e.databasesUntil = slices.Clone(f.Databases), now.Add(c.ttl)
	}
	if len(c.m) > 10000 { // a warm function's memory stays bounded
		clear(c.m)
	}
	c.m[key] = e
}

// forgetDatabases drops the databases of an instance (RDS said one is
// missing: the list may be stale).
func (c *factsCache) forgetDatabases(region, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[cacheKey(region, id)]; ok {
		e.databases, e.databasesUntil = nil, time.Time{}
		c.m[cacheKey(region, id)] = e
	}
}

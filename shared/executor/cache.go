package executor

import (
	"slices"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// factsCache keeps the static facts of instances for a warm function:
// engine, version, storage, type, category and databases. Never status,
// lock mode or jobs.
type factsCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedFacts
}

type cachedFacts struct {
	engine, version, storage, instanceType, category string
	databases                                        []string
	databasesKnown                                   bool
	expires                                          time.Time
}

func newFactsCache(ttl time.Duration) *factsCache {
	return &factsCache{ttl: ttl, m: map[string]cachedFacts{}}
}

func cacheKey(region, id string) string { return region + "/" + id }

// databases returns the cached databases of an instance when they are fresh
// and cover what the request needs (every DBName; at least one database for
// a Logical backup). A miss makes preflight ask DescribeDatabases, so a
// database created since is found.
func (c *factsCache) databases(region, id string, r backup.Request, now time.Time) ([]string, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[cacheKey(region, id)]
	if !ok || !e.databasesKnown || !now.Before(e.expires) {
		return nil, false
	}
	for _, n := range r.DBName {
		if !slices.Contains(e.databases, n) {
			return nil, false
		}
	}
	if r.Method() == backup.MethodLogical && len(e.databases) == 0 {
		return nil, false
	}
	return slices.Clone(e.databases), true
}

// store records the static facts (and the databases, when known).
func (c *factsCache) store(region string, f backup.InstanceFacts, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := cacheKey(region, f.DBInstanceId)
	old, had := c.m[key]
	e := cachedFacts{
		engine: f.Engine, version: f.EngineVersion, storage: f.StorageType,
		instanceType: f.InstanceType, category: f.Category, expires: now.Add(c.ttl),
	}
	switch {
	case f.DatabasesKnown:
		e.databases, e.databasesKnown = slices.Clone(f.Databases), true
	case had && old.databasesKnown && old.engine == f.Engine && now.Before(old.expires):
		e.databases, e.databasesKnown, e.expires = old.databases, true, old.expires
	}
	c.m[key] = e
}

// forget drops an instance (after an answer that says the facts were wrong,
// e.g. InvalidDB.NotFound).
func (c *factsCache) forget(region, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, cacheKey(region, id))
}

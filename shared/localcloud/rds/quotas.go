package rds

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// DefaultRegion is the region of a call that names none and no instance
// (the region a call's flow control is counted in; see WithQuotas).
const DefaultRegion = "cn-hangzhou"

// DefaultQuotas are the per-API rate quotas (calls per second per account
// and region) that WithQuotas applies to the actions it does not name.
// Where ApsaraDB RDS's published "API rate quota" pages name a number
// (format N/1(s), throttling dimension "regionId, API, ParentUid") it is
// that number:
//   - CreateBackup 50: the SQL Server edition of the page
//     (alibabacloud.com/help/en/rds/apsaradb-rds-for-sql-server/api-rds-2014-08-15-quota-sqlserver,
//     "CreateBackup | 2014-08-15 | 50/1(s)");
//   - DescribeBackups 200: the MariaDB edition
//     (help.aliyun.com/zh/rds/apsaradb-rds-for-mariadb/api-rds-2014-08-15-quota-mariadb,
//     "DescribeBackups | 2014-08-15 | 200/1(s)").
//
// The rows of DescribeBackupTasks, DescribeDBInstances,
// DescribeDBInstanceAttribute and DescribeDatabases were not found
// (accounts-quotas-observability.md §3.1: "[not found]"); they are an
// assumption, 100/s, within the 100–300/1(s) the pages give other read
// calls (DescribeDBInstanceMetrics 100/1(s), DescribeBackupPolicy 300/1(s)).
// The live figures are in Quota Center.
func DefaultQuotas() map[string]float64 {
	return map[string]float64{
		"CreateBackup":                50,
		"DescribeBackups":             200,
		"DescribeBackupTasks":         100,
		"DescribeDBInstances":         100,
		"DescribeDBInstanceAttribute": 100,
		"DescribeDatabases":           100,
	}
}

// CheckQuotas reports the first thing wrong with per-action quotas, naming
// the action: an action the server does not implement, a negative or
// non-finite rate.
func CheckQuotas(q map[string]float64) error {
	for _, a := range slices.Sorted(maps.Keys(q)) {
		v := q[a]
		if !slices.Contains(Actions(), a) {
			return fmt.Errorf("%s: unknown RDS action (known: %v)", a, Actions())
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("%s: must be calls per second, 0 (no limit) or more, got %v", a, v)
		}
	}
	return nil
}

// WithQuotas turns on per-API flow control: for each (account, region,
// action) a token bucket of q[action] calls per second (holding one
// second's worth, at least one call, refilled on the server's clock); an
// action q does not name takes its DefaultQuotas rate; a rate of 0 means
// no limit for that action. A call above its bucket gets 400
// Throttling.Api. A nil q (the default) leaves flow control off; an empty
// one turns it on with the defaults. The account is the calling key's; the
// region is the call's RegionId, else the region of the instance it names
// (when the caller sees it), else DefaultRegion.
func WithQuotas(q map[string]float64) Option {
	return func(s *Server) {
		if q == nil {
			s.quotas = nil
			return
		}
		s.quotas = DefaultQuotas()
		maps.Copy(s.quotas, q)
	}
}

// quotaKey is what RDS counts flow control by ("regionId, API, ParentUid").
type quotaKey struct{ account, region, action string }

// throttleLocked takes a token for the call: first from the caller's
// account-wide bucket (WithRateLimit: Throttling.User), then from its
// (account, region, action) bucket (WithQuotas: Throttling.Api). It returns
// the refusal, or nil.
func (s *Server) throttleLocked(req *request, now time.Time) *apiError {
	if s.rate > 0 {
		b := s.userBuckets[req.account]
		if b == nil {
			b = &bucket{rate: s.rate, capacity: max(1, s.rate)}
			s.userBuckets[req.account] = b
		}
		if !b.take(now) {
			return pageError("Throttling.User")
		}
	}
	if rate := s.quotas[req.action]; rate > 0 {
		k := quotaKey{req.account, s.callRegionLocked(req), req.action}
		b := s.apiBuckets[k]
		if b == nil {
			b = &bucket{rate: rate, capacity: max(1, rate)}
			s.apiBuckets[k] = b
		}
		if !b.take(now) {
			return pageError("Throttling.Api")
		}
	}
	return nil
}

// callRegionLocked is the region a call counts in: its RegionId, else the
// region of the instance it names if the caller sees it, else
// DefaultRegion.
func (s *Server) callRegionLocked(req *request) string {
	if r := req.params.Get("RegionId"); r != "" {
		return r
	}
	if in, ok := s.instances[req.instance]; ok && in.AccountId == req.account {
		return in.RegionId
	}
	return DefaultRegion
}

package executor

import (
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// flow is the flow control RDS calls go through: a throttle gate (pauses
// after throttling answers) and an adaptive limit on calls in flight. RDS's
// API limits are per account and region (DESIGN.md §10), so a member
// account's asks in a region have a flow of their own: one account that
// throttles — or whose endpoint is slow — holds up only its own calls. The
// functions' own account keeps the one flow it always had (Options.Gate,
// Concurrency), whatever the region.
//
// Within a flow, each API is paced to its own rate quota (RDS counts
// quotas per account, region and API): a Throttling.Api answer teaches
// that API's pacer the rate and holds up neither the other APIs nor the
// flow (no gate pause, no halving of the limit); any other throttling
// answer is the account's flow control over all APIs and closes the gate
// as before.
type flow struct {
	gate  *retry.Gate
	limit *limiter

	mu     sync.Mutex
	pacers map[string]*retry.Pacer // per region and API: its own rate quota (retry.Pacer)
}

// pacer returns the pacer of action's calls in region in this flow (RDS
// counts an API's quota per account and region; the own account's one
// flow spans its regions, so its pacers are per region).
func (f *flow) pacer(region, action string, now func() time.Time) *retry.Pacer {
	key := region + "/" + action
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pacers[key]
	if !ok {
		if f.pacers == nil {
			f.pacers = map[string]*retry.Pacer{}
		}
		p = retry.NewPacer(now)
		f.pacers[key] = p
	}
	return p
}

// flows holds the member accounts' flows, made on first use; they live as
// long as the executor (a warm instance), like its own.
type flows struct {
	mu sync.Mutex
	by map[string]*flow
}

// flowFor returns the flow of account (a member account id, "" the
// functions' own) in region.
func (e *Executor) flowFor(account, region string) *flow {
	if account == "" {
		return &e.own
	}
	key := account + "/" + region
	e.members.mu.Lock()
	defer e.members.mu.Unlock()
	if f, ok := e.members.by[key]; ok {
		return f
	}
	if e.members.by == nil {
		e.members.by = map[string]*flow{}
	}
	f := &flow{gate: retry.NewGate(0, 0, e.o.Now), limit: newLimiter(e.o.InitialConcurrency, e.o.Concurrency)}
	e.members.by[key] = f
	return f
}

// MemberConcurrency reports the adaptive limit now and the highest it
// reached for a member account in a region (0, 0 when it made no call).
func (e *Executor) MemberConcurrency(account, region string) (now, peak int) {
	e.members.mu.Lock()
	f, ok := e.members.by[account+"/"+region]
	e.members.mu.Unlock()
	if !ok || account == "" {
		return 0, 0
	}
	return f.limit.stats()
}

package executor

import (
	"sync"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// flow is the flow control RDS calls go through: a throttle gate (pauses
// after throttling answers) and an adaptive limit on calls in flight. RDS's
// API limits are per account and region (DESIGN.md §10), so a member
// account's asks in a region have a flow of their own: one account that
// throttles — or whose endpoint is slow — holds up only its own calls. The
// functions' own account keeps the one flow it always had (Options.Gate,
// Concurrency), whatever the region.
type flow struct {
	gate  *retry.Gate
	limit *limiter
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

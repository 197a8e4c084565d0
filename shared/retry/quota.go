package retry

import (
	"context"
	"errors"
	"sync"
)

// Quota costs, after aws-sdk-go-v2's standard retryer (aws/retry): a
// bucket of 500 tokens, a retry takes 5 (10 after a timeout), a retry that
// succeeds gives its tokens back and a first try that succeeds adds one.
const (
	DefaultQuotaSize        = 500
	DefaultRetryCost        = 5
	DefaultRetryTimeoutCost = 10
	DefaultSuccessIncrement = 1
)

// Quota is a retry token bucket against error storms: every retry a Loop
// makes takes RetryCost tokens (TimeoutCost after an error that is a
// timeout), a retry that then succeeds puts its tokens back, and a first try
// that succeeds adds SuccessIncrement (never above the size). When the
// bucket cannot pay for a retry, the Loop makes none and stops with
// StopQuotaSpent: while a dependency answers most calls with 5xx, callers
// fail fast instead of multiplying the load.
//
// One Quota belongs to one owner of Loops (a publisher, an executor's ledger
// calls, a CI gate) and is shared by all of them; it is safe for concurrent
// use. A nil *Quota is no quota: every retry is paid for.
type Quota struct {
	RetryCost        int
	TimeoutCost      int
	SuccessIncrement int

	mu     sync.Mutex
	tokens int
	size   int
}

// NewQuota returns a full bucket of size tokens (DefaultQuotaSize when size
// is 0 or less) with the default costs.
func NewQuota(size int) *Quota {
	if size <= 0 {
		size = DefaultQuotaSize
	}
	return &Quota{
		RetryCost:        DefaultRetryCost,
		TimeoutCost:      DefaultRetryTimeoutCost,
		SuccessIncrement: DefaultSuccessIncrement,
		tokens:           size,
		size:             size,
	}
}

// Available returns the tokens in the bucket.
func (q *Quota) Available() int {
	if q == nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.tokens
}

// take takes the cost of retrying after err; ok is false (and nothing is
// taken) when the bucket cannot pay it.
func (q *Quota) take(err error) (cost int, ok bool) {
	if q == nil {
		return 0, true
	}
	cost = q.RetryCost
	if IsTimeout(err) {
		cost = q.TimeoutCost
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if cost > q.tokens {
		return 0, false
	}
	q.tokens -= cost
	return cost, true
}

// put adds n tokens, up to the size.
func (q *Quota) put(n int) {
	if q == nil || n <= 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tokens = min(q.size, q.tokens+n)
}

// succeeded settles a success: the retry's tokens (cost, 0 for a first
// try) come back, or a first try adds SuccessIncrement.
func (q *Quota) succeeded(cost int) {
	if q == nil {
		return
	}
	if cost > 0 {
		q.put(cost)
		return
	}
	q.put(q.SuccessIncrement)
}

// IsTimeout reports whether err is a timeout that is not the caller's
// context ending: something in the chain says Timeout() true, or matches
// context.DeadlineExceeded without being it (net/http's client timeout).
func IsTimeout(err error) bool {
	if err == nil || isCanceled(err) {
		return false
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

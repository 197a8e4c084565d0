package groupcommit

import (
	"context"
	"fmt"
	"sync"
)

// Combiner sends items of type T in batches and returns each item's result
// R. The zero value is not usable: set Batch (and usually Solo). A Combiner
// is safe for concurrent use; its fields must not change after first use.
type Combiner[T, R any] struct {
	// MaxItems is the most items one Batch call carries (≥ 1; 0 means 1).
	MaxItems int
	// MaxInFlight is the most calls out at once (≥ 1; 0 means 1).
	MaxInFlight int
	// Fit starts the check of one call's batch (sizes, duplicate keys): it
	// returns a function that reports whether next may join the batch built
	// so far, and counts next in when it may. nil: any item fits until
	// MaxItems. The first item of a call always goes (counted in too; one
	// that does not fit even alone goes alone). An item that does not fit
	// waits for a later call, keeping its place in the queue. Every waiting
	// item is checked once per call, so a check should cost the item, not
	// the batch: with a fleet's hundreds of items waiting, a check that
	// walked the batch made each call's take quadratic.
	Fit func() func(next T) bool
	// Solo sends one item alone, with its caller's context (nil: Batch
	// with one item).
	Solo func(ctx context.Context, item T) (R, error)
	// Batch sends items in one call and returns one result per item, in
	// order; an error is every item's. Its context carries the first
	// item's caller's values but none of its callers' cancellation (the
	// call is everyone's).
	Batch func(ctx context.Context, items []T) ([]R, error)

	mu       sync.Mutex
	pending  []*waiter[T, R]
	inFlight int
	calls    int // calls made (Batch or Solo), for Stats
	batched  int // items sent in calls of more than one
	arrived  int // items handed to Do (tests wait on it)
}

type waiter[T, R any] struct {
	ctx  context.Context
	item T
	done chan result[R]
}

type result[R any] struct {
	r   R
	err error
}

// Do sends item with others waiting at the same time and returns its
// result. A done ctx before the item is sent returns ctx's error and
// sends nothing.
func (c *Combiner[T, R]) Do(ctx context.Context, item T) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	w := &waiter[T, R]{ctx: ctx, item: item, done: make(chan result[R], 1)}
	c.mu.Lock()
	c.pending = append(c.pending, w)
	c.arrived++
	if c.inFlight < max(c.MaxInFlight, 1) {
		c.inFlight++
		go c.run()
	}
	c.mu.Unlock()
	select {
	case res := <-w.done:
		return res.r, res.err
	case <-ctx.Done():
		// Sent or not, the caller leaves; an unsent item is skipped by
		// take (its ctx is done), so it is never sent after this.
		return zero, ctx.Err()
	}
}

// Stats is what a Combiner did: calls made and items that shared a call.
type Stats struct{ Calls, Batched int }

// Stats returns the calls made so far and how many items went in calls
// of more than one item.
func (c *Combiner[T, R]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Calls: c.calls, Batched: c.batched}
}

// run sends batches while items wait, then ends.
func (c *Combiner[T, R]) run() {
	for {
		batch := c.take()
		if batch == nil {
			return
		}
		c.send(batch)
	}
}

// take removes the next batch from the queue, or ends this runner (nil)
// when nothing waits. Waiters whose context is done are answered with its
// error and not sent.
func (c *Combiner[T, R]) take() []*waiter[T, R] {
	c.mu.Lock()
	defer c.mu.Unlock()
	var batch []*waiter[T, R]
	fits := func(T) bool { return true }
	if c.Fit != nil {
		fits = c.Fit()
	}
	alone := false // the first item does not fit even alone
	rest := c.pending[:0]
	for _, w := range c.pending {
		switch {
		case w.ctx.Err() != nil:
			w.done <- result[R]{err: w.ctx.Err()}
		case len(batch) == 0:
			alone = !fits(w.item)
			batch = append(batch, w)
		case !alone && len(batch) < max(c.MaxItems, 1) && fits(w.item):
			batch = append(batch, w)
		default:
			rest = append(rest, w)
		}
	}
	clear(c.pending[len(rest):])
	c.pending = rest
	if len(batch) == 0 {
		c.inFlight--
		return nil
	}
	c.calls++
	if len(batch) > 1 {
		c.batched += len(batch)
	}
	return batch
}

// send makes one call for batch and answers each waiter. A panic in the
// call is every waiter's error (the runner goes on).
func (c *Combiner[T, R]) send(batch []*waiter[T, R]) {
	defer func() {
		if p := recover(); p != nil {
			for _, w := range batch {
				select {
				case w.done <- result[R]{err: fmt.Errorf("groupcommit: call panicked: %v", p)}:
				default: // already answered
				}
			}
		}
	}()
	if len(batch) == 1 && c.Solo != nil {
		r, err := c.Solo(batch[0].ctx, batch[0].item)
		batch[0].done <- result[R]{r, err}
		return
	}
	items := make([]T, len(batch))
	for i, w := range batch {
		items[i] = w.item
	}
	rs, err := c.Batch(context.WithoutCancel(batch[0].ctx), items)
	if err == nil && len(rs) != len(batch) {
		err = errShape{want: len(batch), got: len(rs)}
	}
	for i, w := range batch {
		if err != nil {
			w.done <- result[R]{err: err}
			continue
		}
		w.done <- result[R]{r: rs[i]}
	}
}

// errShape: Batch returned a result count other than its item count.
type errShape struct{ want, got int }

func (e errShape) Error() string {
	return fmt.Sprintf("groupcommit: batch returned %d results for %d items", e.got, e.want)
}

package groupcommit

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// recorder is a Combiner's far side: it records every call's items and
// can hold calls until released.
type recorder struct {
	mu    sync.Mutex
	calls [][]int
	solo  int
	hold  chan struct{} // when set, each call waits for a receive... of a send
}

func (r *recorder) record(items []int, solo bool) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(items))
	if solo {
		r.solo++
	}
	hold := r.hold
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
}

func (r *recorder) combiner(maxItems, inFlight int) *Combiner[int, int] {
	return &Combiner[int, int]{
		MaxItems: maxItems, MaxInFlight: inFlight,
		Solo: func(_ context.Context, it int) (int, error) { r.record([]int{it}, true); return it * 10, nil },
		Batch: func(_ context.Context, its []int) ([]int, error) {
			r.record(its, false)
			out := make([]int, len(its))
			for i, it := range its {
				out[i] = it * 10
			}
			return out, nil
		},
	}
}

func (r *recorder) got() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// waitPending waits until n items have been handed to c (queued, or
// taken by a call).
func waitPending[T, R any](c *Combiner[T, R], n int) {
	for {
		c.mu.Lock()
		k := c.arrived
		c.mu.Unlock()
		if k >= n {
			return
		}
		runtime.Gosched()
	}
}

// doAll starts Do for each item (in order of queueing: each waits until
// the previous one is queued) and returns a function that waits for all
// results.
func doAll(t *testing.T, c *Combiner[int, int], ctx context.Context, base int, items ...int) func() map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	out := map[int]int{}
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Do(ctx, it)
			if err != nil {
				t.Errorf("Do(%d): %v", it, err)
				return
			}
			mu.Lock()
			out[it] = r
			mu.Unlock()
		}()
		waitPending(c, base+i+1)
	}
	return func() map[int]int { wg.Wait(); return out }
}

func TestLoneItemGoesAloneAtOnce(t *testing.T) {
	var r recorder
	c := r.combiner(16, 1)
	for i := 1; i <= 3; i++ {
		got, err := c.Do(context.Background(), i)
		if err != nil || got != i*10 {
			t.Fatalf("Do(%d) = %d, %v; want %d", i, got, err, i*10)
		}
	}
	if r.solo != 3 || len(r.got()) != 3 {
		t.Fatalf("calls %v (solo %d): want three lone calls", r.got(), r.solo)
	}
	if s := c.Stats(); s.Calls != 3 || s.Batched != 0 {
		t.Fatalf("Stats %+v", s)
	}
}

func TestItemsArrivingDuringACallGoTogether(t *testing.T) {
	r := recorder{hold: make(chan struct{})}
	c := r.combiner(4, 1)
	ctx := context.Background()
	first := doAll(t, c, ctx, 0, 1)
	for len(r.got()) == 0 { // the first call is out (held)
		runtime.Gosched()
	}
	rest := doAll(t, c, ctx, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	close(r.hold)
	got := first()
	for k, v := range rest() {
		got[k] = v
	}
	for i := 1; i <= 11; i++ {
		if got[i] != i*10 {
			t.Errorf("item %d got %d, want its own result %d", i, got[i], i*10)
		}
	}
	want := [][]int{{1}, {2, 3, 4, 5}, {6, 7, 8, 9}, {10, 11}}
	if calls := r.got(); !slices.EqualFunc(calls, want, slices.Equal) {
		t.Fatalf("calls %v, want %v (MaxItems 4, in queue order)", calls, want)
	}
	if s := c.Stats(); s.Calls != 4 || s.Batched != 10 {
		t.Fatalf("Stats %+v, want 4 calls, 10 items batched", s)
	}
}

// queueThenRelease hands items to c one after another while r holds the
// call in flight (so they queue, in order), then lets every call go and
// waits for the items' answers.
func queueThenRelease(ctx context.Context, c *Combiner[int, int], r *recorder, items []int) {
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() { defer wg.Done(); c.Do(ctx, it) }()
		waitPending(c, 2+i)
	}
	close(r.hold)
	wg.Wait()
}

func TestItemsThatDoNotFitWaitForTheNextCall(t *testing.T) {
	r := recorder{hold: make(chan struct{})}
	c := r.combiner(16, 1)
	c.Fit = func() func(int) bool { // no duplicate keys
		seen := map[int]bool{}
		return func(next int) bool {
			if seen[next] {
				return false
			}
			seen[next] = true
			return true
		}
	}
	ctx := context.Background()
	wait := doAll(t, c, ctx, 0, 1)
	for len(r.got()) == 0 {
		runtime.Gosched()
	}
	// Duplicates of one key: each goes in its own call, others share.
	queueThenRelease(ctx, c, &r, []int{7, 7, 8, 7})
	wait()
	want := [][]int{{1}, {7, 8}, {7}, {7}}
	if calls := r.got(); !slices.EqualFunc(calls, want, slices.Equal) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
}

// A call's Fit sees each waiting item once, in queue order, and keeps its
// own count of the batch (no batch is handed to it to walk again); an item
// too big for any batch goes alone.
func TestEachWaitingItemIsCheckedOncePerCall(t *testing.T) {
	r := recorder{hold: make(chan struct{})}
	c := r.combiner(1000, 1)
	checks := 0
	c.Fit = func() func(int) bool { // a budget of 10 a call; 99 is never welcome
		used := 0
		return func(next int) bool {
			checks++
			if used+next > 10 {
				return false
			}
			used += next
			return true
		}
	}
	ctx := context.Background()
	wait := doAll(t, c, ctx, 0, 1)
	for len(r.got()) == 0 {
		runtime.Gosched()
	}
	checks = 0
	items := []int{99, 1, 1}
	for range 200 {
		items = append(items, 1)
	}
	queueThenRelease(ctx, c, &r, items)
	wait()
	calls := r.got()
	if !slices.Equal(calls[1], []int{99}) {
		t.Fatalf("calls %v: the item too big for any batch did not go alone first", calls)
	}
	for _, call := range calls[2:] {
		if len(call) > 10 {
			t.Fatalf("a call of %d items over the budget of 10: %v", len(call), call)
		}
	}
	// 202 items after the big one, at most 10 a call: 21 calls, each
	// checking once what still waits (202 + 192 + ... + 2 ≈ 2,200).
	if n := len(items) - 1; checks > n*n/10+n {
		t.Fatalf("%d checks for %d waiting items in calls of 10", checks, n)
	}
}

func TestACallerThatLeavesBeforeItsItemIsSentSendsNothing(t *testing.T) {
	r := recorder{hold: make(chan struct{})}
	c := r.combiner(16, 1)
	wait := doAll(t, c, context.Background(), 0, 1)
	for len(r.got()) == 0 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Do(ctx, 2); errc <- err }()
	waitPending(c, 2)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Do after cancel = %v, want context.Canceled", err)
	}
	close(r.hold)
	wait()
	c.Do(context.Background(), 3) // the runner drains; 2 is skipped
	for _, call := range r.got() {
		if slices.Contains(call, 2) {
			t.Fatalf("calls %v: the cancelled item was sent", r.got())
		}
	}
	if _, err := c.Do(ctx, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do with a done context = %v, want its error", err)
	}
}

func TestBatchErrorsReachEveryItem(t *testing.T) {
	boom := errors.New("throttled")
	hold := make(chan struct{})
	c := &Combiner[int, int]{MaxItems: 8,
		Solo:  func(context.Context, int) (int, error) { <-hold; return 0, nil },
		Batch: func(_ context.Context, its []int) ([]int, error) { return nil, boom }}
	ctx := context.Background()
	go c.Do(ctx, 0)
	for {
		c.mu.Lock()
		out := c.inFlight == 1 && len(c.pending) == 0
		c.mu.Unlock()
		if out {
			break
		}
		runtime.Gosched()
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = c.Do(ctx, i+1) }()
		waitPending(c, i+2)
	}
	close(hold)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, boom) {
			t.Errorf("item %d: %v, want the batch's error", i+1, err)
		}
	}
}

func TestAWrongResultCountOrAPanicIsAnErrorNotAHang(t *testing.T) {
	c := &Combiner[int, int]{
		Solo:  func(_ context.Context, it int) (int, error) { panic("boom") },
		Batch: func(_ context.Context, its []int) ([]int, error) { return []int{1}, nil }}
	if _, err := c.Do(context.Background(), 1); err == nil {
		t.Fatal("a panicking call returned no error")
	}
	if _, err := c.Do(context.Background(), 2); err == nil { // still serves
		t.Fatal("second panicking call returned no error")
	}
	c.Solo = nil // Batch with one item, which returns one result: fine
	if r, err := c.Do(context.Background(), 3); err != nil || r != 1 {
		t.Fatalf("Do = %d, %v", r, err)
	}
	var s errShape = errShape{want: 2, got: 1}
	if s.Error() != "groupcommit: batch returned 1 results for 2 items" {
		t.Fatal(s.Error())
	}
}

func TestManyCallersEachGetTheirOwnResult(t *testing.T) {
	var r recorder
	c := r.combiner(16, 3)
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.Do(context.Background(), i)
			if err != nil || got != i*10 {
				t.Errorf("Do(%d) = %d, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, call := range r.got() {
		if len(call) > 16 {
			t.Errorf("a call of %d items, MaxItems 16", len(call))
		}
		n += len(call)
	}
	if n != 500 {
		t.Fatalf("%d items sent, want 500 each once", n)
	}
	// Runners end once nothing waits (each answers its last batch first).
	for {
		c.mu.Lock()
		runners, pending := c.inFlight, len(c.pending)
		c.mu.Unlock()
		if pending != 0 {
			t.Fatalf("after all: %d items still pending", pending)
		}
		if runners == 0 {
			return
		}
		runtime.Gosched()
	}
}

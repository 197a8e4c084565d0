// Package groupcommit combines concurrent writes into fewer calls: each
// caller hands one item to a Combiner and waits for that item's result;
// the Combiner sends what is waiting together in one call (a Tablestore
// BatchWriteRow, an MNS BatchSendMessage) and gives each caller its own
// result.
//
// There is no timer and no waiting for company. A lone item goes out at
// once, alone, by its own call (Solo): at low load nothing changes — the
// same call, the same latency. Items batch only when callers arrive
// faster than calls return: while MaxInFlight calls are out, new items
// queue, and the next call takes as many as fit (MaxItems, and Fit for
// sizes and duplicate keys). This is the group commit of databases' logs.
//
// An item whose caller's context ends before it is sent is not sent (the
// caller gets the context's error); once sent, a call's effect is the
// call's, whatever happens to the callers (the same "effect unknown" as an
// abandoned single call).
package groupcommit

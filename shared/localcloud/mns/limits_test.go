package mns

import (
	"strings"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

// batchOf returns n messages whose bodies have size bytes each.
func batchOf(n, size int) []ali_mns.MessageSendRequest {
	out := make([]ali_mns.MessageSendRequest, n)
	for i := range out {
		out[i] = ali_mns.MessageSendRequest{MessageBody: strings.Repeat(string(rune('a'+i%26)), size)}
	}
	return out
}

// TestBatchTotalSize: BatchSendMessage carries at most 64 KB of message
// bodies in all ([MBATCH]). Above it the whole request is refused with 400
// InvalidArgument (the code MNS documents for a value out of range, [MERR])
// and nothing is enqueued; exactly 64 KB is accepted.
func TestBatchTotalSize(t *testing.T) {
	srv := newServer(t)
	q := setupQueue(t, srv, "q", QueueAttributes{})

	// 16 × 10 KiB = 160 KiB: each message fits, the batch does not.
	_, err := q.BatchSendMessage(batchOf(16, 10*1024)...)
	wantErr(t, "BatchSendMessage 160 KiB", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)
	if c := lastCall(t, srv, "BatchSendMessage"); c.Status != 400 || c.Code != "InvalidArgument" {
		t.Fatalf("call = %+v, want 400 InvalidArgument", c)
	}
	// One byte over: 4 × 16 KiB + 1.
	over := batchOf(4, 16*1024)
	over[3].MessageBody += "x"
	_, err = q.BatchSendMessage(over...)
	wantErr(t, "BatchSendMessage 64 KiB + 1", err, &ali_mns.ERR_MNS_INVALID_ARGUMENT)
	if n := len(srv.Messages("q")); n != 0 {
		t.Fatalf("%d messages enqueued from refused batches", n)
	}

	// Exactly 64 KiB: 4 × 16 KiB, and 16 × 4 KiB.
	for _, b := range [][]ali_mns.MessageSendRequest{batchOf(4, 16*1024), batchOf(16, 4*1024)} {
		resp, err := q.BatchSendMessage(b...)
		wantErr(t, "BatchSendMessage 64 KiB", err, nil)
		if len(resp.Messages) != len(b) {
			t.Fatalf("%d results for %d messages", len(resp.Messages), len(b))
		}
	}
	if n := len(srv.Messages("q")); n != 20 {
		t.Fatalf("%d messages enqueued, want 20", n)
	}
}

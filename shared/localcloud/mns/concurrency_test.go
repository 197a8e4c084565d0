package mns

import (
	"fmt"
	"sync"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

// TestConcurrentProducersConsumers: every message is received exactly once
// while senders and long-polling receivers run at the same time.
func TestConcurrentProducersConsumers(t *testing.T) {
	srv := newServer(t)
	setupQueue(t, srv, "busy", QueueAttributes{})
	const producers, perProducer, consumers = 4, 25, 4
	total := producers * perProducer

	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := ali_mns.NewMNSQueue("busy", client(srv))
			for i := range perProducer {
				if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: fmt.Sprintf("%d-%d", p, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}

	var mu sync.Mutex
	seen := map[string]int{}
	received := 0
	var cwg sync.WaitGroup
	for range consumers {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			q := ali_mns.NewMNSQueue("busy", client(srv))
			for {
				mu.Lock()
				done := received >= total
				mu.Unlock()
				if done {
					return
				}
				resp, err := batchReceive(q, 8, 1)
				if ali_mns.ERR_MNS_MESSAGE_NOT_EXIST.IsEqual(err) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				var handles []string
				mu.Lock()
				for _, m := range resp.Messages {
					seen[m.MessageBody]++
					received++
					handles = append(handles, m.ReceiptHandle)
				}
				mu.Unlock()
				if _, err := q.BatchDeleteMessage(handles...); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cwg.Wait()

	if len(seen) != total || received != total {
		t.Fatalf("received %d messages, %d distinct, want %d", received, len(seen), total)
	}
	for body, n := range seen {
		if n != 1 {
			t.Fatalf("%s received %d times", body, n)
		}
	}
	if v := srv.Visible("busy"); len(v) != 0 {
		t.Fatalf("%d messages left", len(v))
	}
}

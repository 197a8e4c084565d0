package workqueue

import (
	"context"
	"fmt"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
)

// Sender puts internal messages on the work queue.
type Sender interface {
	// Send sends m, visible after delay (capped, see CapDelay).
	Send(ctx context.Context, m Message, delay time.Duration) error
	// SendBatch sends ms, each visible after its own Delay. On a partial
	// failure it returns a *mnsq.BatchError whose indexes are those of ms.
	SendBatch(ctx context.Context, ms []Message) error
}

// QueueClient is what MNSSender needs of *mnsq.Client.
type QueueClient interface {
	Send(ctx context.Context, queue, body string, delay time.Duration) (string, error)
	SendBatch(ctx context.Context, queue string, msgs []mnsq.OutMessage) error
}

var _ QueueClient = (*mnsq.Client)(nil)

// MNSSender is a Sender over one MNS queue. Every message it sends is
// sealed (seal.go).
type MNSSender struct {
	client QueueClient
	queue  string
	sealer *Sealer
}

var _ Sender = (*MNSSender)(nil)

// NewMNSSender returns a Sender for the named queue that seals every
// message with sealer.
func NewMNSSender(client QueueClient, queue string, sealer *Sealer) *MNSSender {
	if sealer == nil {
		panic("workqueue: NewMNSSender needs a Sealer")
	}
	return &MNSSender{client: client, queue: queue, sealer: sealer}
}

// Queue returns the queue name.
func (s *MNSSender) Queue() string { return s.queue }

// CapDelay returns d within what MNS accepts: negative becomes 0, more than
// 7 days (mnsq.MaxDelay) becomes 7 days.
func CapDelay(d time.Duration) time.Duration {
	return min(max(d, 0), mnsq.MaxDelay)
}

// Send seals m and sends it.
func (s *MNSSender) Send(ctx context.Context, m Message, delay time.Duration) error {
	body, err := s.sealer.Seal(m)
	if err != nil {
		return err
	}
	if _, err := s.client.Send(ctx, s.queue, body, CapDelay(delay)); err != nil {
		return fmt.Errorf("workqueue: send %s message to %q: %w", m.Kind, s.queue, err)
	}
	return nil
}

// SendBatch seals every message first (nothing is sent if one cannot be
// encoded), then sends them in batches of 16.
func (s *MNSSender) SendBatch(ctx context.Context, ms []Message) error {
	out := make([]mnsq.OutMessage, len(ms))
	for i, m := range ms {
		body, err := s.sealer.Seal(m)
		if err != nil {
			return fmt.Errorf("workqueue: message %d of %d: %w", i, len(ms), err)
		}
		out[i] = mnsq.OutMessage{Body: body, Delay: CapDelay(m.Delay)}
	}
	return s.client.SendBatch(ctx, s.queue, out)
}

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

// MaxDelay is the longest delay the work queue schedules: 3 days, the
// queue's default retention (mnsq.DefaultRetention, 4 days, counted from
// the send) less RetentionMargin. MNS accepts delays up to 7 days
// (mnsq.MaxDelay), but a message delayed past its queue's retention is
// deleted before it is ever delivered.
const MaxDelay = mnsq.DefaultRetention - RetentionMargin

// RetentionMargin is the time a message delayed by MaxDelay still has
// after it becomes visible before MNS deletes it: one day, room for
// EventBridge to push it and retry a failed push (its longest retry
// policy, EXPONENTIAL_DECAY_RETRY, gives up after a day).
const RetentionMargin = 24 * time.Hour

// CapDelay returns d within what the work queue schedules: negative
// becomes 0, more than MaxDelay (3 days) becomes MaxDelay.
func CapDelay(d time.Duration) time.Duration {
	return min(max(d, 0), MaxDelay)
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

// Package workq is a work queue for tests of the packages that send the
// functions' own work messages (settle, reask): it records what is sent,
// in order, and fails every send while Err is set.
package workq

import (
	"context"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// Queue records what is sent; Err fails every send. Not safe for
// concurrent use.
type Queue struct {
	Sent []workqueue.Message
	Err  error
}

// Send records m (its delay is not kept) or fails with Err.
func (q *Queue) Send(_ context.Context, m workqueue.Message, _ time.Duration) error {
	if q.Err != nil {
		return q.Err
	}
	q.Sent = append(q.Sent, m)
	return nil
}

// SendBatch sends each of ms in turn, stopping at the first failure.
func (q *Queue) SendBatch(ctx context.Context, ms []workqueue.Message) error {
	for _, m := range ms {
		if err := q.Send(ctx, m, 0); err != nil {
			return err
		}
	}
	return nil
}

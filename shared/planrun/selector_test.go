package planrun

import (
	"context"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/settle"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

type outcomes struct{ got []backup.Outcome }

func (o *outcomes) Publish(_ context.Context, out backup.Outcome) error {
	o.got = append(o.got, out)
	return nil
}

// netErr is a transport failure: no API code.
type netErr struct{}

func (netErr) Error() string   { return `Post "http://127.0.0.1:9/": read tcp: connection reset by peer` }
func (netErr) Temporary() bool { return true }

// A Select page that cannot be read is read again, the step carrying its
// failed reads through the work queue (sealed and opened as the functions
// do), until BACKUP_MAX_ATTEMPTS reads: then it ends failed, well before
// BACKUP_MAX_AGE. Each outcome says Network and the region, never the
// endpoint.
func TestSelectPageReadsAreBoundedByMaxAttempts(t *testing.T) {
	q, p := &fakeQueue{}, &fakePub{}
	s := stepper(q, p, nil)
	pub := &outcomes{}
	s.Settle.Pub, s.MaxAttempts = pub, 3
	sealer, err := workqueue.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	trig, _ := plan(0)
	pr := &Run{Trigger: trig, Select: &backup.Selector{RegionId: "cn-shanghai", Tags: map[string]string{"backup": "nightly"}},
		Page: 1, Summary: NewSummary(trig)}
	var sum settle.Summary
	for read := 1; read <= 3; read++ {
		_, deferred, err := s.SelectorFailed(context.Background(), pr, netErr{}, &sum)
		if err != nil {
			t.Fatal(err)
		}
		if want := read < 3; deferred != want {
			t.Fatalf("read %d: deferred %v, want %v", read, deferred, want)
		}
		if !deferred {
			break
		}
		// The next step as the queue function gets it.
		body, err := sealer.Seal(*pr.next)
		if err != nil {
			t.Fatal(err)
		}
		m, err := sealer.Open([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attempts) != read {
			t.Fatalf("read %d: the step carries %d failed reads", read, len(m.Attempts))
		}
		pr = FromMessage(m)
	}
	if n := len(pub.got); n != 3 || pub.got[0].Status != backup.StatusDeferred || pub.got[2].Status != backup.StatusFailed {
		t.Fatalf("outcomes %+v: want deferred, deferred, failed", pub.got)
	}
	for _, o := range pub.got {
		if o.Error == nil || o.Error.Code != "Network" || o.Error.Field != "Select" {
			t.Fatalf("outcome error %+v, want Network on Select", o.Error)
		}
		if e := o.Error.Message; !strings.Contains(e, "cn-shanghai") || strings.Contains(e, "127.0.0.1") {
			t.Fatalf("message %q: want the region and no endpoint", e)
		}
	}
}

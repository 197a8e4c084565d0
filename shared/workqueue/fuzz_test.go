package workqueue

import (
	"errors"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// FuzzDecode: the queue function decodes whatever lands on the work queue;
// no input may panic, and a refusal names what is wrong.
func FuzzDecode(f *testing.F) {
	r := backup.Request{DBInstanceId: "rm-1", IdempotencyKey: "k", CorrelationId: "c"}
	for _, m := range []Message{
		Backup(r, []backup.Attempt{{Code: "InvokeProxyFailure"}}, time.Unix(1, 0)),
		Track(r, "5073731", time.Unix(2, 0)),
		Outcome([]byte(`{"specversion":"1.0"}`)),
		Plan([]backup.Request{r}),
	} {
		body, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(body))
	}
	f.Add([]byte(`{"v":1,"kind":"backup"}`))
	f.Add([]byte(`{"v":2,"kind":"track","request":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Decode(body)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("refusal without a reason: %v", err)
			}
			return
		}
		if _, err := Encode(m); err != nil && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("a decoded message does not encode again: %v", err)
		}
	})
}

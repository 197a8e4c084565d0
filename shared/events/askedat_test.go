package events

import (
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// Every source's time form parses to the same instant; an unknown form is
// zero (the caller then takes the first time it saw the ask).
func TestParseAskedAt(t *testing.T) {
	want := time.Date(2026, 11, 24, 6, 30, 0, 0, time.UTC)
	for _, s := range []string{"2026-11-24T06:30:00Z", "2026-11-24T14:30:00+08:00", "2026-11-24 08:30:00 +0200", "2026-11-24 06:30:00 UTC", "2026-11-24T06:30:00.000Z"} {
		if got := ParseAskedAt(s); !got.Equal(want) {
			t.Errorf("ParseAskedAt(%q) = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"", "yesterday", "1700000000"} {
		if got := ParseAskedAt(s); !got.IsZero() {
			t.Errorf("ParseAskedAt(%q) = %v, want zero", s, got)
		}
	}
}

// A timer plan's requests are asked at the trigger time, a redelivered MNS
// message at its own send time: both survive any delay in processing.
func TestRequestsCarryAskedAt(t *testing.T) {
	ev, err := ParseTimer([]byte(`{"triggerTime":"2026-11-24T02:00:00Z","triggerName":"nightly","payload":"{\"DBInstanceId\":\"rm-1\"}"}`))
	if err != nil {
		t.Fatal(err)
	}
	reqs, _, err := ev.Requests()
	if err != nil || len(reqs) != 1 || !reqs[0].AskedAt.Equal(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("timer requests %+v %v", reqs, err)
	}
	msgs, err := ParseMNS([]byte(`[{"id":"e1","source":"MNS-fn-q","specversion":"1.0","type":"mns:Queue:SendMessage","subject":"acs:mns:cn-hangzhou:1:queues/q","time":"2026-11-24T03:04:05Z","data":{"requestId":"r","messageId":"m1","messageBody":"{\"DBInstanceId\":\"rm-1\"}"}}]`))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("ParseMNS: %v %v", msgs, err)
	}
	reqs, _, err = msgs[0].Requests()
	if err != nil || len(reqs) != 1 || !reqs[0].AskedAt.Equal(time.Date(2026, 11, 24, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("mns requests %+v %v", reqs, err)
	}
	if got := WithAskedAt([]backup.Request{{DBInstanceId: "x"}}, time.Time{}); !got[0].AskedAt.IsZero() {
		t.Error("WithAskedAt(zero) changed the request")
	}
}

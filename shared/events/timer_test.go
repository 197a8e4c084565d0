package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

var timerFixtures = []string{"timer.json", "timer-select.json", "timer-bad-payload.json"}

func TestTimerFixtureRoundTrip(t *testing.T) {
	assertRoundTrip(t, timerFixtures, ParseTimer)
}

func TestTimerDecode(t *testing.T) {
	ev, err := ParseTimer(readFixture(t, "timer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.TriggerName != "nightly-plan" || ev.TriggerTime != "2026-11-24T02:00:00Z" || !strings.HasPrefix(ev.Payload, `{"Defaults"`) {
		t.Fatalf("decoded %+v", ev)
	}
	if tm, err := ev.Time(); err != nil || tm.Hour() != 2 {
		t.Fatalf("Time() = %v, %v", tm, err)
	}
	if got := ev.Trigger(); got != (backup.Trigger{Kind: "timer", Source: "nightly-plan", DeliveryId: "2026-11-24T02:00:00Z"}) {
		t.Fatalf("Trigger() = %+v", got)
	}
}

// timerResult is the golden view of a timer event's normalization.
type timerResult struct {
	Requests []backup.Request `json:"requests"`
	Plan     *backup.Plan     `json:"plan,omitempty"` // when it has a Select to expand
	Error    *errorView       `json:"error,omitempty"`
}

func TestTimerGolden(t *testing.T) {
	for _, name := range timerFixtures {
		t.Run(name, func(t *testing.T) {
			ev, err := ParseTimer(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			reqs, plan, err := ev.Requests()
			if err == nil {
				checkIDs(t, reqs, KindTimer)
			}
			res := timerResult{Requests: reqs, Error: viewError(err)}
			if plan.Select != nil {
				res.Plan = &plan
			}
			checkGolden(t, strings.TrimSuffix(name, ".json"), res)
		})
	}
}

func TestTimerPlanErrors(t *testing.T) {
	tests := []struct {
		name, payload, field, code string
	}{
		{"empty payload", ``, "body", backup.CodeMalformed},
		{"not JSON (the doc's sample payload)", `awesome-fc`, "body", backup.CodeMalformed},
		{"unknown field named", `{"Backups":[{"DBInstanceID":"rm-1"}]}`, "Backups[0].DBInstanceID", backup.CodeParametersInvalid},
		{"empty plan", `{"Backups":[]}`, "Backups", backup.CodeRequiredParam},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := TimerEvent{TriggerTime: "2026-11-24T02:00:00Z", TriggerName: "t", Payload: tc.payload}
			_, _, err := ev.Requests()
			v := violation(t, err)
			if v.Field != tc.field || v.Code != tc.code {
				t.Fatalf("got %s on %q, want %s on %q", v.Code, v.Field, tc.code, tc.field)
			}
			if !strings.Contains(err.Error(), `timer "t": payload`) {
				t.Fatalf("error %q does not say where", err)
			}
		})
	}
}

func TestParseTimerMalformed(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		{"empty", ``, "event"},
		{"array", `[]`, "event"},
		{"not JSON", `{"triggerTime":`, "event"},
		{"missing triggerTime (not a timer event)", `{"triggerName":"t","payload":"{}"}`, "triggerTime"},
		{"triggerTime not RFC 3339", `{"triggerTime":"yesterday","triggerName":"t","payload":"{}"}`, "triggerTime"},
		{"triggerTime a number", `{"triggerTime":1700000000,"triggerName":"t"}`, "triggerTime"},
		{"triggerName a number", `{"triggerTime":"2026-11-24T02:00:00Z","triggerName":7}`, "triggerName"},
		{"payload a number", `{"triggerTime":"2026-11-24T02:00:00Z","triggerName":"t","payload":42}`, "payload"},
		{"payload an array", `{"triggerTime":"2026-11-24T02:00:00Z","triggerName":"t","payload":[]}`, "payload"},
		// Found by make fuzz: a payload object kept as it came held a byte
		// that is not UTF-8, and its re-encoding differed.
		{"not UTF-8", "{\"triggerTime\":\"2026-11-24T02:00:00Z\",\"payload\":{\"\":\"\xb4\"}}", "event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTimer([]byte(tc.in))
			if v := violation(t, err); v.Field != tc.field || v.Code != backup.CodeMalformed {
				t.Fatalf("got %s on %q, want %s on %q (%s)", v.Code, v.Field, backup.CodeMalformed, tc.field, v.Message)
			}
		})
	}
}

func TestParseTimerObjectPayload(t *testing.T) {
	// A hand-written test event with the plan as an object, not a string.
	ev, err := ParseTimer([]byte(`{"triggerTime":"2026-11-24T02:00:00Z","triggerName":"t","payload":{"DBInstanceId":"rm-1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	reqs, _, err := ev.Requests()
	if err != nil || len(reqs) != 1 || reqs[0].DBInstanceId != "rm-1" {
		t.Fatalf("Requests() = %+v, %v", reqs, err)
	}
}

func FuzzParseTimer(f *testing.F) {
	for _, name := range timerFixtures {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"triggerTime":"2026-11-24T02:00:00Z","triggerName":"t","payload":{"DBInstanceId":"rm-1"}}`))
	f.Add([]byte(`{"triggerTime":"2026-11-24T02:00:00Z","payload":null}`))
	f.Add([]byte(`{"triggerTime":"2026-11-24T02:00:00+08:00","triggerName":"","payload":"{\"Select\":{\"Engine\":\"MySQL\"}}"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseTimer(data)
		if err != nil {
			violation(t, err)
			return
		}
		// Re-encoding and decoding again gives the same event.
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseTimer(out)
		if err != nil || !reflect.DeepEqual(again, ev) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, ev)
		}
		reqs, _, err := ev.Requests()
		if err != nil {
			violation(t, err)
			return
		}
		checkIDs(t, reqs, KindTimer)
		reqs2, _, _ := ev.Requests()
		if !reflect.DeepEqual(reqs, reqs2) {
			t.Fatal("normalization is not deterministic")
		}
	})
}

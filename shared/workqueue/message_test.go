package workqueue

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/mnsq"
)

var t0 = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

func req(id string) backup.Request {
	return backup.Request{
		DBInstanceId: id, DBName: []string{"orders", "billing"}, BackupStrategy: "db",
		BackupMethod: "Logical", BackupType: "FullBackup", RegionId: "cn-shanghai",
		Trigger:        backup.Trigger{Kind: "mns", Source: "requests", DeliveryId: "M1"},
		IdempotencyKey: "idem-" + id, CorrelationId: "corr-" + id,
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    Message
	}{
		{"backup", Backup(req("rm-1"), []backup.Attempt{{Time: t0, Action: "CreateBackup", Code: "Throttling", Retryable: true, Class: "transient"}}, t0)},
		{"backup without attempts", Backup(req("rm-1"), nil, t0)},
		{"track", Message{Kind: KindTrack, Request: req("rm-2"), BackupJobId: "12345", Started: t0, Checks: 3, LastStatus: "Uploading", LastProcess: "45"}},
		{"track first", Track(req("rm-2"), "12345", t0)},
		{"outcome", Outcome([]byte(`{"specversion":"1.0","id":"abc","data":{"x":"<&>"}}`))},
		{"plan", Plan([]backup.Request{req("rm-1"), req("rm-2")})},
		{"note", Message{Kind: KindPlan, Requests: []backup.Request{req("rm-3")}, Note: "chunk 2 of 5"}},
		{"plan step", Message{Kind: KindPlan, Requests: []backup.Request{req("rm-4")}, Step: "0.c2", Run: &backup.RunSummary{Key: "k", Counts: map[backup.Status]int{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := Encode(tt.m)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !IsEnvelope([]byte(body)) {
				t.Fatalf("IsEnvelope(%s) = false", body)
			}
			got, err := Decode([]byte(body))
			if err != nil {
				t.Fatalf("Decode(%s): %v", body, err)
			}
			if !reflect.DeepEqual(got, tt.m) {
				t.Fatalf("round trip\n got %#v\nwant %#v", got, tt.m)
			}
			again, _ := Encode(got)
			if again != body {
				t.Fatalf("re-encoding differs:\n%s\n%s", body, again)
			}
		})
	}
}

func TestWireShape(t *testing.T) {
	body, err := Encode(Message{Kind: KindTrack, Request: backup.Request{DBInstanceId: "rm-1"}, BackupJobId: "9", Started: t0.In(time.FixedZone("CST", 8*3600)), Checks: 1, LastStatus: "Checking"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"kind":"track","request":{"DBInstanceId":"rm-1","trigger":{"kind":""},"idempotencyKey":"","correlationId":""},"backupJobId":"9","started":"2026-11-24T18:00:00Z","checks":1,"lastStatus":"Checking"}`
	if body != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", body, want)
	}
	ev := `{"id":"x","data":{"a":1}}`
	body, _ = Encode(Outcome([]byte(ev)))
	if body != `{"v":1,"kind":"outcome","event":`+ev+`}` {
		t.Fatalf("outcome body %s does not carry the event verbatim", body)
	}
}

func TestIsEnvelope(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`{"v":1,"kind":"backup"}`, true},
		{`{"v":2,"kind":"x"}`, true}, // meant as internal; Decode says why not
		{`{"DBInstanceId":"rm-1"}`, false},
		{`{"Backups":[{"DBInstanceId":"rm-1"}]}`, false},
		{`{"kind":"backup"}`, false},
		{`{"V":1,"Kind":"backup"}`, false},
		{`[{"v":1,"kind":"backup"}]`, false},
		{`not json`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := IsEnvelope([]byte(tt.body)); got != tt.want {
			t.Errorf("IsEnvelope(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	r := `"request":{"DBInstanceId":"rm-1"}`
	tests := []struct {
		name, body, field, reason string
	}{
		{"empty", ``, "", "JSON object"},
		{"array", `[]`, "", "JSON object"},
		{"bad json", `{"v":1,`, "", "invalid JSON"},
		{"no v", `{"kind":"backup"}`, "v", "required"},
		{"v string", `{"v":"1","kind":"backup"}`, "v", "must be a number"},
		{"v 2", `{"v":2,"kind":"backup"}`, "v", "unsupported envelope version 2"},
		{"no kind", `{"v":1}`, "kind", "required (one of backup, track, outcome, plan, select)"},
		{"kind number", `{"v":1,"kind":3}`, "kind", "must be a string"},
		{"unknown kind", `{"v":1,"kind":"resume"}`, "kind", `unknown kind "resume"`},
		{"unknown field", `{"v":1,"kind":"backup",` + r + `,"firstSeen":"2026-11-24T18:00:00Z","extra":1}`, "extra", "unknown field"},
		{"wrong case", `{"v":1,"kind":"backup",` + r + `,"FirstSeen":"2026-11-24T18:00:00Z"}`, "FirstSeen", "unknown field"},
		{"field of another kind", `{"v":1,"kind":"backup",` + r + `,"firstSeen":"2026-11-24T18:00:00Z","backupJobId":"1"}`, "backupJobId", `not allowed in a "backup" message`},
		{"bad step", `{"v":1,"kind":"plan","step":"0.C,1"}`, "step", "must be a step id"},
		{"backup no request", `{"v":1,"kind":"backup","firstSeen":"2026-11-24T18:00:00Z"}`, "request", "required"},
		{"backup null request", `{"v":1,"kind":"backup","request":null,"firstSeen":"2026-11-24T18:00:00Z"}`, "request.DBInstanceId", "required"},
		{"backup no firstSeen", `{"v":1,"kind":"backup",` + r + `}`, "firstSeen", "required"},
		{"bad time", `{"v":1,"kind":"backup",` + r + `,"firstSeen":"yesterday"}`, "firstSeen", "RFC 3339"},
		{"request unknown field", `{"v":1,"kind":"backup","request":{"DBInstanceId":"rm-1","Color":"red"},"firstSeen":"2026-11-24T18:00:00Z"}`, "Color", "unknown field"},
		{"request wrong type", `{"v":1,"kind":"backup","request":{"DBInstanceId":5},"firstSeen":"2026-11-24T18:00:00Z"}`, "request.DBInstanceId", "must be a JSON string"},
		{"attempts not array", `{"v":1,"kind":"backup",` + r + `,"firstSeen":"2026-11-24T18:00:00Z","attempts":{}}`, "attempts", "must be a JSON slice"},
		{"track no job", `{"v":1,"kind":"track",` + r + `,"started":"2026-11-24T18:00:00Z"}`, "backupJobId", "required"},
		{"track no started", `{"v":1,"kind":"track",` + r + `,"backupJobId":"1"}`, "started", "required"},
		{"track job 4294967296", `{"v":1,"kind":"track",` + r + `,"backupJobId":"4294967296","started":"2026-11-24T18:00:00Z"}`, "backupJobId", "1 to 2147483647"},
		{"track job 2147483648", `{"v":1,"kind":"track",` + r + `,"backupJobId":"2147483648","started":"2026-11-24T18:00:00Z"}`, "backupJobId", "1 to 2147483647"},
		{"track job 0", `{"v":1,"kind":"track",` + r + `,"backupJobId":"0","started":"2026-11-24T18:00:00Z"}`, "backupJobId", "1 to 2147483647"},
		{"track job -1", `{"v":1,"kind":"track",` + r + `,"backupJobId":"-1","started":"2026-11-24T18:00:00Z"}`, "backupJobId", "1 to 2147483647"},
		{"track job 007", `{"v":1,"kind":"track",` + r + `,"backupJobId":"007","started":"2026-11-24T18:00:00Z"}`, "backupJobId", "1 to 2147483647"},
		{"track job 1e3", `{"v":1,"kind":"track",` + r + `,"backupJobId":"1e3","started":"2026-11-24T18:00:00Z"}`, "backupJobId", "1 to 2147483647"},
		{"track job 30 digits", `{"v":1,"kind":"track",` + r + `,"backupJobId":"999999999999999999999999999999","started":"2026-11-24T18:00:00Z"}`, "backupJobId", "1 to 2147483647"},
		{"track job not a number", `{"v":1,"kind":"track",` + r + `,"backupJobId":"J1","started":"2026-11-24T18:00:00Z"}`, "backupJobId", "1 to 2147483647"},
		{"track negative checks", `{"v":1,"kind":"track",` + r + `,"backupJobId":"1","started":"2026-11-24T18:00:00Z","checks":-1}`, "checks", "negative"},
		{"track checks string", `{"v":1,"kind":"track",` + r + `,"backupJobId":"1","started":"2026-11-24T18:00:00Z","checks":"2"}`, "checks", "must be a JSON int"},
		{"outcome no event", `{"v":1,"kind":"outcome"}`, "event", "required"},
		{"outcome event string", `{"v":1,"kind":"outcome","event":"x"}`, "event", "JSON object"},
		{"plan empty", `{"v":1,"kind":"plan","requests":[]}`, "requests", "at least one"},
		{"plan no instance", `{"v":1,"kind":"plan","requests":[{"DBInstanceId":"rm-1"},{}]}`, "requests[1].DBInstanceId", "required"},
		{"trailing", `{"v":1,"kind":"plan","requests":[{"DBInstanceId":"rm-1"}]} {}`, "", "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%s) = %v, want a *DecodeError", tt.body, err)
			}
			if de.Field != tt.field || !strings.Contains(de.Reason, tt.reason) {
				t.Fatalf("Decode(%s) = field %q reason %q; want field %q reason containing %q", tt.body, de.Field, de.Reason, tt.field, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "workqueue: ") {
				t.Fatalf("Error() = %q", err)
			}
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	tests := []struct {
		name  string
		m     Message
		field string
	}{
		{"no kind", Message{}, "kind"},
		{"backup no instance", Backup(backup.Request{}, nil, t0), "request.DBInstanceId"},
		{"backup no firstSeen", Backup(req("rm-1"), nil, time.Time{}), "firstSeen"},
		{"track no job", Track(req("rm-1"), "", t0), "backupJobId"},
		{"track job beyond int32", Track(req("rm-1"), "4294967296", t0), "backupJobId"},
		{"track job not a number", Track(req("rm-1"), "J1", t0), "backupJobId"},
		{"track no instance", Track(backup.Request{}, "1", t0), "request.DBInstanceId"},
		{"track no started", Track(req("rm-1"), "1", time.Time{}), "started"},
		{"outcome invalid", Outcome([]byte(`{"id":`)), "event"},
		{"plan empty", Plan(nil), "requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.m)
			var de *DecodeError
			if !errors.As(err, &de) || de.Field != tt.field {
				t.Fatalf("Encode = %v, want an error on %q", err, tt.field)
			}
		})
	}
}

func manyAttempts(n, msgLen int) []backup.Attempt {
	a := make([]backup.Attempt, n)
	for i := range a {
		a[i] = backup.Attempt{Time: t0.Add(time.Duration(i) * time.Second), Action: "CreateBackup", Code: "ServiceUnavailable",
			Message: fmt.Sprintf("attempt %d %s", i, strings.Repeat("m", msgLen)), Retryable: true, Class: "transient"}
	}
	return a
}

func TestEncodeTrimsAttempts(t *testing.T) {
	m := Backup(req("rm-1"), manyAttempts(200, 500), t0)
	m.Note = "resumed"
	body, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > MaxBytes {
		t.Fatalf("encoded %d bytes", len(body))
	}
	got, err := Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Attempts) != 2 || !strings.HasPrefix(got.Attempts[0].Message, "attempt 0 ") || !strings.HasPrefix(got.Attempts[1].Message, "attempt 199 ") {
		t.Fatalf("kept %d attempts: %+v", len(got.Attempts), got.Attempts)
	}
	if !strings.HasPrefix(got.Note, "resumed; attempts trimmed") || !strings.Contains(got.Note, "of 200 (198 dropped)") {
		t.Fatalf("note %q", got.Note)
	}
	// Small enough: untouched.
	m = Backup(req("rm-1"), manyAttempts(10, 10), t0)
	body, _ = Encode(m)
	got, _ = Decode([]byte(body))
	if len(got.Attempts) != 10 || got.Note != "" {
		t.Fatalf("small message changed: %d attempts, note %q", len(got.Attempts), got.Note)
	}
	// Too large even after trimming, and other kinds: an error.
	huge := manyAttempts(3, MaxBytes)
	if _, err := Encode(Backup(req("rm-1"), huge, t0)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Encode(huge) = %v", err)
	}
	if _, err := Encode(Outcome([]byte(`{"x":"` + strings.Repeat("y", MaxBytes) + `"}`))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Encode(huge outcome) = %v", err)
	}
	if a, note := TrimAttempts(huge[:2]); len(a) != 2 || note != "" {
		t.Fatal("TrimAttempts changed a list of two")
	}
}

func TestSplitPlan(t *testing.T) {
	reqs := make([]backup.Request, 1000)
	for i := range reqs {
		reqs[i] = req(fmt.Sprintf("rm-%04d", i))
	}
	tests := []struct {
		name       string
		per        int
		wantChunks int
	}{
		{"by count", 100, 10},
		{"halved when too large", 300, 0},
		{"by size only", 0, 0}, // 1000 requests do not fit one message
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := SplitPlan(reqs, tt.per)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantChunks > 0 && len(ms) != tt.wantChunks {
				t.Fatalf("%d chunks, want %d", len(ms), tt.wantChunks)
			}
			if len(ms) < 2 {
				t.Fatalf("%d chunks", len(ms))
			}
			var all []backup.Request
			for _, m := range ms {
				body, err := Encode(m)
				if err != nil || len(body) > MaxBytes {
					t.Fatalf("chunk of %d does not encode: %v", len(m.Requests), err)
				}
				if tt.per > 0 && len(m.Requests) > tt.per {
					t.Fatalf("chunk of %d, limit %d", len(m.Requests), tt.per)
				}
				all = append(all, m.Requests...)
			}
			if !reflect.DeepEqual(all, reqs) {
				t.Fatal("requests lost or reordered")
			}
		})
	}
	if _, err := SplitPlan([]backup.Request{{}}, 10); err == nil {
		t.Fatal("SplitPlan accepted a request without DBInstanceId")
	}
}

type fakeQueue struct {
	sent    []mnsq.OutMessage
	queue   string
	err     error
	batches int
}

func (f *fakeQueue) Send(_ context.Context, queue, body string, delay time.Duration) (string, error) {
	f.queue = queue
	f.sent = append(f.sent, mnsq.OutMessage{Body: body, Delay: delay})
	return "MID", f.err
}

func (f *fakeQueue) SendBatch(_ context.Context, queue string, msgs []mnsq.OutMessage) error {
	f.queue = queue
	f.batches++
	f.sent = append(f.sent, msgs...)
	return f.err
}

func TestMNSSender(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		delay, want time.Duration
	}{
		{0, 0},
		{-time.Second, 0},
		{30 * time.Second, 30 * time.Second},
		{30 * 24 * time.Hour, MaxDelay},
		{MaxDelay + time.Second, MaxDelay},
		{MaxDelay, 3 * 24 * time.Hour},
	}
	for _, tt := range tests {
		f := &fakeQueue{}
		s := NewMNSSender(f, "work", testSealer)
		if err := s.Send(ctx, Track(req("rm-1"), "1", t0), tt.delay); err != nil {
			t.Fatal(err)
		}
		if f.queue != "work" || s.Queue() != "work" || f.sent[0].Delay != tt.want {
			t.Errorf("delay %s sent as %s to %q", tt.delay, f.sent[0].Delay, f.queue)
		}
		m, err := testSealer.Open([]byte(f.sent[0].Body))
		if err != nil || m.Kind != KindTrack {
			t.Errorf("sent body %s: %v (every message is sealed)", f.sent[0].Body, err)
		}
	}

	f := &fakeQueue{err: &mnsq.Error{Op: "SendMessage", Code: "QueueNotExist"}}
	err := NewMNSSender(f, "work", testSealer).Send(ctx, Track(req("rm-1"), "1", t0), 0)
	if mnsq.Code(err) != "QueueNotExist" || !strings.Contains(err.Error(), `send track message to "work"`) {
		t.Fatalf("Send error %v", err)
	}
	if err := NewMNSSender(f, "work", testSealer).Send(ctx, Message{}, 0); err == nil {
		t.Fatal("Send(invalid) = nil")
	}

	f = &fakeQueue{}
	ms := []Message{Track(req("rm-1"), "1", t0), Backup(req("rm-2"), nil, t0)}
	ms[1].Delay = time.Minute
	if err := NewMNSSender(f, "work", testSealer).SendBatch(ctx, ms); err != nil {
		t.Fatal(err)
	}
	if len(f.sent) != 2 || f.sent[1].Delay != time.Minute || f.batches != 1 {
		t.Fatalf("batch sent %+v", f.sent)
	}
	f = &fakeQueue{}
	if err := NewMNSSender(f, "work", testSealer).SendBatch(ctx, []Message{ms[0], {Kind: "x"}}); err == nil || f.batches != 0 {
		t.Fatalf("SendBatch with an invalid message = %v after %d batches", err, f.batches)
	}
}

// A plan run's rest travels as compressed specs: thousands of backups fit
// one message, and they decode back unchanged.
func TestPlanSpecsRoundTrip(t *testing.T) {
	specs := make([]backup.Spec, 2000)
	for i := range specs {
		specs[i] = backup.Spec{DBInstanceId: fmt.Sprintf("rm-uf6wjk5%05d", i), BackupMethod: "Physical", RegionId: "cn-hangzhou"}
	}
	m := Message{Kind: KindPlan, Specs: specs, Trigger: backup.Trigger{Kind: "timer", Source: "nightly"}}
	body, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > MaxBytes {
		t.Fatalf("%d bytes", len(body))
	}
	back, err := Decode([]byte(body))
	if err != nil || !reflect.DeepEqual(back.Specs, specs) {
		t.Fatalf("decoded %d specs, %v", len(back.Specs), err)
	}
	if _, err := Decode([]byte(`{"v":1,"kind":"plan","specsGz":"bm90IGd6aXA="}`)); err == nil || !strings.Contains(err.Error(), "specsGz") {
		t.Errorf("a broken specsGz: %v", err)
	}
}

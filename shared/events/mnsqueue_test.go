package events

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

var mnsFixtures = []string{
	"mns-queue.json", "mns-single.json", "mns-rawdata.json", "mns-rawdata-single.json",
	"mns-topic-json.json", "mns-topic-stream.txt", "mns-topic-stream-attrs.json",
	"mns-base64.json", "mns-mixed.json",
}

func TestParseMNSForms(t *testing.T) {
	tests := []struct {
		fixture string
		ids     []string
		form    string
		source  string
	}{
		{"mns-queue.json", []string{"C6DB60D1574661357FA227277445A001", "C6DB60D1574661357FA227277445A002"}, FormCloudEvent, "rds-backup-work"},
		{"mns-single.json", []string{"C6DB60D1574661357FA227277445B001"}, FormCloudEvent, "rds-backup-work"},
		{"mns-rawdata.json", []string{"C6DB60D1574661357FA227277445C001", "C6DB60D1574661357FA227277445C002"}, FormRawData, ""},
		{"mns-rawdata-single.json", []string{"C6DB60D1574661357FA227277445C003"}, FormRawData, ""},
		{"mns-topic-json.json", []string{"3405CA51807661353B3D0001"}, FormTopicJSON, "rds-backup-requests"},
		{"mns-topic-stream.txt", nil, FormStream, ""},
		{"mns-topic-stream-attrs.json", nil, FormStreamAttrs, ""},
		{"mns-base64.json", []string{"C6DB60D1574661357FA227277445D001"}, FormCloudEvent, "rds-backup-work"},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			msgs, err := ParseMNS(readFixture(t, tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			want := len(tc.ids)
			if want == 0 {
				want = 1
			}
			if len(msgs) != want {
				t.Fatalf("got %d messages, want %d", len(msgs), want)
			}
			for i, m := range msgs {
				if m.Form != tc.form || m.Source != tc.source || m.Err != nil {
					t.Fatalf("message %d = %+v, want form %s source %q", i, m, tc.form, tc.source)
				}
				if tc.ids != nil && m.ID != tc.ids[i] {
					t.Fatalf("message %d id %q, want %q", i, m.ID, tc.ids[i])
				}
				if tc.ids == nil && !strings.HasPrefix(m.ID, "body-") {
					t.Fatalf("STREAM message id %q, want a body digest", m.ID)
				}
				reqs, _, err := m.Requests()
				if err != nil || len(reqs) == 0 {
					t.Fatalf("message %d: Requests() = %v, %v", i, reqs, err)
				}
				checkIDs(t, reqs, KindMNS)
				if reqs[0].Trigger.DeliveryId != m.ID || reqs[0].Trigger.Source != m.Source {
					t.Fatalf("trigger %+v does not name message %s", reqs[0].Trigger, m.ID)
				}
			}
		})
	}
}

func TestParseMNSEmptyBatch(t *testing.T) {
	for _, in := range []string{`[]`, " [ ] \n"} {
		msgs, err := ParseMNS([]byte(in))
		if err != nil || len(msgs) != 0 {
			t.Fatalf("ParseMNS(%q) = %v, %v; want an empty batch", in, msgs, err)
		}
	}
}

func TestParseMNSEmptyPayload(t *testing.T) {
	for _, in := range []string{``, " \n\t"} {
		_, err := ParseMNS([]byte(in))
		if v := violation(t, err); v.Field != "event" {
			t.Fatalf("field %q", v.Field)
		}
	}
}

func TestMNSRoundTrip(t *testing.T) {
	t.Run("CloudEvents array", func(t *testing.T) {
		for _, name := range []string{"mns-queue.json", "mns-base64.json"} {
			in := readFixture(t, name)
			var evs []MNSCloudEvent
			if err := json.Unmarshal(in, &evs); err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(evs)
			assertJSONEq(t, in, out)
		}
	})
	t.Run("single CloudEvent", func(t *testing.T) {
		in := readFixture(t, "mns-single.json")
		var ev MNSCloudEvent
		if err := json.Unmarshal(in, &ev); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(ev)
		assertJSONEq(t, in, out)
	})
	t.Run("RawData", func(t *testing.T) {
		in := readFixture(t, "mns-rawdata.json")
		var d []MNSData
		if err := json.Unmarshal(in, &d); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(d)
		assertJSONEq(t, in, out)
	})
	t.Run("topic JSON with numeric PublishTime and an attribute", func(t *testing.T) {
		in := readFixture(t, "mns-topic-json.json")
		var ev MNSTopicEvent
		if err := json.Unmarshal(in, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.PublishTime.Time().Year() != 2026 || string(ev.Attributes["team"]) != `"payments"` {
			t.Fatalf("decoded %+v", ev)
		}
		out, _ := json.Marshal(ev)
		assertJSONEq(t, in, out)
	})
	t.Run("STREAM with attributes", func(t *testing.T) {
		in := readFixture(t, "mns-topic-stream-attrs.json")
		var ev MNSStreamEvent
		if err := json.Unmarshal(in, &ev); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(ev)
		assertJSONEq(t, in, out)
	})
}

func TestEpochMillis(t *testing.T) {
	for in, want := range map[string]int64{`1658235558094`: 1658235558094, `"1658235558094"`: 1658235558094, `null`: 0, `1.658235558094e12`: 1658235558094} {
		var m EpochMillis
		if err := json.Unmarshal([]byte(in), &m); err != nil || int64(m) != want {
			t.Errorf("%s → %d, %v; want %d", in, m, err, want)
		}
	}
	var m EpochMillis
	if err := json.Unmarshal([]byte(`"2022-07-19T12:59:18Z"`), &m); err == nil {
		t.Error("an RFC 3339 string is not epoch milliseconds")
	}
}

// mnsResult is the golden view of one message's normalization.
type mnsResult struct {
	ID       string           `json:"id"`
	Form     string           `json:"form"`
	Source   string           `json:"source"`
	Envelope bool             `json:"envelope,omitempty"`
	Requests []backup.Request `json:"requests,omitempty"`
	Plan     *backup.Plan     `json:"plan,omitempty"` // when it has a Select to expand
	Error    *errorView       `json:"error,omitempty"`
}

func normalizeMNS(msgs []MNSMessage) []mnsResult {
	out := make([]mnsResult, 0, len(msgs))
	for _, m := range msgs {
		r := mnsResult{ID: m.ID, Form: m.Form, Source: m.Source}
		reqs, plan, err := m.Requests()
		switch {
		case errors.Is(err, ErrEnvelope):
			r.Envelope = true
		case err != nil:
			r.Error = viewError(err)
		default:
			r.Requests = reqs
			if plan.Select != nil {
				r.Plan = &plan
			}
		}
		out = append(out, r)
	}
	return out
}

func TestMNSGolden(t *testing.T) {
	for _, name := range mnsFixtures {
		t.Run(name, func(t *testing.T) {
			msgs, err := ParseMNS(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".txt"), normalizeMNS(msgs))
		})
	}
}

// TestMNSMixedBatch: one bad message yields an error for that message
// alone; every other message of the batch normalizes on its own.
func TestMNSMixedBatch(t *testing.T) {
	msgs, err := ParseMNS(readFixture(t, "mns-mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		ok       bool
		envelope bool
		field    string
		code     string
		instance string
	}
	wants := []want{
		{ok: true, instance: "rm-demo-mysql1"},
		{field: "Method", code: backup.CodeParametersInvalid},
		{field: "body", code: backup.CodeMalformed},
		{ok: true, instance: "rm-demo-mssql1"}, // base64 body
		{envelope: true},
		{ok: true}, // a Select plan: no explicit requests, the plan is returned
		{field: "event[6].data", code: backup.CodeMalformed},
		{field: "body", code: backup.CodeMalformed}, // empty body
	}
	if len(msgs) != len(wants) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(wants))
	}
	for i, w := range wants {
		reqs, plan, err := msgs[i].Requests()
		switch {
		case w.envelope:
			if !errors.Is(err, ErrEnvelope) || !IsEnvelope([]byte(msgs[i].Body)) {
				t.Errorf("message %d: err %v, want ErrEnvelope", i, err)
			}
		case w.ok:
			if err != nil {
				t.Errorf("message %d: %v", i, err)
				continue
			}
			if w.instance != "" && (len(reqs) != 1 || reqs[0].DBInstanceId != w.instance) {
				t.Errorf("message %d: requests %+v, want %s", i, reqs, w.instance)
			}
			if w.instance == "" && (plan.Select == nil || plan.Select.Engine != "PostgreSQL") {
				t.Errorf("message %d: plan %+v, want the Select", i, plan)
			}
		default:
			v := violation(t, err)
			if v.Field != w.field || v.Code != w.code {
				t.Errorf("message %d: %s on %q, want %s on %q (%s)", i, v.Code, v.Field, w.code, w.field, v.Message)
			}
			if !strings.Contains(err.Error(), msgs[i].ID) && msgs[i].ID != "" {
				t.Errorf("message %d: error %q does not name the message", i, err)
			}
		}
	}
}

func TestParseMNSShapes(t *testing.T) {
	req := `{"DBInstanceId":"rm-1"}`
	b64 := base64.StdEncoding.EncodeToString([]byte(req))
	tests := []struct {
		name     string
		in       string
		form     string
		n        int
		instance string // of the first message, "" when it must fail
	}{
		{"single CloudEvent, id only in the envelope", `{"id":"X1","source":"s","specversion":"1.0","type":"mns:Queue:SendMessage","subject":"acs:mns:cn-hangzhou:1:queues/q","data":{"messageBody":` + quote(req) + `}}`, FormCloudEvent, 1, "rm-1"},
		{"CloudEvent without specversion (id+type)", `[{"id":"X1","type":"mns:Queue:SendMessage","data":{"messageId":"X1","messageBody":` + quote(req) + `}}]`, FormCloudEvent, 1, "rm-1"},
		{"messageBody as an object (tolerated)", `[{"id":"X1","specversion":"1.0","type":"t","data":{"messageId":"X1","messageBody":{"DBInstanceId":"rm-1"}}}]`, FormCloudEvent, 1, "rm-1"},
		{"messageBody a number", `[{"id":"X1","specversion":"1.0","type":"t","data":{"messageId":"X1","messageBody":5}}]`, FormCloudEvent, 1, ""},
		{"messageBody missing", `[{"id":"X1","specversion":"1.0","type":"t","data":{"messageId":"X1"}}]`, FormCloudEvent, 1, ""},
		{"base64 body", `[{"id":"X1","specversion":"1.0","type":"t","data":{"messageId":"X1","messageBody":"` + b64 + `"}}]`, FormCloudEvent, 1, "rm-1"},
		{"base64 body with a line break", `[{"requestId":"R","messageId":"X1","messageBody":"` + b64[:8] + `\n` + b64[8:] + `"}]`, FormRawData, 1, "rm-1"},
		{"RawData object", `{"requestId":"R","messageId":"X1","messageBody":` + quote(req) + `}`, FormRawData, 1, "rm-1"},
		{"topic JSON, PublishTime as a string", `{"TopicOwner":"1","Message":` + quote(req) + `,"PublishTime":"1658235558094","TopicName":"t","MessageId":"M1"}`, FormTopicJSON, 1, "rm-1"},
		{"topic JSON, base64 message", `{"Message":"` + b64 + `","PublishTime":1658235558094,"TopicName":"t","MessageId":"M1"}`, FormTopicJSON, 1, "rm-1"},
		{"topic JSON, bad PublishTime", `{"Message":` + quote(req) + `,"PublishTime":"yesterday","TopicName":"t","MessageId":"M1"}`, FormTopicJSON, 1, ""},
		{"STREAM with attrs", `{"body":` + quote(req) + `,"attrs":{"Extend":"{}"}}`, FormStreamAttrs, 1, "rm-1"},
		{"STREAM with only body", `{"body":` + quote(req) + `}`, FormStreamAttrs, 1, "rm-1"},
		{"STREAM request JSON", req, FormStream, 1, "rm-1"},
		{"STREAM plan", `{"Backups":[{"DBInstanceId":"rm-1"},{"DBInstanceId":"rm-2"}]}`, FormStream, 1, "rm-1"},
		{"STREAM base64", b64, FormStream, 1, "rm-1"},
		{"STREAM text", `hello topic`, FormStream, 1, ""},
		{"STREAM truncated JSON", `[{"id":"X1",`, FormStream, 1, ""},
		{"STREAM JSON array of numbers", `[1,2,3]`, FormStream, 1, ""},
		{"STREAM object whose body is not a string", `{"body":{"DBInstanceId":"rm-1"}}`, FormStream, 1, ""},
		{"batch with a non-object element", `[{"requestId":"R","messageId":"X1","messageBody":` + quote(req) + `},7]`, FormRawData, 2, "rm-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := ParseMNS([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != tc.n {
				t.Fatalf("got %d messages, want %d: %+v", len(msgs), tc.n, msgs)
			}
			if msgs[0].Form != tc.form {
				t.Fatalf("form %q, want %q", msgs[0].Form, tc.form)
			}
			reqs, _, err := msgs[0].Requests()
			if tc.instance == "" {
				violation(t, err)
				return
			}
			if err != nil || reqs[0].DBInstanceId != tc.instance {
				t.Fatalf("Requests() = %+v, %v", reqs, err)
			}
			if msgs[0].ID == "" {
				t.Fatal("every message has an id")
			}
		})
	}
}

func TestStreamIDIsStable(t *testing.T) {
	a, _ := ParseMNS([]byte(`{"DBInstanceId":"rm-1"}`))
	b, _ := ParseMNS([]byte(`{"DBInstanceId":"rm-1"}`))
	c, _ := ParseMNS([]byte(`{"DBInstanceId":"rm-2"}`))
	if a[0].ID != b[0].ID || a[0].ID == c[0].ID {
		t.Fatalf("ids %q %q %q: the same body must give the same id, another body another", a[0].ID, b[0].ID, c[0].ID)
	}
}

func TestIsEnvelope(t *testing.T) {
	env := `{"kind":"track","v":1,"backupJobId":"1"}`
	tests := map[string]bool{
		env: true,
		base64.StdEncoding.EncodeToString([]byte(env)): true,
		`{"kind":"track"}`:        false,
		`{"v":1}`:                 false,
		`{"DBInstanceId":"rm-1"}`: false,
		`[{"kind":"x","v":1}]`:    false,
		`kind v`:                  false,
		``:                        false,
	}
	for in, want := range tests {
		if got := IsEnvelope([]byte(in)); got != want {
			t.Errorf("IsEnvelope(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	tests := map[string]string{
		` {"a":1} `: `{"a":1}`,
		base64.StdEncoding.EncodeToString([]byte(`{"a":1}`)):    `{"a":1}`,
		base64.StdEncoding.EncodeToString([]byte(`[1]`)):        `[1]`,
		base64.StdEncoding.EncodeToString([]byte(`hello`)):      base64.StdEncoding.EncodeToString([]byte(`hello`)), // not JSON inside
		base64.StdEncoding.EncodeToString([]byte(`{"a":`)):      base64.StdEncoding.EncodeToString([]byte(`{"a":`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"a":1}`)): base64.RawURLEncoding.EncodeToString([]byte(`{"a":1}`)), // only standard base64
		`1234`: `1234`, // valid JSON stays
		``:     ``,
	}
	for in, want := range tests {
		if got := string(DecodeBody([]byte(in))); got != want {
			t.Errorf("DecodeBody(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQueueName(t *testing.T) {
	tests := map[[2]string]string{
		{"acs:mns:cn-hangzhou:1649:queues/zeus", "src"}: "zeus",
		{"acs:mns:cn-hangzhou:1649:topics/news", "src"}: "news",
		{"", "MNS-fn-trigger"}:                          "MNS-fn-trigger",
		{"acs:mns:cn-hangzhou:1649:queues/", "src"}:     "src",
	}
	for in, want := range tests {
		if got := queueName(in[0], in[1]); got != want {
			t.Errorf("queueName(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func FuzzParseMNS(f *testing.F) {
	for _, name := range mnsFixtures {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`hello topic`))
	f.Add([]byte(`[{"id":"X","specversion":"1.0","type":"t","data":{"messageBody":{"a":1}}},3,"x"]`))
	f.Add([]byte(`{"body":"eyJEQkluc3RhbmNlSWQiOiJybS0xIn0=","attrs":{}}`))
	f.Add([]byte(`{"Message":"x","TopicName":"t","PublishTime":1e400}`))
	f.Add([]byte(`{"` + strings.Repeat("f", 5000) + `":1}`))
	f.Add([]byte(`[{"id":"X","specversion":"1.0","type":"t","data":{"messageBody":"{\"Select\":{\"Engine\":\"` + strings.Repeat("E", 5000) + `\"}}"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, err := ParseMNS(data)
		if err != nil {
			violation(t, err)
			return
		}
		again, _ := ParseMNS(data)
		if len(again) != len(msgs) {
			t.Fatal("decoding is not deterministic")
		}
		for i, m := range msgs {
			switch m.Form {
			case FormCloudEvent, FormRawData, FormTopicJSON, FormStreamAttrs, FormStream:
			default:
				t.Fatalf("message %d: unknown form %q", i, m.Form)
			}
			if m.Err == nil && m.ID == "" {
				t.Fatalf("message %d has no id", i)
			}
			if again[i].ID != m.ID || again[i].Body != m.Body || again[i].Form != m.Form {
				t.Fatalf("message %d decodes differently the second time", i)
			}
			reqs, _, err := m.Requests()
			if err != nil {
				if !errors.Is(err, ErrEnvelope) {
					// What a sender wrote comes back bounded (issue 19).
					if v := violation(t, err); len(v.Message) > 2048 || len(v.Field) > 512 || len(err.Error()) > 4096 {
						t.Fatalf("message %d: a %d-byte error echoes the input: %.200s", i, len(err.Error()), err)
					}
				}
				continue
			}
			checkIDs(t, reqs, KindMNS)
			reqs2, _, _ := again[i].Requests()
			if !reflect.DeepEqual(reqs, reqs2) {
				t.Fatalf("message %d normalizes differently the second time", i)
			}
		}
	})
}

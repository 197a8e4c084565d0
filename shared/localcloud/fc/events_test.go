package fc

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNewTimerEventReproducesFixture(t *testing.T) {
	want := bytes.TrimSpace(fixture(t, "timer.json"))
	var ev timerEvent
	if err := json.Unmarshal(want, &ev); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, ev.TriggerTime)
	if err != nil {
		t.Fatal(err)
	}
	// A local time and sub-second noise must not show.
	at = at.In(time.FixedZone("CST", 8*3600)).Add(400 * time.Millisecond)
	if got := NewTimerEvent(at, ev.TriggerName, ev.Payload); !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := NewTimerEvent(at, "t", `<&>`); !bytes.Contains(got, []byte(`"payload":"<&>"`)) {
		t.Errorf("payload HTML-escaped: %s", got)
	}
}

func TestNewMNSEventsReproducesFixture(t *testing.T) {
	want := bytes.TrimSpace(fixture(t, "mns-queue.json"))
	var events []mnsCloudEvent
	if err := json.Unmarshal(want, &events); err != nil {
		t.Fatal(err)
	}
	var msgs []MNSMessage
	for _, e := range events {
		enq, _ := time.Parse(time.RFC3339Nano, e.Time)
		pub, _ := time.Parse(time.RFC3339Nano, e.AliyunPublishTime)
		msgs = append(msgs, MNSMessage{MessageID: e.Data.MessageID, RequestID: e.Data.RequestID,
			Body: e.Data.MessageBody, EnqueueTime: enq, PublishTime: pub})
	}
	src := MNSEventSource{Region: "cn-hangzhou", AccountID: "1649015465570001", Queue: "rds-backup-work",
		EventBus: "MNS-fc-rds-backup-queue", PublishAddr: "42.120.0.1"}
	if got := NewMNSEvents(src, msgs...); !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	raw := NewMNSRawEvents(msgs...)
	var data []mnsData
	if err := json.Unmarshal(raw, &data); err != nil || len(data) != 2 || data[1] != events[1].Data {
		t.Errorf("raw events %s: %v", raw, err)
	}
}

func TestHTTPEventReproducesFixture(t *testing.T) {
	want := bytes.TrimSpace(fixture(t, "http.json"))
	var ev httpEvent
	if err := json.Unmarshal(want, &ev); err != nil {
		t.Fatal(err)
	}
	rc := ev.RequestContext
	r := httptest.NewRequest(rc.HTTP.Method, ev.RawPath, strings.NewReader(ev.Body))
	for k, v := range ev.Headers {
		r.Header.Set(k, v)
	}
	r.RemoteAddr = rc.HTTP.SourceIP + ":53211"
	ms, _ := strconv.ParseInt(rc.TimeEpoch, 10, 64)
	got := buildHTTPEvent(r, []byte(ev.Body), rc.RequestID, time.UnixMilli(ms), rc.AccountID, rc.DomainName)
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

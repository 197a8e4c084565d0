package events

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

var httpFixtures = []string{"http.json", "http-base64.json"}

func TestHTTPFixtureRoundTrip(t *testing.T) {
	assertRoundTrip(t, httpFixtures, ParseHTTP)
}

func TestHTTPDecode(t *testing.T) {
	ev, err := ParseHTTP(readFixture(t, "http.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Method() != "POST" || ev.RequestContext.HTTP.Path != "/v1/backups" || ev.RequestContext.RequestID == "" {
		t.Fatalf("decoded %+v", ev)
	}
	if got := ev.PathSegments(); !reflect.DeepEqual(got, []string{"v1", "backups"}) {
		t.Fatalf("PathSegments() = %q", got)
	}
	body, err := ev.RawBody()
	if err != nil || !strings.Contains(string(body), "rm-demo-mysql1") {
		t.Fatalf("RawBody() = %q, %v", body, err)
	}
	for _, name := range []string{"X-Timestamp", "x-timestamp", "X-TIMESTAMP"} {
		if got := ev.Header(name); got != "1795500000" {
			t.Errorf("Header(%q) = %q", name, got)
		}
	}
}

func TestHTTPBase64Body(t *testing.T) {
	ev, err := ParseHTTP(readFixture(t, "http-base64.json"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := ev.RawBody()
	if err != nil {
		t.Fatal(err)
	}
	p, err := backup.ParsePlan(body)
	if err != nil || len(p.Backups) != 2 {
		t.Fatalf("the decoded body is the request JSON: %v, %v", p, err)
	}
	if ev.Header("X-Caller") != "release-bot" || ev.Header("X-Signature-256") == "" {
		t.Fatal("lower-case header names are found in any case")
	}
	for _, bad := range []string{
		"%%% not base64",
		"e31=", // "{}" with padding bits set: not the canonical encoding (found by make fuzz)
	} {
		ev.Body = bad
		if _, err := ev.RawBody(); err != ErrBadBase64 {
			t.Fatalf("RawBody() on bad base64 %q: %v", bad, err)
		}
	}
}

func TestHTTPHeaderCase(t *testing.T) {
	ev := HTTPEvent{Headers: map[string]string{"x-a": "lower", "X-A": "canonical", "x-b": "b"}}
	if got := ev.Header("X-A"); got != "canonical" {
		t.Fatalf("an exact match wins, got %q", got)
	}
	if got := ev.Header("x-A"); got != "canonical" {
		t.Fatalf("among folded matches the first in sorted order wins, got %q", got)
	}
	if got := ev.Header("X-B"); got != "b" {
		t.Fatalf("got %q", got)
	}
	if got := ev.Header("missing"); got != "" {
		t.Fatalf("got %q", got)
	}
	if got := (HTTPEvent{}).Header("x"); got != "" {
		t.Fatal("nil headers")
	}
}

func TestHTTPPathSegments(t *testing.T) {
	tests := []struct {
		raw, path string
		want      []string
	}{
		{"/v1/backups/rm-1/123", "", []string{"v1", "backups", "rm-1", "123"}},
		{"/v1/backups/rm%2F1/123", "/v1/backups/rm/1/123", []string{"v1", "backups", "rm/1", "123"}},
		{"", "/healthz", []string{"healthz"}},
		{"//v1//hooks/github/", "", []string{"v1", "hooks", "github"}},
		{"/v1/backups?x=1", "", []string{"v1", "backups"}},
		{"/", "", nil},
	}
	for _, tc := range tests {
		ev := HTTPEvent{RawPath: tc.raw, RequestContext: HTTPRequestContext{HTTP: HTTPRequestInfo{Path: tc.path}}}
		if got := ev.PathSegments(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("PathSegments(%q, %q) = %q, want %q", tc.raw, tc.path, got, tc.want)
		}
	}
}

func TestParseHTTPMalformed(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		{"empty", ``, "event"},
		{"array (an MNS batch)", `[{"id":"x"}]`, "event"},
		{"timer event", `{"triggerTime":"2026-11-24T02:00:00Z","triggerName":"t","payload":"{}"}`, "requestContext.http.method"},
		{"headers not an object", `{"headers":[],"requestContext":{"http":{"method":"GET"}}}`, "event.headers"},
		{"header value a number", `{"headers":{"a":1},"requestContext":{"http":{"method":"GET"}}}`, "event.headers"},
		{"isBase64Encoded a string", `{"isBase64Encoded":"true","requestContext":{"http":{"method":"GET"}}}`, "event.isBase64Encoded"},
		{"invalid JSON", `{"version":`, "event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHTTP([]byte(tc.in))
			if v := violation(t, err); v.Field != tc.field || v.Code != backup.CodeMalformed {
				t.Fatalf("got %s on %q, want %q (%s)", v.Code, v.Field, tc.field, v.Message)
			}
		})
	}
}

func TestHTTPResponseHeadersNeverNull(t *testing.T) {
	out, err := json.Marshal(HTTPResponse{StatusCode: 200, Body: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"statusCode":200,"headers":{},"isBase64Encoded":false,"body":"{}"}` {
		t.Fatalf("got %s", out)
	}
	// Also through a pointer and inside other values.
	out, _ = json.Marshal(map[string]any{"r": &HTTPResponse{StatusCode: 404}})
	if !strings.Contains(string(out), `"headers":{}`) {
		t.Fatalf("got %s", out)
	}
}

func FuzzParseHTTP(f *testing.F) {
	for _, name := range httpFixtures {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"rawPath":"/v1/backups/rm%2F1/1","isBase64Encoded":true,"body":"e30=","headers":{"X-A":"1","x-a":"2"},"requestContext":{"http":{"method":"get"}}}`))
	f.Add([]byte(`{"requestContext":{"http":{"method":"POST","path":"/%zz"}},"queryParameters":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseHTTP(data)
		if err != nil {
			violation(t, err)
			return
		}
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseHTTP(out)
		if err != nil || !reflect.DeepEqual(again, ev) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, ev)
		}
		if b, err := ev.RawBody(); err == nil && ev.IsBase64Encoded {
			if base64.StdEncoding.EncodeToString(b) != ev.Body {
				t.Fatal("base64 body does not re-encode to itself")
			}
		}
		for _, s := range ev.PathSegments() {
			if s == "" {
				t.Fatal("empty path segment")
			}
		}
		for k, v := range ev.Headers {
			if got := ev.Header(k); got != v {
				t.Fatalf("Header(%q) = %q, want the exact match %q", k, got, v)
			}
			folded := 0
			for k2 := range ev.Headers {
				if strings.EqualFold(k, k2) {
					folded++
				}
			}
			if up := strings.ToUpper(k); folded == 1 && ev.Header(up) != v {
				t.Fatalf("Header(%q) does not find %q", up, k)
			}
		}
	})
}

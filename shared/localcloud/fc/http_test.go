package fc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func startHTTP(t *testing.T, host string) (*Function, *httptest.Server) {
	t.Helper()
	f := startEcho(t, FunctionConfig{Name: "webhook", AccountID: "1649015465570001"})
	srv := httptest.NewServer(&HTTPTrigger{Function: f, Host: host})
	t.Cleanup(srv.Close)
	return f, srv
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestHTTPTriggerEventAndResponse(t *testing.T) {
	_, srv := startHTTP(t, "rds-backup-webhook.cn-hangzhou.fcapp.run")
	reqBody := `{"DBInstanceId":"rm-1"}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/a%20b?x=1&x=2&y=3", strings.NewReader(reqBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	before := time.Now()
	resp, body := do(t, req)

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Echo") != "yes" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response headers %v", resp.Header)
	}
	if resp.Header.Get("X-Fc-Forged") != "" {
		t.Error("the function set an x-fc-* response header")
	}
	reqID := resp.Header.Get("X-Fc-Request-Id")
	r := decodeReply(t, body)
	if reqID == "" || r.RequestID != reqID {
		t.Errorf("X-Fc-Request-Id %q, function saw %q", reqID, r.RequestID)
	}

	raw := r.event(t)
	if err := sameShape(raw, fixture(t, "http.json"), "$.headers", "$.queryParameters"); err != nil {
		t.Errorf("event %s: %v", raw, err)
	}
	var ev httpEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	rc := ev.RequestContext
	checks := []struct{ name, got, want string }{
		{"version", ev.Version, "v1"},
		{"rawPath", ev.RawPath, "/v1/a%20b"},
		{"http.path", rc.HTTP.Path, "/v1/a b"},
		{"body", ev.Body, reqBody},
		{"X-Multi", ev.Headers["X-Multi"], "a,b"},
		{"Content-Type", ev.Headers["Content-Type"], "application/json"},
		{"query x", ev.QueryParameters["x"], "1,2"},
		{"query y", ev.QueryParameters["y"], "3"},
		{"accountId", rc.AccountID, "1649015465570001"},
		{"domainName", rc.DomainName, "rds-backup-webhook.cn-hangzhou.fcapp.run"},
		{"domainPrefix", rc.DomainPrefix, "rds-backup-webhook"},
		{"method", rc.HTTP.Method, "POST"},
		{"protocol", rc.HTTP.Protocol, "HTTP/1.1"},
		{"sourceIp", rc.HTTP.SourceIP, "127.0.0.1"},
		{"userAgent", rc.HTTP.UserAgent, "curl/8.5.0"},
		{"requestId", rc.RequestID, reqID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if ev.IsBase64Encoded {
		t.Error("text body marked base64")
	}
	ms, err := strconv.ParseInt(rc.TimeEpoch, 10, 64)
	if err != nil || ms < before.UnixMilli() || ms > time.Now().UnixMilli() {
		t.Errorf("timeEpoch %q", rc.TimeEpoch)
	}
	if tm, err := time.Parse(time.RFC3339, rc.Time); err != nil || tm.Unix() != ms/1000 {
		t.Errorf("time %q vs timeEpoch %q", rc.Time, rc.TimeEpoch)
	}
}

func TestHTTPTriggerBinaryBodyAndEmptyQuery(t *testing.T) {
	_, srv := startHTTP(t, "")
	bin := []byte{0xff, 0xfe, 0x00, 0x01}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/upload", bytes.NewReader(bin))
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	raw := decodeReply(t, body).event(t)
	var ev struct {
		Body            string         `json:"body"`
		IsBase64Encoded bool           `json:"isBase64Encoded"`
		QueryParameters map[string]any `json:"queryParameters"`
		RequestContext  struct {
			DomainName   string `json:"domainName"`
			DomainPrefix string `json:"domainPrefix"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString(bin) {
		t.Errorf("binary body: %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
	if !bytes.Contains(raw, []byte(`"queryParameters":{}`)) {
		t.Errorf("empty query is not {}: %s", raw)
	}
	if ev.RequestContext.DomainName != "webhook.cn-hangzhou.fcapp.run" || ev.RequestContext.DomainPrefix != "webhook" {
		t.Errorf("default domain %+v", ev.RequestContext)
	}
}

func TestHTTPTriggerResponseMapping(t *testing.T) {
	_, srv := startHTTP(t, "")
	post := func(body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/x", strings.NewReader(body))
		return do(t, req)
	}

	resp, _ := post(`{"fctest":{"status":201}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("status %d, want 201", resp.StatusCode)
	}

	resp, body := post(`{"fctest":{"binaryResponse":true}}`)
	if resp.StatusCode != 200 || !bytes.Equal(body, []byte{0xff, 0x00, 0xfe}) {
		t.Errorf("binary response %d %v", resp.StatusCode, body)
	}

	resp, body = post(`{"fctest":{"fail":"bad things"}}`)
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("X-Fc-Error-Type") != UnhandledInvocationError {
		t.Errorf("function error: %d %v", resp.StatusCode, resp.Header)
	}
	if string(body) != `{"errorMessage":"bad things","errorType":"errorString"}` {
		t.Errorf("function error body %s", body)
	}

	resp, body = post(`{"fctest":{"badResponse":true}}`)
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("non-FC3 response: status %d: %s", resp.StatusCode, body)
	}
}

func TestHTTPTriggerLimits(t *testing.T) {
	f, srv := startHTTP(t, "")
	big := bytes.Repeat([]byte("a"), maxPayload+1)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/big", bytes.NewReader(big))
	if resp, body := do(t, req); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over 32 MiB: status %d: %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/?q="+strings.Repeat("x", maxHTTPURIBytes), nil)
	if resp, _ := do(t, req); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("long URI: status %d", resp.StatusCode)
	}
	if n := len(f.Invocations()); n != 0 {
		t.Errorf("%d invocations for refused requests", n)
	}
}

package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strings"
)

// HTTPEvent is what an FC 3.0 HTTP trigger delivers to a built-in runtime
// (fc-platform.md §1d). Header and query values with several occurrences
// arrive joined with commas; header names may arrive in any case (use
// Header). Body is base64 when IsBase64Encoded (use RawBody).
type HTTPEvent struct {
	Version         string             `json:"version"`
	RawPath         string             `json:"rawPath"`
	Body            string             `json:"body"`
	IsBase64Encoded bool               `json:"isBase64Encoded"`
	Headers         map[string]string  `json:"headers"`
	QueryParameters map[string]string  `json:"queryParameters"`
	RequestContext  HTTPRequestContext `json:"requestContext"`
}

// HTTPRequestContext is the event's requestContext.
type HTTPRequestContext struct {
	AccountID    string          `json:"accountId"`
	DomainName   string          `json:"domainName"`
	DomainPrefix string          `json:"domainPrefix"`
	HTTP         HTTPRequestInfo `json:"http"`
	RequestID    string          `json:"requestId"`
	Time         string          `json:"time"`
	TimeEpoch    string          `json:"timeEpoch"` // milliseconds, as a string
	TriggerID    string          `json:"triggerId,omitempty"`
}

// HTTPRequestInfo is requestContext.http.
type HTTPRequestInfo struct {
	Method    string `json:"method"`
	Path      string `json:"path"` // decoded; RawPath is the encoded form
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// HTTPResponse is what a function behind an FC 3.0 HTTP trigger returns.
// Headers is written as {} when nil: FC rejects "headers": null.
type HTTPResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Body            string            `json:"body"`
}

type httpResponsePlain HTTPResponse

// MarshalJSON writes the response, with "headers": {} instead of null.
func (r HTTPResponse) MarshalJSON() ([]byte, error) {
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	return json.Marshal(httpResponsePlain(r))
}

// ParseHTTP decodes an FC 3.0 HTTP event. It must be a JSON object with
// requestContext.http.method; other fields the platform may add are ignored.
func ParseHTTP(data []byte) (HTTPEvent, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return HTTPEvent{}, malformed("event", "an HTTP trigger event is a JSON object")
	}
	var ev HTTPEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return HTTPEvent{}, decodeErr("event", err)
	}
	if ev.RequestContext.HTTP.Method == "" {
		return HTTPEvent{}, malformed("requestContext.http.method", "is required; this is not an FC 3.0 HTTP event")
	}
	return ev, nil
}

// ErrBadBase64 is returned by RawBody for an isBase64Encoded body that is
// not standard base64 in its one canonical form (FC encodes canonically; a
// body whose padding bits are set, e.g. "e31=" for "{}", is refused, so
// one body has one encoding).
var ErrBadBase64 = errors.New("http: body is marked isBase64Encoded but is not valid base64")

// RawBody returns the request body's bytes, decoding base64 when
// IsBase64Encoded.
func (e HTTPEvent) RawBody() ([]byte, error) {
	if !e.IsBase64Encoded {
		return []byte(e.Body), nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(e.Body)
	if err != nil {
		return nil, ErrBadBase64
	}
	return b, nil
}

// Header returns the value of the named header, matching the name in any
// case (FC passes names as the client sent them). An exact match wins;
// among names differing only in case, the first in sorted order is used.
func (e HTTPEvent) Header(name string) string { return lookupFold(e.Headers, name) }

// Query returns the value of the named query parameter (exact name).
func (e HTTPEvent) Query(name string) string { return e.QueryParameters[name] }

// Method returns the request method in upper case.
func (e HTTPEvent) Method() string { return strings.ToUpper(e.RequestContext.HTTP.Method) }

// PathSegments returns the request path split on "/", each segment
// unescaped, without empty segments: "/v1/backups/rm-1/123" →
// ["v1","backups","rm-1","123"]. It prefers RawPath (so an escaped "/"
// inside a segment stays inside it) and falls back to requestContext.http.path.
func (e HTTPEvent) PathSegments() []string {
	raw, escaped := e.RawPath, true
	if raw == "" {
		raw, escaped = e.RequestContext.HTTP.Path, false
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 && escaped {
		raw = raw[:i]
	}
	var out []string
	for _, seg := range strings.Split(raw, "/") {
		if seg == "" {
			continue
		}
		if escaped {
			if u, err := url.PathUnescape(seg); err == nil {
				seg = u
			}
		}
		out = append(out, seg)
	}
	return out
}

func lookupFold(m map[string]string, name string) string {
	if v, ok := m[name]; ok {
		return v
	}
	var keys []string
	for k := range m {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	return m[keys[0]]
}

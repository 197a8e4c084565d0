package fc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FC's documented HTTP trigger limits.
const (
	maxHTTPHeaderBytes = 8 << 10 // all request headers
	maxHTTPURIBytes    = 4 << 10 // path and query
)

// HTTPTrigger is an FC 3.0 HTTP trigger (anonymous auth, synchronous) in
// front of a go1 function: it turns each request into the FC3 HTTP event and
// the function's FC3 response object back into an HTTP response.
type HTTPTrigger struct {
	Function *Function
	// Host is requestContext.domainName; its first label is domainPrefix.
	// Default "<function>.<region>.fcapp.run".
	Host string
}

// ServeHTTP implements http.Handler.
func (h *HTTPTrigger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := h.Function
	if f == nil {
		platformError(w, http.StatusInternalServerError, "InternalError", "no function behind this trigger")
		return
	}
	if n := len(r.URL.RequestURI()); n > maxHTTPURIBytes {
		platformError(w, http.StatusBadRequest, "InvalidArgument",
			fmt.Sprintf("path and query are %d bytes, the limit is %d", n, maxHTTPURIBytes))
		return
	}
	if n := headerBytes(r.Header); n > maxHTTPHeaderBytes {
		platformError(w, http.StatusBadRequest, "InvalidArgument",
			fmt.Sprintf("request headers are %d bytes, the limit is %d", n, maxHTTPHeaderBytes))
		return
	}
	tooLarge := func() {
		platformError(w, http.StatusRequestEntityTooLarge, "EntityTooLarge",
			fmt.Sprintf("request body exceeds %d bytes", maxPayload))
	}
	if r.ContentLength > maxPayload {
		tooLarge()
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		platformError(w, http.StatusBadRequest, "InvalidArgument", "reading request body: "+err.Error())
		return
	}
	if len(body) > maxPayload {
		tooLarge()
		return
	}

	now := f.now()
	reqID := newRequestID(now)
	domain := h.Host
	if domain == "" {
		domain = f.cfg.Name + "." + f.cfg.Region + ".fcapp.run"
	}
	event := buildHTTPEvent(r, body, reqID, now, f.cfg.AccountID, domain)
	w.Header().Set("X-Fc-Request-Id", reqID)

	res, err := f.Invoke(r.Context(), event, InvokeOptions{RequestID: reqID})
	switch {
	case err != nil && r.Context().Err() != nil:
		return // the client is gone
	case err != nil:
		platformError(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
		return
	case res.Failed():
		w.Header().Set("X-Fc-Error-Type", res.ErrorHeader)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write(marshal(errorBody{res.Error.ErrorMessage, res.Error.ErrorType}))
		return
	}
	if err := writeHTTPResponse(w, res.Response); err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write(marshal(errorBody{"function returned an invalid HTTP response: " + err.Error(), "BadResponse"}))
	}
}

// errorBody is the body of a 502 for a failed invocation.
type errorBody struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// buildHTTPEvent converts a request into the FC3 HTTP trigger event.
func buildHTTPEvent(r *http.Request, body []byte, reqID string, now time.Time, accountID, domain string) []byte {
	ev := httpEvent{
		Version:         "v1",
		RawPath:         r.URL.EscapedPath(),
		Headers:         map[string]string{},
		QueryParameters: map[string]string{},
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body = base64.StdEncoding.EncodeToString(body)
		ev.IsBase64Encoded = true
	}
	for k, v := range r.Header {
		if k == "Content-Length" { // absent from every event FC shows
			continue
		}
		ev.Headers[k] = strings.Join(v, ",")
	}
	for k, v := range r.URL.Query() {
		ev.QueryParameters[k] = strings.Join(v, ",")
	}
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	prefix, _, _ := strings.Cut(domain, ".")
	ev.RequestContext = httpContext{
		AccountID:    accountID,
		DomainName:   domain,
		DomainPrefix: prefix,
		HTTP: httpContextHTTP{
			Method:    r.Method,
			Path:      r.URL.Path,
			Protocol:  r.Proto,
			SourceIP:  sourceIP,
			UserAgent: r.UserAgent(),
		},
		RequestID: reqID,
		Time:      now.UTC().Format(timerTimeLayout),
		TimeEpoch: strconv.FormatInt(now.UnixMilli(), 10),
	}
	return marshal(ev)
}

// writeHTTPResponse writes the function's FC3 response object
// {statusCode, headers, isBase64Encoded, body}.
func writeHTTPResponse(w http.ResponseWriter, raw json.RawMessage) error {
	var resp httpResponse
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&resp); err != nil {
		return err
	}
	if resp.StatusCode == nil {
		return errors.New("no statusCode")
	}
	code := *resp.StatusCode
	if code < 100 || code > 599 {
		return fmt.Errorf("statusCode %d out of range", code)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("body is not base64: %w", err)
		}
	}
	for k, v := range resp.Headers {
		if reservedResponseHeader(k) {
			continue
		}
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header()["Content-Type"] = nil // no sniffing: FC sends what the function set
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return nil
}

// reservedResponseHeader reports headers FC does not let a function set.
func reservedResponseHeader(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "connection", "content-length", "date", "keep-alive", "server", "transfer-encoding":
		return true
	}
	return strings.HasPrefix(k, "x-fc-")
}

func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4 // "k: v\r\n"
		}
	}
	return n
}

// platformError writes an error FC itself returns (not the function).
func platformError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(marshal(struct {
		ErrorCode    string `json:"ErrorCode"`
		ErrorMessage string `json:"ErrorMessage"`
	}{code, msg}))
}

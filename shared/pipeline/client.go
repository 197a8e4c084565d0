package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Signer signs one request: it returns the X-Signature-256 value for the
// caller's secret, the unix time, the method, path, query, raw body and
// Idempotency-Key ("" when the request has none) (DESIGN.md §5, signature
// v1).
type Signer func(secret string, ts int64, method, path string, query url.Values, body []byte, idempotencyKey string) string

// Client talks to the webhook function.
type Client struct {
	URL    string // the webhook function's URL (RDSBACKUP_URL)
	Caller string // X-Caller (RDSBACKUP_CALLER)
	Secret string // the caller's secret (RDSBACKUP_SECRET)
	Sign   Signer // DefaultSigner when nil
	HTTP   *http.Client
	Now    func() time.Time
}

// HTTPError is an answer other than the one expected.
type HTTPError struct {
	Status  int
	Code    string // the webhook's error code; "" when the answer is not the webhook's JSON error
	Message string
	Method  string // the request's method and path (RDSBACKUP_URL's path included)
	Path    string
	Body    string // the start of a body that is not the webhook's JSON error (a proxy's page, say)
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Method != "" {
		s += " from " + e.Method + " " + e.Path
	}
	switch {
	case e.Code != "":
		s += fmt.Sprintf(": %s: %s", e.Code, e.Message)
	case e.Body != "":
		s += fmt.Sprintf(" (%q)", e.Body)
	}
	return s
}

// AnswerError is a 2xx answer that is not the webhook's: undecodable, or
// listing no backup (RDSBACKUP_URL names some other server, say).
type AnswerError struct {
	Status int
	Err    error
}

func (e *AnswerError) Error() string { return fmt.Sprintf("HTTP %d: %v", e.Status, e.Err) }
func (e *AnswerError) Unwrap() error { return e.Err }

// Retryable: the same request may succeed later (5xx, 429).
func (e *HTTPError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// Entry is one backup of a 202 answer.
type Entry struct {
	Status         string     `json:"status"`
	DBInstanceId   string     `json:"DBInstanceId"`
	BackupJobId    string     `json:"BackupJobId,omitempty"`
	BackupId       string     `json:"BackupId,omitempty"`
	BackupStatus   string     `json:"BackupStatus,omitempty"`
	CorrelationId  string     `json:"correlationId"`
	IdempotencyKey string     `json:"idempotencyKey,omitempty"`
	AskedAt        *time.Time `json:"askedAt,omitempty"`
	NotBefore      *time.Time `json:"notBefore,omitempty"`
	Error          *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Job is the answer of GET /v1/backups/{DBInstanceId}/{BackupJobId}.
type Job struct {
	DBInstanceId string `json:"DBInstanceId"`
	BackupJobId  string `json:"BackupJobId"`
	BackupStatus string `json:"BackupStatus"`
	Process      string `json:"Process"`
	Terminal     bool   `json:"terminal"`
	BackupId     string `json:"BackupId"`
}

// Ask is what Gate sends: POST /v1/backups with a list of backups.
type Ask struct {
	Instances []string
	Method    string // BackupMethod, optional
	Region    string // RegionId, optional
	Key       string // Idempotency-Key
	AskedAt   time.Time
}

func (a Ask) body() ([]byte, error) {
	type spec struct {
		DBInstanceId string `json:"DBInstanceId"`
		BackupMethod string `json:"BackupMethod,omitempty"`
		RegionId     string `json:"RegionId,omitempty"`
	}
	b := struct {
		Backups []spec `json:"Backups"`
		AskedAt string `json:"AskedAt"`
	}{AskedAt: a.AskedAt.UTC().Format(time.RFC3339)}
	for _, id := range a.Instances {
		b.Backups = append(b.Backups, spec{DBInstanceId: id, BackupMethod: a.Method, RegionId: a.Region})
	}
	return json.Marshal(b)
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// do sends one signed request and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, header map[string]string, out any) (int, error) {
	u := strings.TrimRight(c.URL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := c.now().Unix()
	sign := c.Sign
	if sign == nil {
		sign = DefaultSigner
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Caller", c.Caller)
	req.Header.Set("X-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Signature-256", sign(c.Secret, ts, method, path, query, body, req.Header.Get("Idempotency-Key")))
	res, err := c.httpClient().Do(req)
	if err != nil {
		var re *RedirectError
		if errors.As(err, &re) {
			return re.Status, &HTTPError{Status: re.Status, Code: CodeRedirectRefused, Message: re.Error(), Method: method, Path: req.URL.Path}
		}
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode/100 != 2 {
		he := &HTTPError{Status: res.StatusCode, Method: method, Path: req.URL.Path}
		var eb struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &eb) == nil {
			he.Code, he.Message = eb.Error.Code, eb.Error.Message
		}
		if he.Code == "" {
			he.Body = snippet(b)
		}
		return res.StatusCode, he
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, &AnswerError{Status: res.StatusCode, Err: fmt.Errorf("undecodable answer: %w", err)}
		}
	}
	return res.StatusCode, nil
}

// snippet is the first line of a body, at most 120 bytes, for a message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// CodeRedirectRefused is the HTTPError code of a redirect the client did
// not follow (RedirectError).
const CodeRedirectRefused = "RedirectRefused"

// RedirectError: the webhook's URL answered with a redirect to another host
// (or from https to http). The client does not follow it: the signed
// request (X-Caller, X-Timestamp, X-Signature-256) goes only to
// RDSBACKUP_URL's host, never where a redirect points (Go's default client
// would resend every header there).
type RedirectError struct {
	Status   int    // the redirect's HTTP status
	Location string // the target's scheme and host
	Host     string // RDSBACKUP_URL's scheme and host
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("redirect to %s refused: the signed request was not sent there (only to RDSBACKUP_URL's %s; set RDSBACKUP_URL to the webhook function's own URL)", e.Location, e.Host)
}

// httpClient is c.HTTP (or a default one) whose redirects stay on
// RDSBACKUP_URL's host: a redirect elsewhere is a RedirectError, its
// signing headers removed before anything could send them.
func (c *Client) httpClient() *http.Client {
	hc := http.Client{Timeout: 30 * time.Second}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	base, _ := url.Parse(c.URL)
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if base == nil || !strings.EqualFold(req.URL.Host, base.Host) || (base.Scheme == "https" && req.URL.Scheme != "https") {
			for _, h := range signingHeaders {
				req.Header.Del(h)
			}
			e := &RedirectError{Location: req.URL.Scheme + "://" + req.URL.Host, Host: c.URL}
			if base != nil {
				e.Host = base.Scheme + "://" + base.Host
			}
			if req.Response != nil {
				e.Status = req.Response.StatusCode
			}
			return e
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &hc
}

// signingHeaders are the headers that authenticate a request as the caller.
var signingHeaders = []string{"X-Caller", "X-Timestamp", "X-Signature-256", "Idempotency-Key"}

// Post sends the ask once and returns its entries.
func (c *Client) Post(ctx context.Context, a Ask) ([]Entry, error) {
	body, err := a.body()
	if err != nil {
		return nil, err
	}
	var ans struct {
		Requests []Entry `json:"requests"`
	}
	hdr := map[string]string{}
	if a.Key != "" {
		hdr["Idempotency-Key"] = a.Key
	}
	status, err := c.do(ctx, http.MethodPost, "/v1/backups", nil, body, hdr, &ans)
	if err != nil {
		return nil, err
	}
	if len(ans.Requests) == 0 {
		return nil, &AnswerError{Status: status, Err: errors.New("the answer lists no backup")}
	}
	return ans.Requests, nil
}

// Status reads one job.
func (c *Client) Status(ctx context.Context, region, instance, jobID string) (Job, error) {
	var q url.Values
	if region != "" {
		q = url.Values{"RegionId": {region}}
	}
	var j Job
	_, err := c.do(ctx, http.MethodGet, "/v1/backups/"+url.PathEscape(instance)+"/"+url.PathEscape(jobID), q, nil, nil, &j)
	return j, err
}

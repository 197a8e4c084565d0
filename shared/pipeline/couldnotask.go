package pipeline

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CouldNotAskError is why Gate could not ask at all (VerdictCouldNotAsk):
// no try of the ask reached the webhook function, and retrying would not
// change that (a wrong URL, scheme, certificate or secret), or it did not
// change within GateOptions.ConnectTimeout (an unreachable host, a 5xx).
// Reason says what went wrong and what to check.
type CouldNotAskError struct {
	Status int    // the HTTP status when there was an answer
	Reason string // e.g. "401 from the webhook: check RDSBACKUP_CALLER and RDSBACKUP_SECRET, …"
	Err    error  // the last try's error
}

func (e *CouldNotAskError) Error() string { return "could not ask: " + e.Reason }
func (e *CouldNotAskError) Unwrap() error { return e.Err }

// askFailure sorts the error of a try made before any ask was accepted.
type askFailure int

const (
	answered   askFailure = iota // the webhook answered (400, 409, 429 …): not a "could not ask"
	definitive                   // asking again cannot help: could not ask, now
	persisting                   // may pass: asked again until the connect timeout
)

// classify sorts err, the error of a POST made before any ask was
// accepted, and says what to check. For a persisting failure the reason is
// written for when it persisted for elapsed.
func classify(err error, rawURL string, elapsed time.Duration) (askFailure, string) {
	host := rawURL
	if u, perr := url.Parse(rawURL); perr == nil && u.Host != "" {
		host = u.Host
	}
	// For: how long it persisted ("" for a single try, CouldNotReach).
	forD, withinD := "", ""
	if elapsed > 0 {
		forD, withinD = " for "+elapsed.Round(time.Second).String(), " within "+elapsed.Round(time.Second).String()
	}
	var he *HTTPError
	if errors.As(err, &he) {
		what := he.Method + " " + he.Path
		detail := ""
		if he.Code != "" {
			detail = fmt.Sprintf(" (%s: %s)", he.Code, he.Message)
		} else if he.Body != "" {
			detail = fmt.Sprintf(" (%q)", he.Body)
		}
		switch {
		case he.Code == CodeRedirectRefused:
			return definitive, he.Message
		case he.Status == http.StatusUnauthorized:
			return definitive, fmt.Sprintf("401 from the webhook%s: check RDSBACKUP_CALLER and RDSBACKUP_SECRET (and this machine's clock), and that the route exists", detail)
		case he.Status == http.StatusForbidden:
			return definitive, fmt.Sprintf("403 from the webhook%s: check that RDSBACKUP_CALLER's route allows these instances", detail)
		case (he.Status == http.StatusNotFound && (he.Code == "" || he.Code == "NotFound")) || he.Status == http.StatusMethodNotAllowed:
			return definitive, fmt.Sprintf("%d %s from %s%s: check RDSBACKUP_URL's path (the webhook function's URL, without /v1/...)", he.Status, what, host, detail)
		case he.Status >= 500:
			return persisting, fmt.Sprintf("%d%s (%s%s): the webhook function may not start; check its logs and configuration", he.Status, strings.Replace(forD, " for", " persisted for", 1), what, detail)
		case he.Status == http.StatusBadRequest && strings.Contains(he.Body, "HTTPS server"):
			return definitive, fmt.Sprintf("%s speaks HTTPS, not HTTP%s: check RDSBACKUP_URL's scheme", host, detail)
		case he.Code == "" && he.Status != http.StatusTooManyRequests:
			return definitive, fmt.Sprintf("%d from %s is not the webhook's answer%s: check RDSBACKUP_URL", he.Status, host, detail)
		}
		return answered, ""
	}
	var ae *AnswerError
	if errors.As(err, &ae) {
		return persisting, fmt.Sprintf("the answers of %s were not the webhook's%s (%v): check RDSBACKUP_URL", host, forD, ae)
	}
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Op == "parse" {
			return definitive, fmt.Sprintf("RDSBACKUP_URL is not a URL (%v)", ue.Err)
		}
		inner = ue.Err
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return definitive, fmt.Sprintf("%s does not resolve (%v): check RDSBACKUP_URL's host", host, inner)
		}
		return persisting, fmt.Sprintf("no DNS answer for %s%s (%v): check RDSBACKUP_URL's host and this machine's DNS", host, forD, inner)
	}
	if isTLS(err) {
		return definitive, fmt.Sprintf("TLS handshake with %s failed (%v): check RDSBACKUP_URL's scheme and the certificate", host, inner)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return persisting, fmt.Sprintf("no answer from %s%s: check RDSBACKUP_URL's host and port, and that this network reaches it", host, withinD)
	}
	return persisting, fmt.Sprintf("no connection to %s%s (%v): check RDSBACKUP_URL's host and port, and that this network reaches it", host, forD, inner)
}

// isTLS: the TLS handshake failed (a certificate, an alert, or a scheme
// that does not match the server's).
func isTLS(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		rh  tls.RecordHeaderError
		al  tls.AlertError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		ech *tls.ECHRejectionError
	)
	if errors.As(err, &cv) || errors.As(err, &rh) || errors.As(err, &al) || errors.As(err, &ua) ||
		errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &ech) {
		return true
	}
	msg := err.Error()
	// net/http's words for an https:// URL answered in plain HTTP, and
	// crypto/tls's prefix for its other failures.
	return strings.Contains(msg, "server gave HTTP response to HTTPS client") || strings.Contains(msg, "tls: ")
}

// CouldNotReach says whether err, the error of one request to the webhook
// (a status read, say), means the webhook could not be reached or would not
// take the call, and what to check; nil when the webhook answered.
func CouldNotReach(err error, rawURL string) *CouldNotAskError {
	if err == nil {
		return nil
	}
	kind, reason := classify(err, rawURL, 0)
	if kind == answered {
		return nil
	}
	e := &CouldNotAskError{Reason: reason, Err: err}
	var he *HTTPError
	if errors.As(err, &he) {
		e.Status = he.Status
	}
	return e
}

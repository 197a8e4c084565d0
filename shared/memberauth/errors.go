package memberauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// Error is why no credential could be had for one account: STS's answer
// (Code, Message, RequestID, HTTPStatus), or a transport failure (Code
// empty), or the broker's own refusal before any call (Code
// CodeInvalidInput). Account and Role say whose; Attempts how many
// AssumeRole calls were made. The code is data, so a caller ends that
// account's asks failed with it. Neither Error nor its Unwrap chain holds a
// key secret or a security token.
type Error struct {
	Account, Role string
	Code          string
	Message       string
	RequestID     string
	HTTPStatus    int
	Attempts      int
	// Stop is how the retry loop ended (retry.StopTerminal,
	// retry.StopAttemptsSpent, ...); "" for a refusal before any call.
	Stop retry.Stop
	// Remembered is true when the error is a terminal answer given earlier
	// and kept for FailureTTL: no call was made for this Get.
	Remembered bool
	err        error // the scrubbed cause of a transport failure
}

// CodeInvalidInput is the Code of a request the broker refused before any
// call: an account id, role name, ExternalId or session name outside its
// grammar.
const CodeInvalidInput = "InvalidInput"

// CodeCallerKey is the Code when the functions' own key could not be had
// (Config.Caller failed or gave an incomplete key): no call was made.
const CodeCallerKey = "CallerKeyUnavailable"

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("memberauth: account " + e.Account + " role " + e.Role + ": ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString("no answer")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id " + e.RequestID + "]")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Remembered {
		b.WriteString(" (remembered)")
	}
	return b.String()
}

// ErrorCode is STS's code (package retry reads it).
func (e *Error) ErrorCode() string { return e.Code }

// HTTPStatusCode is the answer's HTTP status, 0 when there was none.
func (e *Error) HTTPStatusCode() int { return e.HTTPStatus }

// Unwrap returns the scrubbed transport error, if any.
func (e *Error) Unwrap() error { return e.err }

// Terminal reports whether trying again for this account cannot help (a
// code of TerminalCodes, an unknown 4xx, or a refusal before any call).
func (e *Error) Terminal() bool { return e.class() == retry.Terminal }

// CallerFault reports whether the error is about the functions' own key
// rather than the member account (CallerKeyCodes, CodeCallerKey): every
// account would fail alike.
func (e *Error) CallerFault() bool {
	return e.Code == CodeCallerKey || slices.Contains(CallerKeyCodes, e.Code)
}

// RetryableError answers package retry's question with this package's
// tables, so retry.Classify (whose tables are RDS's) classifies an *Error
// as Classify does: a transport failure (no code, no status) is
// retryable, not a 4xx.
func (e *Error) RetryableError() bool { return e.class() == retry.Transient }

func (e *Error) class() retry.Class {
	switch {
	case e.Code == CodeInvalidInput, e.Code == CodeCallerKey:
		return retry.Terminal
	case e.Code == "" && e.HTTPStatus == 0:
		return retry.Transient // nothing reached a decision
	}
	if cl, ok := Classifier.ByCode(e.Code); ok {
		return cl
	}
	if e.HTTPStatus == 429 || e.HTTPStatus >= 500 {
		return retry.Transient
	}
	return retry.Terminal
}

// Classify is the class of an error Get returns: an *Error by the STS
// tables below (an unknown code by its status: 429 and 5xx Transient,
// other 4xx Terminal; no code and no status Transient), anything else
// (the caller's context ending) by retry.Classify.
func Classify(err error) retry.Class {
	var e *Error
	if errors.As(err, &e) {
		return e.class()
	}
	return retry.Classify(err)
}

// The STS codes by class: exported data, each with its reason. Codes and
// statuses are those of the AssumeRole API page's error table (STS
// 2015-04-01), the POP gateway's signature and key codes, and STS's flow
// control (Throttling.Api, 100 calls a second per calling account).
var (
	ThrottleCodes = map[string]string{
		"Throttling.Api":  "400: over AssumeRole's 100 calls a second per calling account",
		"Throttling.User": "400: over the calling account's rate",
		"Throttling":      "400: request throttled",
	}
	TransientCodes = map[string]string{
		"InternalError":      "500: STS Server Internal Error happened",
		"ServiceUnavailable": "503: temporary failure of the server",
	}
	TerminalCodes = map[string]string{
		"NoPermission":                               "403: the role does not trust the caller, the ExternalId is missing or wrong, or the caller may not call sts:AssumeRole",
		"EntityNotExist.Role":                        "404: no such role in the member account",
		"InvalidParameter":                           "400: a parameter (e.g. ExternalId) is malformed",
		"InvalidParameter.RoleArn":                   "400: RoleArn malformed",
		"InvalidParameter.RoleSessionName":           "400: RoleSessionName malformed",
		"InvalidParameter.DurationSeconds":           "400: DurationSeconds outside 900 to the role's MaxSessionDuration",
		"InvalidParameter.PolicyGrammar":             "400: session policy malformed",
		"InvalidParameter.PolicySize":                "400: session policy too large",
		"InvalidAccessKeyId.NotFound":                "404: the functions' own key is unknown",
		"InvalidAccessKeyId.Inactive":                "400: the functions' own key is disabled",
		"SignatureDoesNotMatch":                      "400: the functions' own secret is wrong",
		"InvalidSecurityToken.Expired":               "400: the functions' own STS token has expired",
		"InvalidSecurityToken.Malformed":             "400: the functions' own STS token is malformed",
		"InvalidSecurityToken.MismatchWithAccessKey": "400: the functions' own STS token is not the key's",
		"MissingSecurityToken":                       "400: the functions' own STS key came without its token",
	}
	// CallerKeyCodes are the codes of TerminalCodes that are about the
	// functions' own key (the POP gateway's signature and key checks), not
	// the member account: every account would fail alike.
	CallerKeyCodes = []string{
		"InvalidAccessKeyId.Inactive", "InvalidAccessKeyId.NotFound",
		"InvalidSecurityToken.Expired", "InvalidSecurityToken.Malformed", "InvalidSecurityToken.MismatchWithAccessKey",
		"MissingSecurityToken", "SignatureDoesNotMatch",
	}
)

// Classifier holds the STS tables (Classify looks codes up in it).
var Classifier = retry.Classifier{
	Throttle:  ThrottleCodes,
	Transient: TransientCodes,
	Terminal:  TerminalCodes,
}

// IsTerminal reports whether err, as Get returns it, ends the account's
// asks (as opposed to deferring them): a terminal *Error.
func IsTerminal(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Terminal()
}

// fromSDKError keeps STS's code, its message without the SDK's decoration,
// the request id and the status.
func fromSDKError(se *tea.SDKError) *Error {
	e := &Error{
		Code:       tea.StringValue(se.Code),
		Message:    tea.StringValue(se.Message),
		HTTPStatus: tea.IntValue(se.StatusCode),
	}
	var data map[string]any
	if raw := tea.StringValue(se.Data); raw != "" && json.Unmarshal([]byte(raw), &data) == nil {
		if s, ok := data["RequestId"].(string); ok {
			e.RequestID = s
		}
		if s, ok := data["Message"].(string); ok && s != "" {
			e.Message = s
		}
		if e.HTTPStatus == 0 {
			if f, ok := data["statusCode"].(float64); ok {
				e.HTTPStatus = int(f)
			}
		}
	}
	return e
}

// scrubbed is a transport error with the request URL left out: with the
// SDK's default (v2 RPC) signature the URL's query carries the caller's
// AccessKeyId, Signature and SecurityToken, and *url.Error prints it.
type scrubbed struct{ msg string }

func (s scrubbed) Error() string { return s.msg }

// scrub turns a transport error into one that names no URL, then removes
// every occurrence of the given secrets (defence in depth).
func scrub(err error, secrets ...string) error {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Op + ": " + ue.Err.Error()
	}
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
			msg = strings.ReplaceAll(msg, url.QueryEscape(s), "[redacted]")
		}
	}
	return scrubbed{msg: msg}
}

package rdsclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/alibabacloud-go/tea/tea"
)

// APIError is an error answer of the RDS API, taken from the SDK's
// *tea.SDKError: the error code, the message without the SDK's decoration,
// the RDS request id (from the error body) and the HTTP status. It
// classifies through ErrorCode and HTTPStatusCode (package retry).
type APIError struct {
	Action     string // the operation, e.g. CreateBackup
	Code       string
	Message    string
	RequestID  string
	HTTPStatus int
	Err        error // the SDK's error, when there is one
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("rdsclient: ")
	if e.Action != "" {
		b.WriteString(e.Action + ": ")
	}
	b.WriteString(e.Code)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id " + e.RequestID + "]")
	}
	return b.String()
}

// ErrorCode returns the API's error code.
func (e *APIError) ErrorCode() string { return e.Code }

// HTTPStatusCode returns the HTTP status of the answer (0 when unknown).
func (e *APIError) HTTPStatusCode() int { return e.HTTPStatus }

// Unwrap returns the SDK's error.
func (e *APIError) Unwrap() error { return e.Err }

// CredentialsError says that no credentials could be had. It is never
// retryable: another try in the same invocation cannot conjure them.
type CredentialsError struct {
	Err error
}

// credentialsHelp names every source the default chain reads, in order.
const credentialsHelp = "set Config.AccessKeyID/AccessKeySecret (and SecurityToken for STS), " +
	"or for the default credential chain one of: ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET " +
	"(+ ALIBABA_CLOUD_SECURITY_TOKEN); ALIBABA_CLOUD_ROLE_ARN + ALIBABA_CLOUD_OIDC_PROVIDER_ARN + ALIBABA_CLOUD_OIDC_TOKEN_FILE; " +
	"~/.aliyun/config.json; ~/.alibabacloud/credentials or ALIBABA_CLOUD_CREDENTIALS_FILE; ALIBABA_CLOUD_ECS_METADATA"

func (e *CredentialsError) Error() string {
	msg := "rdsclient: no Alibaba Cloud credentials"
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg + ": " + credentialsHelp
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// RetryableError reports false: see package retry.
func (e *CredentialsError) RetryableError() bool { return false }

// ConfigError is a configuration mistake found before any request was sent
// (no region, a malformed job id...). Never retryable.
type ConfigError struct {
	Msg string
	Err error
}

func (e *ConfigError) Error() string {
	if e.Err != nil {
		return "rdsclient: " + e.Msg + ": " + e.Err.Error()
	}
	return "rdsclient: " + e.Msg
}

func (e *ConfigError) Unwrap() error { return e.Err }

// RetryableError reports false: see package retry.
func (e *ConfigError) RetryableError() bool { return false }

// convertError turns what the SDK returned into this package's errors:
// *tea.SDKError becomes *APIError; credential and config errors keep their
// types; anything else (network errors, timeouts, bodies the SDK could not
// decode) is wrapped with the action and instance, so package retry
// classifies it as transient.
func convertError(action, instance string, err error) error {
	if err == nil {
		return nil
	}
	var ce *CredentialsError
	var cfe *ConfigError
	if errors.As(err, &ce) || errors.As(err, &cfe) {
		return err
	}
	var se *tea.SDKError
	if errors.As(err, &se) {
		return fromSDKError(action, se)
	}
	if instance != "" {
		return fmt.Errorf("rdsclient: %s %s: %w", action, instance, err)
	}
	return fmt.Errorf("rdsclient: %s: %w", action, err)
}

func fromSDKError(action string, se *tea.SDKError) *APIError {
	e := &APIError{
		Action:     action,
		Code:       tea.StringValue(se.Code),
		Message:    tea.StringValue(se.Message),
		HTTPStatus: tea.IntValue(se.StatusCode),
		Err:        se,
	}
	var data map[string]any
	if raw := tea.StringValue(se.Data); raw != "" && json.Unmarshal([]byte(raw), &data) == nil {
		if s, ok := data["RequestId"].(string); ok {
			e.RequestID = s
		}
		if s, ok := data["Message"].(string); ok && s != "" {
			e.Message = s // the server's message, without the SDK's "code: 404, ... request id: ..." decoration
		} else if s, ok := data["message"].(string); ok && s != "" {
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

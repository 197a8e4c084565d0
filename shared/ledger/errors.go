package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// The code tables: Tablestore error codes ("Tablestore: Error codes",
// alibabacloud.com/help/en/tablestore/developer-reference/error-codes, and
// the SDK's error.go and api.go retry rules), each with why it is in its
// class. They are data, in the form of shared/retry's tables: Classifier
// holds them for retry.Classifier users.

// ThrottleCodes are answers that say the instance or table is over its
// capacity or rate. Retried, and a caller with a shared gate may slow every
// worker down on them.
var ThrottleCodes = map[string]string{
	"OTSServerBusy":            "503: the server is busy (the SDK retries it for every action)",
	"OTSNotEnoughCapacityUnit": "403: the table's reserved read or write capacity is used up (the SDK retries it for every action)",
	"OTSQuotaExhausted":        "403: too frequent operations (the SDK retries the message \"Too frequent table operations.\"); the table-count quota only arises in CreateTable, which the functions never call",
}

// TransientCodes are service-side failures that another try may not hit.
var TransientCodes = map[string]string{
	"OTSServerUnavailable":    "503: the server is unavailable (also what the SDK reports for a 5xx without a protobuf body); the SDK retries it for reads only",
	"OTSTimeout":              "503: the operation timed out on the server: a write may or may not have happened (the SDK retries it for reads only)",
	"OTSPartitionUnavailable": "503: the partition is being moved or split (the SDK retries it for every action)",
	"OTSRowOperationConflict": "409: another operation on the same row ran at the same time (the SDK retries it for every action)",
	"OTSInternalServerError":  "500: internal error (the SDK retries it for reads only)",
	"OTSStorageServerBusy":    "503: the storage server is busy (the SDK retries it for every action)",
	"OTSTableNotReady":        "404: the table was just created and is not loaded yet (the SDK retries it for every action)",
}

// TerminalCodes are answers another try cannot change: the deployment (the
// table, the keys, the instance) or the ledger's own request is wrong.
var TerminalCodes = map[string]string{
	"OTSObjectNotExist":        "404: the ledger table does not exist: it is created by the deploy tooling, never at run time",
	"OTSAuthFailed":            "403: the key, token, signature or instance name is refused",
	"OTSNoPermissionAccess":    "403: the RAM policy does not allow the operation on the table",
	"OTSParameterInvalid":      "400: the request is not valid (a bug of the ledger, or a table with another schema)",
	"OTSInvalidPK":             "400: the primary key does not match the table's schema (a table with another schema)",
	"OTSOutOfColumnCountLimit": "400: too many columns in the row",
	"OTSOutOfRowSizeLimit":     "400: the row is too large",
	"OTSRequestBodyTooLarge":   "413: the request is too large",
	"OTSMethodNotAllowed":      "405: not a POST",
	"OTSObjectAlreadyExist":    "409: the table exists already (CreateTable only)",
	"OTSConditionCheckFail":    "403: the row's condition does not hold; the ledger answers it itself (lost claim, lost lease, another outcome) and never returns it raw",
}

// Classifier is a shared/retry Classifier with the Tablestore tables. Errors
// the ledger returns also say RetryableError(), which retry.Classify checks
// before any table, so any Classifier classifies them alike; this one also
// classifies raw *tablestore.OtsError codes through ByCode.
var Classifier = retry.Classifier{
	Throttle:  ThrottleCodes,
	Transient: TransientCodes,
	Terminal:  TerminalCodes,
}

// codeConditionCheckFail is the answer to a write whose condition does not
// hold.
const codeConditionCheckFail = "OTSConditionCheckFail"

// Error is a failed Tablestore call: which operation on which table, the
// service's code and status (empty and 0 for a network error), and whether
// another try may succeed. It implements the behaviours shared/retry's
// Classify looks for (ErrorCode, HTTPStatusCode, RetryableError,
// CanceledError).
type Error struct {
	Op        string // Tablestore action: PutRow, UpdateRow, GetRow, CreateTable
	Table     string
	Code      string // the service's code, e.g. OTSServerBusy; "" for a network error
	Status    int    // HTTP status; 0 for a network error
	RequestID string
	Retryable bool
	Canceled  bool // the caller's context ended first; the call's effect is unknown
	Err       error
}

func (e *Error) Error() string {
	switch {
	case e.Code == "OTSObjectNotExist":
		return fmt.Sprintf("ledger table %s does not exist: create it with the deploy tooling (%s: %s)", e.Table, e.Op, e.Err)
	case e.Canceled:
		return fmt.Sprintf("ledger %s on table %s: %v (the call's effect is unknown)", e.Op, e.Table, e.Err)
	case e.Code == "OTSAuthFailed" || e.Code == "OTSNoPermissionAccess":
		return fmt.Sprintf("ledger %s on table %s refused: check the function's Tablestore key, instance and RAM policy: %v", e.Op, e.Table, e.Err)
	}
	return fmt.Sprintf("ledger %s on table %s: %v", e.Op, e.Table, e.Err)
}

func (e *Error) Unwrap() error        { return e.Err }
func (e *Error) ErrorCode() string    { return e.Code }
func (e *Error) HTTPStatusCode() int  { return e.Status }
func (e *Error) RetryableError() bool { return e.Retryable }
func (e *Error) CanceledError() bool  { return e.Canceled }

// wrap turns what the SDK returned for op into an *Error, classified.
func wrap(op, table string, err error) *Error {
	e := &Error{Op: op, Table: table, Err: err}
	var oe *tablestore.OtsError
	if errors.As(err, &oe) {
		e.Code, e.Status, e.RequestID = oe.Code, oe.HttpStatusCode, oe.RequestId
	}
	e.Canceled = isCanceled(err)
	e.Retryable = !e.Canceled && retryable(err)
	return e
}

// IsRetryable reports whether another try of the failed ledger call may
// succeed, checked in this order: nil → false; the caller's context ended
// (context.Canceled or context.DeadlineExceeded themselves in the chain) →
// false, whatever else the error says; an error saying RetryableError()
// (every error the ledger returns) → what it says; a raw
// *tablestore.OtsError → its code in the tables (unknown: 5xx and 429
// retryable, else not); a network error, a timeout, a connection closed
// without an answer → true; anything else → false.
func IsRetryable(err error) bool {
	if err == nil || isCanceled(err) {
		return false
	}
	var re interface{ RetryableError() bool }
	if errors.As(err, &re) {
		return re.RetryableError()
	}
	return retryable(err)
}

// retryable classifies an error the SDK returned.
func retryable(err error) bool {
	var oe *tablestore.OtsError
	if errors.As(err, &oe) {
		switch {
		case has(ThrottleCodes, oe.Code), has(TransientCodes, oe.Code):
			return true
		case has(TerminalCodes, oe.Code):
			return false
		}
		return oe.HttpStatusCode == 429 || oe.HttpStatusCode >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // timeouts, refused or reset connections, DNS failures
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "[tablestore]"):
		// The SDK's own checks of the request (error.go): a bug, not weather.
		return false
	case strings.Contains(msg, "EOF"), strings.Contains(msg, "connection reset"),
		strings.Contains(msg, "connection refused"), strings.Contains(msg, "server closed idle connection"),
		strings.HasPrefix(msg, "decode resp failed"):
		// The SDK flattens some transport errors into strings (api.go
		// getNextPause matches the same words).
		return true
	}
	return false
}

// isCanceled walks the chain for the context errors themselves (as
// shared/retry does): an HTTP client timeout matches
// context.DeadlineExceeded through errors.Is but is not the caller's
// context, and stays retryable.
func isCanceled(err error) bool {
	var ce interface{ CanceledError() bool }
	if errors.As(err, &ce) && ce.CanceledError() {
		return true
	}
	for e := err; e != nil; {
		if e == context.Canceled || e == context.DeadlineExceeded { //nolint:errorlint // identity on purpose
			return true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if isCanceled(x) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

func isConditionFail(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == codeConditionCheckFail
}

func has(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// The ledger's own answers. Each is terminal (RetryableError false) except
// ErrContended.
var (
	// ErrConflict: the key was claimed with another request digest: the
	// same key reused for another body (the HTTP layer answers 409).
	ErrConflict = errors.New("ledger: idempotency key reused with another request")
	// ErrNotFound: no live row for the key (never claimed, or expired by
	// the table's TTL).
	ErrNotFound = errors.New("ledger: no row for the key")
	// ErrLeaseLost: the caller no longer holds the row's lease (another
	// delivery took it over).
	ErrLeaseLost = errors.New("ledger: lease lost")
	// ErrJobConflict: the row names another job already.
	ErrJobConflict = errors.New("ledger: the ask has another job")
	// ErrOutcomeConflict: the row has another terminal outcome id already
	// (one ask, one terminal id).
	ErrOutcomeConflict = errors.New("ledger: the ask has another terminal outcome")
	// ErrContended: the row changed under every try of Claim (it expired
	// or was replaced between the calls). Retryable.
	ErrContended = errors.New("ledger: the row kept changing during the claim")
	// ErrInvalid: an argument breaks a rule; nothing was called.
	ErrInvalid = errors.New("ledger: invalid argument")
)

// ConflictError is ErrConflict with what it is about. The digests are
// hashes of request bodies, nothing secret.
type ConflictError struct {
	Scope, Key          string
	Recorded, Requested string // the row's digest and the ask's
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("ledger: key %q of scope %q was first asked with another request (recorded digest %s, this one %s)",
		e.Key, e.Scope, e.Recorded, e.Requested)
}
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
func (e *ConflictError) RetryableError() bool { return false }

// StateError is ErrNotFound, ErrLeaseLost, ErrJobConflict or
// ErrOutcomeConflict with the row's values and the caller's.
type StateError struct {
	Kind       error // one of the sentinels above
	Op         string
	Scope, Key string
	Recorded   string // the row's owner, job or outcome id ("" when not found)
	Requested  string // the caller's
}

func (e *StateError) Error() string {
	switch e.Kind {
	case ErrNotFound:
		return fmt.Sprintf("ledger %s: no row for key %q of scope %q (never claimed, or expired by the table's TTL)", e.Op, e.Key, e.Scope)
	case ErrLeaseLost:
		return fmt.Sprintf("ledger %s: key %q of scope %q is leased to %q, not %q", e.Op, e.Key, e.Scope, e.Recorded, e.Requested)
	case ErrJobConflict:
		return fmt.Sprintf("ledger %s: key %q of scope %q has job %q already, refused job %q", e.Op, e.Key, e.Scope, e.Recorded, e.Requested)
	case ErrOutcomeConflict:
		return fmt.Sprintf("ledger %s: key %q of scope %q has terminal outcome %q already, refused %q (one ask, one terminal id)", e.Op, e.Key, e.Scope, e.Recorded, e.Requested)
	}
	return fmt.Sprintf("ledger %s: key %q of scope %q: %v", e.Op, e.Key, e.Scope, e.Kind)
}
func (e *StateError) Is(target error) bool { return target == e.Kind }
func (e *StateError) RetryableError() bool { return false }

// ValidationError is ErrInvalid: the field and the rule it breaks. The
// value is not repeated (it is attacker-influenced).
type ValidationError struct {
	Field, Rule string
}

func (e *ValidationError) Error() string        { return fmt.Sprintf("ledger: %s: %s", e.Field, e.Rule) }
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }
func (e *ValidationError) RetryableError() bool { return false }

type contendedError struct{ scope, key string }

func (e *contendedError) Error() string {
	return fmt.Sprintf("ledger Claim: the row of key %q of scope %q kept changing; try again", e.key, e.scope)
}
func (e *contendedError) Is(target error) bool { return target == ErrContended }
func (e *contendedError) RetryableError() bool { return true }

// errBatchShape: a BatchWriteRow answer without one result per row.
var errBatchShape = errors.New("BatchWriteRow answered without one result per row")

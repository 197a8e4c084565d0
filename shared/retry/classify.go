package retry

import (
	"context"
	"errors"
)

// Class is what a failed call calls for. The string values are the ones
// outcomes record in backup.Attempt.Class.
type Class string

const (
	// Transient: try again soon (5xx, throttling, network errors, timeouts,
	// undecodable answers), with exponential backoff and full jitter.
	Transient Class = "transient"
	// StateWait: the instance is busy (not Running, another backup running);
	// try again later, with the longer StateWait backoff.
	StateWait Class = "state-wait"
	// Terminal: trying again cannot help (bad parameter, not found, quota,
	// permission, locked, read-only, engine or type not supported).
	Terminal Class = "terminal"
	// Canceled: the caller's context ended; never retried in this
	// invocation (the caller decides whether to park the work).
	Canceled Class = "canceled"
)

// Retryable reports whether the class may be retried.
func (c Class) Retryable() bool { return c == Transient || c == StateWait }

// The behaviours Classify looks for, through errors.As, so wrapped errors
// classify like the error they wrap (rdsclient.APIError has the first two).
type (
	codeError      interface{ ErrorCode() string }
	statusError    interface{ HTTPStatusCode() int }
	retryableError interface{ RetryableError() bool }
	canceledError  interface{ CanceledError() bool }
)

// Classify says what err calls for, with the default tables. Checked in this
// order, the first answer wins:
//
//  1. nil → "" (no class);
//  2. context.Canceled or context.DeadlineExceeded themselves in the chain
//     (or CanceledError() true) → Canceled. An HTTP client timeout is not the
//     caller's context: it matches context.DeadlineExceeded through errors.Is
//     but not by identity, and stays Transient;
//  3. RetryableError() bool → Transient or Terminal, as the error says;
//  4. ErrorCode() string → the code tables (ThrottleCodes and TransientCodes
//     → Transient, StateWaitCodes → StateWait, TerminalCodes → Terminal);
//     an unknown code goes by HTTPStatusCode(): 429 and 5xx → Transient,
//     anything else → Terminal;
//  5. HTTPStatusCode() alone → the same status rule;
//  6. anything else (connection refused or reset, timeout, a body the SDK
//     could not decode) → Transient.
func Classify(err error) Class { return Default.Classify(err) }

// IsThrottle reports whether err is a throttling answer (ThrottleCodes or
// HTTP 429) with the default tables.
func IsThrottle(err error) bool { return Default.IsThrottle(err) }

// Classifier holds the code tables. The zero value knows no codes and
// classifies by HTTP status only; Default has the RDS tables.
type Classifier struct {
	Transient map[string]string
	Throttle  map[string]string
	StateWait map[string]string
	Terminal  map[string]string
}

// Default classifies with the exported RDS tables.
var Default = Classifier{
	Transient: TransientCodes,
	Throttle:  ThrottleCodes,
	StateWait: StateWaitCodes,
	Terminal:  TerminalCodes,
}

// Classify is the package-level Classify with c's tables.
func (c Classifier) Classify(err error) Class {
	if err == nil {
		return ""
	}
	if isCanceled(err) {
		return Canceled
	}
	var re retryableError
	if errors.As(err, &re) {
		if re.RetryableError() {
			return Transient
		}
		return Terminal
	}
	status := 0
	var se statusError
	if errors.As(err, &se) {
		status = se.HTTPStatusCode()
	}
	var ce codeError
	if errors.As(err, &ce) {
		if cl, ok := c.ByCode(ce.ErrorCode()); ok {
			return cl
		}
		return byStatus(status)
	}
	if status != 0 {
		return byStatus(status)
	}
	return Transient
}

// ByCode looks a code up in the tables; ok is false for an unknown code.
func (c Classifier) ByCode(code string) (cl Class, ok bool) {
	switch {
	case code == "":
		return "", false
	case has(c.Throttle, code), has(c.Transient, code):
		return Transient, true
	case has(c.StateWait, code):
		return StateWait, true
	case has(c.Terminal, code):
		return Terminal, true
	}
	return "", false
}

// IsThrottle reports whether err is a throttling answer.
func (c Classifier) IsThrottle(err error) bool {
	if err == nil || isCanceled(err) {
		return false
	}
	var ce codeError
	if errors.As(err, &ce) && has(c.Throttle, ce.ErrorCode()) {
		return true
	}
	var se statusError
	return errors.As(err, &se) && se.HTTPStatusCode() == 429
}

// IsAPIQuota reports whether err is the answer of one API's own rate
// quota (Throttling.Api: "Request was denied due to api flow control."),
// as opposed to the account's flow control over all APIs.
func IsAPIQuota(err error) bool {
	var ce codeError
	return err != nil && !isCanceled(err) && errors.As(err, &ce) && ce.ErrorCode() == "Throttling.Api"
}

func byStatus(status int) Class {
	if status == 429 || status >= 500 {
		return Transient
	}
	return Terminal
}

// isCanceled walks the chain looking for the context errors themselves, not
// for errors that merely match them (net/http's client timeout error
// matches context.DeadlineExceeded through its Is method).
func isCanceled(err error) bool {
	var ce canceledError
	if errors.As(err, &ce) && ce.CanceledError() {
		return true
	}
	found := false
	walk(err, func(e error) bool {
		if e == context.Canceled || e == context.DeadlineExceeded { //nolint:errorlint // identity on purpose
			found = true
		}
		return !found
	})
	return found
}

// walk visits err and everything it wraps (both Unwrap forms), depth first,
// until visit returns false.
func walk(err error, visit func(error) bool) bool {
	if err == nil {
		return true
	}
	if !visit(err) {
		return false
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return walk(u.Unwrap(), visit)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !walk(e, visit) {
				return false
			}
		}
	}
	return true
}

func has(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

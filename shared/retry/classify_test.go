package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// apiErr has a code and a status, like rdsclient.APIError.
type apiErr struct {
	code   string
	status int
}

func (e apiErr) Error() string       { return e.code }
func (e apiErr) ErrorCode() string   { return e.code }
func (e apiErr) HTTPStatusCode() int { return e.status }

type statusOnly int

func (e statusOnly) Error() string       { return fmt.Sprint(int(e)) }
func (e statusOnly) HTTPStatusCode() int { return int(e) }

type explicit bool

func (e explicit) Error() string        { return "explicit" }
func (e explicit) RetryableError() bool { return bool(e) }

type canceledErr struct{}

func (canceledErr) Error() string       { return "canceled" }
func (canceledErr) CanceledError() bool { return true }
func (canceledErr) ErrorCode() string   { return "InternalError" }
func (canceledErr) HTTPStatusCode() int { return 500 }

func wrap(err error) error { return fmt.Errorf("rdsclient: CreateBackup rm-1: %w", err) }

func TestClassify(t *testing.T) {
	cases := map[string]struct {
		err  error
		want retry.Class
	}{
		"nil":                                 {nil, ""},
		"InvokeProxyFailure 500":              {apiErr{"InvokeProxyFailure", 500}, retry.Transient},
		"ExternalFailure 500":                 {apiErr{"ExternalFailure", 500}, retry.Transient},
		"RequestMetaDataFailed 500":           {apiErr{"RequestMetaDataFailed", 500}, retry.Transient},
		"ServiceUnavailable 503":              {apiErr{"ServiceUnavailable", 503}, retry.Transient},
		"InternalError 500":                   {apiErr{"InternalError", 500}, retry.Transient},
		"Throttling 400":                      {apiErr{"Throttling", 400}, retry.Transient},
		"Throttling.User 400":                 {apiErr{"Throttling.User", 400}, retry.Transient},
		"Throttling.Api 403":                  {apiErr{"Throttling.Api", 403}, retry.Transient},
		"Throttling.Resource 400":             {apiErr{"Throttling.Resource", 400}, retry.Transient},
		"IncorrectDBInstanceState 403":        {apiErr{"IncorrectDBInstanceState", 403}, retry.StateWait},
		"InvalideStatus.Format 400":           {apiErr{"InvalideStatus.Format", 400}, retry.StateWait},
		"OperationDenied.DBInstanceStatus":    {apiErr{"OperationDenied.DBInstanceStatus", 403}, retry.StateWait},
		"BackupJobExists 400":                 {apiErr{"BackupJobExists", 400}, retry.StateWait},
		"Exceeded.BackupTimes 403":            {apiErr{"Exceeded.BackupTimes", 403}, retry.Terminal},
		"InvalidDBInstanceId.NotFound 404":    {apiErr{"InvalidDBInstanceId.NotFound", 404}, retry.Terminal},
		"InvalidDBInstanceId.NotFound 400":    {apiErr{"InvalidDBInstanceId.NotFound", 400}, retry.Terminal},
		"BackupType.NotSupport":               {apiErr{"BackupType.NotSupport", 400}, retry.Terminal},
		"InvalidBackupMethod.ValueNotSupport": {apiErr{"InvalidBackupMethod.ValueNotSupport", 400}, retry.Terminal},
		"locked":                              {apiErr{"IncorrectDBInstanceLockMode.ValueNotSupported", 400}, retry.Terminal},
		"read-only":                           {apiErr{"ReadDBInstanceNotSupport", 400}, retry.Terminal},
		"engine not supported":                {apiErr{"IncorrectDBInstanceEngine", 403}, retry.Terminal},
		"type not supported":                  {apiErr{"IncorrectDBInstanceType", 403}, retry.Terminal},
		"Forbidden.RAM":                       {apiErr{"Forbidden.RAM", 403}, retry.Terminal},
		"known code wins over status":         {apiErr{"InternalError", 400}, retry.Transient},
		"unknown code 500":                    {apiErr{"Brand.NewFailure", 500}, retry.Transient},
		"unknown code 502":                    {apiErr{"Brand.NewFailure", 502}, retry.Transient},
		"unknown code 429":                    {apiErr{"Brand.NewFailure", 429}, retry.Transient},
		"unknown code 400":                    {apiErr{"Brand.NewFailure", 400}, retry.Terminal},
		"unknown code 404":                    {apiErr{"Brand.NewFailure", 404}, retry.Terminal},
		"unknown code no status":              {apiErr{"Brand.NewFailure", 0}, retry.Terminal},
		"status only 503":                     {statusOnly(503), retry.Transient},
		"status only 403":                     {statusOnly(403), retry.Terminal},
		"wrapped API error":                   {wrap(apiErr{"Throttling.User", 400}), retry.Transient},
		"doubly wrapped terminal":             {wrap(wrap(apiErr{"Exceeded.BackupTimes", 403})), retry.Terminal},
		"joined errors":                       {errors.Join(errors.New("x"), apiErr{"InvalidDB.NotFound", 404}), retry.Terminal},
		"connection refused":                  {wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), retry.Transient},
		"connection reset":                    {wrap(syscall.ECONNRESET), retry.Transient},
		"unexpected EOF":                      {wrap(io.ErrUnexpectedEOF), retry.Transient},
		"undecodable body":                    {errors.New("<nil> is not a map[string]interface{}"), retry.Transient},
		"explicit not retryable":              {wrap(explicit(false)), retry.Terminal},
		"explicit retryable":                  {wrap(explicit(true)), retry.Transient},
		"context canceled":                    {context.Canceled, retry.Canceled},
		"context deadline":                    {context.DeadlineExceeded, retry.Canceled},
		"wrapped context canceled":            {wrap(context.Canceled), retry.Canceled},
		"canceled checked before code":        {errors.Join(apiErr{"InternalError", 500}, context.Canceled), retry.Canceled},
		"CanceledError() before code":         {canceledErr{}, retry.Canceled},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := retry.Classify(c.err); got != c.want {
				t.Errorf("Classify(%v) = %q, want %q", c.err, got, c.want)
			}
		})
	}
}

// An http.Client timeout matches context.DeadlineExceeded through errors.Is,
// but it is the transport's timeout, not the caller's context: transient.
func TestClassifyHTTPClientTimeoutIsTransient(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	_, err := (&http.Client{Timeout: 20 * time.Millisecond}).Get(srv.URL)
	if err == nil {
		t.Fatal("want a timeout")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("note: this Go version's client timeout does not match DeadlineExceeded: %v", err)
	}
	if got := retry.Classify(wrap(err)); got != retry.Transient {
		t.Errorf("Classify(client timeout) = %q, want transient", got)
	}
}

func TestIsThrottle(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"Throttling":       {apiErr{"Throttling", 400}, true},
		"Throttling.User":  {wrap(apiErr{"Throttling.User", 400}), true},
		"429 unknown code": {apiErr{"Whatever", 429}, true},
		"InternalError":    {apiErr{"InternalError", 500}, false},
		"network":          {io.ErrUnexpectedEOF, false},
		"nil":              {nil, false},
		"canceled":         {context.Canceled, false},
	}
	for name, c := range cases {
		if got := retry.IsThrottle(c.err); got != c.want {
			t.Errorf("%s: IsThrottle = %v, want %v", name, got, c.want)
		}
	}
}

// Every code is in exactly one table (throttle codes count as transient).
func TestTablesDisjoint(t *testing.T) {
	seen := map[string]string{}
	tables := map[string]map[string]string{
		"throttle": retry.ThrottleCodes, "transient": retry.TransientCodes,
		"state-wait": retry.StateWaitCodes, "terminal": retry.TerminalCodes,
	}
	for name, m := range tables {
		for code, why := range m {
			if why == "" {
				t.Errorf("%s: %s has no reason", name, code)
			}
			if other, ok := seen[code]; ok {
				t.Errorf("%s is in both %s and %s", code, other, name)
			}
			seen[code] = name
		}
	}
}

func TestClassRetryable(t *testing.T) {
	for c, want := range map[retry.Class]bool{retry.Transient: true, retry.StateWait: true, retry.Terminal: false, retry.Canceled: false, "": false} {
		if got := c.Retryable(); got != want {
			t.Errorf("%q.Retryable() = %v, want %v", c, got, want)
		}
	}
}

func TestZeroClassifierUsesStatus(t *testing.T) {
	var c retry.Classifier
	if got := c.Classify(apiErr{"Throttling", 400}); got != retry.Terminal {
		t.Errorf("zero classifier, unknown 400 = %q, want terminal", got)
	}
	if got := c.Classify(apiErr{"Throttling", 503}); got != retry.Transient {
		t.Errorf("zero classifier, unknown 503 = %q, want transient", got)
	}
}

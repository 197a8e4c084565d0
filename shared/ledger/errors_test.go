package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

func TestServiceErrorsAreClassified(t *testing.T) {
	tests := []struct {
		code      string
		status    int // 0: the emulator's status for the code
		retryable bool
		throttle  bool
	}{
		{"OTSServerBusy", 0, true, true},
		{"OTSNotEnoughCapacityUnit", 0, true, true},
		{"OTSQuotaExhausted", 0, true, true},
		{"OTSServerUnavailable", 0, true, false},
		{"OTSTimeout", 0, true, false},
		{"OTSPartitionUnavailable", 0, true, false},
		{"OTSRowOperationConflict", 0, true, false},
		{"OTSInternalServerError", 0, true, false},
		{"OTSAuthFailed", 0, false, false},
		{"OTSParameterInvalid", 0, false, false},
		{"OTSSomethingNew", 502, true, false}, // unknown: by status
		{"OTSSomethingElse", 400, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			e := newEnv(t, 0)
			e.srv.InjectFault(tablestore.Fault{Action: "PutRow", Code: tt.code, Status: tt.status, Times: 1})
			m := e.reset()
			_, err := e.l.Claim(bg, ask("A"))
			var le *Error
			if !errors.As(err, &le) || le.Code != tt.code || le.Op != "PutRow" || le.Table != table || le.Status == 0 {
				t.Fatalf("err = %#v, want *Error with %s on PutRow", err, tt.code)
			}
			if got := IsRetryable(err); got != tt.retryable {
				t.Fatalf("IsRetryable(%v) = %v, want %v", err, got, tt.retryable)
			}
			want := retry.Terminal
			if tt.retryable {
				want = retry.Transient
			}
			if got := retry.Classify(err); got != want {
				t.Fatalf("retry.Classify = %s, want %s", got, want)
			}
			if got := Classifier.IsThrottle(err); got != tt.throttle {
				t.Fatalf("Classifier.IsThrottle = %v, want %v", got, tt.throttle)
			}
			// The raw SDK error classifies alike.
			var oe *ots.OtsError
			if !errors.As(err, &oe) || IsRetryable(oe) != tt.retryable {
				t.Fatalf("raw %v: IsRetryable %v, want %v", oe, IsRetryable(oe), tt.retryable)
			}
			// ClientConfig: the SDK did not retry on its own.
			if got := e.since(m); got != "PutRow" {
				t.Fatalf("calls = %q, want one PutRow (no SDK retry)", got)
			}
			// The fault was used up: the caller's retry goes through.
			if c := e.claim(ask("A")); !c.Won {
				t.Fatalf("retry = %+v, want won", c)
			}
		})
	}
}

func TestTransportErrorsAreRetryable(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.InjectFault(tablestore.Fault{Action: "GetRow", Drop: true, Times: 1})
	_, _, err := e.l.Get(bg, "s", "k")
	if err == nil || !IsRetryable(err) || retry.Classify(err) != retry.Transient {
		t.Fatalf("dropped connection: err = %v retryable %v, want retryable", err, IsRetryable(err))
	}
	e.srv.InjectFault(tablestore.Fault{Action: "GetRow", Status: 502, Times: 1}) // a gateway's HTML page
	_, _, err = e.l.Get(bg, "s", "k")
	var le *Error
	if !errors.As(err, &le) || le.Code != "OTSServerUnavailable" || !IsRetryable(err) {
		t.Fatalf("502 without protobuf: err = %v, want OTSServerUnavailable, retryable", err)
	}
	e.srv.Close()
	_, _, err = e.l.Get(bg, "s", "k")
	if err == nil || !IsRetryable(err) {
		t.Fatalf("server gone: err = %v retryable %v, want retryable", err, IsRetryable(err))
	}
	for _, raw := range []error{io.EOF, fmt.Errorf("Post x: %w", io.ErrUnexpectedEOF), errors.New("read: connection reset by peer")} {
		if !IsRetryable(raw) {
			t.Fatalf("IsRetryable(%v) = false", raw)
		}
	}
	if IsRetryable(errors.New("[tablestore] invalid input")) || IsRetryable(nil) {
		t.Fatal("the SDK's own input checks and nil are not retryable")
	}
}

func TestMissingTableIsAMisconfiguration(t *testing.T) {
	e := newEnv(t, 0)
	l := New(e.client(ClientConfig()), "no_such_ledger", WithClock(e.clock.Now))
	_, err := l.Claim(bg, ask("A"))
	if err == nil || !strings.Contains(err.Error(), "ledger table no_such_ledger does not exist: create it with the deploy tooling") {
		t.Fatalf("err = %v, want the table named and the fix", err)
	}
	if IsRetryable(err) || retry.Classify(err) != retry.Terminal {
		t.Fatalf("missing table is retryable: %v", err)
	}
	var le *Error
	if !errors.As(err, &le) || le.Code != "OTSObjectNotExist" || le.Status != 404 {
		t.Fatalf("err = %#v", err)
	}
}

func TestBadKeyIsAMisconfiguration(t *testing.T) {
	e := newEnv(t, 0)
	c := ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), e.key.AccessKeyID, "wrong-secret", "", ClientConfig())
	_, _, err := New(c, table).Get(bg, "s", "k")
	var le *Error
	if !errors.As(err, &le) || le.Code != "OTSAuthFailed" || IsRetryable(err) || !strings.Contains(err.Error(), "check the function's Tablestore key") {
		t.Fatalf("err = %v, want terminal OTSAuthFailed", err)
	}
}

func TestCanceledContextMakesNoCall(t *testing.T) {
	e := newEnv(t, 0)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	m := e.reset()
	_, err := e.l.Claim(ctx, ask("A"))
	if !errors.Is(err, context.Canceled) || IsRetryable(err) || retry.Classify(err) != retry.Canceled {
		t.Fatalf("err = %v (retryable %v, class %s), want canceled, not retryable", err, IsRetryable(err), retry.Classify(err))
	}
	if got := e.since(m); got != "" {
		t.Fatalf("calls = %q, want none", got)
	}
	// A canceled error wins over a retryable code in the same chain.
	mixed := fmt.Errorf("%w; %w", context.DeadlineExceeded, &ots.OtsError{Code: "OTSServerBusy", HttpStatusCode: 503})
	if IsRetryable(mixed) {
		t.Fatal("cancellation must be checked first")
	}
}

// The PutRow of a claim is written but its answer lost: the retry (the
// caller's, or the SDK's own replay of a write on EOF) finds the row leased
// to the same owner and wins, Resumed, instead of deferring behind itself.
func TestLostAnswerOfAClaimIsResumed(t *testing.T) {
	e := newEnv(t, 0)
	e.srv.InjectFault(tablestore.Fault{Action: "PutRow", Drop: true, After: true, Times: 1})
	_, err := e.l.Claim(bg, ask("A"))
	if !IsRetryable(err) {
		t.Fatalf("lost answer: err = %v, want retryable", err)
	}
	if c := e.claim(ask("A")); !c.Won || !c.Resumed {
		t.Fatalf("retry by the same owner = %+v, want won, resumed", c)
	}
	if c := e.claim(ask("B")); !c.Busy {
		t.Fatalf("another delivery = %+v, want busy", c)
	}
	// Its own lease, expired: taken over like anyone's (conditionally), so
	// it looks before acting.
	e.clock.Advance(DefaultLease)
	if c := e.claim(ask("A")); !c.Won || c.Resumed || !c.TakenOver {
		t.Fatalf("retry by the same owner after its lease = %+v, want a takeover", c)
	}

	// The SDK's defaults replay the write by themselves.
	e2 := newEnv(t, 0)
	cfg := ots.NewDefaultTableStoreConfig()
	cfg.DefaultRetryInterval, cfg.MaxRetryInterval = 2*time.Millisecond, 4*time.Millisecond
	l := New(e2.client(cfg), table, WithClock(e2.clock.Now))
	e2.srv.InjectFault(tablestore.Fault{Action: "PutRow", Drop: true, After: true, Times: 1})
	m := e2.reset()
	c, err := l.Claim(bg, ask("A"))
	if err != nil || !c.Won || !c.Resumed {
		t.Fatalf("claim through the SDK's replay = %+v %v, want won, resumed", c, err)
	}
	if got := e2.since(m); got != "PutRow PutRow GetRow" {
		t.Fatalf("calls = %q, want the replayed PutRow then GetRow", got)
	}
}

func TestTableMeta(t *testing.T) {
	req, err := TableMeta("ledger", 0)
	must(t, err)
	if req.TableOption.TimeToAlive != int(DefaultTTL/time.Second) || req.TableOption.MaxVersion != 1 {
		t.Fatalf("options = %+v, want TTL %d s and 1 version", req.TableOption, int(DefaultTTL/time.Second))
	}
	pks := req.TableMeta.SchemaEntry
	if len(pks) != 2 || *pks[0].Name != ColScope || *pks[1].Name != ColKey ||
		*pks[0].Type != ots.PrimaryKeyType_STRING || *pks[1].Type != ots.PrimaryKeyType_STRING {
		t.Fatalf("primary key = %+v", pks)
	}
	if req, err := TableMeta("ledger", -1); err != nil || req.TableOption.TimeToAlive != -1 {
		t.Fatalf("ttl -1: %v", err)
	}
	for _, bad := range []time.Duration{time.Hour, -2} {
		if _, err := TableMeta("ledger", bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("ttl %v: err = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := TableMeta("", 0); !errors.Is(err, ErrInvalid) {
		t.Fatal("no name accepted")
	}

	e := newEnv(t, 48*time.Hour)
	var st tablestore.TableState
	for _, ts := range e.srv.Tables() {
		if ts.Name == table {
			st = ts
		}
	}
	if st.TTLSeconds != 48*3600 || st.MaxVersions != 1 || len(st.PrimaryKey) != 2 {
		t.Fatalf("created table = %+v", st)
	}
	err = CreateTable(bg, e.client(ClientConfig()), table, 0)
	var le *Error
	if !errors.As(err, &le) || le.Code != "OTSObjectAlreadyExist" {
		t.Fatalf("CreateTable again = %v, want OTSObjectAlreadyExist", err)
	}
}

// The SDK takes no context: a call that outlives the caller's context is
// abandoned, and the ledger answers at once with a canceled error that says
// the call's effect is unknown.
func TestContextEndingMidCallReturnsAtOnce(t *testing.T) {
	srv := tablestore.NewServer() // real clock: the injected latency is waited
	t.Cleanup(srv.Close)
	cred := srv.Credential()
	c := ots.NewClientWithConfig(srv.Endpoint(), srv.Instance(), cred.AccessKeyID, cred.AccessKeySecret, "", ClientConfig())
	must(t, CreateTable(bg, c, table, 0))
	srv.InjectFault(tablestore.Fault{Action: "PutRow", Latency: 3 * time.Second, Times: 1})
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := New(c, table).Claim(ctx, ask("A"))
	if took := time.Since(t0); took > time.Second {
		t.Fatalf("Claim returned after %v, want at the context's end", took)
	}
	var le *Error
	if !errors.As(err, &le) || !le.Canceled || !errors.Is(err, context.DeadlineExceeded) || IsRetryable(err) ||
		!strings.Contains(err.Error(), "effect is unknown") {
		t.Fatalf("err = %v, want canceled with unknown effect", err)
	}
}

package tablestore_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ots "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// rewrite is an http.RoundTripper that edits each request after the SDK
// signed it.
type rewrite func(*http.Request)

func (f rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	f(r)
	return http.DefaultTransport.RoundTrip(r)
}

// Refused credentials answer 403 OTSAuthFailed with the messages of the
// error-code page (permission verification errors).
func TestAuthRefused(t *testing.T) {
	e := newEnv(t)
	mustOK(t, e.srv.CreateTable(tablestore.TableSpec{Name: "asks", PrimaryKey: []tablestore.PKColumn{{Name: "id", Type: "STRING"}, {Name: "seq", Type: "INTEGER"}}}))
	sts := e.store.IssueSTS(time.Hour)
	skewed := config(0)
	skewed.Transport = rewrite(func(r *http.Request) {
		r.Header.Set("x-ots-date", time.Now().Add(-20*time.Minute).UTC().Format("2006-01-02T15:04:05.000Z"))
	})
	tampered := config(0)
	tampered.Transport = rewrite(func(r *http.Request) { r.Header.Set("x-ots-contentmd5", "AAAAAAAAAAAAAAAAAAAAAA==") })

	tests := []struct {
		name    string
		client  *ots.TableStoreClient
		message string // "" when the request must succeed
	}{
		{"long-term key", e.client(), ""},
		{"wrong secret", ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), e.key.AccessKeyID, "not-the-secret", "", config(0)), "Signature mismatch."},
		{"unknown key", ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), "LTAInobody", "x", "", config(0)), "The AccessKeyID does not exist."},
		{"wrong instance", ots.NewClientWithConfig(e.srv.Endpoint(), "other-instance", e.key.AccessKeyID, e.key.AccessKeySecret, "", config(0)), "The instance is not found."},
		{"date 20 minutes off", ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), e.key.AccessKeyID, e.key.AccessKeySecret, "", skewed), "Mismatch between system time and x-ots-date: "},
		{"body md5 mismatch", ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), e.key.AccessKeyID, e.key.AccessKeySecret, "", tampered), "Mismatch between MD5 value of request body and x-ots-contentmd5 in header."},
		{"sts key with token", ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), sts.AccessKeyID, sts.AccessKeySecret, sts.SecurityToken, config(0)), ""},
		{"sts key without token", ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), sts.AccessKeyID, sts.AccessKeySecret, "", config(0)), "x-ots-ststoken"},
		{"sts key with another token", ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), sts.AccessKeyID, sts.AccessKeySecret, "CAISother", config(0)), "token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.ListTable()
			if tc.message == "" {
				mustOK(t, err)
				err = put(tc.client, "asks", pk("a", 1), ots.RowExistenceExpectation_IGNORE, col{"v", "x"})
				mustOK(t, err)
				return
			}
			oe := otsErr(t, err, 403, "OTSAuthFailed")
			if !strings.Contains(oe.Message, tc.message) {
				t.Fatalf("message %q, want it to contain %q", oe.Message, tc.message)
			}
		})
	}

	t.Run("sts key after its expiration", func(t *testing.T) {
		c := ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), sts.AccessKeyID, sts.AccessKeySecret, sts.SecurityToken, config(0))
		e.clock.Advance(time.Hour)
		_, err := c.ListTable()
		otsErr(t, err, 403, "OTSAuthFailed")
	})
}

func TestInjectedFaults(t *testing.T) {
	setup := func(t *testing.T) *env {
		e := newEnv(t)
		mustOK(t, e.srv.CreateTable(tablestore.TableSpec{Name: "asks", PrimaryKey: []tablestore.PKColumn{{Name: "id", Type: "STRING"}, {Name: "seq", Type: "INTEGER"}}}))
		return e
	}

	t.Run("code seen by the SDK", func(t *testing.T) {
		e := setup(t)
		e.srv.InjectFault(tablestore.Fault{Action: "PutRow", Table: "asks", Code: "OTSServerBusy", Times: 1})
		err := put(e.client(), "asks", pk("a", 1), ots.RowExistenceExpectation_IGNORE, col{"v", "x"})
		if oe := otsErr(t, err, 503, "OTSServerBusy"); oe.Message != "Server is busy." {
			t.Errorf("message %q", oe.Message)
		}
		if get(t, e.client(), "asks", pk("a", 1)) != nil {
			t.Fatal("a faulted PutRow wrote its row")
		}
		if len(e.srv.Faults()) != 0 {
			t.Fatalf("fault not used up: %+v", e.srv.Faults())
		}
	})

	t.Run("retried by the SDK", func(t *testing.T) {
		e := setup(t)
		// The SDK retries OTSServerBusy for every action (api.go retryNotMatterActions).
		e.srv.InjectFault(tablestore.Fault{Action: "PutRow", Code: "OTSServerBusy", Times: 2})
		c := ots.NewClientWithConfig(e.srv.Endpoint(), e.srv.Instance(), e.key.AccessKeyID, e.key.AccessKeySecret, "", config(3))
		mustOK(t, put(c, "asks", pk("a", 1), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"v", "x"}))
		if n := e.srv.Counts()["PutRow asks"]; n != 3 {
			t.Fatalf("PutRow attempts = %d, want 3", n)
		}
		// OTSConditionCheckFail is not retried.
		err := put(c, "asks", pk("a", 1), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"v", "x"})
		otsErr(t, err, 403, "OTSConditionCheckFail")
		if n := e.srv.Counts()["PutRow asks"]; n != 4 {
			t.Fatalf("PutRow attempts = %d, want 4", n)
		}
	})

	t.Run("answer lost after the write", func(t *testing.T) {
		e := setup(t)
		e.srv.InjectFault(tablestore.Fault{Action: "PutRow", Drop: true, After: true, Times: 1})
		err := put(e.client(), "asks", pk("a", 1), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"v", "x"})
		var oe *ots.OtsError
		if err == nil || errors.As(err, &oe) {
			t.Fatalf("err = %v, want a network error", err)
		}
		if get(t, e.client(), "asks", pk("a", 1))["v"] != "x" {
			t.Fatal("the row of a PutRow whose answer was lost is missing")
		}
		calls := e.srv.Calls()
		if c := calls[0]; c.Action != "PutRow" || c.Status != 0 || !c.Fault || !c.Performed {
			t.Fatalf("call %+v", c)
		}
	})

	t.Run("non-protobuf 5xx", func(t *testing.T) {
		e := setup(t)
		e.srv.InjectFault(tablestore.Fault{Action: "GetRow", Status: 502, Times: 1})
		_, err := e.client().GetRow(&ots.GetRowRequest{SingleRowQueryCriteria: &ots.SingleRowQueryCriteria{TableName: "asks", PrimaryKey: pk("a", 1), MaxVersion: 1}})
		otsErr(t, err, 502, "OTSServerUnavailable") // the SDK's name for a 5xx it cannot decode (util.go rawHttpToOtsError)
	})

	t.Run("latency on the fake clock", func(t *testing.T) {
		e := setup(t)
		e.srv.InjectFault(tablestore.Fault{Action: "ListTable", LatencyMs: 1500, Times: 1})
		_, err := e.client().ListTable()
		mustOK(t, err)
		if got := e.clock.Now().Sub(start); got != 1500*time.Millisecond {
			t.Fatalf("clock moved %v, want 1.5s", got)
		}
		if c := e.srv.Calls()[0]; c.LatencyMs != 1500 || !c.Fault || c.Status != 200 {
			t.Fatalf("call %+v", c)
		}
	})

	t.Run("every call until cleared", func(t *testing.T) {
		e := setup(t)
		e.srv.InjectFault(tablestore.Fault{Code: "OTSNotEnoughCapacityUnit"})
		for range 3 {
			_, err := e.client().ListTable()
			otsErr(t, err, 403, "OTSNotEnoughCapacityUnit")
		}
		if f := e.srv.Faults(); len(f) != 1 || f[0].Fired != 3 {
			t.Fatalf("faults %+v", f)
		}
		e.srv.ClearFaults()
		_, err := e.client().ListTable()
		mustOK(t, err)
	})
}

func TestFaultCheck(t *testing.T) {
	tests := []struct {
		f    tablestore.Fault
		want string // "" for a valid fault
	}{
		{tablestore.Fault{Action: "PutRow", Code: "OTSServerBusy"}, ""},
		{tablestore.Fault{Action: "Put"}, "action:"},
		{tablestore.Fault{Rate: 2}, "rate:"},
		{tablestore.Fault{Status: 700}, "status:"},
		{tablestore.Fault{Drop: true, Code: "x"}, "drop:"},
		{tablestore.Fault{After: true}, "after:"},
	}
	for _, tc := range tests {
		err := tc.f.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("Check(%+v) = %v, want %q", tc.f, err, tc.want)
		}
	}
}

// Concurrent conditional puts of the same keys: exactly one wins per key.
func TestConcurrentConditionalPuts(t *testing.T) {
	e := newEnv(t)
	mustOK(t, e.srv.CreateTable(tablestore.TableSpec{Name: "asks", PrimaryKey: []tablestore.PKColumn{{Name: "id", Type: "STRING"}, {Name: "seq", Type: "INTEGER"}}}))
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client()
			for k := range 10 {
				err := put(c, "asks", pk("k", int64(k)), ots.RowExistenceExpectation_EXPECT_NOT_EXIST, col{"v", int64(k)})
				var oe *ots.OtsError
				switch {
				case err == nil:
					wins.Add(1)
				case errors.As(err, &oe) && oe.Code == "OTSConditionCheckFail":
				default:
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 10 {
		t.Fatalf("%d puts won, want one per key (10)", wins.Load())
	}
	b, err := json.Marshal(e.srv.State())
	mustOK(t, err)
	var st struct {
		Instance string
		Tables   []struct {
			Name string
			Rows int
		}
	}
	mustOK(t, json.Unmarshal(b, &st))
	if st.Instance != "fc-rds-backup" || len(st.Tables) != 1 || st.Tables[0].Rows != 10 {
		t.Fatalf("State = %s", b)
	}
}

package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

// ClientConfig is the SDK configuration the ledger's client should have:
// no SDK retries, so that the caller owns them (shared/retry, the work
// queue) and a ledger call costs exactly the Tablestore calls doc.go
// counts; short timeouts, so that a call fits an invocation's deadline.
//
// With the SDK's defaults (NewDefaultTableStoreConfig: RetryTimes 10 within
// MaxRetryTime 5 s, 10 ms doubling to 320 ms) the SDK itself retries
// OTSServerBusy, OTSNotEnoughCapacityUnit, OTSPartitionUnavailable,
// OTSRowOperationConflict, OTSTableNotReady, OTSStorageServerBusy and
// OTSQuotaExhausted "Too frequent table operations." for every action,
// OTSTimeout, OTSInternalServerError and OTSServerUnavailable for reads,
// and a connection closed without an answer (EOF) for every action, writes
// included (api.go getNextPause, ShouldRetryViaErrorAndAction), sleeping
// time.Sleep between tries, blind to any context. The ledger stays correct
// under those replays (a replayed claim finds its own lease: Resumed; a
// replayed RecordJob or RecordOutcome writes the same id), but the sleeps
// are billed and unseen, and the calls counted in doc.go multiply.
func ClientConfig() *tablestore.TableStoreConfig {
	c := tablestore.NewDefaultTableStoreConfig()
	c.RetryTimes = 0
	c.MaxRetryTime = 0
	c.HTTPTimeout = tablestore.HTTPTimeout{ConnectionTimeout: 2 * time.Second, RequestTimeout: 5 * time.Second}
	// Unused with RetryTimes 0; kept above 1 ms since the SDK draws
	// rand.Int63n(interval-1) and panics at 1 ms.
	c.DefaultRetryInterval = 10 * time.Millisecond
	c.MaxRetryInterval = 320 * time.Millisecond
	return c
}

// TableMeta returns what CreateTable needs for a ledger table named name
// whose rows live ttl after their last write: the primary key (scope
// STRING, key STRING), the options (TimeToLive in seconds, one version per
// column) and no reserved throughput (on-demand). ttl must be -1 (rows
// never expire) or at least one day (Tablestore's smallest TimeToLive); 0
// means DefaultTTL.
func TableMeta(name string, ttl time.Duration) (*tablestore.CreateTableRequest, error) {
	if name == "" {
		return nil, &ValidationError{Field: "table", Rule: "required"}
	}
	secs := -1
	switch {
	case ttl == 0:
		secs = int(DefaultTTL / time.Second)
	case ttl == -1:
	case ttl < minTTLDays*24*time.Hour:
		return nil, &ValidationError{Field: "ttl", Rule: fmt.Sprintf("at least %d day (Tablestore's smallest TimeToLive is 86400 s), or -1 for never; got %s", minTTLDays, ttl)}
	default:
		secs = int(ttl / time.Second)
	}
	meta := &tablestore.TableMeta{TableName: name}
	meta.AddPrimaryKeyColumn(ColScope, tablestore.PrimaryKeyType_STRING)
	meta.AddPrimaryKeyColumn(ColKey, tablestore.PrimaryKeyType_STRING)
	return &tablestore.CreateTableRequest{
		TableMeta:          meta,
		TableOption:        &tablestore.TableOption{TimeToAlive: secs, MaxVersion: 1},
		ReservedThroughput: &tablestore.ReservedThroughput{},
	}, nil
}

// CreateTable creates the ledger table, for the deploy tooling and the
// local cloud; the functions never call it (a missing table is a deploy
// error, not something to mend at run time). An existing table is an
// *Error with code OTSObjectAlreadyExist. 1 CreateTable call.
func CreateTable(ctx context.Context, client *tablestore.TableStoreClient, name string, ttl time.Duration) error {
	req, err := TableMeta(name, ttl)
	if err != nil {
		return err
	}
	l := &Ledger{client: client, table: name}
	return l.do(ctx, "CreateTable", func() error {
		_, err := client.CreateTable(req)
		return err
	})
}

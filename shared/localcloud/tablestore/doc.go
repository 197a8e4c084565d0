// Package tablestore is a local emulator of an Alibaba Cloud Tablestore (OTS)
// instance, for tests and the local cloud. Code under test talks to it with
// the official Go SDK, github.com/aliyun/aliyun-tablestore-go-sdk v1.7.17
// (package tablestore), over HTTP on 127.0.0.1; the test inspects and
// scripts the server directly. The emulator imports only the standard
// library, shared/localcloud/auth, the SDK's wire schema (package
// tablestore/otsprotocol) and protobuf; PlainBuffer is implemented here.
//
// # Usage
//
//	srv := tablestore.NewServer()            // listening already; instance "fc-rds-backup"
//	defer srv.Close()
//	cred := srv.Credential()
//	client := ots.NewClient(srv.Endpoint(), srv.Instance(), cred.AccessKeyID, cred.AccessKeySecret)
//	// STS keys: ots.NewClientWithConfig(endpoint, instance, id, secret, securityToken, config)
//
// In the local cloud pass WithCredentials(store) (the shared key store),
// WithClock (the cloud's clock) and WithInstance. The SDK retries some codes
// on its own (see below): give tests a config with RetryTimes 0, or a small
// DefaultRetryInterval of at least 2 ms (the SDK draws rand.Int63n(interval-1)
// and panics at 1 ms).
//
// # Behaviour and its sources
//
// Wire (SDK tablestore/api.go doRequest, ots_header.go): every operation is a
// POST to "/<Action>" with a protobuf body (otsprotocol/table_store.proto) and
// the headers x-ots-date, x-ots-apiversion (2015-12-31), x-ots-accesskeyid,
// x-ots-contentmd5 (base64 MD5 of the body), x-ots-instancename,
// x-ots-signature and, for STS keys, x-ots-ststoken. Answers are protobuf;
// errors are an otsprotocol.Error {code, message} with the HTTP status, which
// the SDK turns into *OtsError{Code, Message, HttpStatusCode} (util.go
// pbErrToOtsError). Answers carry x-ots-requestid, x-ots-date,
// x-ots-contentmd5, x-ots-contenttype and a response Authorization the way
// the Python SDK checks it (protocol.py _make_response_signature; the Go SDK
// does not check it).
//
// Signature (ots_header.go signature; the canonical form as the Python SDK's
// protocol.py _make_request_signature writes it): base64(HMAC-SHA1(secret,
// "/<Action>\nPOST\n\n" + every x-ots-* header but x-ots-signature, lower-case
// name ":" trimmed value "\n", sorted)). The key and token are checked
// against the auth.Store. Refusals answer 403 OTSAuthFailed with the
// messages of the error-code page's permission table ("The AccessKeyID does
// not exist.", "The instance is not found.", "Signature mismatch.",
// "Mismatch between system time and x-ots-date: {Date}.", "Mismatch between
// MD5 value of request body and x-ots-contentmd5 in header."); x-ots-date may
// be at most 15 minutes from real time (the service's rule as the older
// "How do I set the request signature" page states it; real time because the
// SDK stamps time.Now). A missing header is 400 OTSParameterInvalid "Missing
// header: '{name}'.", a non-POST 405 OTSMethodNotAllowed, a body over 5 MB 413
// OTSRequestBodyTooLarge, an unknown action 400 "Unsupported operation".
//
// Error codes and statuses (errors.go, Codes): the public page "Tablestore:
// Error codes" (alibabacloud.com/help/en/tablestore/developer-reference/
// error-codes, document 27300), confirmed where possible by the statuses and
// messages the official Python SDK's integration tests assert against the
// real service (aliyun-tablestore-python-sdk tests/row_op_test.py,
// table_operation_test.py): 403 OTSConditionCheckFail "Condition check
// failed.", 404 OTSObjectNotExist "Requested table does not exist.", 409
// OTSObjectAlreadyExist "Requested table already exists.", 400 OTSInvalidPK
// "Validate PK size fail. Input: 1, Meta: 2." / "Validate PK name fail. …",
// 400 OTSParameterInvalid "Begin key must less than end key in FORWARD",
// "The limit must be greater than 0.", "No row is specified in
// BatchWriteRow.", "No operation is specified for table: '…'.", "Attribute
// column is missing." (a PUT without columns in a batch), "Duplicated
// primary key name: '…'.", 403 OTSNotEnoughCapacityUnit "Remaining capacity
// unit is not enough."; 503 for OTSServerBusy, OTSPartitionUnavailable,
// OTSTimeout, OTSServerUnavailable (the page on 5xx errors, faq 59899).
//
// SDK retries (api.go ShouldRetryViaErrorAndAction, retryNotMatterActions,
// isIdempotent; getNextPause): for every action OTSRowOperationConflict,
// OTSNotEnoughCapacityUnit, OTSTableNotReady, OTSPartitionUnavailable,
// OTSServerBusy, OTSStorageServerBusy and OTSQuotaExhausted with the message
// "Too frequent table operations."; for reads only (GetRow, GetRange,
// DescribeTable, ListTable, BatchGetRow, …) also OTSTimeout,
// OTSInternalServerError, OTSServerUnavailable; and a connection closed
// without an answer (EOF) for every action, after 1 ms — so a dropped answer
// to a write is replayed. Defaults: RetryTimes 10 within MaxRetryTime 5 s,
// backoff from 10 ms doubling to 320 ms. Codes() lists which rows the SDK
// retries.
//
// Tables: CreateTable (name [A-Za-z_][A-Za-z0-9_]{0,254}; 1–4 primary key
// columns of STRING, INTEGER or BINARY, AUTO_INCREMENT on a non-first
// INTEGER one; TimeToLive -1 or at least 86400 s and MaxVersions at least 1,
// as the "TableOptions" data-type page states; at most 64 tables, then
// 403 OTSQuotaExhausted "Number of tables exceeded the quota."),
// DescribeTable (status ACTIVE at once), ListTable (sorted), DeleteTable.
// Tables belong to the server's one instance.
//
// Rows (PlainBuffer, plainbuffer.go: the SDK's plain_buffer.go and util.go
// Build functions are the spec, CRC-8 checksums are verified on every row
// read and written on every row answered): PutRow replaces the row;
// UpdateRow puts versions, deletes a column (all versions or one), increments
// an integer (a missing column counts from 0), and can return the modified
// columns (RT_AFTER_MODIFY); DeleteRow. Conditions: row existence IGNORE,
// EXPECT_EXIST, EXPECT_NOT_EXIST, then the column condition (single column
// with the six comparators, FilterIfMissing and LatestVersionOnly; NOT, AND,
// OR), filter.go. A cell without a timestamp gets the emulator clock's
// milliseconds; one with a timestamp must lie in [now - min(max version
// offset, TTL), now + max version offset) ("TableOptions" page;
// DeviationCellVersionInSec, default 86400 s). A column keeps its MaxVersions
// newest versions ("Data versions and TTL" page: versions beyond it are
// unreadable at once). GetRow and GetRange answer the newest
// max_versions versions per column (or those in time_range), columns_to_get
// and the same filters; a row that has none of columns_to_get is not
// returned.
//
// TTL: a cell older than the table's TimeToLive by the emulator's clock is
// invisible to reads and conditions; a row with no live cell does not exist
// (a row written without attribute columns lives by the time of its last
// write). State counts only live rows.
//
// GetRange: FORWARD from inclusive_start_primary_key up to
// exclusive_end_primary_key (start < end), BACKWARD from start down to end
// (start > end), INF_MIN / INF_MAX per column; at most limit rows and at most
// the page size (5000 rows as the service; WithRangePageSize to make pages
// happen), after which next_start_primary_key is the key of the next row to
// read; no next key when the range is exhausted.
//
// BatchWriteRow: up to 200 rows over several tables, applied in order, each
// with its own condition; every row gets its own result (is_ok, error or
// consumed capacity) and a failing row (condition, primary key, missing
// table) does not stop the others or fail the request.
//
// Capacity: answers carry consumed capacity (one write unit per started
// 4 KB of row, one read unit for a conditional write or per 4 KB read) so the
// SDK's response handling works; nothing is metered or throttled.
//
// # Faults and inspection
//
// InjectFault scripts failures per action and table (see Fault): a code with
// its documented status, a non-protobuf error status, added latency (on a
// FakeClock the clock moves instead of waiting), a dropped connection, and,
// with After, the operation performed and only its answer lost. Rate and
// WithFaultSeed make random faults repeatable. Calls is the request log
// (action, table, status, code, fault, performed, each failed batch row's
// code), Counts the attempts per "Action table", Tables and State the tables
// with live row counts (State marshals to JSON), CreateTable a seeding helper
// that bypasses HTTP.
//
// # Not modeled
//
//   - Secondary indexes, search indexes, SQL, streams (tunnel), timeseries
//     tables, local transactions, atomic BatchWriteRow, BatchGetRow,
//     UpdateTable and every other action: refused with 400
//     OTSParameterInvalid naming what is not modeled (CreateTable with an
//     index or a stream included).
//   - Reserved and on-demand throughput accounting, capacity throttling,
//     partitions, hot-partition splits, OTSTableNotReady after CreateTable:
//     only via InjectFault.
//   - Wide-row paging (tokens, start_column/end_column, pagination filters),
//     regex value-transfer filters, the 4 MB page size cap of GetRange, column
//     count, row size and key length limits, compressed requests and
//     answers, SimpleRowMatrix blocks.
//   - Instances, regions, RAM policies, VPC/ACL checks: one instance per
//     server, any known key may call anything.
//   - Not verified against the real service: the messages of OTSInvalidPK
//     type mismatches, STS token refusals, the TTL and version-offset
//     refusals and the "not modeled" refusals; comparing values of different
//     types (only "not equal" holds here); whether a missing table in a
//     BatchWriteRow fails the row (here) or the request; the order of the
//     authentication checks; the exact next_start_primary_key the service
//     picks (here the next existing row).
package tablestore

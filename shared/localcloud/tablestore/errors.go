package tablestore

import (
	"fmt"
	"net/http"
	"slices"
)

// Error is a Tablestore error as the service answers it: an HTTP status and a
// protobuf otsprotocol.Error{code, message} body, which the SDK turns into a
// *tablestore.OtsError with the same Code, Message and HttpStatusCode.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func newErr(code, format string, a ...any) *Error {
	row, _ := lookupCode(code)
	status := row.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

// CodeInfo is one row of the error table: a code, the HTTP status the service
// answers it with, its documented message and whether the official Go SDK
// v1.7.17 retries it (api.go, ShouldRetryViaErrorAndAction: Retry "always"
// for every action, "read" for its idempotent read actions only, "" never).
type CodeInfo struct {
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Message string `json:"message"`
	Retry   string `json:"sdkRetry,omitempty"`
}

// codeTable follows the public error-code page, "Tablestore: Error codes"
// (https://www.alibabacloud.com/help/en/tablestore/developer-reference/error-codes,
// also help.aliyun.com document_detail/27300), with the statuses and messages
// that the official Python SDK's integration tests assert against the real
// service where they do (aliyun-tablestore-python-sdk tests/row_op_test.py,
// table_operation_test.py, lib/api_test_base.py): 403 OTSConditionCheckFail
// "Condition check failed.", 404 OTSObjectNotExist "Requested table does not
// exist.", 409 OTSObjectAlreadyExist "Requested table already exists.", 403
// OTSNotEnoughCapacityUnit "Remaining capacity unit is not enough.", 400
// OTSInvalidPK. The 5xx rows follow the page "What do I do if 5xx errors
// occur" (faq-detail/59899): 503 OTSPartitionUnavailable, OTSServerUnavailable,
// OTSServerBusy, OTSTimeout.
var codeTable = []CodeInfo{
	{"OTSAuthFailed", http.StatusForbidden, "Signature mismatch.", ""},
	{"OTSNoPermissionAccess", http.StatusForbidden, "You have no permission to access the requested resource, please contact the resource owner", ""},
	{"OTSRequestBodyTooLarge", http.StatusRequestEntityTooLarge, "The size of POST data is too large.", ""},
	{"OTSRequestTimeout", http.StatusRequestTimeout, "Request timeout.", ""},
	{"OTSMethodNotAllowed", http.StatusMethodNotAllowed, "OTSMethodNotAllowedOnly POST method for requests is supported.", ""},
	{"OTSParameterInvalid", http.StatusBadRequest, "Invalid parameter.", ""},
	{"OTSInvalidPK", http.StatusBadRequest, "Primary key schema mismatch.", ""},
	{"OTSOutOfColumnCountLimit", http.StatusBadRequest, "The number of columns from the request exceeded the limit.", ""},
	{"OTSOutOfRowSizeLimit", http.StatusBadRequest, "The total data size of columns in one row exceeded the limit.", ""},
	{"OTSConditionCheckFail", http.StatusForbidden, "Condition check failed.", ""},
	{"OTSObjectNotExist", http.StatusNotFound, "Requested table does not exist.", ""},
	{"OTSObjectAlreadyExist", http.StatusConflict, "Requested table already exists.", ""},
	{"OTSRowOperationConflict", http.StatusConflict, "Data is being modified by the other request.", "always"},
	{"OTSTableNotReady", http.StatusConflict, "The table is not ready.", "always"},
	{"OTSNotEnoughCapacityUnit", http.StatusForbidden, "Remaining capacity unit is not enough.", "always"},
	{"OTSQuotaExhausted", http.StatusForbidden, "Too frequent table operations.", "always"},
	{"OTSTooFrequentReservedThroughputAdjustment", http.StatusForbidden, "Reserved throughput adjustment is too frequent.", ""},
	{"OTSInternalServerError", http.StatusInternalServerError, "Internal server error.", "read"},
	{"OTSServerBusy", http.StatusServiceUnavailable, "Server is busy.", "always"},
	{"OTSPartitionUnavailable", http.StatusServiceUnavailable, "The partition is not available.", "always"},
	{"OTSTimeout", http.StatusServiceUnavailable, "Operation timeout.", "read"},
	{"OTSServerUnavailable", http.StatusServiceUnavailable, "Server is not available.", "read"},
	{"OTSStorageServerBusy", http.StatusServiceUnavailable, "Storage server is busy.", "always"},
}

func lookupCode(code string) (CodeInfo, bool) {
	i := slices.IndexFunc(codeTable, func(c CodeInfo) bool { return c.Code == code })
	if i < 0 {
		return CodeInfo{}, false
	}
	return codeTable[i], true
}

// Codes returns the error table the server answers with (statuses and
// default messages of injected faults come from it).
func Codes() []CodeInfo { return slices.Clone(codeTable) }

// Documented messages used by the server, verbatim from the pages and tests
// cited in codeTable.
const (
	msgConditionCheckFail = "Condition check failed."
	msgTableNotExist      = "Requested table does not exist."
	msgTableExists        = "Requested table already exists."
	msgKeyNotExist        = "The AccessKeyID does not exist."
	msgInstanceNotFound   = "The instance is not found."
	msgSignatureMismatch  = "Signature mismatch."
	msgDateMismatch       = "Mismatch between system time and x-ots-date: %s."
	msgMD5Mismatch        = "Mismatch between MD5 value of request body and x-ots-contentmd5 in header."
	msgMissingHeader      = "Missing header: '%s'."
	msgInvalidDate        = "Invalid date format: %s."
	msgUnsupportedOp      = "Unsupported operation: '%s'."
	msgBodyTooLarge       = "The size of POST data is too large."
	msgMethodNotAllowed   = "OTSMethodNotAllowedOnly POST method for requests is supported."
)

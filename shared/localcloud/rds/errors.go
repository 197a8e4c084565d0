package rds

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// hostID is the HostId of every error body.
const hostID = "rds.aliyuncs.com"

// apiError is an error answer: the JSON body
// {"RequestId","HostId","Code","Message","Recommend"} with Status.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// apiMessages are the messages the API documents for its codes (CreateBackup
// API page, "Error codes", and the OpenAPI gateway's common codes).
var apiMessages = map[string]string{
	backup.CodeRequiredParam:       "Required input param is not found.",
	backup.CodeParametersInvalid:   "Parameter error, please check the parameters.",
	backup.CodeInvalidMethod:       `The specified parameter "BackupMethod" is not valid.`,
	backup.CodeBackupTypeNotSupp:   "the specified backup type not support",
	backup.CodeInvalidDBNameFormat: "Specified DB name is not valid.",
	backup.CodeDBNotFound:          "Specified db does not exist or DB status does not support this operation.",
	backup.CodeInstanceState:       "Current DB instance state does not support this operation.",
	backup.CodeLockMode:            "The Current DB instance lock mode does not support this operation.",
	backup.CodeReadOnly:            "The operation is not permitted due to type of the instance.",
	backup.CodeJobExists:           "A backup job already exists in the specified DB instance.",
	backup.CodeQuota:               "The backup times exceeds.",
	backup.CodeInstanceNotFound:    "The DBInstanceId provided does not exist in records.",

	"InvokeProxyFailure":               "The request processing has failed due to service failure of rds api.",
	"ExternalFailure":                  "The request processing has failed due to external service failure.",
	"RequestMetaDataFailed":            "The service request failed. Please try again later or contact service personnel.",
	"InternalError":                    "The request processing has failed due to some unknown error, exception or failure.",
	"ServiceUnavailable":               "The request has failed due to a temporary failure of the server.",
	"Throttling":                       "Request was denied due to request throttling.",
	"Throttling.User":                  "Request was denied due to user flow control.",
	"Throttling.Api":                   "Request was denied due to api flow control.",
	"OperationDenied.DBInstanceStatus": "The operation is not permitted due to status of instance.",
}

// codeStatus is the HTTP status a fault takes when it names a Code but no
// Status.
var codeStatus = map[string]int{
	"InvokeProxyFailure":               http.StatusInternalServerError,
	"ExternalFailure":                  http.StatusInternalServerError,
	"RequestMetaDataFailed":            http.StatusInternalServerError,
	"InternalError":                    http.StatusInternalServerError,
	"ServiceUnavailable":               http.StatusServiceUnavailable,
	"Throttling.User":                  http.StatusBadRequest,
	"Throttling.Api":                   http.StatusForbidden,
	"Throttling":                       http.StatusForbidden,
	"OperationDenied.DBInstanceStatus": http.StatusForbidden,
}

func init() {
	for _, r := range backup.Rules {
		if _, ok := codeStatus[r.Code]; !ok {
			codeStatus[r.Code] = r.HTTPStatus
		}
	}
	codeStatus[backup.CodeInstanceNotFound] = http.StatusNotFound
}

// violationError answers a broken rule with its code, status and the API's
// message for the code.
func violationError(v *backup.Violation) *apiError {
	msg := apiMessages[v.Code]
	if msg == "" {
		msg = v.Message
	}
	return &apiError{Status: v.HTTPStatus, Code: v.Code, Message: msg}
}

// Errors shared by several actions.

func errInstanceNotFound() *apiError {
	// The real status for this code is unverified (docs show 400 and 404); we
	// answer 404. Clients must key on the Code.
	return &apiError{Status: http.StatusNotFound, Code: backup.CodeInstanceNotFound, Message: apiMessages[backup.CodeInstanceNotFound]}
}

func errMissing(param string) *apiError {
	return newErr(http.StatusBadRequest, "Missing"+param, "%s is mandatory for this action.", param)
}

func errInvalidParam(param, value string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q is not valid: %q.", param, value)
}

func errThrottled() *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "Throttling.User", Message: apiMessages["Throttling.User"]}
}

// recommend is the Recommend link the API puts in error bodies.
func recommend(code, requestID string) string {
	return "https://api.aliyun.com/troubleshoot?q=" + code + "&product=Rds&requestId=" + requestID
}

// newRequestID returns an upper-case UUIDv4, the form of RDS request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// htmlBody is what a broken gateway answers: not JSON, so the SDK cannot make
// an SDKError of it.
func htmlBody(status int) string {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n"
}

package rds

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
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

// Errors shared by several actions.

// errInstanceNotFound is the Describe* actions' answer for an unknown
// instance. Their pages are not in the reference folder and the status is
// unverified (docs and community show 400 and 404); they answer 404.
// CreateBackup answers its page's 400 instead (see createBackupCodes).
// Clients must key on the Code.
func errInstanceNotFound() *apiError {
	e := pageError("InvalidDBInstanceId.NotFound")
	e.Status = http.StatusNotFound
	return e
}

func errMissing(param string) *apiError {
	return newErr(http.StatusBadRequest, "Missing"+param, "%s is mandatory for this action.", param)
}

func errInvalidParam(param, value string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q is not valid: %q.", param, value)
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

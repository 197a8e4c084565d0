package rds

import (
	"fmt"
	"net/http"
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

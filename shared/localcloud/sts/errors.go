package sts

import (
	"fmt"
	"net/http"
)

// hostID is the HostId of every error body.
const hostID = "sts.aliyuncs.com"

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

// apiCode is one row of an error table: the status and message of a code.
type apiCode struct {
	Status  int
	Message string
}

// assumeRoleCodes is the "Error codes" table of the AssumeRole API page
// (Alibaba Cloud RAM API reference, STS 2015-04-01 AssumeRole,
// https://www.alibabacloud.com/help/en/ram/developer-reference/api-sts-2015-04-01-assumerole,
// as stored in Alibaba Cloud's documentation sources), row by row: HTTP
// status, code, message.
var assumeRoleCodes = map[string]apiCode{
	"InvalidParameter":                 {400, "The parameter RoleArn is wrongly formed."},
	"InvalidParameter.RoleArn":         {400, "The parameter RoleArn is wrongly formed."},
	"InvalidParameter.RoleSessionName": {400, "The parameter RoleSessionName is wrongly formed."},
	"InvalidParameter.DurationSeconds": {400, "The Min/Max value of DurationSeconds is 15min/1hr."},
	"InvalidParameter.PolicyGrammar":   {400, "The parameter Policy has not passed grammar check."},
	"InvalidParameter.PolicySize":      {400, "The size of Policy must be smaller than 1024 bytes."},
	"NoPermission":                     {403, "You are not authorized to do this action. You should be authorized by RAM."},
	"EntityNotExist.Role":              {404, "The specified Role not exists."},
	"InternalError":                    {500, "STS Server Internal Error happened."},
}

// gatewayCodes are flow-control and availability codes the API page does
// not list. Throttling.Api is STS's flow-control answer with its message
// (https://help.aliyun.com/knowledge_detail/257129.html; status 400 per
// accounts-quotas-observability.md §3.2); Throttling.User is the message of
// the AssumeRole page's note on the older 6,000-a-minute limit;
// ServiceUnavailable is the gateway's common 503.
var gatewayCodes = map[string]apiCode{
	"Throttling.Api":     {http.StatusBadRequest, "Request was denied due to api flow control."},
	"Throttling.User":    {http.StatusBadRequest, "Request was denied due to user flow control."},
	"Throttling":         {http.StatusBadRequest, "Request was denied due to request throttling."},
	"ServiceUnavailable": {http.StatusServiceUnavailable, "The request has failed due to a temporary failure of the server."},
}

// lookupCode finds code in the AssumeRole page's table, then among the
// gateway's codes.
func lookupCode(code string) (apiCode, bool) {
	if c, ok := assumeRoleCodes[code]; ok {
		return c, true
	}
	c, ok := gatewayCodes[code]
	return c, ok
}

// pageError is the table's answer for code. It panics on a code the tables
// do not hold (a typo in the emulator).
func pageError(code string) *apiError {
	c, ok := lookupCode(code)
	if !ok {
		panic("sts: no row for error code " + code)
	}
	return &apiError{Status: c.Status, Code: code, Message: c.Message}
}

func errMissing(param string) *apiError {
	return newErr(http.StatusBadRequest, "Missing"+param, "%s is mandatory for this action.", param)
}

// recommend is the Recommend link the API puts in error bodies.
func recommend(code, requestID string) string {
	return "https://api.aliyun.com/troubleshoot?q=" + code + "&product=Sts&requestId=" + requestID
}

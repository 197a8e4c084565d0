package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// ReportReader reads what GET /v1/report answers (shared/app implements
// it: RDS for the last Finished backup, the ask ledger for the problems).
// account is "" (the functions' own) or a member account the webhook has
// checked by grammar; the reader checks it is allowed (an error that is a
// *backup.Violation is the caller's fault: its status is answered). region
// may be empty (the function's region). It returns one entry per
// instance, in the order given; an instance it could not read carries an
// Error instead of failing the whole report. An error means nothing could
// be read (the ledger down, say).
type ReportReader interface {
	Report(ctx context.Context, account, region string, instances []string, since time.Time) ([]InstanceReport, error)
}

// InstanceReport is one instance of a report.
type InstanceReport struct {
	DBInstanceId string `json:"DBInstanceId"`
	// LastFinished is the instance's latest backup set that succeeded
	// (DescribeBackups), nil when RDS lists none in the last 8 days.
	LastFinished *FinishedBackup `json:"lastFinished"`
	// Problems are the asks since the report's since that were rejected,
	// failed or deferred, oldest first.
	Problems []ReportProblem `json:"problems"`
	// Error: the instance could not be read (RDS refused or failed):
	// LastFinished says nothing then.
	Error *ReportError `json:"error,omitempty"`
}

// FinishedBackup is a backup set that succeeded.
type FinishedBackup struct {
	BackupId      string    `json:"BackupId"`
	BackupMethod  string    `json:"BackupMethod"`
	BackupEndTime time.Time `json:"BackupEndTime"`
}

// ReportProblem is an ask that was refused, failed or deferred.
type ReportProblem struct {
	Time         time.Time `json:"time"`
	Status       string    `json:"status"` // rejected, failed, deferred
	Code         string    `json:"code,omitempty"`
	BackupMethod string    `json:"backupMethod,omitempty"`
}

// ReportError is why an instance of a report could not be read.
type ReportError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// reportBody is the answer of GET /v1/report.
type reportBody struct {
	Since     time.Time        `json:"since"`
	Instances []InstanceReport `json:"instances"`
}

// The bounds and default of the report's since.
const (
	DefaultReportSince = 24 * time.Hour
	MinReportSince     = time.Minute
	MaxReportSince     = 840 * time.Hour // 35 days: the ledger's rows live no longer
)

// CodeReportUnavailable: the report could not be read (502).
const CodeReportUnavailable = "ReportUnavailable"

// UseReports makes r the reader of GET /v1/report (without one the
// endpoint answers 501). Call it before the Handler serves.
func (h *Handler) UseReports(r ReportReader) { h.reports = r }

// reportQuery are the query parameters GET /v1/report takes.
var reportQuery = []string{"since", "instances", "RegionId", "AccountId"}

// getReport answers GET /v1/report: signed like getJob, for the instances
// the caller's route allows.
func (h *Handler) getReport(ctx context.Context, ev events.HTTPEvent, body []byte, c *call) events.HTTPResponse {
	rt, _, fail := h.authSigned(ev, body, c)
	if fail != nil {
		return *fail
	}
	for k := range ev.QueryParameters {
		if !slices.Contains(reportQuery, k) {
			c.reason = "unknown query parameter"
			return errorResponse(400, backup.CodeParametersInvalid, "query",
				fmt.Sprintf("query parameter %s: unknown (the report takes since, instances, RegionId and AccountId)", backup.Quote(k, 32)))
		}
	}
	since := DefaultReportSince
	if v, ok := ev.QueryParameters["since"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < MinReportSince || d > MaxReportSince {
			c.reason = "bad since"
			return errorResponse(400, backup.CodeParametersInvalid, "since",
				"since "+backup.Quote(v, 32)+": a duration from 1m to 840h (35 days), such as 24h")
		}
		since = d
	}
	// A member account's instances (a plan across accounts): by grammar
	// here, allowed by the deployment in the reader, and only for a route
	// that allows every instance — a route's allow names instance ids of
	// the functions' own account.
	account := ev.Query("AccountId")
	if _, ok := ev.QueryParameters["AccountId"]; ok {
		if !backup.ValidAccountID(account) {
			c.reason = "bad AccountId"
			return errorResponse(400, backup.CodeAccountFormat, "AccountId", "AccountId "+backup.Quote(account, 32)+": an Alibaba Cloud account id, 16 digits")
		}
		if !slices.Equal(rt.Allow, []string{"*"}) {
			c.reason = "AccountId on a route that does not allow every instance"
			return errorResponse(403, backup.CodeAccountNotAllowed, "AccountId",
				fmt.Sprintf("AccountId: route %q may report only the instances it allows; a member account's report needs a route that allows \"*\"", rt.Name))
		}
	}
	region := ev.Query("RegionId")
	if v := h.regions(ctx).Check("RegionId", region); v != nil {
		c.reason = "region refused: " + violationReason(v)
		return violationResponse(v, "")
	}
	var ids []string
	if v, ok := ev.QueryParameters["instances"]; ok {
		for _, id := range strings.Split(v, ",") {
			if !backup.ValidInstanceID(id) {
				c.reason = "bad instances: " + backup.CodeInstanceIdFormat
				return jsonResponse(400, errorBody{Error: errorInfo{Code: backup.CodeInstanceIdFormat, Field: "instances",
					Message: "instances: DBInstanceId " + backup.Quote(id, 72) + ": " + backup.InstanceIdRule + " (a comma-separated list)"}})
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
			if len(ids) > h.maxReqs {
				break
			}
		}
	} else {
		for _, p := range rt.Allow {
			if strings.ContainsAny(p, `*?[\`) {
				c.reason = "no instances named and the route allows patterns"
				return errorResponse(400, backup.CodeParametersInvalid, "instances",
					fmt.Sprintf("instances: required: route %q allows patterns: name the instances (?instances=id1,id2)", rt.Name))
			}
			if backup.ValidInstanceID(p) && !slices.Contains(ids, p) {
				ids = append(ids, p)
			}
		}
	}
	if len(ids) > h.maxReqs {
		c.reason = "too many instances"
		return errorResponse(413, CodePayloadTooLarge, "instances",
			fmt.Sprintf("instances: at most %d in one report", h.maxReqs))
	}
	for _, id := range ids {
		if !allowed(rt.Allow, id) {
			c.reason = "instance not allowed"
			return jsonResponse(403, errorBody{Error: errorInfo{Code: CodeNotAllowed, Field: "instances", DBInstanceId: id,
				Message: fmt.Sprintf("route %q does not allow instance %s", rt.Name, id)}})
		}
	}
	if h.reports == nil {
		return errorResponse(501, CodeNotConfigured, "", "the report is not available in this deployment (it needs the ask ledger, BACKUP_LEDGER_ENDPOINT)")
	}
	from := h.now().Add(-since).UTC().Truncate(time.Second)
	c.requests = len(ids)
	out := []InstanceReport{}
	if len(ids) > 0 {
		got, err := h.reports.Report(ctx, account, region, ids, from)
		var v *backup.Violation
		if errors.As(err, &v) {
			c.reason = "Report refused: " + violationReason(v)
			return violationResponse(v, "")
		}
		if err != nil {
			c.reason = "Report: " + err.Error()
			return errorResponse(502, CodeReportUnavailable, "", "could not read the report; try again")
		}
		out = got
	}
	for i := range out {
		if out[i].Problems == nil {
			out[i].Problems = []ReportProblem{}
		}
	}
	return jsonResponse(200, reportBody{Since: from, Instances: out})
}

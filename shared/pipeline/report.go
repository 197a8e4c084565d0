package pipeline

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Report is the answer of GET /v1/report: per instance its last Finished
// backup and the asks since Since that were refused, failed or deferred.
type Report struct {
	Since     time.Time        `json:"since"`
	Instances []InstanceReport `json:"instances"`
}

// InstanceReport is one instance of a Report.
type InstanceReport struct {
	DBInstanceId string          `json:"DBInstanceId"`
	LastFinished *FinishedBackup `json:"lastFinished"`
	Problems     []Problem       `json:"problems"`
	Error        *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// FinishedBackup is a backup set that succeeded.
type FinishedBackup struct {
	BackupId      string    `json:"BackupId"`
	BackupMethod  string    `json:"BackupMethod"`
	BackupEndTime time.Time `json:"BackupEndTime"`
}

// Problem is an ask that was refused (rejected), failed or deferred.
type Problem struct {
	Time         time.Time `json:"time"`
	Status       string    `json:"status"`
	Code         string    `json:"code,omitempty"`
	BackupMethod string    `json:"backupMethod,omitempty"`
}

// ReportQuery is what a report asks for.
type ReportQuery struct {
	Since     time.Duration // 0: the webhook's default (24h)
	Instances []string      // none: the exact ids of the caller's route allow
	Region    string        // RegionId, optional
	Account   string        // AccountId, optional: a member account (docs/fleets.md)
}

// Report reads GET /v1/report once. Its error classifies like a status
// read's: CouldNotReach says whether the webhook could not be reached.
func (c *Client) Report(ctx context.Context, q ReportQuery) (Report, error) {
	v := url.Values{}
	if q.Since > 0 {
		v.Set("since", q.Since.String())
	}
	if len(q.Instances) > 0 {
		v.Set("instances", strings.Join(q.Instances, ","))
	}
	if q.Account != "" {
		v.Set("AccountId", q.Account)
	}
	if q.Region != "" {
		v.Set("RegionId", q.Region)
	}
	var r Report
	status, err := c.do(ctx, http.MethodGet, "/v1/report", v, nil, nil, &r)
	if err != nil {
		return Report{}, err
	}
	if r.Since.IsZero() || r.Instances == nil {
		return Report{}, &AnswerError{Status: status, Err: errors.New("the answer is not a report")}
	}
	return r, nil
}

// Stale lists the instances of r without a backup that finished within d
// of now (none at all, or an older one), and those whose backups could not
// be read: either has no proof of a recent backup.
func (r Report) Stale(d time.Duration, now time.Time) []InstanceReport {
	var out []InstanceReport
	for _, in := range r.Instances {
		if in.LastFinished == nil || now.Sub(in.LastFinished.BackupEndTime) > d {
			out = append(out, in)
		}
	}
	return out
}

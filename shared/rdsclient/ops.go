package rdsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// Actions, as the API names them.
const (
	ActionCreateBackup                = "CreateBackup"
	ActionDescribeDBInstanceAttribute = "DescribeDBInstanceAttribute"
	ActionDescribeBackupTasks         = "DescribeBackupTasks"
	ActionDescribeBackups             = "DescribeBackups"
	ActionDescribeDatabases           = "DescribeDatabases"
	ActionDescribeDBInstances         = "DescribeDBInstances"
)

// Paging limits.
const (
	pageSize = 100 // the largest page of DescribeBackups, DescribeDBInstances
	maxPages = 50  // guard against a server that ignores PageNumber
)

// BackupSet is a backup set as DescribeBackups reports it.
type BackupSet struct {
	BackupId string
	Method   string // Logical, Physical, Snapshot
	Mode     string // Automated, Manual
	Status   string // Success, Failed
	Type     string // FullBackup, IncrementalBackup
	Start    time.Time
	End      time.Time
}

// DescribeInstance reads the instance's facts with DescribeDBInstanceAttribute:
// engine, version, status, lock mode, type, category, storage type. An answer
// without the instance is reported as InvalidDBInstanceId.NotFound (as
// terraform-provider-alicloud treats it).
func (c *Client) DescribeInstance(ctx context.Context, region, id string) (backup.InstanceFacts, string, error) {
	resp, err := call(ctx, c, region, ActionDescribeDBInstanceAttribute, id, func(cl *rds.Client) (*rds.DescribeDBInstanceAttributeResponse, error) {
		return cl.DescribeDBInstanceAttributeWithOptions(&rds.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String(id)}, c.runtime(ctx))
	})
	if err != nil {
		return backup.InstanceFacts{}, "", err
	}
	body := resp.Body
	if body == nil {
		return backup.InstanceFacts{}, "", notFound(ActionDescribeDBInstanceAttribute, id, "")
	}
	reqID := tea.StringValue(body.RequestId)
	if body.Items == nil || len(body.Items.DBInstanceAttribute) == 0 || body.Items.DBInstanceAttribute[0] == nil {
		return backup.InstanceFacts{}, reqID, notFound(ActionDescribeDBInstanceAttribute, id, reqID)
	}
	a := body.Items.DBInstanceAttribute[0]
	f := backup.InstanceFacts{
		DBInstanceId:  id,
		RegionId:      tea.StringValue(a.RegionId),
		Engine:        tea.StringValue(a.Engine),
		EngineVersion: tea.StringValue(a.EngineVersion),
		Status:        tea.StringValue(a.DBInstanceStatus),
		LockMode:      tea.StringValue(a.LockMode),
		InstanceType:  tea.StringValue(a.DBInstanceType),
		Category:      tea.StringValue(a.Category),
		StorageType:   tea.StringValue(a.DBInstanceStorageType),
	}
	if f.RegionId == "" {
		f.RegionId = c.region(region)
	}
	return f, reqID, nil
}

func notFound(action, id, reqID string) *APIError {
	return &APIError{Action: action, Code: backup.CodeInstanceNotFound, HTTPStatus: 404, RequestID: reqID,
		Message: fmt.Sprintf("instance %s not found (the answer listed no instance)", id)}
}

// OngoingJobs lists the instance's unfinished backup tasks
// (DescribeBackupTasks without a job id; the API returns NoStart and
// Progressing tasks, and any Finished or Failed one is dropped here too).
func (c *Client) OngoingJobs(ctx context.Context, region, id string) ([]backup.Job, string, error) {
	jobs, reqID, err := c.backupTasks(ctx, region, id, nil)
	if err != nil {
		return nil, reqID, err
	}
	out := jobs[:0]
	for _, j := range jobs {
		if !j.Terminal() {
			out = append(out, j)
		}
	}
	return out, reqID, nil
}

// Job reads one backup task (DescribeBackupTasks with BackupJobId, an int32
// in the SDK). found is false when the API does not list it.
func (c *Client) Job(ctx context.Context, region, id, jobID string) (backup.Job, bool, string, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(jobID), 10, 32)
	if err != nil || n <= 0 {
		return backup.Job{}, false, "", &ConfigError{Msg: fmt.Sprintf("BackupJobId %q: must be a positive 32-bit number", jobID)}
	}
	jobs, reqID, err := c.backupTasks(ctx, region, id, tea.Int32(int32(n)))
	if err != nil {
		return backup.Job{}, false, reqID, err
	}
	for _, j := range jobs {
		if j.BackupJobId == strconv.FormatInt(n, 10) {
			return j, true, reqID, nil
		}
	}
	return backup.Job{}, false, reqID, nil
}

func (c *Client) backupTasks(ctx context.Context, region, id string, jobID *int32) ([]backup.Job, string, error) {
	req := &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String(id), BackupJobId: jobID}
	resp, err := call(ctx, c, region, ActionDescribeBackupTasks, id, func(cl *rds.Client) (*rds.DescribeBackupTasksResponse, error) {
		return cl.DescribeBackupTasksWithOptions(req, c.runtime(ctx))
	})
	if err != nil {
		return nil, "", err
	}
	if resp.Body == nil {
		return nil, "", nil
	}
	reqID := tea.StringValue(resp.Body.RequestId)
	var jobs []backup.Job
	if resp.Body.Items != nil {
		for _, j := range resp.Body.Items.BackupJob {
			if j == nil {
				continue
			}
			jobs = append(jobs, backup.Job{
				BackupJobId:  tea.StringValue(j.BackupJobId),
				BackupStatus: tea.StringValue(j.BackupStatus),
				Process:      tea.StringValue(j.Process),
				JobMode:      tea.StringValue(j.JobMode),
				BackupId:     tea.StringValue(j.BackupId),
			})
		}
	}
	return jobs, reqID, nil
}

// recentSpan is how far past since RecentBackups' EndTime lies: the API
// wants both ends, and the executor's since is at most a day and a
// coalescing window back. Derived from since, not from the wall clock, so an
// injected clock works.
const recentSpan = 72 * time.Hour

// StartTimeLayout is DescribeBackups' StartTime/EndTime format (UTC, minutes).
const StartTimeLayout = "2006-01-02T15:04Z"

// RecentBackups lists the backup sets that started at or after since
// (DescribeBackups, StartTime in UTC truncated to the minute, 100 a page, every
// page; one call for fewer than 100 sets). The request id is the first page's.
func (c *Client) RecentBackups(ctx context.Context, region, id string, since time.Time) ([]BackupSet, string, error) {
	start := since.UTC().Truncate(time.Minute)
	var out []BackupSet
	firstReqID := ""
	seen := map[string]bool{}
	for page := 1; page <= maxPages; page++ {
		req := &rds.DescribeBackupsRequest{
			DBInstanceId: tea.String(id),
			StartTime:    tea.String(start.Format(StartTimeLayout)),
			EndTime:      tea.String(start.Add(recentSpan).Format(StartTimeLayout)),
			PageNumber:   tea.Int32(int32(page)),
			PageSize:     tea.Int32(pageSize),
		}
		resp, err := call(ctx, c, region, ActionDescribeBackups, id, func(cl *rds.Client) (*rds.DescribeBackupsResponse, error) {
			return cl.DescribeBackupsWithOptions(req, c.runtime(ctx))
		})
		if err != nil {
			return nil, firstReqID, err
		}
		if resp.Body == nil {
			break
		}
		if page == 1 {
			firstReqID = tea.StringValue(resp.Body.RequestId)
		}
		n, fresh := 0, 0
		if resp.Body.Items != nil {
			for _, b := range resp.Body.Items.Backup {
				if b == nil {
					continue
				}
				n++
				set := BackupSet{
					BackupId: tea.StringValue(b.BackupId),
					Method:   tea.StringValue(b.BackupMethod),
					Mode:     tea.StringValue(b.BackupMode),
					Status:   tea.StringValue(b.BackupStatus),
					Type:     tea.StringValue(b.BackupType),
					Start:    parseTime(tea.StringValue(b.BackupStartTime)),
					End:      parseTime(tea.StringValue(b.BackupEndTime)),
				}
				if set.BackupId != "" && seen[set.BackupId] {
					continue
				}
				seen[set.BackupId] = true
				fresh++
				out = append(out, set)
			}
		}
		total, _ := strconv.Atoi(tea.StringValue(resp.Body.TotalRecordCount))
		if n < pageSize || fresh == 0 || (total > 0 && len(out) >= total) {
			break
		}
	}
	return out, firstReqID, nil
}

func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339, StartTimeLayout, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Databases lists the instance's database names (DescribeDatabases, 100 a
// page, every page) and the engine the answer names (each item carries it;
// "" when the instance has no database).
func (c *Client) Databases(ctx context.Context, region, id string) ([]string, string, string, error) {
	var names []string
	engine := ""
	firstReqID := ""
	for page := 1; page <= maxPages; page++ {
		req := &rds.DescribeDatabasesRequest{DBInstanceId: tea.String(id), PageNumber: tea.Int32(int32(page)), PageSize: tea.Int32(pageSize)}
		resp, err := call(ctx, c, region, ActionDescribeDatabases, id, func(cl *rds.Client) (*rds.DescribeDatabasesResponse, error) {
			return cl.DescribeDatabasesWithOptions(req, c.runtime(ctx))
		})
		if err != nil {
			return nil, "", firstReqID, err
		}
		if resp.Body == nil {
			break
		}
		if page == 1 {
			firstReqID = tea.StringValue(resp.Body.RequestId)
		}
		n, fresh := 0, 0
		if resp.Body.Databases != nil {
			for _, d := range resp.Body.Databases.Database {
				if d == nil {
					continue
				}
				n++
				if engine == "" {
					engine = tea.StringValue(d.Engine)
				}
				name := tea.StringValue(d.DBName)
				if name == "" || slices.Contains(names, name) {
					continue
				}
				fresh++
				names = append(names, name)
			}
		}
		if n < pageSize || fresh == 0 {
			break
		}
	}
	return names, engine, firstReqID, nil
}

// CreateBackup sends CreateBackup for r (see ToCreateBackupRequest) in r's
// region and returns the backup job id and the RDS request id.
func (c *Client) CreateBackup(ctx context.Context, r backup.Request) (string, string, error) {
	req := ToCreateBackupRequest(r)
	resp, err := call(ctx, c, r.RegionId, ActionCreateBackup, r.DBInstanceId, func(cl *rds.Client) (*createdBackup, error) {
		return createBackup(cl, req, c.runtime(ctx)) // the answer read by hand (answers.go)
	})
	if err != nil {
		return "", "", err
	}
	reqID, jobID := string(resp.RequestId), string(resp.BackupJobId)
	if jobID == "" {
		// Accepted without a job id: the job exists but we cannot name it.
		// Reported as an error with the request id, classified transient so
		// the caller looks again (and finds the job running).
		return "", reqID, fmt.Errorf("rdsclient: %s %s: answer %s carried no BackupJobId", ActionCreateBackup, r.DBInstanceId, reqID)
	}
	return jobID, reqID, nil
}

// ToCreateBackupRequest is the CreateBackup request for r: only the
// parameters that are set, DBName joined with commas. The region is not a
// parameter: it chooses the endpoint.
func ToCreateBackupRequest(r backup.Request) *rds.CreateBackupRequest {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return tea.String(s)
	}
	return &rds.CreateBackupRequest{
		DBInstanceId:   opt(r.DBInstanceId),
		DBName:         opt(strings.Join(r.DBName, ",")),
		BackupStrategy: opt(r.BackupStrategy),
		BackupMethod:   opt(r.BackupMethod),
		BackupType:     opt(r.BackupType),
	}
}

// ListInstances lists one page of the instances that sel picks
// (DescribeDBInstances with RegionId, Engine and the Tags JSON filter), each
// with the facts the listing carries (engine, status, lock mode, type,
// storage type: DESIGN.md §2, a fan-out item needs no read of its own), and
// the total number of matches. RegionId is required by the API: sel's, else
// the default region.
func (c *Client) ListInstances(ctx context.Context, sel backup.Selector, pageNumber, size int) ([]backup.InstanceFacts, int, string, error) {
	region := c.region(sel.RegionId)
	if region == "" {
		return nil, 0, "", &ConfigError{Msg: "DescribeDBInstances needs a RegionId: set the selector's RegionId or Config.RegionID"}
	}
	if pageNumber < 1 {
		pageNumber = 1
	}
	if size < 1 || size > pageSize {
		size = pageSize
	}
	// The typed request's fields, as the SDK renders them on the wire.
	query := map[string]*string{
		"RegionId":   tea.String(region),
		"PageNumber": tea.String(strconv.Itoa(pageNumber)),
		"PageSize":   tea.String(strconv.Itoa(size)),
	}
	if sel.Engine != "" {
		query["Engine"] = tea.String(sel.Engine)
	}
	if len(sel.Tags) > 0 {
		tags, err := json.Marshal(sel.Tags) // keys sorted: the same selector, the same query
		if err != nil {
			return nil, 0, "", &ConfigError{Msg: "Tags", Err: err}
		}
		query["Tags"] = tea.String(string(tags))
	}
	page, err := call(ctx, c, region, ActionDescribeDBInstances, "", func(cl *rds.Client) (*instancePage, error) {
		return describeDBInstances(cl, query, c.runtime(ctx)) // the page decoded by hand (answers.go)
	})
	if err != nil {
		return nil, 0, "", err
	}
	var out []backup.InstanceFacts
	for _, in := range page.Items.DBInstance {
		if in.DBInstanceId == "" {
			continue
		}
		out = append(out, backup.InstanceFacts{
			DBInstanceId:  string(in.DBInstanceId),
			RegionId:      region,
			Engine:        string(in.Engine),
			EngineVersion: string(in.EngineVersion),
			Status:        string(in.DBInstanceStatus),
			LockMode:      string(in.LockMode),
			InstanceType:  string(in.DBInstanceType),
			Category:      string(in.Category),
			StorageType:   string(in.DBInstanceStorageType),
		})
	}
	return out, int(page.TotalRecordCount), string(page.RequestId), nil
}

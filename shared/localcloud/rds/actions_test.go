package rds

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

func TestJobLifecycle(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v2=%v", v2), func(t *testing.T) {
			e := newEnv(t) // 100 s jobs
			e.srv.AddInstance(Instance{DBInstanceId: "rm-life", Engine: "MySQL", Databases: []string{"app"}})
			cli := e.client(t, e.cred, v2)
			jobID, err := createBackup(cli, "rm-life")
			noErr(t, err)
			if jobID != "5073731" {
				t.Errorf("first BackupJobId = %q, want 5073731", jobID)
			}
			steps := []struct {
				at                 time.Duration
				status, process    string
				listedWithoutJobId bool
			}{
				{0, "NoStart", "0", true},
				{5 * time.Second, "NoStart", "0", true},
				// BackupStatus passes through the documented values in the
				// order of the documented BackupProgressStatus list: NoStart,
				// Preparing, Waiting, Uploading, Checking, Finished [BT].
				{15 * time.Second, "Preparing", "15", true},
				{25 * time.Second, "Waiting", "25", true},
				{30 * time.Second, "Uploading", "30", true},
				{75 * time.Second, "Uploading", "75", true},
				{95 * time.Second, "Checking", "95", true},
				{99 * time.Second, "Checking", "99", true},
				{100 * time.Second, "Finished", "100", false},
				{time.Hour, "Finished", "100", false},
			}
			lastProcess := -1
			for _, st := range steps {
				e.clock.Set(t0.Add(st.at))
				j := task(t, cli, "rm-life", jobID)
				if got := tea.StringValue(j.BackupStatus); got != st.status {
					t.Fatalf("at %v: BackupStatus = %s, want %s", st.at, got, st.status)
				}
				if tea.StringValue(j.BackupProgressStatus) != st.status || tea.StringValue(j.Process) != st.process ||
					tea.StringValue(j.JobMode) != "Manual" || tea.StringValue(j.TaskAction) != "TempBackupTask" || tea.StringValue(j.BackupJobId) != jobID {
					t.Fatalf("at %v: job = %v", st.at, j)
				}
				p, _ := strconv.Atoi(tea.StringValue(j.Process))
				if p < lastProcess {
					t.Fatalf("at %v: Process fell from %d to %d", st.at, lastProcess, p)
				}
				lastProcess = p
				if (st.status == "Finished") != (tea.StringValue(j.BackupId) != "") {
					t.Fatalf("at %v: BackupId = %q", st.at, tea.StringValue(j.BackupId))
				}
				list, err := cli.DescribeBackupTasks(&rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-life")})
				noErr(t, err)
				if got := len(list.Body.Items.BackupJob); got != map[bool]int{true: 1, false: 0}[st.listedWithoutJobId] {
					t.Fatalf("at %v: DescribeBackupTasks without BackupJobId lists %d jobs", st.at, got)
				}
			}
			finished := task(t, cli, "rm-life", jobID)
			resp, err := cli.DescribeBackups(&rds.DescribeBackupsRequest{
				DBInstanceId: tea.String("rm-life"),
				StartTime:    tea.String(t0.Add(-time.Minute).Format("2006-01-02T15:04Z")),
				EndTime:      tea.String(t0.Add(time.Minute).Format("2006-01-02T15:04Z")),
			})
			noErr(t, err)
			b := resp.Body
			if tea.StringValue(b.TotalRecordCount) != "1" || tea.StringValue(b.PageNumber) != "1" || tea.StringValue(b.PageRecordCount) != "1" {
				t.Fatalf("DescribeBackups counters = %s/%s/%s", tea.StringValue(b.PageNumber), tea.StringValue(b.PageRecordCount), tea.StringValue(b.TotalRecordCount))
			}
			set := b.Items.Backup[0]
			want := map[string]string{
				"BackupId":        tea.StringValue(finished.BackupId),
				"DBInstanceId":    "rm-life",
				"BackupStatus":    "Success",
				"BackupMode":      "Manual",
				"BackupMethod":    "Physical",
				"BackupType":      "FullBackup",
				"BackupInitiator": "User",
				"BackupStartTime": "2026-03-02T01:00:00Z",
				"BackupEndTime":   "2026-03-02T01:01:40Z",
			}
			got := map[string]string{
				"BackupId": tea.StringValue(set.BackupId), "DBInstanceId": tea.StringValue(set.DBInstanceId),
				"BackupStatus": tea.StringValue(set.BackupStatus), "BackupMode": tea.StringValue(set.BackupMode),
				"BackupMethod": tea.StringValue(set.BackupMethod), "BackupType": tea.StringValue(set.BackupType),
				"BackupInitiator": tea.StringValue(set.BackupInitiator), "BackupStartTime": tea.StringValue(set.BackupStartTime),
				"BackupEndTime": tea.StringValue(set.BackupEndTime),
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("backup set %s = %q, want %q", k, got[k], v)
				}
			}
			if tea.Int32Value(set.IsAvail) != 1 || tea.Int64Value(set.BackupSize) <= 0 {
				t.Errorf("backup set IsAvail/BackupSize = %d/%d", tea.Int32Value(set.IsAvail), tea.Int64Value(set.BackupSize))
			}
			jobs := e.srv.Jobs("rm-life")
			if len(jobs) != 1 || jobs[0].BackupStatus != "Finished" || jobs[0].BackupId != want["BackupId"] {
				t.Errorf("Jobs = %+v", jobs)
			}
			if got := e.srv.CreatedBackups()["rm-life"]; got != 1 {
				t.Errorf("CreatedBackups = %d", got)
			}
		})
	}
}

func TestDescribeBackupTasks(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
	e.srv.AddInstance(Instance{DBInstanceId: "rm-2"})
	cli := e.cli(t)
	jobID, err := createBackup(cli, "rm-1")
	noErr(t, err)
	list := func(req *rds.DescribeBackupTasksRequest) (int, error) {
		resp, err := cli.DescribeBackupTasks(req)
		if err != nil {
			return 0, err
		}
		return len(resp.Body.Items.BackupJob), nil
	}
	n, _ := parseJobID(jobID)
	cases := []struct {
		name       string
		at         time.Duration
		req        *rds.DescribeBackupTasksRequest
		want       int
		wantCode   string
		wantStatus int
	}{
		{"NoStart filter matches", 0, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1"), BackupJobStatus: tea.String("NoStart")}, 1, "", 0},
		{"Progressing filter skips NoStart", 0, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1"), BackupJobStatus: tea.String("Progressing")}, 0, "", 0},
		{"Progressing filter matches Uploading", 50 * time.Second, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1"), BackupJobStatus: tea.String("Progressing")}, 1, "", 0},
		{"Automated mode", 50 * time.Second, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1"), BackupMode: tea.String("Automated")}, 0, "", 0},
		{"other instance's job", 50 * time.Second, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-2"), BackupJobId: tea.Int32(n)}, 0, "", 0},
		{"unknown job id", 50 * time.Second, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1"), BackupJobId: tea.Int32(1)}, 0, "", 0},
		{"finished, by id", 200 * time.Second, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1"), BackupJobId: tea.Int32(n)}, 1, "", 0},
		{"finished, listed", 200 * time.Second, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1")}, 0, "", 0},
		{"unknown instance", 0, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-none")}, 0, "InvalidDBInstanceId.NotFound", 404},
		{"no instance", 0, &rds.DescribeBackupTasksRequest{}, 0, "MissingDBInstanceId", 400},
		{"bad status filter", 0, &rds.DescribeBackupTasksRequest{DBInstanceId: tea.String("rm-1"), BackupJobStatus: tea.String("Finished")}, 0, "InvalidParameter", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Set(t0.Add(tc.at))
			got, err := list(tc.req)
			if tc.wantCode != "" {
				wantErr(t, err, tc.wantCode, tc.wantStatus)
				return
			}
			noErr(t, err)
			if got != tc.want {
				t.Errorf("jobs = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDescribeBackups(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-1"})
	// 75 sets, one an hour back from t0: every third Automated, every tenth Failed.
	for i := range 75 {
		b := Backup{BackupStartTime: t0.Add(-time.Duration(i+1) * time.Hour), BackupMode: "Manual"}
		if i%3 == 0 {
			b.BackupMode = "Automated"
		}
		if i%10 == 0 {
			b.BackupStatus = "Failed"
		}
		e.srv.AddBackup("rm-1", b)
	}
	cli := e.cli(t)
	type page struct {
		number, records, total string
		first                  string // BackupStartTime of the first item
	}
	get := func(req *rds.DescribeBackupsRequest) (page, []*rds.DescribeBackupsResponseBodyItemsBackup, error) {
		req.DBInstanceId = tea.String("rm-1")
		resp, err := cli.DescribeBackups(req)
		if err != nil {
			return page{}, nil, err
		}
		b := resp.Body
		p := page{number: tea.StringValue(b.PageNumber), records: tea.StringValue(b.PageRecordCount), total: tea.StringValue(b.TotalRecordCount)}
		if len(b.Items.Backup) > 0 {
			p.first = tea.StringValue(b.Items.Backup[0].BackupStartTime)
		}
		return p, b.Items.Backup, nil
	}
	cases := []struct {
		name       string
		req        rds.DescribeBackupsRequest
		want       page
		wantCode   string
		wantStatus int
	}{
		{"default page", rds.DescribeBackupsRequest{}, page{"1", "30", "75", "2026-03-02T00:00:00Z"}, "", 0},
		{"page 3 of 30", rds.DescribeBackupsRequest{PageNumber: tea.Int32(3)}, page{"3", "15", "75", "2026-02-27T12:00:00Z"}, "", 0},
		{"page 2 of 50", rds.DescribeBackupsRequest{PageSize: tea.Int32(50), PageNumber: tea.Int32(2)}, page{"2", "25", "75", "2026-02-27T22:00:00Z"}, "", 0},
		{"past the end", rds.DescribeBackupsRequest{PageSize: tea.Int32(100), PageNumber: tea.Int32(2)}, page{"2", "0", "75", ""}, "", 0},
		{"Manual only", rds.DescribeBackupsRequest{BackupMode: tea.String("Manual"), PageSize: tea.Int32(100)}, page{"1", "50", "50", "2026-03-01T23:00:00Z"}, "", 0},
		{"Failed only", rds.DescribeBackupsRequest{BackupStatus: tea.String("Failed")}, page{"1", "8", "8", "2026-03-02T00:00:00Z"}, "", 0},
		{"time window", rds.DescribeBackupsRequest{StartTime: tea.String("2026-03-01T20:00Z"), EndTime: tea.String("2026-03-01T22:30Z")}, page{"1", "3", "3", "2026-03-01T22:00:00Z"}, "", 0},
		{"bad PageSize", rds.DescribeBackupsRequest{PageSize: tea.Int32(20)}, page{}, "InvalidParameter", 400},
		{"bad StartTime", rds.DescribeBackupsRequest{StartTime: tea.String("2026-03-01 20:00")}, page{}, "InvalidStartTime.Malformed", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			got, _, err := get(&req)
			if tc.wantCode != "" {
				wantErr(t, err, tc.wantCode, tc.wantStatus)
				return
			}
			noErr(t, err)
			if got != tc.want {
				t.Errorf("page = %+v, want %+v", got, tc.want)
			}
		})
	}
	_, items, err := get(&rds.DescribeBackupsRequest{BackupMode: tea.String("Automated"), PageSize: tea.Int32(100)})
	noErr(t, err)
	for _, b := range items {
		if tea.StringValue(b.BackupInitiator) != "System" {
			t.Fatalf("automated set initiator = %s", tea.StringValue(b.BackupInitiator))
		}
	}
	_, err = cli.DescribeBackups(&rds.DescribeBackupsRequest{DBInstanceId: tea.String("rm-none")})
	wantErr(t, err, "InvalidDBInstanceId.NotFound", 404)
}

func TestDescribeDBInstanceAttribute(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-pg", Engine: "PostgreSQL", DBInstanceStorageType: "local_ssd", LockMode: "LockByDiskQuota", DBInstanceType: "Readonly"})
	cli := e.cli(t)
	resp, err := cli.DescribeDBInstanceAttribute(&rds.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String("rm-pg")})
	noErr(t, err)
	items := resp.Body.Items.DBInstanceAttribute
	if len(items) != 1 {
		t.Fatalf("items = %d", len(items))
	}
	a := items[0]
	got := []string{tea.StringValue(a.DBInstanceId), tea.StringValue(a.Engine), tea.StringValue(a.EngineVersion), tea.StringValue(a.DBInstanceStatus),
		tea.StringValue(a.LockMode), tea.StringValue(a.DBInstanceType), tea.StringValue(a.Category), tea.StringValue(a.DBInstanceStorageType),
		tea.StringValue(a.RegionId), tea.StringValue(a.Port), tea.StringValue(a.DBInstanceClass)}
	want := []string{"rm-pg", "PostgreSQL", "14.0", "Running", "LockByDiskQuota", "Readonly", "HighAvailability", "local_ssd", "cn-hangzhou", "5432", "pg.n2.medium.2c"}
	if !slices.Equal(got, want) {
		t.Errorf("attribute = %v, want %v", got, want)
	}
	if tea.Int32Value(a.DBInstanceStorage) != 100 || tea.BoolValue(a.DeletionProtection) || tea.StringValue(a.LockReason) == "" {
		t.Errorf("attribute = %v", a)
	}
	if tea.StringValue(resp.Body.RequestId) == "" || len(tea.StringValue(resp.Body.RequestId)) != 36 {
		t.Errorf("RequestId = %q", tea.StringValue(resp.Body.RequestId))
	}

	e.srv.SetStatus("rm-pg", "Rebooting")
	resp, err = cli.DescribeDBInstanceAttribute(&rds.DescribeDBInstanceAttributeRequest{DBInstanceId: tea.String("rm-pg")})
	noErr(t, err)
	if got := tea.StringValue(resp.Body.Items.DBInstanceAttribute[0].DBInstanceStatus); got != "Rebooting" {
		t.Errorf("after SetStatus: %s", got)
	}
	wantErr(t, attribute(cli, "rm-none"), "InvalidDBInstanceId.NotFound", 404)
	wantErr(t, attribute(cli, ""), "MissingDBInstanceId", 400)
}

func TestDescribeDatabases(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-ms", Engine: "SQLServer", Databases: []string{"sales", "hr", "ops"}})
	var many []string
	for i := range 32 {
		many = append(many, fmt.Sprintf("db%02d", i))
	}
	e.srv.AddInstance(Instance{DBInstanceId: "rm-many", Engine: "SQLServer", Databases: many})
	cli := e.cli(t)
	cases := []struct {
		name       string
		req        rds.DescribeDatabasesRequest
		want       []string
		wantCode   string
		wantStatus int
	}{
		{"all", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-ms")}, []string{"sales", "hr", "ops"}, "", 0},
		{"by name", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-ms"), DBName: tea.String("hr")}, []string{"hr"}, "", 0},
		{"no such name", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-ms"), DBName: tea.String("x")}, nil, "", 0},
		{"page size 50", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-ms"), PageSize: tea.Int32(50)}, []string{"sales", "hr", "ops"}, "", 0},
		{"page size 100", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-ms"), PageSize: tea.Int32(100)}, []string{"sales", "hr", "ops"}, "", 0},
		// PageSize "30, 50, 100"; "If the specified request parameters are
		// invalid, no database information is returned." [DB]
		{"page size 2 is not a valid value", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-ms"), PageSize: tea.Int32(2), PageNumber: tea.Int32(2)}, nil, "", 0},
		{"page size 1000 is not a valid value", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-ms"), PageSize: tea.Int32(1000)}, nil, "", 0},
		{"second page of 30", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-many"), PageSize: tea.Int32(30), PageNumber: tea.Int32(2)}, []string{"db30", "db31"}, "", 0},
		{"unknown instance", rds.DescribeDatabasesRequest{DBInstanceId: tea.String("rm-none")}, nil, "InvalidDBInstanceId.NotFound", 404},
		{"no instance", rds.DescribeDatabasesRequest{}, nil, "MissingDBInstanceId", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			resp, err := cli.DescribeDatabases(&req)
			if tc.wantCode != "" {
				wantErr(t, err, tc.wantCode, tc.wantStatus)
				return
			}
			noErr(t, err)
			var names []string
			for _, d := range resp.Body.Databases.Database {
				names = append(names, tea.StringValue(d.DBName))
				if tea.StringValue(d.DBStatus) != "Running" || tea.StringValue(d.Engine) != "SQLServer" || tea.StringValue(d.CharacterSetName) == "" {
					t.Errorf("database = %v", d)
				}
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("names = %v, want %v", names, tc.want)
			}
		})
	}
}

func TestDescribeDBInstancesPaging(t *testing.T) {
	e := newEnv(t)
	engines := []string{"MySQL", "PostgreSQL", "SQLServer"}
	type inst struct {
		id, engine string
		tags       map[string]string
	}
	var fleet []inst
	// Added in reverse to show the answer is ordered by id, not insertion.
	for i := 249; i >= 0; i-- {
		tags := map[string]string{"owner": "dba"}
		if i%2 == 0 {
			tags["env"] = "prod"
		}
		if i%5 == 0 {
			tags["team"] = "a"
		}
		in := inst{fmt.Sprintf("rm-%03d", i), engines[i%3], tags}
		fleet = append(fleet, in)
		e.srv.AddInstance(Instance{DBInstanceId: in.id, Engine: in.engine, Tags: in.tags})
	}
	for i := range 5 {
		e.srv.AddInstance(Instance{DBInstanceId: fmt.Sprintf("rm-sh%d", i), RegionId: "cn-shanghai", Tags: map[string]string{"env": "prod"}})
	}
	expect := func(engine string, tags map[string]string) []string {
		var ids []string
		for _, in := range fleet {
			ok := engine == "" || in.engine == engine
			for k, v := range tags {
				if in.tags[k] != v {
					ok = false
				}
			}
			if ok {
				ids = append(ids, in.id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	cli := e.cli(t)
	cases := []struct {
		name      string
		engine    string
		tags      map[string]string
		pageSize  int32
		wantPages int
		tokens    bool
	}{
		{"env=prod by 50", "", map[string]string{"env": "prod"}, 50, 3, false},
		{"env=prod,team=a by 10", "", map[string]string{"env": "prod", "team": "a"}, 10, 3, false},
		{"MySQL env=prod by 100", "MySQL", map[string]string{"env": "prod"}, 100, 1, false},
		{"all by default size", "", nil, 0, 9, false},
		{"all by 100", "", nil, 100, 3, false},
		{"no match", "", map[string]string{"env": "dev"}, 30, 1, false},
		{"env=prod with NextToken by 40", "", map[string]string{"env": "prod"}, 40, 4, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := expect(tc.engine, tc.tags)
			var got []string
			pages := 0
			next := ""
			for number := int32(1); ; number++ {
				req := &rds.DescribeDBInstancesRequest{RegionId: tea.String("cn-hangzhou")}
				if tc.engine != "" {
					req.Engine = tea.String(tc.engine)
				}
				if tc.tags != nil {
					js, _ := json.Marshal(tc.tags)
					req.Tags = tea.String(string(js))
				}
				switch {
				case tc.tokens:
					req.MaxResults = tea.Int32(tc.pageSize)
					if next != "" {
						req.NextToken = tea.String(next)
					}
				case tc.pageSize > 0:
					req.PageSize = tea.Int32(tc.pageSize)
					req.PageNumber = tea.Int32(number)
				default:
					req.PageNumber = tea.Int32(number)
				}
				resp, err := cli.DescribeDBInstances(req)
				noErr(t, err)
				b := resp.Body
				pages++
				if int(tea.Int32Value(b.TotalRecordCount)) != len(want) {
					t.Fatalf("TotalRecordCount = %d, want %d", tea.Int32Value(b.TotalRecordCount), len(want))
				}
				if int(tea.Int32Value(b.PageRecordCount)) != len(b.Items.DBInstance) {
					t.Fatalf("PageRecordCount = %d, items %d", tea.Int32Value(b.PageRecordCount), len(b.Items.DBInstance))
				}
				for _, in := range b.Items.DBInstance {
					got = append(got, tea.StringValue(in.DBInstanceId))
				}
				if tc.tokens {
					next = tea.StringValue(b.NextToken)
					if next == "" {
						break
					}
				} else if len(got) >= len(want) {
					break
				}
				if pages > 20 {
					t.Fatal("paging does not end")
				}
			}
			if pages != tc.wantPages {
				t.Errorf("pages = %d, want %d", pages, tc.wantPages)
			}
			if !slices.Equal(got, want) {
				t.Errorf("ids = %d (%v...), want %d", len(got), got[:min(3, len(got))], len(want))
			}
		})
	}

	errCases := []struct {
		name       string
		req        rds.DescribeDBInstancesRequest
		wantCode   string
		wantStatus int
	}{
		{"no RegionId", rds.DescribeDBInstancesRequest{}, "MissingRegionId", 400},
		{"PageSize 101", rds.DescribeDBInstancesRequest{RegionId: tea.String("cn-hangzhou"), PageSize: tea.Int32(101)}, "InvalidParameter", 400},
		{"Tags not JSON", rds.DescribeDBInstancesRequest{RegionId: tea.String("cn-hangzhou"), Tags: tea.String("env=prod")}, "InvalidTags.Format", 400},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			_, err := cli.DescribeDBInstances(&req)
			wantErr(t, err, tc.wantCode, tc.wantStatus)
		})
	}
	resp, err := cli.DescribeDBInstances(&rds.DescribeDBInstancesRequest{RegionId: tea.String("cn-shanghai")})
	noErr(t, err)
	if n := tea.Int32Value(resp.Body.TotalRecordCount); n != 5 {
		t.Errorf("cn-shanghai instances = %d, want 5", n)
	}
}

func TestState(t *testing.T) {
	e := newEnv(t)
	e.srv.AddInstance(Instance{DBInstanceId: "rm-1", Databases: []string{"app"}, Tags: map[string]string{"env": "prod"}})
	_, err := createBackup(e.cli(t), "rm-1")
	noErr(t, err)
	e.clock.Advance(time.Hour)
	out, err := json.Marshal(e.srv.State())
	noErr(t, err)
	var got struct {
		Instances []Instance          `json:"instances"`
		Jobs      map[string][]Job    `json:"jobs"`
		Backups   map[string][]Backup `json:"backups"`
		Counts    map[string]int      `json:"counts"`
		Created   map[string]int      `json:"createdBackups"`
	}
	noErr(t, json.Unmarshal(out, &got))
	if len(got.Instances) != 1 || got.Instances[0].Tags["env"] != "prod" || got.Instances[0].DBInstanceStatus != "Running" {
		t.Errorf("instances = %+v", got.Instances)
	}
	if j := got.Jobs["rm-1"]; len(j) != 1 || j[0].BackupStatus != "Finished" {
		t.Errorf("jobs = %+v", got.Jobs)
	}
	if b := got.Backups["rm-1"]; len(b) != 1 || b[0].BackupJobId != "5073731" {
		t.Errorf("backups = %+v", got.Backups)
	}
	if got.Counts["CreateBackup"] != 1 || got.Created["rm-1"] != 1 {
		t.Errorf("counts = %v, created = %v", got.Counts, got.Created)
	}
	// A fleet file's instance decodes into Instance with the API's names.
	var in Instance
	noErr(t, json.Unmarshal([]byte(`{"DBInstanceId":"rm-x","Engine":"MariaDB","DBInstanceStorageType":"local_ssd","Databases":["a"],"Tags":{"k":"v"}}`), &in))
	if in.DBInstanceId != "rm-x" || in.Engine != "MariaDB" || in.DBInstanceStorageType != "local_ssd" || in.Tags["k"] != "v" {
		t.Errorf("decoded instance = %+v", in)
	}
}

package rds

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// handler serves one action; the returned body gets the RequestId added.
type handler func(s *Server, req *request) (map[string]any, *apiError)

var actions = map[string]handler{
	"CreateBackup":                (*Server).createBackup,
	"DescribeBackupTasks":         (*Server).describeBackupTasks,
	"DescribeBackups":             (*Server).describeBackups,
	"DescribeDBInstanceAttribute": (*Server).describeDBInstanceAttribute,
	"DescribeDBInstances":         (*Server).describeDBInstances,
	"DescribeDatabases":           (*Server).describeDatabases,
}

// Actions lists the actions the server implements.
func Actions() []string { return slices.Sorted(maps.Keys(actions)) }

// route checks action and version, as the gateway does before anything else.
func route(req *request) (handler, *apiError) {
	if req.action == "" {
		return nil, errMissing("Action")
	}
	if req.pop.Version == "" {
		return nil, errMissing("Version")
	}
	if req.pop.Version != APIVersion {
		return nil, newErr(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid: %q.", req.pop.Version)
	}
	h, ok := actions[req.action]
	if !ok {
		return nil, newErr(http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
	}
	return h, nil
}

// maxTagFilters is how many tags DescribeDBInstances' Tags filter takes
// (its API page: up to 5 tags; that page is not in the reference folder).
const maxTagFilters = 5

// timeLayout is how the API writes times in answers.
const timeLayout = "2006-01-02T15:04:05Z"

func utc(t time.Time) string { return t.UTC().Format(timeLayout) }

// intParam parses an optional integer parameter within [lo, hi].
func intParam(req *request, name string, def, lo, hi int) (int, *apiError) {
	v := req.params.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errInvalidParam(name, v)
	}
	return n, nil
}

// page returns the [from, to) bounds of page number (1-based) of size.
func page(total, number, size int) (int, int) {
	from := min((number-1)*size, total)
	return from, min(from+size, total)
}

// instanceLocked returns the instance named by the DBInstanceId parameter.
// Another account's instance is answered like an unknown one.
func (s *Server) instanceLocked(req *request) (*Instance, *apiError) {
	if req.instance == "" {
		return nil, errMissing("DBInstanceId")
	}
	in, ok := s.instances[req.instance]
	if !ok || in.AccountId != req.account {
		return nil, errInstanceNotFound()
	}
	return in, nil
}

// ---- DescribeBackupTasks ----

func (s *Server) describeBackupTasks(req *request) (map[string]any, *apiError) {
	p := req.params
	var wantID int64 = -1
	if v := p.Get("BackupJobId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return nil, errInvalidParam("BackupJobId", v)
		}
		wantID = n
	}
	status := p.Get("BackupJobStatus")
	if status != "" && status != "NoStart" && status != "Progressing" {
		return nil, errInvalidParam("BackupJobStatus", status)
	}
	mode := p.Get("BackupMode")
	if mode != "" && mode != "Manual" && mode != "Automated" {
		return nil, errInvalidParam("BackupMode", mode)
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked(now)
	if _, e := s.instanceLocked(req); e != nil {
		return nil, e
	}
	items := []map[string]any{}
	for _, j := range s.jobs[req.instance] {
		v := j.view(now)
		switch {
		case wantID >= 0 && j.id != wantID:
			continue
		case wantID < 0 && !ongoing(v.BackupStatus):
			continue // without BackupJobId, only unfinished tasks
		case status != "" && (!ongoing(v.BackupStatus) || progressing(v.BackupStatus) != status):
			continue
		case mode != "" && mode != v.JobMode:
			continue
		}
		items = append(items, map[string]any{
			"BackupJobId":          v.BackupJobId,
			"BackupStatus":         v.BackupStatus,
			"BackupProgressStatus": v.BackupProgressStatus,
			"Process":              v.Process,
			"JobMode":              v.JobMode,
			"TaskAction":           v.TaskAction,
			"BackupId":             v.BackupId,
		})
	}
	return map[string]any{"Items": map[string]any{"BackupJob": items}}, nil
}

// ---- DescribeBackups ----

const minuteLayout = "2006-01-02T15:04Z"

func (s *Server) describeBackups(req *request) (map[string]any, *apiError) {
	p := req.params
	var from, to time.Time
	if v := p.Get("StartTime"); v != "" {
		t, err := time.Parse(minuteLayout, v)
		if err != nil {
			return nil, newErr(http.StatusBadRequest, "InvalidStartTime.Malformed", "Specified parameter StartTime is not valid: %q, want yyyy-MM-ddTHH:mmZ.", v)
		}
		from = t
	}
	if v := p.Get("EndTime"); v != "" {
		t, err := time.Parse(minuteLayout, v)
		if err != nil {
			return nil, newErr(http.StatusBadRequest, "InvalidEndTime.Malformed", "Specified parameter EndTime is not valid: %q, want yyyy-MM-ddTHH:mmZ.", v)
		}
		to = t
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, newErr(http.StatusBadRequest, "InvalidEndTime.BeforeStartTime", "EndTime %s is before StartTime %s.", p.Get("EndTime"), p.Get("StartTime"))
	}
	size := 30
	if v := p.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 30 && n != 50 && n != 100) {
			return nil, errInvalidParam("PageSize", v)
		}
		size = n
	}
	number, e := intParam(req, "PageNumber", 1, 1, 1<<30)
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked(now)
	if _, e := s.instanceLocked(req); e != nil {
		return nil, e
	}
	var match []Backup
	for _, b := range s.backupSetsLocked(req.instance, now) {
		switch {
		case !from.IsZero() && b.BackupStartTime.Before(from):
		case !to.IsZero() && b.BackupStartTime.After(to):
		case p.Get("BackupId") != "" && p.Get("BackupId") != b.BackupId:
		case p.Get("BackupMode") != "" && p.Get("BackupMode") != b.BackupMode:
		case p.Get("BackupStatus") != "" && p.Get("BackupStatus") != b.BackupStatus:
		case p.Get("BackupType") != "" && p.Get("BackupType") != b.BackupType:
		default:
			match = append(match, b)
		}
	}
	lo, hi := page(len(match), number, size)
	items := []map[string]any{}
	for _, b := range match[lo:hi] {
		avail := 0
		if b.BackupStatus == "Success" {
			avail = 1
		}
		items = append(items, map[string]any{
			"BackupId":                  b.BackupId,
			"DBInstanceId":              b.DBInstanceId,
			"BackupStatus":              b.BackupStatus,
			"BackupStartTime":           utc(b.BackupStartTime),
			"BackupEndTime":             utc(b.BackupEndTime),
			"BackupType":                b.BackupType,
			"BackupMode":                b.BackupMode,
			"BackupMethod":              b.BackupMethod,
			"BackupSize":                b.BackupSize,
			"BackupInitiator":           b.initiator(),
			"IsAvail":                   avail,
			"MetaStatus":                "OK",
			"StoreStatus":               "Disabled",
			"StorageClass":              "0",
			"ConsistentTime":            b.BackupEndTime.Unix(),
			"HostInstanceID":            "",
			"BackupDownloadURL":         "",
			"BackupIntranetDownloadURL": "",
			"Checksum":                  "",
		})
	}
	return map[string]any{
		"PageNumber":           strconv.Itoa(number),
		"PageRecordCount":      strconv.Itoa(len(items)),
		"TotalRecordCount":     strconv.Itoa(len(match)),
		"TotalEcsSnapshotSize": 0,
		"Items":                map[string]any{"Backup": items},
	}, nil
}

// backupSetsLocked returns the seeded sets and those of ended jobs whose
// set lag has passed, newest (latest BackupStartTime) first.
func (s *Server) backupSetsLocked(id string, now time.Time) []Backup {
	out := slices.Clone(s.backups[id])
	for _, j := range s.jobs[id] {
		if j.setVisible(now) {
			out = append(out, j.set())
		}
	}
	slices.SortStableFunc(out, func(a, b Backup) int { return b.BackupStartTime.Compare(a.BackupStartTime) })
	return out
}

// ---- DescribeDBInstanceAttribute ----

func (s *Server) describeDBInstanceAttribute(req *request) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, e := s.instanceLocked(req)
	if e != nil {
		if req.instance != "" {
			if _, ok := s.takeFaultLocked(req, req.instance, faultEmpty); ok {
				return map[string]any{"Items": map[string]any{"DBInstanceAttribute": []any{}}}, nil
			}
		}
		return nil, e
	}
	eng := engines[in.Engine]
	a := attributeInstance{
		instanceItem:        newInstanceItem(in, s.replicasLocked()[in.DBInstanceId]),
		DBInstanceStorage:   100,
		DBInstanceClassType: "x",
		Port:                eng.port,
		CreationTime:        "2024-01-01T00:00:00Z",
		MaxConnections:      2000,
		MaxIOPS:             10000,
		DBMaxQuantity:       500,
		AccountMaxQuantity:  500,
	}
	return map[string]any{"Items": map[string]any{"DBInstanceAttribute": []any{a}}}, nil
}

// replicasLocked maps each instance id to its read-only instances (those
// naming it as MasterInstanceId, of the same account), sorted, as
// ReadOnlyDBInstanceIds.ReadOnlyDBInstanceId lists them ({"DBInstanceId"}).
func (s *Server) replicasLocked() map[string][]any {
	if s.replicas != nil {
		return s.replicas
	}
	ids := map[string][]string{}
	for id, in := range s.instances { // one pass, unsorted: sorting every id on each call cost a 10,000-instance fleet dearly
		if m, ok := s.instances[in.MasterInstanceId]; ok && m.AccountId == in.AccountId {
			ids[m.DBInstanceId] = append(ids[m.DBInstanceId], id)
		}
	}
	out := make(map[string][]any, len(ids))
	for master, rs := range ids {
		slices.Sort(rs)
		for _, id := range rs {
			out[master] = append(out[master], map[string]any{"DBInstanceId": id})
		}
	}
	s.replicas = out // kept until AddInstance: instances never change master or account
	return out
}

// instanceItem holds the fields DescribeDBInstanceAttribute and
// DescribeDBInstances both answer for an instance (each adds its own). A
// struct, not a map: a page of 100 instances is encoded without sorting
// 2,900 keys, so the local cloud's own CPU does not slow the product's
// listing down on the bench's two cores.
type instanceItem struct {
	DBInstanceId          string
	DBInstanceDescription string
	RegionId              string
	ZoneId                string
	Engine                string
	EngineVersion         string
	DBInstanceStatus      string
	LockMode              string
	LockReason            string
	DBInstanceType        string
	Category              string
	DBInstanceStorageType string
	DBInstanceClass       string
	DBInstanceNetType     string
	InstanceNetworkType   string
	ConnectionMode        string
	ConnectionString      string
	PayType               string
	ExpireTime            string
	MasterInstanceId      string
	DeletionProtection    bool
	ResourceGroupId       string
	VpcId                 string
	VSwitchId             string
	ReadOnlyDBInstanceIds struct {
		ReadOnlyDBInstanceId []any
	}
}

// attributeInstance is an instance as DescribeDBInstanceAttribute
// describes it.
type attributeInstance struct {
	instanceItem
	DBInstanceStorage   int
	DBInstanceClassType string
	Port                string
	CreationTime        string
	MaxConnections      int
	MaxIOPS             int
	DBMaxQuantity       int
	AccountMaxQuantity  int
	TimeZone            string
	Collation           string
}

// listedInstance is an instance as DescribeDBInstances lists it.
type listedInstance struct {
	instanceItem
	CreateTime    string
	DestroyTime   string
	MutriORsignle bool
}

// newInstanceItem is in's common fields; replicas are its read-only
// instances.
func newInstanceItem(in *Instance, replicas []any) instanceItem {
	if replicas == nil {
		replicas = []any{}
	}
	it := instanceItem{
		DBInstanceId:          in.DBInstanceId,
		DBInstanceDescription: in.DBInstanceId,
		RegionId:              in.RegionId,
		ZoneId:                in.RegionId + "-h",
		Engine:                in.Engine,
		EngineVersion:         in.EngineVersion,
		DBInstanceStatus:      in.DBInstanceStatus,
		LockMode:              in.LockMode,
		LockReason:            lockReason(in.LockMode),
		DBInstanceType:        in.DBInstanceType,
		Category:              in.Category,
		DBInstanceStorageType: in.DBInstanceStorageType,
		DBInstanceClass:       in.DBInstanceClass,
		DBInstanceNetType:     "Intranet",
		InstanceNetworkType:   "VPC",
		ConnectionMode:        "Standard",
		ConnectionString:      in.DBInstanceId + "." + engines[in.Engine].domain,
		PayType:               "Postpaid",
		MasterInstanceId:      in.MasterInstanceId,
		ResourceGroupId:       "rg-acfmz7u4zzr0000",
		VpcId:                 "vpc-rdstest0000",
		VSwitchId:             "vsw-rdstest0000",
	}
	it.ReadOnlyDBInstanceIds.ReadOnlyDBInstanceId = replicas
	return it
}

func lockReason(mode string) string {
	switch mode {
	case "", "Unlock":
		return ""
	case "LockByExpiration":
		return "instance_expired"
	case "LockByDiskQuota", "LockReadInstanceByDiskQuota":
		return "disk_full"
	}
	return "manual"
}

// ---- DescribeDBInstances ----

func (s *Server) describeDBInstances(req *request) (map[string]any, *apiError) {
	p := req.params
	region := p.Get("RegionId")
	if region == "" {
		return nil, errMissing("RegionId")
	}
	var tags map[string]string
	if v := p.Get("Tags"); v != "" {
		if err := json.Unmarshal([]byte(v), &tags); err != nil {
			return nil, newErr(http.StatusBadRequest, "InvalidTags.Format", "Specified parameter Tags is not valid JSON of string values: %q.", v)
		}
		if len(tags) > maxTagFilters {
			return nil, newErr(http.StatusBadRequest, "InvalidTags.Format", "Specified parameter Tags has %d tags, at most %d are allowed.", len(tags), maxTagFilters)
		}
	}
	size, e := intParam(req, "PageSize", 30, 1, 100)
	if e != nil {
		return nil, e
	}
	number, e := intParam(req, "PageNumber", 1, 1, 1<<30)
	if e != nil {
		return nil, e
	}
	tokenMode := p.Has("MaxResults") || p.Has("NextToken")
	offset := 0
	if tokenMode {
		if size, e = intParam(req, "MaxResults", 30, 1, 100); e != nil {
			return nil, e
		}
		if v := p.Get("NextToken"); v != "" {
			n, err := strconv.ParseInt(v, 16, 32)
			if err != nil || n < 0 {
				return nil, errInvalidParam("NextToken", v)
			}
			offset = int(n)
		}
	}
	var ids []string
	if v := p.Get("DBInstanceId"); v != "" {
		ids = strings.Split(v, ",")
	}
	type filter struct {
		want string
		get  func(*Instance) string
	}
	var filters []filter // the ones the request sets
	for name, get := range map[string]func(*Instance) string{
		"Engine":           func(in *Instance) string { return in.Engine },
		"EngineVersion":    func(in *Instance) string { return in.EngineVersion },
		"DBInstanceStatus": func(in *Instance) string { return in.DBInstanceStatus },
		"DBInstanceType":   func(in *Instance) string { return in.DBInstanceType },
		"Category":         func(in *Instance) string { return in.Category },
		"DBInstanceClass":  func(in *Instance) string { return in.DBInstanceClass },
	} {
		if v := p.Get(name); v != "" {
			filters = append(filters, filter{v, get})
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*Instance
	for _, id := range s.ids { // in id order, kept so as instances are added: no sort under the lock per listing
		in := s.instances[id]
		if in.AccountId != req.account || in.RegionId != region || (ids != nil && !slices.Contains(ids, id)) {
			continue
		}
		ok := true
		for _, f := range filters {
			if !strings.EqualFold(f.want, f.get(in)) {
				ok = false
			}
		}
		for k, v := range tags {
			if got, has := in.Tags[k]; !has || got != v {
				ok = false
			}
		}
		if ok {
			match = append(match, in)
		}
	}
	var lo, hi int
	next := ""
	if tokenMode {
		lo, hi = min(offset, len(match)), min(offset+size, len(match))
		if hi < len(match) {
			next = strconv.FormatInt(int64(hi), 16)
		}
		number = 1
	} else {
		lo, hi = page(len(match), number, size)
	}
	items := []listedInstance{}
	replicas := s.replicasLocked()
	for _, in := range match[lo:hi] {
		items = append(items, listedInstance{
			instanceItem: newInstanceItem(in, replicas[in.DBInstanceId]),
			CreateTime:   "2024-01-01T00:00:00Z",
		})
	}
	return map[string]any{
		"PageNumber":       number,
		"PageRecordCount":  len(items),
		"TotalRecordCount": len(match),
		"NextToken":        next,
		"Items":            map[string]any{"DBInstance": items},
	}, nil
}

// ---- DescribeDatabases ----

func (s *Server) describeDatabases(req *request) (map[string]any, *apiError) {
	p := req.params
	size, e := intParam(req, "PageSize", 30, 1, 1<<30)
	if e != nil {
		return nil, e
	}
	number, e := intParam(req, "PageNumber", 1, 1, 1<<30)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, e := s.instanceLocked(req)
	if e != nil {
		return nil, e
	}
	if size != 30 && size != 50 && size != 100 {
		// PageSize: "30, 50, 100"; and "If the specified request
		// parameters are invalid, no database information is returned"
		// (DescribeDatabases; cloud-fidelity.md D2, D3).
		return map[string]any{"Databases": map[string]any{"Database": []any{}}}, nil
	}
	var names []string
	for _, n := range in.Databases {
		if v := p.Get("DBName"); v != "" && v != n {
			continue
		}
		if v := p.Get("DBStatus"); v != "" && v != "Running" {
			continue
		}
		names = append(names, n)
	}
	lo, hi := page(len(names), number, size)
	items := []map[string]any{}
	for _, n := range names[lo:hi] {
		items = append(items, map[string]any{
			"DBName":           n,
			"DBInstanceId":     in.DBInstanceId,
			"DBStatus":         "Running",
			"Engine":           in.Engine,
			"CharacterSetName": engines[in.Engine].charset,
			"DBDescription":    "",
			"Accounts":         map[string]any{"AccountPrivilegeInfo": []any{}},
			"PageNumber":       number,
			"PageSize":         size,
			"TotalCount":       len(names),
		})
	}
	return map[string]any{"Databases": map[string]any{"Database": items}}, nil
}

package localcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// Fleet is the fleet file of DESIGN.md §7: the instances the local RDS knows,
// scripted faults, how long a backup takes and how the RDS emulator is as
// unkind as the real one (issue 17).
//
// Faults are RDS faults (rds.Fault: action, DBInstanceId, RegionId, status,
// code, message, times, rate, latencyMs, drop, after, failJob, empty;
// {"RegionId": "cn-beijing", "drop": true} is that region's endpoint down), MNSFaults
// MNS ones (queue, action, status, code, times, rate, latencyMs, drop,
// after), OTSFaults Tablestore ones (table, action, status, code, times,
// rate, latencyMs, drop, after; see OTSFault) and STSFaults STS ones
// (action, roleArn, status, code, times, rate, latencyMs, drop, after; see
// STSFault); FaultSeed seeds the generator that decides faults with a rate
// (default 1) in every emulator, so a run repeats. Crashes kill a
// function's process at a given call (see Crash).
//
// Tablestore and STS start with:
//
//	"tables": [{"name": "asks", "primaryKey": [{"name": "id", "type": "STRING"}], "ttlSeconds": 86400}]
//	                                                 created in the instance tablestore.DefaultInstance
//	                                                 (tablestore.TableSpec: 1-4 key columns STRING, INTEGER
//	                                                 or BINARY, "autoIncrement" on a later INTEGER one;
//	                                                 ttlSeconds 0 or -1 never, else at least 86400;
//	                                                 "maxVersions" default 1)
//	"roles": [{"accountId": "2000000000000002", "name": "fc-rds-backup-member",
//	           "externalId": "ext-1", "trusted": ["1234567890123456"]}]
//	                                                 roles AssumeRole may assume (sts.Role: trusted
//	                                                 defaults to the role's own account,
//	                                                 "maxSessionDuration" 3600-43200, default 3600); the
//	                                                 account needs no instance in the fleet
//
// Several accounts and regions (DESIGN.md §10): an instance's "AccountId"
// and "RegionId" place it; the functions' own account is AccountID. The
// functions are given (FunctionEnv):
//
//	"allowedAccounts": ["2000000000000002"]         BACKUP_ALLOWED_ACCOUNTS; default every account of
//	                                                 the fleet's roles and instances but the own
//	"memberExternalId": "ext-1"                      BACKUP_MEMBER_EXTERNAL_ID; default the ExternalId
//	                                                 the fleet's roles expect (a fleet whose roles
//	                                                 expect different ones must name it: a role
//	                                                 expecting another is a member set up wrong),
//	                                                 or DefaultMemberExternalID when they expect none
//
// and BACKUP_ALLOWED_REGIONS: the regions of the fleet's instances but
// "region", and BACKUP_STS_ENDPOINT: the STS emulator.
//
// The RDS keys, at the top level (per instance, the same keys override
// them; see rds.Instance):
//
//	"backupSeconds": 30                              every backup takes 30 s (default 60)
//	"backupSeconds": {"Snapshot": 5, "Physical": 120} per BackupMethod; others 60 s
//	"setLagSeconds": 60                              a task's set shows in DescribeBackups 60 s after it ends (default 60)
//	"quotas": {"CreateBackup": 10, "DescribeBackups": 200}
//	                                                 per-(account, region, action) calls per second,
//	                                                 answered 400 Throttling.Api above them. The key turns
//	                                                 flow control on: actions it does not name take
//	                                                 rds.DefaultQuotas, 0 is no limit; without the key
//	                                                 there is none.
//
// and per instance also "AccountId" (default auth.DefaultAccountID),
// "MasterInstanceId" (of a read-only instance; must name a fleet instance)
// and "automatedBackup": {"at": "02:00", "method": "Physical", "seconds": 600}
// (a daily automated task at that UTC time; method default Physical,
// seconds default the instance's backup duration for the method).
type Fleet struct {
	Region    string         `json:"region"`
	Instances []rds.Instance `json:"instances"`
	Faults    []rds.Fault    `json:"faults"`
	MNSFaults []MNSFault     `json:"mnsFaults,omitempty"`
	OTSFaults []OTSFault     `json:"otsFaults,omitempty"`
	STSFaults []STSFault     `json:"stsFaults,omitempty"`
	Crashes   []Crash        `json:"crashes,omitempty"`
	FaultSeed uint64         `json:"faultSeed,omitempty"`
	// Tables are created in Tablestore at start.
	Tables []tablestore.TableSpec `json:"tables,omitempty"`
	// Roles are added to STS at start.
	Roles []sts.Role `json:"roles,omitempty"`
	// AllowedAccounts is the functions' BACKUP_ALLOWED_ACCOUNTS; nil:
	// Members().
	AllowedAccounts []string `json:"allowedAccounts,omitempty"`
	// MemberExternalID is the functions' BACKUP_MEMBER_EXTERNAL_ID; "": the
	// ExternalId the fleet's roles share.
	MemberExternalID string `json:"memberExternalId,omitempty"`
	// BackupSeconds is "backupSeconds" given as one number: every backup
	// takes that long (0 or less: 60 s).
	BackupSeconds float64 `json:"backupSeconds"`
	// BackupSecondsByMethod is "backupSeconds" given as an object: seconds
	// per BackupMethod; methods it does not name take BackupSeconds.
	BackupSecondsByMethod rds.MethodSeconds `json:"-"`
	// SetLagSeconds is the delay between a task's end and its set in
	// DescribeBackups; nil means DefaultSetLagSeconds.
	SetLagSeconds *float64 `json:"setLagSeconds,omitempty"`
	// Quotas turns per-API flow control on (see rds.WithQuotas); nil: off.
	Quotas map[string]float64 `json:"quotas,omitempty"`
}

// DefaultSetLagSeconds is the set lag of a fleet that names none:
// terraform-provider-alicloud waits a minute after a task is Finished
// "because the query API (DescribeBackups) has not been synchronized"
// (cloud-fidelity.md B13).
const DefaultSetLagSeconds = 60

// UnmarshalJSON decodes a fleet file strictly (an unknown key is an error),
// taking "backupSeconds" as a number or an object of seconds per method.
func (f *Fleet) UnmarshalJSON(b []byte) error {
	type plain Fleet
	var aux struct {
		plain
		BackupSeconds rds.MethodSeconds `json:"backupSeconds"`
	}
	aux.plain = plain(*f)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a typo in a fleet file should not silently change the fleet
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	*f = Fleet(aux.plain)
	f.BackupSeconds, f.BackupSecondsByMethod = 0, nil
	if v, ok := aux.BackupSeconds[""]; ok {
		f.BackupSeconds = v
	}
	if m := maps.Clone(aux.BackupSeconds); len(m) > 0 {
		delete(m, "")
		if len(m) > 0 {
			f.BackupSecondsByMethod = m
		}
	}
	return nil
}

// MarshalJSON writes "backupSeconds" as the file has it: an object when
// there are seconds per method, else a number.
func (f Fleet) MarshalJSON() ([]byte, error) {
	type plain Fleet
	aux := struct {
		plain
		BackupSeconds any `json:"backupSeconds"`
	}{plain: plain(f), BackupSeconds: f.BackupSeconds}
	if len(f.BackupSecondsByMethod) > 0 {
		m := maps.Clone(f.BackupSecondsByMethod)
		if f.BackupSeconds > 0 {
			m[""] = f.BackupSeconds
		}
		aux.BackupSeconds = m
	}
	return json.Marshal(aux)
}

// FaultSet returns the fleet's faults.
func (f Fleet) FaultSet() FaultSet {
	return FaultSet{Faults: f.Faults, MNSFaults: f.MNSFaults, OTSFaults: f.OTSFaults, STSFaults: f.STSFaults,
		Crashes: f.Crashes}
}

func (f Fleet) faultSeed() uint64 {
	if f.FaultSeed == 0 {
		return 1
	}
	return f.FaultSeed
}

// LoadFleet reads a fleet file.
func LoadFleet(path string) (Fleet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Fleet{}, err
	}
	var f Fleet
	if err := json.Unmarshal(b, &f); err != nil {
		return Fleet{}, fmt.Errorf("fleet %s: %w", path, err)
	}
	if f.Region == "" {
		f.Region = "cn-hangzhou"
	}
	for i := range f.Instances {
		in := &f.Instances[i]
		if in.DBInstanceId == "" {
			return Fleet{}, fmt.Errorf("fleet %s: instances[%d]: DBInstanceId is required", path, i)
		}
		if in.RegionId == "" {
			in.RegionId = f.Region
		}
	}
	if err := f.check(); err != nil {
		return Fleet{}, fmt.Errorf("fleet %s: %w", path, err)
	}
	if err := f.FaultSet().check(); err != nil {
		return Fleet{}, fmt.Errorf("fleet %s: %w", path, err)
	}
	return f, nil
}

// check reports the first wrong RDS key, named by its JSON path.
func (f Fleet) check() error {
	if err := checkSeconds(f.SetLagSeconds); err != nil {
		return fmt.Errorf("setLagSeconds: %w", err)
	}
	if err := f.BackupSecondsByMethod.Check(); err != nil {
		return fmt.Errorf("backupSeconds: %w", err)
	}
	if err := rds.CheckQuotas(f.Quotas); err != nil {
		return fmt.Errorf("quotas: %w", err)
	}
	if err := f.checkRolesTables(); err != nil {
		return err
	}
	if err := f.checkMembers(); err != nil {
		return err
	}
	ids := map[string]bool{}
	for _, in := range f.Instances {
		ids[in.DBInstanceId] = true
	}
	for i, in := range f.Instances {
		at := fmt.Sprintf("instances[%d] (%s)", i, in.DBInstanceId)
		if err := checkSeconds(in.SetLagSeconds); err != nil {
			return fmt.Errorf("%s: setLagSeconds: %w", at, err)
		}
		if err := in.BackupSeconds.Check(); err != nil {
			return fmt.Errorf("%s: backupSeconds: %w", at, err)
		}
		if a := in.AutomatedBackup; a != nil {
			if err := a.Check(); err != nil {
				return fmt.Errorf("%s: automatedBackup: %w", at, err)
			}
		}
		if m := in.MasterInstanceId; m != "" && (!ids[m] || m == in.DBInstanceId) {
			return fmt.Errorf("%s: MasterInstanceId: %q is not another instance of the fleet", at, m)
		}
	}
	return nil
}

// tableNameRE is Tablestore's table name rule (the emulator's CreateTable).
var tableNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)

// checkRolesTables reports the first wrong role or table, named by its JSON
// path ("roles[0].accountId: ...", "tables[1].primaryKey[0].type: ..."),
// with the rules the STS and Tablestore emulators apply at start.
func (f Fleet) checkRolesTables() error {
	roles := map[string]bool{}
	for i, r := range f.Roles {
		if err := r.Check(); err != nil {
			return fmt.Errorf("roles[%d].%w", i, err)
		}
		if roles[r.Arn()] {
			return fmt.Errorf("roles[%d].name: %s is already a role of the fleet", i, r.Arn())
		}
		roles[r.Arn()] = true
	}
	tables := map[string]bool{}
	for i, t := range f.Tables {
		at := fmt.Sprintf("tables[%d]", i)
		switch {
		case !tableNameRE.MatchString(t.Name):
			return fmt.Errorf("%s.name: must be 1 to 255 letters, digits or '_', not starting with a digit, got %q", at, t.Name)
		case tables[t.Name]:
			return fmt.Errorf("%s.name: %q is already a table of the fleet", at, t.Name)
		case len(t.PrimaryKey) < 1 || len(t.PrimaryKey) > 4:
			return fmt.Errorf("%s.primaryKey: must have 1 to 4 columns, got %d", at, len(t.PrimaryKey))
		case t.TTLSeconds != 0 && t.TTLSeconds != -1 && t.TTLSeconds < 86400:
			return fmt.Errorf("%s.ttlSeconds: must be -1 or 0 (never expire) or at least 86400, got %d", at, t.TTLSeconds)
		case t.MaxVersions < 0:
			return fmt.Errorf("%s.maxVersions: must be 1 or more (0: 1), got %d", at, t.MaxVersions)
		}
		tables[t.Name] = true
		cols := map[string]bool{}
		for j, c := range t.PrimaryKey {
			pk := fmt.Sprintf("%s.primaryKey[%d]", at, j)
			switch {
			case c.Name == "" || cols[c.Name]:
				return fmt.Errorf("%s.name: want a column name used once, got %q", pk, c.Name)
			case !slices.Contains([]string{"STRING", "INTEGER", "BINARY"}, c.Type):
				return fmt.Errorf("%s.type: must be STRING, INTEGER or BINARY, got %q", pk, c.Type)
			case c.AutoIncrement && (j == 0 || c.Type != "INTEGER"):
				return fmt.Errorf("%s.autoIncrement: only an INTEGER column other than the first may be AUTO_INCREMENT", pk)
			}
			cols[c.Name] = true
		}
	}
	if len(f.Tables) > 64 {
		return fmt.Errorf("tables: at most 64 tables in an instance, got %d", len(f.Tables))
	}
	return nil
}

func checkSeconds(p *float64) error {
	if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0) || *p < 0) {
		return errors.New("must be a number of seconds, 0 or more")
	}
	return nil
}

func (f Fleet) backupDuration() time.Duration {
	if f.BackupSeconds <= 0 {
		return 60 * time.Second
	}
	return time.Duration(f.BackupSeconds * float64(time.Second))
}

// setLag is SetLagSeconds, DefaultSetLagSeconds when absent.
func (f Fleet) setLag() time.Duration {
	if f.SetLagSeconds == nil {
		return DefaultSetLagSeconds * time.Second
	}
	return max(time.Duration(*f.SetLagSeconds*float64(time.Second)), 0)
}

// rdsOptions configure the RDS emulator as the fleet says: backup
// durations, set lag, flow control and the fault seed.
func (f Fleet) rdsOptions() []rds.Option {
	opts := []rds.Option{rds.WithBackupDuration(f.backupDuration()), rds.WithSetLag(f.setLag()),
		rds.WithFaultSeed(f.faultSeed())}
	for _, m := range slices.Sorted(maps.Keys(f.BackupSecondsByMethod)) {
		if m != "" {
			opts = append(opts, rds.WithMethodDuration(m, time.Duration(f.BackupSecondsByMethod[m]*float64(time.Second))))
		}
	}
	if f.Quotas != nil {
		opts = append(opts, rds.WithQuotas(f.Quotas))
	}
	return opts
}

// maxSetLag is the longest set lag of the fleet's instances.
func (f Fleet) maxSetLag() time.Duration {
	lag := float64(DefaultSetLagSeconds)
	if f.SetLagSeconds != nil {
		lag = *f.SetLagSeconds
	}
	most := lag
	for _, in := range f.Instances {
		if in.SetLagSeconds != nil && *in.SetLagSeconds > most {
			most = *in.SetLagSeconds
		}
	}
	return time.Duration(most * float64(time.Second))
}

// externalIDRE is ExternalId's characters (sts-20150401 v2.0.4: 2 to
// 1,224 of [\w+=,.@:/-]), as the STS emulator and the functions hold them.
var externalIDRE = regexp.MustCompile(`^[\w+=,.@:/\-]+$`)

// accountRE is an Alibaba Cloud account id: 16 digits.
var accountRE = regexp.MustCompile(`^[0-9]{16}$`)

// checkMembers reports a wrong allowedAccounts or memberExternalId, and a
// fleet with member accounts whose ExternalId cannot be told.
func (f Fleet) checkMembers() error {
	for i, a := range f.AllowedAccounts {
		if !accountRE.MatchString(a) {
			return fmt.Errorf("allowedAccounts[%d]: must be an account id, 16 digits, got %q", i, a)
		}
	}
	if e := f.MemberExternalID; e != "" && (len(e) < 2 || len(e) > 1224 || !externalIDRE.MatchString(e)) {
		return errors.New("memberExternalId: must be 2 to 1224 characters of letters, digits and _ + = , . @ : / -")
	}
	if f.MemberExternalID == "" && len(f.roleExternalIDs()) > 1 {
		return errors.New("memberExternalId: the fleet's roles expect different ExternalIds; name the one the functions pass")
	}
	return nil
}

// roleExternalIDs are the ExternalIds the fleet's roles expect.
func (f Fleet) roleExternalIDs() []string {
	set := map[string]bool{}
	for _, r := range f.Roles {
		if r.ExternalID != "" {
			set[r.ExternalID] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// DefaultMemberExternalID is the functions' ExternalId on a fleet whose
// roles expect none.
const DefaultMemberExternalID = "fc-rds-backup-local"

// Members are the member accounts the functions may reach
// (BACKUP_ALLOWED_ACCOUNTS): AllowedAccounts, or every account of the
// fleet's roles and instances but the own (AccountID), sorted.
func (f Fleet) Members() []string {
	if f.AllowedAccounts != nil {
		return slices.Sorted(slices.Values(f.AllowedAccounts))
	}
	set := map[string]bool{}
	for _, r := range f.Roles {
		if r.AccountID != "" {
			set[r.AccountID] = true
		}
	}
	for _, in := range f.Instances {
		if in.AccountId != "" {
			set[in.AccountId] = true
		}
	}
	delete(set, AccountID)
	return slices.Sorted(maps.Keys(set))
}

// ExternalID is the ExternalId the functions pass to AssumeRole
// (BACKUP_MEMBER_EXTERNAL_ID): MemberExternalID, else the one the fleet's
// roles expect, else DefaultMemberExternalID ("" when the roles expect
// several: LoadFleet refuses that fleet).
func (f Fleet) ExternalID() string {
	if f.MemberExternalID != "" {
		return f.MemberExternalID
	}
	switch ext := f.roleExternalIDs(); len(ext) {
	case 0:
		return DefaultMemberExternalID
	case 1:
		return ext[0]
	}
	return ""
}

// Regions are the regions of the fleet's instances but Region, sorted
// (BACKUP_ALLOWED_REGIONS).
func (f Fleet) Regions() []string {
	set := map[string]bool{}
	for _, in := range f.Instances {
		if in.RegionId != "" && in.RegionId != f.Region {
			set[in.RegionId] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

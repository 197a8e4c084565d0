package localcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// Fleet is the fleet file of DESIGN.md §7: the instances the local RDS knows,
// scripted faults, how long a backup takes and how the RDS emulator is as
// unkind as the real one (issue 17).
//
// Faults are RDS faults (rds.Fault: action, DBInstanceId, status, code,
// message, times, rate, latencyMs, drop, after, failJob, empty), MNSFaults
// MNS ones (queue, action, status, code, times, rate, latencyMs, drop,
// after); FaultSeed seeds the generator that decides faults with a rate
// (default 1), so a run repeats. Crashes kill a function's process at a
// given call (see Crash).
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
	Crashes   []Crash        `json:"crashes,omitempty"`
	FaultSeed uint64         `json:"faultSeed,omitempty"`
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
	return FaultSet{Faults: f.Faults, MNSFaults: f.MNSFaults, Crashes: f.Crashes}
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

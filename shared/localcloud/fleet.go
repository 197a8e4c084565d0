package localcloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// Fleet is the fleet file of DESIGN.md §7: the instances the local RDS knows,
// scripted faults and how long a backup takes.
//
// Faults are RDS faults (rds.Fault: action, DBInstanceId, status, code,
// message, times, rate, latencyMs, drop, after, failJob), MNSFaults MNS ones
// (queue, action, status, code, times, rate, latencyMs, drop, after);
// FaultSeed seeds the generator that decides faults with a rate (default
// 1), so a run repeats. Crashes kill a function's process at a given call
// (see Crash).
type Fleet struct {
	Region        string         `json:"region"`
	Instances     []rds.Instance `json:"instances"`
	Faults        []rds.Fault    `json:"faults"`
	MNSFaults     []MNSFault     `json:"mnsFaults,omitempty"`
	Crashes       []Crash        `json:"crashes,omitempty"`
	FaultSeed     uint64         `json:"faultSeed,omitempty"`
	BackupSeconds float64        `json:"backupSeconds"`
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
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a typo in a fleet file should not silently change the fleet
	if err := dec.Decode(&f); err != nil {
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
	if err := f.FaultSet().check(); err != nil {
		return Fleet{}, fmt.Errorf("fleet %s: %w", path, err)
	}
	return f, nil
}

func (f Fleet) backupDuration() time.Duration {
	if f.BackupSeconds <= 0 {
		return 60 * time.Second
	}
	return time.Duration(f.BackupSeconds * float64(time.Second))
}

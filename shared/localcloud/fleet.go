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
type Fleet struct {
	Region        string         `json:"region"`
	Instances     []rds.Instance `json:"instances"`
	Faults        []rds.Fault    `json:"faults"`
	BackupSeconds float64        `json:"backupSeconds"`
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
	return f, nil
}

func (f Fleet) backupDuration() time.Duration {
	if f.BackupSeconds <= 0 {
		return 60 * time.Second
	}
	return time.Duration(f.BackupSeconds * float64(time.Second))
}

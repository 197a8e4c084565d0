package rds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MethodSeconds is how long a backup takes, in seconds, per BackupMethod
// (Logical, Physical, Snapshot). In JSON it is either one number, for every
// method (stored under the key ""), or an object such as
// {"Snapshot": 5, "Physical": 120}; methods it does not name take the
// server's duration.
type MethodSeconds map[string]float64

// UnmarshalJSON takes a number or an object of numbers.
func (m *MethodSeconds) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '{' && !bytes.Equal(b, []byte("null")) {
		var n float64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("backupSeconds: want seconds (a number) or seconds per BackupMethod (an object such as {\"Snapshot\": 5}), got %s", b)
		}
		*m = MethodSeconds{"": n}
		return nil
	}
	var obj map[string]float64
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("backupSeconds: want seconds (a number) or seconds per BackupMethod (an object such as {\"Snapshot\": 5}): %v", err)
	}
	*m = obj
	return nil
}

// MarshalJSON writes one number when the seconds hold for every method.
func (m MethodSeconds) MarshalJSON() ([]byte, error) {
	if v, ok := m[""]; ok && len(m) == 1 {
		return json.Marshal(v)
	}
	return json.Marshal(map[string]float64(m))
}

// Check reports the first thing wrong: a key that is not a BackupMethod, a
// negative or non-finite number of seconds. The message names the key.
func (m MethodSeconds) Check() error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if k != "" && k != methodLogical && k != methodPhysical && k != methodSnapshot {
			return fmt.Errorf("%s: not a BackupMethod (Logical, Physical or Snapshot)", k)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			name := k
			if name == "" {
				name = "seconds"
			}
			return fmt.Errorf("%s: must be a number of seconds, 0 or more, got %v", name, v)
		}
	}
	return nil
}

// lookup returns the seconds for method: its own entry, else the one for
// every method.
func (m MethodSeconds) lookup(method string) (time.Duration, bool) {
	v, ok := m[method]
	if !ok {
		v, ok = m[""]
	}
	return seconds(v), ok
}

func seconds(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }

// AutomatedBackup is an instance's automatic backup schedule: one task a day
// at At (UTC, "HH:MM", like the API's PreferredBackupTime), with
// BackupMethod Method (default Physical), taking Seconds (default: the
// instance's backup duration for the method). The task has JobMode
// Automated and TaskAction NormalBackupTask and leaves an Automated set
// (BackupInitiator System). The first task is the first At at or after the
// instance was added, on the server's clock.
type AutomatedBackup struct {
	At      string  `json:"at"`
	Method  string  `json:"method,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
}

// Check reports the first thing wrong, naming the JSON field.
func (a AutomatedBackup) Check() error {
	if _, err := a.clock(); err != nil {
		return err
	}
	switch {
	case a.Method != "" && a.Method != methodLogical && a.Method != methodPhysical && a.Method != methodSnapshot:
		return fmt.Errorf("method: %q is not a BackupMethod (Logical, Physical or Snapshot)", a.Method)
	case math.IsNaN(a.Seconds) || math.IsInf(a.Seconds, 0) || a.Seconds < 0:
		return fmt.Errorf("seconds: must be a number of seconds, 0 or more (0: the instance's backup duration), got %v", a.Seconds)
	}
	return nil
}

// clock is At as the time of day.
func (a AutomatedBackup) clock() (time.Duration, error) {
	h, m, ok := strings.Cut(a.At, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh > 23 || mm > 59 || hh < 0 || mm < 0 {
		return 0, fmt.Errorf("at: want the time of day as HH:MM (UTC), got %q", a.At)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func (a AutomatedBackup) method() string {
	if a.Method == "" {
		return methodPhysical
	}
	return a.Method
}

// firstAt is the first At at or after t (UTC); ok is false for a schedule
// that does not parse.
func (a AutomatedBackup) firstAt(t time.Time) (time.Time, bool) {
	tod, err := a.clock()
	if err != nil {
		return time.Time{}, false
	}
	u := t.UTC()
	at := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC).Add(tod)
	if at.Before(u) {
		at = at.AddDate(0, 0, 1)
	}
	return at, true
}

// durationLocked is how long a backup of in with method takes: the
// instance's backupSeconds for the method, the server's for the method, then
// the server's backup duration.
func (s *Server) durationLocked(in *Instance, method string) time.Duration {
	if d, ok := in.BackupSeconds.lookup(method); ok {
		return max(d, 0)
	}
	if d, ok := s.methodDur[method]; ok {
		return max(d, 0)
	}
	return max(s.duration, 0)
}

// lagLocked is the set lag of in: its setLagSeconds, else the server's.
func (s *Server) lagLocked(in *Instance) time.Duration {
	if in.SetLagSeconds != nil {
		return max(seconds(*in.SetLagSeconds), 0)
	}
	return max(s.lag, 0)
}

// maxAutomatedPerTick bounds the automated tasks made for one instance at
// once (a clock moved years ahead makes the last ones only).
const maxAutomatedPerTick = 400

// tickLocked makes the automated tasks whose time has come by now: every
// scheduled instant up to now that has no task yet. Tasks are made when
// first observed, so their ids follow the order in which the server saw
// them, not necessarily their start times.
func (s *Server) tickLocked(now time.Time) {
	for _, id := range slices.Sorted(maps.Keys(s.autoNext)) {
		in, ok := s.instances[id]
		if !ok || in.AutomatedBackup == nil {
			delete(s.autoNext, id)
			continue
		}
		next := s.autoNext[id]
		if next.After(now) {
			continue
		}
		if n := int(now.Sub(next)/(24*time.Hour)) + 1; n > maxAutomatedPerTick {
			next = next.AddDate(0, 0, n-maxAutomatedPerTick)
		}
		a := in.AutomatedBackup
		for ; !next.After(now); next = next.AddDate(0, 0, 1) {
			d := seconds(a.Seconds)
			if a.Seconds <= 0 {
				d = s.durationLocked(in, a.method())
			}
			j := &job{
				id:       s.nextJob,
				instance: id,
				req:      backupParams{DBInstanceId: id, BackupMethod: a.method()},
				mode:     modeAutomated,
				created:  next,
				duration: d,
				lag:      s.lagLocked(in),
				backupId: strconv.FormatInt(s.nextBackup, 10),
				size:     256 << 20,
			}
			if in.Engine == EngineSQLServer && j.req.BackupMethod == methodPhysical {
				j.req.BackupType = typeFullBackup
			}
			s.nextJob++
			s.nextBackup++
			s.jobs[id] = append(s.jobs[id], j)
		}
		s.autoNext[id] = next
	}
}

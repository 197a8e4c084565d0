package localcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// MNSFault is an MNS fault as the fleet file ("mnsFaults") and POST /faults
// write it, with the same field meanings as an RDS fault ("faults"):
// per queue ("" = any) and action (the SDK method name, e.g. "SendMessage";
// "" = any); status and code, or drop (close the connection without an
// answer), or latencyMs alone; times (calls the fault fires on, 0 = every
// call); rate (probability of firing, decided by the seeded generator,
// 0 = always); after (run the operation, then lose its answer: SendMessage
// enqueues its message, then the connection is dropped or the error
// answered).
type MNSFault struct {
	Queue     string  `json:"queue,omitempty"`
	Action    string  `json:"action,omitempty"`
	Status    int     `json:"status,omitempty"`
	Code      string  `json:"code,omitempty"`
	Times     int     `json:"times,omitempty"`
	Rate      float64 `json:"rate,omitempty"`
	LatencyMs int     `json:"latencyMs,omitempty"`
	Drop      bool    `json:"drop,omitempty"`
	After     bool    `json:"after,omitempty"`
}

// fault translates f into the emulator's terms (where Times 0 means once
// and no status nor code means drop).
func (f MNSFault) fault() (mns.Fault, error) {
	switch {
	case f.Times < 0:
		return mns.Fault{}, fmt.Errorf("times: must be 0 (every call) or a positive count, got %d", f.Times)
	case f.LatencyMs < 0:
		return mns.Fault{}, fmt.Errorf("latencyMs: must not be negative, got %d", f.LatencyMs)
	case !f.Drop && f.Status == 0 && f.Code == "" && f.After:
		return mns.Fault{}, errors.New("after: needs drop, a code or an error status (the operation runs, then its answer is lost)")
	case !f.Drop && f.Status == 0 && f.Code == "" && f.LatencyMs == 0:
		return mns.Fault{}, errNoop("drop, status, code or latencyMs")
	}
	out := mns.Fault{Op: f.Action, Queue: f.Queue, Status: f.Status, Code: f.Code, Times: f.Times, Rate: f.Rate,
		Latency: time.Duration(f.LatencyMs) * time.Millisecond, Drop: f.Drop, After: f.After}
	if out.Times == 0 {
		out.Times = -1 // every call
	}
	if !f.Drop && f.Status == 0 && f.Code == "" {
		out.Status = 200 // latency only
	}
	return out, out.Check()
}

// OTSFault is a Tablestore fault as the fleet file ("otsFaults") and POST
// /faults write it, with the field meanings of MNSFault: per table ("" =
// any; for BatchWriteRow any table of the batch) and action (the operation,
// e.g. "PutRow"; "" = any); code (with its documented status unless status
// is given), or status >= 300 alone (a non-protobuf body), or drop, or
// latencyMs alone; times (0 = every call); rate (seeded, 0 = always); after
// (PutRow writes its row, then its answer is lost). See tablestore.Fault.
type OTSFault struct {
	Table     string  `json:"table,omitempty"`
	Action    string  `json:"action,omitempty"`
	Status    int     `json:"status,omitempty"`
	Code      string  `json:"code,omitempty"`
	Times     int     `json:"times,omitempty"`
	Rate      float64 `json:"rate,omitempty"`
	LatencyMs int     `json:"latencyMs,omitempty"`
	Drop      bool    `json:"drop,omitempty"`
	After     bool    `json:"after,omitempty"`
}

// fault translates f into the emulator's terms and checks it; a fault that
// would change nothing is refused.
func (f OTSFault) fault() (tablestore.Fault, error) {
	out := tablestore.Fault{Action: f.Action, Table: f.Table, Status: f.Status, Code: f.Code, Times: f.Times,
		Rate: f.Rate, LatencyMs: f.LatencyMs, Drop: f.Drop, After: f.After}
	if err := out.Check(); err != nil {
		return tablestore.Fault{}, err
	}
	if noop(f.Drop, f.Status, f.Code, f.LatencyMs) {
		return tablestore.Fault{}, errNoop("drop, a code, an error status or latencyMs")
	}
	return out, nil
}

// STSFault is an STS fault as the fleet file ("stsFaults") and POST /faults
// write it, with the field meanings of OTSFault: per action ("AssumeRole",
// "GetCallerIdentity"; "" = any) and roleArn ("" = any); after: AssumeRole
// issues its credential (which every emulator then accepts), then its
// answer is lost. See sts.Fault.
type STSFault struct {
	Action    string  `json:"action,omitempty"`
	RoleArn   string  `json:"roleArn,omitempty"`
	Status    int     `json:"status,omitempty"`
	Code      string  `json:"code,omitempty"`
	Times     int     `json:"times,omitempty"`
	Rate      float64 `json:"rate,omitempty"`
	LatencyMs int     `json:"latencyMs,omitempty"`
	Drop      bool    `json:"drop,omitempty"`
	After     bool    `json:"after,omitempty"`
}

// fault translates f into the emulator's terms and checks it.
func (f STSFault) fault() (sts.Fault, error) {
	out := sts.Fault{Action: f.Action, RoleArn: f.RoleArn, Status: f.Status, Code: f.Code, Times: f.Times,
		Rate: f.Rate, LatencyMs: f.LatencyMs, Drop: f.Drop, After: f.After}
	if err := out.Check(); err != nil {
		return sts.Fault{}, err
	}
	if noop(f.Drop, f.Status, f.Code, f.LatencyMs) {
		return sts.Fault{}, errNoop("drop, a code, an error status or latencyMs")
	}
	return out, nil
}

// noop tells whether a Tablestore or STS fault would serve the call as if
// it were not there: no drop, no code, no error status, no latency.
func noop(drop bool, status int, code string, latencyMs int) bool {
	return !drop && code == "" && status < 300 && latencyMs == 0
}

// checkRDSFault is rds.Fault.Check plus what a file or a request must not
// leave out: a fault that does something.
func checkRDSFault(f rds.Fault) error {
	if err := f.Check(); err != nil {
		return err
	}
	if !f.Drop && f.Code == "" && f.Status == 0 && f.LatencyMs == 0 && f.Latency == 0 && !f.FailJob {
		return errNoop("drop, status, code, latencyMs or failJob")
	}
	return nil
}

// errNoop is the error of a fault that would change nothing; it names no
// field, so it reads "faults[0]: ...".
type errNoop string

func (e errNoop) Error() string { return ": does nothing; give it " + string(e) }

// entryError names entry i of list in err: "faults[0].rate: ..." for a
// field's error, "faults[0]: ..." for the entry's.
func entryError(list string, i int, err error) error {
	if _, ok := err.(errNoop); ok {
		return fmt.Errorf("%s[%d]%w", list, i, err)
	}
	return fmt.Errorf("%s[%d].%w", list, i, err)
}

// FaultSet is what the fleet file and POST /faults add: RDS, MNS,
// Tablestore and STS faults and crashes, with the fleet file's field names.
type FaultSet struct {
	Faults    []rds.Fault `json:"faults,omitempty"`
	MNSFaults []MNSFault  `json:"mnsFaults,omitempty"`
	OTSFaults []OTSFault  `json:"otsFaults,omitempty"`
	STSFaults []STSFault  `json:"stsFaults,omitempty"`
	Crashes   []Crash     `json:"crashes,omitempty"`
}

func (fs FaultSet) empty() bool {
	return len(fs.Faults) == 0 && len(fs.MNSFaults) == 0 && len(fs.OTSFaults) == 0 && len(fs.STSFaults) == 0 &&
		len(fs.Crashes) == 0
}

// check returns the first mistake, naming the entry and its field, e.g.
// "mnsFaults[1].rate: must be a probability from 0 to 1".
func (fs FaultSet) check() error {
	for i, f := range fs.Faults {
		if err := checkRDSFault(f); err != nil {
			return entryError("faults", i, err)
		}
	}
	for i, f := range fs.MNSFaults {
		if _, err := f.fault(); err != nil {
			return entryError("mnsFaults", i, err)
		}
	}
	for i, f := range fs.OTSFaults {
		if _, err := f.fault(); err != nil {
			return entryError("otsFaults", i, err)
		}
	}
	for i, f := range fs.STSFaults {
		if _, err := f.fault(); err != nil {
			return entryError("stsFaults", i, err)
		}
	}
	for i, c := range fs.Crashes {
		if err := c.check(); err != nil {
			return entryError("crashes", i, err)
		}
	}
	return nil
}

// DecodeFaultSet decodes the body of POST /faults strictly: unknown fields,
// wrong types, trailing data and meaningless faults are errors that name
// the field.
func DecodeFaultSet(r io.Reader) (FaultSet, error) {
	var fs FaultSet
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fs); err != nil {
		return FaultSet{}, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return FaultSet{}, errors.New("body: trailing data after the JSON object")
	}
	if fs.empty() {
		return FaultSet{}, errors.New(`body: nothing to add; want {"faults":[...], "mnsFaults":[...], "otsFaults":[...], "stsFaults":[...], "crashes":[...]}`)
	}
	return fs, fs.check()
}

// jsonError rewords a decoding error so that it names the field.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New(`body: empty; want {"faults":[...], "mnsFaults":[...], "otsFaults":[...], "stsFaults":[...], "crashes":[...]}`)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return fmt.Errorf("%s: must be a JSON %s, got %s", field, jsonKind(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("body: invalid JSON at byte %d: %v", se.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fmt.Errorf("%s: unknown field", name)
	}
	return fmt.Errorf("body: %v", err)
}

func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "string"
	case goType == "bool":
		return "boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "number"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return "object"
}

// AddFaults checks every entry of fs and, if all are right, adds them:
// RDS, MNS, Tablestore and STS faults to the emulators, crashes to the
// cloud. Nothing is
// added when one is wrong.
func (c *Cloud) AddFaults(fs FaultSet) error {
	if err := fs.check(); err != nil {
		return err
	}
	for _, f := range fs.Faults {
		c.RDS.InjectFault(f)
	}
	for _, f := range fs.MNSFaults {
		mf, _ := f.fault()
		c.MNS.InjectFault(mf)
	}
	for _, f := range fs.OTSFaults {
		of, _ := f.fault()
		c.OTS.InjectFault(of)
	}
	for _, f := range fs.STSFaults {
		sf, _ := f.fault()
		c.STS.InjectFault(sf)
	}
	c.addCrashes(fs.Crashes)
	return nil
}

// ClearFaults removes every fault and crash, used up or not.
func (c *Cloud) ClearFaults() {
	c.RDS.ClearFaults()
	c.MNS.ClearFaults()
	c.OTS.ClearFaults()
	c.STS.ClearFaults()
	c.clearCrashes()
}

// FaultsState is the faults part of GET /state (and the answer of
// /faults): pending RDS, MNS, Tablestore ("ots") and STS faults, and every
// crash with what became of it.
type FaultsState struct {
	RDS     []rds.PendingFault        `json:"rds"`
	MNS     []mns.FaultSnapshot       `json:"mns"`
	OTS     []tablestore.PendingFault `json:"ots"`
	STS     []sts.PendingFault        `json:"sts"`
	Crashes []crashState              `json:"crashes"`
}

// Faults returns the faults still pending and the crashes.
func (c *Cloud) Faults() FaultsState {
	return FaultsState{RDS: c.RDS.Faults(), MNS: c.MNS.Faults(), OTS: c.OTS.Faults(), STS: c.STS.Faults(),
		Crashes: c.crashStates()}
}

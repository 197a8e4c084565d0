package localcloud

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// Crash kills a function's process when the emulators see a given call
// (crash injection). Action is an RDS action (then DBInstanceId may narrow
// it) or an MNS operation (then Queue may); Function ("crash") is scheduled,
// queue or webhook. When the Nth matching call arrives (counted from when
// the crash was added; default the first), every running process of the
// function is killed with SIGKILL, before the call's action runs (When
// "before": the action does not run) or after it (When "after", the
// default: the action ran, its answer is never sent). The call's connection
// is closed. A crash fires once; with no process running it is used up and
// kills nothing, and the call is then answered as usual.
type Crash struct {
	Action       string `json:"action"`
	DBInstanceId string `json:"DBInstanceId,omitempty"`
	Queue        string `json:"queue,omitempty"`
	Function     string `json:"crash"`
	Nth          int    `json:"nth,omitempty"`
	When         string `json:"when,omitempty"`
}

// Crash timings, the same words as the emulators' call phases.
const (
	CrashBefore = rds.PhaseBefore
	CrashAfter  = rds.PhaseAfter
)

// service returns "rds" or "mns" for the crash's action.
func (c Crash) service() string {
	switch {
	case slices.Contains(rds.Actions(), c.Action):
		return "rds"
	case slices.Contains(mns.Operations(), c.Action):
		return "mns"
	}
	return ""
}

func (c Crash) check() error {
	svc := c.service()
	switch {
	case c.Action == "":
		return errors.New("action: is required (an RDS action or an MNS operation)")
	case svc == "":
		return fmt.Errorf("action: %q is neither an RDS action (%s) nor an MNS operation (%s)",
			c.Action, strings.Join(rds.Actions(), ", "), strings.Join(mns.Operations(), ", "))
	case svc == "rds" && c.Queue != "":
		return fmt.Errorf("queue: %s is an RDS action; queue is for MNS operations", c.Action)
	case svc == "mns" && c.DBInstanceId != "":
		return fmt.Errorf("DBInstanceId: %s is an MNS operation; DBInstanceId is for RDS actions", c.Action)
	case c.Function == "":
		return fmt.Errorf("crash: is required, the function whose process to kill (%s)", strings.Join(FunctionNames, ", "))
	case !slices.Contains(FunctionNames, c.Function):
		return fmt.Errorf("crash: unknown function %q (want %s)", c.Function, strings.Join(FunctionNames, ", "))
	case c.Nth < 0:
		return fmt.Errorf("nth: must be 1 or more (0 means 1), got %d", c.Nth)
	case c.When != "" && c.When != CrashBefore && c.When != CrashAfter:
		return fmt.Errorf("when: must be %q or %q, got %q", CrashBefore, CrashAfter, c.When)
	}
	return nil
}

// crashState is a crash and what became of it.
type crashState struct {
	Crash
	Seen   int    `json:"seen"`                // matching calls so far
	Fired  bool   `json:"fired"`               // the Nth call came
	Killed int    `json:"killed"`              // processes killed when it fired
	Call   string `json:"requestId,omitempty"` // the request id of the Nth call
}

// observe counts the call against the crashes and fires the one whose Nth
// call it is: it kills the function's processes and tells the emulator to
// close the call's connection. It runs inside the emulators' request
// handlers, holding no emulator lock.
func (c *Cloud) observe(service, phase, action, instance, queue, requestID string) bool {
	var fire []*crashState
	c.crashMu.Lock()
	for _, cs := range c.crashes {
		if cs.Fired || cs.service() != service || cs.Action != action ||
			(cs.DBInstanceId != "" && cs.DBInstanceId != instance) || (cs.Queue != "" && cs.Queue != queue) {
			continue
		}
		if phase == CrashBefore {
			cs.Seen++
			if cs.Seen == cs.Nth {
				cs.Call = requestID
			}
		}
		if cs.Call == requestID && phase == cs.When {
			cs.Fired = true
			fire = append(fire, cs)
		}
	}
	c.crashMu.Unlock()
	killed := 0
	for _, cs := range fire {
		// Kill returns once the processes are gone, so the function can
		// never act on the call's answer.
		n := c.kill(cs.Function)
		c.crashMu.Lock()
		cs.Killed = n
		c.crashMu.Unlock()
		killed += n
	}
	return killed > 0
}

// kill SIGKILLs every running process of the function name started by
// StartFunction.
func (c *Cloud) kill(name string) int {
	c.crashMu.Lock()
	fns := slices.Clone(c.functions[name])
	c.crashMu.Unlock()
	n := 0
	for _, f := range fns {
		n += f.Kill()
	}
	return n
}

// register makes f the function name for crash injection.
func (c *Cloud) register(name string, f *fc.Function) {
	c.crashMu.Lock()
	c.functions[name] = append(c.functions[name], f)
	c.crashMu.Unlock()
}

func (c *Cloud) observeRDS(ev rds.CallEvent) bool {
	return c.observe("rds", ev.Phase, ev.Action, ev.DBInstanceId, "", ev.RequestId)
}

func (c *Cloud) observeMNS(ev mns.CallEvent) bool {
	return c.observe("mns", ev.Phase, ev.Op, "", ev.Queue, ev.RequestID)
}

// addCrashes adds checked crashes.
func (c *Cloud) addCrashes(crashes []Crash) {
	c.crashMu.Lock()
	defer c.crashMu.Unlock()
	for _, cr := range crashes {
		if cr.Nth == 0 {
			cr.Nth = 1
		}
		if cr.When == "" {
			cr.When = CrashAfter
		}
		c.crashes = append(c.crashes, &crashState{Crash: cr})
	}
}

func (c *Cloud) clearCrashes() {
	c.crashMu.Lock()
	c.crashes = nil
	c.crashMu.Unlock()
}

func (c *Cloud) crashStates() []crashState {
	c.crashMu.Lock()
	defer c.crashMu.Unlock()
	out := []crashState{}
	for _, cs := range c.crashes {
		out = append(out, *cs)
	}
	return out
}

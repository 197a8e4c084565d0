package backup

// RunSummary is what a plan run (a timer plan, or a plan sent as a message)
// comes to: how many asks it made and the first outcome of each, counted
// per status, and the instances that were rejected or failed with their
// codes (DESIGN.md §6: one rds.backup.run event per run). It travels with
// the run's continuation through the work queue until every item has its
// first outcome.
type RunSummary struct {
	Key      string         `json:"key"`     // the run's identity: same trigger delivery, same run
	Trigger  Trigger        `json:"trigger"` // where the plan came from
	Items    int            `json:"items"`   // asks the plan expanded to so far
	Counts   map[Status]int `json:"counts"`  // first outcome per ask, per status
	Problems []RunProblem   `json:"problems,omitempty"`
	// More counts the problems left out beyond MaxRunProblems.
	More int `json:"more,omitempty"`
}

// RunProblem is one ask of a run that was rejected or failed.
type RunProblem struct {
	DBInstanceId string `json:"DBInstanceId"`
	Status       Status `json:"status"`
	Code         string `json:"code"`
	Message      string `json:"message,omitempty"`
}

// MaxRunProblems bounds the problems a summary lists (the rest are
// counted in More), so a summary always fits one message.
const MaxRunProblems = 50

// RunKey is the key of the run a trigger delivery starts.
func RunKey(t Trigger) string { return Key("run", t.Kind, t.Source, t.DeliveryId) }

// Add counts an ask's first outcome.
func (s *RunSummary) Add(o Outcome) {
	if s.Counts == nil {
		s.Counts = map[Status]int{}
	}
	s.Items++
	s.Counts[o.Status]++
	if o.Status != StatusRejected && o.Status != StatusFailed {
		return
	}
	if len(s.Problems) >= MaxRunProblems {
		s.More++
		return
	}
	p := RunProblem{DBInstanceId: o.Request.DBInstanceId, Status: o.Status}
	if o.Error != nil {
		p.Code, p.Message = o.Error.Code, o.Error.Message
		if len(p.Message) > 200 {
			p.Message = p.Message[:200] + "…"
		}
	}
	s.Problems = append(s.Problems, p)
}

// Merge adds another part of the same run (a step that ran in parallel)
// to s: items and counts summed, problems appended up to MaxRunProblems,
// the rest counted in More.
func (s *RunSummary) Merge(o RunSummary) {
	if s.Counts == nil {
		s.Counts = map[Status]int{}
	}
	if s.Key == "" {
		s.Key, s.Trigger = o.Key, o.Trigger
	}
	s.Items += o.Items
	for st, n := range o.Counts {
		s.Counts[st] += n
	}
	s.More += o.More
	for _, p := range o.Problems {
		if len(s.Problems) >= MaxRunProblems {
			s.More++
			continue
		}
		s.Problems = append(s.Problems, p)
	}
}

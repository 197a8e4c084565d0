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
	// Targets counts first outcomes per (account, region) and status
	// (DESIGN.md §10), keyed by TargetKey.
	Targets map[string]map[Status]int `json:"targets,omitempty"`
	// Accounts are the member accounts whose role could not be assumed,
	// each with STS's code and the asks it ended (at most MaxRunProblems).
	Accounts []AccountProblem `json:"accounts,omitempty"`
}

// AccountProblem is a member account a run could not act in.
type AccountProblem struct {
	AccountId string `json:"AccountId"`
	Code      string `json:"code"`
	Asks      int    `json:"asks"`
}

// OwnAccount names the functions' own account in TargetKey.
const OwnAccount = "own"

// TargetKey is "<account>/<region>" (account OwnAccount when "").
func TargetKey(account, region string) string {
	if account == "" {
		account = OwnAccount
	}
	return account + "/" + region
}

// RunProblem is one ask of a run that was rejected or failed.
type RunProblem struct {
	DBInstanceId string `json:"DBInstanceId"`
	AccountId    string `json:"AccountId,omitempty"`
	RegionId     string `json:"RegionId,omitempty"`
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
	s.addTarget(TargetKey(o.Request.AccountId, o.Request.RegionId), o.Status, 1)
	if o.Status != StatusRejected && o.Status != StatusFailed {
		return
	}
	if o.Request.AccountId != "" && o.Error != nil && (o.Error.Field == "AccountId" || o.Error.Field == "Select.Accounts") {
		s.addAccount(AccountProblem{AccountId: o.Request.AccountId, Code: o.Error.Code, Asks: 1})
	}
	if len(s.Problems) >= MaxRunProblems {
		s.More++
		return
	}
	p := RunProblem{DBInstanceId: o.Request.DBInstanceId, AccountId: o.Request.AccountId, RegionId: o.Request.RegionId, Status: o.Status}
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
	for k, byStatus := range o.Targets {
		for st, n := range byStatus {
			s.addTarget(k, st, n)
		}
	}
	for _, a := range o.Accounts {
		s.addAccount(a)
	}
	for _, p := range o.Problems {
		if len(s.Problems) >= MaxRunProblems {
			s.More++
			continue
		}
		s.Problems = append(s.Problems, p)
	}
}

func (s *RunSummary) addTarget(key string, st Status, n int) {
	if s.Targets == nil {
		s.Targets = map[string]map[Status]int{}
	}
	if s.Targets[key] == nil {
		s.Targets[key] = map[Status]int{}
	}
	s.Targets[key][st] += n
}

// addAccount records a member account's failure once per (account, code),
// counting its asks.
func (s *RunSummary) addAccount(a AccountProblem) {
	for i := range s.Accounts {
		if s.Accounts[i].AccountId == a.AccountId && s.Accounts[i].Code == a.Code {
			s.Accounts[i].Asks += a.Asks
			return
		}
	}
	if len(s.Accounts) < MaxRunProblems {
		s.Accounts = append(s.Accounts, a)
	}
}

// Run verdicts (RunSummary.Verdict).
const (
	VerdictComplete = "complete" // no ask rejected or failed
	VerdictPartial  = "partial"  // some asks rejected or failed, others not
	VerdictFailed   = "failed"   // every ask rejected or failed
)

// Verdict is the run's verdict in one word: complete, partial or failed
// (a run of no asks is complete).
func (s RunSummary) Verdict() string {
	bad := s.Counts[StatusRejected] + s.Counts[StatusFailed]
	switch {
	case bad == 0:
		return VerdictComplete
	case bad < s.Items:
		return VerdictPartial
	}
	return VerdictFailed
}

// Partial reports whether some of the run's asks ended rejected or failed
// while others did not: the run's verdict is PARTIAL.
func (s RunSummary) Partial() bool {
	bad := s.Counts[StatusRejected] + s.Counts[StatusFailed]
	return bad > 0 && bad < s.Items
}

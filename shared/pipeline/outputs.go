package pipeline

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// The outcome names of Outputs (the verdict= and RDSBACKUP_VERDICT= values).
const (
	OutcomeBackedUp    = "backed-up"     // VerdictBackedUp
	OutcomeRefused     = "refused"       // VerdictRefused: the webhook or the service refused the ask (rejected)
	OutcomeFailed      = "failed"        // VerdictRefused: nothing was refused, a backup failed (or its job could not be read)
	OutcomeNoVerdict   = "no-verdict"    // VerdictTimeout
	OutcomeCouldNotAsk = "could-not-ask" // VerdictCouldNotAsk
)

// OutputStyle is how Outputs are written.
type OutputStyle int

const (
	// GitHubOutputs: verdict=…, job-ids=…, backup-set-ids=… (the lines
	// GitHub Actions reads from the file named by GITHUB_OUTPUT).
	GitHubOutputs OutputStyle = iota
	// DotenvOutputs: RDSBACKUP_VERDICT=…, RDSBACKUP_JOB_IDS=…,
	// RDSBACKUP_BACKUP_SET_IDS=… (a GitLab dotenv report).
	DotenvOutputs
)

// setIDPattern is the grammar of a backup set id written to the outputs:
// RDS's BackupId is a number (DescribeBackups, DescribeBackupTasks).
var setIDPattern = regexp.MustCompile(`^[0-9]{1,20}$`)

// Outputs are a gate's machine-readable results, collected from its events:
// give Observe every event (from GateOptions.Observer) and SetVerdict the
// verdict, then write Lines. Per instance, in the order asked, it keeps
// the job the gate last followed (a job that ended Failed is forgotten:
// the gate asked again) and the backup set that satisfied the ask.
//
// Every value written is checked: an outcome is one of the Outcome names,
// a job id a BackupJobId by backup.ParseJobID's grammar, a set id decimal
// digits. An id outside its grammar (whatever the webhook answered) is
// never written, only listed by Dropped: no value can hold a newline, a
// space or '=', so none can add a line or another output.
type Outputs struct {
	instances       []string
	jobs, sets      map[string]string
	refused, failed bool
	verdict         Verdict
	dropped         []string
}

// NewOutputs collects the outputs of a gate on instances.
func NewOutputs(instances []string) *Outputs {
	return &Outputs{instances: append([]string(nil), instances...), jobs: map[string]string{}, sets: map[string]string{}, verdict: VerdictTimeout}
}

// Observe records one event of the gate.
func (o *Outputs) Observe(e Event) {
	switch e.Event {
	case "accepted", "coalesced":
		o.job(e)
	case "finished":
		o.job(e)
		if e.BackupId != "" {
			if setIDPattern.MatchString(e.BackupId) {
				o.sets[e.DBInstanceId] = e.BackupId
			} else {
				o.dropped = append(o.dropped, fmt.Sprintf("backup set id %q of %q", e.BackupId, e.DBInstanceId))
			}
		}
	case "job-failed":
		delete(o.jobs, e.DBInstanceId)
	case "rejected":
		o.refused = true
	case "failed":
		o.failed = true
	}
}

func (o *Outputs) job(e Event) {
	if e.BackupJobId == "" {
		return
	}
	if !backup.ValidJobID(e.BackupJobId) {
		o.dropped = append(o.dropped, fmt.Sprintf("job id %q of %q", e.BackupJobId, e.DBInstanceId))
		return
	}
	o.jobs[e.DBInstanceId] = e.BackupJobId
}

// SetVerdict records how the gate ended.
func (o *Outputs) SetVerdict(v Verdict) { o.verdict = v }

// Dropped lists the ids the webhook answered that are outside their
// grammar and so are not written (each quoted, with its instance).
func (o *Outputs) Dropped() []string { return append([]string(nil), o.dropped...) }

// Outcome is the verdict's name (one of the Outcome constants).
func (o *Outputs) Outcome() string {
	switch o.verdict {
	case VerdictBackedUp:
		return OutcomeBackedUp
	case VerdictRefused:
		if o.failed && !o.refused {
			return OutcomeFailed
		}
		return OutcomeRefused
	case VerdictCouldNotAsk:
		return OutcomeCouldNotAsk
	}
	return OutcomeNoVerdict
}

// JobIDs are the jobs the gate followed last, in the order of the
// instances; an instance without one (refused, coalesced with a finished
// set, not accepted) has none in the list.
func (o *Outputs) JobIDs() []string { return o.inOrder(o.jobs) }

// BackupSetIDs are the backup sets that satisfied the ask, in the order of
// the instances; an instance without one has none in the list.
func (o *Outputs) BackupSetIDs() []string { return o.inOrder(o.sets) }

func (o *Outputs) inOrder(m map[string]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range o.instances {
		if v, ok := m[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, v)
		}
	}
	return out
}

// Lines are the outputs as name=value lines in style, each ending in "\n":
// the outcome, then the job ids and the set ids, each list separated by
// single spaces (empty when there is none).
func (o *Outputs) Lines(style OutputStyle) string {
	names := [3]string{"verdict", "job-ids", "backup-set-ids"}
	if style == DotenvOutputs {
		names = [3]string{"RDSBACKUP_VERDICT", "RDSBACKUP_JOB_IDS", "RDSBACKUP_BACKUP_SET_IDS"}
	}
	values := [3]string{o.Outcome(), strings.Join(o.JobIDs(), " "), strings.Join(o.BackupSetIDs(), " ")}
	var b strings.Builder
	for i, n := range names {
		// By construction a value holds only [a-z0-9 -]; this is the
		// last guard of the one-line format.
		if strings.ContainsAny(values[i], "\r\n=") {
			values[i] = ""
		}
		b.WriteString(n + "=" + values[i] + "\n")
	}
	return b.String()
}

package ledger

import (
	"context"
	"slices"
	"strings"

	"github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
)

// RunScope is the scope of plan-run rows: one per run (its key is the
// run's key), counting the run's steps so that steps run in parallel and
// the last one to finish publishes the run's one summary (DESIGN.md §2a,
// "runs in parallel").
const RunScope = "run"

// Columns of a run row.
const (
	ColPlanned   = "planned"   // the step ids registered, comma-separated, sorted
	ColDone      = "done"      // the step ids finished, comma-separated, sorted
	ColSummary   = "summary"   // the merged summary of the finished steps (the caller's bytes)
	ColVersion   = "version"   // bumped by every write: the optimistic lock
	ColPublished = "published" // 1 once the summary was published
)

// Limits of a run row: step ids are short dotted paths ("0", "0.3"); a run
// has at most MaxRunSteps of them (10,000 instances in pages of 100 are
// about 100), and each write is retried at most maxRunRounds times when
// other steps wrote the row meanwhile.
const (
	MaxStepID    = 32
	MaxRunSteps  = 5000
	maxRunRounds = 40
)

// RunState is a run row as read.
type RunState struct {
	Planned, Done []string
	Summary       []byte
	Published     bool
	version       int64
	found         bool
}

// Complete: every registered step has finished.
func (s RunState) Complete() bool {
	return len(s.Planned) > 0 && len(s.Done) == len(s.Planned)
}

// RegisterSteps adds ids to the run's planned steps before they are sent,
// so that the run is complete only once they finish too. Idempotent.
func (l *Ledger) RegisterSteps(ctx context.Context, run string, ids []string) (RunState, error) {
	if err := checkRun(run, ids...); err != nil {
		return RunState{}, err
	}
	return l.updateRun(ctx, run, func(s *RunState) (bool, error) {
		n := len(s.Planned)
		s.Planned = union(s.Planned, ids)
		if len(s.Planned) > MaxRunSteps {
			return false, &ValidationError{Field: "steps", Rule: "at most 5000 steps per run"}
		}
		return len(s.Planned) != n, nil
	})
}

// StepDone records that step id finished, with merge folding its part of
// the summary into the run's (merge gets the stored bytes, nil for none,
// and returns the new ones); a step recorded already is not merged again
// (a redelivered step counts once). The state returned says whether the
// run is now complete and holds the merged summary.
func (l *Ledger) StepDone(ctx context.Context, run, id string, merge func(stored []byte) ([]byte, error)) (RunState, error) {
	return l.StepsDone(ctx, run, []string{id}, func(stored []byte, _ string) ([]byte, error) { return merge(stored) })
}

// StepsDone is StepDone for several steps of one run that finished in one
// invocation: one read and one conditional write for all of them (a batch
// of a fleet's steps ends together; step by step, each would read and
// write the row in turn). merge folds the part of step id into the stored
// bytes; it is called once for each id not recorded already, in the order
// of ids.
func (l *Ledger) StepsDone(ctx context.Context, run string, ids []string, merge func(stored []byte, id string) ([]byte, error)) (RunState, error) {
	if err := checkRun(run, ids...); err != nil {
		return RunState{}, err
	}
	if len(ids) == 0 {
		return RunState{}, &ValidationError{Field: "steps", Rule: "at least one step"}
	}
	return l.updateRun(ctx, run, func(s *RunState) (bool, error) {
		var added []string
		for _, id := range ids {
			if slices.Contains(s.Done, id) || slices.Contains(added, id) {
				continue
			}
			b, err := merge(s.Summary, id)
			if err != nil {
				return false, err
			}
			s.Summary = b
			added = append(added, id)
		}
		if len(added) == 0 {
			return false, nil
		}
		s.Planned = union(s.Planned, added)
		s.Done = union(s.Done, added)
		return true, nil
	})
}

// MarkPublished records that the run's summary was published, so that a
// redelivered last step does not publish it again (it would carry the same
// event id: a repeat is harmless, this only saves it).
func (l *Ledger) MarkPublished(ctx context.Context, run string) error {
	if err := checkRun(run); err != nil {
		return err
	}
	_, err := l.updateRun(ctx, run, func(s *RunState) (bool, error) {
		changed := !s.Published
		s.Published = true
		return changed, nil
	})
	return err
}

// GetRun reads a run row: 1 GetRow.
func (l *Ledger) GetRun(ctx context.Context, run string) (RunState, error) {
	if err := checkRun(run); err != nil {
		return RunState{}, err
	}
	resp, err := l.getRow(ctx, RunScope, run)
	var s RunState
	if err != nil || resp == nil {
		return s, err
	}
	s.found = true
	for _, c := range resp.Columns {
		switch v := c.Value.(type) {
		case string:
			switch c.ColumnName {
			case ColPlanned:
				s.Planned = split(v)
			case ColDone:
				s.Done = split(v)
			case ColSummary:
				s.Summary = []byte(v)
			}
		case int64:
			switch c.ColumnName {
			case ColVersion:
				s.version = v
			case ColPublished:
				s.Published = v == 1
			}
		}
	}
	return s, nil
}

// updateRun reads the run row, lets change edit it, and writes it back on
// the condition that nobody wrote it meanwhile (its version), reading and
// trying again when somebody did. change returns false when there is
// nothing to write (the state read is returned).
func (l *Ledger) updateRun(ctx context.Context, run string, change func(*RunState) (bool, error)) (RunState, error) {
	for round := 0; round < maxRunRounds; round++ {
		s, err := l.GetRun(ctx, run)
		if err != nil {
			return RunState{}, err
		}
		changed, err := change(&s)
		if err != nil || !changed {
			return s, err
		}
		err = l.putRun(ctx, run, s)
		if err == nil {
			s.version++
			s.found = true
			return s, nil
		}
		if !isConditionFail(err) {
			return RunState{}, err
		}
	}
	return RunState{}, &contendedError{scope: RunScope, key: run}
}

// putRun writes s whole as version s.version+1: a new row when s was not
// found, else on the condition that the row is still at s.version.
func (l *Ledger) putRun(ctx context.Context, run string, s RunState) error {
	ch := &tablestore.PutRowChange{TableName: l.table, PrimaryKey: pk(RunScope, run)}
	ch.AddColumn(ColPlanned, strings.Join(s.Planned, ","))
	ch.AddColumn(ColDone, strings.Join(s.Done, ","))
	ch.AddColumn(ColSummary, string(s.Summary))
	ch.AddColumn(ColVersion, s.version+1)
	published := int64(0)
	if s.Published {
		published = 1
	}
	ch.AddColumn(ColPublished, published)
	ch.AddColumn(ColUpdatedAt, l.clock().UnixMilli())
	if s.found {
		ch.SetCondition(tablestore.RowExistenceExpectation_EXPECT_EXIST)
		ch.SetColumnCondition(mustEqual(ColVersion, s.version))
	} else {
		ch.SetCondition(tablestore.RowExistenceExpectation_EXPECT_NOT_EXIST)
	}
	return l.do(ctx, "PutRow", func() error {
		_, err := l.client.PutRow(&tablestore.PutRowRequest{PutRowChange: ch})
		return err
	})
}

func checkRun(run string, ids ...string) error {
	if err := checkRowKey(RunScope, run); err != nil {
		return err
	}
	for _, id := range ids {
		if err := checkText("stepId", id, MaxStepID, false, true); err != nil {
			return err
		}
		if strings.Contains(id, ",") {
			return &ValidationError{Field: "stepId", Rule: "no commas"}
		}
	}
	return nil
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// union is a ∪ b, sorted, without repeats.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

package backup

import (
	"fmt"
	"testing"
)

func TestRunSummaryAdd(t *testing.T) {
	var s RunSummary
	s.Add(Outcome{Status: StatusAccepted, Request: Request{DBInstanceId: "rm-a"}})
	s.Add(Outcome{Status: StatusRejected, Request: Request{DBInstanceId: "rm-b"}, Error: &ErrorInfo{Code: CodeReadOnly, Message: "read-only"}})
	if s.Items != 2 || s.Counts[StatusAccepted] != 1 || s.Counts[StatusRejected] != 1 || len(s.Problems) != 1 || s.Problems[0].Code != CodeReadOnly {
		t.Fatalf("summary %+v", s)
	}
	for i := range MaxRunProblems + 5 {
		s.Add(Outcome{Status: StatusFailed, Request: Request{DBInstanceId: fmt.Sprintf("rm-%d", i)}, Error: &ErrorInfo{Code: "X"}})
	}
	if len(s.Problems) != MaxRunProblems || s.More != 6 || s.Items != MaxRunProblems+7 {
		t.Errorf("problems %d more %d items %d: the list must stay bounded and count the rest", len(s.Problems), s.More, s.Items)
	}
}

// Merging the parts of a run that ran in parallel gives what one summary
// counting every outcome gives.
func TestRunSummaryMerge(t *testing.T) {
	outcome := func(id string, st Status) Outcome {
		o := Outcome{Status: st, Request: Request{DBInstanceId: id}}
		if st == StatusRejected {
			o.Error = &ErrorInfo{Code: "InvalidDBInstanceId.NotFound", Message: "gone"}
		}
		return o
	}
	var whole RunSummary
	parts := make([]RunSummary, 3)
	for i := range 2*MaxRunProblems + 9 {
		st := StatusAccepted
		if i%2 == 0 {
			st = StatusRejected
		}
		o := outcome(fmt.Sprintf("rm-%03d", i), st)
		whole.Add(o)
		parts[i%3].Add(o)
	}
	var merged RunSummary
	for _, p := range parts {
		merged.Merge(p)
	}
	if merged.Items != whole.Items || merged.Counts[StatusAccepted] != whole.Counts[StatusAccepted] ||
		merged.Counts[StatusRejected] != whole.Counts[StatusRejected] {
		t.Errorf("merged %d items %v, want %d %v", merged.Items, merged.Counts, whole.Items, whole.Counts)
	}
	if len(merged.Problems) != MaxRunProblems || len(merged.Problems)+merged.More != whole.Counts[StatusRejected] {
		t.Errorf("merged problems %d + %d more, want %d listed and %d in all", len(merged.Problems), merged.More, MaxRunProblems, whole.Counts[StatusRejected])
	}
}

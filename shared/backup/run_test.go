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

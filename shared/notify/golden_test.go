package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/golden"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json and the examples in OUTCOMES.md")

// functionOf is the function that produces each status in the product.
var functionOf = map[backup.Status]string{
	backup.StatusAccepted:  "webhook",
	backup.StatusCoalesced: "webhook",
	backup.StatusRejected:  "webhook",
	backup.StatusFailed:    "scheduled",
	backup.StatusDeferred:  "queue",
	backup.StatusCompleted: "queue",
}

func indented(t *testing.T, ev Event) []byte {
	t.Helper()
	b, err := ev.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// TestGolden builds each of the six event types from a fixed outcome and
// compares it with testdata/<status>.golden.json (go test -update rewrites
// them). It also checks that the golden file parses back to the same event.
func TestGolden(t *testing.T) {
	fx := fixtures()
	for _, st := range backup.Statuses {
		t.Run(string(st), func(t *testing.T) {
			o, ok := fx[st]
			if !ok {
				t.Fatalf("no fixture for %s", st)
			}
			ev := BuildEvent(functionOf[st], o)
			got := indented(t, ev)
			want := golden.Check(t, filepath.Join("testdata", string(st)+".golden.json"), got, *update)
			back, err := ParseEvent(want)
			if err != nil {
				t.Fatalf("ParseEvent(golden): %v", err)
			}
			if !reflect.DeepEqual(back, ev) {
				t.Errorf("golden file does not parse back to the event:\n%#v\n%#v", back, ev)
			}
		})
	}
}

var exampleRE = regexp.MustCompile("(?s)(<!-- example:([a-z]+) -->\n)```json\n.*?```\n(<!-- /example -->)")

// TestOutcomesDoc keeps OUTCOMES.md true: each example block equals its
// golden file (-update rewrites the blocks), every status has one, and every
// JSON key of the event is explained.
func TestOutcomesDoc(t *testing.T) {
	doc, err := os.ReadFile("OUTCOMES.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	out := exampleRE.ReplaceAllFunc(doc, func(block []byte) []byte {
		m := exampleRE.FindSubmatch(block)
		status := string(m[2])
		seen[status] = true
		golden, err := os.ReadFile(filepath.Join("testdata", status+".golden.json"))
		if err != nil {
			t.Errorf("example %q: %v", status, err)
			return block
		}
		return []byte(string(m[1]) + "```json\n" + string(golden) + "```\n" + string(m[3]))
	})
	for _, st := range backup.Statuses {
		if !seen[string(st)] {
			t.Errorf("OUTCOMES.md has no <!-- example:%s --> block", st)
		}
	}
	if !bytes.Equal(out, doc) {
		if *update {
			if err := os.WriteFile("OUTCOMES.md", out, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			t.Error("OUTCOMES.md examples differ from testdata/*.golden.json (go test -update rewrites them)")
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Event](), reflect.TypeFor[Data](), reflect.TypeFor[RequestData](),
		reflect.TypeFor[Attempt](), reflect.TypeFor[ErrorData](), reflect.TypeFor[TriggerData]()} {
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if !bytes.Contains(doc, []byte("`"+name+"`")) {
				t.Errorf("OUTCOMES.md does not explain %s.%s (`%s`)", typ.Name(), typ.Field(i).Name, name)
			}
		}
	}
}

// TestRunGolden: a plan run's summary event (testdata/run.golden.json):
// counts for every status, the problems with their codes, never terminal,
// and an id that depends on the run alone.
func TestRunGolden(t *testing.T) {
	trig := backup.Trigger{Kind: "timer", Source: "nightly", DeliveryId: "2026-11-24T02:00:00Z"}
	s := backup.RunSummary{Key: backup.RunKey(trig), Trigger: trig}
	s.Add(backup.Outcome{Status: backup.StatusAccepted, Request: backup.Request{DBInstanceId: "rm-uf6wjk5xxxx"}})
	s.Add(backup.Outcome{Status: backup.StatusCoalesced, Request: backup.Request{DBInstanceId: "rm-uf6wjk5yyyy"}})
	s.Add(backup.Outcome{Status: backup.StatusRejected, Request: backup.Request{DBInstanceId: "rm-uf6wjk5zzzz"},
		Error: &backup.ErrorInfo{Code: "ReadDBInstanceNotSupport", Message: "The operation is not permitted due to type of the instance."}})
	// A member account whose role could not be assumed (DESIGN.md §10).
	s.Add(backup.Outcome{Status: backup.StatusFailed, Request: backup.Request{DBInstanceId: "rm-bp1member0001", AccountId: "1234567890123456", RegionId: "cn-shanghai"},
		Error: &backup.ErrorInfo{Code: "NoPermission", Field: "AccountId", Message: "You are not authorized to do this action. You should be authorized by RAM."}})
	at := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	ev := BuildRunEvent("scheduled", s, at, at.Add(40*time.Second))
	want := golden.Check(t, filepath.Join("testdata", "run.golden.json"), indented(t, ev), *update)
	back, err := ParseEvent(want)
	if err != nil {
		t.Fatalf("ParseEvent(golden): %v", err)
	}
	if !reflect.DeepEqual(back, ev) {
		t.Errorf("golden file does not parse back to the event")
	}
	r := ev.Data.Run
	if ev.Type != TypeRun || ev.Data.Terminal || r.Items != 4 || r.Counts["rejected"] != 1 || r.Counts["failed"] != 1 {
		t.Errorf("run event %+v %+v", ev, r)
	}
	if r.Verdict != "partial" {
		t.Errorf("verdict %q, want partial (two of four asks refused or failed)", r.Verdict)
	}
	if got := r.Targets["1234567890123456/cn-shanghai"]; got["failed"] != 1 || len(got) != len(backup.Statuses) {
		t.Errorf("the member account's target counts %v, want its failed ask and every status listed", got)
	}
	if len(r.Accounts) != 1 || r.Accounts[0] != (RunAccount{AccountId: "1234567890123456", Code: "NoPermission", Asks: 1}) {
		t.Errorf("accounts %+v, want the member account with STS's code", r.Accounts)
	}
	if again := BuildRunEvent("queue", s, at, at.Add(time.Hour)); again.ID != ev.ID {
		t.Error("the run's id depends on when or where it was built")
	}
}

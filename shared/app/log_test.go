package app

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// durationString is how slog (and time.Duration.String) writes a duration.
var durationString = regexp.MustCompile(`^[0-9.]+(ns|µs|us|ms|s|m|h)`)

// invocationLogKeys are on every line of an invocation.
var invocationLogKeys = []string{"faas.trigger", "faas.invocation_id", "faas.coldstart", "faas.name", "service.version",
	"cloud.provider", "cloud.platform", "cloud.region", "cloud.account.id", "function"}

func logFieldSet(t *testing.T) map[string]bool {
	t.Helper()
	set, folded := map[string]bool{}, map[string]string{}
	for _, f := range LogFields {
		if set[f.Key] {
			t.Errorf("LogFields lists %q twice", f.Key)
		}
		if other, ok := folded[strings.ToLower(f.Key)]; ok {
			t.Errorf("LogFields has %q and %q: one key, two casings", other, f.Key)
		}
		set[f.Key], folded[strings.ToLower(f.Key)] = true, f.Key
	}
	return set
}

// TestLogLinesKeepTheTable runs a representative timer invocation (a plan
// of four asks: one accepted, one rejected, one waiting out a busy
// instance until it is deferred, one for an instance RDS does not know)
// and then a second one, with the functions' JSON logger into a buffer:
// every line is JSON with the invocation's faas.* and cloud.* attributes,
// no value is a duration string, every key is one of LogFields (so in its
// casing), and the plan run summary carries the run's counts.
func TestLogLinesKeepTheTable(t *testing.T) {
	h := newHarness(t, "scheduled")
	cfg, err := config.Load(append(append([]string{}, h.env...), "BACKUP_ATTEMPTS_PER_INVOCATION=2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New("scheduled", cfg, Options{Logger: NewLogger(h.logs, "debug"),
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	h.rds.InjectFault(rds.Fault{Action: "CreateBackup", DBInstanceId: "rm-c", Status: 403, Code: "IncorrectDBInstanceState"})
	invoke := func(id string) {
		fctx, _ := fccontext.FromContext(h.ctx())
		c := *fctx
		c.RequestID, c.AccountId, c.Function.Name = id, "1234567890123456", "rds-backup-scheduled"
		ctx := fccontext.NewContext(context.Background(), &c)
		plan := `{"Backups":[{"DBInstanceId":"rm-a"},{"DBInstanceId":"rm-b","BackupMethod":"Logical","BackupStrategy":"db","DBName":"Sales-DB"},` +
			`{"DBInstanceId":"rm-c"},{"DBInstanceId":"rm-gone"}]}`
		if _, err := a.HandleTimer(ctx, fc.NewTimerEvent(time.Now(), "nightly", plan)); err != nil {
			t.Fatal(err)
		}
	}
	invoke("1-first")
	invoke("1-second")

	table := logFieldSet(t)
	lines := strings.Split(strings.TrimSpace(h.logs.String()), "\n")
	summaries, ids := 0, map[string]int{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %v: %s", err, l)
		}
		for _, k := range invocationLogKeys {
			if _, ok := m[k]; !ok {
				t.Errorf("no %s: %s", k, l)
			}
		}
		id, _ := m["faas.invocation_id"].(string)
		ids[id]++
		if m["faas.trigger"] != "timer" || m["faas.name"] != "rds-backup-scheduled" || m["cloud.region"] != "cn-hangzhou" ||
			m["cloud.account.id"] != "1234567890123456" || m["cloud.platform"] != "alibaba_cloud_fc" || m["function"] != "scheduled" {
			t.Errorf("the invocation's attributes: %s", l)
		}
		if cold, _ := m["faas.coldstart"].(bool); cold != (id == "1-first") {
			t.Errorf("faas.coldstart %v in invocation %s: %s", m["faas.coldstart"], id, l)
		}
		for k, v := range m {
			if !table[k] {
				t.Errorf("key %q is not in LogFields (docs/logs.md): %s", k, l)
			}
			if s, ok := v.(string); ok && k != "msg" && durationString.MatchString(s) {
				t.Errorf("%s is a duration string %q: %s", k, s, l)
			}
			if strings.HasSuffix(k, "Ms") {
				if _, ok := v.(float64); !ok {
					t.Errorf("%s is not a number: %s", k, l)
				}
			}
		}
		if m["msg"] != "plan run summary" {
			continue
		}
		summaries++
		count := func(k string) float64 {
			n, ok := m[k].(float64)
			if !ok {
				t.Errorf("the summary has no count %q: %s", k, l)
			}
			return n
		}
		total := 0.0
		for _, st := range backup.Statuses {
			total += count(string(st))
		}
		// rm-a: accepted, then coalesced with its job in the second run.
		if count("items") != 4 || total != 4 || count("accepted")+count("coalesced") != 1 || count("deferred") != 1 || count("rejected") != 2 {
			t.Errorf("the summary's counts: %s", l)
		}
	}
	if summaries != 2 || ids["1-first"] == 0 || ids["1-second"] == 0 || len(ids) != 2 {
		t.Errorf("%d summaries, lines by invocation %v:\n%s", summaries, ids, h.logs.String())
	}
	for _, want := range []string{`"delayMs":`, `"msg":"request deferred"`, `"dbInstanceId":"rm-c"`, `"backupJobId":"`} {
		if !strings.Contains(h.logs.String(), want) {
			t.Errorf("the logs lack %s:\n%s", want, h.logs.String())
		}
	}
}

// TestLogKeysInCodeAreInTheTable reads the packages that log and checks
// every literal key of a slog call against LogFields, and that no
// duration reaches a logger as slog.Duration (which writes a string).
func TestLogKeysInCodeAreInTheTable(t *testing.T) {
	table := logFieldSet(t)
	logMethods := map[string]int{ // the method, and how many arguments come before the attributes
		"Debug": 1, "Info": 1, "Warn": 1, "Error": 1,
		"DebugContext": 2, "InfoContext": 2, "WarnContext": 2, "ErrorContext": 2,
		"Log": 3, "LogAttrs": 3, "With": 0,
	}
	found := 0
	for _, dir := range []string{".", "../settle", "../planrun", "../reask", "../accounts", "../admit", "../report", "../executor", "../notify", "../webhook", "../tracker", "../workqueue"} {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			check := func(lit *ast.BasicLit) {
				key, err := strconv.Unquote(lit.Value)
				if err != nil {
					return
				}
				found++
				if !table[key] {
					t.Errorf("%s: log key %q is not in LogFields (docs/logs.md)", fset.Position(lit.Pos()), key)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "slog" {
					if sel.Sel.Name == "Duration" {
						t.Errorf("%s: slog.Duration writes a string; log whole milliseconds under a key ending in Ms", fset.Position(call.Pos()))
					}
					switch sel.Sel.Name {
					case "String", "Int", "Int64", "Uint64", "Float64", "Bool", "Time", "Duration", "Any", "Group":
						if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							check(lit)
						}
					}
					return true
				}
				skip, ok := logMethods[sel.Sel.Name]
				if !ok || len(call.Args) < skip {
					return true
				}
				for i := skip; i < len(call.Args); i++ {
					lit, ok := call.Args[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue // an slog.Attr (checked above) or a slice of them
					}
					check(lit)
					i++ // its value
				}
				return true
			})
		}
	}
	if found < 50 {
		t.Errorf("found only %d log keys in the code: is the scan still right?", found)
	}
}

// TestOneInfoLinePerAsk: at the default level (info) an ask that goes
// through writes one line, "outcome" (a fleet of thousands writes
// thousands, and log storage is paid per byte); its publication shows at
// debug, with the MNS message id.
func TestOneInfoLinePerAsk(t *testing.T) {
	for _, tc := range []struct {
		level     string
		published int
	}{{"info", 0}, {"debug", 1}} {
		t.Run(tc.level, func(t *testing.T) {
			h := newHarness(t, "queue")
			cfg, err := config.Load(h.env, nil)
			if err != nil {
				t.Fatal(err)
			}
			a, err := New("queue", cfg, Options{Logger: NewLogger(h.logs, tc.level)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.HandleQueue(h.ctx(), batch(`{"DBInstanceId":"rm-a"}`)); err != nil {
				t.Fatal(err)
			}
			if n := len(h.outcomes()); n != 1 {
				t.Fatalf("%d outcomes published, want 1", n)
			}
			byMsg := map[string]int{}
			var askLines []string
			for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("not JSON: %q", line)
				}
				msg, _ := m["msg"].(string)
				byMsg[msg]++
				if m["level"] == "INFO" && (m["dbInstanceId"] == "rm-a" || m["subject"] == "rm-a") {
					askLines = append(askLines, msg)
				}
			}
			if len(askLines) != 1 || askLines[0] != "outcome" {
				t.Errorf("info lines about the ask %q, want one: outcome", askLines)
			}
			if byMsg["outcome published"] != tc.published {
				t.Errorf("%d %q lines at %s, want %d", byMsg["outcome published"], "outcome published", tc.level, tc.published)
			}
		})
	}
}

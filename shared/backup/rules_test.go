package backup

import (
	"fmt"
	"strings"
	"testing"
)

func req(id string, mods ...func(*Request)) Request {
	r := Request{DBInstanceId: id}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func method(m string) func(*Request)   { return func(r *Request) { r.BackupMethod = m } }
func strategy(s string) func(*Request) { return func(r *Request) { r.BackupStrategy = s } }
func btype(t string) func(*Request)    { return func(r *Request) { r.BackupType = t } }
func dbs(n ...string) func(*Request)   { return func(r *Request) { r.DBName = n } }
func region(id string) func(*Request)  { return func(r *Request) { r.RegionId = id } }

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("db%d", i)
	}
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		r         Request
		wantCode  string
		wantField string
		wantRule  string
	}{
		{"minimal request is valid", req("rm-1"), "", "", ""},
		{"R1 missing DBInstanceId", req(""), CodeRequiredParam, "DBInstanceId", "R1"},
		{"R1 blank DBInstanceId", req("  "), CodeRequiredParam, "DBInstanceId", "R1"},
		{"R9 RDS id forms ok", req("rm-uf6wjk5xxxx"), "", "", ""},
		{"R9 PostgreSQL id ok", req("pgm-bp1abc2def3"), "", "", ""},
		{"R9 old rds id ok", req("rdsaiiabnaiiabn"), "", "", ""},
		{"R9 comma list (DescribeDBInstanceAttribute takes several)", req("rm-demo-x,rm-prod-1"), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R9 space", req("rm-demo x"), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R9 leading space", req(" rm-1"), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R9 control character", req("rm-demo\n"), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R9 upper case", req("RM-1"), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R9 glob", req("rm-*"), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R9 starts with a digit", req("1rm"), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R9 one character", req("r"), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R9 64 characters ok", req("r" + strings.Repeat("m", 63)), "", "", ""},
		{"R9 65 characters", req("r" + strings.Repeat("m", 64)), CodeInstanceIdFormat, "DBInstanceId", "R9"},
		{"R10 region id ok", req("rm-1", region("cn-shanghai-finance-1")), "", "", ""},
		{"R10 region is a host (SSRF)", req("rm-1", region("x@127.0.0.1:8443/")), CodeRegionFormat, "RegionId", "R10"},
		{"R10 region with a dot", req("rm-1", region("cn-hangzhou.evil.example")), CodeRegionFormat, "RegionId", "R10"},
		{"R10 upper-case region", req("rm-1", region("CN-HANGZHOU")), CodeRegionFormat, "RegionId", "R10"},
		{"R10 one word is not a region", req("rm-1", region("hangzhou")), CodeRegionFormat, "RegionId", "R10"},
		{"R2 Logical ok", req("rm-1", method("Logical")), "", "", ""},
		{"R2 Snapshot ok", req("rm-1", method("Snapshot")), "", "", ""},
		{"R2 lower-case physical refused", req("rm-1", method("physical")), CodeInvalidMethod, "BackupMethod", "R2"},
		{"R2 unknown method", req("rm-1", method("Incremental")), CodeInvalidMethod, "BackupMethod", "R2"},
		{"R11 100 names ok", req("rm-1", method("Logical"), dbs(names(100)...)), "", "", ""},
		{"R11 101 names", req("rm-1", method("Logical"), dbs(names(101)...)), CodeParametersInvalid, "DBName", "R11"},
		{"R3 valid names", req("rm-1", method("Logical"), strategy("db"), dbs("orders", "b1", "a_b9")), "", "", ""},
		{"R3 16 chars ok", req("rm-1", method("Logical"), dbs("abcdefghijklmnop")), "", "", ""},
		// CreateBackup's page says at most 16 without hyphens, the database
		// pages 2-64 with hyphens: a name one page allows is left to RDS.
		{"R3 20 chars ok (database pages)", req("rm-1", method("Logical"), dbs("customer_orders_2024")), "", "", ""},
		{"R3 hyphen ok (database pages)", req("rm-1", method("Logical"), dbs("sales-db")), "", "", ""},
		{"R3 64 chars ok", req("rm-1", method("Logical"), dbs("a"+strings.Repeat("b", 62)+"c")), "", "", ""},
		{"R3 65 chars", req("rm-1", method("Logical"), dbs("a"+strings.Repeat("b", 63)+"c")), CodeInvalidDBNameFormat, "DBName", "R3"},
		{"R3 ends with hyphen", req("rm-1", method("Logical"), dbs("sales-")), CodeInvalidDBNameFormat, "DBName", "R3"},
		{"R3 comma inside", req("rm-1", method("Logical"), dbs("a,b")), CodeInvalidDBNameFormat, "DBName", "R3"},
		{"R3 upper case", req("rm-1", method("Logical"), dbs("Sales-DB")), CodeInvalidDBNameFormat, "DBName", "R3"},
		{"R3 starts with digit", req("rm-1", method("Logical"), dbs("1db")), CodeInvalidDBNameFormat, "DBName", "R3"},
		{"R3 ends with underscore", req("rm-1", method("Logical"), dbs("db_")), CodeInvalidDBNameFormat, "DBName", "R3"},
		{"R3 empty entry", req("rm-1", method("Logical"), dbs("a", "")), CodeInvalidDBNameFormat, "DBName", "R3"},
		{"R3 space", req("rm-1", method("Logical"), dbs("a b")), CodeInvalidDBNameFormat, "DBName", "R3"},
		{"R4 instance ok", req("rm-1", method("Logical"), strategy("instance")), "", "", ""},
		{"R4 bad strategy", req("rm-1", method("Logical"), strategy("table")), CodeParametersInvalid, "BackupStrategy", "R4"},
		{"R5 db without DBName", req("rm-1", method("Logical"), strategy("db")), CodeRequiredParam, "DBName", "R5"},
		{"R6 FullBackup ok", req("rm-1", btype("FullBackup")), "", "", ""},
		{"R6 bad type", req("rm-1", btype("Incremental")), CodeBackupTypeNotSupp, "BackupType", "R6"},
		{"R7 type with Logical", req("rm-1", method("Logical"), btype("Auto")), CodeBackupTypeNotSupp, "BackupType", "R7"},
		{"R7 type with Snapshot", req("rm-1", method("Snapshot"), btype("FullBackup")), CodeBackupTypeNotSupp, "BackupType", "R7"},
		{"R7 type with default Physical ok", req("rm-1", btype("Auto")), "", "", ""},
		{"R8 DBName with Snapshot", req("rm-1", method("Snapshot"), dbs("a")), CodeParametersInvalid, "BackupStrategy", "R8"},
		{"R8 strategy with Snapshot", req("rm-1", method("Snapshot"), strategy("instance")), CodeParametersInvalid, "BackupStrategy", "R8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := Validate(tc.r)
			assertViolation(t, vs, tc.wantCode, tc.wantField, tc.wantRule)
		})
	}
}

func facts(engine string, mods ...func(*InstanceFacts)) InstanceFacts {
	f := InstanceFacts{DBInstanceId: "rm-1", Engine: engine, Status: "Running", LockMode: "Unlock",
		InstanceType: "Primary", StorageType: "cloud_essd", Databases: []string{"orders", "billing"}, DatabasesKnown: true,
		BackupsTodayKnown: true}
	for _, m := range mods {
		m(&f)
	}
	return f
}

func TestCheckInstance(t *testing.T) {
	tests := []struct {
		name      string
		r         Request
		f         InstanceFacts
		wantCode  string
		wantField string
		wantRule  string
	}{
		{"running primary MySQL physical ok", req("rm-1"), facts(EngineMySQL), "", "", ""},
		{"I1 rebooting", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.Status = "Rebooting" }), CodeInstanceState, "DBInstanceId", "I1"},
		{"I2 locked", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.LockMode = "LockByExpiration" }), CodeLockMode, "DBInstanceId", "I2"},
		{"I2 empty lock mode is unlocked", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.LockMode = "" }), "", "", ""},
		{"I3 read-only", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.InstanceType = "Readonly" }), CodeReadOnly, "DBInstanceId", "I3"},
		{"I4 BackupType on MySQL", req("rm-1", btype("FullBackup")), facts(EngineMySQL), CodeBackupTypeNotSupp, "BackupType", "I4"},
		{"I4 BackupType on SQL Server ok", req("rm-1", btype("FullBackup")), facts(EngineSQLServer), "", "", ""},
		{"I5 MySQL logical db-level ok", req("rm-1", method("Logical"), strategy("db"), dbs("orders")), facts(EngineMySQL), "", "", ""},
		{"I5 MySQL physical db-level", req("rm-1", strategy("db"), dbs("orders")), facts(EngineMySQL), CodeParametersInvalid, "BackupStrategy", "I5"},
		{"I5 PostgreSQL logical db-level", req("rm-1", method("Logical"), dbs("orders")), facts(EnginePostgreSQL), CodeParametersInvalid, "BackupStrategy", "I5"},
		{"I5 SQL Server logical with strategy", req("rm-1", method("Logical"), strategy("instance")), facts(EngineSQLServer), CodeParametersInvalid, "BackupStrategy", "I5"},
		{"I5 SQL Server physical db-level ok", req("rm-1", strategy("db"), dbs("orders")), facts(EngineSQLServer), "", "", ""},
		{"I6 SQL Server db-level Auto", req("rm-1", strategy("db"), dbs("orders"), btype("Auto")), facts(EngineSQLServer), CodeParametersInvalid, "BackupType", "I6"},
		{"I6 SQL Server db-level FullBackup ok", req("rm-1", strategy("db"), dbs("orders"), btype("FullBackup")), facts(EngineSQLServer), "", "", ""},
		{"I7 MariaDB Snapshot", req("rm-1", method("Snapshot")), facts(EngineMariaDB), CodeInvalidMethod, "BackupMethod", "I7"},
		{"I7 MariaDB Physical ok", req("rm-1", method("Physical")), facts(EngineMariaDB), "", "", ""},
		{"I8 Snapshot on local disk", req("rm-1", method("Snapshot")), facts(EngineMySQL, func(f *InstanceFacts) { f.StorageType = "local_ssd" }), CodeInvalidMethod, "BackupMethod", "I8"},
		{"I8 SQL Server Snapshot on cloud disk ok", req("rm-1", method("Snapshot")), facts(EngineSQLServer), "", "", ""},
		{"I9 Logical without databases", req("rm-1", method("Logical")), facts(EngineMySQL, func(f *InstanceFacts) { f.Databases = nil }), CodeInvalidMethod, "BackupMethod", "I9"},
		{"I9 databases unknown: left to the API", req("rm-1", method("Logical")), facts(EngineMySQL, func(f *InstanceFacts) { f.Databases, f.DatabasesKnown = nil, false }), "", "", ""},
		{"I10 unknown database", req("rm-1", method("Logical"), strategy("db"), dbs("orders", "hr")), facts(EngineMySQL), CodeDBNotFound, "DBName", "I10"},
		{"I11 ongoing job", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.OngoingJobs = []Job{{BackupJobId: "7", BackupStatus: "Uploading"}} }), CodeJobExists, "DBInstanceId", "I11"},
		{"I11 finished job does not block", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.OngoingJobs = []Job{{BackupJobId: "7", BackupStatus: "Finished"}} }), "", "", ""},
		{"I12 20 today", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.BackupsToday = 20 }), CodeQuota, "DBInstanceId", "I12"},
		{"I12 19 today ok", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.BackupsToday = 19 }), "", "", ""},
		{"I12 count unknown: left to the API", req("rm-1"), facts(EngineMySQL, func(f *InstanceFacts) { f.BackupsToday, f.BackupsTodayKnown = 25, false }), "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if vs := Validate(tc.r); vs != nil {
				t.Fatalf("test request fails Validate: %v", vs)
			}
			vs := CheckInstance(tc.r, tc.f)
			if vs == nil {
				vs = CheckState(tc.r, tc.f)
			}
			assertViolation(t, vs, tc.wantCode, tc.wantField, tc.wantRule)
		})
	}
}

// A plain instance-level Physical ask needs no fact: CreateBackup is the
// check (DESIGN.md §2). Asks whose rules need a fact say which.
func TestNeedsFacts(t *testing.T) {
	tests := []struct {
		name                       string
		r                          Request
		engine, storage, databases bool
	}{
		{"instance-level physical", req("rm-1"), false, false, false},
		{"explicit Physical", req("rm-1", method("Physical")), false, false, false},
		{"BackupType", req("rm-1", btype("FullBackup")), true, false, false},
		{"Snapshot", req("rm-1", method("Snapshot")), true, true, false},
		{"Logical", req("rm-1", method("Logical")), true, false, true},
		{"db-level", req("rm-1", strategy("db"), dbs("orders")), true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, s, d := NeedsFacts(tc.r)
			if e != tc.engine || s != tc.storage || d != tc.databases {
				t.Errorf("NeedsFacts = engine %v storage %v databases %v, want %v %v %v", e, s, d, tc.engine, tc.storage, tc.databases)
			}
		})
	}
}

// Unknown facts leave their rules to the API: an unknown engine never
// refuses BackupType, an unknown storage never refuses Snapshot.
func TestCheckInstanceUnknownFacts(t *testing.T) {
	if vs := CheckInstance(req("rm-1", btype("FullBackup")), InstanceFacts{StorageType: "cloud_essd"}); vs != nil {
		t.Errorf("engine unknown: want no violation, got %v", vs)
	}
	if vs := CheckInstance(req("rm-1", method("Snapshot")), InstanceFacts{}); vs != nil {
		t.Errorf("nothing known: want no violation, got %v", vs)
	}
}

func assertViolation(t *testing.T, vs Violations, code, field, rule string) {
	t.Helper()
	if code == "" {
		if vs != nil {
			t.Fatalf("want no violation, got %v", vs)
		}
		return
	}
	v := vs.First()
	if v == nil {
		t.Fatalf("want %s on %s, got none", code, field)
	}
	if v.Code != code || v.Field != field || v.Rule != rule {
		t.Fatalf("got %s/%s/%s, want %s/%s/%s (%s)", v.Rule, v.Code, v.Field, rule, code, field, v.Message)
	}
	if !strings.Contains(v.Message, field) {
		t.Fatalf("message %q does not name the field %s", v.Message, field)
	}
	if v.HTTPStatus < 400 || v.HTTPStatus > 404 {
		t.Fatalf("HTTP status %d is not one the API page gives", v.HTTPStatus)
	}
}

func TestDBNameMessageIsReadable(t *testing.T) {
	v := Validate(req("rm-1", method("Logical"), dbs("Sales-DB"))).First()
	want := `DBName "Sales-DB": must be 1-64 characters of lowercase letters, digits, underscores and hyphens, start with a letter and end with a letter or digit`
	if v.Message != want {
		t.Fatalf("message = %q\nwant      %q", v.Message, want)
	}
}

func TestEveryRuleIsTested(t *testing.T) {
	// Each rule ID must appear in a test case name above, so a new rule cannot
	// land without a case.
	src := strings.Join([]string{"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10", "R11", "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10", "I11", "I12"}, " ")
	for _, r := range Rules {
		if !strings.Contains(" "+src+" ", " "+r.ID+" ") {
			t.Errorf("rule %s has no test case", r.ID)
		}
		if r.Source == "" || r.Text == "" || r.Code == "" || r.Field == "" {
			t.Errorf("rule %s lacks text, source, code or field", r.ID)
		}
	}
	if len(Rules) != 23 {
		t.Errorf("rule table has %d rules, tests cover 23: add cases for new rules", len(Rules))
	}
}

func TestResolveDefaults(t *testing.T) {
	tests := []struct {
		name               string
		r                  Request
		engine             string
		wantMethod, wantTy string
	}{
		{"MySQL: Physical, no type", req("rm-1"), EngineMySQL, "Physical", ""},
		{"MySQL logical kept", req("rm-1", method("Logical")), EngineMySQL, "Logical", ""},
		{"SQL Server instance: Auto", req("rm-1"), EngineSQLServer, "Physical", "Auto"},
		{"SQL Server db-level: FullBackup", req("rm-1", strategy("db"), dbs("orders")), EngineSQLServer, "Physical", "FullBackup"},
		{"SQL Server DBName only: FullBackup", req("rm-1", dbs("orders")), EngineSQLServer, "Physical", "FullBackup"},
		{"SQL Server explicit FullBackup kept", req("rm-1", btype("FullBackup")), EngineSQLServer, "Physical", "FullBackup"},
		{"SQL Server Snapshot: no type", req("rm-1", method("Snapshot")), EngineSQLServer, "Snapshot", ""},
		{"MariaDB: Physical", req("rm-1"), EngineMariaDB, "Physical", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Resolve(tc.r, InstanceFacts{Engine: tc.engine})
			if got.BackupMethod != tc.wantMethod || got.BackupType != tc.wantTy {
				t.Fatalf("Resolve = %s/%s, want %s/%s", got.BackupMethod, got.BackupType, tc.wantMethod, tc.wantTy)
			}
		})
	}
}

package backup

import (
	"fmt"
	"strings"
)

// Error codes, as the RDS API returns them (API page, "Error codes").
const (
	CodeRequiredParam       = "RequiredParam.NotFound"
	CodeParametersInvalid   = "Parameters.Invalid"
	CodeInvalidMethod       = "InvalidBackupMethod.ValueNotSupport"
	CodeBackupTypeNotSupp   = "BackupType.NotSupport"
	CodeInvalidDBNameFormat = "InvalidDBName.Format"
	CodeDBNotFound          = "InvalidDB.NotFound"
	CodeInstanceState       = "IncorrectDBInstanceState"
	CodeLockMode            = "IncorrectDBInstanceLockMode.ValueNotSupported"
	CodeReadOnly            = "ReadDBInstanceNotSupport"
	CodeJobExists           = "BackupJobExists"
	CodeQuota               = "Exceeded.BackupTimes"
	CodeInstanceNotFound    = "InvalidDBInstanceId.NotFound"

	// CodeMalformed is ours, not the API's: the request body is not the
	// request JSON at all.
	CodeMalformed = "MalformedRequest"
)

// Violation is one broken rule: the code the API would return, its HTTP
// status, the field at fault, and a message a person understands.
type Violation struct {
	Rule       string `json:"rule,omitempty"`
	Code       string `json:"code"`
	HTTPStatus int    `json:"httpStatus"`
	Field      string `json:"field"`
	Message    string `json:"message"`
}

func (v *Violation) Error() string { return v.Code + ": " + v.Message }

// Violations is every broken rule of one stage, in table order. The first is
// the one the API would report.
type Violations []*Violation

func (vs Violations) Error() string {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Error()
	}
	return strings.Join(msgs, "; ")
}

// First returns the violation the API would report, or nil.
func (vs Violations) First() *Violation {
	if len(vs) == 0 {
		return nil
	}
	return vs[0]
}

// Stage says when a rule can be checked.
type Stage string

const (
	StageRequest  Stage = "request"  // no API call needed
	StageInstance Stage = "instance" // needs facts of the instance that never change (engine, storage) or its databases
	StageState    Stage = "state"    // needs the instance's live state: left to CreateBackup, which refuses with the code (DESIGN.md §2)
)

// Rule is one rule of the API page, kept as data so the README can list it
// next to the sentence it comes from.
type Rule struct {
	ID         string
	Stage      Stage
	Field      string
	Code       string
	HTTPStatus int
	Text       string // the rule in our words
	Source     string // the API page's sentence behind it
	// check reports whether r breaks the rule, and then the value at fault
	// and the message: formatted only when broken, since every ask of a
	// fleet is checked against every rule.
	check func(r Request, f *InstanceFacts) (value string, message string, broken bool)
	// engine: the rule needs InstanceFacts.Engine and is skipped while it
	// is unknown.
	engine bool
}

// validDBName is what every RDS page agrees a database name may be, and no
// stricter. The pages disagree: CreateBackup's InvalidDBName.Format row says
// at most 16 characters of lowercase letters, digits and underscores; the
// database pages (CreateDatabase, ROS ALIYUN::RDS::Database) say 2-64
// characters and allow hyphens. A name that one page allows is passed on
// (1-64 characters, hyphens allowed), so a real database such as
// customer_orders_2024 or sales-db is never refused by us on one page's
// word: RDS itself is the check, and what it refuses is rejected with its
// own code. What every page refuses (an upper-case letter, a leading digit,
// a trailing underscore, more than 64 characters) we refuse first.
//
// As an expression: ^[a-z]([a-z0-9_-]{0,62}[a-z0-9])?$, checked by hand
// (grammar_test.go checks the two agree).
func validDBName(s string) bool {
	if s == "" || len(s) > 64 || !isLower(s[0]) {
		return false
	}
	if last := s[len(s)-1]; !isLower(last) && !isDigit(last) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// DBNameRule is the message of InvalidDBName.Format.
const DBNameRule = "must be 1-64 characters of lowercase letters, digits, underscores and hyphens, start with a letter and end with a letter or digit"

func isSQLServer(f *InstanceFacts) bool { return f.Engine == EngineSQLServer }

// dbLevelAllowed: "You can specify this parameter when you perform a logical
// backup on individual databases of an ApsaraDB RDS for MySQL instance [...]
// or a full physical backup on individual databases of an ApsaraDB RDS for
// SQL Server instance."
func dbLevelAllowed(r Request, f *InstanceFacts) bool {
	m := r.Method()
	return (f.Engine == EngineMySQL && m == MethodLogical) || (f.Engine == EngineSQLServer && m == MethodPhysical)
}

// Rules is the rule table, request stage first; within a stage, in the order
// the API is taken to check them.
var Rules = []Rule{
	{
		ID: "R1", Stage: StageRequest, Field: "DBInstanceId", Code: CodeRequiredParam, HTTPStatus: 400,
		Text:   "DBInstanceId is required.",
		Source: "DBInstanceId | string | Yes | The instance ID.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			return "", "DBInstanceId: is required", strings.TrimSpace(r.DBInstanceId) == ""
		},
	},
	{
		ID: "R9", Stage: StageRequest, Field: "DBInstanceId", Code: CodeInstanceIdFormat, HTTPStatus: 400,
		Text:   "DBInstanceId is an RDS instance id: 2-64 lowercase letters, digits and '-', starting with a letter (rm-uf6wjk5xxxx, pgm-bp1abc). No comma, space or control character. (Ours: checked before any allow-list, log line or API call.)",
		Source: "Not on the page (ours): DBInstanceId follows the grammar of RDS instance ids (lowercase letters, digits, '-'; no commas, spaces or control characters; bounded length), so that no request text reaches an allow-list match, a log line or an API call unchecked.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			id := r.DBInstanceId
			if strings.TrimSpace(id) == "" || ValidInstanceID(id) {
				return "", "", false
			}
			return id, fmt.Sprintf("DBInstanceId %s: %s", Quote(id, 72), InstanceIdRule), true
		},
	},
	{
		ID: "R10", Stage: StageRequest, Field: "RegionId", Code: CodeRegionFormat, HTTPStatus: 400,
		Text:   "RegionId, when given, is a region id: lowercase words and numbers joined by '-' (cn-hangzhou), at most 40 characters. (Ours: the SDK builds the endpoint host from it.)",
		Source: "Not on the page (ours): a region id's grammar, checked before anything else, because the SDK builds the endpoint host (`rds.<RegionId>.aliyuncs.com`) from it; nothing from a request reaches an SDK client, a log line or an endpoint unvalidated.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			if r.RegionId == "" || ValidRegionID(r.RegionId) {
				return "", "", false
			}
			return r.RegionId, fmt.Sprintf("RegionId %s: %s", Quote(r.RegionId, 48), RegionIdRule), true
		},
	},
	{
		ID: "R2", Stage: StageRequest, Field: "BackupMethod", Code: CodeInvalidMethod, HTTPStatus: 400,
		Text:   "BackupMethod is Logical, Physical or Snapshot (default Physical).",
		Source: "BackupMethod: Valid values: Logical, Physical, Snapshot. Default value: Physical.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			m := r.BackupMethod
			if m == "" || m == MethodLogical || m == MethodPhysical || m == MethodSnapshot {
				return "", "", false
			}
			return m, fmt.Sprintf("BackupMethod %q: must be Logical, Physical or Snapshot", m), true
		},
	},
	{
		ID: "R11", Stage: StageRequest, Field: "DBName", Code: CodeParametersInvalid, HTTPStatus: 400,
		Text:   "At most 100 names in DBName. (Ours: the page names no limit; the bound keeps one request's messages small.)",
		Source: "Not on the page (ours): the page names no limit; the DBName list is bounded so that one request stays small in messages, outcomes and log lines.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			if len(r.DBName) <= MaxDBNames {
				return "", "", false
			}
			return fmt.Sprint(len(r.DBName)), fmt.Sprintf("DBName: %d names, at most %d in one request", len(r.DBName), MaxDBNames), true
		},
	},
	{
		ID: "R3", Stage: StageRequest, Field: "DBName", Code: CodeInvalidDBNameFormat, HTTPStatus: 400,
		Text:   "Each DBName (comma-separated) has 1-64 lowercase letters, digits, underscores or hyphens, starts with a letter and ends with a letter or digit. (Ours: what every page agrees on; CreateBackup's stricter 16 characters without hyphens is left to RDS, whose refusal is rejected with its code.)",
		Source: "InvalidDBName.Format: The name can be up to 16 characters in length and can contain lowercase letters, digits, and underscores (_). The name must start with a lowercase letter and end with a lowercase letter or a digit. CreateDatabase / ALIYUN::RDS::Database: 2 to 64 characters, lowercase letters, digits, underscores (_) and hyphens (-).",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			for _, n := range r.DBName {
				if !validDBName(n) {
					return n, fmt.Sprintf("DBName %q: %s", n, DBNameRule), true
				}
			}
			return "", "", false
		},
	},
	{
		ID: "R4", Stage: StageRequest, Field: "BackupStrategy", Code: CodeParametersInvalid, HTTPStatus: 400,
		Text:   "BackupStrategy is db or instance.",
		Source: "BackupStrategy: Valid values: db: a database-level backup. instance: an instance-level backup.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			s := r.BackupStrategy
			if s == "" || s == StrategyDB || s == StrategyInstance {
				return "", "", false
			}
			return s, fmt.Sprintf("BackupStrategy %q: must be db or instance", s), true
		},
	},
	{
		ID: "R5", Stage: StageRequest, Field: "DBName", Code: CodeRequiredParam, HTTPStatus: 400,
		Text:   "BackupStrategy db needs DBName.",
		Source: "DBName: The names of the databases whose data you want to back up. (db: a database-level backup.)",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			return "", "DBName: is required when BackupStrategy is db", r.BackupStrategy == StrategyDB && len(r.DBName) == 0
		},
	},
	{
		ID: "R6", Stage: StageRequest, Field: "BackupType", Code: CodeBackupTypeNotSupp, HTTPStatus: 400,
		Text:   "BackupType is Auto or FullBackup (default Auto).",
		Source: "BackupType: Valid values: Auto, FullBackup. Default value: Auto.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			t := r.BackupType
			if t == "" || t == TypeAuto || t == TypeFullBackup {
				return "", "", false
			}
			return t, fmt.Sprintf("BackupType %q: must be Auto or FullBackup", t), true
		},
	},
	{
		ID: "R7", Stage: StageRequest, Field: "BackupType", Code: CodeBackupTypeNotSupp, HTTPStatus: 400,
		Text:   "BackupType only with BackupMethod Physical.",
		Source: "BackupType: This parameter is valid only when you set the BackupMethod parameter to Physical.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			if r.BackupType == "" || r.Method() == MethodPhysical {
				return "", "", false
			}
			return r.BackupType, fmt.Sprintf("BackupType %q: only valid with BackupMethod Physical, not %s", r.BackupType, r.Method()), true
		},
	},
	{
		ID: "R8", Stage: StageRequest, Field: "BackupStrategy", Code: CodeParametersInvalid, HTTPStatus: 400,
		Text:   "DBName and BackupStrategy never with a Snapshot backup (they go with a MySQL logical or SQL Server physical backup).",
		Source: "DBName / BackupStrategy: You can specify this parameter when you perform a logical backup on an ApsaraDB RDS for MySQL instance. You can also specify this parameter when you perform a full physical backup on an ApsaraDB RDS for SQL Server instance.",
		check: func(r Request, _ *InstanceFacts) (string, string, bool) {
			set := r.BackupStrategy != "" || len(r.DBName) > 0
			return r.BackupStrategy, "DBName/BackupStrategy: only for a MySQL logical or SQL Server physical backup, not a Snapshot backup",
				set && r.Method() == MethodSnapshot
		},
	},
	{
		ID: "I1", Stage: StageState, Field: "DBInstanceId", Code: CodeInstanceState, HTTPStatus: 403,
		Text:   "The instance is Running.",
		Source: "Prerequisites: The instance is in the Running state.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if f.Status == "Running" {
				return "", "", false
			}
			return f.Status, fmt.Sprintf("DBInstanceId %q: instance is %s, must be Running", r.DBInstanceId, f.Status), true
		},
	},
	{
		ID: "I2", Stage: StageState, Field: "DBInstanceId", Code: CodeLockMode, HTTPStatus: 400,
		Text:   "The instance is not locked.",
		Source: "IncorrectDBInstanceLockMode.ValueNotSupported: The operation failed. The RDS instance is locked.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if f.LockMode == "" || f.LockMode == "Unlock" {
				return "", "", false
			}
			return f.LockMode, fmt.Sprintf("DBInstanceId %q: instance is locked (%s)", r.DBInstanceId, f.LockMode), true
		},
	},
	{
		ID: "I3", Stage: StageState, Field: "DBInstanceId", Code: CodeReadOnly, HTTPStatus: 400,
		Text:   "The instance is not a read-only instance.",
		Source: "ReadDBInstanceNotSupport: The operation is not permitted due to type of the instance.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if !strings.EqualFold(f.InstanceType, "Readonly") {
				return "", "", false
			}
			return f.InstanceType, fmt.Sprintf("DBInstanceId %q: read-only instances cannot be backed up; back up the primary", r.DBInstanceId), true
		},
	},
	{
		ID: "I4", Stage: StageInstance, engine: true, Field: "BackupType", Code: CodeBackupTypeNotSupp, HTTPStatus: 400,
		Text:   "BackupType only for SQL Server.",
		Source: "BackupType: You must set this parameter only when the instance runs SQL Server.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if r.BackupType == "" || isSQLServer(f) {
				return "", "", false
			}
			return r.BackupType, fmt.Sprintf("BackupType %q: only for SQL Server instances, this one runs %s", r.BackupType, f.Engine), true
		},
	},
	{
		ID: "I5", Stage: StageInstance, engine: true, Field: "BackupStrategy", Code: CodeParametersInvalid, HTTPStatus: 400,
		Text:   "DBName and BackupStrategy only for a MySQL logical backup or a SQL Server physical backup.",
		Source: "DBName: You can specify this parameter when you perform a logical backup on individual databases of an ApsaraDB RDS for MySQL instance. You can also specify this parameter when you perform a full physical backup on individual databases of an ApsaraDB RDS for SQL Server instance.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if set := r.BackupStrategy != "" || len(r.DBName) > 0; !set || dbLevelAllowed(r, f) {
				return "", "", false
			}
			return r.BackupStrategy, fmt.Sprintf("DBName/BackupStrategy: only for a MySQL logical or SQL Server physical backup, not %s %s", f.Engine, r.Method()), true
		},
	},
	{
		ID: "I6", Stage: StageInstance, engine: true, Field: "BackupType", Code: CodeParametersInvalid, HTTPStatus: 400,
		Text:   "A SQL Server database-level backup is a full backup: BackupType FullBackup (sent when omitted), never Auto.",
		Source: "DBName: You can also specify this parameter when you perform a full physical backup on individual databases of an ApsaraDB RDS for SQL Server instance.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			dbLevel := r.BackupStrategy == StrategyDB || len(r.DBName) > 0
			return r.BackupType, "BackupType \"Auto\": a SQL Server database-level backup is a full backup; use FullBackup or omit BackupType",
				isSQLServer(f) && dbLevel && r.BackupType == TypeAuto
		},
	},
	{
		ID: "I7", Stage: StageInstance, engine: true, Field: "BackupMethod", Code: CodeInvalidMethod, HTTPStatus: 400,
		Text:   "Snapshot is not a method on MariaDB: a MariaDB snapshot backup is requested with Physical.",
		Source: "BackupMethod: When you perform a snapshot backup on an ApsaraDB RDS for MariaDB instance, you must set this parameter to Physical.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			return r.BackupMethod, "BackupMethod \"Snapshot\": on MariaDB a snapshot backup is requested with BackupMethod Physical",
				f.Engine == EngineMariaDB && r.Method() == MethodSnapshot
		},
	},
	{
		ID: "I8", Stage: StageInstance, Field: "BackupMethod", Code: CodeInvalidMethod, HTTPStatus: 400,
		Text:   "Snapshot needs cloud disks (SQL Server on cloud disks uses Snapshot); refused on local disks.",
		Source: "BackupMethod: When you perform a snapshot backup on an ApsaraDB RDS for SQL Server instance that uses cloud disks, you must set this parameter to Snapshot.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if r.Method() != MethodSnapshot || !LocalDisk(f.StorageType) {
				return "", "", false
			}
			return r.BackupMethod, fmt.Sprintf("BackupMethod \"Snapshot\": needs cloud disks, instance storage is %s", f.StorageType), true
		},
	},
	{
		ID: "I9", Stage: StageInstance, Field: "BackupMethod", Code: CodeInvalidMethod, HTTPStatus: 400,
		Text:   "Logical only when the instance has at least one database.",
		Source: "BackupMethod: You can perform a logical backup only when databases are created on the instance.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if r.Method() != MethodLogical || !f.DatabasesKnown || len(f.Databases) > 0 {
				return "", "", false
			}
			return r.BackupMethod, fmt.Sprintf("BackupMethod \"Logical\": instance %q has no databases", r.DBInstanceId), true
		},
	},
	{
		ID: "I10", Stage: StageInstance, Field: "DBName", Code: CodeDBNotFound, HTTPStatus: 404,
		Text:   "Every DBName exists on the instance.",
		Source: "InvalidDB.NotFound: The operation failed. The database cannot be found or is not in a ready state.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if !f.DatabasesKnown {
				return "", "", false
			}
			for _, n := range r.DBName {
				if !f.hasDatabase(n) {
					return n, fmt.Sprintf("DBName %q: no such database on instance %q", n, r.DBInstanceId), true
				}
			}
			return "", "", false
		},
	},
	{
		ID: "I11", Stage: StageState, Field: "DBInstanceId", Code: CodeJobExists, HTTPStatus: 400,
		Text:   "No backup task is ongoing on the instance.",
		Source: "Prerequisites: The instance does not have ongoing backup tasks.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			for _, j := range f.OngoingJobs {
				if !j.Terminal() {
					return j.BackupJobId, fmt.Sprintf("DBInstanceId %q: backup job %s is already %s", r.DBInstanceId, j.BackupJobId, j.BackupStatus), true
				}
			}
			return "", "", false
		},
	},
	{
		ID: "I12", Stage: StageState, Field: "DBInstanceId", Code: CodeQuota, HTTPStatus: 403,
		Text:   "Fewer than 20 backups of the instance today.",
		Source: "Prerequisites: The number of backup sets that can be created for an instance per day cannot exceed 20.",
		check: func(r Request, f *InstanceFacts) (string, string, bool) {
			if !f.BackupsTodayKnown || f.BackupsToday < MaxBackupsPerDay {
				return "", "", false
			}
			return fmt.Sprint(f.BackupsToday), fmt.Sprintf("DBInstanceId %q: %d backups today, the limit is %d a day", r.DBInstanceId, f.BackupsToday, MaxBackupsPerDay), true
		},
	},
}

func run(stage Stage, r Request, f *InstanceFacts) Violations {
	var out Violations
	for _, rule := range Rules {
		if rule.Stage != stage || (rule.engine && f.Engine == "") {
			continue
		}
		if _, msg, broken := rule.check(r, f); broken {
			out = append(out, &Violation{Rule: rule.ID, Code: rule.Code, HTTPStatus: rule.HTTPStatus, Field: rule.Field, Message: msg})
		}
	}
	return out
}

// Validate checks the rules that need no API call. It returns nil when the
// request may go on to preflight.
func Validate(r Request) Violations {
	if v := run(StageRequest, r, &InstanceFacts{}); len(v) > 0 {
		return v
	}
	return nil
}

// CheckInstance checks the rules that need the instance's static facts
// (engine, storage, databases; the request is assumed to have passed
// Validate). Rules whose fact is unknown (empty) are left to the API. It
// returns nil when CreateBackup may be sent as far as those rules go.
func CheckInstance(r Request, f InstanceFacts) Violations {
	if f.Engine == "" && f.StorageType == "" && !f.DatabasesKnown {
		return nil
	}
	if v := run(StageInstance, r, &f); len(v) > 0 {
		return v
	}
	return nil
}

// CheckState checks the rules on the instance's live state (Running, not
// locked, not read-only, no ongoing job, the day's quota). The executor
// leaves them to CreateBackup, which refuses with the same codes; CheckState
// is kept for callers that hold a fresh description of the instance.
func CheckState(r Request, f InstanceFacts) Violations {
	if v := run(StageState, r, &f); len(v) > 0 {
		return v
	}
	return nil
}

// NeedsFacts says which instance facts the rules of StageInstance need for
// r: the engine (BackupType, database-level, Logical, Snapshot), the storage
// type (Snapshot) and the database names (DBName, Logical). A plain
// instance-level Physical backup needs none: CreateBackup is the check.
func NeedsFacts(r Request) (engine, storage, databases bool) {
	m := r.Method()
	databases = len(r.DBName) > 0 || m == MethodLogical
	storage = m == MethodSnapshot
	engine = databases || storage || r.BackupType != "" || r.BackupStrategy != ""
	return engine, storage, databases
}

// Resolve returns r with the defaults the API applies made explicit for the
// instance's engine: BackupMethod Physical when unset; for a SQL Server
// physical backup BackupType Auto, or FullBackup for a database-level backup.
// BackupType stays unset for other engines, where the API refuses it.
func Resolve(r Request, f InstanceFacts) Request {
	r.BackupMethod = r.Method()
	if f.Engine == EngineSQLServer && r.BackupMethod == MethodPhysical && r.BackupType == "" {
		if r.BackupStrategy == StrategyDB || len(r.DBName) > 0 {
			r.BackupType = TypeFullBackup
		} else {
			r.BackupType = TypeAuto
		}
	}
	return r
}

// RulesMarkdown renders the rule table for the README.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("| # | stage | field | rule | error code (HTTP) | API page |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range Rules {
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | `%s` (%d) | %s |\n", r.ID, r.Stage, r.Field,
			escapeCell(r.Text), r.Code, r.HTTPStatus, escapeCell(r.Source))
	}
	return b.String()
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

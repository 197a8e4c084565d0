package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// Prefix starts every variable of ours; unknown ones are refused.
const Prefix = "BACKUP_"

// Var documents one environment variable.
type Var struct {
	Name      string
	Default   string
	Functions string // which functions read it
	Doc       string // what it does and what breaks when it is wrong
	Optional  bool   // may be left out of s.yaml: the default or "unset" is right for a deployment
}

// MinDeadlineMargin is the smallest BACKUP_DEADLINE_MARGIN: the time kept
// free at the end of an invocation must hold the settling of outcomes
// (SettleTimeout: parking and publishing on a context of their own). Every
// RDS call is cut to end before the margin starts (its SDK timeouts too),
// so the margin need not cover the SDK's timeouts.
const MinDeadlineMargin = time.Second

// SettleTimeout bounds the settling (park, publish) of outcomes when the
// invocation has no deadline.
const SettleTimeout = 5 * time.Second

// Vars is every variable the functions read.
var Vars = []Var{
	{"BACKUP_MNS_ENDPOINT", "", "all", "MNS endpoint `https://<accountId>.mns.<region>.aliyuncs.com` (required). Wrong: no outcome can be published and no work can be queued; the functions refuse to start.", false},
	{"BACKUP_NOTIFY_QUEUE", "rds-backup-notify", "all", "Queue that receives one CloudEvents outcome message per outcome. Wrong: publishing fails; invocations fail and are retried, outcomes are parked in the work queue.", false},
	{"BACKUP_NOTIFY_TOPIC", "", "all", "If set, outcomes are published to this MNS topic instead of the queue.", true},
	{"BACKUP_NOTIFY_OUTCOMES", "all", "all", "Which outcomes are published: `all`, `terminal` (accepted/coalesced only when not tracked, rejected, failed, completed) or `failures` (rejected, failed).", false},
	{"BACKUP_WORK_QUEUE", "rds-backup-work", "all", "Work queue (the `queue` function's trigger queue): deferred retries, the next steps of plan runs, job tracking, parked outcomes. Wrong: requests that need a retry later cannot be parked and the invocation fails.", false},
	{"BACKUP_REGION", "", "all", "Default RegionId for requests that name none. Empty: the function's own region (from the FC context).", false},
	{"BACKUP_ALLOWED_REGIONS", "", "all", "Comma-separated regions that requests may name (`RegionId`, `Defaults.RegionId`, `Select.RegionId`, `?RegionId=`) besides the function's own region and `BACKUP_REGION`, e.g. `cn-shanghai,cn-beijing`. Anything else is refused (400 / `rejected`, code `InvalidRegionId.NotAllowed`) before an RDS client is built. Each must be a region id, else the functions refuse to start.", false},
	{"BACKUP_ALLOWED_ACCOUNTS", "", "all", "Comma-separated member account ids (16 digits each) that plans may name (`Select.Accounts`, `Defaults.AccountId`, a backup's `AccountId`) besides the functions' own; the functions assume `BACKUP_MEMBER_ROLE` in each. Anything else is refused (`rejected`, code `InvalidAccountId.NotAllowed`) before any STS or RDS call. Empty: plans stay in the functions' own account. Each must be an account id, else the functions refuse to start.", true},
	{"BACKUP_MEMBER_ROLE", "fc-rds-backup-member", "all", "The RAM role assumed in every member account (1-64 letters, digits, `.` and `-`); its trust and permission policies are printed by `make infra`.", true},
	{"BACKUP_MEMBER_EXTERNAL_ID", "", "all", "The ExternalId passed to every AssumeRole into a member account (2-1224 of letters, digits and `_+=,.@:/-`); the member role's trust policy requires it (the confused-deputy condition). Required when `BACKUP_ALLOWED_ACCOUNTS` names an account. Never logged.", true},
	{"BACKUP_STS_ENDPOINT", "", "all", "STS endpoint for AssumeRole into member accounts, `https://sts.<region>.aliyuncs.com` (or `https://sts-vpc.<region>.aliyuncs.com`); `http` only on loopback (the local cloud). Empty: the SDK's endpoint for the function's region.", true},
	{"BACKUP_MAX_FANOUT", "100", "all", "Most (account, region) pairs one plan's `Select` may reach (`Accounts` × `Regions`, 1-1000). More → one `rejected` outcome (`Select.TooManyTargets`) and nothing of the plan runs, so one plan cannot fan out into thousands of steps unnoticed.", true},
	{"BACKUP_RDS_ENDPOINT", "", "all", "RDS endpoint override `host[:port]` (local cloud). Empty: the SDK's endpoint for the region.", true},
	{"BACKUP_RDS_PROTOCOL", "https", "all", "`https` or `http` (http only for the local cloud).", true},
	{"BACKUP_RDS_CONNECT_TIMEOUT", "5s", "all", "Connect timeout per RDS call.", true},
	{"BACKUP_RDS_READ_TIMEOUT", "10s", "all", "Whole-call timeout per RDS call; a timeout is retried as transient.", true},
	{"BACKUP_RDS_CONCURRENCY", "64", "all", "Ceiling of the adaptive limit on RDS calls in flight per warm instance (1-256). The limit starts at 8, grows after successes and halves on Throttling, so a fleet runs as fast as the account's API limits allow.", false},
	{"BACKUP_FRESH_FOR", "2s", "all", "An ask on its first delivery whose askedAt is at most this old goes straight to CreateBackup (1 RDS call); others first look for a backup that satisfies them. The price: a backup that began before askedAt and ended within this time after it is not looked for. `0`: look on every ask. An invocation FC retries (the timer's and the work queue's asynchronous retries) is never fresh. For plans across accounts, whose asks wait their quota's turn for seconds, about a pair's span (its instances ÷ the quota, e.g. `1m`) saves two RDS calls an ask ([Fleets](docs/fleets.md)).", false},
	{"BACKUP_SET_LAG_BOUND", "2m", "all", "With the ask ledger: how long after a CreateBackup RDS may take to list the backup it made in DescribeBackups once it ended (terraform-provider-alicloud waits a minute). An ask whose earlier delivery sent CreateBackup and died before it recorded the job waits this long after the send before it creates another.", false},
	{"BACKUP_LOOK_HOLDS", "10s", "all", "How long a look that found no backup satisfying an ask is trusted: a CreateBackup held up longer than this after it (a retry's backoff, throttling) looks again first, so that a backup another invocation made and finished meanwhile is found. Keep it below the shortest time a backup takes on your instances.", false},
	{"BACKUP_ATTEMPTS_PER_INVOCATION", "6", "all", "Attempts at one request inside one invocation before it is deferred to the work queue.", false},
	{"BACKUP_MAX_ATTEMPTS", "12", "all", "Attempts over all invocations before a request ends `failed`.", false},
	{"BACKUP_MAX_AGE", "2h", "all", "Age after which a still-retrying request ends `failed`.", false},
	{"BACKUP_DEADLINE_MARGIN", "5s", "all", "Time kept free before the invocation's deadline to park work and publish outcomes (at least 1s); no RDS call runs into it.", false},
	{"BACKUP_MAX_REQUESTS_PER_CALL", "100", "all", "Most backups one call may name (1-5000): a signed POST, a GitHub or GitLab delivery (and a webhook `Select`'s expansion), a timer plan's or an MNS message's explicit backups (and an MNS message's `Select` expansion, when `BACKUP_MNS_SELECT=allow`). More → 413 (`TooManyBackups`) or one rejected outcome, and nothing of the call runs. A timer plan's `Select` is not bounded by it.", false},
	{"BACKUP_MNS_SELECT", "refuse", "queue", "`refuse` or `allow`: may a message on the work queue carry a `Select`? `refuse`: one rejected outcome (`Select.NotAllowed`) and no RDS call, since anyone with `mns:SendMessage` on the work queue could fan out to a whole region. `allow`: its expansion is bounded by `BACKUP_MAX_REQUESTS_PER_CALL` like any call. The functions' own sealed plan steps are not affected.", true},
	{"BACKUP_INLINE_LIMIT", "10", "scheduled, webhook", "The asks a timer plan or a plan message runs in its own invocation; the rest run in steps of the queue function (100 each), and the run ends in one rds.backup.run summary.", false},
	{"BACKUP_FACTS_CACHE_TTL", "60s", "all", "How long a warm instance caches facts that do not change (engine, storage type, databases). `0` disables.", false},
	{"BACKUP_TRACK_JOBS", "true", "all", "Track accepted jobs to `completed`/`failed`. `false`: `accepted` is the terminal outcome.", false},
	{"BACKUP_TRACK_MAX_AGE", "24h", "queue", "Tracking budget; a job still running after it ends `failed`.", false},
	{"BACKUP_ROUTES", "", "webhook", "Webhook routes, inline JSON or YAML (see Routes).", false},
	{"BACKUP_ROUTES_FILE", "", "webhook", "Webhook routes from a file in the code package (relative to the binary).", true},
	{"BACKUP_MAX_BODY", "1048576", "webhook", "Largest accepted webhook body in bytes; larger → 413.", false},
	{"BACKUP_MAX_ASK_AGE", "24h", "webhook", "The oldest a GitHub, GitLab or Jira delivery's event time (a GitHub deployment's `created_at`, a GitLab deployment's `status_changed_at`, a pipeline's `created_at`, a Jira event's `timestamp`) may be when it arrives; older → 202 `ignored` with the reason and no backup, so a delivery replayed after the ask ledger forgot it (its rows live 35 days) or after its backup left DescribeBackups' look cannot make a new backup. `0`: no limit.", false},
	{"BACKUP_REPLAY_WINDOW", "5m", "webhook", "Accepted clock skew of `X-Timestamp` for signed requests.", false},
	{"BACKUP_LOG_LEVEL", "info", "all", "`debug`, `info`, `warn` or `error`.", false},
	{"BACKUP_LEDGER_ENDPOINT", "", "all", "Tablestore endpoint of the ask ledger (a table that records each ask and the job it made; see [No duplicates](docs/design-notes.md#no-duplicates-asks-freshness-createbackup-as-the-check)), `https://<instance>.<region>.ots.aliyuncs.com` (or the instance's VPC endpoint); `http` only on loopback (the local cloud). With it, every ask is claimed in the ledger before it acts, and a repeat of an ask — however late — finds the job its first delivery made. Empty: no ledger (the behaviour before it): freshness and RDS's listings decide alone, so a repeat that arrives while RDS has not yet listed a finished backup (its set shows in DescribeBackups up to a minute after its task finished) makes a second backup.", false},
	{"BACKUP_LEDGER_INSTANCE", "", "all", "Tablestore instance name of the ledger: 3-16 letters, digits and hyphens, starting with a letter, not ending with a hyphen. Required when `BACKUP_LEDGER_ENDPOINT` is set; ignored without it.", false},
	{"BACKUP_LEDGER_TABLE", "rds_backup_asks", "all", "Ledger table: 1-255 letters, digits and underscores, not starting with a digit. Create it before deploying ([Deploy](#deploy)); the functions never create it, and a missing table defers every ask.", false},
	{"BACKUP_LEDGER_LEASE", "150s", "all", "How long a delivery's claim holds an ask against other deliveries (more than 0, at most 24h). Keep it longer than a backup plus RDS's set lag: a delivery that dies after CreateBackup but before recording the job is taken over only when its lease has run out, and a takeover looks at RDS first, which sees the dead delivery's backup only once it is running or listed; the holder renews the lease before CreateBackup. Keep it above the longest function timeout too (120 s in s.yaml).", false},
	{"BACKUP_ENVELOPE_KEY", "", "all", "Secret key (at least 32 characters, e.g. `openssl rand -hex 32`; the same for the three functions) that seals the functions' own work-queue messages, so that nobody who may only send backup requests to the work queue can forge them (a fake `completed`, a `track` of any job). Required: the functions refuse to start without it, except on the local cloud (RDS and MNS endpoints on loopback), which uses a fixed, public key. Never logged.", false},
	{"BACKUP_ENVELOPE_KEY_PREVIOUS", "", "all", "During a rotation of `BACKUP_ENVELOPE_KEY`, the previous key: messages it sealed (delayed up to 3 days, below the work queue's 4-day retention) are still accepted; new ones are sealed with the new key. Remove it four days after the rotation. Refused like `BACKUP_ENVELOPE_KEY`: shorter than 32 characters, or the local cloud's public key outside the local cloud; refused too when it equals `BACKUP_ENVELOPE_KEY`. Never logged.", true},
}

// Config is the loaded settings.
type Config struct {
	MNSEndpoint    string
	NotifyQueue    string
	NotifyTopic    string
	NotifyOutcomes string
	WorkQueue      string

	Region         string
	AllowedRegions []string // BACKUP_ALLOWED_REGIONS, each a valid region id

	// Member accounts (DESIGN.md §10): AllowedAccounts sorted, without
	// repeats, each an account id; MemberRole a role name; MemberExternalID
	// an ExternalId, set whenever AllowedAccounts is not empty (never
	// logged); STSEndpoint a URL of scheme and host ("" the SDK's); MaxFanout
	// the most (account, region) pairs one Select may reach.
	AllowedAccounts  []string
	MemberRole       string
	MemberExternalID string `json:"-"`
	STSEndpoint      string
	MaxFanout        int

	RDSEndpoint     string
	RDSProtocol     string
	ConnectTimeout  time.Duration
	ReadTimeout     time.Duration
	RDSConcurrency  int
	FreshFor        time.Duration
	LookHolds       time.Duration
	SetLagBound     time.Duration
	AttemptsPerCall int
	MaxAttempts     int
	MaxAge          time.Duration
	DeadlineMargin  time.Duration
	InlineLimit     int
	MaxRequests     int // BACKUP_MAX_REQUESTS_PER_CALL
	MNSSelect       bool
	FactsCacheTTL   time.Duration
	TrackJobs       bool
	TrackMaxAge     time.Duration

	// The ask ledger (DESIGN.md §2a); LedgerEndpoint "" means none.
	LedgerEndpoint string
	LedgerInstance string
	LedgerTable    string
	LedgerLease    time.Duration

	Routes       []byte // raw routes document (JSON or YAML), validated by the webhook package
	MaxBody      int64
	ReplayWindow time.Duration
	MaxAskAge    time.Duration // BACKUP_MAX_ASK_AGE; 0: no limit
	LogLevel     string

	// EnvelopeKey seals the work queue's envelopes (BACKUP_ENVELOPE_KEY);
	// EnvelopeKeyPrevious still opens them during a rotation.
	// EnvelopeKeyLocal says EnvelopeKey is LocalEnvelopeKey, taken because
	// the variable is unset and both endpoints are on loopback.
	EnvelopeKey         string `json:"-"`
	EnvelopeKeyPrevious string `json:"-"`
	EnvelopeKeyLocal    bool

	// Env holds the whole environment, for secrets named by routes
	// (SecretEnv). Never logged.
	Env map[string]string `json:"-"`
}

// Load reads the configuration from environ (os.Environ's form). readFile
// reads BACKUP_ROUTES_FILE (os.ReadFile when nil).
func Load(environ []string, readFile func(string) ([]byte, error)) (Config, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var errs []string
	for k := range env {
		if strings.HasPrefix(k, Prefix) && !slices.ContainsFunc(Vars, func(v Var) bool { return v.Name == k }) {
			errs = append(errs, fmt.Sprintf("%s: unknown variable (typo?); known: see the README configuration table", k))
		}
	}
	get := func(name string) string {
		if v, ok := env[name]; ok && v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		panic("config: undeclared variable " + name)
	}
	bad := func(name, rule string) { errs = append(errs, fmt.Sprintf("%s=%q: %s", name, get(name), rule)) }
	dur := func(name string, min, max time.Duration) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d < min || d > max {
			bad(name, fmt.Sprintf("must be a duration like 30s or 10m between %v and %v", min, max))
		}
		return d
	}
	num := func(name string, min, max int) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < min || n > max {
			bad(name, fmt.Sprintf("must be a whole number from %d to %d", min, max))
		}
		return n
	}
	oneOf := func(name string, allowed ...string) string {
		v := get(name)
		if !slices.Contains(allowed, v) {
			bad(name, "must be one of "+strings.Join(allowed, ", "))
		}
		return v
	}
	queue := func(name string) string {
		v := get(name)
		if !validQueueName(v) {
			bad(name, "must be an MNS queue name: 1-120 letters, digits and hyphens, starting with a letter or digit")
		}
		return v
	}

	c := Config{Env: env}
	c.MNSEndpoint = get("BACKUP_MNS_ENDPOINT")
	if c.MNSEndpoint == "" {
		errs = append(errs, "BACKUP_MNS_ENDPOINT: is required (https://<accountId>.mns.<region>.aliyuncs.com)")
	} else if u, err := url.Parse(c.MNSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("BACKUP_MNS_ENDPOINT", "must be an http(s) URL like https://<accountId>.mns.<region>.aliyuncs.com")
	}
	c.NotifyQueue = queue("BACKUP_NOTIFY_QUEUE")
	if get("BACKUP_NOTIFY_TOPIC") != "" {
		c.NotifyTopic = queue("BACKUP_NOTIFY_TOPIC")
	}
	c.NotifyOutcomes = oneOf("BACKUP_NOTIFY_OUTCOMES", "all", "terminal", "failures")
	c.WorkQueue = queue("BACKUP_WORK_QUEUE")
	if c.WorkQueue == c.NotifyQueue {
		errs = append(errs, "BACKUP_WORK_QUEUE: must differ from BACKUP_NOTIFY_QUEUE (outcomes would be read back as work)")
	}
	c.Region = get("BACKUP_REGION")
	if c.Region != "" && !backup.ValidRegionID(c.Region) {
		bad("BACKUP_REGION", "must be a region id like cn-hangzhou")
	}
	for _, r := range strings.Split(get("BACKUP_ALLOWED_REGIONS"), ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if !backup.ValidRegionID(r) {
			errs = append(errs, fmt.Sprintf("BACKUP_ALLOWED_REGIONS: %s: %s", backup.Quote(r, 48), backup.RegionIdRule))
			continue
		}
		if !slices.Contains(c.AllowedRegions, r) {
			c.AllowedRegions = append(c.AllowedRegions, r)
		}
	}
	for _, a := range strings.Split(get("BACKUP_ALLOWED_ACCOUNTS"), ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if !backup.ValidAccountID(a) {
			errs = append(errs, fmt.Sprintf("BACKUP_ALLOWED_ACCOUNTS: %s: %s", backup.Quote(a, 48), backup.AccountIDRule))
			continue
		}
		c.AllowedAccounts = append(c.AllowedAccounts, a)
	}
	slices.Sort(c.AllowedAccounts)
	c.AllowedAccounts = slices.Compact(c.AllowedAccounts)
	if c.MemberRole = strings.TrimSpace(get("BACKUP_MEMBER_ROLE")); !backup.ValidRoleName(c.MemberRole) {
		errs = append(errs, fmt.Sprintf("BACKUP_MEMBER_ROLE: %s: %s", backup.Quote(c.MemberRole, 48), backup.RoleNameRule))
	}
	// The ExternalId is never repeated in a message: only its length.
	switch c.MemberExternalID = get("BACKUP_MEMBER_EXTERNAL_ID"); {
	case c.MemberExternalID != "" && !backup.ValidExternalID(c.MemberExternalID):
		errs = append(errs, fmt.Sprintf("BACKUP_MEMBER_EXTERNAL_ID: (value not shown, %d characters): %s", len(c.MemberExternalID), backup.ExternalIDRule))
	case c.MemberExternalID == "" && len(c.AllowedAccounts) > 0:
		errs = append(errs, "BACKUP_MEMBER_EXTERNAL_ID: is required when BACKUP_ALLOWED_ACCOUNTS names accounts (the member role's trust policy requires sts:ExternalId)")
	}
	if ep := get("BACKUP_STS_ENDPOINT"); ep != "" {
		switch err := CheckSTSEndpoint(ep); {
		case errors.Is(err, errUserInfo):
			errs = append(errs, "BACKUP_STS_ENDPOINT: "+err.Error())
		case err != nil:
			bad("BACKUP_STS_ENDPOINT", err.Error())
		default:
			c.STSEndpoint = ep
		}
	}
	c.MaxFanout = num("BACKUP_MAX_FANOUT", 1, 1000)
	c.RDSEndpoint = get("BACKUP_RDS_ENDPOINT")
	if strings.Contains(c.RDSEndpoint, "://") || strings.Contains(c.RDSEndpoint, "/") {
		bad("BACKUP_RDS_ENDPOINT", "must be host[:port] without scheme or path")
	}
	c.RDSProtocol = oneOf("BACKUP_RDS_PROTOCOL", "https", "http")
	c.ConnectTimeout = dur("BACKUP_RDS_CONNECT_TIMEOUT", time.Second, time.Minute)
	c.ReadTimeout = dur("BACKUP_RDS_READ_TIMEOUT", 100*time.Millisecond, 5*time.Minute)
	c.RDSConcurrency = num("BACKUP_RDS_CONCURRENCY", 1, 256)
	c.FreshFor = dur("BACKUP_FRESH_FOR", 0, time.Minute)
	c.LookHolds = dur("BACKUP_LOOK_HOLDS", 100*time.Millisecond, 10*time.Minute)
	c.SetLagBound = dur("BACKUP_SET_LAG_BOUND", time.Second, time.Hour)
	c.AttemptsPerCall = num("BACKUP_ATTEMPTS_PER_INVOCATION", 1, 50)
	c.MaxAttempts = num("BACKUP_MAX_ATTEMPTS", 1, 500)
	c.MaxAge = dur("BACKUP_MAX_AGE", time.Minute, 7*24*time.Hour)
	c.DeadlineMargin = dur("BACKUP_DEADLINE_MARGIN", MinDeadlineMargin, 5*time.Minute)
	c.InlineLimit = num("BACKUP_INLINE_LIMIT", 1, 1000)
	c.MaxRequests = num("BACKUP_MAX_REQUESTS_PER_CALL", 1, 5000)
	c.MNSSelect = oneOf("BACKUP_MNS_SELECT", "refuse", "allow") == "allow"
	c.FactsCacheTTL = dur("BACKUP_FACTS_CACHE_TTL", 0, time.Hour)
	switch get("BACKUP_TRACK_JOBS") {
	case "true", "1", "yes":
		c.TrackJobs = true
	case "false", "0", "no":
	default:
		bad("BACKUP_TRACK_JOBS", "must be true or false")
	}
	c.TrackMaxAge = dur("BACKUP_TRACK_MAX_AGE", time.Minute, 7*24*time.Hour)
	if ep := get("BACKUP_LEDGER_ENDPOINT"); ep != "" {
		switch err := CheckTablestoreEndpoint(ep); {
		case errors.Is(err, errUserInfo):
			errs = append(errs, "BACKUP_LEDGER_ENDPOINT: "+err.Error())
		case err != nil:
			bad("BACKUP_LEDGER_ENDPOINT", err.Error())
		default:
			c.LedgerEndpoint = ep
		}
		switch inst := get("BACKUP_LEDGER_INSTANCE"); {
		case inst == "":
			errs = append(errs, "BACKUP_LEDGER_INSTANCE: is required with BACKUP_LEDGER_ENDPOINT (the Tablestore instance's name)")
		case !ValidTablestoreInstance(inst):
			bad("BACKUP_LEDGER_INSTANCE", TablestoreInstanceRule)
		case c.LedgerEndpoint != "" && !endpointNamesInstance(c.LedgerEndpoint, inst):
			bad("BACKUP_LEDGER_INSTANCE", "differs from the instance BACKUP_LEDGER_ENDPOINT's host names (<instance>.<region>.ots.aliyuncs.com)")
		default:
			c.LedgerInstance = inst
		}
	}
	if c.LedgerTable = get("BACKUP_LEDGER_TABLE"); !ValidTablestoreTable(c.LedgerTable) {
		bad("BACKUP_LEDGER_TABLE", TablestoreTableRule)
	}
	if d, err := time.ParseDuration(get("BACKUP_LEDGER_LEASE")); err != nil || d <= 0 || d > 24*time.Hour {
		bad("BACKUP_LEDGER_LEASE", "must be a duration like 150s, more than 0 and at most 24h")
	} else {
		c.LedgerLease = d
	}
	if inline, file := get("BACKUP_ROUTES"), get("BACKUP_ROUTES_FILE"); inline != "" && file != "" {
		errs = append(errs, "BACKUP_ROUTES, BACKUP_ROUTES_FILE: set one, not both")
	} else if inline != "" {
		c.Routes = []byte(inline)
	} else if file != "" {
		path := file
		if !filepath.IsAbs(path) {
			if exe, err := os.Executable(); err == nil {
				path = filepath.Join(filepath.Dir(exe), file)
			}
		}
		b, err := readFile(path)
		if err != nil {
			bad("BACKUP_ROUTES_FILE", "cannot be read: "+err.Error())
		}
		c.Routes = b
	}
	c.MaxBody = int64(num("BACKUP_MAX_BODY", 1024, 32<<20))
	c.ReplayWindow = dur("BACKUP_REPLAY_WINDOW", 10*time.Second, time.Hour)
	c.MaxAskAge = dur("BACKUP_MAX_ASK_AGE", 0, 400*24*time.Hour)
	c.LogLevel = oneOf("BACKUP_LOG_LEVEL", "debug", "info", "warn", "error")
	c.EnvelopeKey, c.EnvelopeKeyPrevious = get("BACKUP_ENVELOPE_KEY"), get("BACKUP_ENVELOPE_KEY_PREVIOUS")
	localCloud := loopback(c.MNSEndpoint) && loopback(c.RDSEndpoint)
	switch {
	case c.EnvelopeKey == "" && localCloud:
		c.EnvelopeKey, c.EnvelopeKeyLocal = LocalEnvelopeKey, true
	case c.EnvelopeKey == "":
		errs = append(errs, "BACKUP_ENVELOPE_KEY: is required: a secret of at least 32 characters shared by the three functions (openssl rand -hex 32); it seals the work queue's messages")
	case len(c.EnvelopeKey) < 32:
		errs = append(errs, fmt.Sprintf("BACKUP_ENVELOPE_KEY: %d characters, at least 32 are needed (openssl rand -hex 32)", len(c.EnvelopeKey)))
	case c.EnvelopeKey == LocalEnvelopeKey && !localCloud:
		errs = append(errs, "BACKUP_ENVELOPE_KEY: is the local cloud's public key; set a secret of your own")
	}
	// The previous key opens envelopes as the current one does, so it is
	// held to the same rules: long enough, and never the public local key
	// outside the local cloud (anyone could seal with it). Equal to the
	// current key it opens nothing more, so it is a mistake of the rotation
	// (the key rotated from was lost) and refused too.
	switch prev := c.EnvelopeKeyPrevious; {
	case prev == "":
	case len(prev) < 32:
		errs = append(errs, fmt.Sprintf("BACKUP_ENVELOPE_KEY_PREVIOUS: %d characters, at least 32 are needed", len(prev)))
	case prev == LocalEnvelopeKey && !localCloud:
		errs = append(errs, "BACKUP_ENVELOPE_KEY_PREVIOUS: is the local cloud's public key; set the secret you rotated from, or unset it")
	case prev == c.EnvelopeKey:
		errs = append(errs, "BACKUP_ENVELOPE_KEY_PREVIOUS: equals BACKUP_ENVELOPE_KEY; set the secret you rotated from, or unset it")
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// LocalEnvelopeKey is the envelope key of the local cloud (make run, the
// tests): public, so it is taken only when BACKUP_ENVELOPE_KEY is unset and
// both the MNS and the RDS endpoint are loopback addresses, where no real
// queue or database can be reached, and refused anywhere else.
const LocalEnvelopeKey = "fc-rds-backup local cloud envelope key: public, never for a deployment"

// loopback reports whether an endpoint (a URL or host[:port]) names a
// loopback address: 127.0.0.0/8, ::1 or localhost.
func loopback(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		host = u.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TablestoreInstanceRule is Tablestore's naming rule for instances.
const TablestoreInstanceRule = "must be a Tablestore instance name: 3-16 letters, digits and hyphens, starting with a letter, not ending with a hyphen"

// ValidTablestoreInstance reports whether s is a Tablestore instance name.
func ValidTablestoreInstance(s string) bool {
	if len(s) < 3 || len(s) > 16 || !isLetter(s[0]) || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isLetter(c) || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// TablestoreTableRule is Tablestore's naming rule for tables.
const TablestoreTableRule = "must be a Tablestore table name: 1-255 letters, digits and underscores, not starting with a digit"

// ValidTablestoreTable reports whether s is a Tablestore table name.
func ValidTablestoreTable(s string) bool {
	if s == "" || len(s) > 255 || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isLetter(c) || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// CheckTablestoreEndpoint checks a Tablestore endpoint URL: https (http
// only on a loopback address, the local cloud: the requests carry the
// role's STS token), a host, no user info, path, query or fragment. The
// error is the rule broken.
func CheckTablestoreEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return errors.New("must be a URL like https://<instance>.<region>.ots.aliyuncs.com")
	case u.User != nil:
		return errUserInfo
	case u.Scheme == "http" && !loopback(endpoint):
		return errors.New("must use https (http only on a loopback address, the local cloud)")
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		// The SDK appends "/PutRow" and so on to the endpoint as given.
		return errors.New("must be scheme and host only, without a path or a trailing slash, like https://<instance>.<region>.ots.aliyuncs.com")
	}
	return nil
}

// CheckSTSEndpoint checks an STS endpoint URL as CheckTablestoreEndpoint
// does a Tablestore one: https (http only on loopback: AssumeRole is signed
// with the functions' own key), a host, nothing else.
func CheckSTSEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return errors.New("must be a URL like https://sts.cn-hangzhou.aliyuncs.com")
	case u.User != nil:
		return errUserInfo
	case u.Scheme == "http" && !loopback(endpoint):
		return errors.New("must use https (http only on a loopback address, the local cloud)")
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("must be scheme and host only, like https://sts.cn-hangzhou.aliyuncs.com")
	}
	return nil
}

// STS returns the STS endpoint as the SDK takes it: host[:port] and
// protocol; "" and "https" when BACKUP_STS_ENDPOINT is unset.
func (c Config) STS() (host, protocol string) {
	if c.STSEndpoint == "" {
		return "", "https"
	}
	u, err := url.Parse(c.STSEndpoint)
	if err != nil {
		return "", "https"
	}
	return u.Host, u.Scheme
}

// AllowsAccount reports whether account is one of AllowedAccounts.
func (c Config) AllowsAccount(account string) bool {
	_, ok := slices.BinarySearch(c.AllowedAccounts, account)
	return ok
}

// MemberVars are the variables of plans across accounts: the README's
// table leaves them out and docs/fleets.md shows them (FleetMarkdown).
var MemberVars = []string{"BACKUP_ALLOWED_ACCOUNTS", "BACKUP_MEMBER_ROLE", "BACKUP_MEMBER_EXTERNAL_ID", "BACKUP_STS_ENDPOINT", "BACKUP_MAX_FANOUT"}

// endpointNamesInstance reports whether a Tablestore endpoint fits the
// instance: an Alibaba Cloud endpoint's host starts with the instance's name
// (case-insensitive, as instance names are); any other host (the local
// cloud, a proxy) fits every instance.
func endpointNamesInstance(endpoint, instance string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if !strings.HasSuffix(host, ".aliyuncs.com") {
		return true
	}
	first, _, _ := strings.Cut(host, ".")
	return first == strings.ToLower(instance)
}

// errUserInfo: an endpoint with user info; the value is not repeated, since
// it may hold a password.
var errUserInfo = errors.New("must not carry user info (the functions sign with their role's credentials)")

func validQueueName(s string) bool {
	if s == "" || len(s) > 120 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// Markdown renders Vars as the README's configuration table, but for
// MemberVars (FleetMarkdown).
func Markdown() string {
	return table(func(v Var) bool { return !slices.Contains(MemberVars, v.Name) })
}

// FleetMarkdown renders MemberVars as docs/fleets.md's table.
func FleetMarkdown() string {
	return table(func(v Var) bool { return slices.Contains(MemberVars, v.Name) })
}

func table(keep func(Var) bool) string {
	var b strings.Builder
	b.WriteString("| variable | default | functions | in s.yaml | what it does / what breaks when it is wrong |\n|---|---|---|---|---|\n")
	for _, v := range Vars {
		if !keep(v) {
			continue
		}
		def := v.Default
		if def == "" {
			def = "—"
		} else {
			def = "`" + def + "`"
		}
		in := "yes"
		if v.Optional {
			in = "optional"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", v.Name, def, v.Functions, in, strings.ReplaceAll(v.Doc, "|", "\\|"))
	}
	return b.String()
}

package localcloud

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	localauth "github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/mns"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/tablestore"
)

// Queue names of the local cloud (the defaults of the functions' config).
const (
	NotifyQueue = "rds-backup-notify"
	WorkQueue   = "rds-backup-work"
	DeadLetter  = "rds-backup-dlq"
	AccountID   = localauth.DefaultAccountID // the local cloud's own account (MNS endpoints, RDS instances, keys)
)

// The ask ledger's table on the local cloud's Tablestore (DESIGN.md §2a):
// the functions' default BACKUP_LEDGER_TABLE, with the schema of
// shared/ledger's TableMeta, written out here because the local cloud
// imports nothing of the product (shared/tooling/infra's test holds
// the two equal).
const (
	LedgerTable      = "rds_backup_asks"
	LedgerTTLSeconds = 35 * 24 * 3600 // ledger.DefaultTTL
)

// LedgerTableSpec is the ledger table as the emulator creates it: primary
// key (scope STRING, key STRING), rows living LedgerTTLSeconds after their
// last write, one version per column.
func LedgerTableSpec() tablestore.TableSpec {
	return tablestore.TableSpec{
		Name:        LedgerTable,
		PrimaryKey:  []tablestore.PKColumn{{Name: "scope", Type: "STRING"}, {Name: "key", Type: "STRING"}},
		TTLSeconds:  LedgerTTLSeconds,
		MaxVersions: 1,
	}
}

// The work queue's trigger and the queue function's async invoke config as
// s.yaml deploys them (shared/tooling/deploy's test holds them equal).
const (
	// WorkQueueAsync is the work-queue trigger's asyncInvocationType:
	// EventBridge hands each batch to FC as an asynchronous invocation and
	// reads on, so FC runs batches on several instances at once (a
	// synchronous push runs the whole queue one batch at a time).
	WorkQueueAsync = true
	// QueueAsyncRetryAttempts is the queue function's
	// asyncInvokeConfig.maxAsyncRetryAttempts; after the last retry the
	// batch goes to the dead-letter queue (its onFailure destination).
	QueueAsyncRetryAttempts = 8
	// QueueInstances is how many instances of the queue function the local
	// cloud lets run at once when its trigger pushes asynchronously (FC
	// scales out further; Options.FCInstances overrides it).
	QueueInstances = 4
)

// FunctionNames are the deployable functions (functions/<name>).
var FunctionNames = []string{"scheduled", "queue", "webhook"}

// Cloud is the local cloud: RDS, MNS, Tablestore and STS emulators sharing
// one identity store, a long-term key for the user, and STS credentials for
// the functions' role. Credentials that STS issues for a fleet role are
// accepted by every emulator, as keys of the role's account.
type Cloud struct {
	Fleet  Fleet
	Auth   *localauth.Store
	RDS    *rds.Server
	MNS    *mns.Server
	OTS    *tablestore.Server   // instance tablestore.DefaultInstance, the fleet's tables
	STS    *sts.Server          // the fleet's roles; Endpoint is "127.0.0.1:PORT", protocol http
	User   localauth.Credential // what `serve` prints for the user's own SDK clients
	role   localauth.Credential
	roleMu sync.Mutex
	root   string
	now    func() time.Time // MNS clock (may run faster than real time)

	instances int  // fc.FunctionConfig.Instances of every function
	noLedger  bool // Options.NoLedger

	crashMu   sync.Mutex
	crashes   []*crashState
	functions map[string][]*fc.Function // by name, for crash injection
}

// Options tune the local cloud.
type Options struct {
	// MNSSpeed > 1 makes MNS time run this much faster, so delayed messages
	// (retries, job tracking) play out in seconds.
	MNSSpeed float64
	// RDSClock replaces the RDS emulator's clock (job progress, quota day)
	// and, the same clock, Tablestore's (cell timestamps, TTL) and STS's
	// (flow control, session expiry marks); nil: real time for all three.
	RDSClock rds.Clock
	// TriggerRetryDelay is the queue trigger's pause before re-pushing a
	// failed batch: FC's async retry interval, or EventBridge's with
	// SyncPush (default 500 ms).
	TriggerRetryDelay time.Duration
	// Env is added to every function's environment by StartStack, e.g.
	// BACKUP_TRACK_JOBS=false (later entries win over earlier ones and over
	// the local cloud's own variables).
	Env []string
	// FunctionEnv is added to one function's environment by StartStack,
	// after Env; the keys are FunctionNames ("scheduled", "queue",
	// "webhook").
	FunctionEnv map[string][]string
	// Timeouts overrides a function's timeout in StartStack, by name
	// (defaults: scheduled and queue 120 s, webhook 30 s).
	Timeouts map[string]time.Duration
	// FCInstances is how many instances of each function may run at once,
	// each serving one invocation (see fc.FunctionConfig). Default 1, and
	// QueueInstances for the queue function, whose trigger pushes
	// asynchronously (FC scales it out); with SyncPush 1 for it too.
	FCInstances int
	// SyncPush runs the work queue's trigger as asyncInvocationType: false
	// (EventBridge's default, not what s.yaml deploys): one batch after
	// another, each pushed when the function returned the one before,
	// EventBridge retrying a failed batch. For tests whose subject is that
	// push.
	SyncPush bool
	// NoLedger leaves BACKUP_LEDGER_* out of FunctionEnv: the functions run
	// without the ask ledger (as a deployment without
	// BACKUP_LEDGER_ENDPOINT). The table is created all the same. The same
	// from the command line: --env BACKUP_LEDGER_ENDPOINT= .
	NoLedger bool
}

// StartCloud starts the RDS and MNS emulators with the fleet and the three
// queues, Tablestore with the fleet's tables and STS with its roles, and
// adds the fleet's faults.
func StartCloud(fleet Fleet, opt Options) (*Cloud, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	auth := localauth.NewStore(nil)
	c := &Cloud{Fleet: fleet, Auth: auth, root: root, now: time.Now, functions: map[string][]*fc.Function{},
		instances: max(opt.FCInstances, 1), noLedger: opt.NoLedger}
	if opt.MNSSpeed > 1 {
		start := time.Now()
		c.now = func() time.Time { return start.Add(time.Duration(float64(time.Since(start)) * opt.MNSSpeed)) }
	}
	c.User = auth.NewAccessKey()
	rdsOpts := append(fleet.rdsOptions(), rds.WithCredentials(auth), rds.WithObserver(c.observeRDS))
	if opt.RDSClock != nil {
		rdsOpts = append(rdsOpts, rds.WithClock(opt.RDSClock))
	}
	c.RDS = rds.NewServer(rdsOpts...)
	for _, in := range fleet.Instances {
		c.RDS.AddInstance(in)
	}
	c.MNS = mns.NewServer(mns.WithCredentials(auth), mns.WithClock(c.now), mns.WithRegion(fleet.Region, AccountID),
		mns.WithFaultSeed(fleet.faultSeed()), mns.WithObserver(c.observeMNS))
	for _, q := range []string{NotifyQueue, WorkQueue, DeadLetter} {
		if err := c.MNS.CreateQueue(q, mns.QueueAttributes{VisibilityTimeout: 300}); err != nil {
			c.Close()
			return nil, fmt.Errorf("create queue %s: %w", q, err)
		}
	}
	if err := fleet.checkRolesTables(); err != nil {
		c.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if err := fleet.checkMembers(); err != nil {
		c.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	otsOpts := []tablestore.Option{tablestore.WithCredentials(auth), tablestore.WithFaultSeed(fleet.faultSeed())}
	stsOpts := []sts.Option{sts.WithCredentials(auth), sts.WithFaultSeed(fleet.faultSeed())}
	if opt.RDSClock != nil {
		otsOpts = append(otsOpts, tablestore.WithClock(opt.RDSClock))
		stsOpts = append(stsOpts, sts.WithClock(opt.RDSClock))
	}
	c.OTS = tablestore.NewServer(otsOpts...)
	c.STS = sts.NewServer(stsOpts...)
	for i, r := range fleet.Roles {
		if err := c.STS.AddRole(r); err != nil {
			c.Close()
			return nil, fmt.Errorf("fleet: roles[%d]: %w", i, err)
		}
	}
	if err := c.OTS.CreateTable(LedgerTableSpec()); err != nil {
		c.Close()
		return nil, fmt.Errorf("the ask ledger's table %s: %w", LedgerTable, err)
	}
	for i, t := range fleet.Tables {
		if err := c.OTS.CreateTable(t); err != nil {
			c.Close()
			if t.Name == LedgerTable {
				return nil, fmt.Errorf("fleet: tables[%d] (%s): the local cloud creates the ask ledger's table itself; name yours otherwise: %w", i, t.Name, err)
			}
			return nil, fmt.Errorf("fleet: tables[%d] (%s): %w", i, t.Name, err)
		}
	}
	if err := c.AddFaults(fleet.FaultSet()); err != nil {
		c.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	return c, nil
}

// Close stops the emulators.
func (c *Cloud) Close() {
	if c.RDS != nil {
		c.RDS.Close()
	}
	if c.MNS != nil {
		c.MNS.Close()
	}
	if c.OTS != nil {
		c.OTS.Close()
	}
	if c.STS != nil {
		c.STS.Close()
	}
}

// RoleCredential is the functions' role: STS credentials, renewed before
// they expire, that both emulators accept.
func (c *Cloud) RoleCredential() localauth.Credential {
	c.roleMu.Lock()
	defer c.roleMu.Unlock()
	if c.role.AccessKeyID == "" || time.Until(c.role.Expiration) < 10*time.Minute {
		c.role = c.Auth.IssueSTS(time.Hour)
	}
	return c.role
}

// FunctionEnv is what a deployed function would get from s.yaml, pointed at
// the local cloud: MNS, RDS, STS and, unless Options.NoLedger, the ask
// ledger on the local Tablestore (its table LedgerTable is made at start).
// A fleet of several regions allows them (BACKUP_ALLOWED_REGIONS); one of
// several accounts allows its members (Fleet.Members, with
// Fleet.ExternalID).
func (c *Cloud) FunctionEnv() []string {
	env := []string{
		"BACKUP_MNS_ENDPOINT=" + c.MNS.Endpoint(),
		"BACKUP_NOTIFY_QUEUE=" + NotifyQueue,
		"BACKUP_WORK_QUEUE=" + WorkQueue,
		"BACKUP_REGION=" + c.Fleet.Region,
		"BACKUP_RDS_ENDPOINT=" + c.RDS.Endpoint(),
		"BACKUP_RDS_PROTOCOL=http",
		"BACKUP_STS_ENDPOINT=http://" + c.STS.Endpoint(),
	}
	env = append(env, GoRuntimeEnv...)
	if regions := c.Fleet.Regions(); len(regions) > 0 {
		env = append(env, "BACKUP_ALLOWED_REGIONS="+strings.Join(regions, ","))
	}
	if members := c.Fleet.Members(); len(members) > 0 {
		env = append(env, "BACKUP_ALLOWED_ACCOUNTS="+strings.Join(members, ","),
			"BACKUP_MEMBER_EXTERNAL_ID="+c.Fleet.ExternalID())
	}
	if !c.noLedger {
		env = append(env,
			"BACKUP_LEDGER_ENDPOINT="+c.OTS.Endpoint(),
			"BACKUP_LEDGER_INSTANCE="+c.OTS.Instance(),
			"BACKUP_LEDGER_TABLE="+LedgerTable,
			// A delivery killed before CreateBackup holds its ask this long;
			// the local cloud's backups take seconds, not minutes. Safe
			// however short: CreateBackup goes out only under a lease just
			// renewed, and a takeover after a send waits out RDS's set lag.
			"BACKUP_LEDGER_LEASE=15s",
			// RDS here lists a set the fleet's lag after its task ends.
			"BACKUP_SET_LAG_BOUND="+(c.Fleet.maxSetLag()+10*time.Second).String())
	}
	return env
}

// GoRuntimeEnv is the Go runtime's settings s.yaml gives every function
// (its collector's pace and the heap's ceiling); the local cloud runs the
// functions with the same.
var GoRuntimeEnv = []string{"GOGC=400", "GOMEMLIMIT=96MiB"}

// EmulatorGCPercent is the collector's pace for a process that hosts the
// emulators (devstack, the bench): they allocate much and keep little, and
// their CPU is the local cloud's, not the product's, on a machine the
// functions share.
const EmulatorGCPercent = 400

// StartFunction runs a built function under the FC emulator with the local
// cloud's environment plus extra (later entries win). Crashes that name the
// function kill its processes.
func (c *Cloud) StartFunction(ctx context.Context, name string, extra []string, logs io.Writer, timeout time.Duration) (*fc.Function, error) {
	return c.startFunction(ctx, name, extra, logs, timeout, c.instances)
}

// startFunction is StartFunction with up to instances instances.
func (c *Cloud) startFunction(ctx context.Context, name string, extra []string, logs io.Writer, timeout time.Duration, instances int) (*fc.Function, error) {
	bin, err := c.Binary(name)
	if err != nil {
		return nil, err
	}
	f, err := fc.Start(ctx, fc.FunctionConfig{
		Name:        "rds-backup-" + name,
		Binary:      bin,
		Env:         append(c.FunctionEnv(), extra...),
		Timeout:     timeout,
		MemoryMB:    128,
		Region:      c.Fleet.Region,
		AccountID:   AccountID,
		Credentials: c.RoleCredential,
		Stdout:      logs,
		Stderr:      logs,
		Instances:   instances,
	})
	if err != nil {
		return nil, err
	}
	c.register(name, f)
	return f, nil
}

// MNSTrigger is the queue function's EventBridge trigger on the work queue,
// asynchronous as s.yaml deploys it (WorkQueueAsync): FC retries a failed
// invocation QueueAsyncRetryAttempts times, 500 ms after the failure and
// then twice as long each time (up to 8 s), then sends its
// messages to the dead-letter queue. Set Async to false for EventBridge's
// synchronous push (Retries and RetryDelay are its retries).
func (c *Cloud) MNSTrigger() *fc.MNSTrigger {
	return &fc.MNSTrigger{
		Async:                 WorkQueueAsync,
		MaxAsyncRetryAttempts: QueueAsyncRetryAttempts,
		AsyncRetryDelay:       500 * time.Millisecond,
		Endpoint:              c.MNS.Endpoint(),
		AccessKeyID:           c.User.AccessKeyID,
		AccessKeySecret:       c.User.AccessKeySecret,
		Queue:                 WorkQueue,
		BatchSize:             10,
		BatchWindow:           200 * time.Millisecond,
		Retries:               3,
		RetryDelay:            500 * time.Millisecond,
		DeadLetterQueue:       DeadLetter,
		Region:                c.Fleet.Region,
		AccountID:             AccountID,
		TriggerName:           "work-queue",
		PollWait:              time.Second,
	}
}

var (
	buildOnce sync.Once
	buildErr  error
)

// Binary returns the executable of functions/<name>, built for this machine
// (the deployed build is linux/amd64; the local cloud runs the same code
// natively) into build/local/<name>. All functions are built by one `go
// build`, so their shared dependencies compile once.
func (c *Cloud) Binary(name string) (string, error) {
	if err := c.BuildAll(); err != nil {
		return "", err
	}
	out := filepath.Join(c.root, "build", "local", name)
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	return out, nil
}

func (c *Cloud) BuildAll() error {
	buildOnce.Do(func() {
		// -s -w (no symbol table, no DWARF) as `make run` builds them: the
		// same flags reuse its binaries, and linking four binaries without
		// debug information is about 40 % faster.
		args := []string{"build", "-ldflags=-s -w", "-o", filepath.Join(c.root, "build", "local") + string(filepath.Separator)}
		for _, n := range FunctionNames {
			args = append(args, "./functions/"+n)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = c.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build the functions: %v\n%s", err, b)
		}
	})
	return buildErr
}

// ModuleRoot finds the repository root (the directory of go.mod) from the
// working directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/fc-rds-backup/fc-rds-backup") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("devstack: run it inside the fc-rds-backup repository (no go.mod found above %s)", dir)
		}
		dir = parent
	}
}

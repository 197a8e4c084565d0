package rdsclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rds "github.com/alibabacloud-go/rds-20140815/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// Config says where and as whom the client calls RDS.
type Config struct {
	// RegionID is the default region: for requests without a RegionId, and
	// for choosing the endpoint (wire-protocols.md §1.9).
	RegionID string
	// Endpoint overrides the endpoint: host[:port], no scheme (a scheme,
	// if given, is taken as Protocol). For the local cloud:
	// "127.0.0.1:PORT" with Protocol "http".
	Endpoint string
	// Protocol is "https" (default) or "http".
	Protocol string

	// Static credentials. In Function Compute the invocation context's STS
	// credentials are passed here, per invocation (see WithCredentials).
	AccessKeyID, AccessKeySecret, SecurityToken string
	// UseDefaultChain uses credentials-go's default chain (environment,
	// OIDC, CLI profile, credentials file, ECS RAM role) when no static
	// credentials are given.
	UseDefaultChain bool

	// ConnectTimeout bounds connecting (default 5s). The SDK takes it in
	// whole seconds, so it is rounded up.
	ConnectTimeout time.Duration
	// ReadTimeout bounds a whole request (default 10s); milliseconds.
	ReadTimeout time.Duration
	// MaxIdleConns is how many connections to the endpoint are kept open
	// between calls (default DefaultMaxIdleConns): as many as the calls
	// made at once (BACKUP_RDS_CONCURRENCY), or each call past net/http's
	// default of 2 opens a connection (over HTTPS a TLS handshake) and
	// closes it after.
	MaxIdleConns int
}

// Defaults applied by New.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultReadTimeout    = 10 * time.Second
	DefaultMaxIdleConns   = 64
	userAgent             = "fc-rds-backup"
)

// Client is the RDS adapter; it is safe for concurrent use. SDK clients are
// built per region on first use and reused (see sdk).
type Client struct {
	cfg   Config
	chain credentials.Credential // the default chain, when used

	mu   sync.Mutex
	idle map[string][]*rds.Client // per region, see sdk
}

// New checks cfg and returns a client. It does no I/O: SDK clients are built
// per region on first use. It fails, instead of letting the SDK panic on the
// first call, when there are no static credentials and the default chain is
// not asked for, or is asked for but none of its sources is present.
func New(cfg Config) (*Client, error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.MaxIdleConns <= 0 {
		cfg.MaxIdleConns = DefaultMaxIdleConns
	}
	if i := strings.Index(cfg.Endpoint, "://"); i >= 0 {
		if cfg.Protocol == "" {
			cfg.Protocol = cfg.Endpoint[:i]
		}
		cfg.Endpoint = cfg.Endpoint[i+3:]
	}
	cfg.Endpoint = strings.TrimSuffix(cfg.Endpoint, "/")
	cfg.Protocol = strings.ToLower(cfg.Protocol)
	if cfg.Protocol == "" {
		cfg.Protocol = "https"
	}
	if cfg.Protocol != "http" && cfg.Protocol != "https" {
		return nil, &ConfigError{Msg: "Protocol " + cfg.Protocol + ": must be http or https"}
	}
	if cfg.RegionID != "" && !backup.ValidRegionID(cfg.RegionID) {
		return nil, &ConfigError{Msg: "RegionID " + backup.Quote(cfg.RegionID, 48) + ": " + backup.RegionIdRule}
	}
	c := &Client{cfg: cfg, idle: map[string][]*rds.Client{}}
	switch {
	case cfg.AccessKeyID != "" && cfg.AccessKeySecret != "":
	case cfg.AccessKeyID != "" || cfg.AccessKeySecret != "":
		return nil, &CredentialsError{Err: errors.New("AccessKeyID and AccessKeySecret go together")}
	case !cfg.UseDefaultChain:
		return nil, &CredentialsError{Err: errors.New("no static credentials and UseDefaultChain is off")}
	default:
		if err := chainHasSource(); err != nil {
			return nil, err
		}
		cred, err := credentials.NewCredential(nil)
		if err != nil {
			return nil, &CredentialsError{Err: err}
		}
		c.chain = chainCredential{cred}
	}
	return c, nil
}

// WithCredentials returns a client like c that signs with the given static
// credentials (an STS token when securityToken is set). It is cheap: the
// new client builds its SDK clients on first use. Use it per invocation with
// the FC context's credentials.
func (c *Client) WithCredentials(accessKeyID, accessKeySecret, securityToken string) (*Client, error) {
	cfg := c.cfg
	cfg.AccessKeyID, cfg.AccessKeySecret, cfg.SecurityToken = accessKeyID, accessKeySecret, securityToken
	cfg.UseDefaultChain = false
	return New(cfg)
}

// Region returns the default region.
func (c *Client) Region() string { return c.cfg.RegionID }

// region picks the request's region or the default.
func (c *Client) region(r string) string {
	if r != "" {
		return r
	}
	return c.cfg.RegionID
}

// sdk checks out an SDK client for region; put it back with release. The
// SDK's client is not safe for concurrent use (darabonba-openapi v2.0.5
// writes client.Headers in GetRpcHeaders on every call), so each call in
// flight has a client of its own; idle ones are kept per region and reused.
// They are cheap (no I/O), and tea pools the HTTP connections underneath.
func (c *Client) sdk(region string) (*rds.Client, func(), error) {
	region = c.region(region)
	if region == "" && c.cfg.Endpoint == "" {
		return nil, nil, &ConfigError{Msg: "no region: set Config.RegionID or the request's RegionId"}
	}
	// Defence in depth (DESIGN.md §5): the SDK builds the endpoint host
	// rds.<region>.aliyuncs.com from the region, so a region such as
	// "x@attacker:port/" would send this call, signed and with the STS
	// token, to a host the caller picked. No client is built for anything
	// that is not a region id; the callers check the deployment's allowed
	// regions before they get here.
	if region != "" && !backup.ValidRegionID(region) {
		return nil, nil, &ConfigError{Msg: "RegionId " + backup.Quote(region, 48) + ": not a region id; no request was sent"}
	}
	c.mu.Lock()
	if idle := c.idle[region]; len(idle) > 0 {
		cl := idle[len(idle)-1]
		c.idle[region] = idle[:len(idle)-1]
		c.mu.Unlock()
		return cl, c.releaser(region, cl), nil
	}
	c.mu.Unlock()
	oc := &openapi.Config{
		RegionId:       tea.String(region),
		Protocol:       tea.String(c.cfg.Protocol),
		ReadTimeout:    tea.Int(int(c.cfg.ReadTimeout / time.Millisecond)),
		ConnectTimeout: tea.Int(int(math.Ceil(c.cfg.ConnectTimeout.Seconds()))), // seconds in tea v1.2.2 (wire-protocols.md §1.5)
		UserAgent:      tea.String(userAgent),
	}
	if c.cfg.Endpoint != "" {
		oc.Endpoint = tea.String(c.cfg.Endpoint)
	}
	if c.chain != nil {
		oc.Credential = c.chain
	} else {
		oc.AccessKeyId = tea.String(c.cfg.AccessKeyID)
		oc.AccessKeySecret = tea.String(c.cfg.AccessKeySecret)
		if c.cfg.SecurityToken != "" {
			oc.SecurityToken = tea.String(c.cfg.SecurityToken)
		}
	}
	cl, err := rds.NewClient(oc)
	if err != nil {
		return nil, nil, &ConfigError{Msg: "region " + region, Err: err}
	}
	return cl, c.releaser(region, cl), nil
}

// maxIdle bounds the idle SDK clients kept per region.
const maxIdle = 16

func (c *Client) releaser(region string, cl *rds.Client) func() {
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.idle[region]) < maxIdle {
			c.idle[region] = append(c.idle[region], cl)
		}
	}
}

// sdkGrace is how far past the context's deadline the SDK's own timeouts
// are set (runtime).
const sdkGrace = 200 * time.Millisecond

// runtime is passed to every call: the SDK's own retries off (the executor
// retries by class), timeouts from Config, but never past ctx's deadline: a
// call that the caller abandons when its context ends also stops in the SDK
// by then, so no call outlives the invocation's stop time (the SDK takes no
// context). tea v1.2.2 reads connectTimeout in seconds and readTimeout in
// milliseconds (wire-protocols.md §1.5). The time left to the deadline is
// counted in whole seconds (rounded up): tea keeps one HTTP client (and
// its connections) per distinct pair of timeouts and endpoint, for the
// life of the process, so a read timeout in milliseconds from each call's
// deadline would open new connections and grow that pool on every call
// near an invocation's end.
func (c *Client) runtime(ctx context.Context) *util.RuntimeOptions {
	rt := &util.RuntimeOptions{
		Autoretry:    tea.Bool(false),
		MaxAttempts:  tea.Int(0),
		MaxIdleConns: tea.Int(c.cfg.MaxIdleConns),
	}
	if dl, ok := ctx.Deadline(); ok {
		// A little past the deadline (up to 1.2 s), so that the context's end, not the
		// SDK's timer, decides the call (call returns at ctx.Done); the
		// abandoned call then ends moments later, inside the margin.
		left := (time.Until(dl) + sdkGrace + time.Second - 1).Truncate(time.Second)
		read, conn := left, left
		if c.cfg.ReadTimeout > 0 {
			read = min(read, c.cfg.ReadTimeout)
		}
		if c.cfg.ConnectTimeout > 0 {
			conn = min(conn, c.cfg.ConnectTimeout)
		}
		rt.ReadTimeout = tea.Int(max(int(read/time.Millisecond), 1))
		rt.ConnectTimeout = tea.Int(max(int(math.Ceil(conn.Seconds())), 1))
	}
	return rt
}

// call checks out an SDK client for region and runs fn with it in a
// goroutine, since the SDK blocks and takes no context: call returns when fn
// does or as soon as ctx ends (fn then finishes in the background, bounded
// by ReadTimeout, and only then gives the SDK client back). Errors are
// converted (convertError).
func call[T any](ctx context.Context, c *Client, region, action, instance string, fn func(cl *rds.Client) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, convertError(action, instance, err)
	}
	cl, release, err := c.sdk(region)
	if err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer release()
		defer func() {
			if p := recover(); p != nil {
				ch <- result{err: &ConfigError{Msg: action + ": the SDK panicked", Err: panicError{p}}}
			}
		}()
		v, err := fn(cl)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			if ctx.Err() != nil {
				// The SDK's own timeout is cut to ctx's deadline: a call
				// that ran out of time is the context's end, not a
				// transport failure.
				return zero, convertError(action, instance, ctx.Err())
			}
			return zero, convertError(action, instance, r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		return zero, convertError(action, instance, ctx.Err())
	}
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprint("panic: ", p.v) }

// chainCredential turns the default chain's failures into CredentialsError
// (never retried) and guards against credentials-go returning neither
// credentials nor an error.
type chainCredential struct{ credentials.Credential }

func (c chainCredential) GetCredential() (*credentials.CredentialModel, error) {
	m, err := c.Credential.GetCredential()
	if err != nil {
		return nil, &CredentialsError{Err: err}
	}
	if m == nil || tea.StringValue(m.AccessKeyId) == "" {
		return nil, &CredentialsError{Err: errors.New("the default chain returned no access key")}
	}
	return m, nil
}

// chainHasSource checks, without I/O beyond stat, that at least one source
// of the default chain (credentials-go v1.3.10, default.go) is present.
//
// It reads the chain's own ALIBABA_CLOUD_* variables, as credentials-go
// does; config.Load owns every other variable.
func chainHasSource() error {
	env := func(k string) bool { return os.Getenv(k) != "" } // env: credential chain
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	home, _ := os.UserHomeDir()
	switch {
	case env("ALIBABA_CLOUD_ACCESS_KEY_ID") && env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
	case env("ALIBABA_CLOUD_ROLE_ARN") && env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN") && env("ALIBABA_CLOUD_OIDC_TOKEN_FILE"):
	case os.Getenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED") != "true" && home != "" && exists(filepath.Join(home, ".aliyun", "config.json")): // env: credential chain
	case env("ALIBABA_CLOUD_CREDENTIALS_FILE") && exists(os.Getenv("ALIBABA_CLOUD_CREDENTIALS_FILE")): // env: credential chain
	case home != "" && exists(filepath.Join(home, ".alibabacloud", "credentials")):
	case env("ALIBABA_CLOUD_ECS_METADATA"):
	default:
		return &CredentialsError{Err: errors.New("the default chain has no source")}
	}
	return nil
}

package memberauth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// TestGetIssuesACredential: one AssumeRole through the official SDK, the
// emulator's log names the role, the session and the hub as caller.
func TestGetIssuesACredential(t *testing.T) {
	e := newEnv(t)
	b := e.broker(nil)
	c, err := b.Get(testCtx(t), req(memberA))
	if err != nil {
		t.Fatal(err)
	}
	if c.AccountID != memberA || c.RoleArn != "acs:ram::"+memberA+":role/"+role || c.SessionName != "run-1" ||
		c.AccessKeyID == "" || c.AccessKeySecret == "" || c.SecurityToken == "" {
		t.Fatalf("credentials = %v (complete: %v)", c, c.AccessKeySecret != "" && c.SecurityToken != "")
	}
	if want := t0.Add(time.Hour); !c.Expiration.Equal(want) {
		t.Errorf("Expiration = %v, want %v (DurationSeconds 3600 on the emulator's clock)", c.Expiration, want)
	}
	calls := e.srv.Calls()
	if len(calls) != 1 || calls[0].RoleSessionName != "run-1" || calls[0].CallerAccount != hub || calls[0].Status != 200 {
		t.Fatalf("calls = %+v", calls)
	}
}

// TestSingleFlight: 100 goroutines ask for the same account while the one
// AssumeRole is held by the emulator; all 99 others join it (EventJoin),
// then the call is released: one AssumeRole in the emulator's log, one
// credential for everyone.
func TestSingleFlight(t *testing.T) {
	fc := rds.NewFakeClock(t0)
	gate := gateClock{FakeClock: fc, entered: make(chan string, 1), release: make(chan struct{})}
	e := newEnvClock(t, fc, gate)
	e.srv.InjectFault(sts.Fault{Action: "AssumeRole", LatencyMs: 1, Times: 1})
	const n = 100
	allJoined := make(chan struct{})
	var joins sync.WaitGroup
	joins.Add(n - 1)
	go func() { joins.Wait(); close(allJoined) }()
	e.onEv = func(ev Event) {
		if ev.Kind == EventJoin {
			joins.Done()
		}
	}
	b := e.broker(nil)
	ctx := testCtx(t)

	type result struct {
		c   Credentials
		err error
	}
	results := make(chan result, n)
	get := func() {
		c, err := b.Get(ctx, req(memberA))
		results <- result{c, err}
	}
	go get()
	select { // the leader's call is in the emulator, held
	case <-gate.entered:
	case <-ctx.Done():
		t.Fatal("the first AssumeRole never reached the emulator")
	}
	for range n - 1 {
		go get()
	}
	select {
	case <-allJoined:
	case <-ctx.Done():
		t.Fatal("not every asker joined the flight")
	}
	close(gate.release)
	var key string
	for range n {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if key == "" {
			key = r.c.AccessKeyID
		}
		if r.c.AccessKeyID != key {
			t.Fatalf("two credentials: %s and %s", key, r.c.AccessKeyID)
		}
	}
	if got := e.assumeCalls(memberA); got != 1 {
		t.Fatalf("AssumeRole calls = %d, want 1", got)
	}
	// And afterwards: from the cache.
	if _, err := b.Get(ctx, req(memberA)); err != nil || e.assumeCalls(memberA) != 1 || len(e.eventsOf(EventHit, memberA)) != 1 {
		t.Fatalf("Get after the flight: err %v, calls %d, hits %d", err, e.assumeCalls(memberA), len(e.eventsOf(EventHit, memberA)))
	}
}

// TestRefreshBeforeExpiry: the credential is reused while more than 180s
// are left and replaced at 180s before its expiry, on the fake clock.
func TestRefreshBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	b := e.broker(nil)
	ctx := testCtx(t)
	first, err := b.Get(ctx, req(memberA))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(first.Expiration.Add(-DefaultRefreshBefore - time.Second))
	again, err := b.Get(ctx, req(memberA))
	if err != nil || again.AccessKeyID != first.AccessKeyID || e.assumeCalls(memberA) != 1 {
		t.Fatalf("181s before expiry: %v, err %v, calls %d; want the same credential, no call", again, err, e.assumeCalls(memberA))
	}
	e.clock.Set(first.Expiration.Add(-DefaultRefreshBefore))
	fresh, err := b.Get(ctx, req(memberA))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessKeyID == first.AccessKeyID || e.assumeCalls(memberA) != 2 {
		t.Fatalf("180s before expiry: key %s (first %s), calls %d; want a new credential", fresh.AccessKeyID, first.AccessKeyID, e.assumeCalls(memberA))
	}
	if left := fresh.Expiration.Sub(e.clock.Now()); left < DefaultRefreshBefore {
		t.Errorf("handed out with %v left", left)
	}
	// Another account is its own credential.
	if _, err := b.Get(ctx, req(memberB)); err != nil || e.assumeCalls(memberB) != 1 {
		t.Fatalf("memberB: err %v, calls %d", err, e.assumeCalls(memberB))
	}
}

// TestThrottlingRetried: Throttling.Api answers are retried with backoff
// on the injected sleep, then the credential comes.
func TestThrottlingRetried(t *testing.T) {
	t.Run("Throttling.Api, Throttling.Api, 200 → success after 2 retries", func(t *testing.T) {
		e := newEnv(t)
		e.srv.InjectFault(sts.Fault{Action: "AssumeRole", Code: "Throttling.Api", Times: 2})
		b := e.broker(nil)
		if _, err := b.Get(testCtx(t), req(memberA)); err != nil {
			t.Fatal(err)
		}
		if got := e.assumeCalls(memberA); got != 3 {
			t.Errorf("calls = %d, want 3", got)
		}
		retries := e.eventsOf(EventRetry, memberA)
		if len(retries) != 2 || retries[0].Code != "Throttling.Api" || retries[1].Delay <= retries[0].Delay {
			t.Errorf("retries = %+v, want 2 with growing delays", retries)
		}
		if len(e.sleeps) != 2 {
			t.Errorf("sleeps = %v", e.sleeps)
		}
	})
	t.Run("the emulator's flow control refills while the broker backs off", func(t *testing.T) {
		e := newEnv(t, sts.WithRateLimit(1))
		b := e.broker(nil)
		ctx := testCtx(t)
		if _, err := b.Get(ctx, req(memberA)); err != nil { // spends the second's one call
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, req(memberB)); err != nil {
			t.Fatalf("memberB: %v (sleeps %v)", err, e.sleeps)
		}
		throttled := 0
		for _, c := range e.srv.Calls() {
			if c.Code == "Throttling.Api" {
				throttled++
			}
		}
		if throttled == 0 || len(e.eventsOf(EventRetry, memberB)) != throttled {
			t.Errorf("throttled %d, retries %d", throttled, len(e.eventsOf(EventRetry, memberB)))
		}
	})
	t.Run("InternalError every time → attempts spent, transient", func(t *testing.T) {
		e := newEnv(t)
		e.srv.InjectFault(sts.Fault{Action: "AssumeRole", Code: "InternalError"})
		b := e.broker(func(c *Config) { c.MaxAttempts = 3 })
		_, err := b.Get(testCtx(t), req(memberA))
		var me *Error
		if !errors.As(err, &me) || me.Code != "InternalError" || me.HTTPStatus != 500 || me.Attempts != 3 ||
			me.Stop != retry.StopAttemptsSpent || me.Terminal() || Classify(err) != retry.Transient {
			t.Fatalf("err = %#v", err)
		}
		// Not remembered: the next Get calls again.
		_, _ = b.Get(testCtx(t), req(memberA))
		if got := e.assumeCalls(memberA); got != 6 {
			t.Errorf("calls = %d, want 6", got)
		}
	})
	t.Run("dropped connection, then 200", func(t *testing.T) {
		e := newEnv(t)
		e.srv.InjectFault(sts.Fault{Action: "AssumeRole", Drop: true, Times: 1})
		b := e.broker(nil)
		if _, err := b.Get(testCtx(t), req(memberA)); err != nil {
			t.Fatal(err)
		}
		if r := e.eventsOf(EventRetry, memberA); len(r) != 1 || r[0].Code != "" {
			t.Errorf("retries = %+v", r)
		}
	})
}

// TestTerminal: a wrong ExternalId and a missing role end at once with
// STS's code as data, are remembered for FailureTTL (no call), and are
// asked again after it.
func TestTerminal(t *testing.T) {
	tests := []struct {
		name   string
		r      Request
		code   string
		status int
	}{
		{"wrong ExternalId", Request{AccountID: memberA, Role: role, ExternalID: "ext-wrong", SessionName: "run-1"}, "NoPermission", 403},
		{"role missing", Request{AccountID: memberA, Role: "no-such-role", ExternalID: extID, SessionName: "run-1"}, "EntityNotExist.Role", 404},
		{"account without the role", Request{AccountID: "4000000000000004", Role: role, ExternalID: extID, SessionName: "run-1"}, "EntityNotExist.Role", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.broker(nil)
			ctx := testCtx(t)
			_, err := b.Get(ctx, tt.r)
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if me.Code != tt.code || me.HTTPStatus != tt.status || !me.Terminal() || !IsTerminal(err) || me.CallerFault() ||
				me.Attempts != 1 || me.Stop != retry.StopTerminal || me.Account != tt.r.AccountID || me.RequestID == "" {
				t.Fatalf("err = %+v", me)
			}
			if retry.Classify(err) != retry.Terminal {
				t.Errorf("retry.Classify = %s", retry.Classify(err))
			}
			calls := len(e.srv.Calls())
			_, err = b.Get(ctx, tt.r)
			if !errors.As(err, &me) || !me.Remembered || me.Code != tt.code || len(e.srv.Calls()) != calls {
				t.Fatalf("second Get: %v, calls %d → %d; want the remembered answer, no call", err, calls, len(e.srv.Calls()))
			}
			e.clock.Advance(DefaultFailureTTL)
			_, _ = b.Get(ctx, tt.r)
			if len(e.srv.Calls()) != calls+1 {
				t.Errorf("after FailureTTL: calls %d, want %d", len(e.srv.Calls()), calls+1)
			}
		})
	}
}

// TestCallerFaultNotRemembered: an answer about the functions' own key is
// terminal but not remembered per account.
func TestCallerFaultNotRemembered(t *testing.T) {
	e := newEnv(t)
	b := e.broker(func(c *Config) {
		c.Caller = func(context.Context) (CallerKey, error) {
			return CallerKey{AccessKeyID: e.hub.AccessKeyID, AccessKeySecret: "wrong-secret"}, nil
		}
	})
	for range 2 {
		_, err := b.Get(testCtx(t), req(memberA))
		var me *Error
		if !errors.As(err, &me) || me.Code != "SignatureDoesNotMatch" || !me.CallerFault() || !me.Terminal() || me.Remembered {
			t.Fatalf("err = %v", err)
		}
	}
	if got := e.assumeCalls(memberA); got != 2 {
		t.Errorf("calls = %d, want 2", got)
	}
	b = e.broker(func(c *Config) {
		c.Caller = func(context.Context) (CallerKey, error) { return CallerKey{}, errors.New("no FC context") }
	})
	_, err := b.Get(testCtx(t), req(memberA))
	var me *Error
	if !errors.As(err, &me) || me.Code != CodeCallerKey || !me.Terminal() || e.assumeCalls(memberA) != 2 {
		t.Fatalf("err = %v", err)
	}
}

// TestBrokenAccountDoesNotBlockOthers: memberA's AssumeRole is held inside
// the emulator (its ExternalId is wrong, too); while it is held, memberB's
// credential is issued and a memberA asker whose context ends leaves.
// Only then is memberA's call released, and it fails alone with its code.
// The order of events is the proof; no wall-clock bound is used.
func TestBrokenAccountDoesNotBlockOthers(t *testing.T) {
	fc := rds.NewFakeClock(t0)
	gate := gateClock{FakeClock: fc, entered: make(chan string, 1), release: make(chan struct{})}
	e := newEnvClock(t, fc, gate)
	e.srv.InjectFault(sts.Fault{Action: "AssumeRole", RoleArn: RoleArn(memberA, role), LatencyMs: 1})
	b := e.broker(nil)
	ctx := testCtx(t)

	broken := Request{AccountID: memberA, Role: role, ExternalID: "ext-wrong", SessionName: "run-1"}
	aDone := make(chan error, 1)
	go func() {
		_, err := b.Get(ctx, broken)
		aDone <- err
	}()
	select {
	case <-gate.entered: // memberA's call is in the emulator, held
	case <-ctx.Done():
		t.Fatal("memberA's AssumeRole never reached the emulator")
	}

	if _, err := b.Get(ctx, req(memberB)); err != nil {
		t.Fatalf("memberB while memberA is held: %v", err)
	}
	leave, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Get(leave, broken); !errors.Is(err, context.Canceled) || Classify(err) != retry.Canceled {
		t.Fatalf("a memberA asker whose context ended: %v", err)
	}
	select {
	case err := <-aDone:
		t.Fatalf("memberA's Get returned before its call was released: %v", err)
	default:
	}
	if n := len(e.eventsOf(EventIssued, memberB)); n != 1 {
		t.Fatalf("memberB issued events = %d", n)
	}

	close(gate.release)
	err := <-aDone
	var me *Error
	if !errors.As(err, &me) || me.Code != "NoPermission" || !me.Terminal() {
		t.Fatalf("memberA: %v", err)
	}
	if e.assumeCalls(memberA) != 1 || e.assumeCalls(memberB) != 1 {
		t.Errorf("calls A %d B %d, want 1 each", e.assumeCalls(memberA), e.assumeCalls(memberB))
	}
}

// TestCheckedBeforeAnyCall: malformed fields are refused, naming the field
// and the rule, before any call.
func TestCheckedBeforeAnyCall(t *testing.T) {
	e := newEnv(t)
	b := e.broker(nil)
	ok := req(memberA)
	with := func(f func(*Request)) Request { r := ok; f(&r); return r }
	tests := []struct {
		name, field, rule string
		r                 Request
	}{
		{"account 15 digits", "AccountID", AccountIDRule, with(func(r *Request) { r.AccountID = "200000000000000" })},
		{"account with letters", "AccountID", AccountIDRule, with(func(r *Request) { r.AccountID = "20000000000000x2" })},
		{"account injection", "AccountID", AccountIDRule, with(func(r *Request) { r.AccountID = "2000000000000002:role/admin#" })},
		{"role empty", "Role", RoleNameRule, with(func(r *Request) { r.Role = "" })},
		{"role with slash", "Role", RoleNameRule, with(func(r *Request) { r.Role = "a/b" })},
		{"role 65 chars", "Role", RoleNameRule, with(func(r *Request) { r.Role = string(make65('r')) })},
		{"external id empty", "ExternalID", ExternalIDRule, with(func(r *Request) { r.ExternalID = "" })},
		{"external id newline", "ExternalID", ExternalIDRule, with(func(r *Request) { r.ExternalID = "ab\ncd" })},
		{"session one char", "SessionName", SessionNameRule, with(func(r *Request) { r.SessionName = "a" })},
		{"session with space", "SessionName", SessionNameRule, with(func(r *Request) { r.SessionName = "run 1" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.Get(testCtx(t), tt.r)
			var me *Error
			if !errors.As(err, &me) || me.Code != CodeInvalidInput || !me.Terminal() {
				t.Fatalf("err = %v", err)
			}
			if msg := err.Error(); !contains(msg, tt.field) || !contains(msg, tt.rule) || contains(msg, "\n") {
				t.Errorf("message %q does not name %s and its rule on one line", msg, tt.field)
			}
			if tt.field == "ExternalID" && tt.r.ExternalID != "" && contains(err.Error(), tt.r.ExternalID) {
				t.Errorf("message repeats the ExternalId: %q", err)
			}
		})
	}
	if n := len(e.srv.Calls()); n != 0 {
		t.Fatalf("the emulator saw %d calls, want 0", n)
	}
}

func make65(c byte) []byte {
	out := make([]byte, 65)
	for i := range out {
		out[i] = c
	}
	return out
}

// TestNewRefusesBadConfig: each setting's rule, before any call.
func TestNewRefusesBadConfig(t *testing.T) {
	caller := func(context.Context) (CallerKey, error) { return CallerKey{}, nil }
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no caller", Config{}, "Config.Caller"},
		{"endpoint with scheme", Config{Caller: caller, Endpoint: "https://sts.aliyuncs.com"}, "Config.Endpoint"},
		{"endpoint with user", Config{Caller: caller, Endpoint: "x@evil.example"}, "Config.Endpoint"},
		{"protocol", Config{Caller: caller, Protocol: "ftp"}, "Config.Protocol"},
		{"region", Config{Caller: caller, RegionID: "evil.example/"}, "Config.RegionID"},
		{"duration short", Config{Caller: caller, Duration: 10 * time.Minute}, "Config.Duration"},
		{"refresh below 180s", Config{Caller: caller, RefreshBefore: time.Minute}, "Config.RefreshBefore"},
		{"refresh not below duration", Config{Caller: caller, Duration: 900 * time.Second, RefreshBefore: 900 * time.Second}, "Config.RefreshBefore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if _, err := New(Config{Caller: caller}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

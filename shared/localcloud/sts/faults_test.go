package sts

import (
	"errors"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
)

// TestFlowControl: 100 AssumeRole calls a second per calling account
// (the STS quota page); the 101st within one second of the fake clock is
// refused with Throttling.Api; other accounts and other APIs have their own
// budget; the bucket refills on the clock.
func TestFlowControl(t *testing.T) {
	e := newEnv(t)
	cli := e.cli(t)
	for i := range 100 {
		if _, err := assume(cli, backupArn, "s1", "ext-123", 0); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err := assume(cli, backupArn, "s1", "ext-123", 0)
	wantErr(t, err, "Throttling.Api", 400)

	// Another hub key of the same account shares the budget.
	_, err = assume(stsClient(t, e.srv.Endpoint(), e.store.NewAccessKeyFor(hub), true), backupArn, "s1", "ext-123", 0)
	wantErr(t, err, "Throttling.Api", 400)
	// Another calling account does not.
	other := e.store.NewAccessKeyFor(memberA)
	_, err = assume(stsClient(t, e.srv.Endpoint(), other, false), "acs:ram::"+memberA+":role/plain", "s1", "", 0)
	noErr(t, err)
	// Another API does not.
	_, err = cli.GetCallerIdentity()
	noErr(t, err)

	// 10 ms of the clock refill one call.
	e.clock.Advance(10 * time.Millisecond)
	_, err = assume(cli, backupArn, "s1", "ext-123", 0)
	noErr(t, err)
	_, err = assume(cli, backupArn, "s1", "ext-123", 0)
	wantErr(t, err, "Throttling.Api", 400)

	throttled := 0
	for _, c := range e.srv.Calls() {
		if c.Code == "Throttling.Api" {
			throttled++
			if c.Performed || c.CallerAccount != hub {
				t.Errorf("throttled call = %+v", c)
			}
		}
	}
	if throttled != 3 {
		t.Errorf("throttled calls = %d, want 3", throttled)
	}
	if n := len(e.srv.Sessions()); n != 102 {
		t.Errorf("sessions = %d, want 102", n)
	}
}

func TestRateLimitOption(t *testing.T) {
	e := newEnv(t, WithRateLimit(2))
	cli := e.cli(t)
	for range 2 {
		_, err := assume(cli, backupArn, "s1", "ext-123", 0)
		noErr(t, err)
	}
	_, err := assume(cli, backupArn, "s1", "ext-123", 0)
	wantErr(t, err, "Throttling.Api", 400)

	unlimited := newEnv(t, WithRateLimit(0))
	cli = unlimited.cli(t)
	for range 150 {
		_, err := assume(cli, backupArn, "s1", "ext-123", 0)
		noErr(t, err)
	}
}

func TestFaults(t *testing.T) {
	t.Run("code", func(t *testing.T) {
		e := newEnv(t)
		e.srv.InjectFault(Fault{Action: "AssumeRole", Code: "ServiceUnavailable", Times: 1})
		_, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
		wantErr(t, err, "ServiceUnavailable", 503)
		_, err = assume(e.cli(t), backupArn, "s1", "ext-123", 0)
		noErr(t, err)
		if f := e.srv.Faults(); len(f) != 0 {
			t.Errorf("Faults() = %+v, want none left", f)
		}
		if c := e.srv.Calls()[0]; !c.Fault || c.Performed || c.Code != "ServiceUnavailable" || c.Status != 503 {
			t.Errorf("call = %+v", c)
		}
	})
	t.Run("per role, with the table's status", func(t *testing.T) {
		e := newEnv(t)
		plain := "acs:ram::" + memberA + ":role/plain"
		e.srv.InjectFault(Fault{RoleArn: "ACS:RAM::" + memberA + ":ROLE/BACKUP", Code: "InternalError"})
		_, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
		wantErr(t, err, "InternalError", 500)
		_, err = assume(stsClient(t, e.srv.Endpoint(), e.store.NewAccessKeyFor(memberA), false), plain, "s1", "", 0)
		noErr(t, err)
		if f := e.srv.Faults(); len(f) != 1 || f[0].Fired != 1 || f[0].Left != 0 {
			t.Errorf("Faults() = %+v", f)
		}
	})
	t.Run("throttling as a fault", func(t *testing.T) {
		e := newEnv(t)
		e.srv.InjectFault(Fault{Code: "Throttling.Api", Times: 2})
		for range 2 {
			_, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
			wantErr(t, err, "Throttling.Api", 400)
		}
		_, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
		noErr(t, err)
	})
	t.Run("drop", func(t *testing.T) {
		e := newEnv(t)
		e.srv.InjectFault(Fault{Drop: true, Times: 1})
		_, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
		var se *tea.SDKError
		if err == nil || errors.As(err, &se) {
			t.Fatalf("err = %v, want a network error", err)
		}
		if c := e.srv.Calls()[0]; c.Status != 0 || !c.Fault || c.Performed {
			t.Errorf("call = %+v", c)
		}
	})
	t.Run("after: issued, answer lost", func(t *testing.T) {
		e := newEnv(t)
		e.srv.InjectFault(Fault{Drop: true, After: true, Times: 1})
		_, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
		if err == nil {
			t.Fatal("err = nil, want a network error")
		}
		if c := e.srv.Calls()[0]; !c.Performed || !c.Fault {
			t.Errorf("call = %+v", c)
		}
		if n := len(e.srv.Sessions()); n != 1 {
			t.Errorf("sessions = %d, want 1 (issued although the caller never heard)", n)
		}
	})
	t.Run("html", func(t *testing.T) {
		e := newEnv(t)
		e.srv.InjectFault(Fault{Status: 502, Times: 1})
		_, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
		var se *tea.SDKError
		if err == nil || errors.As(err, &se) {
			t.Fatalf("err = %v, want a non-SDK error (non-JSON body)", err)
		}
	})
	t.Run("latency on the clock", func(t *testing.T) {
		fc := rds.NewFakeClock(t0)
		e := newEnvClock(t, fc, rds.InstantLatency{FakeClock: fc})
		e.srv.InjectFault(Fault{Action: "AssumeRole", LatencyMs: 3000, Times: 1})
		body, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
		noErr(t, err)
		if got := tea.StringValue(body.Credentials.Expiration); got != "2026-03-02T02:00:03Z" {
			t.Errorf("Expiration = %q, want an hour after the 3 s latency", got)
		}
		if c := e.srv.Calls()[0]; c.Latency != 3000 || !c.Fault || !c.Performed {
			t.Errorf("call = %+v", c)
		}
	})
	t.Run("rate, seeded", func(t *testing.T) {
		run := func() []bool {
			e := newEnv(t, WithFaultSeed(7))
			e.srv.InjectFault(Fault{Code: "InternalError", Rate: 0.5})
			var out []bool
			for range 20 {
				_, err := assume(e.cli(t), backupArn, "s1", "ext-123", 0)
				out = append(out, err != nil)
			}
			return out
		}
		a, b := run(), run()
		n := 0
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("runs differ at call %d: %v vs %v", i, a, b)
			}
			if a[i] {
				n++
			}
		}
		if n == 0 || n == 20 {
			t.Errorf("rate 0.5 fired on %d of 20 calls", n)
		}
	})
	t.Run("check", func(t *testing.T) {
		for _, f := range []Fault{{Action: "CreateBackup"}, {Rate: 2}, {Times: -1}, {Status: 99}, {Drop: true, Code: "X"}, {After: true}} {
			if f.Check() == nil {
				t.Errorf("Check(%+v) = nil", f)
			}
		}
		if err := (Fault{Action: "AssumeRole", Code: "Throttling.Api", Times: 3}).Check(); err != nil {
			t.Error(err)
		}
		e := newEnv(t)
		e.srv.InjectFault(Fault{Code: "X"})
		e.srv.ClearFaults()
		if len(e.srv.Faults()) != 0 {
			t.Error("ClearFaults left faults")
		}
	})
}

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	localauth "github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/rds"
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

// Accounts of the member tests: the functions' own (the local store's
// default account, whose keys the harness's role holds), a member whose
// role trusts it with the deployment's ExternalId, a member whose role
// expects another ExternalId, and one the deployment does not allow.
const (
	ownAccount   = localauth.DefaultAccountID
	goodMember   = "2000000000000002"
	wrongExtID   = "3000000000000003"
	notAllowed   = "4000000000000004"
	deployExtID  = "ext-deploy-7f3a"
	otherExtID   = "ext-other-19c2"
	memberRoleNm = memberauth.DefaultRole
)

// members is the harness with an STS emulator on the same credential
// store: roles in goodMember (ExternalId deployExtID) and wrongExtID
// (ExternalId otherExtID), each trusting the own account; instances
// rm-m1 in goodMember and rm-x1 in wrongExtID.
type members struct {
	*harness
	sts *sts.Server
	env []string // the deployment's member settings
}

func newMembers(t *testing.T, function string) *members {
	t.Helper()
	h := newHarness(t, function)
	srv := sts.NewServer(sts.WithCredentials(h.auth))
	t.Cleanup(srv.Close)
	for acct, ext := range map[string]string{goodMember: deployExtID, wrongExtID: otherExtID} {
		if err := srv.AddRole(sts.Role{AccountID: acct, Name: memberRoleNm, ExternalID: ext, Trusted: []string{ownAccount}}); err != nil {
			t.Fatal(err)
		}
	}
	h.rds.AddInstance(rds.Instance{DBInstanceId: "rm-m1", AccountId: goodMember, Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}})
	h.rds.AddInstance(rds.Instance{DBInstanceId: "rm-x1", AccountId: wrongExtID, Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}})
	return &members{harness: h, sts: srv, env: []string{
		"BACKUP_ALLOWED_ACCOUNTS=" + goodMember + "," + wrongExtID,
		"BACKUP_MEMBER_EXTERNAL_ID=" + deployExtID,
		"BACKUP_STS_ENDPOINT=http://" + srv.Endpoint(),
	}}
}

// app is function's App with the deployment's member settings plus env.
func (m *members) app(function string, env ...string) *App {
	m.t.Helper()
	return m.another(function, append(append([]string{}, m.env...), env...)...)
}

// ctx is an invocation's context in the own account, with the role's key.
func (m *members) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	m.t.Cleanup(cancel)
	return fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID: "1-member-" + m.t.Name(), Region: "cn-hangzhou", AccountId: ownAccount,
		Credentials: fccontext.Credentials{AccessKeyId: m.role.AccessKeyID, AccessKeySecret: m.role.AccessKeySecret, SecurityToken: m.role.SecurityToken},
	})
}

// wireEvent is an event in the notify queue as a consumer reads it: only
// the keys these tests look at, decoded from the wire.
type wireEvent struct {
	Type           string `json:"type"`
	Subject        string `json:"subject"`
	IdempotencyKey string
	Data           struct {
		Status  string `json:"status"`
		Request struct {
			AccountId    string `json:"AccountId"`
			DBInstanceId string `json:"DBInstanceId"`
		} `json:"request"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
		IdempotencyKey string `json:"idempotencyKey"`
		Run            *struct {
			Items    int                       `json:"items"`
			Verdict  string                    `json:"verdict"`
			Counts   map[string]int            `json:"counts"`
			Targets  map[string]map[string]int `json:"targets"`
			Accounts []struct {
				AccountId string `json:"AccountId"`
				Code      string `json:"code"`
				Asks      int    `json:"asks"`
			} `json:"accounts"`
		} `json:"run"`
	} `json:"data"`
}

func (h *harness) wireEvents() []wireEvent {
	h.t.Helper()
	var out []wireEvent
	for _, m := range h.mns.Messages(notifyQ) {
		var ev wireEvent
		if err := json.Unmarshal([]byte(m.Body), &ev); err != nil {
			h.t.Fatalf("notification is not JSON: %v\n%s", err, m.Body)
		}
		out = append(out, ev)
	}
	return out
}

// byInstance is the outcomes by DBInstanceId (the run summary left out).
func byInstance(evs []wireEvent) map[string]wireEvent {
	out := map[string]wireEvent{}
	for _, e := range evs {
		if e.Data.Run == nil {
			out[e.Data.Request.DBInstanceId] = e
		}
	}
	return out
}

func runEvent(t *testing.T, evs []wireEvent) wireEvent {
	t.Helper()
	for _, e := range evs {
		if e.Type == "rds.backup.run" {
			return e
		}
	}
	t.Fatalf("no rds.backup.run among %d events", len(evs))
	return wireEvent{}
}

// TestMemberAsksRunWithMemberCredentials: a timer plan naming backups in
// the own account and in two members. The member whose role trusts the
// deployment's ExternalId is backed up with that member's credentials (the
// RDS emulator sees a key of the member account, issued by AssumeRole with
// the run's id as the session name); the member whose role expects another
// ExternalId ends failed with STS's NoPermission and no RDS call; the own
// account's ask is accepted with the function's own key; the run summary
// is partial and names the account that could not be assumed; neither the
// ExternalId nor a member secret reaches the logs.
func TestMemberAsksRunWithMemberCredentials(t *testing.T) {
	m := newMembers(t, "scheduled")
	a := m.app("scheduled")
	plan := `{"Backups":[{"DBInstanceId":"rm-a"},{"DBInstanceId":"rm-m1","AccountId":"` + goodMember + `"},` +
		`{"DBInstanceId":"rm-x1","AccountId":"` + wrongExtID + `"}]}`
	if _, err := a.HandleTimer(m.ctx(), fc.NewTimerEvent(time.Now(), "nightly", plan)); err != nil {
		t.Fatalf("HandleTimer: %v", err)
	}

	evs := m.wireEvents()
	got := byInstance(evs)
	if e := got["rm-a"]; e.Data.Status != "accepted" || e.Data.Request.AccountId != "" {
		t.Errorf("rm-a (own account): %s, account %q; want accepted, no AccountId", e.Data.Status, e.Data.Request.AccountId)
	}
	if e := got["rm-m1"]; e.Data.Status != "accepted" || e.Data.Request.AccountId != goodMember {
		t.Errorf("rm-m1 (member %s): %s, account %q; want accepted naming the account", goodMember, e.Data.Status, e.Data.Request.AccountId)
	}
	x := got["rm-x1"]
	if x.Data.Status != "failed" || x.Data.Error == nil || x.Data.Error.Code != "NoPermission" || x.Data.Request.AccountId != wrongExtID {
		t.Errorf("rm-x1 (member %s, role expects another ExternalId): %+v; want failed NoPermission naming the account", wrongExtID, x.Data)
	}
	if c := m.rds.CreatedBackups(); c["rm-a"] != 1 || c["rm-m1"] != 1 || c["rm-x1"] != 0 {
		t.Errorf("backups created %v, want rm-a 1, rm-m1 1, rm-x1 0", c)
	}

	// Who signed each CreateBackup: the RDS emulator's oracle.
	for _, c := range m.rds.Calls() {
		if c.Action != "CreateBackup" {
			continue
		}
		want := map[string]string{"rm-a": ownAccount, "rm-m1": goodMember}[c.DBInstanceId]
		if acct := m.auth.AccountOf(c.AccessKeyId); acct != want {
			t.Errorf("CreateBackup %s signed with a key of account %s, want %s", c.DBInstanceId, acct, want)
		}
		if c.DBInstanceId == "rm-x1" {
			t.Errorf("CreateBackup of rm-x1 reached RDS (%s): its account's role could not be assumed", c.Code)
		}
	}

	run := runEvent(t, evs)
	if run.Data.Run.Verdict != "partial" {
		t.Errorf("run verdict %q, want partial (rm-x1 failed, the others accepted)", run.Data.Run.Verdict)
	}
	if acc := run.Data.Run.Accounts; len(acc) != 1 || acc[0].AccountId != wrongExtID || acc[0].Code != "NoPermission" || acc[0].Asks != 1 {
		t.Errorf("run accounts %+v, want [%s NoPermission 1 ask]", acc, wrongExtID)
	}

	// STS: one AssumeRole per member role, the session named after the run.
	calls := m.sts.Calls()
	if len(calls) != 2 {
		t.Fatalf("STS calls %+v, want one AssumeRole for each member role", calls)
	}
	session := memberauth.SessionName(run.Data.IdempotencyKey)
	for _, c := range calls {
		if c.Action != "AssumeRole" || c.RoleSessionName != session || c.CallerAccount != ownAccount {
			t.Errorf("STS call %s %s session %q by %s; want AssumeRole, session %q (the run), by the own account", c.Action, c.RoleArn, c.RoleSessionName, c.CallerAccount, session)
		}
	}
	logs := m.logs.String()
	for _, secret := range []string{deployExtID, otherExtID} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold an ExternalId %q", secret)
		}
	}
	for _, s := range m.sts.Sessions() {
		if sec, ok := m.auth.Lookup(s.AccessKeyId); ok && strings.Contains(logs, sec.AccessKeySecret) {
			t.Errorf("the logs hold the secret of member key %s", s.AccessKeyId)
		}
	}
}

// TestMemberAskFromMNSMessage: an MNS message may name an allowed account
// per backup; it runs with that member's credentials.
func TestMemberAskFromMNSMessage(t *testing.T) {
	m := newMembers(t, "queue")
	a := m.app("queue")
	if _, err := a.HandleQueue(m.ctx(), batch(`{"DBInstanceId":"rm-m1","AccountId":"`+goodMember+`"}`)); err != nil {
		t.Fatal(err)
	}
	if e := byInstance(m.wireEvents())["rm-m1"]; e.Data.Status != "accepted" {
		t.Fatalf("rm-m1 from an MNS message: %+v, want accepted", e.Data)
	}
	var signed []string
	for _, c := range m.rds.Calls() {
		if c.Action == "CreateBackup" {
			signed = append(signed, m.auth.AccountOf(c.AccessKeyId))
		}
	}
	if len(signed) != 1 || signed[0] != goodMember {
		t.Errorf("CreateBackup signed by accounts %v, want [%s]", signed, goodMember)
	}
}

// TestMemberRefusedBeforeSTS: what a deployment does not allow is refused
// in one rejected outcome with the code a user looks up, and the STS
// emulator's call log stays empty: an account outside
// BACKUP_ALLOWED_ACCOUNTS (a backup's AccountId, a Select's Accounts), a
// Select across accounts without the ask ledger, and an MNS message's
// Select across accounts.
func TestMemberRefusedBeforeSTS(t *testing.T) {
	tests := []struct {
		name, function, body, code string
	}{
		{"timer: a backup in an account not allowed", "scheduled",
			`{"Backups":[{"DBInstanceId":"rm-a"},{"DBInstanceId":"rm-n1","AccountId":"` + notAllowed + `"}]}`, "InvalidAccountId.NotAllowed"},
		{"timer: Defaults.AccountId not allowed", "scheduled",
			`{"Defaults":{"AccountId":"` + notAllowed + `"},"Backups":[{"DBInstanceId":"rm-a"}]}`, "InvalidAccountId.NotAllowed"},
		{"timer: Select.Accounts naming one not allowed", "scheduled",
			`{"Select":{"Tags":{"backup":"nightly"},"Accounts":["` + goodMember + `","` + notAllowed + `"]}}`, "InvalidAccountId.NotAllowed"},
		{"timer: a Select across accounts without the ask ledger", "scheduled",
			`{"Select":{"Tags":{"backup":"nightly"},"Accounts":["` + goodMember + `","` + wrongExtID + `"]}}`, CodeFleetSelectNotAllowed},
		{"timer: a Select across regions without the ask ledger", "scheduled",
			`{"Select":{"Tags":{"backup":"nightly"},"Accounts":["` + goodMember + `"],"Regions":["cn-hangzhou"]}}`, CodeFleetSelectNotAllowed},
		{"MNS: a backup in an account not allowed", "queue",
			`{"DBInstanceId":"rm-n1","AccountId":"` + notAllowed + `"}`, "InvalidAccountId.NotAllowed"},
		{"MNS: a Select across accounts", "queue",
			`{"Select":{"Tags":{"backup":"nightly"},"Accounts":["` + goodMember + `"]}}`, CodeFleetSelectNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMembers(t, tc.function)
			a := m.app(tc.function, "BACKUP_MNS_SELECT=allow")
			var err error
			if tc.function == "scheduled" {
				_, err = a.HandleTimer(m.ctx(), fc.NewTimerEvent(time.Now(), "nightly", tc.body))
			} else {
				_, err = a.HandleQueue(m.ctx(), batch(tc.body))
			}
			if err != nil {
				t.Fatalf("a refused plan must not fail the invocation: %v", err)
			}
			evs := m.wireEvents()
			if len(evs) != 1 || evs[0].Data.Status != "rejected" || evs[0].Data.Error == nil || evs[0].Data.Error.Code != tc.code {
				t.Fatalf("outcomes %+v, want one rejected %s", evs, tc.code)
			}
			if calls := m.sts.Calls(); len(calls) != 0 {
				t.Errorf("STS was called before the refusal: %+v", calls)
			}
			if c := m.rds.CreatedBackups(); len(c) != 0 {
				t.Errorf("backups created %v: a refused plan runs nothing", c)
			}
		})
	}
}

// TestWebhookStaysInOwnAccount: a signed delivery naming a member account
// (even an allowed one) or a Select across accounts is refused as a whole
// at the door — 403 with its code and field, one rejected outcome when it
// names backups — before any STS call; the same route's delivery in the
// own account is accepted.
func TestWebhookStaysInOwnAccount(t *testing.T) {
	tests := []struct {
		name, body, code string
		outcomes         int
	}{
		{"a backup's AccountId", `{"DBInstanceId":"rm-m1","AccountId":"` + goodMember + `"}`, "InvalidAccountId.NotAllowed", 1},
		{"Defaults.AccountId", `{"Defaults":{"AccountId":"` + goodMember + `"},"Backups":[{"DBInstanceId":"rm-m1"}]}`, "InvalidAccountId.NotAllowed", 1},
		{"Select.Accounts", `{"Select":{"Engine":"MySQL","Accounts":["` + goodMember + `"]}}`, CodeFleetSelectNotAllowed, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMembers(t, "webhook")
			a := m.app("webhook", opsRoute, "OPS_SECRET=s3cret")
			resp, err := a.HandleHTTP(m.ctx(), signedHTTP("POST", "/v1/backups", nil, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Error *struct{ Code string }
			}
			_ = json.Unmarshal([]byte(resp.Body), &body)
			if resp.StatusCode != 403 || body.Error == nil || body.Error.Code != tc.code {
				t.Errorf("status %d, body %s; want 403 %s", resp.StatusCode, resp.Body, tc.code)
			}
			evs := m.wireEvents()
			if len(evs) != tc.outcomes {
				t.Errorf("outcomes %+v, want %d", evs, tc.outcomes)
			}
			for _, ev := range evs {
				if ev.Data.Status != "rejected" || ev.Data.Error == nil || ev.Data.Error.Code != tc.code {
					t.Errorf("outcome %+v, want rejected %s", ev.Data, tc.code)
				}
			}
			if calls := m.sts.Calls(); len(calls) != 0 {
				t.Errorf("STS was called for a webhook: %+v", calls)
			}
			if c := m.rds.CreatedBackups(); len(c) != 0 {
				t.Errorf("backups created %v", c)
			}
		})
	}
	m := newMembers(t, "webhook")
	a := m.app("webhook", opsRoute, "OPS_SECRET=s3cret")
	resp, err := a.HandleHTTP(m.ctx(), signedHTTP("POST", "/v1/backups", nil, `{"DBInstanceId":"rm-a"}`))
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("own account: %v %d %s, want 202", err, resp.StatusCode, resp.Body)
	}
	if c := m.rds.CreatedBackups(); c["rm-a"] != 1 {
		t.Errorf("backups created %v, want rm-a once", c)
	}
}

// TestFleetSelectAcrossAccountsAndRegions: with the ask ledger, a timer
// plan's Select over the own account and two members in two regions hands
// on one step per (account, region), t1 to t6; the queue function runs
// them (in reverse order, one twice). Every tagged instance the member
// with the right ExternalId and the own account hold is backed up once,
// with its account's key; the member whose role expects another ExternalId
// ends failed with NoPermission in both its regions; one AssumeRole per
// member role; one summary, partial, counting per account and region and
// naming the account that could not be assumed.
func TestFleetSelectAcrossAccountsAndRegions(t *testing.T) {
	m := newMembers(t, "scheduled")
	_, ledgerEnv := m.withLedger(time.Minute)
	m.rds.AddInstance(rds.Instance{DBInstanceId: "rm-o1", Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}})
	m.rds.AddInstance(rds.Instance{DBInstanceId: "rm-o2", RegionId: "cn-shanghai", Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}})
	m.rds.AddInstance(rds.Instance{DBInstanceId: "rm-m2", RegionId: "cn-shanghai", AccountId: goodMember, Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}})
	m.rds.AddInstance(rds.Instance{DBInstanceId: "rm-x2", RegionId: "cn-shanghai", AccountId: wrongExtID, Engine: "MySQL", Tags: map[string]string{"backup": "nightly"}})
	env := append(ledgerEnv, "BACKUP_ALLOWED_REGIONS=cn-shanghai")
	sched := m.app("scheduled", env...)
	plan := `{"Select":{"Tags":{"backup":"nightly"},"Accounts":["` + ownAccount + `","` + goodMember + `","` + wrongExtID + `"],` +
		`"Regions":["cn-hangzhou","cn-shanghai"]}}`
	if _, err := sched.HandleTimer(m.ctx(), fc.NewTimerEvent(time.Now(), "nightly", plan)); err != nil {
		t.Fatal(err)
	}
	steps := func() map[string]string {
		out := map[string]string{}
		for _, w := range m.mns.Messages(workQ) {
			wm, err := workqueue.Decode([]byte(w.Body))
			if err != nil {
				t.Fatal(err)
			}
			if wm.Kind == workqueue.KindPlan || wm.Kind == workqueue.KindSelect {
				out[wm.Step] = w.Body
			}
		}
		return out
	}
	first := steps()
	if got := slices.Sorted(maps.Keys(first)); fmt.Sprint(got) != "[t1 t2 t3 t4 t5 t6]" {
		t.Fatalf("the first step handed on %v, want one step per (account, region): [t1 ... t6]", got)
	}
	if n := len(m.sts.Calls()); n != 0 {
		t.Errorf("the first step called STS %d times: it only hands on", n)
	}
	q := m.app("queue", env...)
	var bodies []string
	for _, id := range []string{"t6", "t5", "t4", "t3", "t2", "t1", "t4"} {
		bodies = append(bodies, first[id])
	}
	if _, err := q.HandleQueue(m.ctx(), batch(bodies...)); err != nil {
		t.Fatal(err)
	}
	if more := len(steps()); more != 6 {
		t.Errorf("%d steps, want no more than the six (one page each)", more)
	}

	want := map[string]string{"rm-o1": ownAccount, "rm-o2": ownAccount, "rm-m1": goodMember, "rm-m2": goodMember}
	created := m.rds.CreatedBackups()
	for id := range want {
		if created[id] != 1 {
			t.Errorf("%s backed up %d times, want once", id, created[id])
		}
	}
	for _, id := range []string{"rm-x1", "rm-x2", "rm-a", "rm-b", "rm-c"} {
		if created[id] != 0 {
			t.Errorf("%s backed up %d times, want never (untagged, or its account's role not assumed)", id, created[id])
		}
	}
	for _, c := range m.rds.Calls() {
		if c.Action == "CreateBackup" && m.auth.AccountOf(c.AccessKeyId) != want[c.DBInstanceId] {
			t.Errorf("CreateBackup %s signed by account %s, want %s", c.DBInstanceId, m.auth.AccountOf(c.AccessKeyId), want[c.DBInstanceId])
		}
	}

	evs := m.wireEvents()
	var failed []string
	for _, e := range evs {
		if e.Data.Status == "failed" {
			if e.Data.Error == nil || e.Data.Error.Code != "NoPermission" || e.Data.Request.AccountId != wrongExtID {
				t.Errorf("failed outcome %+v, want NoPermission in %s", e.Data, wrongExtID)
			}
			failed = append(failed, e.Data.Request.AccountId)
		}
	}
	if len(failed) != 2 {
		t.Errorf("%d failed outcomes, want 2 (%s in each region)", len(failed), wrongExtID)
	}
	var runs []wireEvent
	for _, e := range evs {
		if e.Type == "rds.backup.run" {
			runs = append(runs, e)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("%d run summaries, want 1", len(runs))
	}
	r := runs[0].Data.Run
	if r.Verdict != "partial" || r.Counts["accepted"] != 4 || r.Counts["failed"] != 2 {
		t.Errorf("summary %s, counts %v; want partial, 4 accepted, 2 failed", r.Verdict, r.Counts)
	}
	if acc := r.Accounts; len(acc) != 1 || acc[0].AccountId != wrongExtID || acc[0].Code != "NoPermission" {
		t.Errorf("summary accounts %+v, want [%s NoPermission]", acc, wrongExtID)
	}
	for key, n := range map[string]int{"own/cn-hangzhou": 1, "own/cn-shanghai": 1, goodMember + "/cn-hangzhou": 1, goodMember + "/cn-shanghai": 1} {
		if r.Targets[key]["accepted"] != n {
			t.Errorf("summary targets[%s] = %v, want %d accepted", key, r.Targets[key], n)
		}
	}
	perRole := map[string]int{}
	for _, c := range m.sts.Calls() {
		perRole[c.RoleArn]++
	}
	wantRoles := map[string]int{memberauth.RoleArn(goodMember, memberRoleNm): 1, memberauth.RoleArn(wrongExtID, memberRoleNm): 1}
	if !maps.Equal(perRole, wantRoles) {
		t.Errorf("AssumeRole calls per role %v, want %v (one per account and role)", perRole, wantRoles)
	}
}

// TestReportOfAMemberAccount: the report of a member account's instance
// reads its backups through the member role (one AssumeRole; the own
// account's key sees nothing of it), and an account the deployment does
// not allow is refused before any STS call.
func TestReportOfAMemberAccount(t *testing.T) {
	m := newMembers(t, "webhook")
	_, env := m.withLedger(time.Minute)
	a := m.app("webhook", append(env, opsRoute, "OPS_SECRET=s3cret")...)
	ctx := m.invocation(a, "1-member-report", m.role.AccessKeyID, m.role.AccessKeySecret, m.role.SecurityToken)
	end := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	m.rds.AddBackup("rm-m1", rds.Backup{BackupStartTime: end.Add(-10 * time.Minute), BackupEndTime: end})

	rep, err := reporter{a}.Report(ctx, "", "", []string{"rm-m1"}, end.Add(-time.Hour))
	if err != nil || len(rep) != 1 || rep[0].LastFinished != nil && rep[0].Error == nil {
		t.Fatalf("the own account's report of a member's instance = %+v, %v: want it unseen", rep, err)
	}
	rep, err = reporter{a}.Report(ctx, goodMember, "", []string{"rm-m1"}, end.Add(-time.Hour))
	if err != nil || len(rep) != 1 || rep[0].Error != nil || rep[0].LastFinished == nil || !rep[0].LastFinished.BackupEndTime.Equal(end) {
		t.Fatalf("the member account's report = %+v, %v: want its backup ending %v", rep, err, end)
	}
	if n := m.sts.Counts()["AssumeRole"]; n != 1 {
		t.Fatalf("%d AssumeRole, want 1", n)
	}
	_, err = reporter{a}.Report(ctx, "9999999999999999", "", []string{"rm-m1"}, end.Add(-time.Hour))
	var v *backup.Violation
	if !errors.As(err, &v) || v.Code != backup.CodeAccountNotAllowed || v.HTTPStatus != 403 {
		t.Fatalf("an account not allowed: %v, want a 403 InvalidAccountId.NotAllowed", err)
	}
	if n := m.sts.Counts()["AssumeRole"]; n != 1 {
		t.Fatalf("%d AssumeRole after a refused account, want still 1", n)
	}
}

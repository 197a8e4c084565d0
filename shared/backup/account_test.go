package backup

import (
	"strings"
	"testing"
)

const (
	acctA = "2000000000000002"
	acctB = "3000000000000003"
	acctX = "9000000000000009" // allowed nowhere
	own   = "1000000000000001"
)

// TestPlanAccountsAndRegionsGrammar: the accounts and regions a plan names
// are held to their grammar when it is parsed, each refusal naming the
// field and the rule.
func TestPlanAccountsAndRegionsGrammar(t *testing.T) {
	tests := []struct {
		name, body, code, field, msg string
	}{
		{"account of 15 digits", `{"DBInstanceId":"rm-a","AccountId":"200000000000000"}`, CodeAccountFormat, "Backups[0].AccountId", AccountIDRule},
		{"account with a letter", `{"Defaults":{"AccountId":"20000000000000x2"},"Backups":[{"DBInstanceId":"rm-a"}]}`, CodeAccountFormat, "Defaults.AccountId", AccountIDRule},
		{"select account not digits", `{"Select":{"Tags":{"a":"b"},"Accounts":["` + acctA + `","acs:ram::1"]}}`, CodeAccountFormat, "Select.Accounts[1]", AccountIDRule},
		{"select account empty", `{"Select":{"Tags":{"a":"b"},"Accounts":[""]}}`, CodeAccountFormat, "Select.Accounts[0]", AccountIDRule},
		{"select account twice", `{"Select":{"Tags":{"a":"b"},"Accounts":["` + acctA + `","` + acctA + `"]}}`, CodeParametersInvalid, "Select.Accounts[1]", "named twice"},
		{"select region a host", `{"Select":{"Tags":{"a":"b"},"Regions":["cn-hangzhou","x@evil.example:443/"]}}`, CodeRegionFormat, "Select.Regions[1]", RegionIdRule},
		{"regions and region id", `{"Select":{"Tags":{"a":"b"},"RegionId":"cn-hangzhou","Regions":["cn-shanghai"]}}`, CodeParametersInvalid, "Select.Regions", "not both"},
		{"accounts not a list", `{"Select":{"Tags":{"a":"b"},"Accounts":"` + acctA + `"}}`, CodeParametersInvalid, "Select.Accounts", "array"},
		{"misspelt accounts", `{"Select":{"Tags":{"a":"b"},"accounts":["` + acctA + `"]}}`, CodeParametersInvalid, "Select.accounts", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePlan([]byte(tt.body))
			v, ok := err.(*Violation)
			if !ok {
				t.Fatalf("ParsePlan = %v, want a violation", err)
			}
			if v.Code != tt.code || v.Field != tt.field || !strings.Contains(v.Message, tt.msg) {
				t.Errorf("violation %s %s %q, want %s %s containing %q", v.Code, v.Field, v.Message, tt.code, tt.field, tt.msg)
			}
		})
	}
	p, err := ParsePlan([]byte(`{"Defaults":{"AccountId":"` + acctA + `"},"Backups":[{"DBInstanceId":"rm-a"},{"DBInstanceId":"rm-b","AccountId":"` + acctB + `"}],` +
		`"Select":{"Tags":{"a":"b"},"Accounts":["` + acctA + `","` + acctB + `"],"Regions":["cn-hangzhou","cn-shanghai"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Specs(); got[0].AccountId != acctA || got[1].AccountId != acctB {
		t.Errorf("Specs' accounts %q %q, want the default's and the backup's own", got[0].AccountId, got[1].AccountId)
	}
	want := []Target{{acctA, "cn-hangzhou"}, {acctA, "cn-shanghai"}, {acctB, "cn-hangzhou"}, {acctB, "cn-shanghai"}}
	if got := p.Select.Targets(); len(got) != 4 || got[0] != want[0] || got[3] != want[3] {
		t.Errorf("Targets = %v, want %v", got, want)
	}
	if n := p.Select.At(want[1]); n.Account() != acctA || n.RegionId != "cn-shanghai" || n.Regions != nil || n.Tags["a"] != "b" {
		t.Errorf("At(%v) = %+v", want[1], n)
	}
	if r := FromSpec(p.Specs()[1], Trigger{}); r.AccountId != acctB || r.Spec().AccountId != acctB {
		t.Errorf("the account is lost between Spec and Request: %+v", r)
	}
}

// TestFleetCheckPlan: every account a plan reaches must be the own or an
// allowed one, every region an allowed one, and the Select's pairs at
// most BACKUP_MAX_FANOUT; else one violation naming the field.
func TestFleetCheckPlan(t *testing.T) {
	regions, _ := NewRegions("cn-hangzhou", "cn-shanghai")
	f := Fleet{Own: own, Accounts: []string{acctA, acctB}, MaxFanout: 4}
	sel := func(accounts, regs []string) *Selector {
		return &Selector{Tags: map[string]string{"a": "b"}, Accounts: accounts, Regions: regs}
	}
	tests := []struct {
		name        string
		plan        Plan
		code, field string
	}{
		{"own account and no fleet", Plan{Backups: []Spec{{DBInstanceId: "rm-a"}}}, "", ""},
		{"own account by id", Plan{Backups: []Spec{{DBInstanceId: "rm-a", AccountId: own}}}, "", ""},
		{"allowed members", Plan{Defaults: Spec{AccountId: acctA}, Select: sel([]string{acctA, acctB}, []string{"cn-hangzhou", "cn-shanghai"})}, "", ""},
		{"backup in an account not allowed", Plan{Backups: []Spec{{DBInstanceId: "rm-a"}, {DBInstanceId: "rm-b", AccountId: acctX}}}, CodeAccountNotAllowed, "Backups[1].AccountId"},
		{"default account not allowed", Plan{Defaults: Spec{AccountId: acctX}, Backups: []Spec{{DBInstanceId: "rm-a"}}}, CodeAccountNotAllowed, "Defaults.AccountId"},
		{"select account not allowed", Plan{Select: sel([]string{acctA, acctX}, nil)}, CodeAccountNotAllowed, "Select.Accounts[1]"},
		{"select region not allowed", Plan{Select: sel([]string{acctA}, []string{"cn-beijing"})}, CodeRegionNotAllowed, "Select.Regions[0]"},
		{"fan-out past the bound", Plan{Select: sel([]string{own, acctA, acctB}, []string{"cn-hangzhou", "cn-shanghai"})}, CodeTooManyTargets, "Select"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := f.CheckPlan(tt.plan, regions)
			switch {
			case tt.code == "" && v != nil:
				t.Fatalf("refused: %v", v)
			case tt.code != "" && (v == nil || v.Code != tt.code || v.Field != tt.field):
				t.Fatalf("violation %v, want %s on %s", v, tt.code, tt.field)
			}
		})
	}
	if v := (Fleet{}).CheckAccount("AccountId", acctA); v == nil || !strings.Contains(v.Message, "BACKUP_ALLOWED_ACCOUNTS") {
		t.Errorf("a deployment without members allows %s: %v", acctA, v)
	}
	if (Fleet{Own: own}).Member(own) || !(Fleet{Own: own}).Member(acctA) || (Fleet{}).Member("") {
		t.Error("Member: the own account is no member, another is")
	}
}

func TestAccountGrammarByHand(t *testing.T) {
	for s, want := range map[string]bool{acctA: true, "": false, "123": false, "１000000000000001": false, "20000000000000020": false} {
		if ValidAccountID(s) != want {
			t.Errorf("ValidAccountID(%q) != %v", s, want)
		}
	}
	for s, want := range map[string]bool{"fc-rds-backup-member": true, "Backup.Member": true, "": false, "a/b": false, strings.Repeat("a", 65): false} {
		if ValidRoleName(s) != want {
			t.Errorf("ValidRoleName(%q) != %v", s, want)
		}
	}
	for s, want := range map[string]bool{"ab": true, "a": false, "x:y/z@w=1,2+3_4.5-6": true, "has space": false, strings.Repeat("e", 1225): false} {
		if ValidExternalID(s) != want {
			t.Errorf("ValidExternalID(%q) != %v", s, want)
		}
	}
}

// TestRunSummaryByAccountAndRegion: a run counts first outcomes per
// (account, region) and status, lists the member accounts that could not
// be assumed with STS's code, and merging parts (parallel steps) adds up.
func TestRunSummaryByAccountAndRegion(t *testing.T) {
	out := func(st Status, acct, region, code, field string) Outcome {
		o := Outcome{Status: st, Request: Request{DBInstanceId: "rm-" + region, AccountId: acct, RegionId: region}}
		if code != "" {
			o.Error = &ErrorInfo{Code: code, Field: field}
		}
		return o
	}
	var a, b RunSummary
	a.Add(out(StatusAccepted, acctA, "cn-hangzhou", "", ""))
	a.Add(out(StatusFailed, acctB, "cn-hangzhou", "NoPermission", "AccountId"))
	b.Add(out(StatusFailed, acctB, "cn-shanghai", "NoPermission", "AccountId"))
	b.Add(out(StatusAccepted, "", "cn-shanghai", "", ""))
	a.Merge(b)
	if a.Targets[acctA+"/cn-hangzhou"][StatusAccepted] != 1 || a.Targets[acctB+"/cn-shanghai"][StatusFailed] != 1 || a.Targets["own/cn-shanghai"][StatusAccepted] != 1 {
		t.Errorf("targets %v", a.Targets)
	}
	if len(a.Accounts) != 1 || a.Accounts[0] != (AccountProblem{AccountId: acctB, Code: "NoPermission", Asks: 2}) {
		t.Errorf("accounts %+v, want %s NoPermission with 2 asks", a.Accounts, acctB)
	}
	if !a.Partial() || a.Problems[0].AccountId != acctB {
		t.Errorf("partial %v, problems %+v", a.Partial(), a.Problems)
	}
}

package backup

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParsePlan(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      []Spec
		wantField string
		wantCode  string
	}{
		{"single request", `{"DBInstanceId":"rm-1","BackupMethod":"Logical","DBName":"a,b"}`,
			[]Spec{{DBInstanceId: "rm-1", BackupMethod: "Logical", DBName: "a,b"}}, "", ""},
		{"list", `{"Backups":[{"DBInstanceId":"rm-1"},{"DBInstanceId":"rm-2","RegionId":"cn-beijing"}]}`,
			[]Spec{{DBInstanceId: "rm-1"}, {DBInstanceId: "rm-2", RegionId: "cn-beijing"}}, "", ""},
		{"defaults apply, targets override", `{"Defaults":{"BackupMethod":"Logical","RegionId":"cn-shanghai"},"Backups":[{"DBInstanceId":"rm-1"},{"DBInstanceId":"rm-2","BackupMethod":"Physical"}]}`,
			[]Spec{{DBInstanceId: "rm-1", BackupMethod: "Logical", RegionId: "cn-shanghai"}, {DBInstanceId: "rm-2", BackupMethod: "Physical", RegionId: "cn-shanghai"}}, "", ""},
		{"select only", `{"Select":{"RegionId":"cn-hangzhou","Tags":{"backup":"nightly"}}}`, []Spec{}, "", ""},
		{"unknown field named", `{"DBInstanceId":"rm-1","Method":"Logical"}`, nil, "Method", CodeParametersInvalid},
		{"unknown field in list", `{"Backups":[{"DBInstanceID":"rm-1"}]}`, nil, "Backups[0].DBInstanceID", CodeParametersInvalid},
		{"case-insensitive match refused", `{"dbinstanceid":"rm-1"}`, nil, "dbinstanceid", CodeParametersInvalid},
		{"unknown in defaults", `{"Defaults":{"Region":"x"},"Backups":[{"DBInstanceId":"rm-1"}]}`, nil, "Defaults.Region", CodeParametersInvalid},
		{"unknown in select", `{"Select":{"Tag":{"a":"b"}}}`, nil, "Select.Tag", CodeParametersInvalid},
		{"wrong type", `{"DBInstanceId":42}`, nil, "DBInstanceId", CodeParametersInvalid},
		{"DBName as array refused", `{"DBInstanceId":"rm-1","DBName":["a"]}`, nil, "DBName", CodeParametersInvalid},
		{"not JSON", `DBInstanceId=rm-1`, nil, "body", CodeMalformed},
		{"array at top", `[{"DBInstanceId":"rm-1"}]`, nil, "body", CodeMalformed},
		{"empty", ``, nil, "body", CodeMalformed},
		{"trailing data", `{"DBInstanceId":"rm-1"} {}`, nil, "body", CodeMalformed},
		{"empty plan", `{"Backups":[]}`, nil, "Backups", CodeRequiredParam},
		{"too many tags", `{"Select":{"Tags":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6"}}}`, nil, "Select.Tags", CodeParametersInvalid},
		{"select everything refused", `{"Select":{"RegionId":"cn-hangzhou"}}`, nil, "Select", CodeParametersInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePlan([]byte(tc.in))
			if tc.wantCode != "" {
				var v *Violation
				if !errors.As(err, &v) {
					t.Fatalf("err = %v, want a *Violation", err)
				}
				if v.Field != tc.wantField || v.Code != tc.wantCode {
					t.Fatalf("got %s on %q, want %s on %q (%s)", v.Code, v.Field, tc.wantCode, tc.wantField, v.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Specs(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Specs() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFromSpecRoundTrip(t *testing.T) {
	s := Spec{DBInstanceId: "rm-1", BackupMethod: "Logical", BackupStrategy: "db", DBName: "orders,billing", RegionId: "cn-hangzhou"}
	r := FromSpec(s, Trigger{Kind: "mns"})
	if !reflect.DeepEqual(r.DBName, []string{"orders", "billing"}) {
		t.Fatalf("DBName = %q", r.DBName)
	}
	if r.Spec() != s {
		t.Fatalf("Spec() = %+v, want %+v", r.Spec(), s)
	}
}

func TestKeyIsStableAndSeparatesParts(t *testing.T) {
	// Pinned: idempotency keys must not change between deployments, or a
	// message redelivered across an upgrade would no longer match.
	first, again := Key("a", "b"), Key("a", "b")
	if first != again || first != "8fb20ef63ced4145fc2e983ffe597d1d" {
		t.Fatalf("Key not stable: %s, %s", first, again)
	}
	if Key("ab", "") == Key("a", "b") {
		t.Fatal("Key does not separate parts")
	}
}

func FuzzParsePlan(f *testing.F) {
	long := strings.Repeat("x", 5000)
	for _, s := range []string{`{"DBInstanceId":"rm-1"}`, `{"Backups":[{"DBInstanceId":"x","DBName":"a,b"}]}`, `{"Select":{"Tags":{"a":"b"}}}`, `[]`, `{`, `{"Defaults":null}`,
		`{"` + long + `":1}`, `{"Backups":[{"` + long + `":1}]}`, `{"Select":{"Engine":"` + long + `"}}`, `{"Select":{"Tags":{"` + long + `":"` + long + `"}}}`, `{"Select":{"Engine":"MySQL","Tags":{"acs:a":"b"}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePlan(data)
		if err != nil {
			var v *Violation
			if !errors.As(err, &v) || v.Field == "" || v.Code == "" {
				t.Fatalf("error without field/code: %v", err)
			}
			// What a caller wrote comes back clipped (issue 19).
			if len(v.Message) > 1024 || len(v.Field) > 300 {
				t.Fatalf("a %d-byte message, a %d-byte field: %.200s", len(v.Message), len(v.Field), v.Message)
			}
			return
		}
		if sel := p.Select; sel != nil {
			if sel.Engine != "" && !ValidEngine(sel.Engine) {
				t.Fatalf("Select.Engine %q accepted", sel.Engine)
			}
			for k, v := range sel.Tags {
				if !ValidTagKey(k) || !ValidTagValue(v) {
					t.Fatalf("Select.Tags %q:%q accepted", k, v)
				}
			}
		}
		for _, s := range p.Specs() {
			_ = Validate(FromSpec(s, Trigger{}))
		}
	})
}

func TestJoinNote(t *testing.T) {
	for _, tc := range [][3]string{{"", "", ""}, {"a", "", "a"}, {"", "b", "b"}, {"a", "b", "a; b"}} {
		if got := JoinNote(tc[0], tc[1]); got != tc[2] {
			t.Errorf("JoinNote(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// A signed request may carry AskedAt in any form; a bad one names the field.
func TestParsePlanAskedAt(t *testing.T) {
	for _, body := range []string{
		`{"DBInstanceId":"rm-1","AskedAt":"2026-11-25T10:00:00Z"}`,
		`{"Backups":[{"DBInstanceId":"rm-1"}],"AskedAt":"2026-11-25T18:00:00+08:00"}`,
	} {
		p, err := ParsePlan([]byte(body))
		if err != nil || !p.AskedAt.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) || len(p.Backups) != 1 {
			t.Errorf("ParsePlan(%s) = %+v, %v", body, p, err)
		}
	}
	for _, body := range []string{`{"DBInstanceId":"rm-1","AskedAt":"yesterday"}`, `{"DBInstanceId":"rm-1","AskedAt":12}`} {
		_, err := ParsePlan([]byte(body))
		var v *Violation
		if !errors.As(err, &v) || v.Field != "AskedAt" {
			t.Errorf("ParsePlan(%s) = %v, want a violation on AskedAt", body, err)
		}
	}
}

// A route's backups are read by ParseBackups at start-up and a request's by
// ParsePlan: the same list gets the same backups or the same refusal.
func TestParseBackupsAgreesWithParsePlan(t *testing.T) {
	for _, list := range []string{
		`[{"DBInstanceId":"rm-1"}]`,
		`[{"DBInstanceId":"rm-1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"invoices"},{"DBInstanceId":"rm-2","BackupMethod":"Snapshot","RegionId":"cn-beijing"}]`,
		`[{"DBInstanceId":"rm-1","AccountId":"1234567890123456"}]`,
		`[{"DBInstanceId":"rm-1","AccountId":"12ab"}]`,
		`[{"DBInstanceId":"rm-1"},{"DBInstanceId":"rm-2","AccountId":"x"}]`,
		`[{"DBInstanceID":"rm-1"}]`,
		`[{"DBInstanceId":"rm-1","Extra":true}]`,
		`[{"DBInstanceId":7}]`,
		`[{"DBInstanceId":"rm-1","BackupMethod":["Physical"]}]`,
		`["rm-1"]`,
		`{"DBInstanceId":"rm-1"}`,
		`"rm-1"`,
		`[{"DBInstanceId":"rm-1"}`,
		`[{"DBInstanceId":"rm-1"}] trailing`,
		`[{"DBInstanceId":1,"BackupMethod":2}]`,
		`[{"BackupMethod":2,"DBInstanceId":1}]`,
		`[{"DBInstanceId":"rm-1"},"x",{"DBName":3}]`,
		`[{"DBInstanceId":"rm-1"},{"DBName":3},"x"]`,
		`[null,{"DBInstanceId":"rm-2","DBName":null}]`,
		`[{"DBInstanceId":"rm-a","DBInstanceId":"rm-b"}]`,
		`[{"DBInstanceId":"rm-\u0031","DBName":"a,b"}]`,
		`[{"DBInstanceId":true},{"AccountId":"bad"}]`,
		`[[]]`,
	} {
		t.Run(list, func(t *testing.T) {
			// The plain path (a webhook's start-up) answers as encoding/json's.
			if specs, ok := parsePlainBackups([]byte(list)); ok {
				slow, slowErr := parseBackupsJSON([]byte(list))
				if plainErr := checkBackupsAccounts(specs); fmt.Sprint(plainErr) != fmt.Sprint(slowErr) || (slowErr == nil && !reflect.DeepEqual(specs, slow)) {
					t.Fatalf("plain JSON: %+v, %v; encoding/json: %+v, %v", specs, plainErr, slow, slowErr)
				}
			} else if strings.HasPrefix(list, `[{"DBInstanceId":"rm-1"}]`) && len(list) == len(`[{"DBInstanceId":"rm-1"}]`) {
				t.Fatal("a plain list is not read as plain JSON")
			}
			want, wantErr := ParsePlan([]byte(`{"Backups":` + list + `}`))
			got, err := ParseBackups([]byte(list))
			switch {
			case wantErr != nil && err == nil:
				t.Fatalf("ParsePlan refused the list (%v), ParseBackups took it: %+v", wantErr, got)
			case wantErr == nil && err != nil:
				t.Fatalf("ParsePlan took the list, ParseBackups refused it: %v", err)
			case wantErr != nil:
				if err.Error() != wantErr.Error() {
					t.Fatalf("refusals differ:\nParseBackups: %v\nParsePlan:    %v", err, wantErr)
				}
			case !reflect.DeepEqual(got, want.Backups):
				t.Fatalf("backups differ:\nParseBackups: %+v\nParsePlan:    %+v", got, want.Backups)
			}
		})
	}
	for _, empty := range []string{` [ ] `, `null`} {
		if got, err := ParseBackups([]byte(empty)); err != nil || len(got) != 0 {
			t.Fatalf("%q: %+v, %v; want no backups and no error", empty, got, err)
		}
	}
}

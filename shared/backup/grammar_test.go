package backup

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRegionGrammar(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"cn-hangzhou", true},
		{"ap-southeast-1", true},
		{"us-east-1", true},
		{"eu-central-1", true},
		{"cn-shanghai-finance-1", true},
		{"cn-hongkong-finance-pop", true},
		{"cn-north-2-gov-1", true},
		{"ap-northeast-2-pop", true},
		{"", false},
		{"hangzhou", false},
		{"CN-HANGZHOU", false},
		{"cn-hangzhou.", false},
		{"cn--hangzhou", false},
		{"-cn-hangzhou", false},
		{"cn-hangzhou-", false},
		{"1n-hangzhou", false},
		{"cn_hangzhou", false},
		{"x@127.0.0.1:8443/", false},
		{"cn-hangzhou.evil.example", false},
		{"cn-hangzhou/../x", false},
		{"cn-hangzhou\n", false},
		{"cn-hangzhou ", false},
		{"a-b-c-d-e-f", false},
		{"cn-" + strings.Repeat("a", 38), false},
	}
	for _, tc := range tests {
		if got := ValidRegionID(tc.id); got != tc.ok {
			t.Errorf("ValidRegionID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
	}
}

func TestRegions(t *testing.T) {
	rs, err := NewRegions("cn-hangzhou", " cn-shanghai ", "", "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if rs.String() != "cn-hangzhou, cn-shanghai" {
		t.Fatalf("regions %s", rs)
	}
	if _, err := NewRegions("cn-hangzhou", "rds.evil.example"); err == nil || !strings.Contains(err.Error(), `"rds.evil.example"`) {
		t.Fatalf("a bad id must be refused by name: %v", err)
	}
	if got := rs.With("x@evil/", "eu-central-1"); got.String() != "cn-hangzhou, cn-shanghai, eu-central-1" {
		t.Fatalf("With keeps only region ids: %s", got)
	}
	tests := []struct {
		field, region, code string
	}{
		{"RegionId", "", ""},
		{"RegionId", "cn-shanghai", ""},
		{"RegionId", "eu-central-1", CodeRegionNotAllowed},
		{"Select.RegionId", "x@127.0.0.1:8443/", CodeRegionFormat},
	}
	for _, tc := range tests {
		v := rs.Check(tc.field, tc.region)
		switch {
		case tc.code == "" && v != nil:
			t.Errorf("%s %q: %v", tc.field, tc.region, v)
		case tc.code != "" && (v == nil || v.Code != tc.code || v.Field != tc.field || v.HTTPStatus != 400):
			t.Errorf("%s %q: %+v, want %s on %s", tc.field, tc.region, v, tc.code, tc.field)
		}
	}
	if v := (Regions{}).Check("RegionId", "cn-hangzhou"); v == nil || v.Code != CodeRegionNotAllowed {
		t.Errorf("the zero set allows no explicit region: %v", v)
	}
	plan := Plan{Defaults: Spec{RegionId: "cn-shanghai"}, Backups: []Spec{{DBInstanceId: "rm-1"}}, Select: &Selector{RegionId: "us-east-1", Engine: "MySQL"}}
	if v := rs.CheckPlan(plan); v == nil || v.Field != "Select.RegionId" {
		t.Errorf("CheckPlan: %v", v)
	}
}

// ParsePlan refuses a Defaults or Select region that is not a region id
// (a backup's own RegionId is rule R10).
func TestParsePlanRegionGrammar(t *testing.T) {
	tests := []struct {
		body, field string
	}{
		{`{"Select":{"RegionId":"x@evil:1/","Engine":"MySQL"}}`, "Select.RegionId"},
		{`{"Defaults":{"RegionId":"evil.example"},"Backups":[{"DBInstanceId":"rm-1"}]}`, "Defaults.RegionId"},
	}
	for _, tc := range tests {
		_, err := ParsePlan([]byte(tc.body))
		v, ok := err.(*Violation)
		if !ok || v.Code != CodeRegionFormat || v.Field != tc.field {
			t.Errorf("%s: %v, want %s on %s", tc.body, err, CodeRegionFormat, tc.field)
		}
	}
	if _, err := ParsePlan([]byte(`{"Select":{"RegionId":"cn-shanghai","Engine":"MySQL"}}`)); err != nil {
		t.Errorf("a region id: %v", err)
	}
}

func TestClipAndQuote(t *testing.T) {
	if got := Clip("rm-ééé", 4); got != "rm-…" {
		t.Errorf("Clip cuts on a rune boundary: %q", got)
	}
	if got := Quote("a\nb"+strings.Repeat("x", 100), 8); got != `"a\nbxxxxx…"` {
		t.Errorf("Quote = %s", got)
	}
}

// FuzzRegionID: whatever a caller sends as a RegionId, what the grammar
// accepts is a region id and nothing that could change the host the SDK
// builds from it (rds.<RegionId>.aliyuncs.com).
func FuzzRegionID(f *testing.F) {
	for _, s := range []string{"cn-hangzhou", "cn-shanghai-finance-1", "x@127.0.0.1:8443/", "cn-hangzhou.evil.example", "CN-HANGZHOU", "a-b", "", "cn-\u0000", "cn-hangzhou/"} {
		f.Add(s)
	}
	rs := Regions{}.With("cn-hangzhou")
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidRegionID(s)
		v := rs.Check("RegionId", s)
		if !ok && s != "" && (v == nil || v.Code != CodeRegionFormat) {
			t.Fatalf("%q is not a region id but Check says %v", s, v)
		}
		if !ok {
			return
		}
		if len(s) > MaxRegionIdLen || strings.ContainsAny(s, "@:/.?#%\\[] \t\r\n") || strings.ToLower(s) != s {
			t.Fatalf("ValidRegionID(%q) = true", s)
		}
		host := "rds." + s + ".aliyuncs.com"
		u, err := url.Parse("https://" + host + "/")
		if err != nil || u.Hostname() != host || u.User != nil || u.Port() != "" {
			t.Fatalf("region %q makes the host %q (parsed %v, %v)", s, host, u, err)
		}
	})
}

// FuzzInstanceID: what the id grammar accepts has no comma, space, control,
// glob or upper-case character and is at most 64 bytes, so an allow-list
// pattern only ever matches a real id.
func FuzzInstanceID(f *testing.F) {
	for _, s := range []string{"rm-uf6wjk5xxxx", "pgm-bp1abc", "rm-demo-x,rm-prod-1", "rm-*", "rm-1 ", "RM-1", "r", "", "rm-\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidInstanceID(s)
		vs := Validate(Request{DBInstanceId: s})
		if ok && vs != nil {
			t.Fatalf("a valid id %q breaks a rule: %v", s, vs)
		}
		if !ok && (vs == nil || (vs.First().Code != CodeInstanceIdFormat && vs.First().Code != CodeRequiredParam)) {
			t.Fatalf("%q is not an id but Validate says %v", s, vs)
		}
		if ok && (len(s) > MaxInstanceIdLen || strings.ContainsAny(s, ",*?[]\\ \t\r\n") || strings.ToLower(s) != s || !utf8.ValidString(s)) {
			t.Fatalf("ValidInstanceID(%q) = true", s)
		}
		for _, v := range vs {
			if len(v.Message) > 600 { // the value is quoted clipped: 72 bytes, at most 4 characters each
				t.Fatalf("a message of %d bytes repeats the input", len(v.Message))
			}
		}
	})
}

// TestSelectGrammar: a Select's Engine is one of the API's engines and its
// tags keep Alibaba Cloud's tag limits; a refusal names the field and the
// rule and never repeats more than a clip of the input (issue 19).
func TestSelectGrammar(t *testing.T) {
	long := strings.Repeat("x", 60000)
	good := []string{
		`{"Select":{"Engine":"MySQL"}}`, `{"Select":{"Engine":"PostgreSQL"}}`, `{"Select":{"Engine":"SQLServer"}}`, `{"Select":{"Engine":"MariaDB"}}`,
		`{"Select":{"Tags":{"backup":"nightly"}}}`, `{"Select":{"Tags":{"team":""}}}`, `{"Select":{"Tags":{"` + strings.Repeat("k", 128) + `":"` + strings.Repeat("é", 128) + `"}}}`,
		`{"Select":{"Tags":{"env":"aliyun-prod"}}}`,
	}
	for _, body := range good {
		if _, err := ParsePlan([]byte(body)); err != nil {
			t.Errorf("%.80s: %v", body, err)
		}
	}
	bad := []struct{ body, field, rule string }{
		{`{"Select":{"Engine":"mysql"}}`, "Select.Engine", EngineRule},
		{`{"Select":{"Engine":"` + long + `"}}`, "Select.Engine", EngineRule},
		{`{"Select":{"Tags":{"":"a"}}}`, "Select.Tags", TagKeyRule},
		{`{"Select":{"Tags":{"aliyun-x":"a"}}}`, "Select.Tags", TagKeyRule},
		{`{"Select":{"Tags":{"acs:x":"a"}}}`, "Select.Tags", TagKeyRule},
		{`{"Select":{"Tags":{"a-http://x":"a"}}}`, "Select.Tags", TagKeyRule},
		{`{"Select":{"Tags":{"a\u0007":"a"}}}`, "Select.Tags", TagKeyRule},
		{`{"Select":{"Tags":{"` + strings.Repeat("k", 129) + `":"a"}}}`, "Select.Tags", TagKeyRule},
		{`{"Select":{"Tags":{"` + long + `":"a"}}}`, "Select.Tags", TagKeyRule},
		{`{"Select":{"Tags":{"a":"acs:x"}}}`, "Select.Tags", TagValueRule},
		{`{"Select":{"Tags":{"a":"see https://x"}}}`, "Select.Tags", TagValueRule},
		{`{"Select":{"Tags":{"a":"` + strings.Repeat("é", 129) + `"}}}`, "Select.Tags", TagValueRule},
		{`{"Select":{"Tags":{"a":"` + long + `"}}}`, "Select.Tags", TagValueRule},
		{`{"` + long + `":1}`, `"xxx`, "unknown field"},
		{`{"Backups":[{"` + long + `":1}]}`, `Backups[0]."xxx`, "unknown field"},
		{`{"Select":{"Engine":"MySQL","` + long + `":1}}`, `Select."xxx`, "unknown field"},
	}
	for _, tc := range bad {
		_, err := ParsePlan([]byte(tc.body))
		var v *Violation
		if !errors.As(err, &v) || !strings.HasPrefix(v.Field, tc.field) || !strings.Contains(v.Message, tc.rule) {
			t.Errorf("%.80s: %v, want a violation of %s naming %q", tc.body, err, tc.field, tc.rule)
			continue
		}
		if len(v.Message) > 400 || len(v.Field) > 100 || strings.Contains(v.Message, strings.Repeat("x", 100)) {
			t.Errorf("%.80s: the error repeats the input (%d bytes): %.200s", tc.body, len(v.Message), v.Message)
		}
	}
}

func TestFieldName(t *testing.T) {
	for in, want := range map[string]string{"Method": "Method", "": `""`, "a b": `"a b"`, "x\n": `"x\n"`,
		strings.Repeat("f", 65): `"` + strings.Repeat("f", 64) + `…"`} {
		if got := FieldName(in); got != want {
			t.Errorf("FieldName(%.70q) = %s, want %s", in, got, want)
		}
	}
}

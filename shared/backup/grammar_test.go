package backup

import (
	"strings"
	"testing"
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

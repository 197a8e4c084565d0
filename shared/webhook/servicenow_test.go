package webhook

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

// snowTableRoutes map a ServiceNow change_request record as the Table API
// returns it (GET /api/now/table/change_request/{sys_id}, without display
// values): {"result": {...}}, state "-1" being Implement.
const snowTableRoutes = `
routes:
  - name: snow-table
    source: token
    secretEnv: SNOW_TOKEN
    allow: ["rm-shop-*"]
    instances: /result/u_rds_instances
    askedAt: /result/sys_updated_on
    id: /result/sys_id
    when: {pointer: /result/state, equals: "-1"}
    maxAskAge: 2h
    backups:
      - {BackupMethod: Physical}
`

// The fixture's record: CHG0030047 in Implement, updated 2026-11-24
// 05:52:17 UTC (testNow is 06:00:00).
const (
	snowFixtureSysID   = "1c741bd70b2322007518478d83673af3"
	snowFixtureUpdated = "2026-11-24 05:52:17"
)

func snowTableHarness(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, snowTableRoutes, func(c *Config) {
		c.Secrets = maps.Clone(testSecrets)
		c.Secrets["SNOW_TOKEN"] = snowToken
	})
}

// snowRecord is the fixture, edited by edit, as JSON.
func snowRecord(t *testing.T, edit func(rec map[string]any)) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readFixture(t, "servicenow-change-request.json"), &doc); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(doc["result"].(map[string]any))
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// TestServiceNowRecordRoundTrip: the Table API's record maps to the ask
// its fields say (its sys_id, its sys_updated_on read as UTC, its
// u_rds_instances), and back: the ask's time written in ServiceNow's
// layout is the record's; the record re-encoded maps to the same ask.
func TestServiceNowRecordRoundTrip(t *testing.T) {
	routes, err := LoadRoutes([]byte(snowTableRoutes))
	if err != nil {
		t.Fatal(err)
	}
	raw := readFixture(t, "servicenow-change-request.json")
	ask, unmet, v := mapTokenBody(routes[0], raw)
	if v != nil || unmet != "" {
		t.Fatalf("the fixture: %v %q", v, unmet)
	}
	want := tokenAsk{ID: snowFixtureSysID, Instances: []string{"rm-shop-1", "rm-shop-2"}, AskedAt: time.Date(2026, 11, 24, 5, 52, 17, 0, time.UTC)}
	if !reflect.DeepEqual(ask, want) {
		t.Fatalf("ask %+v, want %+v", ask, want)
	}
	if got := ask.AskedAt.Format(ServiceNowTime); got != snowFixtureUpdated {
		t.Fatalf("askedAt written back %q, the record's %q", got, snowFixtureUpdated)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(doc)
	if ask2, _, v := mapTokenBody(routes[0], again); v != nil || !reflect.DeepEqual(ask2, ask) {
		t.Fatalf("re-encoded: %+v %v", ask2, v)
	}

	// Through the door: both instances accepted, asked at the record's time.
	hs := snowTableHarness(t)
	d := checkResponse(t, hs.h.Handle(context.Background(), tokenEvent("snow-table", "Bearer "+snowToken, string(raw))))
	if d.Status != 202 || len(d.entries()) != 2 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	for _, c := range hs.sub.Calls() {
		for _, r := range c.Reqs {
			if !r.AskedAt.Equal(want.AskedAt) || r.Trigger.DeliveryId != snowFixtureSysID || r.Trigger.Source != "snow-table" || r.BackupMethod != "Physical" {
				t.Fatalf("request %+v", r)
			}
		}
	}
}

// TestServiceNowRecordRefusals: a record whose time is in no accepted
// form is a 400 naming askedAt and the forms; a record in another state
// is ignored with the reason; an old one is ignored as too old.
func TestServiceNowRecordRefusals(t *testing.T) {
	set := func(k string, v any) func(map[string]any) { return func(rec map[string]any) { rec[k] = v } }
	for _, tc := range []struct {
		name   string
		edit   func(map[string]any)
		status int
		want   string // in the error message or the ignored reason
	}{
		{"no seconds", set("sys_updated_on", "2026-11-24 05:52"), 400, "askedAt"},
		{"day first", set("sys_updated_on", "24-11-2026 05:52:17"), 400, "askedAt"},
		{"a display value (the instance's zone and format)", set("sys_updated_on", "11/24/2026 01:52:17 PM"), 400, "askedAt"},
		{"a zone name", set("sys_updated_on", "2026-11-24 05:52:17 PST"), 400, "askedAt"},
		{"no such month", set("sys_updated_on", "2026-13-24 05:52:17"), 400, "askedAt"},
		{"T without a zone", set("sys_updated_on", "2026-11-24T05:52:17"), 400, "askedAt"},
		{"empty", set("sys_updated_on", ""), 400, "askedAt"},
		{"a boolean", set("sys_updated_on", true), 400, "askedAt"},
		{"a reference object", set("sys_updated_on", map[string]any{"value": snowFixtureUpdated}), 400, "askedAt"},
		{"null", set("sys_updated_on", nil), 400, "askedAt"},
		{"another state (Review)", set("state", "0"), 202, `when: "/result/state" is "0", not "-1" (route snow-table)`},
		{"three hours old", set("sys_updated_on", "2026-11-24 03:00:00"), 202, "older than the max ask age 2h"},
		{"an instance outside allow", set("u_rds_instances", "rm-shop-1, rm-billing1"), 403, "does not allow instance rm-billing1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := snowTableHarness(t)
			d := checkResponse(t, hs.h.Handle(context.Background(), tokenEvent("snow-table", "Bearer "+snowToken, snowRecord(t, tc.edit))))
			text := d.Raw
			if reason, ok := d.Body["reason"].(string); ok {
				text = reason
			}
			if d.Status != tc.status || !strings.Contains(text, tc.want) {
				t.Fatalf("%d %s, want %d with %q", d.Status, d.Raw, tc.status, tc.want)
			}
			if tc.status == 400 {
				msg, _ := d.Body["error"].(map[string]any)["message"].(string)
				if d.errField() != "askedAt" || !strings.Contains(msg, "/result/sys_updated_on") {
					t.Fatalf("field %q message %q", d.errField(), msg)
				}
				if tc.name != "null" && !strings.Contains(msg, "2026-11-24 06:00:00 (UTC)") {
					t.Fatalf("the message does not name the forms: %q", msg)
				}
			}
			if len(hs.sub.Calls()) != 0 {
				t.Fatal("nothing is submitted")
			}
		})
	}
}

// TestTokenTimeForms: the accepted forms of askedAt, each UTC.
func TestTokenTimeForms(t *testing.T) {
	want := time.Date(2026, 12, 7, 5, 13, 2, 0, time.UTC)
	for _, v := range []any{"2026-12-07 05:13:02", " 2026-12-07 05:13:02 ", "2026-12-07T05:13:02Z", "2026-12-07T13:13:02+08:00",
		json.Number("1796620382"), json.Number("1796620382000")} {
		got, err := tokenTime(v)
		if err != "" || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("tokenTime(%#v) = %v %q, want %v", v, got, err, want)
		}
	}
	for _, v := range []any{"2026-12-07 5:13:02", "2026-12-07  05:13:02", "2026/12/07 05:13:02", "2026-12-07 05:13:02.5", "1796620382"} {
		if _, err := tokenTime(v); err == "" {
			t.Errorf("tokenTime(%#v) accepted", v)
		}
	}
}

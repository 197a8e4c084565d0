package webhook

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzTokenBody: any body (and any pointer a route might hold) is mapped
// or refused, never a panic: an ask has a printable id of at most 200
// characters, a time, and at least one instance, sorted, without
// duplicates or blanks; a refusal names a field and, like an ignored
// delivery's reason, is bounded whatever the body holds; the mapping is
// deterministic (a retry is the same ask).
func FuzzTokenBody(f *testing.F) {
	for _, s := range []struct{ body, ptr string }{
		{snowBody(nil), "/u_rds_instances"},
		{snowBody(func(p map[string]any) { p["u_rds_instances"] = []string{"rm-b", "rm-a", "rm-b"} }), "/u_rds_instances"},
		{snowBody(func(p map[string]any) { p["state"] = "Assess" }), "/state"},
		{snowBody(func(p map[string]any) { p["sys_updated_on"] = 1795499000123 }), "/sys_updated_on"},
		{snowBody(func(p map[string]any) { p["sys_updated_on"] = "2026-11-24 05:52:17" }), "/sys_updated_on"},
		{snowBody(func(p map[string]any) { p["sys_updated_on"] = "2026-11-24 5:52:17.5" }), "/result/sys_id"},
		{`{"incident":{"id":"Q1","created_at":"2026-11-24T06:00:00Z","custom_details":{"rds/instances":["rm-pay-1"]}}}`, "/incident/custom_details/rds~1instances"},
		{`[1,[2,{"a":3}]]`, "/1/1/a"}, {`{"":{"~":1}}`, "//~0"}, {`"x"`, ""}, {`{`, "/"}, {`{} {}`, "/a~"}, {"{\"sys_id\":1e400}", "/0"},
	} {
		f.Add(s.body, s.ptr)
	}
	routes, err := LoadRoutes([]byte(tokenRoutes))
	if err != nil {
		f.Fatal(err)
	}
	snow := routes[0]
	f.Fuzz(func(t *testing.T, body, ptr string) {
		ask, unmet, v := mapTokenBody(snow, []byte(body))
		switch {
		case v != nil:
			if v.Field == "" || len(v.Message) > 600 {
				t.Fatalf("violation %+v", v)
			}
		case unmet != "":
			if len(unmet) > 600 {
				t.Fatalf("a %d-byte reason", len(unmet))
			}
		default:
			if ask.ID == "" || len(ask.ID) > maxTokenID || !printable(ask.ID) || ask.AskedAt.IsZero() || len(ask.Instances) == 0 {
				t.Fatalf("ask %+v", ask)
			}
			if !slices.IsSorted(ask.Instances) || len(slices.Compact(slices.Clone(ask.Instances))) != len(ask.Instances) {
				t.Fatalf("instances %q", ask.Instances)
			}
			for _, id := range ask.Instances {
				if strings.TrimSpace(id) != id || id == "" || strings.ContainsAny(id, ", ") {
					t.Fatalf("instance %q", id)
				}
			}
		}
		again, unmet2, v2 := mapTokenBody(snow, []byte(body))
		if !reflect.DeepEqual(again, ask) || unmet2 != unmet || !reflect.DeepEqual(v2, v) {
			t.Fatal("the mapping is not deterministic")
		}
		// Any pointer: refused by grammar, or resolved without a panic.
		if !validPointer(ptr) {
			return
		}
		var doc any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&doc) == nil {
			resolvePointer(doc, ptr)
		}
		r := snow
		r.Instances = ptr
		mapTokenBody(r, []byte(body))
	})
}

package plainjson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// asAny is v as encoding/json decodes into an any.
func asAny(v Value) any {
	switch v.Kind {
	case String:
		return v.Str
	case Array:
		out := []any{}
		for _, it := range v.Items {
			out = append(out, asAny(it))
		}
		return out
	case Object:
		out := map[string]any{}
		for i, k := range v.Keys {
			out[k] = asAny(v.Items[i])
		}
		return out
	}
	return nil
}

// agree fails t unless a plain answer is encoding/json's, value by value
// (every Raw decodes to its value too).
func agree(t *testing.T, data []byte) {
	t.Helper()
	v, ok := Parse(data)
	if !ok {
		return
	}
	var want any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("Parse(%q) is plain, encoding/json refuses it: %v", data, err)
	}
	if got := asAny(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%q) = %#v, encoding/json %#v", data, got, want)
	}
	var walk func(v Value)
	walk = func(v Value) {
		var w any
		if err := json.Unmarshal(v.Raw, &w); err != nil || !reflect.DeepEqual(asAny(v), w) {
			t.Fatalf("Raw %q of a value of %q: decodes to %#v (%v), the value is %#v", v.Raw, data, w, err, asAny(v))
		}
		for _, it := range v.Items {
			walk(it)
		}
	}
	walk(v)
}

func TestParsePlainDocuments(t *testing.T) {
	for _, doc := range []string{
		`{"routes":[{"name":"shop-prod","source":"github","environments":["production","prod-*"],"backups":[{"DBInstanceId":"rm-1","BackupMethod":"Physical"}],"when":null}]}`,
		` [ ] `,
		"{\n\t\"a\" : { } , \"b\":[ [], [\"x\"] ]\r\n}",
		`"héllo, 世界"`,
		`null`,
		`{}`,
	} {
		if _, ok := Parse([]byte(doc)); !ok {
			t.Errorf("Parse(%q): not plain, want plain", doc)
		}
		agree(t, []byte(doc))
	}
	v, _ := Parse([]byte(`{"b":"2","a":["1"]}`))
	if strings.Join(v.Keys, ",") != "b,a" {
		t.Errorf("keys %q, want the document's order b,a", v.Keys)
	}
	if a, ok := v.Get("a"); !ok || string(a.Raw) != `["1"]` {
		t.Errorf("Get(a) = %q, %v", a.Raw, ok)
	}
	if _, ok := v.Get("c"); ok {
		t.Error("Get(c) found a key the object does not have")
	}
}

// Whatever encoding/json reads with a meaning of its own (numbers, booleans,
// escapes, repeated keys, replaced bytes) or refuses is not plain.
func TestParseNotPlain(t *testing.T) {
	for _, doc := range []string{
		``, ` `, `1`, `-0`, `true`, `false`, `nul`, `nullx`,
		`"a\"b"`, `"a\u0041"`, `"tab	in"`, "\"\xff\"", `"unterminated`,
		`{"a":"1","a":"2"}`, `{"a":1}`, `{"a":true}`, `{a:"1"}`, `{"a" "1"}`, `{"a":"1",}`, `{"a":"1"`,
		`["a",]`, `["a" "b"]`, `[`, `[,]`, `{"a":"1"} x`, `{} {}`,
		strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2),
	} {
		if v, ok := Parse([]byte(doc)); ok {
			t.Errorf("Parse(%q) = %#v, plain; want not plain", doc, asAny(v))
		}
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if _, ok := Parse([]byte(deep)); !ok {
		t.Errorf("nesting of MaxDepth+1 levels (depth %d) is plain", MaxDepth)
	}
}

func FuzzParseAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"routes":[{"name":"a","allow":["rm-*"],"backups":[{"DBInstanceId":"rm-1"}]}]}`,
		`[{"a":[],"b":{}},null,"x"]`, `{"a":"1","a":"2"}`, `"\u00e9"`, `[1]`, " {\"k\" :\t\"v\" } ",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { agree(t, data) })
}

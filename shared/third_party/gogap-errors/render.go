// This file is not upstream's: see README.fc-rds-backup.md.

package errors

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
)

// tmpl is a parsed message template: text and actions {{.a}} or {{.a.B}}
// (a field path), the forms the templates of the Alibaba Cloud MNS SDK use.
// text/template is not used: its reflective method calls make the Go
// linker keep every exported method of every type in a binary.
type tmpl struct {
	parts []part
}

type part struct {
	text string
	path []string // an action's field path; nil for text
}

// parse reads src; any action but a field path is an error.
func parse(src string) (*tmpl, error) {
	t := &tmpl{}
	for len(src) > 0 {
		i := strings.Index(src, "{{")
		if i < 0 {
			t.parts = append(t.parts, part{text: src})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: src[:i]})
		}
		end := strings.Index(src[i:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("unclosed action in %q", src)
		}
		action := src[i+2 : i+end]
		path, ok := fieldPath(action)
		if !ok {
			return nil, fmt.Errorf("unsupported action {{%s}}: only {{.name}} and {{.name.Field}}", action)
		}
		t.parts = append(t.parts, part{path: path})
		src = src[i+end+2:]
	}
	return t, nil
}

// fieldPath reads ".a.B" (identifiers only).
func fieldPath(action string) ([]string, bool) {
	if !strings.HasPrefix(action, ".") {
		return nil, false
	}
	path := strings.Split(action[1:], ".")
	for _, id := range path {
		if id == "" {
			return nil, false
		}
		for k, r := range id {
			letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r > 0x7f
			if !letter && (k == 0 || r < '0' || r > '9') {
				return nil, false
			}
		}
	}
	return path, true
}

// execute writes t with data as text/template does for these actions: a
// missing or nil value prints "<no value>", a value prints as fmt.Fprint
// prints it, a field of a struct (or pointer to one) or a key of a map is
// followed by name.
func (t *tmpl) execute(buf *bytes.Buffer, data Params) error {
	for _, p := range t.parts {
		if p.path == nil {
			buf.WriteString(p.text)
			continue
		}
		v, err := lookup(data, p.path)
		if err != nil {
			return err
		}
		fmt.Fprint(buf, printable(v))
	}
	return nil
}

var (
	errorType       = reflect.TypeOf((*error)(nil)).Elem()
	fmtStringerType = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()
)

// printable is text/template's printableValue (Go's text/template/exec.go,
// BSD license) for the values these templates print: a pointer prints as
// what it points to, unless that has an Error or String method only
// through a pointer.
func printable(v reflect.Value) interface{} {
	if v.Kind() == reflect.Pointer {
		for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
			if v.IsNil() {
				break
			}
		}
	}
	if !v.IsValid() {
		return "<no value>"
	}
	if !v.Type().Implements(errorType) && !v.Type().Implements(fmtStringerType) &&
		v.CanAddr() && (reflect.PointerTo(v.Type()).Implements(errorType) || reflect.PointerTo(v.Type()).Implements(fmtStringerType)) {
		v = v.Addr()
	}
	return v.Interface()
}

func lookup(data Params, path []string) (reflect.Value, error) {
	v := reflect.ValueOf(data[path[0]])
	for _, name := range path[1:] {
		for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
			if v.IsNil() {
				return reflect.Value{}, fmt.Errorf("nil pointer evaluating %s.%s", v.Type(), name)
			}
			v = v.Elem()
		}
		switch {
		case !v.IsValid(): // a missing value has no fields: "<no value>"
			return v, nil
		case v.Kind() == reflect.Struct:
			f, ok := v.Type().FieldByName(name)
			if !ok || !f.IsExported() {
				return reflect.Value{}, fmt.Errorf("can't evaluate field %s in type %s", name, v.Type())
			}
			v = v.FieldByIndex(f.Index)
		case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
			v = v.MapIndex(reflect.ValueOf(name).Convert(v.Type().Key()))
		default:
			return reflect.Value{}, fmt.Errorf("can't evaluate field %s in type %s", name, v.Type())
		}
	}
	for v.IsValid() && v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}, nil
		}
		v = v.Elem()
	}
	return v, nil
}

package plainjson

import "unicode/utf8"

// Kind is the kind of a plain value.
type Kind uint8

// The kinds of plain values.
const (
	Null Kind = iota
	String
	Array
	Object
)

// MaxDepth is the deepest nesting Parse reads (deeper is not plain).
const MaxDepth = 32

// Value is a plain JSON value.
type Value struct {
	Kind Kind
	// Str is a String's content.
	Str string
	// Keys are an Object's keys, in the document's order (none twice).
	Keys []string
	// Items are an Object's values (Items[i] is Keys[i]'s) or an Array's
	// items.
	Items []Value
	// Raw is the value's bytes in the document (no surrounding space).
	Raw []byte
}

// Get is the value of key in an Object.
func (v Value) Get(key string) (Value, bool) {
	for i, k := range v.Keys {
		if k == key {
			return v.Items[i], true
		}
	}
	return Value{}, false
}

// Parse reads data as one plain JSON value (space around it allowed);
// ok is false when data is not plain or not JSON.
func Parse(data []byte) (v Value, ok bool) {
	p := parser{data: data}
	p.space()
	v, ok = p.value(0)
	if !ok {
		return Value{}, false
	}
	p.space()
	return v, p.i == len(p.data)
}

type parser struct {
	data []byte
	i    int
}

func (p *parser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (Value, bool) {
	if p.i >= len(p.data) || depth > MaxDepth {
		return Value{}, false
	}
	start := p.i
	switch p.data[p.i] {
	case '"':
		s, ok := p.str()
		return Value{Kind: String, Str: s, Raw: p.data[start:p.i]}, ok
	case 'n':
		if len(p.data)-p.i >= 4 && string(p.data[p.i:p.i+4]) == "null" {
			p.i += 4
			return Value{Kind: Null, Raw: p.data[start:p.i]}, true
		}
		return Value{}, false
	case '[':
		p.i++
		v := Value{Kind: Array, Items: []Value{}}
		if p.empty(']', start, &v) {
			return v, true
		}
		for {
			p.space()
			item, ok := p.value(depth + 1)
			if !ok {
				return Value{}, false
			}
			v.Items = append(v.Items, item)
			if done, ok := p.sep(']', start, &v); !ok {
				return Value{}, false
			} else if done {
				return v, true
			}
		}
	case '{':
		p.i++
		v := Value{Kind: Object}
		if p.empty('}', start, &v) {
			return v, true
		}
		for {
			p.space()
			if p.i >= len(p.data) || p.data[p.i] != '"' {
				return Value{}, false
			}
			k, ok := p.str()
			if !ok {
				return Value{}, false
			}
			for _, seen := range v.Keys {
				if seen == k { // encoding/json keeps the last: not plain
					return Value{}, false
				}
			}
			p.space()
			if p.i >= len(p.data) || p.data[p.i] != ':' {
				return Value{}, false
			}
			p.i++
			p.space()
			item, ok := p.value(depth + 1)
			if !ok {
				return Value{}, false
			}
			v.Keys = append(v.Keys, k)
			v.Items = append(v.Items, item)
			if done, ok := p.sep('}', start, &v); !ok {
				return Value{}, false
			} else if done {
				return v, true
			}
		}
	}
	return Value{}, false // a number, true, false or not JSON
}

// empty reads the closer of an empty array or object (after space), v's
// end.
func (p *parser) empty(closer byte, start int, v *Value) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == closer {
		p.i++
		v.Raw = p.data[start:p.i]
		return true
	}
	return false
}

// sep reads what follows an item: the closer ends v (done), a comma
// announces another item; anything else is not JSON (ok false).
func (p *parser) sep(closer byte, start int, v *Value) (done, ok bool) {
	p.space()
	if p.i >= len(p.data) {
		return false, false
	}
	c := p.data[p.i]
	p.i++
	switch c {
	case closer:
		v.Raw = p.data[start:p.i]
		return true, true
	case ',':
		return false, true
	}
	return false, false
}

// str reads a plain string at p.i (its opening quote).
func (p *parser) str() (string, bool) {
	p.i++
	start := p.i
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			s := p.data[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

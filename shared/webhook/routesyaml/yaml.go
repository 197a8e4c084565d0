package routesyaml

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Decode reads a YAML document into the values encoding/json marshals
// (maps with string keys, lists, strings, numbers, booleans; nil for an
// empty document). Its error is yaml.v3's, for webhook.LoadRoutes to wrap.
func Decode(data []byte) (any, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	return jsonValues(doc), nil
}

// jsonValues turns what yaml.v3 decodes into values encoding/json accepts.
func jsonValues(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonValues(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonValues(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = jsonValues(e)
		}
		return t
	}
	return v
}

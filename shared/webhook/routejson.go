package webhook

import (
	"encoding/json"

	"github.com/fc-rds-backup/fc-rds-backup/shared/plainjson"
)

// The routes are read once, at the webhook's start, before its first
// request, where encoding/json's first use costs more than the document.
// These read a field's value with shared/plainjson when it is plain (as
// most of a routes document is) and leave anything else to
// json.Unmarshal, which gives the answer and the error it always gave.

// decodeString is json.Unmarshal(raw, dst) for a string.
func decodeString(raw []byte, dst *string) error {
	if v, ok := plainjson.Parse(raw); ok && v.Kind == plainjson.String {
		*dst = v.Str
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// decodeStrings is json.Unmarshal(raw, dst) for a list of strings.
func decodeStrings(raw []byte, dst *[]string) error {
	if v, ok := plainjson.Parse(raw); ok && v.Kind == plainjson.Array {
		out := make([]string, 0, len(v.Items))
		for _, it := range v.Items {
			if it.Kind != plainjson.String {
				return json.Unmarshal(raw, dst)
			}
			out = append(out, it.Str)
		}
		*dst = out
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// decodeObject is json.Unmarshal(raw, &m) for an object's fields.
func decodeObject(raw []byte) (map[string]json.RawMessage, error) {
	if v, ok := plainjson.Parse(raw); ok && v.Kind == plainjson.Object {
		return rawFields(v), nil
	}
	var m map[string]json.RawMessage
	err := json.Unmarshal(raw, &m)
	return m, err
}

// Package plainjson reads the plain part of JSON: objects, arrays, null
// and strings without escapes or control characters, in valid UTF-8. It
// is for documents read once at a function's start (the webhook's routes),
// where encoding/json's first use (paging in its code, building its
// reflection of each type, one scan per call) costs more than the
// document: the common, well-formed document is read here in one pass,
// without reflection, and anything else — a number, true or false, an
// escape, a repeated key, nesting deeper than MaxDepth, bad JSON — is "not
// plain", so the caller reads it with encoding/json as before and reports
// what encoding/json reports. Parse never decides a document's meaning on
// its own: where it answers, encoding/json would have given the same
// values (FuzzParseAgreesWithEncodingJSON holds it to that).
package plainjson

// Package golden compares a test's output with a golden file, or rewrites
// the file when the test runs with its package's -update flag. Only tests
// import it.
package golden

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// JSON is v as indented JSON with a trailing newline, the golden files'
// form.
func JSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// Check fails t unless got equals the file at path. With update it first
// writes got to path. It returns the file's content.
func Check(t testing.TB, path string, got []byte, update bool) []byte {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (review the change, then rerun with -update)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
	return want
}

package golden

import (
	"os"
	"path/filepath"
	"testing"
)

type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden.json")
	got := JSON(t, map[string]int{"a": 1})
	if string(got) != "{\n  \"a\": 1\n}\n" {
		t.Fatalf("JSON = %q", got)
	}
	Check(t, path, got, true) // creates it
	if b, _ := os.ReadFile(path); string(b) != string(got) {
		t.Fatalf("update wrote %q", b)
	}
	r := &recorder{TB: t}
	Check(r, path, []byte("{}\n"), false)
	if !r.failed {
		t.Fatal("a differing output passed")
	}
	r = &recorder{TB: t}
	Check(r, path, got, false)
	if r.failed {
		t.Fatal("an equal output failed")
	}
}

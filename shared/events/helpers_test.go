package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/golden"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden/events")

// fixtureDir holds the repository's sample events (testdata/events).
var fixtureDir = filepath.Join("..", "..", "testdata", "events")

// goldenDir holds the reviewed normalized output of each fixture.
var goldenDir = filepath.Join("..", "..", "testdata", "golden", "events")

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares v, as indented JSON, with goldenDir/name.golden.json
// (rewritten under -update).
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	golden.Check(t, filepath.Join(goldenDir, name+".golden.json"), golden.JSON(t, v), *update)
}

// assertJSONEq fails unless a and b are the same JSON value.
func assertJSONEq(t *testing.T, a, b []byte) {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("second: %v", err)
	}
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	if !bytes.Equal(ca, cb) {
		t.Errorf("JSON differs:\n%s\n%s", ca, cb)
	}
}

// errorView is how a golden file shows an error.
type errorView struct {
	Code    string `json:"code,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func viewError(err error) *errorView {
	if err == nil {
		return nil
	}
	var v *backup.Violation
	if errors.As(err, &v) {
		return &errorView{Code: v.Code, Field: v.Field, Message: err.Error()}
	}
	return &errorView{Message: err.Error()}
}

// violation returns the *backup.Violation inside err, failing the test when
// there is none.
func violation(t testing.TB, err error) *backup.Violation {
	t.Helper()
	var v *backup.Violation
	if !errors.As(err, &v) {
		t.Fatalf("err = %v, want a *backup.Violation inside", err)
	}
	return v
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// checkIDs asserts the id invariants of normalized requests.
func checkIDs(t testing.TB, reqs []backup.Request, kind string) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range reqs {
		if !hex32.MatchString(r.IdempotencyKey) {
			t.Fatalf("IdempotencyKey %q is not 32 hex digits", r.IdempotencyKey)
		}
		if r.CorrelationId != r.IdempotencyKey[:16] {
			t.Fatalf("CorrelationId %q is not the key's first 16 digits (%q)", r.CorrelationId, r.IdempotencyKey)
		}
		if r.Trigger.Kind != kind {
			t.Fatalf("Trigger.Kind = %q, want %q", r.Trigger.Kind, kind)
		}
		if seen[r.IdempotencyKey] {
			t.Fatalf("duplicate IdempotencyKey %q", r.IdempotencyKey)
		}
		seen[r.IdempotencyKey] = true
	}
}

// assertRoundTrip decodes each fixture with parse, encodes the result again
// and requires the same JSON: the wire types keep every field.
func assertRoundTrip[T any](t *testing.T, fixtures []string, parse func([]byte) (T, error)) {
	t.Helper()
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			in := readFixture(t, name)
			ev, err := parse(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			assertJSONEq(t, in, out)
		})
	}
}

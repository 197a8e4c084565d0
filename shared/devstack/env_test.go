package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEnvFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(file, []byte("# comment\n\nA=1\nexport B=two words\n  C=x=y  \nD=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	load := envFlags(fs, "test")
	if err := fs.Parse([]string{"--env", "A=3", "--env-file", file, "--env", "E=5"}); err != nil {
		t.Fatal(err)
	}
	got, err := load()
	if err != nil {
		t.Fatal(err)
	}
	// The file first, then each --env: a later A wins in the process.
	want := []string{"A=1", "B=two words", "C=x=y", "D=", "A=3", "E=5"}
	if !slices.Equal(got, want) {
		t.Errorf("env %q, want %q", got, want)
	}
}

func TestEnvFlagsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("A=1\nnot a pair\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--env", "NOEQUALS"}, `--env "NOEQUALS": want KEY=VALUE`},
		{[]string{"--env", "=x"}, `--env "=x": "" is not a variable name`},
		{[]string{"--env-file", bad}, bad + ":2: want KEY=VALUE"},
		{[]string{"--env-file", filepath.Join(dir, "missing")}, "--env-file: open"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		load := envFlags(fs, "test")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if _, err := load(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

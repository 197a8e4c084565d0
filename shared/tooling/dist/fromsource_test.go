package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// upstreamGogapSum are go.sum's lines for github.com/gogap/errors itself,
// which go.mod replaces with shared/third_party/gogap-errors (the MNS SDK's
// messages without text/template: function binaries half the size).
const upstreamGogapSum = `github.com/gogap/errors v0.0.0-20210818113853-edfbba0ddea9 h1:qvGIRaCYFKkyFK9SgRXJCc/lmQCeeg2cl3mwBKQd5W0=
github.com/gogap/errors v0.0.0-20210818113853-edfbba0ddea9/go.mod h1:tbRYYYC7g/H7QlCeX0Z2zaThWKowF4QQCFIsGgAsqRo=
`

// A from-source install builds the client inside the module as the Go
// module proxy serves it, which leaves out shared/third_party/gogap-errors
// (a folder with a go.mod of its own is never in a module's download). So
// it builds with shared/integrations/from-source.go.mod: go.mod without
// that replace, and go.sum with the upstream module's lines. This keeps
// the two in step with go.mod (-update rewrites them) and builds the client
// with them.
func TestFromSourceModfile(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string // go.mod without the replace and the comment above it
	replaced := false
	for _, l := range strings.SplitAfter(string(mod), "\n") {
		if strings.HasPrefix(l, "replace github.com/gogap/errors => ./shared/third_party/gogap-errors") {
			replaced = true
			for len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], "//") {
				lines = lines[:len(lines)-1]
			}
			continue
		}
		lines = append(lines, l)
	}
	var wantMod bytes.Buffer
	wantMod.WriteString(strings.Join(lines, ""))
	if !replaced {
		t.Fatal("go.mod does not replace github.com/gogap/errors with ./shared/third_party/gogap-errors: update this test and the from-source modfile")
	}
	wantSum := string(sum) + upstreamGogapSum
	if strings.Contains(string(sum), "github.com/gogap/errors ") {
		wantSum = string(sum)
	}
	modPath := filepath.Join(root, "shared", "integrations", "from-source.go.mod")
	sumPath := filepath.Join(root, "shared", "integrations", "from-source.go.sum")
	gotMod, _ := os.ReadFile(modPath)
	gotSum, _ := os.ReadFile(sumPath)
	if string(gotMod) != strings.TrimRight(wantMod.String(), "\n")+"\n" || string(gotSum) != wantSum {
		if !*update {
			t.Fatal("shared/integrations/from-source.go.mod or .sum is not go.mod without the gogap/errors replace (and go.sum with its lines): go test ./shared/tooling/dist -run TestFromSourceModfile -update")
		}
		if err := os.WriteFile(modPath, []byte(strings.TrimRight(wantMod.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sumPath, []byte(wantSum), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("rewrote", modPath, "and", sumPath)
	}
	cmd := exec.Command("go", "build", "-modfile=shared/integrations/from-source.go.mod", "-o", filepath.Join(t.TempDir(), "rdsbackup"), "./shared/cmd/rdsbackup")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the client does not build with the from-source modfile: %v\n%s", err, out)
	}
}

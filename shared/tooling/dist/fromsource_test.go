package main

import (
	"bytes"
	"encoding/json"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A fork is a module go.mod replaces with a folder of shared/third_party:
// upstream at version, but for the files in changed (edited or added) and
// the upstream .go files in left (left out). sum are go.sum's lines for the
// upstream module, which a from-source install needs.
type fork struct {
	module, version, dir string
	changed, left        []string
	sum                  string
}

var forks = []fork{
	{
		// The MNS SDK's messages rendered without text/template: function
		// binaries half the size.
		module: "github.com/gogap/errors", version: "v0.0.0-20210818113853-edfbba0ddea9", dir: "gogap-errors",
		changed: []string{"error_tmpl.go", "render.go"},
		sum: `github.com/gogap/errors v0.0.0-20210818113853-edfbba0ddea9 h1:qvGIRaCYFKkyFK9SgRXJCc/lmQCeeg2cl3mwBKQd5W0=
github.com/gogap/errors v0.0.0-20210818113853-edfbba0ddea9/go.mod h1:tbRYYYC7g/H7QlCeX0Z2zaThWKowF4QQCFIsGgAsqRo=
`,
	},
	{
		// No encoding/gob, whose init cost every cold start 0.3 ms.
		module: "github.com/clbanning/mxj/v2", version: "v2.5.5", dir: "mxj",
		left: []string{"gob.go"},
		sum: `github.com/clbanning/mxj/v2 v2.5.5 h1:oT81vUeEiQQ/DcHbzSytRngP6Ky9O+L+0Bw0zSJag9E=
github.com/clbanning/mxj/v2 v2.5.5/go.mod h1:hNiWqW14h+kc+MdF9C6/YoRfjEJoR3ou6tn/Qo+ve2s=
`,
	},
}

// A from-source install builds the client inside the module as the Go
// module proxy serves it, which leaves out the folders of
// shared/third_party (a folder with a go.mod of its own is never in a
// module's download). So it builds with
// shared/integrations/from-source.go.mod: go.mod without those replaces,
// and go.sum with the upstream modules' lines. This keeps the two in step
// with go.mod (-update rewrites them) and builds the client with them.
func TestFromSourceModfile(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string // go.mod without the replaces and the comments above them
	replaced := map[string]bool{}
	wantSum := string(sum)
	for _, l := range strings.SplitAfter(string(mod), "\n") {
		if f, ok := forkReplace(l); ok {
			replaced[f.module] = true
			for len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], "//") {
				lines = lines[:len(lines)-1]
			}
			if !strings.Contains(wantSum, f.module+" ") {
				wantSum += f.sum
			}
			continue
		}
		if strings.Contains(l, "./shared/third_party/") {
			t.Fatalf("go.mod replaces a module with a folder this test does not know: add it to forks (%s)", strings.TrimSpace(l))
		}
		lines = append(lines, l)
	}
	for _, f := range forks {
		if !replaced[f.module] {
			t.Fatalf("go.mod does not replace %s with ./shared/third_party/%s: update this test and the from-source modfile", f.module, f.dir)
		}
	}
	wantMod := strings.TrimRight(strings.Join(lines, ""), "\n") + "\n"
	modPath := filepath.Join(root, "shared", "integrations", "from-source.go.mod")
	sumPath := filepath.Join(root, "shared", "integrations", "from-source.go.sum")
	gotMod, _ := os.ReadFile(modPath)
	gotSum, _ := os.ReadFile(sumPath)
	if string(gotMod) != wantMod || string(gotSum) != wantSum {
		if !*update {
			t.Fatal("shared/integrations/from-source.go.mod or .sum is not go.mod without the shared/third_party replaces (and go.sum with their upstream lines): go test ./shared/tooling/dist -run TestFromSourceModfile -update")
		}
		if err := os.WriteFile(modPath, []byte(wantMod), 0o644); err != nil {
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

// forkReplace is the fork a go.mod line replaces, if it is one.
func forkReplace(line string) (fork, bool) {
	for _, f := range forks {
		if strings.TrimSpace(line) == "replace "+f.module+" => ./shared/third_party/"+f.dir {
			return f, true
		}
	}
	return fork{}, false
}

// Each fork is upstream (gofmt'd) but for the changes its
// README.fc-rds-backup.md names: a file edited by mistake, or a left-out
// file brought back, fails here. Upstream comes from the Go module proxy.
func TestThirdPartyForksAreUpstream(t *testing.T) {
	for _, f := range forks {
		t.Run(f.dir, func(t *testing.T) {
			out, err := exec.Command("go", "mod", "download", "-json", f.module+"@"+f.version).Output()
			if err != nil {
				t.Fatalf("go mod download %s@%s: %v", f.module, f.version, err)
			}
			var dl struct{ Dir string }
			if err := json.Unmarshal(out, &dl); err != nil || dl.Dir == "" {
				t.Fatalf("go mod download %s@%s: no folder (%v): %s", f.module, f.version, err, out)
			}
			dir := filepath.Join(root, "shared", "third_party", f.dir)
			ours, err := filepath.Glob(filepath.Join(dir, "*.go"))
			if err != nil || len(ours) == 0 {
				t.Fatalf("no .go files in %s (%v)", dir, err)
			}
			for _, p := range ours {
				name := filepath.Base(p)
				if slices.Contains(f.changed, name) {
					continue
				}
				up, err := os.ReadFile(filepath.Join(dl.Dir, name))
				if err != nil {
					t.Errorf("%s is not upstream's (%v): name it among the fork's changes", name, err)
					continue
				}
				if up, err = format.Source(up); err != nil {
					t.Fatalf("gofmt upstream %s: %v", name, err)
				}
				if got, _ := os.ReadFile(p); !bytes.Equal(got, up) {
					t.Errorf("%s differs from upstream's %s (gofmt'd)", name, f.version)
				}
			}
			ups, _ := filepath.Glob(filepath.Join(dl.Dir, "*.go"))
			for _, p := range ups {
				name := filepath.Base(p)
				if strings.HasSuffix(name, "_test.go") {
					continue
				}
				_, err := os.Stat(filepath.Join(dir, name))
				switch left := slices.Contains(f.left, name); {
				case left && err == nil:
					t.Errorf("%s is back in shared/third_party/%s, which leaves it out", name, f.dir)
				case !left && err != nil:
					t.Errorf("upstream's %s is missing from shared/third_party/%s (%v)", name, f.dir, err)
				}
			}
			for _, name := range []string{"LICENSE", "go.mod"} {
				up, err := os.ReadFile(filepath.Join(dl.Dir, name))
				if name == "go.mod" && os.IsNotExist(err) {
					// Upstream predates modules; a replacement folder needs one.
					up = []byte("module " + f.module + "\n")
				}
				if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, up) {
					t.Errorf("%s is not upstream's (%v)", name, err)
				}
			}
		})
	}
}

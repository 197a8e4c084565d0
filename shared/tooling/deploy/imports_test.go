package deploy

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/fc-rds-backup/fc-rds-backup"

func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	return goList(t, append([]string{"-deps"}, pkgs...)...)
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// DESIGN.md §8: nothing that never ships (the local cloud, its entry point
// devstack, repository tooling) is linked into a deployed binary. The rule is
// one prefix per wing, so a new emulator or tool is covered without a list.
func TestFunctionsDoNotShipTheLocalCloud(t *testing.T) {
	for _, d := range deps(t, "./functions/...") {
		for _, wing := range []string{"/shared/localcloud", "/shared/tooling", "/shared/devstack"} {
			if d == module+wing || strings.HasPrefix(d, module+wing+"/") {
				t.Errorf("a function binary links %s", d)
			}
		}
	}
}

// DESIGN.md §8: the domain does no I/O and knows no SDK, trigger or queue.
func TestDomainImportsNoAdapter(t *testing.T) {
	// Nothing outside the standard library, transitively, but the leaves
	// named here: packages of ours that are pure functions over bytes and
	// themselves import only the standard library.
	leaves := []string{module + "/shared/plainjson"}
	for _, d := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./shared/backup") {
		if d != module+"/shared/backup" && !slices.Contains(leaves, d) {
			t.Errorf("shared/backup depends on %s", d)
		}
	}
	for _, leaf := range leaves {
		for _, d := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", leaf) {
			if d != leaf {
				t.Errorf("%s, a leaf the domain may import, depends on %s", leaf, d)
			}
		}
		noIO(t, leaf)
	}
	// And no I/O package directly.
	noIO(t, "./shared/backup")
}

// noIO fails t if pkg imports an I/O package directly.
func noIO(t *testing.T, pkg string) {
	t.Helper()
	for _, d := range goList(t, "-f", `{{join .Imports "\n"}}`, pkg) {
		for _, io := range []string{"net", "net/http", "os", "os/exec", "io/fs", "database/sql"} {
			if d == io {
				t.Errorf("%s imports %s (the domain does no I/O)", pkg, d)
			}
		}
	}
}

// DESIGN.md §8: the emulators are an independent oracle: they import
// nothing of the product, not even the domain's rule table. Only the local
// cloud's own packages are allowed.
func TestEmulatorsImportNothingOfTheProduct(t *testing.T) {
	for _, emu := range []string{"rds", "mns", "fc", "auth", "sts", "tablestore", "emukit"} {
		for _, d := range goList(t, "-deps", "-test", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./shared/localcloud/"+emu) {
			if !strings.HasPrefix(d, module+"/") {
				continue
			}
			if strings.HasPrefix(d, module+"/shared/localcloud/") || strings.HasPrefix(d, module+"/shared/tooling/testutil/") {
				continue
			}
			t.Errorf("shared/localcloud/%s imports %s (emulators must not share code with the product)", emu, d)
		}
	}
	// What the emulators share imports only the standard library.
	for _, d := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./shared/localcloud/emukit") {
		if d != module+"/shared/localcloud/emukit" {
			t.Errorf("shared/localcloud/emukit imports %s (only the standard library)", d)
		}
	}
}

// DESIGN.md §8 (composition): shared/app is the functions' composition
// root and nothing but a function's main imports it. Its parts each hold
// one piece of the invocation's work and take the invocation's clients as
// values: they never import shared/app, and the lower ones import none
// of the higher (settle and accounts know no plan run, no follow-up and
// no admission; admission knows plan runs only for which Select runs in
// parallel steps), so the parts stay apart from how they are wired.
func TestCompositionRootImportedOnlyByFunctions(t *testing.T) {
	for _, line := range goList(t, "-f", `{{.ImportPath}}:{{join .Imports ","}}`, "./...") {
		pkg, imports, _ := strings.Cut(line, ":")
		if pkg == module+"/shared/app" || strings.HasPrefix(pkg, module+"/functions/") {
			continue
		}
		for _, d := range strings.Split(imports, ",") {
			if d == module+"/shared/app" {
				t.Errorf("%s imports shared/app (only functions/<name> may: it is the composition)", pkg)
			}
		}
	}
	// The parts and what each may not import (besides shared/app).
	parts := map[string][]string{
		"accounts": {"settle", "planrun", "reask", "admit", "report"},
		"settle":   {"accounts", "planrun", "reask", "admit", "report"},
		"report":   {"accounts", "settle", "planrun", "reask", "admit"},
		"planrun":  {"accounts", "reask", "admit", "report"},
		"reask":    {"accounts", "planrun", "admit", "report"},
		"admit":    {"accounts", "reask", "report"},
	}
	for part, not := range parts {
		for _, d := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./shared/"+part) {
			for _, n := range append(not, "app") {
				if d == module+"/shared/"+n {
					t.Errorf("shared/%s depends on shared/%s", part, n)
				}
			}
		}
	}
}

// Packages that cost every cold start, each with why it is kept out:
//   - text/template calls methods by name through reflection, so a binary
//     that links its executor keeps every exported method of every type:
//     the functions' binaries doubled (23 MB, not 12) and each cold start
//     paid for it. The MNS SDK's error package brought it in; go.mod
//     replaces that package with shared/third_party/gogap-errors, which
//     renders the SDK's messages without it (shared/mnsq holds them to
//     text/template's).
//   - encoding/gob's package initialization builds its type tables (429
//     allocations, about 0.3 ms). mxj, which the RDS SDK reaches through
//     tea-xml, brought it in for two functions nothing calls; go.mod
//     replaces it with shared/third_party/mxj, upstream without them.
func TestFunctionsDoNotLinkCostlyPackages(t *testing.T) {
	costly := []string{"text/template", "encoding/gob"}
	for _, d := range deps(t, "./functions/...") {
		if slices.Contains(costly, d) {
			t.Errorf("a function binary links %s again (go list -deps ./functions/... names who imports it)", d)
		}
	}
}

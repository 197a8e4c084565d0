package deploy

import (
	"os/exec"
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

// DESIGN.md §8: emulators never ship inside a deployed binary.
func TestFunctionsDoNotShipTheLocalCloud(t *testing.T) {
	for _, d := range deps(t, "./functions/...") {
		for _, local := range []string{"rdstest", "mnstest", "fctest", "devstack", "localcloud", "localauth"} {
			if d == module+"/shared/"+local {
				t.Errorf("a function binary links %s", d)
			}
		}
	}
}

// DESIGN.md §8: the domain does no I/O and knows no SDK, trigger or queue.
func TestDomainImportsNoAdapter(t *testing.T) {
	// Nothing outside the standard library, transitively.
	for _, d := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./shared/backup") {
		if d != module+"/shared/backup" {
			t.Errorf("shared/backup depends on %s", d)
		}
	}
	// And no I/O package directly.
	for _, d := range goList(t, "-f", `{{join .Imports "\n"}}`, "./shared/backup") {
		for _, io := range []string{"net", "net/http", "os", "os/exec", "io/fs", "database/sql"} {
			if d == io {
				t.Errorf("shared/backup imports %s (the domain does no I/O)", d)
			}
		}
	}
}

// DESIGN.md §8: the emulators share the domain's rule table and nothing
// else of the product.
func TestEmulatorsUseOnlyTheDomain(t *testing.T) {
	for _, emu := range []string{"rdstest", "mnstest", "fctest"} {
		for _, d := range deps(t, "./shared/"+emu) {
			if !strings.HasPrefix(d, module+"/shared/") {
				continue
			}
			name := strings.TrimPrefix(d, module+"/shared/")
			switch name {
			case emu, "backup", "localauth":
			default:
				t.Errorf("shared/%s imports shared/%s", emu, name)
			}
		}
	}
}

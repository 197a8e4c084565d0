package readme

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

var update = flag.Bool("update", false, "rewrite the generated sections of README.md")

const path = "../../../README.md"

// The documents other packages keep true with their own tests (OUTCOMES.md
// against the golden events, ROUTES.md against the route loader, RAM.md
// against policy.json); the README shows them verbatim.
const (
	outcomesDoc = "../../notify/OUTCOMES.md"
	goldenDir   = "../../notify/testdata"
	routesDoc   = "../../webhook/ROUTES.md"
	ramDoc      = "../rampolicy/RAM.md"
)

// sections maps a marker name to what the code renders for it.
func sections(t *testing.T) map[string]string {
	return map[string]string{
		"rules":    backup.RulesMarkdown(),
		"config":   config.Markdown(),
		"retry":    retry.ClassTableMarkdown(),
		"outcomes": outcomesMarkdown(t),
		"routes":   file(t, routesDoc),
		"ram":      file(t, ramDoc),
	}
}

// file returns a document, ending in exactly one newline.
func file(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n") + "\n"
}

var exampleRE = regexp.MustCompile("(?s)<!-- example:([a-z]+) -->\n```json\n.*?```\n<!-- /example -->")

// outcomesMarkdown is OUTCOMES.md with every example taken from its golden
// file (what notify.BuildEvent produces, shared/notify/testdata) and folded
// into a <details> block, so the README's examples cannot drift from the
// code even when OUTCOMES.md has not been regenerated yet.
func outcomesMarkdown(t *testing.T) string {
	t.Helper()
	seen := map[string]bool{}
	out := exampleRE.ReplaceAllStringFunc(file(t, outcomesDoc), func(block string) string {
		status := exampleRE.FindStringSubmatch(block)[1]
		seen[status] = true
		golden := file(t, filepath.Join(goldenDir, status+".golden.json"))
		return "<details><summary><code>rds.backup." + status + "</code> example</summary>\n\n```json\n" + golden + "```\n\n</details>"
	})
	for _, st := range backup.Statuses {
		if !seen[string(st)] {
			t.Errorf("%s has no <!-- example:%s --> block", outcomesDoc, st)
		}
	}
	return out
}

func TestGeneratedSectionsMatchCode(t *testing.T) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for name, want := range sections(t) {
		re := regexp.MustCompile(`(?s)(<!-- ` + name + `:begin -->\n)(.*?)(<!-- ` + name + `:end -->)`)
		m := re.FindStringSubmatch(readme)
		if m == nil {
			t.Errorf("README.md has no <!-- %s:begin --> ... <!-- %s:end --> section", name, name)
			continue
		}
		if *update {
			readme = strings.Replace(readme, m[0], m[1]+want+m[3], 1)
			continue
		}
		if m[2] != want {
			t.Errorf("README.md section %q is out of date with the code; run: go test ./shared/tooling/readme -update", name)
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRuleTableListsEveryRuleOnce(t *testing.T) {
	b, _ := os.ReadFile(path)
	for _, r := range backup.Rules {
		if n := strings.Count(string(b), "| "+r.ID+" | "); n != 1 {
			t.Errorf("rule %s appears %d times in README.md", r.ID, n)
		}
	}
}

package readme

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
)

var update = flag.Bool("update", false, "rewrite the generated sections of README.md")

const path = "../../README.md"

// sections maps a marker name to what the code renders for it.
func sections(t *testing.T) map[string]string {
	return map[string]string{
		"rules":  backup.RulesMarkdown(),
		"config": config.Markdown(),
	}
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
			t.Errorf("README.md section %q is out of date with the code; run: go test ./shared/readme -update", name)
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

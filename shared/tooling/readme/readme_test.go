package readme

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/fc-rds-backup/fc-rds-backup/shared/app"
	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

var update = flag.Bool("update", false, "rewrite the generated sections of README.md and docs/")

// root is the repository, from this package's directory.
const root = "../../.."

// maxReadmeLines is what a platform engineer reads in ten minutes; the rest
// lives in docs/.
const maxReadmeLines = 400

// The documents other packages keep true with their own tests (OUTCOMES.md
// against the golden events, ROUTES.md against the route loader, RAM.md
// against policy.json); the docs show them verbatim.
const (
	outcomesDoc = "../../notify/OUTCOMES.md"
	goldenDir   = "../../notify/testdata"
	routesDoc   = "../../webhook/ROUTES.md"
	ramDoc      = "../rampolicy/RAM.md"
)

// section is one generated section: the file (relative to the repository)
// it lives in, what the code renders for it, and the same-page anchors of
// its source that live in another file once it is placed (an anchor of the
// README, say, in a section shown under docs/).
type section struct {
	file   string
	render func(t *testing.T) string
	relink map[string]string
}

// sections maps a marker name to where it lives and what the code renders
// for it.
var sections = map[string]section{
	"rules":       {file: "docs/validation-and-retries.md", render: func(*testing.T) string { return backup.RulesMarkdown() }},
	"retry":       {file: "docs/validation-and-retries.md", render: func(*testing.T) string { return retry.ClassTableMarkdown() }},
	"config":      {file: "README.md", render: func(*testing.T) string { return config.Markdown() }},
	"fleetconfig": {file: "docs/fleets.md", render: func(*testing.T) string { return config.FleetMarkdown() }},
	"outcomes":    {file: "docs/outcomes.md", render: outcomesMarkdown},
	"logs":        {file: "docs/logs.md", render: func(*testing.T) string { return app.LogFieldsMarkdown() }},
	"routes":      {file: "docs/webhooks.md", render: func(t *testing.T) string { return file(t, routesDoc) }},
	"ram": {file: "docs/ram-policy.md", render: func(t *testing.T) string { return file(t, ramDoc) },
		relink: map[string]string{"#deploy": "../README.md#deploy", "../../../docs/fleets.md": "fleets.md"}},
}

// want is what section name must hold, its same-page links to other files
// rewritten.
func (s section) want(t *testing.T) string {
	out := s.render(t)
	for from, to := range s.relink {
		out = strings.ReplaceAll(out, "]("+from+")", "]("+to+")")
	}
	return out
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
// into a <details> block, so the docs' examples cannot drift from the
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

// docs returns README.md and every docs/*.md, relative to the repository.
func docs(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, n := range names {
		rel, _ := filepath.Rel(root, n)
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func markerRE(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)(<!-- ` + regexp.QuoteMeta(name) + `:begin -->\n)(.*?)(<!-- ` + regexp.QuoteMeta(name) + `:end -->)`)
}

func TestGeneratedSectionsMatchCode(t *testing.T) {
	byFile := map[string][]string{}
	for name, s := range sections {
		byFile[s.file] = append(byFile[s.file], name)
	}
	for rel, names := range byFile {
		sort.Strings(names)
		text := read(t, rel)
		for _, name := range names {
			m := markerRE(name).FindStringSubmatch(text)
			if m == nil {
				t.Errorf("%s has no <!-- %s:begin --> ... <!-- %s:end --> section", rel, name, name)
				continue
			}
			want := sections[name].want(t)
			if *update {
				text = strings.Replace(text, m[0], m[1]+want+m[3], 1)
				continue
			}
			if m[2] != want {
				t.Errorf("%s section %q is out of date with the code; run: go test ./shared/tooling/readme -update", rel, name)
			}
		}
		if *update {
			if err := os.WriteFile(filepath.Join(root, rel), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Each generated section has one home: no other document carries a copy
// that nothing would keep in step.
func TestGeneratedSectionsLiveOnce(t *testing.T) {
	for _, rel := range docs(t) {
		text := read(t, rel)
		for name, s := range sections {
			if n := strings.Count(text, "<!-- "+name+":begin -->"); rel != s.file && n > 0 {
				t.Errorf("%s has a copy of the generated section %q, which lives in %s", rel, name, s.file)
			} else if rel == s.file && n != 1 {
				t.Errorf("%s has %d <!-- %s:begin --> markers, want 1", rel, n, name)
			}
		}
	}
}

func TestRuleTableListsEveryRuleOnce(t *testing.T) {
	var all strings.Builder
	for _, rel := range docs(t) {
		all.WriteString(read(t, rel))
	}
	for _, r := range backup.Rules {
		if n := strings.Count(all.String(), "| "+r.ID+" | "); n != 1 {
			t.Errorf("rule %s appears %d times in README.md and docs/", r.ID, n)
		}
	}
}

func TestReadmeIsShort(t *testing.T) {
	if n := strings.Count(read(t, "README.md"), "\n"); n > maxReadmeLines {
		t.Errorf("README.md has %d lines, at most %d: move detail to docs/", n, maxReadmeLines)
	}
}

var (
	fenceRE   = regexp.MustCompile("(?ms)^[ \t]*```.*?^[ \t]*```[^\n]*$")
	headingRE = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$`)
	linkRE    = regexp.MustCompile(`\]\(([^()\s]*)\)`)
	schemeRE  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// withoutCode blanks fenced code blocks, whose lines are neither headings
// nor links.
func withoutCode(text string) string {
	return fenceRE.ReplaceAllString(text, "")
}

// slug is GitHub's anchor for a heading: lowercase, markup and punctuation
// other than '-' and '_' dropped, spaces turned into '-'.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the heading anchors of a document, with GitHub's -1, -2
// suffixes for repeated headings.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	count := map[string]int{}
	for _, m := range headingRE.FindAllStringSubmatch(withoutCode(text), -1) {
		s := slug(m[1])
		if n := count[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		count[s]++
	}
	return out
}

// Every relative link of README.md and docs/*.md names a file of the
// repository, and every #anchor a heading of the file it points into.
func TestLinksResolve(t *testing.T) {
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range docs(t) {
		for _, m := range linkRE.FindAllStringSubmatch(withoutCode(read(t, rel)), -1) {
			target := m[1]
			if target == "" || schemeRE.MatchString(target) {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			dest := rel
			if path != "" {
				dest = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(rel), path)))
				if dest == ".." || strings.HasPrefix(dest, "../") || filepath.IsAbs(path) {
					t.Errorf("%s links to %q, outside the repository", rel, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(abs, dest)); err != nil {
					t.Errorf("%s links to %q: %s does not exist", rel, target, dest)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(dest, ".md") {
				t.Errorf("%s links to %q: an anchor in a file that is not Markdown", rel, target)
				continue
			}
			if !anchors(read(t, dest))[anchor] {
				t.Errorf("%s links to %q: %s has no heading whose anchor is #%s", rel, target, dest, anchor)
			}
		}
	}
}

// outside names what only exists beside the repository: the design
// document and its sections, issue numbers, paths that leave the tree.
var outside = []*regexp.Regexp{
	regexp.MustCompile(`DESIGN(\.md)?\b`),
	regexp.MustCompile(`§`),
	regexp.MustCompile(`(?i)\bissues?\s+#?\d+`),
	regexp.MustCompile(`(^|[\s(\x60"'])\.\./`),
}

// README.md and docs/ are read by people who have only the repository:
// they name no document outside it. The generated sections are left out:
// their sources (shared/backup/rules.go, shared/config/config.go,
// shared/webhook/ROUTES.md, ...) are kept by their own packages.
func TestNoReferencesOutsideTheRepository(t *testing.T) {
	for _, rel := range docs(t) {
		text := read(t, rel)
		for name := range sections {
			text = markerRE(name).ReplaceAllString(text, "")
		}
		// Relative link targets are checked by TestLinksResolve.
		text = linkRE.ReplaceAllString(text, "]()")
		for _, line := range strings.Split(text, "\n") {
			for _, re := range outside {
				if loc := re.FindString(line); loc != "" {
					t.Errorf("%s: %q names something outside the repository: %s", rel, strings.TrimSpace(loc), line)
				}
			}
		}
	}
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Try it: two commands, no account":                          "try-it-two-commands-no-account",
		"No duplicates: asks, freshness, CreateBackup as the check": "no-duplicates-asks-freshness-createbackup-as-the-check",
		"`data`": "data",
		"Design notes: where this differs from the plan, and why": "design-notes-where-this-differs-from-the-plan-and-why",
		"BACKUP_MAX_AGE and re-runs":                              "backup_max_age-and-re-runs",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
	a := anchors("# A\n\n```sh\n# not a heading\n```\n## A\n")
	if !a["a"] || !a["a-1"] || a["not-a-heading"] {
		t.Errorf("anchors = %v, want a and a-1 and no heading from a code block", a)
	}
}

// TestCitedTestsExist: every test or fuzz target a document names as
// holding a claim (`TestX`, `FuzzY`) is a function in the repository's
// tests, so a renamed or deleted test cannot leave a claim unbacked.
func TestCitedTestsExist(t *testing.T) {
	defined := map[string]bool{}
	fn := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// build/ and dist/ at the root are make's output (shared/tooling/dist is code).
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || p == filepath.Join(root, "build") || p == filepath.Join(root, "dist")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range fn.FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`((?:Test|Fuzz)[A-Z]\\w+)`")
	n := 0
	for _, rel := range docs(t) {
		for _, m := range cited.FindAllStringSubmatch(read(t, rel), -1) {
			n++
			if !defined[m[1]] {
				t.Errorf("%s cites %s, which no test defines", rel, m[1])
			}
		}
	}
	if n == 0 {
		t.Error("no document cites a test: the check found nothing to check")
	}
}

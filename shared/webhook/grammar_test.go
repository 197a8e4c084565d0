package webhook

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The regular expressions the hand-written grammars of routes.go stand for.
var routeGrammars = []struct {
	name  string
	re    *regexp.Regexp
	valid func(string) bool
}{
	{"name", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`), validRouteName},
	{"caller", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@/:-]{0,127}$`), validCaller},
	{"envVar", regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`), validEnvVar},
	{"stage", regexp.MustCompile(`^[^\x00-\x1f]{1,255}$`), validStage},
	{"organization", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`), validOrg},
}

// grammarSamples are strings at the grammars' edges, and random strings of
// their alphabets and their neighbours, of every length around the limits.
func grammarSamples() []string {
	s := []string{"", "a", "A", "0", "_", "-", ".", "a-", "-a", "_a", "a_", "9a", "a.b", "a@b", "a/b:c", "a b", "a\n", "\n", "a\x00", "\x1f", "\x7f", "é", "aé", "\xff", "a\xff", "\xed\xa0\x80",
		"deploy", "Deploy Stage", "release-bot", "acme", "GITHUB_WEBHOOK_SECRET", "acme/shop", "user@example.com"}
	alphabet := []rune("aZ09._-@/:+ \t\n\x00\x1f\x7féÿ\uFFFD") // and invalid bytes below
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 63, 64, 65, 99, 100, 101, 127, 128, 129, 254, 255, 256, 300} {
		for range 40 {
			var b strings.Builder
			for range n {
				switch k := r.IntN(100); {
				case k < 70: // mostly valid characters, so long strings can match
					b.WriteByte("abcXYZ0189_"[r.IntN(11)])
				case k < 97:
					b.WriteRune(alphabet[r.IntN(len(alphabet))])
				default:
					b.WriteByte(0x80 + byte(r.IntN(0x80)))
				}
			}
			s = append(s, b.String())
			s = append(s, strings.Repeat("a", n), "a"+strings.Repeat("-", n-1), strings.Repeat("é", n), strings.Repeat("\xff", n))
		}
	}
	return s
}

func TestRouteGrammarsMatchTheirExpressions(t *testing.T) {
	for _, s := range grammarSamples() {
		for _, g := range routeGrammars {
			if want, got := g.re.MatchString(s), g.valid(s); got != want {
				t.Errorf("%s(%q) = %v, the expression says %v", g.name, s, got, want)
			}
		}
	}
}

func FuzzRouteGrammars(f *testing.F) {
	for _, s := range grammarSamples()[:40] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, g := range routeGrammars {
			if want, got := g.re.MatchString(s), g.valid(s); got != want {
				t.Errorf("%s(%q) = %v, the expression says %v", g.name, s, got, want)
			}
		}
	})
}

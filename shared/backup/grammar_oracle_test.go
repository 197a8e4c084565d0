package backup

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The regular expressions the hand-written grammars stand for.
var handGrammars = []struct {
	name  string
	re    *regexp.Regexp
	valid func(string) bool
}{
	{"instance id", regexp.MustCompile(`^[a-z][a-z0-9-]{1,63}$`), instanceIdGrammar},
	{"region id", regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+){1,4}$`), regionIdGrammar},
	{"DBName", regexp.MustCompile(`^[a-z]([a-z0-9_-]{0,62}[a-z0-9])?$`), validDBName},
}

func handGrammarSamples() []string {
	s := []string{"", "a", "ab", "a-", "-a", "a_", "a1", "1a", "rm-uf6wjk5xxxx", "cn-hangzhou", "cn-north-2-gov-1", "cn-a-b-c-d-e", "cn-a-b-c-d",
		"cn--a", "cn-", "c-n", "cn-hangzhou\n", "Cn-a", "cn-a_b", "sales-db", "customer_orders_2024", "a\xff", "é", "cn-é"}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 5, 8, 12, 40, 62, 63, 64, 65, 66, 100} {
		for range 60 {
			var b strings.Builder
			for range n {
				switch k := r.IntN(100); {
				case k < 60:
					b.WriteByte("abcxyz"[r.IntN(6)])
				case k < 75:
					b.WriteByte("0189"[r.IntN(4)])
				case k < 90:
					b.WriteByte('-')
				default:
					odd := "_A.Z \n\x00\xffé"
					b.WriteByte(odd[r.IntN(len(odd))])
				}
			}
			s = append(s, b.String(), strings.Repeat("a", n), "a"+strings.Repeat("-", n-1), "a"+strings.Repeat("-b", n))
		}
	}
	return s
}

func TestHandGrammarsMatchTheirExpressions(t *testing.T) {
	for _, s := range handGrammarSamples() {
		for _, g := range handGrammars {
			if want, got := g.re.MatchString(s), g.valid(s); got != want {
				t.Errorf("%s(%q) = %v, the expression says %v", g.name, s, got, want)
			}
		}
	}
}

func FuzzHandGrammars(f *testing.F) {
	for _, s := range handGrammarSamples()[:30] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, g := range handGrammars {
			if want, got := g.re.MatchString(s), g.valid(s); got != want {
				t.Errorf("%s(%q) = %v, the expression says %v", g.name, s, got, want)
			}
		}
	})
}

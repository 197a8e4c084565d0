package memberauth

import (
	"regexp"
	"strings"
	"testing"
)

// TestSessionName: the digests in the table were computed outside the code
// (printf '%s' RUNID | sha256sum | cut -c1-8).
func TestSessionName(t *testing.T) {
	long := strings.Repeat("a", 70)
	tests := []struct {
		name, runID, want string
	}{
		{"fits: as it is", "run-2026.03.02_1@ci", "run-2026.03.02_1@ci"},
		{"two characters", "r1", "r1"},
		{"64 characters", strings.Repeat("b", 64), strings.Repeat("b", 64)},
		{"empty", "", "run-none"},
		{"one character", "a", "a.ca978112"},
		{"colons and slashes", "plan:nightly/2026-03-02", "plan_nightly_2026-03-02.0919b2dd"},
		{"unicode", "运行-1", "__-1.0ed7cbd0"},
		{"too long", long, strings.Repeat("a", 55) + ".6bd5e503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SessionName(tt.runID)
			if !ValidSessionName(got) {
				t.Fatalf("SessionName(%q) = %q, outside the grammar", tt.runID, got)
			}
			if got != SessionName(tt.runID) {
				t.Fatalf("SessionName(%q) is not deterministic", tt.runID)
			}
			if got != tt.want {
				t.Errorf("SessionName(%q) = %q, want %q", tt.runID, got, tt.want)
			}
		})
	}
	// Run ids that differ only in what was replaced or cut stay apart.
	pairs := [][2]string{{"run:1", "run/1"}, {long + "x", long + "y"}, {"a", "a."}}
	for _, p := range pairs {
		if SessionName(p[0]) == SessionName(p[1]) {
			t.Errorf("SessionName(%q) == SessionName(%q) = %q", p[0], p[1], SessionName(p[0]))
		}
	}
}

// TestSessionNameAcceptedBySTS: what SessionName makes of awkward run ids
// passes the emulator's RoleSessionName check and is what its log records.
func TestSessionNameAcceptedBySTS(t *testing.T) {
	e := newEnv(t)
	b := e.broker(nil)
	for i, runID := range []string{"plan:nightly/2026-03-02 #7", "", "x", strings.Repeat("é", 80)} {
		r := req(memberA)
		r.SessionName = SessionName(runID)
		r.AccountID = []string{memberA, memberB}[i%2]
		e.clock.Advance(DefaultDuration) // every Get makes a call
		if _, err := b.Get(testCtx(t), r); err != nil {
			t.Fatalf("run id %q → %q: %v", runID, r.SessionName, err)
		}
		calls := e.srv.Calls()
		if got := calls[len(calls)-1].RoleSessionName; got != r.SessionName {
			t.Errorf("the emulator recorded %q, want %q", got, r.SessionName)
		}
	}
}

func TestGrammars(t *testing.T) {
	tests := []struct {
		name  string
		valid func(string) bool
		good  []string
		bad   []string
	}{
		{"account", ValidAccountID, []string{"1000000000000001", "1968132000120000"},
			[]string{"", "100000000000001", "10000000000000011", "100000000000000a", " 1000000000000001", "1000000000000001\n"}},
		{"role", ValidRoleName, []string{"fc-rds-backup-member", "A.b-1", strings.Repeat("r", 64)},
			[]string{"", "a_b", "a/b", "a b", strings.Repeat("r", 65), "role\n"}},
		{"external id", ValidExternalID, []string{"ab", "ext-123", "a+b=c,d.e@f:g/h_i-j", strings.Repeat("x", 1224)},
			[]string{"", "a", "a b", "a\nb", "a;b", strings.Repeat("x", 1225)}},
	}
	for _, tt := range tests {
		for _, s := range tt.good {
			if !tt.valid(s) {
				t.Errorf("%s %q refused", tt.name, s)
			}
		}
		for _, s := range tt.bad {
			if tt.valid(s) {
				t.Errorf("%s %q accepted", tt.name, s)
			}
		}
	}
	if got := RoleArn(memberA, "FC-RDS-Backup-Member"); got != "acs:ram::2000000000000002:role/fc-rds-backup-member" {
		t.Errorf("RoleArn = %q", got)
	}
}

// ValidSessionName is STS's RoleSessionName grammar written by hand; the
// regular expression of the STS page is the oracle here.
func TestValidSessionNameMatchesTheGrammar(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
	cases := []string{"", "a", "ab", "run-1.a@b_c", strings.Repeat("x", 64), strings.Repeat("x", 65),
		"has space", "tab\t", "ünï", "a/b", "a:b", "a+b", "..", "--", "a\x00"}
	for i := range 256 {
		cases = append(cases, "a"+string(rune(i)), string([]byte{'a', byte(i)}))
	}
	for _, c := range cases {
		if got, want := ValidSessionName(c), re.MatchString(c); got != want {
			t.Errorf("ValidSessionName(%q) = %v, the grammar says %v", c, got, want)
		}
	}
}

func FuzzValidSessionName(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
	f.Add("run-1")
	f.Add(strings.Repeat("y", 65))
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidSessionName(s), re.MatchString(s); got != want {
			t.Errorf("ValidSessionName(%q) = %v, the grammar says %v", s, got, want)
		}
	})
}

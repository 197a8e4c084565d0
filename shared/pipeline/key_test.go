package pipeline

import (
	"bytes"
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// keyGrammar is what the webhook accepts as an Idempotency-Key (at most 200
// printable ASCII characters), without its own derived forms.
var keyGrammar = regexp.MustCompile(`^[\x20-\x7e]{1,200}$`)

func TestDefaultKey(t *testing.T) {
	gh := CIJob{Provider: "github", Project: "acme/shop", Run: "4242", Attempt: "1", Job: "deploy-staging"}
	gl := CIJob{Provider: "gitlab", Project: "77", Run: "9001", Job: "555"}
	ask := Ask{Instances: []string{"rm-a", "rm-b"}, Method: "Physical", Region: "cn-hangzhou"}
	type side struct {
		ci  CIJob
		ask Ask
	}
	base := side{gh, ask}
	// with is base changed by f.
	with := func(f func(*CIJob, *Ask)) side {
		c, a := gh, ask
		a.Instances = append([]string(nil), ask.Instances...)
		f(&c, &a)
		return side{c, a}
	}
	tests := []struct {
		name string
		a, b side
		same bool
	}{
		{"the same job asking again (a network retry, a deferred ask): the same key",
			base, base, true},
		{"instance order does not matter", base, with(func(_ *CIJob, a *Ask) { a.Instances = []string{"rm-b", "rm-a"} }), true},
		{"an instance named twice is the same set", base,
			with(func(_ *CIJob, a *Ask) { a.Instances = []string{"rm-b", "rm-a", "rm-b"} }), true},
		{"two jobs of one run differ", base, with(func(c *CIJob, _ *Ask) { c.Job = "deploy-prod" }), false},
		{"a re-run attempt differs", base, with(func(c *CIJob, _ *Ask) { c.Attempt = "2" }), false},
		{"another run differs", base, with(func(c *CIJob, _ *Ask) { c.Run = "4243" }), false},
		{"another repository differs", base, with(func(c *CIJob, _ *Ask) { c.Project = "acme/other" }), false},
		{"a matrix over instances: another instance set differs", base, with(func(_ *CIJob, a *Ask) { a.Instances = []string{"rm-a"} }), false},
		{"another method differs", base, with(func(_ *CIJob, a *Ask) { a.Method = "Snapshot" }), false},
		{"another region differs", base, with(func(_ *CIJob, a *Ask) { a.Region = "cn-shanghai" }), false},
		{"fields cannot pose as each other", side{CIJob{Provider: "github", Run: "1", Attempt: "23"}, ask},
			side{CIJob{Provider: "github", Run: "12", Attempt: "3"}, ask}, false},
		{"GitLab: two jobs of one pipeline differ", side{gl, ask},
			side{CIJob{Provider: "gitlab", Project: "77", Run: "9001", Job: "556"}, ask}, false},
		{"GitLab: a retried job (a new CI_JOB_ID) differs", side{gl, ask},
			side{CIJob{Provider: "gitlab", Project: "77", Run: "9001", Job: "600"}, ask}, false},
		{"GitLab: the same job asking again: the same key", side{gl, ask}, side{gl, ask}, true},
		{"GitHub and GitLab never share a key", side{CIJob{Provider: "github", Run: "1", Job: "2"}, ask},
			side{CIJob{Provider: "gitlab", Run: "1", Job: "2"}, ask}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ka, kb := DefaultKey(tc.a.ci, tc.a.ask, nil), DefaultKey(tc.b.ci, tc.b.ask, nil)
			if (ka == kb) != tc.same {
				t.Errorf("keys %q and %q: same = %v, want %v", ka, kb, ka == kb, tc.same)
			}
			for _, k := range []string{ka, kb} {
				if !keyGrammar.MatchString(k) || strings.HasPrefix(k, "req-") || strings.HasPrefix(k, "asked-") {
					t.Errorf("key %q is outside the webhook's grammar", k)
				}
			}
		})
	}
}

func TestDefaultKeyReadable(t *testing.T) {
	ask := Ask{Instances: []string{"rm-a"}}
	for _, tc := range []struct {
		ci     CIJob
		prefix string
	}{
		{CIJob{Provider: "github", Project: "acme/shop", Run: "4242", Attempt: "1", Job: "deploy"}, "github-4242-1-"},
		{CIJob{Provider: "github", Run: "4242", Job: "deploy"}, "github-4242-"},
		{CIJob{Provider: "gitlab", Project: "77", Run: "777", Job: "555"}, "gitlab-777-555-"},
		// What is not a short number stays in the digest only.
		{CIJob{Provider: "github", Run: "42 42\n", Attempt: "1", Job: "x"}, "github-"},
		{CIJob{Provider: "Git Hub!", Run: strings.Repeat("9", 300)}, "ci-"},
	} {
		k := DefaultKey(tc.ci, ask, nil)
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(tc.prefix) + `[0-9a-f]{24}$`).MatchString(k) {
			t.Errorf("%+v: key %q, want %s<24 hex digits>", tc.ci, k, tc.prefix)
		}
	}
}

// Outside CI the key is random: two processes differ; one process keeps
// its key for every try (Gate derives it once).
func TestDefaultKeyOutsideCI(t *testing.T) {
	ask := Ask{Instances: []string{"rm-a"}}
	a, b := DefaultKey(CIJob{}, ask, nil), DefaultKey(CIJob{}, ask, nil)
	if a == b || !regexp.MustCompile(`^rdsbackup-[0-9a-f]{16}$`).MatchString(a) {
		t.Errorf("keys outside CI %q, %q: want two random rdsbackup-<16 hex>", a, b)
	}
	if k := DefaultKey(CIJob{}, ask, bytes.NewReader([]byte{1, 2, 3, 4, 5, 6, 7, 8})); k != "rdsbackup-0102030405060708" {
		t.Errorf("key %q from the given random bytes", k)
	}
}

// Gate fixes the default key at the first try: a network error, a 503 and
// a deferred answer are asked again with the key of the first try, in CI and
// outside it.
func TestGateDefaultKeyFixedAtFirstTry(t *testing.T) {
	for _, ci := range []CIJob{{}, {Provider: "github", Project: "acme/shop", Run: "4242", Attempt: "1", Job: "deploy"}} {
		f := &fakeHook{t: t, secret: "s3cret",
			post: func(n int) (int, string) {
				switch n {
				case 1:
					return 503, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`
				case 2:
					return 202, `{"requests":[{"status":"deferred","DBInstanceId":"rm-a","correlationId":"c1","notBefore":"2026-11-25T10:00:30Z","error":{"code":"IncorrectDBInstanceState","message":"Rebooting"}}]}`
				}
				return 202, accepted
			},
			get: func(int) (int, string) { return 200, job("Finished") }}
		srv := httptest.NewServer(f)
		clk := &fakeClock{now: t0}
		c := &Client{URL: srv.URL, Caller: "ci", Secret: "s3cret", Now: clk.Now}
		var asked Event
		v, err := c.Gate(context.Background(), GateOptions{
			Ask: Ask{Instances: []string{"rm-a"}}, CI: ci, Timeout: time.Hour, Sleep: clk.Sleep,
			Observer: func(e Event) {
				if e.Event == "asked" {
					asked = e
				}
			},
		})
		srv.Close()
		if v != VerdictBackedUp {
			t.Fatalf("%+v: verdict %v (%v)", ci, v, err)
		}
		want := DefaultKey(ci, Ask{Instances: []string{"rm-a"}}, nil)
		if ci.Provider == "" {
			want = f.posts[0].key
		}
		if len(f.posts) != 3 || asked.Key != want || !strings.HasPrefix(want, map[string]string{"": "rdsbackup-", "github": "github-4242-1-"}[ci.Provider]) {
			t.Fatalf("%+v: %d POSTs, asked with key %q, want %q", ci, len(f.posts), asked.Key, want)
		}
		for i, p := range f.posts {
			if p.key != want || p.body != f.posts[0].body {
				t.Errorf("%+v: try %d key %q body %s, want the first's %q %s", ci, i+1, p.key, p.body, want, f.posts[0].body)
			}
		}
	}
}

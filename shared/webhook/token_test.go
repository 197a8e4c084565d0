package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// Tokens of the token test routes.
const (
	snowToken    = "snow-bearer-token-0123456789abcdef"
	snowOldToken = "snow-bearer-token-being-rotated-out"
	pdToken      = "pagerduty-token-42"
)

const tokenRoutes = `
routes:
  - name: snow-change
    source: token
    secretEnv: SNOW_TOKEN
    previousSecretEnv: SNOW_TOKEN_OLD
    user: servicenow
    allow: ["rm-shop-*", rm-billing1]
    instances: /u_rds_instances
    askedAt: /sys_updated_on
    id: /sys_id
    when: {pointer: /state, equals: Implement}
    maxAskAge: 2h
    backups:
      - {BackupMethod: Physical}
  - name: pd-action
    source: token
    secretEnv: PD_TOKEN
    allow: ["rm-pay-*"]
    instances: /incident/custom_details/rds~1instances
    askedAt: /incident/created_at
    id: /incident/id
  - name: hello-prod
    source: github
    repository: Codertocat/Hello-World
    environments: [production]
    secretEnv: GH_SECRET
    backups:
      - {DBInstanceId: rm-hello-world-1, BackupMethod: Physical}
`

func tokenHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	return newHarness(t, tokenRoutes, func(c *Config) {
		c.Secrets = maps.Clone(testSecrets)
		c.Secrets["SNOW_TOKEN"] = snowToken
		c.Secrets["SNOW_TOKEN_OLD"] = snowOldToken
		c.Secrets["PD_TOKEN"] = pdToken
		c.MaxAskAge = DefaultMaxAskAge
		if mod != nil {
			mod(c)
		}
	})
}

// snowBody is a ServiceNow change request (the Table API's field names)
// moved to Implement ten minutes before testNow, edited by edit.
func snowBody(edit func(p map[string]any)) string {
	p := map[string]any{
		"sys_id":            "c83c5e5347c12200e0ef563dbb9a7190",
		"number":            "CHG0030001",
		"state":             "Implement",
		"short_description": "Upgrade the shop's database",
		"sys_updated_on":    testNow.Add(-10 * time.Minute).Format(time.RFC3339),
		"u_rds_instances":   "rm-shop-1, rm-shop-2",
	}
	if edit != nil {
		edit(p)
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func tokenEvent(route, auth, body string) events.HTTPEvent {
	h := map[string]string{"Content-Type": "application/json"}
	if auth != "" {
		h[HeaderAuthorization] = auth
	}
	return httpEvent("POST", "/v1/hooks/token/"+route, body, h)
}

func basicAuth(user, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
}

func TestToken(t *testing.T) {
	bearer := "Bearer " + snowToken
	set := func(k string, v any) func(map[string]any) { return func(p map[string]any) { p[k] = v } }
	tests := []struct {
		name      string
		ev        events.HTTPEvent
		status    int
		instances []string
		reason    string // of a 202 ignored, or the field of a 400 / 403
	}{
		{"bearer", tokenEvent("snow-change", bearer, snowBody(nil)), 202, []string{"rm-shop-1", "rm-shop-2"}, ""},
		{"bearer, the scheme in lowercase", tokenEvent("snow-change", "bearer "+snowToken, snowBody(nil)), 202, []string{"rm-shop-1", "rm-shop-2"}, ""},
		{"basic with the route's user", tokenEvent("snow-change", basicAuth("servicenow", snowToken), snowBody(nil)), 202, []string{"rm-shop-1", "rm-shop-2"}, ""},
		{"the token being rotated out", tokenEvent("snow-change", "Bearer "+snowOldToken, snowBody(nil)), 202, []string{"rm-shop-1", "rm-shop-2"}, ""},
		{"instances as a list, unsorted, repeated", tokenEvent("snow-change", bearer, snowBody(set("u_rds_instances", []string{"rm-shop-2", " rm-billing1", "rm-shop-2"}))), 202, []string{"rm-billing1", "rm-shop-2"}, ""},
		{"askedAt in unix milliseconds", tokenEvent("snow-change", bearer, snowBody(set("sys_updated_on", testNow.Add(-time.Minute).UnixMilli()))), 202, []string{"rm-shop-1", "rm-shop-2"}, ""},
		{"askedAt in unix seconds", tokenEvent("snow-change", bearer, snowBody(set("sys_updated_on", testNow.Add(-time.Minute).Unix()))), 202, []string{"rm-shop-1", "rm-shop-2"}, ""},
		{"an escaped pointer (~1) of another route", tokenEvent("pd-action", "Bearer "+pdToken,
			`{"incident":{"id":"Q2ZN4ZPXZ2GDBT","created_at":"2026-11-24T06:00:00Z","custom_details":{"rds/instances":["rm-pay-1"]}}}`), 202, []string{"rm-pay-1"}, ""},

		{"when unmet", tokenEvent("snow-change", bearer, snowBody(set("state", "Assess"))), 202, nil, `when: "/state" is "Assess", not "Implement" (route snow-change)`},
		{"when's value missing", tokenEvent("snow-change", bearer, snowBody(func(p map[string]any) { delete(p, "state") })), 202, nil, `when: the body has no value at "/state"`},
		{"too old", tokenEvent("snow-change", bearer, snowBody(set("sys_updated_on", testNow.Add(-3*time.Hour).Format(time.RFC3339)))), 202, nil,
			"is 3h old, older than the max ask age 2h (the route's maxAskAge)"},

		{"wrong token", tokenEvent("snow-change", "Bearer "+snowToken+"x", snowBody(nil)), 401, nil, ""},
		{"no Authorization", tokenEvent("snow-change", "", snowBody(nil)), 401, nil, ""},
		{"another route's token", tokenEvent("snow-change", "Bearer "+pdToken, snowBody(nil)), 401, nil, ""},
		{"a github route's secret", tokenEvent("hello-prod", "Bearer "+ghSecret, snowBody(nil)), 401, nil, ""},
		{"unknown route", tokenEvent("nope", bearer, snowBody(nil)), 401, nil, ""},
		{"basic with another user", tokenEvent("snow-change", basicAuth("admin", snowToken), snowBody(nil)), 401, nil, ""},
		{"basic on a route without a user", tokenEvent("pd-action", basicAuth("", pdToken), `{}`), 401, nil, ""},
		{"basic, not base64", tokenEvent("snow-change", "Basic !!!", snowBody(nil)), 401, nil, ""},
		{"another scheme", tokenEvent("snow-change", "Token "+snowToken, snowBody(nil)), 401, nil, ""},
		{"the token alone", tokenEvent("snow-change", snowToken, snowBody(nil)), 401, nil, ""},

		{"an instance outside allow", tokenEvent("snow-change", bearer, snowBody(set("u_rds_instances", "rm-shop-1,rm-prod-payments"))), 403, nil, "DBInstanceId"},
		{"an id that is not one", tokenEvent("snow-change", bearer, snowBody(set("u_rds_instances", "rm-shop-*"))), 400, nil, "DBInstanceId"},
		{"no id", tokenEvent("snow-change", bearer, snowBody(func(p map[string]any) { delete(p, "sys_id") })), 400, nil, "id"},
		{"an empty id", tokenEvent("snow-change", bearer, snowBody(set("sys_id", " "))), 400, nil, "id"},
		{"an id that is an object", tokenEvent("snow-change", bearer, snowBody(set("sys_id", map[string]any{"a": 1}))), 400, nil, "id"},
		{"no askedAt", tokenEvent("snow-change", bearer, snowBody(func(p map[string]any) { delete(p, "sys_updated_on") })), 400, nil, "askedAt"},
		{"askedAt not a time", tokenEvent("snow-change", bearer, snowBody(set("sys_updated_on", "24/11/2026 06:00"))), 400, nil, "askedAt"},
		{"askedAt in ServiceNow's format (UTC)", tokenEvent("snow-change", bearer, snowBody(set("sys_updated_on", testNow.Add(-time.Minute).Format(ServiceNowTime)))), 202, []string{"rm-shop-1", "rm-shop-2"}, ""},
		{"no instances", tokenEvent("snow-change", bearer, snowBody(set("u_rds_instances", " , "))), 400, nil, "instances"},
		{"instances a number", tokenEvent("snow-change", bearer, snowBody(set("u_rds_instances", 7))), 400, nil, "instances"},
		{"not JSON", tokenEvent("snow-change", bearer, "state=Implement"), 400, nil, "body"},
		{"two JSON values", tokenEvent("snow-change", bearer, snowBody(nil)+"{}"), 400, nil, "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := tokenHarness(t, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), tc.ev))
			if d.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", d.Status, tc.status, d.Raw)
			}
			var got []string
			for _, c := range hs.sub.Calls() {
				for _, r := range c.Reqs {
					got = append(got, r.DBInstanceId)
					if r.Trigger.Kind != KindToken || r.Trigger.DeliveryId == "" || r.AskedAt.IsZero() {
						t.Fatalf("request %+v", r)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.instances, ",") {
				t.Fatalf("submitted %q, want %q: %s", got, tc.instances, d.Raw)
			}
			switch {
			case tc.status == 202 && tc.instances == nil:
				if d.Body["status"] != "ignored" || !strings.Contains(d.Body["reason"].(string), tc.reason) {
					t.Fatalf("ignored answer %s, want reason %q", d.Raw, tc.reason)
				}
			case tc.status == 202:
				e := d.entries()
				if len(e) != len(tc.instances) {
					t.Fatalf("answer %s", d.Raw)
				}
				for i, x := range e {
					if x["status"] != "accepted" || x["DBInstanceId"] != tc.instances[i] {
						t.Fatalf("answer %s", d.Raw)
					}
				}
			case tc.status == 401:
				// The one 401 every failed door gets: GitHub's.
				gh := hs.h.Handle(context.Background(), hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{HeaderGitHubSig: ""}))
				if d.Raw != gh.Body || gh.StatusCode != 401 {
					t.Fatalf("401 %s, GitHub's %d %s", d.Raw, gh.StatusCode, gh.Body)
				}
				if len(hs.rej.Requests()) != 0 {
					t.Fatal("an unauthenticated call publishes nothing")
				}
			case tc.status == 400 || tc.status == 403:
				if d.errField() != tc.reason {
					t.Fatalf("field %q, want %q: %s", d.errField(), tc.reason, d.Raw)
				}
			}
			if tc.status == 403 && len(hs.rej.Requests()) != 1 {
				t.Fatalf("one rejected outcome for the refused call, got %d", len(hs.rej.Requests()))
			}
		})
	}
}

func TestTokenRequestsTakeTheRoutesParameters(t *testing.T) {
	hs := tokenHarness(t, nil)
	d := checkResponse(t, hs.h.Handle(context.Background(), tokenEvent("snow-change", "Bearer "+snowToken, snowBody(nil))))
	if d.Status != 202 || len(hs.sub.Calls()) != 1 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	for _, r := range hs.sub.Calls()[0].Reqs {
		if r.BackupMethod != "Physical" || r.Trigger.Source != "snow-change" || r.Trigger.DeliveryId != "c83c5e5347c12200e0ef563dbb9a7190" ||
			!r.AskedAt.Equal(testNow.Add(-10*time.Minute)) {
			t.Fatalf("request %+v", r)
		}
	}
	// A route without backups: the instances with RDS's defaults.
	d = checkResponse(t, hs.h.Handle(context.Background(), tokenEvent("pd-action", "Bearer "+pdToken,
		`{"incident":{"id":7,"created_at":1795499000,"custom_details":{"rds/instances":"rm-pay-1"}}}`)))
	if d.Status != 202 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
	if r := hs.sub.Calls()[1].Reqs[0]; r.BackupMethod != "" || r.Trigger.DeliveryId != "7" || !r.AskedAt.Equal(time.Unix(1795499000, 0)) {
		t.Fatalf("request %+v", r)
	}
}

// TestTokenIdIsTheAsk: a retry or a replay of a delivery (the same id and
// instances, whatever else changed) is the same ask; another id, or
// another instance set, is another.
func TestTokenIdIsTheAsk(t *testing.T) {
	hs := tokenHarness(t, nil)
	send := func(body string) map[string]string {
		t.Helper()
		d := checkResponse(t, hs.h.Handle(context.Background(), tokenEvent("snow-change", "Bearer "+snowToken, body)))
		if d.Status != 202 {
			t.Fatalf("%d %s", d.Status, d.Raw)
		}
		calls := hs.sub.Calls()
		keys := map[string]string{}
		for _, r := range calls[len(calls)-1].Reqs {
			keys[r.DBInstanceId] = r.IdempotencyKey
		}
		return keys
	}
	first := send(snowBody(nil))
	retry := send(snowBody(func(p map[string]any) {
		p["short_description"] = "edited"
		p["u_rds_instances"] = "rm-shop-2 rm-shop-1"
	}))
	if !maps.Equal(first, retry) {
		t.Fatalf("keys %v, a retry's %v", first, retry)
	}
	other := send(snowBody(func(p map[string]any) { p["sys_id"] = "another" }))
	fewer := send(snowBody(func(p map[string]any) { p["u_rds_instances"] = "rm-shop-1" }))
	if other["rm-shop-1"] == first["rm-shop-1"] || fewer["rm-shop-1"] == first["rm-shop-1"] {
		t.Fatalf("keys %v %v %v: the id and the instance set are the ask", first, other, fewer)
	}
}

// TestOldTokenDeliveryMakesNoAsk: the route's maxAskAge, else the
// deployment's, and never no limit.
func TestOldTokenDeliveryMakesNoAsk(t *testing.T) {
	body := `{"incident":{"id":"Q1","created_at":"2026-11-23T05:00:00Z","custom_details":{"rds/instances":["rm-pay-1"]}}}` // 25h40m before testNow
	for _, tc := range []struct {
		name   string
		age    time.Duration
		submit bool
		rule   string
	}{
		{"BACKUP_MAX_ASK_AGE 24h", 24 * time.Hour, false, "(BACKUP_MAX_ASK_AGE)"},
		{"BACKUP_MAX_ASK_AGE 48h", 48 * time.Hour, true, ""},
		{"BACKUP_MAX_ASK_AGE 0: still 24h", 0, false, "the default for token routes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := tokenHarness(t, func(c *Config) { c.MaxAskAge = tc.age })
			d := checkResponse(t, hs.h.Handle(context.Background(), tokenEvent("pd-action", "Bearer "+pdToken, body)))
			if d.Status != 202 || (len(hs.sub.Calls()) == 1) != tc.submit {
				t.Fatalf("%d %s", d.Status, d.Raw)
			}
			if !tc.submit && !strings.Contains(d.Body["reason"].(string), tc.rule) {
				t.Fatalf("reason %s lacks %q", d.Raw, tc.rule)
			}
		})
	}
	if err := CheckTokenRoutes(mustLoad(t, tokenRoutes), 0); err == nil || !strings.Contains(err.Error(), "pd-action") || strings.Contains(err.Error(), "snow-change") {
		t.Fatalf("CheckTokenRoutes = %v", err)
	}
	if err := CheckTokenRoutes(mustLoad(t, tokenRoutes), time.Hour); err != nil {
		t.Fatal(err)
	}
}

// TestTokenHostileValuesAreClipped: what a caller wrote reaches an error
// or a reason clipped and quoted, never whole.
func TestTokenHostileValuesAreClipped(t *testing.T) {
	huge := strings.Repeat("A", 200000)
	for _, body := range []string{
		snowBody(func(p map[string]any) { p["state"] = huge }),
		snowBody(func(p map[string]any) { p["sys_id"] = huge }),
		snowBody(func(p map[string]any) { p["sys_updated_on"] = huge }),
		snowBody(func(p map[string]any) { p["u_rds_instances"] = "rm-" + strings.Repeat("a", 200000) }),
		snowBody(func(p map[string]any) { p["u_rds_instances"] = "rm-shop-1," + huge }),
	} {
		hs := tokenHarness(t, nil)
		resp := hs.h.Handle(context.Background(), tokenEvent("snow-change", "Bearer "+snowToken, body))
		d := checkResponse(t, resp)
		if len(resp.Body) > 1024 || d.Status == 202 && d.Body["status"] != "ignored" {
			t.Fatalf("%d, a %d-byte answer: %.300s", d.Status, len(resp.Body), resp.Body)
		}
		if n := len(hs.logs.String()); n > 2048 {
			t.Fatalf("a %d-byte log", n)
		}
		if len(hs.sub.Calls()) != 0 {
			t.Fatal("nothing submitted")
		}
	}
}

func TestTokenDoor(t *testing.T) {
	hs := tokenHarness(t, nil)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/hooks/token/snow-change", 405},
		{"POST", "/v1/hooks/token", 404},
		{"POST", "/v1/hooks/token/snow-change/x", 404},
	} {
		d := checkResponse(t, hs.h.Handle(context.Background(), httpEvent(tc.method, tc.path, "", nil)))
		if d.Status != tc.status {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, d.Status, d.Raw)
		}
	}
	// The token never reaches the log.
	hs.h.Handle(context.Background(), tokenEvent("snow-change", "Bearer "+snowToken, snowBody(nil)))
	hs.h.Handle(context.Background(), tokenEvent("snow-change", "Bearer wrong-"+snowToken, snowBody(nil)))
	if logs := hs.logs.String(); strings.Contains(logs, snowToken) || strings.Contains(logs, "Implement") {
		t.Fatalf("logs carry the token or the body: %s", logs)
	}
}

func mustLoad(t *testing.T, doc string) []Route {
	t.Helper()
	r, err := LoadRoutes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLoadTokenRoutes(t *testing.T) {
	routes := mustLoad(t, tokenRoutes)
	if r := routes[0]; r.Instances != "/u_rds_instances" || r.ID != "/sys_id" || r.AskedAt != "/sys_updated_on" || r.User != "servicenow" ||
		r.When == nil || *r.When != (TokenWhen{Pointer: "/state", Equals: "Implement"}) || r.MaxAskAge != "2h" || len(r.Backups) != 1 {
		t.Fatalf("route %+v", r)
	}
	tok := func(extra string) string {
		return `[{"name":"t","source":"token","secretEnv":"S","allow":["rm-1"],"instances":"/i","askedAt":"/at","id":"/id"` + extra + `}]`
	}
	if _, err := LoadRoutes([]byte(tok(""))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"no allow", `[{"name":"t","source":"token","secretEnv":"S","instances":"/i","askedAt":"/at","id":"/id"}]`, "allow: is required for a token route"},
		{"allow *", tok(`,"allow":["rm-1","*"]`), `allow: may not be "*" on a token route`},
		{"no id", `[{"name":"t","source":"token","secretEnv":"S","allow":["rm-1"],"instances":"/i","askedAt":"/at"}]`, "id: is required for a token route"},
		{"no instances", `[{"name":"t","source":"token","secretEnv":"S","allow":["rm-1"],"askedAt":"/at","id":"/id"}]`, "instances: is required for a token route"},
		{"no askedAt", `[{"name":"t","source":"token","secretEnv":"S","allow":["rm-1"],"instances":"/i","id":"/id"}]`, "askedAt: is required for a token route"},
		{"a pointer without /", tok(`,"id":"sys_id"`), "id: must be a JSON pointer (RFC 6901"},
		{"a bad escape", tok(`,"instances":"/a~2b"`), "instances: must be a JSON pointer (RFC 6901"},
		{"a trailing ~", tok(`,"askedAt":"/a~"`), "askedAt: must be a JSON pointer (RFC 6901"},
		{"a bad when pointer", tok(`,"when":{"pointer":"state","equals":"Implement"}`), "when.pointer: must be a JSON pointer"},
		{"a when without equals", tok(`,"when":{"pointer":"/state"}`), "when.equals: must be 1-255 characters"},
		{"an unknown when field", tok(`,"when":{"pointer":"/state","equals":"x","op":"!="}`), `when: unknown field "op" (allowed: pointer, equals)`},
		{"when not an object", tok(`,"when":"/state == Implement"`), "when: must be an object"},
		{"a pointer not a string", tok(`,"id":["/id"]`), "id: must be a string"},
		{"maxAskAge 0", tok(`,"maxAskAge":"0s"`), "maxAskAge: must be a positive duration"},
		{"maxAskAge not a duration", tok(`,"maxAskAge":"2 days"`), "maxAskAge: must be a positive duration"},
		{"a user with a colon", tok(`,"user":"a:b"`), "user: must be a basic auth user name"},
		{"a backup naming an instance", tok(`,"backups":[{"DBInstanceId":"rm-1"}]`), "backups[0].DBInstanceId: a token route's instances come from the body"},
		{"two backups", tok(`,"backups":[{"BackupMethod":"Physical"},{"BackupMethod":"Logical"}]`), "backups: a token route has at most one entry"},
		{"a bad backup parameter", tok(`,"backups":[{"BackupMethod":"Fast"}]`), "backups[0].BackupMethod"},
		{"a repository", tok(`,"repository":"o/r"`), "repository: a token route has no repository"},
		{"a jira field", tok(`,"project":"OPS"`), "project: only jira routes have a project"},
		{"a token field on a signed route", `[{"name":"r","source":"signed","secretEnv":"S","allow":["*"],"id":"/id"}]`, "id: only token routes have id"},
		{"when on a github route", `[{"name":"r","source":"github","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}],"when":{"pointer":"/a","equals":"b"}}]`, "when: only token routes have when"},
		{"two token routes, one token", `[{"name":"a","source":"token","secretEnv":"S","allow":["rm-1"],"instances":"/i","askedAt":"/at","id":"/id"},{"name":"b","source":"token","secretEnv":"S","allow":["rm-2"],"instances":"/i","askedAt":"/at","id":"/id"}]`,
			"each token route has a token of its own"},
		{"a token shared with a gitlab route", `[{"name":"a","source":"token","secretEnv":"S","allow":["rm-1"],"instances":"/i","askedAt":"/at","id":"/id"},{"name":"g","source":"gitlab","repository":"o/r","environments":["*"],"secretEnv":"S","backups":[{"DBInstanceId":"rm-1"}]}]`,
			"a token route and a gitlab route may not share a secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRoutes([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestTokenRoutesDocExample: the token route example of ROUTES.md loads.
func TestTokenRoutesDocExample(t *testing.T) {
	md, err := os.ReadFile("ROUTES.md")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(md, -1) {
		if !strings.Contains(string(m[1]), "source: token") {
			continue
		}
		found = true
		routes, err := LoadRoutes(m[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(routes) != 1 || routes[0].Source != SourceToken || routes[0].When == nil {
			t.Fatalf("routes %+v", routes)
		}
	}
	if !found {
		t.Fatal("ROUTES.md has no token route example")
	}
}

func TestPointers(t *testing.T) {
	var doc any
	dec := json.NewDecoder(strings.NewReader(`{"a/b":{"m~n":[10,{"x":"y"}]},"":1," ":2,"c":null}`))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    string
		want string // JSON text, "" for none
	}{
		{"/a~1b/m~0n/0", "10"}, {"/a~1b/m~0n/1/x", `"y"`}, {"/", "1"}, {"/ ", "2"}, {"/c", "null"},
		{"/a~1b/m~0n/01", ""}, {"/a~1b/m~0n/2", ""}, {"/a~1b/m~0n/-", ""}, {"/a/b", ""}, {"/c/d", ""}, {"/a~1b/m~0n/0/x", ""},
	} {
		v, ok := resolvePointer(doc, tc.p)
		got := ""
		if ok {
			b, _ := json.Marshal(v)
			got = string(b)
		}
		if got != tc.want {
			t.Errorf("%q: %s, want %s", tc.p, got, tc.want)
		}
	}
	for p, want := range map[string]bool{"": true, "/": true, "/a~0~1": true, "a": false, "/~": false, "/~2": false, "/a~": false} {
		if validPointer(p) != want {
			t.Errorf("validPointer(%q) = %v", p, !want)
		}
	}
}

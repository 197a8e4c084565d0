package webhook

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

// recipeV1 is the shell recipe of the README and ROUTES.md for signature
// v1 (printf | openssl dgst): the body's SHA-256, then the HMAC of the six
// lines. TestOpenSSLRecipe holds it to SignV1Key.
const recipeV1 = `HASH=$(printf '%s' "$BODY" | openssl dgst -sha256 -hex | sed 's/^.* //')
printf '%s\n%s\n%s\n%s\n%s\n%s' "$TS" "$METHOD" "$URLPATH" "$QUERY" "$HASH" "$KEY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //'`

// TestOpenSSLRecipe runs the shell recipe for a POST with a body and a GET
// with a query and checks that it computes what SignV1 does and that the
// handler accepts it. Skipped where sh or openssl is missing.
func TestOpenSSLRecipe(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("sh not installed")
	}
	tests := []struct {
		method, path, query, body, key string
		status                         int
	}{
		{"POST", "/v1/backups", "", `{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Physical"}`, "", 202},
		{"POST", "/v1/backups", "", `{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Physical"}`, "release-42", 202},
		{"GET", "/v1/backups/rm-demo-pg1/1000002", "RegionId=cn-shanghai", "", "", 200},
		{"GET", "/v1/backups/rm-demo-mysql1/1000001", "", "", "", 200},
	}
	for _, tc := range tests {
		ts := itoa(nowUnix)
		cmd := exec.Command("sh", "-c", recipeV1)
		cmd.Env = []string{"TS=" + ts, "METHOD=" + tc.method, "URLPATH=" + tc.path, "QUERY=" + tc.query, "BODY=" + tc.body, "KEY=" + tc.key,
			"SECRET=" + botSecret, "PATH=/usr/bin:/bin:/usr/local/bin"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("the documented recipe fails: %v", err) // openssl and sh are here: a failure is the recipe's
		}
		sig := "v1=" + strings.TrimSpace(string(out))
		q, _ := url.ParseQuery(tc.query)
		if want := SignV1Key(botSecret, nowUnix, tc.method, tc.path, q, []byte(tc.body), tc.key); sig != want {
			t.Fatalf("%s %s: recipe gives %s, SignV1Key gives %s", tc.method, tc.path, sig, want)
		}
		hs := newHarness(t, testRoutes, nil)
		ev := httpEvent(tc.method, tc.path, tc.body, map[string]string{
			"Content-Type": "application/json", "X-Caller": "release-bot", "X-Timestamp": ts, "X-Signature-256": sig,
		})
		if tc.key != "" {
			ev.Headers[HeaderIdempotencyKey] = tc.key
		}
		for k, v := range q {
			ev.QueryParameters[k] = v[0]
		}
		if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != tc.status {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, d.Status, d.Raw)
		}
	}
}

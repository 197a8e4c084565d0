package webhook

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

// TestOpenSSLRecipe runs the shell recipe of ROUTES.md and doc.go
// (printf | openssl dgst -hmac | sed) and checks the handler accepts its
// signature. Skipped where sh or openssl is missing.
func TestOpenSSLRecipe(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("sh not installed")
	}
	body := `{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Physical"}`
	ts := itoa(nowUnix)
	cmd := exec.Command("sh", "-c", `printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //'`)
	cmd.Env = []string{"TS=" + ts, "BODY=" + body, "SECRET=" + botSecret, "PATH=/usr/bin:/bin:/usr/local/bin"}
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("openssl recipe did not run: %v", err)
	}
	sig := "sha256=" + strings.TrimSpace(string(out))
	if sig != Sign(botSecret, nowUnix, []byte(body)) {
		t.Fatalf("recipe gives %s, Sign gives %s", sig, Sign(botSecret, nowUnix, []byte(body)))
	}
	hs := newHarness(t, testRoutes, nil)
	ev := httpEvent("POST", "/v1/backups", body, map[string]string{
		"Content-Type": "application/json", "X-Caller": "release-bot", "X-Timestamp": ts, "X-Signature-256": sig,
	})
	if d := checkResponse(t, hs.h.Handle(context.Background(), ev)); d.Status != 202 {
		t.Fatalf("%d %s", d.Status, d.Raw)
	}
}

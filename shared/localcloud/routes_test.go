package localcloud

import (
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// TestRoutesLoad: the local cloud's routes load, every secret they name is
// in WebhookEnv, and the token route has a max ask age of its own.
func TestRoutesLoad(t *testing.T) {
	routes, err := webhook.LoadRoutes([]byte(Routes))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range WebhookEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if _, err := webhook.ResolveSecrets(routes, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := webhook.CheckTokenRoutes(routes, 0); err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, r := range routes {
		sources[r.Source] = true
	}
	for _, s := range []string{"signed", "github", "gitlab", "jira", "token"} {
		if !sources[s] {
			t.Errorf("no %s route", s)
		}
	}
}

package webhook

import (
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook/routesyaml"
)

// The tests read routes in YAML too, as the webhook function does (its
// main sets YAML).
func init() { YAML = routesyaml.Decode }

// TestLoadRoutesYAMLUnset: without YAML (the scheduled and queue
// functions, which never read routes), a YAML document is refused with a
// message saying why, and JSON still loads.
func TestLoadRoutesYAMLUnset(t *testing.T) {
	defer func(y func([]byte) (any, error)) { YAML = y }(YAML)
	YAML = nil
	_, err := LoadRoutes([]byte("routes:\n  - name: r\n    source: signed\n"))
	if err == nil || !strings.Contains(err.Error(), "YAML routes are read only where shared/webhook/routesyaml is wired") {
		t.Fatalf("YAML without YAML set: %v", err)
	}
	routes, err := LoadRoutes([]byte(`[{"name":"r","source":"signed","secretEnv":"S","allow":["*"]}]`))
	if err != nil || len(routes) != 1 {
		t.Fatalf("JSON without YAML set: %v %v", routes, err)
	}
}

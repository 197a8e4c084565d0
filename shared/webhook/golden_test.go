package webhook

import (
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/testutil/golden"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden/webhook")

var goldenDir = filepath.Join("..", "..", "testdata", "golden", "webhook")

// exchange is the golden view of one request: the FC 3.0 response (body
// decoded), what was submitted and what was reported as rejected.
type exchange struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       json.RawMessage   `json:"body"`
	Submitted  []backup.Request  `json:"submitted,omitempty"`
	Plan       *backup.Plan      `json:"plan,omitempty"`
	Rejected   []backup.Request  `json:"rejected,omitempty"`
}

// TestGoldenExchanges pins the API's answers and the normalized requests
// behind them. Review the diff, then: go test ./shared/webhook -update
func TestGoldenExchanges(t *testing.T) {
	cases := []struct {
		name string
		ev   func(t *testing.T) events.HTTPEvent
	}{
		{"signed-accepted", func(*testing.T) events.HTTPEvent {
			ev := signed("POST", "/v1/backups", `{"Defaults":{"BackupMethod":"Logical"},"Backups":[{"DBInstanceId":"rm-demo-mysql1","BackupStrategy":"db","DBName":"orders,billing"},{"DBInstanceId":"rm-busy"},{"DBInstanceId":"rm-bad"}]}`, "release-bot", botSecret, nowUnix)
			return withKey(ev, "release-2026-11-24", botSecret, nowUnix)
		}},
		{"signed-forbidden", func(*testing.T) events.HTTPEvent {
			return signed("POST", "/v1/backups", `{"Backups":[{"DBInstanceId":"rm-demo-mysql1"},{"DBInstanceId":"rm-prod-payments"}]}`, "release-bot", botSecret, nowUnix)
		}},
		{"signed-bad-request", func(*testing.T) events.HTTPEvent {
			return signed("POST", "/v1/backups", `{"DBInstanceId":"rm-demo-mysql1","Strategy":"db"}`, "release-bot", botSecret, nowUnix)
		}},
		{"signed-stale", func(*testing.T) events.HTTPEvent {
			return signed("POST", "/v1/backups", okBody, "release-bot", botSecret, nowUnix-600)
		}},
		{"job-status", func(*testing.T) events.HTTPEvent {
			return signed("GET", "/v1/backups/rm-demo-mysql1/1000001", "", "release-bot", botSecret, nowUnix)
		}},
		{"github-deployment", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment", nil)
		}},
		{"github-deployment-payload", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment-payload", nil)
		}},
		{"github-ping", func(t *testing.T) events.HTTPEvent { return hookEvent(t, "/v1/hooks/github", "github-ping", nil) }},
		{"github-other-event", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/github", "github-deployment", map[string]string{"X-GitHub-Event": "push"})
		}},
		{"gitlab-deployment", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/gitlab", "gitlab-deployment", nil)
		}},
		{"gitlab-deployment-success", func(t *testing.T) events.HTTPEvent {
			return hookEvent(t, "/v1/hooks/gitlab", "gitlab-deployment-success", nil)
		}},
		{"gitlab-pipeline", func(t *testing.T) events.HTTPEvent { return hookEvent(t, "/v1/hooks/gitlab", "gitlab-pipeline", nil) }},
		{"not-found", func(*testing.T) events.HTTPEvent { return httpEvent("GET", "/admin", "", nil) }},
		{"method-not-allowed", func(*testing.T) events.HTTPEvent { return httpEvent("PUT", "/v1/backups", "", nil) }},
		{"healthz", func(*testing.T) events.HTTPEvent { return httpEvent("GET", "/healthz", "", nil) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			resp := hs.h.Handle(context.Background(), tc.ev(t))
			checkResponse(t, resp)
			x := exchange{StatusCode: resp.StatusCode, Headers: resp.Headers, Body: json.RawMessage(resp.Body), Rejected: hs.rej.Requests()}
			for _, c := range hs.sub.Calls() {
				x.Submitted = append(x.Submitted, c.Reqs...)
				if c.Plan.Select != nil {
					p := c.Plan
					x.Plan = &p
				}
			}
			golden.Check(t, filepath.Join(goldenDir, tc.name+".golden.json"), golden.JSON(t, x), *update)
		})
	}
}

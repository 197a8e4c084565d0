package webhook

import (
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// TestOldDeliveryMakesNoAsk: a GitHub or GitLab delivery whose event time
// is older than MaxAskAge when it arrives (the handler's clock) is a 202
// "ignored" naming the field, the age and the rule — GitHub does not retry
// a 2xx — and nothing is submitted or published; one just inside the age is
// submitted as before.
func TestOldDeliveryMakesNoAsk(t *testing.T) {
	ghCreated := time.Date(2019, 5, 15, 15, 20, 53, 0, time.UTC) // deployment.created_at of github-deployment.json
	glChanged := time.Date(2026, 11, 24, 6, 41, 11, 0, time.UTC) // status_changed_at of gitlab-deployment.json
	glPipeline := time.Date(2026, 11, 24, 6, 30, 0, 0, time.UTC) // object_attributes.created_at of gitlab-pipeline.json
	ghEv := func(t *testing.T) events.HTTPEvent { return hookEvent(t, "/v1/hooks/github", "github-deployment", nil) }
	glDep := func(t *testing.T) events.HTTPEvent { return hookEvent(t, "/v1/hooks/gitlab", "gitlab-deployment", nil) }
	glPipe := func(t *testing.T) events.HTTPEvent { return hookEvent(t, "/v1/hooks/gitlab", "gitlab-pipeline", nil) }
	tests := []struct {
		name     string
		ev       func(t *testing.T) events.HTTPEvent
		at       time.Time // the handler's clock
		maxAge   time.Duration
		instance string // submitted; "" for none
		reason   []string
	}{
		{"GitHub delivery replayed 25 h after created_at", ghEv, ghCreated.Add(25 * time.Hour), 0, "",
			[]string{"deployment.created_at 2019-05-15T15:20:53Z is 25h old", "older than the max ask age 24h (BACKUP_MAX_ASK_AGE)", "makes no backup"}},
		{"GitHub delivery 23 h after created_at", ghEv, ghCreated.Add(23 * time.Hour), 0, "rm-hello-world-1", nil},
		{"GitHub delivery exactly at the max age", ghEv, ghCreated.Add(24 * time.Hour), 0, "rm-hello-world-1", nil},
		{"GitHub delivery a second past the max age", ghEv, ghCreated.Add(24*time.Hour + time.Second), 0, "",
			[]string{"is 24h0m1s old", "max ask age 24h"}},
		{"a configured max age", ghEv, ghCreated.Add(3 * time.Hour), 2 * time.Hour, "",
			[]string{"is 3h old", "max ask age 2h"}},
		{"GitHub created_at in the future is not judged", ghEv, ghCreated.Add(-time.Hour), 0, "rm-hello-world-1", nil},
		{"GitLab deployment 25 h after status_changed_at", glDep, glChanged.Add(25 * time.Hour), 0, "",
			[]string{"status_changed_at 2026-11-24T06:41:11Z is 25h old", "max ask age 24h"}},
		{"GitLab deployment 23 h after status_changed_at", glDep, glChanged.Add(23 * time.Hour), 0, "rm-gl-1", nil},
		{"GitLab pipeline 25 h after created_at", glPipe, glPipeline.Add(25 * time.Hour), 0, "",
			[]string{"object_attributes.created_at 2026-11-24T06:30:00Z is 25h old"}},
		{"GitLab pipeline 23 h after created_at", glPipe, glPipeline.Add(23 * time.Hour), 0, "rm-gl-2", nil},
	}
	tests = append(tests, struct {
		name     string
		ev       func(t *testing.T) events.HTTPEvent
		at       time.Time
		maxAge   time.Duration
		instance string
		reason   []string
	}{"no limit (MaxAskAge 0 in the handler's own tests)", ghEv, ghCreated.Add(7 * 365 * 24 * time.Hour), -1, "rm-hello-world-1", nil})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, func(c *Config) {
				c.MaxAskAge = tc.maxAge
				if c.MaxAskAge == 0 {
					c.MaxAskAge = DefaultMaxAskAge
				}
				c.Now = func() time.Time { return tc.at }
			})
			resp := hs.h.Handle(t.Context(), tc.ev(t))
			d := checkResponse(t, resp)
			if resp.StatusCode != 202 {
				t.Fatalf("status %d, want 202: %s", resp.StatusCode, resp.Body)
			}
			calls := hs.sub.Calls()
			if tc.instance != "" {
				if len(calls) != 1 || len(calls[0].Reqs) != 1 || calls[0].Reqs[0].DBInstanceId != tc.instance {
					t.Fatalf("submitted %+v, want one request for %s; answer %s", calls, tc.instance, resp.Body)
				}
				return
			}
			if len(calls) != 0 || len(hs.rej.Requests()) != 0 {
				t.Fatalf("an old delivery was submitted (%d calls) or published (%d rejected)", len(calls), len(hs.rej.Requests()))
			}
			if d.Body["status"] != "ignored" {
				t.Fatalf("answer %s, want status ignored", resp.Body)
			}
			reason, _ := d.Body["reason"].(string)
			for _, want := range tc.reason {
				if !strings.Contains(reason, want) {
					t.Errorf("reason %q does not say %q", reason, want)
				}
			}
			if log := hs.logs.String(); !strings.Contains(log, `"reason":"ignored: `) || !strings.Contains(log, "BACKUP_MAX_ASK_AGE") {
				t.Errorf("the log line does not give the reason:\n%s", log)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24h", 25 * time.Hour: "25h", 90 * time.Minute: "1h30m", time.Minute: "1m",
		24*time.Hour + time.Second: "24h0m1s", 1500 * time.Millisecond: "2s", 816 * time.Hour: "816h",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

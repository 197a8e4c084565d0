package webhook_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

// benchSubmitter accepts every request at once, so the benchmark measures
// the handler alone: decoding, authentication, normalization, response.
type benchSubmitter struct{}

func (benchSubmitter) Submit(_ context.Context, _ backup.Trigger, reqs []backup.Request, _ backup.Plan) []backup.Outcome {
	out := make([]backup.Outcome, len(reqs))
	for i, r := range reqs {
		out[i] = backup.Outcome{Status: backup.StatusAccepted, Terminal: true, Request: r,
			BackupJobId: "34762185" + strconv.Itoa(i%10), RequestId: "606EA3074344430D4C810001"}
	}
	return out
}

// BenchmarkSignedPost is one signed POST /v1/backups through HandleRaw, as
// the webhook function receives it: the FC 3.0 HTTP event of
// testdata/events/http.json with a real signature, from a signed route's
// caller, with one request or a plan of ten.
func BenchmarkSignedPost(b *testing.B) {
	const secret = "release-bot-secret-0123456789"
	const ts = int64(1795500000)
	routes, err := webhook.LoadRoutes([]byte(`{"routes":[{"name":"release-bot","source":"signed","secretEnv":"BOT_SECRET","allow":["rm-demo-*"]}]}`))
	if err != nil {
		b.Fatal(err)
	}
	h := webhook.New(webhook.Config{
		Routes:  routes,
		Secrets: map[string]string{"BOT_SECRET": secret},
		Now:     func() time.Time { return time.Unix(ts+2, 0) },
		Logger:  slog.New(slog.DiscardHandler),
	}, benchSubmitter{}, nil, nil)

	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", "http.json"))
	if err != nil {
		b.Fatal(err)
	}
	plan := `{"Defaults":{"BackupMethod":"Physical"},"Backups":[`
	for i := range 10 {
		if i > 0 {
			plan += ","
		}
		plan += `{"DBInstanceId":"rm-demo-` + strconv.Itoa(i) + `"}`
	}
	plan += "]}"
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"request", `{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"orders"}`, 1},
		{"plan-10", plan, 10},
	} {
		var ev events.HTTPEvent
		if err := json.Unmarshal(sample, &ev); err != nil {
			b.Fatal(err)
		}
		ev.Body = c.body
		ev.Headers["X-Caller"] = "release-bot"
		ev.Headers["X-Timestamp"] = strconv.FormatInt(ts, 10)
		ev.Headers["X-Signature-256"] = webhook.SignV1(secret, ts, "POST", ev.RawPath, nil, []byte(c.body))
		raw, err := json.Marshal(ev)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := h.HandleRaw(ctx, raw)
				if err != nil || resp.StatusCode != 202 {
					b.Fatalf("status %d, %v: %s", resp.StatusCode, err, resp.Body)
				}
				if _, err := json.Marshal(resp); err != nil { // what the runtime sends back
					b.Fatal(err)
				}
			}
		})
	}
}

package webhook_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
)

type acceptAll struct{}

func (acceptAll) Submit(_ context.Context, _ backup.Trigger, reqs []backup.Request, _ backup.Plan) []backup.Outcome {
	out := make([]backup.Outcome, len(reqs))
	for i, r := range reqs {
		out[i] = backup.Outcome{Status: backup.StatusAccepted, Request: r, BackupJobId: "1000001"}
	}
	return out
}

// A signed request: X-Signature-256 is "v1=" and the HMAC-SHA256, with the
// caller's secret, of "<X-Timestamp>\n<METHOD>\n<path>\n<canonical
// query>\n<hex SHA-256 of the raw body>\n<Idempotency-Key>" (the last line
// empty without the header, as here).
func ExampleSignV1() {
	routes, err := webhook.LoadRoutes([]byte(`
routes:
  - name: release-bot
    source: signed
    secretEnv: RELEASE_BOT_SECRET
    allow: ["rm-shop*"]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	secrets, err := webhook.ResolveSecrets(routes, func(string) string { return "s3cret" })
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := int64(1795500000) // unix seconds; in real use time.Now().Unix()
	h := webhook.New(webhook.Config{
		Routes:  routes,
		Secrets: secrets,
		Now:     func() time.Time { return time.Unix(ts+2, 0) }, // the server's clock, 2s later
		Logger:  slog.New(slog.DiscardHandler),
	}, acceptAll{}, nil, nil)

	body := `{"DBInstanceId":"rm-shop1","BackupMethod":"Physical"}`
	ev := events.HTTPEvent{
		RawPath: "/v1/backups",
		Body:    body,
		Headers: map[string]string{
			"x-caller":        "release-bot",
			"x-timestamp":     strconv.FormatInt(ts, 10),
			"x-signature-256": webhook.SignV1("s3cret", ts, "POST", "/v1/backups", nil, []byte(body)),
		},
		RequestContext: events.HTTPRequestContext{HTTP: events.HTTPRequestInfo{Method: "POST", Path: "/v1/backups"}},
	}
	fmt.Println(webhook.SignV1("s3cret", ts, "POST", "/v1/backups", nil, []byte(body)))
	resp := h.Handle(context.Background(), ev)
	fmt.Println(resp.StatusCode, resp.Body)
	// Output:
	// v1=5be919709023fa2930be7c2b36d0e0aa3cda19909e34e11eefa0936f000782e7
	// 202 {"requests":[{"status":"accepted","DBInstanceId":"rm-shop1","BackupJobId":"1000001","correlationId":"a847d8f034a276a8","idempotencyKey":"a847d8f034a276a8757152f8a99d5713","askedAt":"2026-11-24T06:00:00Z"}]}
}

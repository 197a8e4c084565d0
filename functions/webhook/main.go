// Command webhook is the HTTP-triggered function: authenticated GitHub and
// GitLab webhooks, signed JSON POST /v1/backups, and the job status endpoint.
package main

import (
	"fmt"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/fc-rds-backup/fc-rds-backup/shared/app"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook"
	"github.com/fc-rds-backup/fc-rds-backup/shared/webhook/routesyaml"
)

func main() {
	webhook.YAML = routesyaml.Decode // BACKUP_ROUTES may be YAML (only this function links yaml.v3)
	cfg, err := config.Load(os.Environ(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
	a, err := app.New("webhook", cfg, app.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
	fc.Start(a.HandleHTTP)
}

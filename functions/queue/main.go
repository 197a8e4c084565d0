// Command queue is the MNS-queue-triggered function (EventBridge, CloudEvents
// batches): backup requests, fan-out items, deferred retries, job tracking
// and parked outcomes; every message of a batch is settled on its own.
package main

import (
	"fmt"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/fc-rds-backup/fc-rds-backup/shared/app"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
)

func main() {
	cfg, err := config.Load(os.Environ(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "queue:", err)
		os.Exit(1)
	}
	a, err := app.New("queue", cfg, app.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "queue:", err)
		os.Exit(1)
	}
	fc.Start(a.HandleQueue)
}

// Command scheduled is the timer-triggered function: it runs the backup plan in
// the trigger's payload (explicit targets and tag/engine selectors), inline
// when small, fanned out to the work queue when large.
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
		fmt.Fprintln(os.Stderr, "scheduled:", err)
		os.Exit(1)
	}
	a, err := app.New("scheduled", cfg, app.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "scheduled:", err)
		os.Exit(1)
	}
	fc.Start(a.HandleTimer)
}

package notify_test

import (
	"fmt"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/notify"
)

func ExampleBuildEvent() {
	o := backup.Outcome{
		Status:      backup.StatusAccepted,
		Request:     backup.Request{DBInstanceId: "rm-1", IdempotencyKey: "k1"},
		BackupJobId: "347621853",
		Time:        time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC),
	}
	ev := notify.BuildEvent("webhook", o)
	fmt.Println(ev.Type, ev.Source, ev.Subject, ev.Data.Terminal)
	// Built again (a retry, a re-pushed batch), the outcome has the same id.
	fmt.Println(ev.ID == notify.BuildEvent("queue", o).ID)
	// Output:
	// rds.backup.accepted fc-rds-backup/webhook rm-1 false
	// true
}

func ExamplePolicy_Allows() {
	deferred := backup.Outcome{Status: backup.StatusDeferred, Terminal: true}
	failed := backup.Outcome{Status: backup.StatusFailed}
	for _, p := range []notify.Policy{notify.PolicyAll, notify.PolicyTerminal, notify.PolicyFailures} {
		fmt.Println(p, p.Allows(deferred), p.Allows(failed))
	}
	// Output:
	// all true true
	// terminal false true
	// failures false true
}

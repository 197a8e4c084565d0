package rampolicy_test

import (
	"fmt"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/rampolicy"
)

func ExampleRender() {
	doc, err := rampolicy.Render(map[string]string{
		"region": "cn-shanghai", "accountId": "1234567890123456",
		"workQueue": "rds-backup-work", "notifyQueue": "rds-backup-notify", "deadLetterQueue": "rds-backup-dead",
		"ledgerInstance": "rds-asks", "ledgerTable": "rds_backup_asks",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := rampolicy.Parse(doc)
	fmt.Println(p.Statement[2].Resource[0])
	fmt.Println(p.Statement[4].Resource[0])

	_, err = rampolicy.Render(map[string]string{"region": "cn-shanghai"})
	fmt.Println(err)
	// Output:
	// acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-work
	// acs:ots:*:*:instance/rds-asks/table/rds_backup_asks
	// rampolicy: no value for accountId, deadLetterQueue, ledgerInstance, ledgerTable, notifyQueue, workQueue
}

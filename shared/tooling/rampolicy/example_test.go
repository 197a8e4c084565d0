package rampolicy_test

import (
	"fmt"

	"github.com/fc-rds-backup/fc-rds-backup/shared/tooling/rampolicy"
)

func ExampleRender() {
	doc, err := rampolicy.Render(map[string]string{
		"region": "cn-shanghai", "accountId": "1234567890123456",
		"workQueue": "rds-backup-work", "notifyQueue": "rds-backup-notify", "deadLetterQueue": "rds-backup-dead",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := rampolicy.Parse(doc)
	fmt.Println(p.Statement[2].Resource[0])

	_, err = rampolicy.Render(map[string]string{"region": "cn-shanghai"})
	fmt.Println(err)
	// Output:
	// acs:mns:cn-shanghai:1234567890123456:/queues/rds-backup-work
	// rampolicy: no value for accountId, deadLetterQueue, notifyQueue, workQueue
}

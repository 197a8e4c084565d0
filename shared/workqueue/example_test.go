package workqueue_test

import (
	"fmt"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/workqueue"
)

func Example() {
	m := workqueue.Track(backup.Request{DBInstanceId: "rm-1"}, "347621853", time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC))
	body, _ := workqueue.Encode(m)
	fmt.Println(body)

	// The queue function tells internal messages from users' requests.
	fmt.Println(workqueue.IsEnvelope([]byte(body)), workqueue.IsEnvelope([]byte(`{"DBInstanceId":"rm-1"}`)))

	back, _ := workqueue.Decode([]byte(body))
	fmt.Println(back.Kind, back.BackupJobId)

	_, err := workqueue.Decode([]byte(`{"v":1,"kind":"track","backupJobId":"1"}`))
	fmt.Println(err)
	// Output:
	// {"v":1,"kind":"track","request":{"DBInstanceId":"rm-1","trigger":{"kind":""},"idempotencyKey":"","correlationId":""},"backupJobId":"347621853","started":"2026-11-24T18:00:00Z"}
	// true false
	// track 347621853
	// workqueue: request: required in a "track" message
}

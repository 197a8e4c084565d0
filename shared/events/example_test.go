package events_test

import (
	"fmt"

	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
)

// A batch from the FC 3.0 MNS queue trigger: each message is normalized on
// its own, so the bad one does not stop the good one.
func ExampleParseMNS() {
	batch := `[
	  {"id":"M1","source":"MNS-q","specversion":"1.0","type":"mns:Queue:SendMessage",
	   "subject":"acs:mns:cn-hangzhou:1649015465570001:queues/rds-backup-requests",
	   "data":{"requestId":"R1","messageId":"M1","messageBody":"{\"DBInstanceId\":\"rm-1\",\"BackupMethod\":\"Physical\"}"}},
	  {"id":"M2","source":"MNS-q","specversion":"1.0","type":"mns:Queue:SendMessage",
	   "subject":"acs:mns:cn-hangzhou:1649015465570001:queues/rds-backup-requests",
	   "data":{"requestId":"R2","messageId":"M2","messageBody":"{\"DBInstanceID\":\"rm-2\"}"}}
	]`
	msgs, err := events.ParseMNS([]byte(batch))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range msgs {
		reqs, _, err := m.Requests()
		if err != nil {
			fmt.Println(m.ID, "rejected:", err)
			continue
		}
		for _, r := range reqs {
			fmt.Println(m.ID, m.Source, r.DBInstanceId, r.BackupMethod, r.Trigger.Kind, len(r.IdempotencyKey))
		}
	}
	// Output:
	// M1 rds-backup-requests rm-1 Physical mns 32
	// M2 rejected: mns message "M2": Parameters.Invalid: DBInstanceID: unknown field (allowed here: DBInstanceId, BackupMethod, BackupStrategy, DBName, BackupType, RegionId, AccountId)
}

// The timer trigger's payload is a string holding the plan JSON.
func ExampleParseTimer() {
	ev, err := events.ParseTimer([]byte(`{"triggerTime":"2026-11-24T02:00:00Z","triggerName":"nightly",
	  "payload":"{\"Defaults\":{\"BackupMethod\":\"Snapshot\"},\"Backups\":[{\"DBInstanceId\":\"rm-1\"},{\"DBInstanceId\":\"rm-2\"}]}"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	reqs, _, err := ev.Requests()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range reqs {
		fmt.Println(r.DBInstanceId, r.BackupMethod, r.Trigger.Source, r.Trigger.DeliveryId)
	}
	// Output:
	// rm-1 Snapshot nightly 2026-11-24T02:00:00Z
	// rm-2 Snapshot nightly 2026-11-24T02:00:00Z
}

// Package rampolicy is the RAM policy the functions' role needs, as an
// embedded JSON document in RAM's format, with placeholders that Render
// fills in (RAM.md is the README snippet).
//
// Two variants: Queue (policy.json, outcomes go to a notify queue) and Topic
// (policy-topic.json, outcomes go to a topic with mns:PublishMessage). Both
// grant:
//
//   - rds:CreateBackup, rds:DescribeBackupTasks, rds:DescribeBackups,
//     rds:DescribeDBInstanceAttribute and rds:DescribeDatabases on
//     acs:rds:*:*:dbinstance/* (any region: a request names its RegionId);
//   - rds:DescribeDBInstances on "*" (it lists instances and cannot be
//     scoped to one);
//   - on the work queue: mns:SendMessage, mns:BatchSendMessage;
//   - mns:SendMessage on the notify queue (Queue variant) and on the
//     dead-letter queue (the scheduled function's asynchronous-invocation
//     failure destination); mns:PublishMessage on the notify topic (Topic
//     variant);
//   - the ask ledger's Tablestore row calls ots:GetRow, ots:PutRow,
//     ots:UpdateRow, ots:BatchWriteRow and ots:GetRange (an instance's rows
//     and send markers in one read; the report's problem rows) on its table
//     only,
//     acs:ots:*:*:instance/${ledgerInstance}/table/${ledgerTable} (any
//     region: the ledger's instance need not be in the functions' region).
//
// Nothing to read the work queue: its trigger is an EventBridge event
// stream, which receives, deletes and changes the visibility of messages
// with EventBridge's own service-linked role; no function calls
// ReceiveMessage, DeleteMessage or ChangeMessageVisibility.
//
// MNS resources are given both as /queues/<name> and /queues/<name>/messages
// (the form MNS's authorization table uses for message operations), with the
// placeholders ${region}, ${accountId}, ${workQueue}, ${notifyQueue},
// ${deadLetterQueue}, ${ledgerInstance}, ${ledgerTable} and, in the Topic
// variant, ${notifyTopic}.
//
// Limiting which instances can be backed up: add a Condition on the
// instance's tags to the first statement, for example
//
//	"Condition": {
//	  "StringEquals": {
//	    "rds:ResourceTag/backup": ["enabled"]
//	  }
//	}
//
// so CreateBackup (and the instance reads) succeed only on instances tagged
// backup=enabled. Alibaba Cloud's tag-based authorization also documents the
// global key acs:ResourceTag/<key>; use the key that RDS's authorization
// table lists for CreateBackup in your account, and test it with a denied
// instance before relying on it.
//
// RDSActions, MNSActions and OTSActions are the actions the code calls; the test checks
// that the two variants together grant exactly those, and shared/tooling/deploy's
// test derives them from the SDK calls of the shipped code.
package rampolicy

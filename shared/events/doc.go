// Package events decodes every event shape Function Compute 3.0 delivers to
// the functions of fc-rds-backup and normalizes it into backup requests
// (DESIGN.md §2 "decode" and "normalize").
//
// One file per event source, each type with wire-exact JSON tags
// (reference/fc-platform.md §1):
//
//   - timer.go: the timer trigger's {triggerTime, triggerName, payload}.
//     payload is a STRING holding the plan JSON; Plan parses it a second
//     time with backup.ParsePlan.
//   - mnsqueue.go: MNS deliveries. ParseMNS accepts the FC 3.0 EventBridge
//     batch (a JSON array of CloudEvents, any size, also empty), a single
//     CloudEvent, the RawData push format (array or object of
//     {requestId, messageId, messageBody}), the mns_topic JSON notification
//     (numeric PublishTime, extra attribute keys at the top level), the
//     STREAM-with-attributes form {"body","attrs"} and a raw STREAM body.
//     Each message is normalized on its own (MNSMessage.Requests), so one
//     bad message never fails its batch.
//   - http.go: the FC 3.0 HTTP trigger event in, the FC 3.0 response out
//     ({statusCode, headers, isBase64Encoded, body}; headers never null).
//   - github.go, gitlab.go, jira.go: the webhook payloads the webhook function acts on
//     (GitHub deployment and ping; GitLab Deployment Hook and Pipeline Hook),
//     with only the fields it needs.
//
// # Normalization
//
// Every source ends in NormalizePlan: one backup.Request per explicit backup
// of a backup.Plan (defaults applied), with the trigger it came from and two
// ids:
//
//   - IdempotencyKey = backup.Key(trigger kind, trigger source, delivery id,
//     any extra key parts, the instance and the five parameters). The same
//     ask always yields the same key: an MNS redelivery (same message id), a
//     re-sent webhook (same X-GitHub-Delivery, same GitLab deployment or
//     pipeline id) or an FC retry of a timer event (same triggerTime).
//     Identical backups within one plan collapse to one request.
//   - CorrelationId = the first 16 hex digits of the idempotency key: fresh
//     for every new ask, yet the same when the same ask is repeated, so logs
//     and outcomes of a redelivery line up.
//
// Selectors (Plan.Select) are not expanded here; the plan is returned with
// the requests so the caller can expand it through DescribeDBInstances.
//
// Decoding is tolerant where the platform varies (unknown fields of the
// platform's own envelopes are ignored) and strict where users write
// (the request JSON refuses unknown fields by name, via backup.ParsePlan).
// Errors that concern a user's request are *backup.Violation values
// (wrapped; use errors.As), so callers can publish a rejected outcome with
// the code, field and message.
package events

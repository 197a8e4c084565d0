// Package localcloud composes the local cloud: the RDS, MNS, Tablestore and
// STS emulators (localcloud/rds, localcloud/mns, localcloud/tablestore,
// localcloud/sts) sharing one identity store (localcloud/auth), so that a
// credential STS issues for a fleet role works on every emulator as a key
// of the role's account, the three function binaries built from functions/ and
// run under the FC emulator (localcloud/fc) with their triggers, a fleet
// file (DESIGN.md §7), and demo webhook routes with their secrets.
//
// Faults come from the fleet file ("faults" for RDS, "mnsFaults" for MNS,
// "otsFaults" for Tablestore, "stsFaults" for STS, "faultSeed") and, while the stack runs, from its admin API: POST /faults
// adds a body of the same shape, DELETE /faults clears them all, GET
// /faults and GET /state list what is pending. A mistake is refused whole
// with a 400 that names the entry and the field ("mnsFaults[1].rate: ...").
// See rds.Fault, MNSFault, OTSFault and STSFault for the fields: status/code, rate (seeded),
// times, latencyMs, drop and after (the action runs, its answer is lost).
//
// Crashes ("crashes" in the same places) kill a function's process when the
// emulators see a given call, e.g. {"action":"CreateBackup","crash":"queue",
// "nth":3,"when":"after"}: when the third CreateBackup has made its job,
// every running process of the queue function is SIGKILLed and the call's
// answer never sent. The emulators report each call to an observer before
// and after its action; the composition counts them and calls the FC
// emulator's Kill, which fails the invocation in flight as FC does; the
// work queue's trigger (asynchronous, as deployed) then has FC retry the
// invocation, and a new instance takes it. See
// Crash.
//
// It is used by the devstack CLI and by end-to-end tests; nothing of it
// ships in a function binary, and the emulators it composes import nothing
// of the product. Not modeled beyond what its parts model: see the doc of
// the rds, mns, tablestore, sts and fc packages. Crashes are triggered by
// RDS and MNS calls only (the Tablestore and STS emulators have no
// observer).
package localcloud

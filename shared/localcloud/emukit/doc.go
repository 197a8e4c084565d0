// Package emukit is what the local cloud's emulators share:
//
//   - the clock: Clock, ClockFunc, Real, FakeClock, Sleeper, and Sleep,
//     which spends an injected latency on a clock that can sleep, or in
//     real time cut short by the server closing or the client going away;
//   - the scripted faults: Faults, the list a fault is taken from (the
//     first that matches, in the order injected; a Rate below 1 decided by
//     a generator seeded once, so a run repeats; a Times countdown), Latency,
//     and FaultOutcome, what a fired fault answers (drop, an error with the
//     table's status and message as defaults, a raw status, or nothing);
//   - the HTTP plumbing: Serve, Shutdown and Drop (close a connection
//     without an answer), which mns uses too.
//
// It imports only the standard library: the emulators are an independent
// oracle and share no code with the product
// (shared/tooling/deploy TestEmulatorsImportNothingOfTheProduct). What
// differs per service stays in each emulator: its Fault type and what a
// fault matches (rds: action, instance and kind; sts: action and role ARN
// without regard to case; tablestore: action and any table of the
// request), its error bodies and code tables, and when an After fault's
// latency is spent. mns keeps its own fault list: there Times 0 means once
// and a negative Times every request, and Faults shows the count as is.
package emukit

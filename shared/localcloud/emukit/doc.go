// Package emukit is what the local cloud's emulators share: the clock
// (Clock, ClockFunc, Real, FakeClock, Sleeper, and Sleep, which spends
// an injected latency on a clock that can sleep or in real time).
//
// It imports only the standard library: the emulators are an independent
// oracle and share no code with the product
// (shared/tooling/deploy TestEmulatorsImportNothingOfTheProduct).
package emukit

// Package localcloud composes the local cloud: the RDS and MNS emulators
// (rdstest, mnstest) sharing one identity store, the three function
// binaries built from functions/ and run under the FC runtime emulator
// (fctest) with their triggers, a fleet file (DESIGN.md §7), and demo
// webhook routes with their secrets.
//
// It is used by the devstack CLI and by end-to-end tests; nothing of it
// ships in a function binary. Not modeled beyond what its parts model: see
// the doc of rdstest, mnstest and fctest.
package localcloud

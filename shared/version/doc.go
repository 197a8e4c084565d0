// Package version says which build of fc-rds-backup is running: the
// release's tag stamped at link time by `make dist`
// (-ldflags "-X github.com/fc-rds-backup/fc-rds-backup/shared/version.stamp=v1.2.3"),
// else what the Go toolchain recorded (the module version of a
// `go install …@v1.2.3`, or the VCS revision of a build from a clone),
// else "dev".
package version

package version

import (
	"runtime/debug"
	"sync"
)

// stamp is set at link time by `make dist` (-X); empty otherwise.
var stamp string

var (
	once sync.Once
	str  string
)

// String is the running build's version: the link-time stamp, else the
// module version the toolchain recorded (not "(devel)"), else the VCS
// revision (12 hex digits, "+dirty" when the tree was modified), else
// "dev".
func String() string {
	once.Do(func() { str = resolve(stamp, debug.ReadBuildInfo) })
	return str
}

func resolve(stamp string, read func() (*debug.BuildInfo, bool)) string {
	if stamp != "" {
		return stamp
	}
	bi, ok := read()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "dev"
	}
	return "dev-" + rev + dirty
}

package version

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	info := func(v string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Version: v}, Settings: settings}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "6c52ac6d0f1e2b3c4d5e6f708192a3b4c5d6e7f8"}
	dirty := debug.BuildSetting{Key: "vcs.modified", Value: "true"}
	for _, tc := range []struct {
		name, stamp string
		read        func() (*debug.BuildInfo, bool)
		want        string
	}{
		{"the release stamp wins", "v1.2.0", info("v1.1.0", rev), "v1.2.0"},
		{"go install of a tag", "", info("v1.1.0"), "v1.1.0"},
		{"a clone's build", "", info("(devel)", rev), "dev-6c52ac6d0f1e"},
		{"a modified clone", "", info("(devel)", rev, dirty), "dev-6c52ac6d0f1e+dirty"},
		{"no VCS", "", info("(devel)"), "dev"},
		{"no build info", "", none, "dev"},
	} {
		if got := resolve(tc.stamp, tc.read); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

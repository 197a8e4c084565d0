package main

import (
	"os"
	"testing"
	"time"
)

func TestParseSchedstat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"123456789 2000 17\n", 123456789 * time.Nanosecond, true},
		{"0 0 0", 0, true},
		{"", 0, false},
		{"123 456", 0, false},                  // two fields: not a schedstat line
		{"1 2 3 4", 0, false},                  // four
		{"-5 2000 17", 0, false},               // negative time
		{"12ms 2000 17", 0, false},             // not a count
		{"1e9 2000 17", 0, false},              // not an integer
		{"99999999999999999999 1 1", 0, false}, // overflows
	} {
		got, err := parseSchedstat([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSchedstat(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestProcCPU(t *testing.T) {
	// This process has run (at least the test binary's start-up): its CPU
	// is positive, read to the nanosecond rather than in 10 ms ticks.
	d, err := procCPU(os.Getpid())
	if err != nil || d <= 0 {
		t.Fatalf("procCPU(self) = %v, %v; want a positive duration", d, err)
	}
	if _, err := procCPU(1 << 30); err == nil {
		t.Error("procCPU of a process that does not exist: no error")
	}
}

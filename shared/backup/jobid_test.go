package backup

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseJobID(t *testing.T) {
	tests := []struct {
		in   string
		want int32
		ok   bool
	}{
		{"1", 1, true},
		{"347621853", 347621853, true},
		{"2147483647", 2147483647, true},
		{"2147483648", 0, false},
		{"4294967296", 0, false},
		{"9999999999", 0, false},
		{strings.Repeat("9", 30), 0, false},
		{"0", 0, false},
		{"00", 0, false},
		{"007", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1e3", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"0x10", 0, false},
		{"١", 0, false}, // a non-ASCII digit
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseJobID(tc.in)
		if got != tc.want || ok != tc.ok || ValidJobID(tc.in) != tc.ok {
			t.Errorf("ParseJobID(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseJobID(f *testing.F) {
	for _, s := range []string{"1", "2147483647", "2147483648", "007", "-1", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseJobID(s)
		if !ok {
			return
		}
		if n < 1 || strconv.FormatInt(int64(n), 10) != s {
			t.Fatalf("ParseJobID(%q) = %d: not the one spelling of a positive int32", s, n)
		}
	})
}

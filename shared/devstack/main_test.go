package main

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/fc"
)

func TestUsageListsEveryFlagOfEveryCommand(t *testing.T) {
	u := usage()
	for _, c := range commands {
		if !strings.Contains(u, "devstack "+c.name+" ") {
			t.Errorf("usage lacks the command %s", c.name)
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.define(fs)
		fs.VisitAll(func(f *flag.Flag) {
			name := "--" + f.Name
			if len(f.Name) == 1 {
				name = "-" + f.Name
			}
			if !strings.Contains(u, "    "+name+" ") {
				t.Errorf("usage lacks %s %s", c.name, name)
			}
		})
	}
}

func TestCommandLineMistakesExit2(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"nope"},
		{"invoke", "--no-such-flag"},
		{"invoke", "--function", "nope", "--event", "x"},
		{"invoke", "--function", "queue"},
		{"invoke", "--function", "queue", "--event", "x", "--times", "0"},
		{"serve", "--fc-instances", "0"},
		{"demo", "extra"},
	} {
		if got := run(args); got != 2 {
			t.Errorf("devstack %q: exit %d, want 2", args, got)
		}
	}
}

func TestTailWriterKeepsTheLastBytesSinceTake(t *testing.T) {
	var all bytes.Buffer
	w := &tailWriter{w: &all, max: 8}
	io.WriteString(w, "first line\n")
	if got := string(w.take()); got != "st line\n" {
		t.Errorf("take = %q, want the last 8 bytes", got)
	}
	io.WriteString(w, "x")
	if got := string(w.take()); got != "x" {
		t.Errorf("take after take = %q, want only what came since", got)
	}
	if all.String() != "first line\nx" {
		t.Errorf("passed on %q", all.String())
	}
}

func TestNotStartedIsAFailureBeforeTheInvocation(t *testing.T) {
	exited := &fc.InvokeError{ErrorMessage: "Process exited unexpectedly before completing request (exit status 1)"}
	for _, tc := range []struct {
		name string
		res  fc.Result
		want bool
	}{
		{"exited before taking it", fc.Result{Error: exited}, true},
		{"exited while handling it", fc.Result{Error: exited, Duration: time.Millisecond}, false},
		{"the handler's error", fc.Result{Error: &fc.InvokeError{ErrorMessage: "boom"}, Duration: time.Millisecond}, false},
		{"timed out", fc.Result{Error: exited, TimedOut: true}, false},
		{"answered", fc.Result{Response: []byte(`{}`), Duration: time.Millisecond}, false},
	} {
		if got := notStarted(tc.res); got != tc.want {
			t.Errorf("%s: notStarted = %v, want %v", tc.name, got, tc.want)
		}
	}
}

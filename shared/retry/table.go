package retry

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ClassTableMarkdown renders the classification for the README: one row per
// known code (throttling, transient, state-wait, terminal), then the rules
// for everything else.
func ClassTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| error | class | retried | why |\n|---|---|---|---|\n")
	rows := func(m map[string]string, c Class, extra string) {
		for _, code := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s%s |\n", code, c, retriedText(c), cell(m[code]), extra)
		}
	}
	rows(ThrottleCodes, Transient, "; closes the shared throttle gate")
	rows(TransientCodes, Transient, "")
	rows(StateWaitCodes, StateWait, "")
	rows(TerminalCodes, Terminal, "")
	fmt.Fprintf(&b, "| any other code, HTTP 5xx or 429 | %s | %s | server side, may pass |\n", Transient, retriedText(Transient))
	fmt.Fprintf(&b, "| any other code, HTTP 4xx | %s | %s | the request itself is refused |\n", Terminal, retriedText(Terminal))
	fmt.Fprintf(&b, "| network error, timeout, undecodable answer | %s | %s | nothing reached a decision |\n", Transient, retriedText(Transient))
	fmt.Fprintf(&b, "| the invocation's context canceled or past its deadline | %s | no | checked first; the work is deferred, never retried in a dying invocation |\n", Canceled)
	return b.String()
}

func retriedText(c Class) string {
	switch c {
	case Transient:
		return fmt.Sprintf("yes: %s–%s, full jitter", TransientBackoff.Base, TransientBackoff.Max)
	case StateWait:
		return fmt.Sprintf("yes: %s–%s, equal jitter", StateWaitBackoff.Base, StateWaitBackoff.Max)
	}
	return "no"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

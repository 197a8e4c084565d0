package webhook

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseSignatureV1: any header value parses to a 32-byte MAC only when
// it is "v1=" and 64 hex digits, and nothing panics.
func FuzzParseSignatureV1(f *testing.F) {
	for _, s := range []string{"v1=" + strings.Repeat("0f", 32), "sha256=" + strings.Repeat("ab", 32), "v1=", "v1=zz", " V1=00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		b, err := ParseSignatureV1(v)
		if err != nil {
			if b != nil {
				t.Fatalf("an error with a MAC: %x", b)
			}
			return
		}
		h := strings.TrimSpace(v)
		if len(b) != 32 || !strings.HasPrefix(h, SignatureV1Prefix) || len(h) != len(SignatureV1Prefix)+64 {
			t.Fatalf("ParseSignatureV1(%q) = %x", v, b)
		}
	})
}

// FuzzSignedRequest: a request signed with SignV1 for its own method,
// path, query and body is accepted by the handler's check, and changing
// any of them (or the time) makes it fail.
func FuzzSignedRequest(f *testing.F) {
	f.Add("POST", "/v1/backups", "", `{"DBInstanceId":"rm-demo-mysql1"}`, int64(0))
	f.Add("GET", "/v1/backups/rm-demo-pg1/1000002", "cn-shanghai", "", int64(3))
	hs := newHarness(f, testRoutes, nil)
	f.Fuzz(func(t *testing.T, method, path, region, body string, skew int64) {
		if strings.ContainsAny(path, "?#") {
			return // a path is sent without its query
		}
		if skew < -300 || skew > 300 {
			skew %= 300
		}
		q := url.Values{}
		if region != "" {
			q.Set("RegionId", region)
		}
		ts := nowUnix + skew
		ev := httpEvent(method, path, body, map[string]string{HeaderCaller: "release-bot", HeaderTimestamp: itoa(ts),
			HeaderSignature: SignV1(botSecret, ts, method, path, q, []byte(body))})
		if region != "" {
			ev.QueryParameters["RegionId"] = region
		}
		c := &call{}
		rt, _, fail := hs.h.authSigned(ev, []byte(body), c)
		if fail != nil || rt == nil {
			t.Fatalf("a correctly signed request is refused: %s (%s)", fail.Body, c.reason)
		}
		tampered := ev
		tampered.Body = body + "x"
		if _, _, fail := hs.h.authSigned(tampered, []byte(tampered.Body), &call{}); fail == nil {
			t.Fatal("another body verified")
		}
		other := ev
		other.Headers = map[string]string{HeaderCaller: "release-bot", HeaderTimestamp: itoa(ts + 1), HeaderSignature: ev.Headers[HeaderSignature]}
		if _, _, fail := hs.h.authSigned(other, []byte(body), &call{}); fail == nil {
			t.Fatal("another time verified")
		}
		moved := ev
		moved.RawPath = path + "/x"
		if _, _, fail := hs.h.authSigned(moved, []byte(body), &call{}); fail == nil {
			t.Fatal("another path verified")
		}
	})
}

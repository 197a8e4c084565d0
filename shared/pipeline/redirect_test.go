package pipeline

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestNoSignedHeadersAcrossARedirect is issue 19 item 6: Go's default
// client follows a redirect with every header, so a webhook URL answering
// 307 to another host used to receive X-Caller, X-Timestamp and
// X-Signature-256 there. The client refuses the redirect and says why.
func TestNoSignedHeadersAcrossARedirect(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		w.WriteHeader(202)
		w.Write([]byte(`{"requests":[{"status":"accepted","DBInstanceId":"rm-a","BackupJobId":"1"}]}`))
	}))
	defer other.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer hook.Close()
	otherHost := strings.TrimPrefix(other.URL, "http://")

	for name, hc := range map[string]*http.Client{"default client": nil, "caller's client": {}} {
		c := &Client{URL: hook.URL, Caller: "ci", Secret: "s3cret", HTTP: hc}
		_, postErr := c.Post(context.Background(), Ask{Instances: []string{"rm-a"}, Key: "k-1"})
		_, getErr := c.Status(context.Background(), "", "rm-a", "1")
		for _, err := range []error{postErr, getErr} {
			var he *HTTPError
			if !errors.As(err, &he) || he.Code != CodeRedirectRefused || he.Retryable() {
				t.Fatalf("%s: error %v, want a refused redirect (not retryable)", name, err)
			}
			if msg := err.Error(); !strings.Contains(msg, otherHost) || !strings.Contains(msg, "the signed request was not sent there") {
				t.Fatalf("%s: the error does not say where or why: %s", name, msg)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range seen {
		for _, k := range signingHeaders {
			if h.Get(k) != "" {
				t.Errorf("the other host received %s", k)
			}
		}
	}
	if len(seen) != 0 {
		t.Errorf("the other host received %d requests, want none", len(seen))
	}
}

// TestRedirectOnTheSameHostIsFollowed: a redirect on RDSBACKUP_URL's own
// host (a trailing-slash fix, say) is still followed.
func TestRedirectOnTheSameHostIsFollowed(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old/v1/backups/rm-a/1" {
			http.Redirect(w, r, srv.URL+"/v1/backups/rm-a/1", http.StatusTemporaryRedirect)
			return
		}
		if r.Header.Get("X-Signature-256") == "" {
			w.WriteHeader(401)
			return
		}
		w.Write([]byte(`{"DBInstanceId":"rm-a","BackupJobId":"1","BackupStatus":"Finished","terminal":true}`))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/old")
	c := &Client{URL: u.String(), Caller: "ci", Secret: "s3cret"}
	if j, err := c.Status(context.Background(), "", "rm-a", "1"); err != nil || !j.Terminal {
		t.Fatalf("same-host redirect: %+v %v", j, err)
	}
}

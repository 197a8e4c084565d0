package pipeline

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// fakeHook is the webhook function's HTTP API as scripted answers. It
// checks every request's v1 signature with the recipe of DESIGN.md §5
// (computed here, independently of SignV1) and records the requests.
type fakeHook struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	posts  []recorded
	gets   []string
	post   func(n int) (int, string) // n-th POST (1-based) → status, body
	get    func(n int) (int, string)
}

type recorded struct {
	body, key string
}

func (f *fakeHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get("X-Timestamp")
	sum := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte(f.secret))
	mac.Write([]byte(ts + "\n" + r.Method + "\n" + r.URL.Path + "\n" + r.URL.Query().Encode() + "\n" + hex.EncodeToString(sum[:]) + "\n" + r.Header.Get("Idempotency-Key")))
	if r.Header.Get("X-Signature-256") != "v1="+hex.EncodeToString(mac.Sum(nil)) || r.Header.Get("X-Caller") != "ci" {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"code":"Unauthorized","message":"missing or invalid signature"}}`)
		return
	}
	f.mu.Lock()
	var status int
	var out string
	if r.Method == http.MethodPost {
		f.posts = append(f.posts, recorded{string(body), r.Header.Get("Idempotency-Key")})
		status, out = f.post(len(f.posts))
	} else {
		f.gets = append(f.gets, r.URL.Path)
		status, out = f.get(len(f.gets))
	}
	f.mu.Unlock()
	w.WriteHeader(status)
	io.WriteString(w, out)
}

// fakeClock advances only when the gate sleeps.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

func runGate(t *testing.T, f *fakeHook, secret string, timeout time.Duration) (Verdict, error, []Event) {
	t.Helper()
	srv := httptest.NewServer(f)
	defer srv.Close()
	clk := &fakeClock{now: t0}
	c := &Client{URL: srv.URL, Caller: "ci", Secret: secret, Now: clk.Now}
	var evs []Event
	v, err := c.Gate(context.Background(), GateOptions{
		Ask:     Ask{Instances: []string{"rm-a"}, Key: "github-42-1"},
		Timeout: timeout, Poll: 10 * time.Second, Sleep: clk.Sleep,
		Observer: func(e Event) { evs = append(evs, e) },
	})
	return v, err, evs
}

func kinds(evs []Event) string {
	var k []string
	for _, e := range evs {
		k = append(k, e.Event)
	}
	return strings.Join(k, " ")
}

const accepted = `{"requests":[{"status":"accepted","DBInstanceId":"rm-a","BackupJobId":"7","correlationId":"c1"}]}`

func job(status string) string {
	return `{"DBInstanceId":"rm-a","BackupJobId":"7","BackupStatus":"` + status + `","Process":"40","terminal":` +
		map[bool]string{true: "true", false: "false"}[status == "Finished" || status == "Failed"] + `,"BackupId":"s1"}`
}

func TestGateVerdicts(t *testing.T) {
	tests := []struct {
		name    string
		post    func(n int) (int, string)
		get     func(n int) (int, string)
		secret  string
		want    Verdict
		events  string
		posts   int
		timeout time.Duration
	}{
		{name: "accepted, followed to Finished",
			post: func(int) (int, string) { return 202, accepted },
			get: func(n int) (int, string) {
				if n < 3 {
					return 200, job("Uploading")
				}
				return 200, job("Finished")
			},
			want: VerdictBackedUp, events: "asked accepted progress finished verdict", posts: 1},
		{name: "coalesced with a finished set: backed up at once",
			post: func(int) (int, string) {
				return 202, `{"requests":[{"status":"coalesced","DBInstanceId":"rm-a","BackupId":"s0","correlationId":"c1"}]}`
			},
			want: VerdictBackedUp, events: "asked finished verdict", posts: 1},
		{name: "rejected: exit 1 with the code",
			post: func(int) (int, string) {
				return 202, `{"requests":[{"status":"rejected","DBInstanceId":"rm-a","correlationId":"c1","error":{"code":"ReadDBInstanceNotSupport","message":"read-only"}}]}`
			},
			want: VerdictRefused, events: "asked rejected verdict", posts: 1},
		{name: "deferred: the same ask again after notBefore",
			post: func(n int) (int, string) {
				if n == 1 {
					return 202, `{"requests":[{"status":"deferred","DBInstanceId":"rm-a","correlationId":"c1","notBefore":"2026-11-25T10:00:30Z","error":{"code":"IncorrectDBInstanceState","message":"Rebooting"}}]}`
				}
				return 202, accepted
			},
			get:  func(int) (int, string) { return 200, job("Finished") },
			want: VerdictBackedUp, events: "asked deferred accepted finished verdict", posts: 2},
		{name: "a 503 and a NotParked entry are asked again",
			post: func(n int) (int, string) {
				switch n {
				case 1:
					return 503, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`
				case 2:
					return 202, `{"requests":[{"status":"failed","DBInstanceId":"rm-a","correlationId":"c1","error":{"code":"NotParked","message":"send the same ask again"}}]}`
				}
				return 202, accepted
			},
			get:  func(int) (int, string) { return 200, job("Finished") },
			want: VerdictBackedUp, events: "asked retry retry accepted finished verdict", posts: 3},
		{name: "a job that fails: the same ask again, then a new job",
			post: func(n int) (int, string) {
				if n == 1 {
					return 202, accepted
				}
				return 202, strings.Replace(accepted, `"7"`, `"8"`, 1)
			},
			get: func(n int) (int, string) {
				if n == 1 {
					return 200, job("Failed")
				}
				return 200, strings.Replace(job("Finished"), `"7"`, `"8"`, 1)
			},
			want: VerdictBackedUp, events: "asked accepted job-failed accepted finished verdict", posts: 2},
		// Issue 20: a 401 before any ask was accepted is "could not ask"
		// (exit 3), no longer "refused" (exit 1).
		{name: "a wrong secret: could not ask, saying so",
			post: func(int) (int, string) { return 202, accepted }, secret: "wrong",
			want: VerdictCouldNotAsk, events: "asked verdict", posts: 0},
		{name: "a job slower than the timeout: exit 2",
			post:    func(int) (int, string) { return 202, accepted },
			get:     func(int) (int, string) { return 200, job("Uploading") },
			timeout: 2 * time.Minute,
			want:    VerdictTimeout, posts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeHook{t: t, secret: "s3cret", post: tc.post, get: tc.get}
			secret := tc.secret
			if secret == "" {
				secret = "s3cret"
			}
			v, err, evs := runGate(t, f, secret, tc.timeout)
			if v != tc.want {
				t.Fatalf("verdict %v (%v), want %v; events %s", v, err, tc.want, kinds(evs))
			}
			if tc.events != "" && kinds(evs) != tc.events {
				t.Errorf("events %q, want %q", kinds(evs), tc.events)
			}
			if (v == VerdictBackedUp) != (err == nil) {
				t.Errorf("err %v with verdict %v", err, v)
			}
			if len(f.posts) != tc.posts {
				t.Fatalf("%d POSTs, want %d", len(f.posts), tc.posts)
			}
			// Every try is the same ask: the same body (with AskedAt fixed
			// at the first try) and the same key.
			for _, p := range f.posts {
				if p.body != f.posts[0].body || p.key != "github-42-1" {
					t.Errorf("try %+v differs from the first %+v", p, f.posts[0])
				}
			}
			if len(f.posts) > 0 {
				var b struct {
					AskedAt string
					Backups []struct{ DBInstanceId string }
				}
				if err := json.Unmarshal([]byte(f.posts[0].body), &b); err != nil || b.AskedAt != "2026-11-25T10:00:00Z" || len(b.Backups) != 1 {
					t.Errorf("body %s", f.posts[0].body)
				}
			}
			if last := evs[len(evs)-1]; last.Event != "verdict" || last.Verdict != v.String() {
				t.Errorf("last event %+v", last)
			}
		})
	}
}

// The 401's line tells a pipeline author what to check.
func TestGateWrongSecretSaysWhy(t *testing.T) {
	f := &fakeHook{t: t, secret: "s3cret", post: func(int) (int, string) { return 202, accepted }}
	_, err, _ := runGate(t, f, "wrong", 0)
	if err == nil || !strings.Contains(err.Error(), "RDSBACKUP_SECRET") {
		t.Errorf("error %v does not name RDSBACKUP_SECRET", err)
	}
}

// The re-send schedule of a failed POST: 1, 2, 4, 8, 16, then 30 s.
func TestGateBackoff(t *testing.T) {
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i, w := range want {
		if got := backoff(i + 1); got != w*time.Second {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Second)
		}
	}
}

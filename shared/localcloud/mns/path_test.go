package mns

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/valyala/fasthttp"
)

func TestRemoveDotSegments(t *testing.T) {
	for in, want := range map[string]string{
		"/queues/q/messages":      "/queues/q/messages",
		"/./queues/q/messages":    "/queues/q/messages",
		"/././queues/q":           "/queues/q",
		"/a/../queues/q":          "/queues/q",
		"/../queues/q":            "/queues/q",
		"/queues/q/.":             "/queues/q/",
		"/queues/q/..":            "/queues/",
		"/.":                      "/",
		"/":                       "/",
		"/queues/.hidden/x":       "/queues/.hidden/x",
		"/queues//q":              "/queues//q",
		"/./queues/q%2Fx/message": "/queues/q%2Fx/message",
	} {
		if got := removeDotSegments(in); got != want {
			t.Errorf("removeDotSegments(%q) = %q, want %q", in, got, want)
		}
	}
}

// dotTransport sends each request's path as the SDK joined it from the
// endpoint "http://127.0.0.1:PORT/." and the resource, "/./queues/...",
// where fasthttp would clean it to "/queues/...": what a client that does
// not clean paths sends (the Node SDK). The signature is the SDK's, over
// "/queues/...".
type dotTransport struct{}

func (dotTransport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	req.URI().DisablePathNormalizing = true
	return fasthttp.DefaultTransport.RoundTrip(hc, req, resp)
}

// TestDotPathFromTheGoSDK: the service resolves "/./queues/..." to
// "/queues/..." before routing and before checking the signature.
func TestDotPathFromTheGoSDK(t *testing.T) {
	srv := newServer(t)
	if err := srv.CreateQueue("q1", QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	c := client(srv)
	c.SetTransport(dotTransport{})
	q := ali_mns.NewMNSQueue("q1", c)
	if _, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "over /./"}); err != nil {
		t.Fatalf("SendMessage over /./: %v (calls %+v)", err, srv.Calls())
	}
	m, err := receive(q, 1)
	if err != nil || m.MessageBody != "over /./" {
		t.Fatalf("ReceiveMessage over /./: %q, %v", m.MessageBody, err)
	}
	if err := q.DeleteMessage(m.ReceiptHandle); err != nil {
		t.Fatalf("DeleteMessage over /./: %v", err)
	}
	if _, err := ali_mns.NewMNSQueueManager(c).GetQueueAttributes("q1"); err != nil {
		t.Fatalf("GetQueueAttributes over /./: %v", err)
	}
	calls := srv.Calls()
	if len(calls) != 4 || calls[0].Op != "SendMessage" || calls[0].URI != "/queues/q1/messages" || calls[3].Op != "GetQueueAttributes" {
		t.Errorf("calls %+v", calls)
	}
	for _, c := range calls {
		if c.Code != "" {
			t.Errorf("call %+v failed", c)
		}
	}
}

// TestNodeSDK runs the official Node.js SDK (@alicloud/mns, pinned in
// testdata/nodesdk) against the endpoint serve prints, "http://127.0.0.1:
// PORT/.": it sends "/./queues/..." and signs "/queues/...". It needs node
// and npm (npm ci fetches the pinned SDK once into its cache); it skips
// only when node is absent.
func TestNodeSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("node is installed but npm is not: %v", err)
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "mns.js"} {
		b, err := os.ReadFile(filepath.Join("testdata", "nodesdk", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	install := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}

	srv := newServer(t)
	if err := srv.CreateQueue("node-q", QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	cred := srv.Credential()
	run := exec.Command(node, "mns.js")
	run.Dir = dir
	run.Env = append(os.Environ(), "MNS_ENDPOINT="+srv.Endpoint(), "MNS_AK="+cred.AccessKeyID, "MNS_SECRET="+cred.AccessKeySecret, "MNS_QUEUE=node-q")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("node mns.js: %v\n%s\ncalls: %+v", err, out, srv.Calls())
	}
	if got := strings.TrimSpace(string(out)); got != "sent received deleted attributes" {
		t.Errorf("node mns.js printed %q", got)
	}
	msgs := srv.Messages("node-q")
	if len(msgs) != 1 || msgs[0].Body != "from node" || !msgs[0].Deleted {
		t.Errorf("messages %+v", msgs)
	}
	for _, c := range srv.Calls() {
		if c.Code != "" || strings.Contains(c.URI, "/./") {
			t.Errorf("call %+v", c)
		}
	}
}

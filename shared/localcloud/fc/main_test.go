package fc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// echoBin is testdata/echofn, built once by TestMain.
var echoBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fctest-echofn-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echoBin = filepath.Join(dir, "main")
	build := exec.Command("go", "build", "-o", echoBin, "./testdata/echofn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building testdata/echofn:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// startEcho starts echofn with cfg (Binary filled in) and closes it at the
// end of the test.
func startEcho(t *testing.T, cfg FunctionConfig) *Function {
	t.Helper()
	cfg.Binary = echoBin
	f, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// echoReply mirrors testdata/echofn's reply.
type echoReply struct {
	Event        string            `json:"event"`
	RequestID    string            `json:"requestId"`
	DeadlineMs   int64             `json:"deadlineMs"`
	AccessKeyID  string            `json:"accessKeyId"`
	AccessSecret string            `json:"accessKeySecret"`
	Token        string            `json:"securityToken"`
	Region       string            `json:"region"`
	AccountID    string            `json:"accountId"`
	RetryCount   int               `json:"retryCount"`
	FunctionName string            `json:"functionName"`
	Handler      string            `json:"handler"`
	Memory       string            `json:"memory"`
	Timeout      int               `json:"timeout"`
	Qualifier    string            `json:"qualifier"`
	InitCount    int32             `json:"initCount"`
	PID          int               `json:"pid"`
	Env          map[string]string `json:"env"`
}

func (r echoReply) event(t *testing.T) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(r.Event)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeReply decodes echofn's reply, unwrapping the FC3 HTTP response it
// returns for HTTP events.
func decodeReply(t *testing.T, raw []byte) echoReply {
	t.Helper()
	var resp struct {
		StatusCode *int   `json:"statusCode"`
		Body       string `json:"body"`
	}
	if json.Unmarshal(raw, &resp) == nil && resp.StatusCode != nil {
		raw = []byte(resp.Body)
	}
	var r echoReply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("decoding reply %s: %v", raw, err)
	}
	return r
}

// invokeOK invokes f and fails the test unless the function succeeded.
func invokeOK(t *testing.T, f *Function, payload []byte, opt InvokeOptions) echoReply {
	t.Helper()
	res, err := f.Invoke(context.Background(), payload, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() {
		t.Fatalf("invocation failed: %+v (error %+v)", res, res.Error)
	}
	return decodeReply(t, res.Response)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameShape reports how got differs from want in structure: the same keys
// in every object, the same JSON type everywhere; every element of an array
// in got is compared with want's first element. The objects at the paths in
// maps (e.g. "$.headers") are string maps: any keys, string values.
func sameShape(got, want []byte, maps ...string) error {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Errorf("got: %w", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Errorf("want: %w", err)
	}
	return shape("$", g, w, maps)
}

func shape(path string, g, w any, maps []string) error {
	switch w := w.(type) {
	case map[string]any:
		g, ok := g.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want object", path, g)
		}
		if slices.Contains(maps, path) {
			for k, v := range g {
				if _, ok := v.(string); !ok {
					return fmt.Errorf("%s.%s: got %T, want string", path, k, v)
				}
			}
			return nil
		}
		if gk, wk := keys(g), keys(w); strings.Join(gk, ",") != strings.Join(wk, ",") {
			return fmt.Errorf("%s: keys %v, want %v", path, gk, wk)
		}
		for k := range w {
			if err := shape(path+"."+k, g[k], w[k], maps); err != nil {
				return err
			}
		}
	case []any:
		g, ok := g.([]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want array", path, g)
		}
		if len(w) == 0 {
			return nil
		}
		for i := range g {
			if err := shape(fmt.Sprintf("%s[%d]", path, i), g[i], w[0], maps); err != nil {
				return err
			}
		}
	default:
		if fmt.Sprintf("%T", g) != fmt.Sprintf("%T", w) {
			return fmt.Errorf("%s: got %T, want %T", path, g, w)
		}
	}
	return nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// directive builds an event carrying an echofn directive.
func directive(d string) []byte { return []byte(`{"fctest":` + d + `}`) }

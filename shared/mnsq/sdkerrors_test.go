package mnsq

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
	gogap "github.com/gogap/errors"
)

// sdkTemplates are the MNS SDK's error message templates, read from its
// source in the module cache (errors.TN(ALI_MNS_ERR_NS, code, template)).
func sdkTemplates(t *testing.T) map[uint64]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aliyun/aliyun-mns-go-sdk").Output()
	if err != nil {
		t.Fatalf("go list the MNS SDK: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "errors.go"))
	if err != nil {
		t.Fatal(err)
	}
	str := `"(?:[^"\\]|\\.)*"`
	shared := regexp.MustCompile(`ali_MNS_ERR_TEMPSTR\s*=\s*(` + str + `)`).FindSubmatch(src)
	if shared == nil {
		t.Fatal("the SDK's shared template ali_MNS_ERR_TEMPSTR is not in its errors.go")
	}
	tmpls := map[uint64]string{}
	for _, m := range regexp.MustCompile(`errors\.TN\(\s*ALI_MNS_ERR_NS\s*,\s*(\d+)\s*,\s*(`+str+`|ali_MNS_ERR_TEMPSTR)\s*\)`).FindAllSubmatch(src, -1) {
		code, _ := strconv.ParseUint(string(m[1]), 10, 64)
		lit := m[2]
		if string(lit) == "ali_MNS_ERR_TEMPSTR" {
			lit = shared[1]
		}
		s, err := strconv.Unquote(string(lit))
		if err != nil {
			t.Fatalf("template %d: %v", code, err)
		}
		tmpls[code] = s
	}
	if len(tmpls) < 50 {
		t.Fatalf("read %d templates from the SDK's errors.go, want its 50 and more", len(tmpls))
	}
	return tmpls
}

// message is a gogap error's message (its Error() without ", Id: ...").
func message(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ", Id: "); i >= 0 {
		return s[:i]
	}
	return s
}

// The MNS SDK's errors are rendered without text/template (the replaced
// github.com/gogap/errors, shared/third_party/gogap-errors: text/template
// doubles the functions' binaries), and read exactly as text/template
// renders them: every template of the SDK, with each kind of value the
// SDK passes, a missing one, and the parsing this package does on them.
func TestSDKErrorMessagesAreTextTemplates(t *testing.T) {
	resp := ali_mns.ErrorResponse{Code: "QueueNotExist", Message: "The queue name you provided is not exist.", RequestId: "5F4A0B1C2D3E", HostId: "http://1234.mns.cn-hangzhou.aliyuncs.com"}
	paramSets := []gogap.Params{
		{"resp": resp, "resource": "queues/rds-backup-notify"},
		{"resp": &resp, "resource": "queues/q"},
		{"resp": `<Error><Code>x</Code>`, "err": errors.New("EOF: unexpected end"), "body": "a=b", "local": "Message", "name": "rds-backup-work"},
		{"err": fmt.Errorf("wrapped: %w", errors.New("dial tcp: refused"))},
		{"err": nil},
		{},
	}
	ns := 0
	for code, src := range sdkTemplates(t) {
		for _, params := range paramSets {
			var want bytes.Buffer
			wantErr := template.Must(template.New("t").Parse(src)).Execute(&want, map[string]any(params))
			ns++
			tn := gogap.TN(fmt.Sprintf("check-%d", ns), code, src)
			got := tn.New(params)
			switch {
			case wantErr != nil && got.Code() != gogap.ErrcodeExecTmpleError:
				t.Errorf("template %d %q with %v: text/template fails (%v), the SDK's error renders %q", code, src, params, wantErr, message(got))
			case wantErr == nil && message(got) != want.String():
				t.Errorf("template %d with %v:\n got  %q\n want %q (text/template)", code, params, message(got), want.String())
			}
		}
	}
	// Through the SDK itself, as this package then reads it: a known code
	// and an unknown one (read from the message), with its request id.
	for _, code := range []string{"QueueNotExist", "SomethingNew"} {
		r := resp
		r.Code = code
		var e *Error
		if !errors.As(wrap("SendMessage", "queues/q", ali_mns.ParseError(r, "queues/q")), &e) || e.Code != code || e.RequestID != "5F4A0B1C2D3E" {
			t.Errorf("the SDK's error for %s read as %+v, want code %s and request id 5F4A0B1C2D3E", code, e, code)
		}
	}
}

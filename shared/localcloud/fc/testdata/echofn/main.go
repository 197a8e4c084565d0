// Command echofn is the go1 function the fctest tests run: it echoes the raw
// event and its FC context, and obeys an "fctest" directive found in the
// event (top level, timer payload, MNS message body or HTTP body).
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type directive struct {
	Fail           string `json:"fail"`           // return this error
	Panic          string `json:"panic"`          // panic with this string
	SleepMs        int    `json:"sleepMs"`        // sleep first (ignores the deadline)
	Exit           *int   `json:"exit"`           // os.Exit with this code
	FailUntilRetry int    `json:"failUntilRetry"` // fail while x-fc-retry-count < n
	FailTimes      int    `json:"failTimes"`      // fail the first n invocations with this Key
	Key            string `json:"key"`
	Status         int    `json:"status"`         // HTTP events: status code
	BadResponse    bool   `json:"badResponse"`    // HTTP events: return a bare string
	BinaryResponse bool   `json:"binaryResponse"` // HTTP events: base64 body
	Call           string `json:"call"`           // GET this URL and wait for its answer first (tests hold an invocation with it)
}

type reply struct {
	Event        string            `json:"event"` // base64 of the raw event
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

var (
	initCount atomic.Int32
	mu        sync.Mutex
	seen      = map[string]int{}
)

func main() {
	if os.Getenv("ECHOFN_NO_INITIALIZER") == "" {
		fc.RegisterInitializerFunction(func(ctx context.Context) {
			if os.Getenv("ECHOFN_INITIALIZER_PANIC") != "" {
				panic("initializer failed")
			}
			initCount.Add(1)
			fctx, _ := fccontext.FromContext(ctx)
			fmt.Println("echofn initializer", fctx.RequestID)
		})
	}
	fc.Start(handle)
}

func handle(ctx context.Context, raw []byte) (any, error) {
	fctx, _ := fccontext.FromContext(ctx)
	fmt.Println("echofn handling", fctx.RequestID)
	d := find(raw)
	if d.Call != "" {
		resp, err := http.Get(d.Call)
		if err != nil {
			return nil, fmt.Errorf("call %s: %w", d.Call, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if d.SleepMs > 0 {
		time.Sleep(time.Duration(d.SleepMs) * time.Millisecond)
	}
	if d.Exit != nil {
		os.Exit(*d.Exit)
	}
	if d.Panic != "" {
		panic(d.Panic)
	}
	if d.Fail != "" {
		return nil, errors.New(d.Fail)
	}
	if fctx.RetryCount < d.FailUntilRetry {
		return nil, fmt.Errorf("failing at retry %d", fctx.RetryCount)
	}
	if d.FailTimes > 0 {
		mu.Lock()
		seen[d.Key]++
		n := seen[d.Key]
		mu.Unlock()
		if n <= d.FailTimes {
			return nil, fmt.Errorf("failure %d of %d", n, d.FailTimes)
		}
	}

	dl, _ := ctx.Deadline()
	r := reply{
		Event:        base64.StdEncoding.EncodeToString(raw),
		RequestID:    fctx.RequestID,
		DeadlineMs:   dl.UnixMilli(),
		AccessKeyID:  fctx.Credentials.AccessKeyId,
		AccessSecret: fctx.Credentials.AccessKeySecret,
		Token:        fctx.Credentials.SecurityToken,
		Region:       fctx.Region,
		AccountID:    fctx.AccountId,
		RetryCount:   fctx.RetryCount,
		FunctionName: fctx.Function.Name,
		Handler:      fctx.Function.Handler,
		Memory:       fctx.Function.Memory,
		Timeout:      fctx.Function.Timeout,
		Qualifier:    fctx.Service.Qualifier,
		InitCount:    initCount.Load(),
		PID:          os.Getpid(),
		Env:          map[string]string{},
	}
	for _, k := range []string{"FC_FUNCTION_NAME", "FC_REGION", "FC_RUNTIME_API", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ECHOFN_VAR", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			r.Env[k] = v
		}
	}

	if !isHTTP(raw) {
		return r, nil
	}
	switch {
	case d.BadResponse:
		return "not an HTTP response", nil
	case d.BinaryResponse:
		return map[string]any{"statusCode": 200, "headers": map[string]string{"Content-Type": "application/octet-stream"},
			"isBase64Encoded": true, "body": base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe})}, nil
	}
	status := d.Status
	if status == 0 {
		status = 200
	}
	body, _ := json.Marshal(r)
	return map[string]any{"statusCode": status,
		"headers":         map[string]string{"Content-Type": "application/json", "X-Echo": "yes", "X-Fc-Forged": "no"},
		"isBase64Encoded": false, "body": string(body)}, nil
}

func isHTTP(raw []byte) bool {
	var probe struct {
		RequestContext json.RawMessage `json:"requestContext"`
	}
	return bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) && json.Unmarshal(raw, &probe) == nil && probe.RequestContext != nil
}

// find looks for {"fctest": {...}} in the event or in the strings it carries.
func find(raw []byte) directive {
	var d directive
	raw = bytes.TrimSpace(raw)
	if bytes.HasPrefix(raw, []byte("[")) {
		var batch []struct {
			MessageBody *string `json:"messageBody"` // RawData
			Data        struct {
				MessageBody *string `json:"messageBody"`
			} `json:"data"`
		}
		_ = json.Unmarshal(raw, &batch)
		for _, e := range batch {
			for _, s := range []*string{e.MessageBody, e.Data.MessageBody} {
				if s != nil && fromJSON([]byte(*s), &d) {
					return d
				}
			}
		}
		return d
	}
	if fromJSON(raw, &d) {
		return d
	}
	var obj struct {
		Payload         *string `json:"payload"`
		Body            *string `json:"body"`
		IsBase64Encoded bool    `json:"isBase64Encoded"`
	}
	_ = json.Unmarshal(raw, &obj)
	switch {
	case obj.Payload != nil:
		fromJSON([]byte(*obj.Payload), &d)
	case obj.Body != nil && !obj.IsBase64Encoded:
		fromJSON([]byte(*obj.Body), &d)
	}
	return d
}

func fromJSON(b []byte, d *directive) bool {
	var w struct {
		FCTest *directive `json:"fctest"`
	}
	if json.Unmarshal(b, &w) != nil || w.FCTest == nil {
		return false
	}
	*d = *w.FCTest
	return true
}

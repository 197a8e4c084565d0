package mnsq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

func TestNormalizeEndpoint(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string // substring
	}{
		{in: "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com", want: "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com"},
		{in: "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com/", want: "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com"},
		{in: "http://1234567890123456.mns.cn-shanghai-internal.aliyuncs.com", want: "http://1234567890123456.mns.cn-shanghai-internal.aliyuncs.com"},
		{in: "http://127.0.0.1:39971/.", want: "http://127.0.0.1:39971/."},
		{in: "", wantErr: "is empty"},
		{in: " https://1.mns.cn-hangzhou.aliyuncs.com", wantErr: "white space"},
		{in: "http://127.0.0.1:39971", wantErr: "into 4 pieces"},
		{in: "127.0.0.1:39971/.", wantErr: "not a URL"},
		{in: "mns.cn-hangzhou.aliyuncs.com/a.b.c", wantErr: "scheme"},
		{in: "ftp://1.mns.cn-hangzhou.aliyuncs.com", wantErr: "scheme must be http or https"},
		{in: "http://acct.x@127.0.0.1:39971/.", wantErr: "user info"},
		{in: "https://1.mns.cn-hangzhou.aliyuncs.com?x=1", wantErr: "query"},
		{in: "http://127.0.0.1:39971/mns.emu", wantErr: "path"},
		{in: "https://mns.cn-hangzhou.aliyuncs.com", wantErr: "into 4 pieces"},
		{in: "https://a.b.mns.cn-hangzhou.aliyuncs.com", wantErr: "into 6 pieces"},
		{in: "http://%zz", wantErr: "not a URL"},
		{in: "http:///.", wantErr: "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeEndpoint(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("NormalizeEndpoint(%q) = %q, want error containing %q", tt.in, got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), EndpointHint) {
					t.Fatalf("error %q does not contain %q and the hint", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeEndpoint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestNewNeverPanics feeds New endpoints that make the SDK constructor
// panic; New must return an error instead.
func TestNewNeverPanics(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"four pieces", Config{Endpoint: "http://127.0.0.1:1", AccessKeyID: "ak", AccessKeySecret: "sk"}, "exactly 5"},
		{"empty endpoint", Config{AccessKeyID: "ak", AccessKeySecret: "sk"}, "is empty"},
		{"no key", Config{Endpoint: "http://127.0.0.1:1/."}, "AccessKeyID and AccessKeySecret are required"},
		{"no secret", Config{Endpoint: "http://127.0.0.1:1/.", AccessKeyID: "ak"}, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if err == nil || c != nil {
				t.Fatalf("New = %v, %v; want an error", c, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	c, err := New(Config{Endpoint: "https://1.mns.cn-hangzhou.aliyuncs.com/", AccessKeyID: "ak", AccessKeySecret: "sk", SecurityToken: "tok", Timeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
	if c.Endpoint() != "https://1.mns.cn-hangzhou.aliyuncs.com" {
		t.Fatalf("Endpoint() = %q", c.Endpoint())
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	c, err := New(Config{Endpoint: "http://127.0.0.1:1/.", AccessKeyID: "ak", AccessKeySecret: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	big := strings.Repeat("x", MaxMessageBytes+1)
	tests := []struct {
		name string
		do   func() error
		code string
	}{
		{"bad queue name", func() error { _, err := c.Send(ctx, "../topics/x", "b", 0); return err }, CodeInvalidArgument},
		{"empty queue name", func() error { _, err := c.Send(ctx, "", "b", 0); return err }, CodeInvalidArgument},
		{"too large", func() error { _, err := c.Send(ctx, "q", big, 0); return err }, CodeMessageTooLarge},
		{"negative delay", func() error { _, err := c.Send(ctx, "q", "b", -time.Second); return err }, CodeInvalidArgument},
		{"delay over 7 days", func() error { _, err := c.Send(ctx, "q", "b", MaxDelay+time.Second); return err }, CodeInvalidArgument},
		{"bad topic name", func() error { _, err := c.Publish(ctx, "-t", "b"); return err }, CodeInvalidArgument},
		{"topic too large", func() error { _, err := c.Publish(ctx, "t", big); return err }, CodeMessageTooLarge},
		{"batch bad queue", func() error { return c.SendBatch(ctx, "q/x", []OutMessage{{Body: "a"}}) }, CodeInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if got := Code(err); got != tt.code {
				t.Fatalf("Code(%v) = %q, want %q", err, got, tt.code)
			}
			if IsRetryable(err) {
				t.Fatalf("IsRetryable(%v) = true", err)
			}
		})
	}
	if err := c.SendBatch(ctx, "q", nil); err != nil {
		t.Fatalf("SendBatch(nil) = %v", err)
	}
}

func TestCanceledContextSendsNothing(t *testing.T) {
	c, err := New(Config{Endpoint: "http://127.0.0.1:1/.", AccessKeyID: "ak", AccessKeySecret: "sk"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Send(ctx, "q", "b", 0)
	if Code(err) != CodeCanceled || IsRetryable(err) {
		t.Fatalf("Send(canceled) = %v (code %q)", err, Code(err))
	}
	_, err = c.Publish(ctx, "t", "b")
	if Code(err) != CodeCanceled {
		t.Fatalf("Publish(canceled) = %v", err)
	}
	err = c.SendBatch(ctx, "q", make([]OutMessage, 20))
	var be *BatchError
	if !errors.As(err, &be) || len(be.Entries) != 20 || be.Entries[0].Code != CodeCanceled {
		t.Fatalf("SendBatch(canceled) = %v", err)
	}
}

func TestCallHonoursContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := call(ctx, func() (int, error) { <-release; return 1, nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("call returned after %s", d)
	}
	if Code(wrap("SendMessage", "q", err)) != CodeDeadlineExceeded {
		t.Fatalf("code of %v", err)
	}
	_, err = call(context.Background(), func() (int, error) { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("call(panic) = %v", err)
	}
}

func TestCodeOfSDKErrors(t *testing.T) {
	tests := []struct {
		xmlCode   string
		want      string
		retryable bool
	}{
		{"AccessDenied", "AccessDenied", false},
		{"InvalidAccessKeyId", "InvalidAccessKeyId", false},
		{"InternalError", "InternalError", true},
		{"MessageNotExist", "MessageNotExist", false},
		{"QueueNotExist", "QueueNotExist", false},
		{"TopicNotExist", "TopicNotExist", false},
		{"SignatureDoesNotMatch", "SignatureDoesNotMatch", false},
		{"QpsLimitExceeded", "QpsLimitExceeded", true},
		{"InvalidDegist", "InvalidDegist", false},
		{"SubsriptionNameInvalid", "SubsriptionNameInvalid", false},
		{"InternalServerError", "InternalServerError", true}, // unmapped by the SDK: read from the message
		{"SomethingNew", "SomethingNew", false},
	}
	for _, tt := range tests {
		t.Run(tt.xmlCode, func(t *testing.T) {
			sdkErr := ali_mns.ParseError(ali_mns.ErrorResponse{Code: tt.xmlCode, Message: "m, with comma", RequestId: "RID1"}, "queues/q/messages")
			if got := Code(sdkErr); got != tt.want {
				t.Fatalf("Code(raw) = %q, want %q (%v)", got, tt.want, sdkErr)
			}
			err := wrap("SendMessage", "q", sdkErr)
			if got := Code(err); got != tt.want {
				t.Fatalf("Code(wrapped) = %q, want %q", got, tt.want)
			}
			if IsRetryable(err) != tt.retryable || IsRetryable(sdkErr) != tt.retryable {
				t.Fatalf("IsRetryable = %v, want %v", IsRetryable(err), tt.retryable)
			}
			var e *Error
			if !errors.As(err, &e) || e.RequestID != "RID1" {
				t.Fatalf("RequestID of %#v", e)
			}
			if !strings.Contains(err.Error(), `mnsq: SendMessage "q": `+tt.want) {
				t.Fatalf("Error() = %q", err)
			}
		})
	}
	clientSide := []struct {
		err       error
		want      string
		retryable bool
	}{
		{ali_mns.ERR_SEND_REQUEST_FAILED.New(), CodeNetwork, true},
		{ali_mns.ERR_UNMARSHAL_ERROR_RESPONSE_FAILED.New(), CodeBadErrorResponse, true},
		{ali_mns.ERR_UNMARSHAL_RESPONSE_FAILED.New(), CodeBadResponse, false},
		{ali_mns.ERR_MARSHAL_MESSAGE_FAILED.New(), CodeClient, false},
		{ali_mns.ERR_MNS_DELAY_SECONDS_RANGE_ERROR.New(), CodeInvalidArgument, false},
		{ali_mns.ERR_MNS_BATCH_OP_FAIL.New(), CodeBatchOpFail, false},
		{context.Canceled, CodeCanceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), CodeDeadlineExceeded, false},
		{errors.New("other"), CodeUnknown, false},
	}
	for _, tt := range clientSide {
		if got := Code(tt.err); got != tt.want || IsRetryable(tt.err) != tt.retryable {
			t.Errorf("Code(%v) = %q (retryable %v), want %q (%v)", tt.err, got, IsRetryable(tt.err), tt.want, tt.retryable)
		}
	}
	if Code(nil) != "" || IsRetryable(nil) {
		t.Error("nil error classified")
	}
}

func TestBatchError(t *testing.T) {
	be := &BatchError{Queue: "work", Total: 40}
	be.add(3, &Error{Op: "BatchSendMessage", Code: "InternalError", Retryable: true, Err: errors.New("x")})
	be.add(17, &Error{Op: "BatchSendMessage", Code: "InternalError", Retryable: true, Err: errors.New("y")})
	if !IsRetryable(be) || Code(be) != "InternalError" {
		t.Fatalf("retryable %v code %q", IsRetryable(be), Code(be))
	}
	if got := fmt.Sprint(be.Failed()); got != "[3 17]" {
		t.Fatalf("Failed() = %s", got)
	}
	if !strings.Contains(be.Error(), "2 of 40 messages failed (first: #3 InternalError") {
		t.Fatalf("Error() = %q", be.Error())
	}
	be.add(20, &Error{Code: "QueueNotExist"})
	if IsRetryable(be) {
		t.Fatal("a batch with a terminal entry is retryable")
	}
	if Code(&BatchError{}) != "" || IsRetryable(&BatchError{}) {
		t.Fatal("empty BatchError classified")
	}
}

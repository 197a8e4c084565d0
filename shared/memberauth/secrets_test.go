package memberauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/sts"
)

// TestSecretsNeverPrinted: the issued secret and token show in no fmt verb,
// no slog record and no JSON; CallerKey likewise.
func TestSecretsNeverPrinted(t *testing.T) {
	e := newEnv(t)
	b := e.broker(nil)
	c, err := b.Get(testCtx(t), req(memberA))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
		fmt.Fprintf(&buf, verb+"\n", c)
		fmt.Fprintf(&buf, verb+"\n", &c)
		fmt.Fprintf(&buf, verb+"\n", []Credentials{c})
		fmt.Fprintf(&buf, verb+"\n", CallerKey{AccessKeyID: "hub-id", AccessKeySecret: e.hub.AccessKeySecret, SecurityToken: "hub-token-xyz"})
	}
	js, _ := json.Marshal(c)
	buf.Write(js)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("issued", "cred", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("issued", "cred", c)
	out := buf.String()
	for _, s := range []string{c.AccessKeySecret, c.SecurityToken, e.hub.AccessKeySecret, "hub-token-xyz"} {
		if strings.Contains(out, s) {
			t.Fatalf("a secret printed:\n%s", out)
		}
	}
	if !strings.Contains(out, c.AccessKeyID) || !strings.Contains(out, memberA) {
		t.Errorf("the key id and account should print:\n%s", out)
	}
}

// TestSecretsNotInErrors: with a hub STS key (its token rides in the v2
// signature's query), transport failures, terminal answers and refusals
// carry neither the hub's secret and token nor the ExternalId.
func TestSecretsNotInErrors(t *testing.T) {
	e := newEnv(t)
	hubSTS := e.store.IssueSTSFor(hub, time.Hour)
	if hubSTS.SecurityToken == "" {
		t.Fatal("the store issued no token")
	}
	b := e.broker(func(c *Config) {
		c.Caller = func(_ contextT) (CallerKey, error) {
			return CallerKey{AccessKeyID: hubSTS.AccessKeyID, AccessKeySecret: hubSTS.AccessKeySecret, SecurityToken: hubSTS.SecurityToken}, nil
		}
		c.MaxAttempts = 2
	})
	secrets := []string{hubSTS.AccessKeySecret, hubSTS.SecurityToken, "ext-wrong-value"}
	check := func(name string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			for _, s := range secrets {
				if strings.Contains(e.Error(), s) || strings.Contains(fmt.Sprintf("%+v", e), s) {
					t.Fatalf("%s: error carries a secret: %v", name, e)
				}
			}
		}
	}

	e.srv.InjectFault(sts.Fault{Action: "AssumeRole", Drop: true, Times: 2})
	_, err := b.Get(testCtx(t), req(memberA))
	check("dropped connection", err)
	t.Logf("dropped connection: %v", err)
	var me *Error
	if !errors.As(err, &me) || me.Code != "" || me.Terminal() || me.Attempts != 2 {
		t.Fatalf("dropped connection: %#v", err)
	}

	r := req(memberB)
	r.ExternalID = "ext-wrong-value"
	_, err = b.Get(testCtx(t), r)
	check("wrong ExternalId", err)

	r.ExternalID = "ext-wrong-value\n"
	_, err = b.Get(testCtx(t), r)
	check("malformed ExternalId", err)
}

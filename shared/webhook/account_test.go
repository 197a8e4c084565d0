package webhook

import (
	"context"
	"strings"
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// A webhook backs up in the functions' own account only: a call naming an
// account (on a backup or in Defaults), or selecting across accounts or
// regions, is a 403 naming the field, before any route, Submitter or STS
// call — even for a route that allows every instance — and the account
// is not echoed back.
func TestWebhookCallsNamingAnAccountAre403(t *testing.T) {
	for _, c := range []struct{ name, body, field, code string }{
		{"backup", `{"Backups":[{"DBInstanceId":"rm-demo-mysql1"},{"DBInstanceId":"rm-demo-mysql2","AccountId":"1234567890123456"}]}`, "AccountId", backup.CodeAccountNotAllowed},
		{"defaults", `{"Defaults":{"AccountId":"1234567890123456"},"Backups":[{"DBInstanceId":"rm-demo-mysql1"}]}`, "Defaults.AccountId", backup.CodeAccountNotAllowed},
		{"select accounts", `{"Select":{"Engine":"MySQL","Accounts":["1234567890123456"]}}`, "Select", CodeFleetSelectNotAllowed},
		{"select regions", `{"Select":{"Engine":"MySQL","Regions":["cn-hangzhou","cn-shanghai"]}}`, "Select", CodeFleetSelectNotAllowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, testRoutes, nil)
			d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", c.body, "ops@acme", opsSecret, nowUnix)))
			if d.Status != 403 || d.errCode() != c.code || d.errField() != c.field {
				t.Fatalf("status %d: %s; want 403 %s on %s", d.Status, d.Raw, c.code, c.field)
			}
			if len(hs.sub.Calls()) != 0 {
				t.Fatal("a call naming an account was submitted")
			}
			if strings.Contains(string(d.Raw), "1234567890123456") {
				t.Fatalf("the answer echoes the account: %s", d.Raw)
			}
			// One rejected outcome when the call names backups; a refused
			// Select names none.
			want := 1
			if c.field == "Select" {
				want = 0
			}
			if n := len(hs.rej.Requests()); n != want || (want == 1 && hs.rej.errs[0].Code != c.code) {
				t.Fatalf("%d rejected outcomes (%+v), want %d with code %s", n, hs.rej.errs, want, c.code)
			}
		})
	}
	// Without an account the same call goes through.
	hs := newHarness(t, testRoutes, nil)
	d := checkResponse(t, hs.h.Handle(context.Background(), signed("POST", "/v1/backups", `{"Backups":[{"DBInstanceId":"rm-demo-mysql1"}]}`, "ops@acme", opsSecret, nowUnix)))
	if d.Status != 202 || len(hs.sub.Calls()) != 1 {
		t.Fatalf("own-account call: %d %s", d.Status, d.Raw)
	}
}

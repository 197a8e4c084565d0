package accounts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

func accts() Accounts {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return Accounts{Own: &rdsclient.Client{}, Fleet: backup.Fleet{Own: "1000000000000001", Accounts: []string{"2000000000000002"}},
		MaxAge: time.Hour, MaxAttempts: 5, Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// The own account (no AccountId, or the own id) gets the invocation's
// client; a member account without a broker, or one not allowed, is
// refused before any STS call.
func TestClient(t *testing.T) {
	a := accts()
	for _, acct := range []string{"", "1000000000000001"} {
		if c, err := a.Client(context.Background(), acct, "run"); err != nil || c != a.Own {
			t.Errorf("account %q: %v, %v; want the invocation's own client", acct, c, err)
		}
	}
	for _, acct := range []string{"2000000000000002", "3000000000000003"} {
		_, err := a.Client(context.Background(), acct, "run")
		var me *memberauth.Error
		if !errors.As(err, &me) || me.Code != backup.CodeAccountNotAllowed {
			t.Errorf("account %s without a broker: %v, want %s", acct, err, backup.CodeAccountNotAllowed)
		}
	}
}

// An account whose credentials cannot be had: failed when the answer is
// terminal, deferred while the ask has budget, failed past it.
func TestNoClient(t *testing.T) {
	a := accts()
	r := backup.Request{DBInstanceId: "rm-a", AccountId: "2000000000000002"}
	notAllowed := &memberauth.Error{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403, Message: "no"}
	if o := a.NoClient(r, executor.History{}, notAllowed); o.Status != backup.StatusFailed || !o.Terminal || o.Error.Code != backup.CodeAccountNotAllowed {
		t.Errorf("not allowed: %+v", o)
	}
	down := errors.New("STS unreachable")
	o := a.NoClient(r, executor.History{}, down)
	if o.Status != backup.StatusDeferred || o.Terminal || !o.NotBefore.After(a.Now()) || len(o.Attempts) != 1 {
		t.Errorf("STS down: %+v", o)
	}
	if o := a.NoClient(r, executor.History{FirstSeen: a.Now().Add(-2 * time.Hour)}, down); o.Status != backup.StatusFailed {
		t.Errorf("STS down past BACKUP_MAX_AGE: %s", o.Status)
	}
}

package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	s := NewStore(func() time.Time { return now })
	ak := s.NewAccessKey()
	sts := s.IssueSTS(time.Hour)
	tests := []struct {
		name, ak, token string
		advance         time.Duration
		want            error
	}{
		{"long-term key", ak.AccessKeyID, "", 0, nil},
		{"unknown key", "LTAInope", "", 0, ErrUnknownKey},
		{"token on long-term key", ak.AccessKeyID, "x", 0, ErrTokenMalformed},
		{"sts ok", sts.AccessKeyID, sts.SecurityToken, 0, nil},
		{"sts missing token", sts.AccessKeyID, "", 0, ErrTokenMissing},
		{"sts wrong token", sts.AccessKeyID, "CAISwrong", 0, ErrTokenMalformed},
		{"sts expired", sts.AccessKeyID, sts.SecurityToken, time.Hour, ErrTokenExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).Add(tc.advance)
			secret, err := s.Verify(tc.ak, tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify() err = %v, want %v", err, tc.want)
			}
			if err == nil && secret == "" {
				t.Fatal("Verify() returned an empty secret")
			}
		})
	}
}

func TestAccounts(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	s := NewStore(func() time.Time { return now })
	def := s.NewAccessKey()
	other := s.NewAccessKeyFor("2000000000000002")
	sts := s.IssueSTSFor("3000000000000003", 15*time.Minute)
	if def.Account() != DefaultAccountID || (Credential{}).Account() != DefaultAccountID {
		t.Errorf("Account() of a key naming no account = %q, want %q", def.Account(), DefaultAccountID)
	}
	for ak, want := range map[string]string{
		def.AccessKeyID:   DefaultAccountID,
		other.AccessKeyID: "2000000000000002",
		sts.AccessKeyID:   "3000000000000003",
		"LTAInobody":      "",
	} {
		if got := s.AccountOf(ak); got != want {
			t.Errorf("AccountOf(%s) = %q, want %q", ak, got, want)
		}
	}
	if !strings.HasPrefix(sts.AccessKeyID, "STS.") || sts.SecurityToken == "" || !sts.Expiration.Equal(now.Add(15*time.Minute)) {
		t.Errorf("IssueSTSFor = %+v", sts)
	}
	if _, err := s.Verify(sts.AccessKeyID, sts.SecurityToken); err != nil {
		t.Errorf("Verify(issued STS) = %v", err)
	}
}

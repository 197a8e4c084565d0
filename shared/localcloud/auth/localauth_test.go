package auth

import (
	"errors"
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

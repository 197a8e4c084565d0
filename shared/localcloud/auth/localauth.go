package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Credential is one access key, optionally an STS key with a token.
type Credential struct {
	AccessKeyID     string    `json:"accessKeyId"`
	AccessKeySecret string    `json:"accessKeySecret"`
	SecurityToken   string    `json:"securityToken,omitempty"`
	Expiration      time.Time `json:"expiration,omitempty"` // zero for long-term keys
	// AccountID is the Alibaba Cloud account the key belongs to (for an STS
	// key: the account of the role it was issued for). Empty means
	// DefaultAccountID.
	AccountID string `json:"accountId,omitempty"`
}

// DefaultAccountID is the account of every key that names none: the local
// cloud's own account, which owns every instance that names no account.
const DefaultAccountID = "1234567890123456"

// Account returns the credential's account: AccountID, or DefaultAccountID.
func (c Credential) Account() string {
	if c.AccountID == "" {
		return DefaultAccountID
	}
	return c.AccountID
}

// Errors returned by Verify; the emulators map them onto their service's codes.
var (
	ErrUnknownKey     = errors.New("localauth: access key id not found")
	ErrTokenMalformed = errors.New("localauth: security token malformed")
	ErrTokenExpired   = errors.New("localauth: security token expired")
	ErrTokenMissing   = errors.New("localauth: security token required for an STS key")
)

// Store holds credentials; safe for concurrent use.
type Store struct {
	mu   sync.RWMutex
	keys map[string]Credential
	now  func() time.Time
}

// NewStore returns an empty store that reads time from now (time.Now if nil).
func NewStore(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{keys: map[string]Credential{}, now: now}
}

// Add registers a credential (long-term when SecurityToken is empty).
func (s *Store) Add(c Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[c.AccessKeyID] = c
}

// NewAccessKey creates and registers a random long-term key pair of the
// default account.
func (s *Store) NewAccessKey() Credential {
	return s.NewAccessKeyFor("")
}

// NewAccessKeyFor creates and registers a random long-term key pair of
// account ("" is DefaultAccountID).
func (s *Store) NewAccessKeyFor(account string) Credential {
	c := Credential{AccessKeyID: "LTAI" + randHex(10), AccessKeySecret: randHex(15), AccountID: account}
	s.Add(c)
	return c
}

// IssueSTS creates and registers a random STS credential valid for ttl, of
// the default account.
func (s *Store) IssueSTS(ttl time.Duration) Credential {
	return s.IssueSTSFor(DefaultAccountID, ttl)
}

// IssueSTSFor creates and registers a random STS credential of account,
// valid for ttl (what AssumeRole returns for a role of that account).
func (s *Store) IssueSTSFor(account string, ttl time.Duration) Credential {
	c := Credential{
		AccountID:       account,
		AccessKeyID:     "STS." + randHex(10),
		AccessKeySecret: randHex(15),
		SecurityToken:   "CAIS" + randHex(24),
		Expiration:      s.now().Add(ttl).UTC(),
	}
	s.Add(c)
	return c
}

// Lookup returns the credential registered under accessKeyID.
func (s *Store) Lookup(accessKeyID string) (Credential, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.keys[accessKeyID]
	return c, ok
}

// AccountOf returns the account of the key registered under accessKeyID, or
// "" when the key is unknown.
func (s *Store) AccountOf(accessKeyID string) string {
	c, ok := s.Lookup(accessKeyID)
	if !ok {
		return ""
	}
	return c.Account()
}

// Verify checks that accessKeyID is known and, for an STS key, that token
// matches and has not expired. On success it returns the secret to sign with.
// A token sent with a long-term key is refused as malformed, like the cloud.
func (s *Store) Verify(accessKeyID, token string) (secret string, err error) {
	c, ok := s.Lookup(accessKeyID)
	if !ok {
		return "", ErrUnknownKey
	}
	switch {
	case c.SecurityToken == "" && token != "":
		return "", ErrTokenMalformed
	case c.SecurityToken != "" && token == "":
		return "", ErrTokenMissing
	case c.SecurityToken != "" && token != c.SecurityToken:
		return "", ErrTokenMalformed
	case c.SecurityToken != "" && !c.Expiration.IsZero() && !s.now().Before(c.Expiration):
		return "", ErrTokenExpired
	}
	return c.AccessKeySecret, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package workqueue

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
)

// Authenticated envelopes (issue 12). The work queue is also the queue
// users send backup requests to, so anyone allowed to send a request could
// otherwise forge the functions' own messages: an "outcome" republished
// byte for byte (a fake completed), a "track" that polls any job for a day,
// a "backup" or "plan" past every check a request gets at the door. So
// every envelope the functions write is sealed with a key only they hold
// (BACKUP_ENVELOPE_KEY), and the queue function opens it before acting on
// it; an envelope that is unsigned, signed with another key or altered is
// rejected with one outcome and never republished or acted on.
//
// The seal is the last member of the envelope's JSON object:
//
//	{"v":1,"kind":"track",…,"mac":"<64 hex digits>"}
//
// where the MAC is HMAC-SHA256(key, SealDomain + body), body being the
// envelope exactly as Encode wrote it ({"v":1,"kind":"track",…}): Open
// recomputes it over the received bytes without the mac member, so nothing
// is re-encoded and every kind (backup, track, outcome, plan, select) is
// covered over its whole canonical body. A replayed sealed envelope is
// genuine: it was the functions' own, and each kind is idempotent (a
// repeated backup is coalesced, a repeated track or outcome publishes the
// same event id).

// SealDomain separates envelope MACs from every other use of the key.
const SealDomain = "fc-rds-backup work envelope v1\n"

// MinKeyLen is the shortest accepted envelope key (32 bytes, e.g. the 64
// hex digits of `openssl rand -hex 32`).
const MinKeyLen = 32

// macMember is what Seal appends before the closing brace.
const macMember = `,"mac":"`

// sealOverhead is what the seal adds to an encoded envelope.
const sealOverhead = len(macMember) + 2*sha256.Size + 1

// ErrUnauthenticated is returned (wrapped) by Open for an envelope that is
// not sealed with the functions' key: unsigned, forged or altered.
var ErrUnauthenticated = errors.New("workqueue: the envelope is not sealed with the functions' key (forged, altered or unsigned); not acted on")

// Sealer seals and opens envelopes. The first key seals; every key opens
// (the previous one stays while a rotated key's messages drain: up to the
// 7-day delay cap). It is safe for concurrent use.
type Sealer struct {
	keys [][]byte
}

// NewSealer returns a Sealer that seals with key and also opens envelopes
// sealed with previous. Every key has at least MinKeyLen bytes.
func NewSealer(key []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for i, k := range append([][]byte{key}, previous...) {
		if len(k) == 0 && i > 0 {
			continue
		}
		if len(k) < MinKeyLen {
			return nil, fmt.Errorf("workqueue: an envelope key needs at least %d bytes, got %d", MinKeyLen, len(k))
		}
		s.keys = append(s.keys, bytes.Clone(k))
	}
	return s, nil
}

func mac(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(SealDomain))
	m.Write(body)
	return m.Sum(nil)
}

// Seal encodes m (Encode) and seals it.
func (s *Sealer) Seal(m Message) (string, error) {
	body, err := Encode(m)
	if err != nil {
		return "", err
	}
	return s.seal([]byte(body)), nil
}

func (s *Sealer) seal(body []byte) string {
	sum := hex.EncodeToString(mac(s.keys[0], body))
	out := make([]byte, 0, len(body)+sealOverhead)
	out = append(out, body[:len(body)-1]...)
	out = append(out, macMember...)
	out = append(out, sum...)
	out = append(out, '"', '}')
	return string(out)
}

// Open checks the seal of body and decodes the envelope (Decode). An
// envelope without a seal, with a seal of another key, or altered in any
// byte, is an error wrapping ErrUnauthenticated; nothing of it is decoded.
func (s *Sealer) Open(body []byte) (Message, error) {
	canonical, sum, ok := splitSeal(bytes.TrimSpace(body))
	if !ok {
		return Message{}, fmt.Errorf("%w (no seal)", ErrUnauthenticated)
	}
	match := 0
	for _, k := range s.keys {
		match |= subtle.ConstantTimeCompare(sum, mac(k, canonical))
	}
	if match != 1 {
		return Message{}, fmt.Errorf("%w (the seal does not match)", ErrUnauthenticated)
	}
	return Decode(canonical)
}

// splitSeal cuts a sealed envelope into the body Encode wrote and the MAC.
func splitSeal(b []byte) (canonical, sum []byte, ok bool) {
	pos := len(b) - len(macMember) - 2*sha256.Size - 2 // where ,"mac":" starts
	if pos < 1 || b[len(b)-1] != '}' || b[len(b)-2] != '"' || !bytes.Equal(b[pos:pos+len(macMember)], []byte(macMember)) {
		return nil, nil, false
	}
	sum, err := hex.DecodeString(string(b[pos+len(macMember) : len(b)-2]))
	if err != nil {
		return nil, nil, false
	}
	canonical = make([]byte, 0, pos+1)
	canonical = append(append(canonical, b[:pos]...), '}')
	return canonical, sum, true
}

// Unseal returns body without its seal, unchecked (body itself when it has
// none). For reading the queue in tests and tools only: it authenticates
// nothing; the functions use Open.
func Unseal(body []byte) []byte {
	if canonical, _, ok := splitSeal(bytes.TrimSpace(body)); ok {
		return canonical
	}
	return body
}

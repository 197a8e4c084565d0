package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Signature v1 of signed requests (DESIGN.md §5, a contract):
//
//	X-Signature-256: v1=<hex of HMAC-SHA256(secret, canonical)>
//	canonical = <X-Timestamp> "\n" <METHOD> "\n" <path> "\n" <canonical query> "\n" <hex SHA-256 of the raw body> "\n" <Idempotency-Key>
//
//   - X-Timestamp is the header's value, decimal unix seconds.
//   - METHOD is upper case (POST, GET).
//   - path is the request path as sent, percent-encoded as on the wire and
//     without the query (FC's rawPath): /v1/backups, /v1/backups/rm-1/42.
//   - canonical query is the query parameters as url.Values.Encode writes
//     them: sorted by key, "k=v" joined by "&", empty when there are none.
//     FC 3.0 hands the function the parameters as a map (a repeated one
//     joined by commas), so each parameter is sent once.
//   - the body hash is lower-case hex; for a GET it is the hash of nothing
//     (e3b0c442…b855).
//   - Idempotency-Key is the header's value (surrounding spaces trimmed),
//     the last line empty when the request has none.
//
// The signature binds the method, the path, the query, the time, the body
// and the Idempotency-Key: a captured request cannot be replayed later (the
// time), against another endpoint or job (the path and query), with another
// body, or with another key (a victim's next key, to make its real call a
// 409; the newline before the key is always there, so the key cannot be
// moved into the body hash's line). The
// earlier forms (HMAC of the body alone, of "<ts>.<body>", "sha256=") are
// refused.

// SignatureV1Prefix starts an X-Signature-256 value of signature v1.
const SignatureV1Prefix = "v1="

// CanonicalV1 returns the string signature v1 covers (see above). ts is the
// X-Timestamp value as sent; idempotencyKey is the Idempotency-Key header's
// value, "" when there is none.
func CanonicalV1(ts, method, path string, query url.Values, body []byte, idempotencyKey string) string {
	sum := sha256.Sum256(body)
	var b strings.Builder
	b.Grow(len(ts) + len(method) + len(path) + 3*len(query)*16 + 2*sha256.Size + len(idempotencyKey) + 5)
	b.WriteString(ts)
	b.WriteByte('\n')
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(query.Encode())
	b.WriteByte('\n')
	b.WriteString(hex.EncodeToString(sum[:]))
	b.WriteByte('\n')
	b.WriteString(strings.TrimSpace(idempotencyKey))
	return b.String()
}

// SignV1 returns the X-Signature-256 value of a signed request made at ts
// (unix seconds, sent as X-Timestamp) that carries no Idempotency-Key:
// "v1=" and 64 hex digits. A request with the header is signed with
// SignV1Key; sent with a key, a SignV1 signature is refused (401).
func SignV1(secret string, ts int64, method, path string, query url.Values, body []byte) string {
	return SignV1Key(secret, ts, method, path, query, body, "")
}

// SignV1Key returns the X-Signature-256 value of a signed request made at
// ts that carries the Idempotency-Key idempotencyKey ("" for none). It is
// the one signing helper of the project: `make run`, the tests and the
// pipeline client sign with it, and the README's openssl recipe computes
// the same value (TestOpenSSLRecipe).
func SignV1Key(secret string, ts int64, method, path string, query url.Values, body []byte, idempotencyKey string) string {
	return SignatureV1Prefix + hex.EncodeToString(macV1([]byte(secret), CanonicalV1(strconv.FormatInt(ts, 10), method, path, query, body, idempotencyKey)))
}

func macV1(secret []byte, canonical string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(canonical))
	return m.Sum(nil)
}

// Errors of ParseSignatureV1.
var (
	// ErrSignatureOldForm: the value is one of the forms signature v1
	// replaced ("sha256=…").
	ErrSignatureOldForm = errors.New("X-Signature-256 is an old form (sha256=…); sign with v1 (README, Signed requests)")
	// ErrSignatureMalformed: the value is not "v1=" and 64 hex digits.
	ErrSignatureMalformed = errors.New("X-Signature-256 must be v1=<64 hex digits>")
)

// ParseSignatureV1 decodes an X-Signature-256 value "v1=<64 hex digits>"
// (hex in either case, surrounding spaces ignored) into the 32-byte MAC.
func ParseSignatureV1(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	hexSig, ok := strings.CutPrefix(v, SignatureV1Prefix)
	if !ok {
		if strings.HasPrefix(strings.ToLower(v), "sha256=") {
			return nil, ErrSignatureOldForm
		}
		return nil, ErrSignatureMalformed
	}
	if len(hexSig) != 2*sha256.Size {
		return nil, ErrSignatureMalformed
	}
	b, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, ErrSignatureMalformed
	}
	return b, nil
}

// canonicalPath is the path a signed request's signature covers: FC's
// rawPath as sent (without a query, should one be there), else the decoded
// requestContext.http.path.
func canonicalPath(rawPath, path string) string {
	if rawPath == "" {
		return path
	}
	if i := strings.IndexAny(rawPath, "?#"); i >= 0 {
		return rawPath[:i]
	}
	return rawPath
}

// canonicalQuery turns FC's query map into url.Values (one value each).
func canonicalQuery(m map[string]string) url.Values {
	q := make(url.Values, len(m))
	for k, v := range m {
		q[k] = []string{v}
	}
	return q
}

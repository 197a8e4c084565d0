package rds

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

// Signature kinds, as Call.SignatureKind reports them.
const (
	SigV3 = "ACS3-HMAC-SHA256" // the SDK's default (DoRequest)
	SigV2 = "v2"               // SignatureAlgorithm "v2": HMAC-SHA1 in the query (DoRPCRequest)
)

// timestampLayout is the SDK's x-acs-date / Timestamp format.
const timestampLayout = "2006-01-02T15:04:05Z"

// maxSkew is how far a request's timestamp may be from real time.
const maxSkew = 15 * time.Minute

// v3Required are the headers every ACS3 signature must cover.
var v3Required = []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}

// signatureKind tells which recipe the request claims to follow.
func signatureKind(r *http.Request, params url.Values) string {
	if strings.HasPrefix(r.Header.Get("Authorization"), "ACS3-") {
		return SigV3
	}
	if params.Has("Signature") || params.Has("SignatureMethod") {
		return SigV2
	}
	return ""
}

// claimedKey is the access key id the request names, before verification.
func claimedKey(r *http.Request, params url.Values) string {
	if ak := params.Get("AccessKeyId"); ak != "" {
		return ak
	}
	_, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	for part := range strings.SplitSeq(rest, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
			return v
		}
	}
	return ""
}

// authenticate verifies the request's signature and credentials and records
// the access key id on req.
func (s *Server) authenticate(req *request) *apiError {
	switch req.kind {
	case SigV3:
		return s.authV3(req)
	case SigV2:
		return s.authV2(req)
	}
	if req.r.Header.Get("Authorization") != "" {
		return newErr(http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to Aliyun standards: unsupported Authorization scheme.")
	}
	return newErr(http.StatusBadRequest, "MissingAuthorization", "The request carries neither an Authorization header (ACS3-HMAC-SHA256) nor a Signature parameter.")
}

// verifyKey maps the credential store's verdict onto the API's codes.
func (s *Server) verifyKey(ak, token string) (string, *apiError) {
	secret, err := s.store.Verify(ak, token)
	switch {
	case err == nil:
		return secret, nil
	case errors.Is(err, auth.ErrUnknownKey):
		return "", newErr(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	case errors.Is(err, auth.ErrTokenExpired):
		return "", newErr(http.StatusBadRequest, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
	case errors.Is(err, auth.ErrTokenMissing):
		return "", newErr(http.StatusBadRequest, "MissingSecurityToken", "SecurityToken is mandatory for this access key.")
	case errors.Is(err, auth.ErrTokenMalformed):
		return "", newErr(http.StatusBadRequest, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
	}
	return "", newErr(http.StatusBadRequest, "InvalidAccessKeyId", "%v", err)
}

func checkTimestamp(v string) *apiError {
	t, err := time.Parse(timestampLayout, v)
	if err != nil {
		return newErr(http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted: %q.", v)
	}
	if d := time.Since(t); d > maxSkew || d < -maxSkew {
		return newErr(http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired: %q.", v)
	}
	return nil
}

// authV3 verifies ACS3-HMAC-SHA256 (wire-protocols.md 1.3).
func (s *Server) authV3(req *request) *apiError {
	r := req.r
	alg, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if alg != SigV3 {
		return newErr(http.StatusBadRequest, "InvalidSignatureMethod", "Signature algorithm %q is not supported; use ACS3-HMAC-SHA256.", alg)
	}
	var ak, signedList, sig string
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			ak = v
		case "SignedHeaders":
			signedList = v
		case "Signature":
			sig = v
		}
	}
	if ak == "" || signedList == "" || sig == "" {
		return newErr(http.StatusBadRequest, "IncompleteSignature", "The Authorization header needs Credential, SignedHeaders and Signature.")
	}
	req.ak = ak
	signed := strings.Split(signedList, ";")
	token := r.Header.Get("x-acs-security-token")
	required := v3Required
	if token != "" {
		required = append(slices.Clone(required), "x-acs-security-token", "x-acs-accesskey-id")
	}
	for _, h := range required {
		if !slices.Contains(signed, h) {
			return newErr(http.StatusBadRequest, "IncompleteSignature", "The request signature does not cover the %s header.", h)
		}
	}
	if hdr := r.Header.Get("x-acs-accesskey-id"); hdr != "" && hdr != ak {
		return newErr(http.StatusBadRequest, "InvalidSecurityToken.MismatchWithAccessKey", "x-acs-accesskey-id %q does not match the Credential %q.", hdr, ak)
	}
	if e := checkTimestamp(r.Header.Get("x-acs-date")); e != nil {
		return e
	}
	secret, e := s.verifyKey(ak, token)
	if e != nil {
		return e
	}
	toSign := v3StringToSign(r, signed, req.body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(toSign))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return newErr(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature does not match our calculation. Server string to sign is: %q", toSign)
	}
	return s.useNonce(ak, r.Header.Get("x-acs-signature-nonce"))
}

// v3StringToSign rebuilds the SDK's string to sign from the request as
// received: decoded query re-encoded the SDK's way, the signed headers (host
// from r.Host), and the hash of the body actually sent.
func v3StringToSign(r *http.Request, signed []string, body []byte) string {
	uri := r.URL.Path
	if uri == "" {
		uri = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + canonicalEscape(uri) + "\n" + v3CanonicalQuery(r.URL.Query()) + "\n")
	for _, h := range signed {
		var v string
		if h == "host" {
			v = r.Host
		} else {
			vals := r.Header.Values(h)
			trimmed := make([]string, len(vals))
			for i, x := range vals {
				trimmed[i] = strings.TrimSpace(x)
			}
			slices.Sort(trimmed)
			v = strings.Join(trimmed, ",")
		}
		b.WriteString(h + ":" + v + "\n")
	}
	sum := sha256.Sum256(body)
	b.WriteString("\n" + strings.Join(signed, ";") + "\n" + hex.EncodeToString(sum[:]))
	canon := sha256.Sum256([]byte(b.String()))
	return SigV3 + "\n" + hex.EncodeToString(canon[:])
}

// v3CanonicalQuery is getCanonicalQueryString of openapi-util: keys sorted
// bytewise, values QueryEscape'd, then "+"→"%20", "*"→"%2A", "%7E"→"~".
func v3CanonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := q.Get(k)
		if v == "" {
			parts[i] = k + "="
		} else {
			parts[i] = k + "=" + url.QueryEscape(v)
		}
	}
	return canonicalEscape(strings.Join(parts, "&"))
}

func canonicalEscape(s string) string {
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

// authV2 verifies the legacy RPC signature (wire-protocols.md 1.4).
func (s *Server) authV2(req *request) *apiError {
	p := req.params
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp"} {
		if p.Get(name) == "" {
			return errMissing(name)
		}
	}
	ak := p.Get("AccessKeyId")
	req.ak = ak
	if m := p.Get("SignatureMethod"); m != "HMAC-SHA1" {
		return newErr(http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method %q is not supported; use HMAC-SHA1.", m)
	}
	if v := p.Get("SignatureVersion"); v != "" && v != "1.0" {
		return newErr(http.StatusBadRequest, "InvalidSignatureVersion", "Specified signature version %q is not supported; use 1.0.", v)
	}
	if e := checkTimestamp(p.Get("Timestamp")); e != nil {
		return e
	}
	secret, e := s.verifyKey(ak, p.Get("SecurityToken"))
	if e != nil {
		return e
	}
	toSign := v2StringToSign(req.r.Method, p)
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(p.Get("Signature"))) {
		return newErr(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature does not match our calculation. Server string to sign is: %s", toSign)
	}
	return s.useNonce(ak, p.Get("SignatureNonce"))
}

// v2StringToSign is buildRpcStringToSign of openapi-util over every
// parameter but Signature.
func v2StringToSign(method string, p url.Values) string {
	vals := url.Values{}
	for k := range p {
		if k != "Signature" {
			vals.Set(k, p.Get(k))
		}
	}
	return method + "&%2F&" + url.QueryEscape(canonicalEscape(vals.Encode()))
}

// useNonce refuses a signature nonce already seen for the key in the last
// 15 minutes (real time), as the gateway does.
func (s *Server) useNonce(ak, nonce string) *apiError {
	if nonce == "" {
		return errMissing("SignatureNonce")
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.nonceQueue) > 0 && now.Sub(s.nonceQueue[0].at) > maxSkew {
		delete(s.nonces, s.nonceQueue[0].key)
		s.nonceQueue = s.nonceQueue[1:]
	}
	key := ak + "\x00" + nonce
	if _, seen := s.nonces[key]; seen {
		return newErr(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	s.nonces[key] = struct{}{}
	s.nonceQueue = append(s.nonceQueue, nonceEntry{key: key, at: now})
	return nil
}

type nonceEntry struct {
	key string
	at  time.Time
}

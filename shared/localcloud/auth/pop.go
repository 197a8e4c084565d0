package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file is the POP (OpenAPI) RPC gateway's authentication, shared by the
// emulators of RPC-style products (RDS, STS): which signature a request
// follows, the action and version it names, and whether its signature and
// credentials verify against a Store. It follows the official Go SDK
// (darabonba-openapi v2, openapi-util) and credentials-go byte for byte:
// reference/wire-protocols.md 1.3 (ACS3-HMAC-SHA256) and 1.4 (the legacy
// HMAC-SHA1 RPC signature).

// Signature kinds, as POPRequest.Kind reports them.
const (
	SigACS3 = "ACS3-HMAC-SHA256" // darabonba-openapi's DoRequest (the RDS SDK's default)
	SigV2   = "v2"               // HMAC-SHA1 over the parameters (DoRPCRequest; the STS SDK's default; credentials-go)
)

// POPTimestampLayout is the format of x-acs-date and Timestamp.
const POPTimestampLayout = "2006-01-02T15:04:05Z"

// DefaultMaxSkew is how far a request's timestamp may be from the
// verifier's now, and how long a signature nonce is remembered.
const DefaultMaxSkew = 15 * time.Minute

// acs3Required are the headers every ACS3 signature must cover.
var acs3Required = []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}

// POPRequest is a gateway request as read, before verification.
type POPRequest struct {
	R       *http.Request
	Body    []byte     // the body as received (hashed by ACS3)
	Params  url.Values // the query, plus the fields of a form body the query does not have
	Kind    string     // SigACS3, SigV2, or "" when the request claims neither
	Action  string     // v2: the Action parameter; otherwise x-acs-action, else the Action parameter
	Version string     // v2: the Version parameter; otherwise x-acs-version, else the Version parameter
	// ClaimedKey is the access key id the request names (AccessKeyId, or
	// the Credential of an ACS3 Authorization), unverified: for call logs.
	ClaimedKey string
}

// ParsePOP reads what the gateway needs of r, whose body has already been
// read into body. A form body (Content-Type
// application/x-www-form-urlencoded, as credentials-go sends AssumeRole)
// adds its fields to Params; the v2 signature covers them.
func ParsePOP(r *http.Request, body []byte) *POPRequest {
	req := &POPRequest{R: r, Body: body, Params: r.URL.Query()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				if !req.Params.Has(k) {
					req.Params[k] = vs
				}
			}
		}
	}
	switch {
	case strings.HasPrefix(r.Header.Get("Authorization"), "ACS3-"):
		req.Kind = SigACS3
	case req.Params.Has("Signature") || req.Params.Has("SignatureMethod"):
		req.Kind = SigV2
	}
	// The v2 signature covers the parameters and no header, so a v2
	// request's action and version are its parameters' only (an unsigned
	// x-acs-action could otherwise name another action than the one signed).
	pAction, pVersion := req.Params.Get("Action"), req.Params.Get("Version")
	if req.Kind == SigV2 {
		req.Action, req.Version = pAction, pVersion
	} else {
		req.Action, req.Version = cmpOr(r.Header.Get("x-acs-action"), pAction), cmpOr(r.Header.Get("x-acs-version"), pVersion)
	}
	req.ClaimedKey = claimedKey(r, req.Params)
	return req
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

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

// POPError is a refusal in the gateway's terms: the HTTP status, the error
// code and the message of the JSON error body
// {"RequestId","HostId","Code","Message"} an emulator answers.
type POPError struct {
	Status  int
	Code    string
	Message string
}

func (e *POPError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func popErr(status int, code, format string, args ...any) *POPError {
	return &POPError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// POPMissing is the gateway's answer for a missing required parameter:
// 400 Missing<Param>.
func POPMissing(param string) *POPError {
	return popErr(http.StatusBadRequest, "Missing"+param, "%s is mandatory for this action.", param)
}

// POPVerifier verifies POP requests against a Store and remembers the
// signature nonces it has accepted. Safe for concurrent use.
type POPVerifier struct {
	store   *Store
	now     func() time.Time
	maxSkew time.Duration

	mu     sync.Mutex
	nonces map[string]time.Time
	queue  []nonceEntry
}

type nonceEntry struct {
	key string
	at  time.Time
}

// POPOption configures a POPVerifier.
type POPOption func(*POPVerifier)

// WithPOPClock sets the time request timestamps are checked against and
// nonces are remembered by (default time.Now). The SDKs stamp requests with
// real time, so an emulator on a fake clock keeps the default; tests of
// captured requests set the capture's time. Credential expiry is the
// Store's clock, not this one.
func WithPOPClock(now func() time.Time) POPOption {
	return func(v *POPVerifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithMaxSkew sets how far a timestamp may be from now (default 15 min).
func WithMaxSkew(d time.Duration) POPOption {
	return func(v *POPVerifier) {
		if d > 0 {
			v.maxSkew = d
		}
	}
}

// NewPOPVerifier returns a verifier of the keys of store.
func NewPOPVerifier(store *Store, opts ...POPOption) *POPVerifier {
	v := &POPVerifier{store: store, now: time.Now, maxSkew: DefaultMaxSkew, nonces: map[string]time.Time{}}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Verify checks req's signature, timestamp, nonce and credentials, in the
// gateway's order, and returns the verified credential. The codes are the
// gateway's, as the RDS and STS emulators answer them:
//
//	400 MissingAuthorization             neither an ACS3 Authorization nor a Signature parameter
//	400 IncompleteSignature              another Authorization scheme; ACS3 without Credential, SignedHeaders or
//	                                     Signature, or not signing a required header
//	400 InvalidSignatureMethod           ACS3 other than HMAC-SHA256; v2 SignatureMethod other than HMAC-SHA1
//	400 InvalidSignatureVersion          v2 SignatureVersion other than 1.0
//	400 Missing<Param>                   v2 without AccessKeyId, Signature, SignatureMethod, SignatureNonce or Timestamp
//	400 InvalidSecurityToken.MismatchWithAccessKey  x-acs-accesskey-id differs from the Credential
//	400 InvalidTimeStamp.Format / .Expired          timestamp unparsable / more than the skew from now
//	404 InvalidAccessKeyId.NotFound      key unknown to the store
//	400 MissingSecurityToken             STS key without its token
//	400 InvalidSecurityToken.Malformed   wrong token, or a token with a long-term key
//	400 InvalidSecurityToken.Expired     STS key past its Expiration (the Store's clock)
//	400 SignatureDoesNotMatch            signature differs (the message carries the server's string to sign)
//	400 SignatureNonceUsed               nonce already accepted for the key within the skew
func (v *POPVerifier) Verify(req *POPRequest) (Credential, *POPError) {
	switch req.Kind {
	case SigACS3:
		return v.verifyACS3(req)
	case SigV2:
		return v.verifyV2(req)
	}
	if req.R.Header.Get("Authorization") != "" {
		return Credential{}, popErr(http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to Aliyun standards: unsupported Authorization scheme.")
	}
	return Credential{}, popErr(http.StatusBadRequest, "MissingAuthorization", "The request carries neither an Authorization header (ACS3-HMAC-SHA256) nor a Signature parameter.")
}

// verifyKey maps the store's verdict onto the gateway's codes.
func (v *POPVerifier) verifyKey(ak, token string) (Credential, *POPError) {
	_, err := v.store.Verify(ak, token)
	switch {
	case err == nil:
		c, _ := v.store.Lookup(ak)
		return c, nil
	case errors.Is(err, ErrUnknownKey):
		return Credential{}, popErr(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	case errors.Is(err, ErrTokenExpired):
		return Credential{}, popErr(http.StatusBadRequest, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
	case errors.Is(err, ErrTokenMissing):
		return Credential{}, popErr(http.StatusBadRequest, "MissingSecurityToken", "SecurityToken is mandatory for this access key.")
	case errors.Is(err, ErrTokenMalformed):
		return Credential{}, popErr(http.StatusBadRequest, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
	}
	return Credential{}, popErr(http.StatusBadRequest, "InvalidAccessKeyId", "%v", err)
}

func (v *POPVerifier) checkTimestamp(s string) *POPError {
	t, err := time.Parse(POPTimestampLayout, s)
	if err != nil {
		return popErr(http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted: %q.", s)
	}
	if d := v.now().Sub(t); d > v.maxSkew || d < -v.maxSkew {
		return popErr(http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired: %q.", s)
	}
	return nil
}

// verifyACS3 verifies ACS3-HMAC-SHA256 (wire-protocols.md 1.3).
func (v *POPVerifier) verifyACS3(req *POPRequest) (Credential, *POPError) {
	r := req.R
	alg, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if alg != SigACS3 {
		return Credential{}, popErr(http.StatusBadRequest, "InvalidSignatureMethod", "Signature algorithm %q is not supported; use ACS3-HMAC-SHA256.", alg)
	}
	var ak, signedList, sig string
	for part := range strings.SplitSeq(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			ak = val
		case "SignedHeaders":
			signedList = val
		case "Signature":
			sig = val
		}
	}
	if ak == "" || signedList == "" || sig == "" {
		return Credential{}, popErr(http.StatusBadRequest, "IncompleteSignature", "The Authorization header needs Credential, SignedHeaders and Signature.")
	}
	signed := strings.Split(signedList, ";")
	token := r.Header.Get("x-acs-security-token")
	required := acs3Required
	if token != "" {
		required = append(slices.Clone(required), "x-acs-security-token", "x-acs-accesskey-id")
	}
	for _, h := range required {
		if !slices.Contains(signed, h) {
			return Credential{}, popErr(http.StatusBadRequest, "IncompleteSignature", "The request signature does not cover the %s header.", h)
		}
	}
	if hdr := r.Header.Get("x-acs-accesskey-id"); hdr != "" && hdr != ak {
		return Credential{}, popErr(http.StatusBadRequest, "InvalidSecurityToken.MismatchWithAccessKey", "x-acs-accesskey-id %q does not match the Credential %q.", hdr, ak)
	}
	if e := v.checkTimestamp(r.Header.Get("x-acs-date")); e != nil {
		return Credential{}, e
	}
	cred, e := v.verifyKey(ak, token)
	if e != nil {
		return Credential{}, e
	}
	toSign := ACS3StringToSign(r, signed, req.Body)
	mac := hmac.New(sha256.New, []byte(cred.AccessKeySecret))
	mac.Write([]byte(toSign))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return Credential{}, popErr(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature does not match our calculation. Server string to sign is: %q", toSign)
	}
	if e := v.useNonce(ak, r.Header.Get("x-acs-signature-nonce")); e != nil {
		return Credential{}, e
	}
	return cred, nil
}

// ACS3StringToSign rebuilds the SDK's ACS3 string to sign from r as
// received: the decoded query re-encoded the SDK's way, the signed headers
// (host from r.Host; repeated values sorted and joined by ","), and the
// hash of body.
func ACS3StringToSign(r *http.Request, signed []string, body []byte) string {
	uri := r.URL.Path
	if uri == "" {
		uri = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + canonicalEscape(uri) + "\n" + acs3CanonicalQuery(r.URL.Query()) + "\n")
	for _, h := range signed {
		var val string
		if h == "host" {
			val = r.Host
		} else {
			vals := r.Header.Values(h)
			trimmed := make([]string, len(vals))
			for i, x := range vals {
				trimmed[i] = strings.TrimSpace(x)
			}
			slices.Sort(trimmed)
			val = strings.Join(trimmed, ",")
		}
		b.WriteString(h + ":" + val + "\n")
	}
	sum := sha256.Sum256(body)
	b.WriteString("\n" + strings.Join(signed, ";") + "\n" + hex.EncodeToString(sum[:]))
	canon := sha256.Sum256([]byte(b.String()))
	return SigACS3 + "\n" + hex.EncodeToString(canon[:])
}

// acs3CanonicalQuery is openapi-util's getCanonicalQueryString: keys sorted
// bytewise, values QueryEscape'd, then "+"→"%20", "*"→"%2A", "%7E"→"~".
func acs3CanonicalQuery(q url.Values) string {
	keys := slices.Sorted(maps.Keys(q))
	parts := make([]string, len(keys))
	for i, k := range keys {
		if val := q.Get(k); val == "" {
			parts[i] = k + "="
		} else {
			parts[i] = k + "=" + url.QueryEscape(val)
		}
	}
	return canonicalEscape(strings.Join(parts, "&"))
}

func canonicalEscape(s string) string {
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

// verifyV2 verifies the HMAC-SHA1 RPC signature (wire-protocols.md 1.4)
// over every parameter of the query and of a form body.
func (v *POPVerifier) verifyV2(req *POPRequest) (Credential, *POPError) {
	p := req.Params
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp"} {
		if p.Get(name) == "" {
			return Credential{}, POPMissing(name)
		}
	}
	ak := p.Get("AccessKeyId")
	if m := p.Get("SignatureMethod"); m != "HMAC-SHA1" {
		return Credential{}, popErr(http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method %q is not supported; use HMAC-SHA1.", m)
	}
	if sv := p.Get("SignatureVersion"); sv != "" && sv != "1.0" {
		return Credential{}, popErr(http.StatusBadRequest, "InvalidSignatureVersion", "Specified signature version %q is not supported; use 1.0.", sv)
	}
	if e := v.checkTimestamp(p.Get("Timestamp")); e != nil {
		return Credential{}, e
	}
	cred, e := v.verifyKey(ak, p.Get("SecurityToken"))
	if e != nil {
		return Credential{}, e
	}
	toSign := V2StringToSign(req.R.Method, p)
	mac := hmac.New(sha1.New, []byte(cred.AccessKeySecret+"&"))
	mac.Write([]byte(toSign))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(p.Get("Signature"))) {
		return Credential{}, popErr(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature does not match our calculation. Server string to sign is: %s", toSign)
	}
	if e := v.useNonce(ak, p.Get("SignatureNonce")); e != nil {
		return Credential{}, e
	}
	return cred, nil
}

// V2StringToSign is openapi-util's buildRpcStringToSign (and
// credentials-go's) over every parameter but Signature.
func V2StringToSign(method string, p url.Values) string {
	vals := url.Values{}
	for k := range p {
		if k != "Signature" {
			vals.Set(k, p.Get(k))
		}
	}
	return method + "&%2F&" + url.QueryEscape(canonicalEscape(vals.Encode()))
}

// useNonce refuses a signature nonce already accepted for the key within
// the skew window.
func (v *POPVerifier) useNonce(ak, nonce string) *POPError {
	if nonce == "" {
		return POPMissing("SignatureNonce")
	}
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	for len(v.queue) > 0 && now.Sub(v.queue[0].at) > v.maxSkew {
		delete(v.nonces, v.queue[0].key)
		v.queue = v.queue[1:]
	}
	key := ak + "\x00" + nonce
	if _, seen := v.nonces[key]; seen {
		return popErr(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	v.nonces[key] = now
	v.queue = append(v.queue, nonceEntry{key: key, at: now})
	return nil
}

package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
)

// DefaultSigner is DESIGN.md §5's signature v1: "v1=" and the hex
// HMAC-SHA256, with the caller's secret, of
//
//	<X-Timestamp>\n<METHOD>\n<path>\n<canonical query>\n<hex SHA-256 of the raw body>
//
// where the canonical query is url.Values.Encode of the parameters (sorted
// by key; empty when there are none).
var DefaultSigner Signer = SignV1

// SignV1 computes the v1 signature (see DefaultSigner).
func SignV1(secret string, ts int64, method, path string, query url.Values, body []byte) string {
	sum := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + method + "\n" + path + "\n" + query.Encode() + "\n" + hex.EncodeToString(sum[:])))
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

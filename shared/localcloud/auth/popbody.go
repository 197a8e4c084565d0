package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// Helpers for the bodies the POP gateway's emulators (RDS, STS) answer.

// NewPOPRequestID returns an upper-case UUIDv4, the form of the gateway's
// request ids (RequestId, x-acs-request-id).
func NewPOPRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// POPHTMLBody is what a broken gateway answers with status: a Tengine error
// page, not JSON, so the SDK cannot make an SDKError of it.
func POPHTMLBody(status int) string {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n"
}

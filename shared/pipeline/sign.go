package pipeline

import "github.com/fc-rds-backup/fc-rds-backup/shared/webhook"

// DefaultSigner is DESIGN.md §5's signature v1, the project's one
// implementation (webhook.SignV1): "v1=" and the hex HMAC-SHA256, with the
// caller's secret, of
//
//	<X-Timestamp>\n<METHOD>\n<path>\n<canonical query>\n<hex SHA-256 of the raw body>\n<Idempotency-Key>
//
// where the canonical query is url.Values.Encode of the parameters and the
// last line is empty when the request has no Idempotency-Key.
var DefaultSigner Signer = webhook.SignV1Key

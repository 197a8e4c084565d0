package memberauth

import (
	"errors"

	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
)

// RDSClient returns a client like base (its endpoint, protocol, region and
// timeouts) that signs as c: RDS calls made with it act in c's member
// account. It is cheap (no I/O). Build it per step from a Get made at the
// step's start: Get hands out only credentials with more than
// RefreshBefore (at least 180s) left, so a step shorter than that never
// signs with an expired token.
func RDSClient(base *rdsclient.Client, c Credentials) (*rdsclient.Client, error) {
	if base == nil {
		return nil, errors.New("memberauth: RDSClient: no base client")
	}
	if c.AccessKeyID == "" || c.AccessKeySecret == "" || c.SecurityToken == "" {
		return nil, errors.New("memberauth: RDSClient: incomplete credentials for account " + c.AccountID)
	}
	return base.WithCredentials(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
}

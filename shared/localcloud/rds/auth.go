package rds

import (
	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

// Signature kinds, as Call.SignatureKind reports them.
const (
	SigV3 = auth.SigACS3 // "ACS3-HMAC-SHA256": the SDK's default (DoRequest)
	SigV2 = auth.SigV2   // "v2": SignatureAlgorithm "v2", HMAC-SHA1 in the query (DoRPCRequest)
)

// authenticate verifies the request's signature and credentials with the
// POP gateway's verifier (auth/pop.go: timestamps against real time, nonces
// remembered for 15 minutes) and records the verified key and its account
// on req.
func (s *Server) authenticate(req *request) *apiError {
	cred, pe := s.verifier.Verify(req.pop)
	if pe != nil {
		return &apiError{Status: pe.Status, Code: pe.Code, Message: pe.Message}
	}
	req.ak, req.account = cred.AccessKeyID, cred.Account()
	return nil
}

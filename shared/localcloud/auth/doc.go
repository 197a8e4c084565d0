// Package auth is the local cloud's identity store and the POP gateway's
// request verification, shared by the emulators (rds, sts, mns, tablestore)
// and by fc, which hands a function its role's credentials.
//
// localauth.go is the store: an AccessKeyId maps to its secret; an STS key
// additionally requires its SecurityToken, which expires on the store's
// clock. Every key belongs to an account (Credential.AccountID; empty means
// DefaultAccountID, the local cloud's own account, see Credential.Account
// and Store.AccountOf); an STS key issued for a role (Store.IssueSTSFor)
// belongs to the role's account. The emulators scope what a call sees by
// its key's account. Roles and AssumeRole themselves are the sts emulator's
// (shared/localcloud/sts), which issues its credentials into a Store; this
// package models no RAM policy: every known key may call every action.
//
// pop.go is the POP (OpenAPI RPC) gateway's authentication, as the RDS and
// STS emulators answer it: ParsePOP reads a request's signature kind
// (SigACS3 or SigV2), action, version and parameters (query plus form
// body); POPVerifier.Verify checks the ACS3-HMAC-SHA256 or v2 HMAC-SHA1
// signature exactly as the official SDKs compute it (ACS3StringToSign,
// V2StringToSign), the timestamp skew, the signature nonce and the key
// against a Store, and returns the verified Credential or a POPError with
// the gateway's status, code and message. popbody.go has the gateway's
// request ids and its non-JSON error page.
package auth

// Package localauth is the local cloud's identity store: the access keys and
// STS tokens that the emulators (rdstest, mnstest) accept and that fctest hands
// to a function as its role's credentials.
//
// It models what the emulators need to verify a signature: an AccessKeyId maps
// to its secret, and an STS key additionally requires its SecurityToken, which
// expires. It does not model RAM policies, roles, or AssumeRole: every known
// key may call every action.
package auth

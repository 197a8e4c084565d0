// Package accounts runs an invocation's asks in the accounts they name
// (DESIGN.md §10): an ask without an AccountId, or naming the functions'
// own account, runs with the invocation's RDS client; an ask in a member
// account runs with an RDS client that signs as the member role
// (memberauth's broker: one credential per account and role per warm
// instance). Asks are grouped by account and region (RDS counts its quotas
// per account and region: each pair gets workers of its own) and the
// groups run at once.
//
// A member account whose role cannot be assumed ends its asks without an
// RDS call (NoClient): failed with STS's code when the answer is terminal
// (the role is missing, the ExternalId wrong, the account not allowed) or
// the ask is past BACKUP_MAX_AGE, deferred otherwise; every other account
// goes on.
//
// The cut: this package holds the fan-out by account and the client of an
// account; building the broker and the invocation's own client is
// shared/app's (the composition), settling the outcomes shared/settle's.
package accounts

package accounts

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// Accounts are one invocation's ways into the accounts its asks name.
type Accounts struct {
	// Own is the invocation's RDS client, in the functions' own account.
	Own *rdsclient.Client
	// Fleet is the accounts requests may name: the own and
	// BACKUP_ALLOWED_ACCOUNTS.
	Fleet backup.Fleet
	// Broker hands out member credentials; nil when the deployment names
	// no member account.
	Broker *memberauth.Broker
	// Role and ExternalID are BACKUP_MEMBER_ROLE and
	// BACKUP_MEMBER_EXTERNAL_ID.
	Role, ExternalID string
	// Exec runs the asks.
	Exec *executor.Executor
	// MaxAge and MaxAttempts are the ask's budget (BACKUP_MAX_AGE,
	// BACKUP_MAX_ATTEMPTS): a member account unavailable past it ends the
	// ask failed.
	MaxAge      time.Duration
	MaxAttempts int
	Now         func() time.Time
	Log         *slog.Logger
}

// Client returns the RDS client that acts in account: the invocation's for
// the own account, the member role's for another. runKey names the plan
// run (the member's ActionTrail shows it as the session name).
func (a Accounts) Client(ctx context.Context, account, runKey string) (*rdsclient.Client, error) {
	if !a.Fleet.Member(account) {
		return a.Own, nil
	}
	if a.Broker == nil || !a.Fleet.Allows(account) {
		return nil, &memberauth.Error{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403,
			Message: "account " + account + " is not one this deployment allows (BACKUP_ALLOWED_ACCOUNTS)"}
	}
	cred, err := a.Broker.Get(ctx, memberauth.Request{AccountID: account, Role: a.Role, ExternalID: a.ExternalID,
		SessionName: memberauth.SessionName(runKey)})
	if err != nil {
		return nil, err
	}
	return memberauth.RDSClient(a.Own, cred)
}

// RunEach runs reqs (regions filled in) grouped by account and region, the
// groups at once, each with its account's client; history gives each ask's history,
// runKey the run it belongs to (for a member's session name), and done is
// called as each ask ends. An account whose client cannot be had ends its
// asks without an RDS call (NoClient).
func (a Accounts) RunEach(ctx context.Context, reqs []backup.Request, history func(i int) executor.History, runKey func(i int) string,
	done func(i int, o *backup.Outcome)) []backup.Outcome {
	// One group per (account, region): RDS's quotas are per account and
	// region, so each pair gets workers of its own (one pool per account
	// had a pair's asks wait for workers held in another region's pacer).
	type pair struct{ account, region string }
	groups := map[pair][]int{}
	var order []pair
	for i, r := range reqs {
		k := pair{r.AccountId, r.RegionId}
		if !a.Fleet.Member(k.account) {
			k.account = ""
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	if len(order) == 1 && order[0].account == "" {
		return a.Exec.RunEach(ctx, a.Own, reqs, history, done)
	}
	out := make([]backup.Outcome, len(reqs))
	var wg sync.WaitGroup
	for _, k := range order {
		idx, acct := groups[k], k.account
		wg.Go(func() {
			cli, err := a.Client(ctx, acct, runKey(idx[0]))
			if err != nil {
				for _, i := range idx {
					out[i] = a.NoClient(reqs[i], history(i), err)
					done(i, &out[i])
				}
				return
			}
			sub := make([]backup.Request, len(idx))
			for k, i := range idx {
				sub[k] = reqs[i]
			}
			os := a.Exec.RunEach(ctx, cli, sub, func(k int) executor.History { return history(idx[k]) }, func(k int, o *backup.Outcome) {
				done(idx[k], o)
			})
			for k, i := range idx {
				out[i] = os[k]
			}
		})
	}
	wg.Wait()
	return out
}

// NoClient is the outcome of an ask whose account's credentials could not
// be had: failed with STS's code when the answer is terminal (the role is
// missing, the ExternalId wrong, the account not allowed) or the ask is
// past BACKUP_MAX_AGE; deferred otherwise (throttling, STS down), to be
// tried again from the work queue.
func (a Accounts) NoClient(r backup.Request, h executor.History, err error) backup.Outcome {
	now := a.Now()
	code, msg := "InternalError", clipErr(err)
	var me *memberauth.Error
	if errors.As(err, &me) && me.Code != "" {
		code = me.Code
	} else if ei := executor.ErrorInfoOf(err); ei.Code != "" {
		// No answer from STS (unreachable, a timeout): Network and the kind
		// of failure, not the endpoint.
		code, msg = ei.Code, ei.Message
	}
	terminal := memberauth.IsTerminal(err) || (me != nil && me.Code == backup.CodeAccountNotAllowed)
	info := &backup.ErrorInfo{Code: code, Message: "the member role of account " + r.AccountId + " could not be assumed: " + msg,
		Retryable: !terminal, Field: "AccountId"}
	attempts := append(append([]backup.Attempt{}, h.Attempts...), backup.Attempt{Time: now, Code: code, Message: info.Message, Retryable: !terminal})
	o := backup.Outcome{Status: backup.StatusFailed, Terminal: true, Request: r, Error: info, Time: now, Attempts: attempts}
	first := h.FirstSeen
	if first.IsZero() {
		first = now
	}
	if !terminal && now.Sub(first) <= a.MaxAge && len(attempts) < a.MaxAttempts {
		delay := retry.DefaultPolicy.Delay(retry.StateWait, len(attempts)-1)
		o.Status, o.Terminal, o.NotBefore = backup.StatusDeferred, false, now.Add(max(delay, time.Second))
		o.Note = "the member account's credentials will be asked for again"
	}
	a.Log.Warn("member account unavailable", slog.String("accountId", r.AccountId), slog.String("code", code),
		slog.String("status", string(o.Status)), slog.String("correlationId", r.CorrelationId))
	return o
}

// clipErr is err's text, clipped for an outcome's message.
func clipErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

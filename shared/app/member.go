package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/events"
	"github.com/fc-rds-backup/fc-rds-backup/shared/executor"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
	"github.com/fc-rds-backup/fc-rds-backup/shared/rdsclient"
	"github.com/fc-rds-backup/fc-rds-backup/shared/retry"
)

// Plans across accounts (DESIGN.md §10). An ask whose AccountId is another
// account than the functions' own runs with an RDS client that signs as the
// member role (memberauth's broker: one credential per account and role per
// warm instance); an ask in the own account (no AccountId, or the own id)
// runs as before. A member account whose role cannot be assumed ends its
// asks failed with STS's code when the answer is terminal, deferred
// otherwise; every other account goes on.

// newBroker is the process's one broker of member credentials, nil when
// the deployment names no member account.
func newBroker(cfg config.Config, opts Options, log *slog.Logger) (*memberauth.Broker, error) {
	if len(cfg.AllowedAccounts) == 0 {
		return nil, nil
	}
	host, proto := cfg.STS()
	region := cfg.Region
	if region == "" && backup.ValidRegionID(cfg.Env["FC_REGION"]) {
		region = cfg.Env["FC_REGION"]
	}
	return memberauth.New(memberauth.Config{
		Caller:   callerKey,
		Endpoint: host,
		Protocol: proto,
		RegionID: region,
		Now:      opts.Now,
		Sleep:    opts.Sleep,
		OnEvent: func(ev memberauth.Event) {
			switch ev.Kind {
			case memberauth.EventIssued, memberauth.EventFailed, memberauth.EventRetry:
				log.Info("member credential", slog.String("credential", string(ev.Kind)), slog.String("accountId", ev.Account),
					slog.String("memberRole", ev.Role), slog.Int("attempt", ev.Attempt), slog.String("code", ev.Code))
			}
		},
	})
}

// callerKey is the key AssumeRole is signed with: the invocation's role
// credentials, or the default chain's outside Function Compute.
func callerKey(ctx context.Context) (memberauth.CallerKey, error) {
	if inv := invocationFrom(ctx); inv != nil && inv.key.AccessKeyID != "" {
		return inv.key, nil
	}
	ak, sk, token, err := chainCredential()
	if err != nil {
		return memberauth.CallerKey{}, fmt.Errorf("no credentials to assume member roles with: %w", err)
	}
	return memberauth.CallerKey{AccessKeyID: ak, AccessKeySecret: sk, SecurityToken: token}, nil
}

// rdsIn returns the RDS client that acts in account: the invocation's for
// the own account, the member role's for another. runKey names the plan
// run (the member's ActionTrail shows it as the session name).
func (a *App) rdsIn(ctx context.Context, inv *invocation, account, runKey string) (*rdsclient.Client, error) {
	if !inv.fleet.Member(account) {
		return inv.rds, nil
	}
	if a.broker == nil || !inv.fleet.Allows(account) {
		return nil, &memberauth.Error{Code: backup.CodeAccountNotAllowed, HTTPStatus: 403,
			Message: "account " + account + " is not one this deployment allows (BACKUP_ALLOWED_ACCOUNTS)"}
	}
	cred, err := a.broker.Get(ctx, memberauth.Request{AccountID: account, Role: a.cfg.MemberRole, ExternalID: a.cfg.MemberExternalID,
		SessionName: memberauth.SessionName(runKey)})
	if err != nil {
		return nil, err
	}
	return memberauth.RDSClient(inv.rds, cred)
}

// runKeyOf names the run a job belongs to, for the member's session name.
func runKeyOf(j job) string {
	if j.run != nil && j.run.summary != nil {
		return j.run.summary.Key
	}
	return j.req.CorrelationId
}

// runByAccount runs reqs (jobs' requests, regions filled in) grouped by
// account, the groups at once, each with its account's client; done is
// called as each ask ends. An account whose client cannot be had ends its
// asks without an RDS call (noClient).
func (a *App) runByAccount(ctx context.Context, inv *invocation, jobs []job, reqs []backup.Request, done func(i int, o *backup.Outcome)) []backup.Outcome {
	groups := map[string][]int{}
	var order []string
	for i, r := range reqs {
		acct := r.AccountId
		if !inv.fleet.Member(acct) {
			acct = ""
		}
		if _, ok := groups[acct]; !ok {
			order = append(order, acct)
		}
		groups[acct] = append(groups[acct], i)
	}
	if len(order) == 1 && order[0] == "" {
		return a.exec.RunEach(ctx, inv.rds, reqs, func(i int) executor.History { return jobs[i].hist }, done)
	}
	out := make([]backup.Outcome, len(reqs))
	var wg sync.WaitGroup
	for _, acct := range order {
		idx := groups[acct]
		wg.Go(func() {
			cli, err := a.rdsIn(ctx, inv, acct, runKeyOf(jobs[idx[0]]))
			if err != nil {
				for _, i := range idx {
					out[i] = a.noClient(inv, reqs[i], jobs[i].hist, err)
					done(i, &out[i])
				}
				return
			}
			sub := make([]backup.Request, len(idx))
			for k, i := range idx {
				sub[k] = reqs[i]
			}
			os := a.exec.RunEach(ctx, cli, sub, func(k int) executor.History { return jobs[idx[k]].hist }, func(k int, o *backup.Outcome) {
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

// noClient is the outcome of an ask whose account's credentials could not
// be had: failed with STS's code when the answer is terminal (the role is
// missing, the ExternalId wrong, the account not allowed) or the ask is
// past BACKUP_MAX_AGE; deferred otherwise (throttling, STS down), to be
// tried again from the work queue.
func (a *App) noClient(inv *invocation, r backup.Request, h executor.History, err error) backup.Outcome {
	now := a.now()
	code, msg := "InternalError", clipErr(err)
	var me *memberauth.Error
	if errors.As(err, &me) {
		code = me.Code
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
	if !terminal && now.Sub(first) <= a.cfg.MaxAge && len(attempts) < a.cfg.MaxAttempts {
		delay := retry.DefaultPolicy.Delay(retry.StateWait, len(attempts)-1)
		o.Status, o.Terminal, o.NotBefore = backup.StatusDeferred, false, now.Add(max(delay, time.Second))
		o.Note = "the member account's credentials will be asked for again"
	}
	inv.log.Warn("member account unavailable", slog.String("accountId", r.AccountId), slog.String("code", code),
		slog.String("status", string(o.Status)), slog.String("correlationId", r.CorrelationId))
	return o
}

// targetFailed is the outcome of a Select target (an account and region)
// whose member role could not be assumed: failed with STS's code, named by
// the account and region so the run's summary counts it there.
func (a *App) targetFailed(pr *planRun, sel backup.Selector, err error) backup.Outcome {
	code := "InternalError"
	var me *memberauth.Error
	if errors.As(err, &me) {
		code = me.Code
	}
	r := backup.Request{Trigger: pr.trig, RegionId: sel.RegionId, AccountId: sel.Account(), AskedAt: pr.askedAt}
	r.IdempotencyKey = backup.Key(pr.trig.Kind, pr.trig.Source, pr.trig.DeliveryId, "Select", r.AccountId, r.RegionId)
	r.CorrelationId = events.CorrelationID(r.IdempotencyKey)
	return backup.Outcome{Status: backup.StatusFailed, Terminal: true, Request: r, Time: a.now(), Attempts: []backup.Attempt{},
		Error: &backup.ErrorInfo{Code: code, Field: "Select.Accounts", Message: fmt.Sprintf("Select in account %s, region %s: the member role could not be assumed: %s",
			r.AccountId, r.RegionId, clipErr(err))}}
}

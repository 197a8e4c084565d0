package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/config"
	"github.com/fc-rds-backup/fc-rds-backup/shared/memberauth"
)

// Plans across accounts (DESIGN.md §10): the App builds the process's one
// broker of member credentials, signed with each invocation's role key;
// shared/accounts runs the asks with it, grouped by account.

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

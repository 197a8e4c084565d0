package sts

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/localcloud/auth"
)

// timeLayout is how the API writes times (Credentials.Expiration).
const timeLayout = "2006-01-02T15:04:05Z"

// maxPolicy is Policy's upper length (sts-20150401 v2.0.4: 1 to 2,048
// characters; the older API page says 1,024, whose message PolicySize
// keeps).
const maxPolicy = 2048

type handler func(*Server, *request) (map[string]any, *apiError)

var actions = map[string]handler{
	"AssumeRole":        (*Server).assumeRole,
	"GetCallerIdentity": (*Server).getCallerIdentity,
}

// Actions lists the actions the server answers, sorted.
func Actions() []string { return slices.Sorted(maps.Keys(actions)) }

func route(p *auth.POPRequest) (handler, *apiError) {
	if p.Action == "" {
		return nil, errMissing("Action")
	}
	if p.Version == "" {
		return nil, errMissing("Version")
	}
	if p.Version != APIVersion {
		return nil, newErr(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid: %q.", p.Version)
	}
	h, ok := actions[p.Action]
	if !ok {
		return nil, newErr(http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
	}
	return h, nil
}

// assumeRole checks the parameters (format first), then the role, its
// trust policy and ExternalId condition, then the duration against the
// role's maximum, and issues a credential of the role's account.
func (s *Server) assumeRole(req *request) (map[string]any, *apiError) {
	p := req.pop.Params
	arn, session := p.Get("RoleArn"), p.Get("RoleSessionName")
	if arn == "" {
		return nil, errMissing("RoleArn")
	}
	if session == "" {
		return nil, errMissing("RoleSessionName")
	}
	account, name, err := parseRoleArn(arn)
	if err != nil {
		return nil, pageError("InvalidParameter.RoleArn")
	}
	if !sessionNameRE.MatchString(session) {
		return nil, pageError("InvalidParameter.RoleSessionName")
	}
	duration := DefaultDuration
	if v := p.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinDuration {
			return nil, pageError("InvalidParameter.DurationSeconds")
		}
		duration = n
	}
	if p.Has("Policy") {
		pol := p.Get("Policy")
		if len(pol) < 1 || len(pol) > maxPolicy {
			return nil, pageError("InvalidParameter.PolicySize")
		}
		var doc map[string]any
		if json.Unmarshal([]byte(pol), &doc) != nil {
			return nil, pageError("InvalidParameter.PolicyGrammar")
		}
	}
	extID, hasExtID := p.Get("ExternalId"), p.Has("ExternalId")
	if hasExtID && !externalIDOK(extID) {
		return nil, newErr(http.StatusBadRequest, "InvalidParameter", "The parameter ExternalId is wrongly formed.")
	}

	s.mu.Lock()
	role, ok := s.roles[roleKey(account, name)]
	s.mu.Unlock()
	if !ok {
		return nil, pageError("EntityNotExist.Role")
	}
	// A trust policy that does not name the caller, and one whose
	// sts:ExternalId condition the call does not meet, refuse alike:
	// NoPermission (the AssumeRole page's row for "not authorized"; the
	// ExternalId page says only that the call fails [inference]).
	if !role.trusts(req.caller) || (role.ExternalID != "" && extID != role.ExternalID) {
		return nil, pageError("NoPermission")
	}
	if duration > role.MaxSessionDuration {
		return nil, pageError("InvalidParameter.DurationSeconds")
	}

	cred := s.store.IssueSTSFor(role.AccountID, time.Duration(duration)*time.Second)
	roleArn := role.Arn()
	sess := Session{
		RoleArn:         roleArn,
		RoleSessionName: session,
		Arn:             roleArn + "/" + session,
		AssumedRoleId:   roleID(roleArn) + ":" + session,
		Account:         role.AccountID,
		CallerAccount:   req.caller,
		AccessKeyId:     cred.AccessKeyID,
		Issued:          s.clock.Now(),
		Expiration:      cred.Expiration,
	}
	s.mu.Lock()
	s.byKey[cred.AccessKeyID] = len(s.sessions)
	s.sessions = append(s.sessions, sess)
	s.mu.Unlock()
	return map[string]any{
		"AssumedRoleUser": map[string]any{"Arn": sess.Arn, "AssumedRoleId": sess.AssumedRoleId},
		"Credentials": map[string]any{
			"AccessKeyId":     cred.AccessKeyID,
			"AccessKeySecret": cred.AccessKeySecret,
			"SecurityToken":   cred.SecurityToken,
			"Expiration":      cred.Expiration.UTC().Format(timeLayout),
		},
	}, nil
}

// getCallerIdentity names the verified caller. A credential this server
// issued is its AssumedRoleUser; another STS key (issued straight into the
// store, like FC's role credentials) an AssumedRoleUser of an unnamed role;
// a long-term key a RAM user named after the key [inference: the store
// does not know users].
func (s *Server) getCallerIdentity(req *request) (map[string]any, *apiError) {
	c := req.cred
	account := c.Account()
	s.mu.Lock()
	i, issued := s.byKey[c.AccessKeyID]
	var sess Session
	if issued {
		sess = s.sessions[i]
	}
	s.mu.Unlock()
	switch {
	case issued:
		rid := roleID(sess.RoleArn)
		name := sess.RoleArn[strings.LastIndex(sess.RoleArn, "/")+1:]
		return map[string]any{
			"AccountId": account, "IdentityType": "AssumedRoleUser",
			"Arn":         "acs:ram::" + account + ":assumed-role/" + name + "/" + sess.RoleSessionName,
			"PrincipalId": sess.AssumedRoleId, "RoleId": rid,
		}, nil
	case c.SecurityToken != "":
		return map[string]any{
			"AccountId": account, "IdentityType": "AssumedRoleUser",
			"Arn":         "acs:ram::" + account + ":assumed-role/local/" + c.AccessKeyID,
			"PrincipalId": roleID(c.AccessKeyID) + ":" + c.AccessKeyID, "RoleId": roleID(c.AccessKeyID),
		}, nil
	}
	uid := roleID("user:" + c.AccessKeyID)
	return map[string]any{
		"AccountId": account, "IdentityType": "RAMUser",
		"Arn":         "acs:ram::" + account + ":user/" + c.AccessKeyID,
		"PrincipalId": uid, "UserId": uid,
	}, nil
}

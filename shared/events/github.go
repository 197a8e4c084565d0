package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// GitHub webhook event names (the X-GitHub-Event header) acted on.
const (
	GitHubEventDeployment = "deployment"
	GitHubEventPing       = "ping"
)

// GitHubPayloadKey is the key of a deployment's payload that may carry a
// backup request JSON (DESIGN.md §3), naming the backups to take instead of
// the route's: {"rdsBackup": {"DBInstanceId": "rm-..."}}.
const GitHubPayloadKey = "rdsBackup"

// GitHubDeploymentEvent is the payload of a GitHub "deployment" webhook
// (only the fields fc-rds-backup uses).
type GitHubDeploymentEvent struct {
	Action     string           `json:"action"`
	Deployment GitHubDeployment `json:"deployment"`
	Repository GitHubRepository `json:"repository"`
	Sender     GitHubUser       `json:"sender"`
}

// GitHubDeployment is the event's deployment.
type GitHubDeployment struct {
	ID          int64  `json:"id"`
	SHA         string `json:"sha"`
	Ref         string `json:"ref"`
	Task        string `json:"task"`
	Environment string `json:"environment"`
	CreatedAt   string `json:"created_at,omitempty"`
	// Payload is the deployment's free-form payload: a JSON object, or a
	// string (holding JSON) when the deployment was created with one.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// GitHubRepository is a repository as webhook payloads carry it.
type GitHubRepository struct {
	FullName string `json:"full_name"`
}

// GitHubUser is a user as webhook payloads carry it.
type GitHubUser struct {
	Login string `json:"login"`
}

// GitHubPingEvent is the payload of GitHub's "ping" webhook, sent when a
// hook is created. Organization hooks carry no repository.
type GitHubPingEvent struct {
	Zen        string            `json:"zen"`
	HookID     int64             `json:"hook_id"`
	Repository *GitHubRepository `json:"repository,omitempty"`
	Sender     GitHubUser        `json:"sender"`
}

// ParseGitHubDeployment decodes a deployment webhook payload;
// deployment.id and repository.full_name are required.
func ParseGitHubDeployment(data []byte) (GitHubDeploymentEvent, error) {
	var ev GitHubDeploymentEvent
	if err := decodeObject(data, &ev); err != nil {
		return GitHubDeploymentEvent{}, err
	}
	if ev.Deployment.ID == 0 {
		return GitHubDeploymentEvent{}, malformed("deployment.id", "is required")
	}
	if ev.Repository.FullName == "" {
		return GitHubDeploymentEvent{}, malformed("repository.full_name", "is required")
	}
	return ev, nil
}

// ParseGitHubPing decodes a ping webhook payload.
func ParseGitHubPing(data []byte) (GitHubPingEvent, error) {
	var ev GitHubPingEvent
	if err := decodeObject(data, &ev); err != nil {
		return GitHubPingEvent{}, err
	}
	return ev, nil
}

// GitHubRepositoryName returns repository.full_name of any GitHub webhook
// payload, or "" when it has none (or is not JSON). The webhook handler
// uses it to find the routes whose secrets may have signed the payload.
func GitHubRepositoryName(data []byte) string {
	var probe struct {
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return ""
	}
	return probe.Repository.FullName
}

// Trigger returns where the deployment's requests come from: kind "github",
// source the repository, delivery id the X-GitHub-Delivery header value
// (or "deployment/<id>" when there is none).
func (e GitHubDeploymentEvent) Trigger(delivery string) backup.Trigger {
	if delivery == "" {
		delivery = "deployment/" + strconv.FormatInt(e.Deployment.ID, 10)
	}
	return backup.Trigger{Kind: KindGitHub, Source: e.Repository.FullName, DeliveryId: delivery}
}

// PayloadPlan returns the backup plan in deployment.payload.rdsBackup, if
// there is one (ok). The error wraps a *backup.Violation.
func (e GitHubDeploymentEvent) PayloadPlan() (p backup.Plan, ok bool, err error) {
	raw := bytes.TrimSpace(e.Deployment.Payload)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return backup.Plan{}, false, nil
		}
		raw = bytes.TrimSpace([]byte(s))
	}
	if len(raw) == 0 || raw[0] != '{' {
		return backup.Plan{}, false, nil // no payload, or one that is not ours
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) != nil {
		return backup.Plan{}, false, nil
	}
	body, found := keys[GitHubPayloadKey]
	if !found {
		return backup.Plan{}, false, nil
	}
	p, err = backup.ParsePlan(body)
	if err != nil {
		return backup.Plan{}, true, fmt.Errorf("deployment.payload.%s: %w", GitHubPayloadKey, err)
	}
	return p, true, nil
}

// Requests normalizes the deployment: the payload's plan when it has one
// (PayloadPlan), else routeBackups. delivery is X-GitHub-Delivery.
func (e GitHubDeploymentEvent) Requests(delivery string, routeBackups []backup.Spec) ([]backup.Request, backup.Plan, error) {
	p, ok, err := e.PayloadPlan()
	if err != nil {
		return nil, backup.Plan{}, err
	}
	if !ok {
		p = backup.Plan{Backups: routeBackups}
	}
	return WithAskedAt(NormalizePlan(p, e.Trigger(delivery)), e.AskedAt()), p, nil
}

// AskedAt is when the deployment was created (its created_at): a redelivery
// of the event, however late, is the same ask.
func (e GitHubDeploymentEvent) AskedAt() time.Time { return ParseAskedAt(e.Deployment.CreatedAt) }

// decodeObject decodes a webhook payload (a JSON object; unknown fields
// ignored) into v, turning decoding errors into violations.
func decodeObject(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return malformed("body", "must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return decodeErr("body", err)
	}
	return nil
}

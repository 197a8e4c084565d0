package events

import (
	"strconv"
	"time"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

// GitLab webhook event names (the X-Gitlab-Event header) acted on.
const (
	GitLabEventDeployment = "Deployment Hook"
	GitLabEventPipeline   = "Pipeline Hook"
)

// GitLabDeploymentEvent is the payload of a GitLab "Deployment Hook" (only
// the fields fc-rds-backup uses). GitLab sends one when a deployment starts
// (status "running") and when it ends ("success", "failed", "canceled").
type GitLabDeploymentEvent struct {
	ObjectKind      string        `json:"object_kind"`
	Status          string        `json:"status"`
	StatusChangedAt string        `json:"status_changed_at,omitempty"`
	DeploymentID    int64         `json:"deployment_id,omitempty"` // GitLab 13.5+
	DeployableID    int64         `json:"deployable_id"`           // the deploy job
	DeployableURL   string        `json:"deployable_url,omitempty"`
	Environment     string        `json:"environment"`
	Project         GitLabProject `json:"project"`
	ShortSHA        string        `json:"short_sha,omitempty"`
	User            GitLabUser    `json:"user"`
}

// GitLabProject is a project as webhook payloads carry it.
type GitLabProject struct {
	ID                int64  `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
}

// GitLabUser is a user as webhook payloads carry it.
type GitLabUser struct {
	Username string `json:"username"`
}

// GitLabPipelineEvent is the payload of a GitLab "Pipeline Hook" (only the
// fields fc-rds-backup uses).
type GitLabPipelineEvent struct {
	ObjectKind       string                   `json:"object_kind"`
	ObjectAttributes GitLabPipelineAttributes `json:"object_attributes"`
	Project          GitLabProject            `json:"project"`
	User             GitLabUser               `json:"user"`
	Builds           []GitLabBuild            `json:"builds"`
}

// GitLabPipelineAttributes is the pipeline's object_attributes.
type GitLabPipelineAttributes struct {
	ID     int64    `json:"id"`
	IID    int64    `json:"iid,omitempty"`
	Ref    string   `json:"ref"`
	SHA    string   `json:"sha"`
	Status string   `json:"status"` // created, pending, running, success, failed, canceled, skipped, manual...
	Stages []string `json:"stages"`
	// CreatedAt is GitLab's "2016-08-12 15:23:28 UTC".
	CreatedAt string `json:"created_at,omitempty"`
}

// GitLabBuild is one job of the pipeline.
type GitLabBuild struct {
	ID          int64              `json:"id"`
	Stage       string             `json:"stage"`
	Name        string             `json:"name"`
	Status      string             `json:"status"`
	Environment *GitLabEnvironment `json:"environment"`
}

// GitLabEnvironment is a job's environment.
type GitLabEnvironment struct {
	Name           string `json:"name"`
	Action         string `json:"action,omitempty"`
	DeploymentTier string `json:"deployment_tier,omitempty"`
}

// ParseGitLabDeployment decodes a Deployment Hook payload;
// project.path_with_namespace and a deployment (or deployable) id are
// required.
func ParseGitLabDeployment(data []byte) (GitLabDeploymentEvent, error) {
	var ev GitLabDeploymentEvent
	if err := decodeObject(data, &ev); err != nil {
		return GitLabDeploymentEvent{}, err
	}
	if ev.Project.PathWithNamespace == "" {
		return GitLabDeploymentEvent{}, malformed("project.path_with_namespace", "is required")
	}
	if ev.DeploymentID == 0 && ev.DeployableID == 0 {
		return GitLabDeploymentEvent{}, malformed("deployment_id", "is required")
	}
	return ev, nil
}

// ParseGitLabPipeline decodes a Pipeline Hook payload;
// project.path_with_namespace and object_attributes.id are required.
func ParseGitLabPipeline(data []byte) (GitLabPipelineEvent, error) {
	var ev GitLabPipelineEvent
	if err := decodeObject(data, &ev); err != nil {
		return GitLabPipelineEvent{}, err
	}
	if ev.Project.PathWithNamespace == "" {
		return GitLabPipelineEvent{}, malformed("project.path_with_namespace", "is required")
	}
	if ev.ObjectAttributes.ID == 0 {
		return GitLabPipelineEvent{}, malformed("object_attributes.id", "is required")
	}
	return ev, nil
}

// GitLabProjectPath returns project.path_with_namespace of any GitLab
// webhook payload, or "" when it has none.
func GitLabProjectPath(data []byte) string {
	var probe struct {
		Project GitLabProject `json:"project"`
	}
	if decodeObject(data, &probe) != nil {
		return ""
	}
	return probe.Project.PathWithNamespace
}

// Starting reports whether the deployment is starting (status "running"):
// the moment to back up, before the deploy job changes anything.
func (e GitLabDeploymentEvent) Starting() bool { return e.Status == "running" }

// Trigger returns where the deployment's requests come from: kind
// "gitlab", source the project path, delivery id "deployment/<id>" (or
// "job/<deployable_id>" from GitLab versions without deployment_id). Every
// hook of the same deployment has the same delivery id.
func (e GitLabDeploymentEvent) Trigger() backup.Trigger {
	d := "deployment/" + strconv.FormatInt(e.DeploymentID, 10)
	if e.DeploymentID == 0 {
		d = "job/" + strconv.FormatInt(e.DeployableID, 10)
	}
	return backup.Trigger{Kind: KindGitLab, Source: e.Project.PathWithNamespace, DeliveryId: d}
}

// Requests normalizes the deployment into the route's backups.
func (e GitLabDeploymentEvent) Requests(routeBackups []backup.Spec) []backup.Request {
	return WithAskedAt(NormalizePlan(backup.Plan{Backups: routeBackups}, e.Trigger()), e.AskedAt())
}

// AskedAt is when the deployment started running (status_changed_at).
func (e GitLabDeploymentEvent) AskedAt() time.Time { return ParseAskedAt(e.StatusChangedAt) }

// notStarted are the job statuses of a job that has not begun to run.
var notStarted = []string{"created", "pending", "waiting_for_resource", "preparing", "scheduled", "manual", "waiting_for_callback"}

// BeforeStage reports whether the pipeline is active (status "running" or
// "pending"), has the stage, and no job of the stage has started yet: the
// moment to back up before that stage (e.g. "deploy") runs.
func (e GitLabPipelineEvent) BeforeStage(stage string) bool {
	if stage == "" {
		return false
	}
	if s := e.ObjectAttributes.Status; s != "running" && s != "pending" {
		return false
	}
	has := containsString(e.ObjectAttributes.Stages, stage)
	for _, b := range e.Builds {
		if b.Stage != stage {
			continue
		}
		has = true
		if !containsString(notStarted, b.Status) {
			return false
		}
	}
	return has
}

// Environments returns the environments the stage deploys to: the
// environment names of its jobs, or, when none of them has one, the
// pipeline's ref (branch or tag).
func (e GitLabPipelineEvent) Environments(stage string) []string {
	var out []string
	for _, b := range e.Builds {
		if b.Stage == stage && b.Environment != nil && b.Environment.Name != "" && !containsString(out, b.Environment.Name) {
			out = append(out, b.Environment.Name)
		}
	}
	if len(out) == 0 && e.ObjectAttributes.Ref != "" {
		out = append(out, e.ObjectAttributes.Ref)
	}
	return out
}

// Trigger returns where the pipeline's requests come from: kind "gitlab",
// source the project path, delivery id "pipeline/<id>". Every hook of the
// same pipeline has the same delivery id, so the many hooks GitLab sends
// while a pipeline runs ask for the same backups.
func (e GitLabPipelineEvent) Trigger() backup.Trigger {
	return backup.Trigger{Kind: KindGitLab, Source: e.Project.PathWithNamespace,
		DeliveryId: "pipeline/" + strconv.FormatInt(e.ObjectAttributes.ID, 10)}
}

// Requests normalizes the pipeline into the route's backups.
func (e GitLabPipelineEvent) Requests(routeBackups []backup.Spec) []backup.Request {
	return WithAskedAt(NormalizePlan(backup.Plan{Backups: routeBackups}, e.Trigger()), e.AskedAt())
}

// AskedAt is when the pipeline was created (object_attributes.created_at).
func (e GitLabPipelineEvent) AskedAt() time.Time { return ParseAskedAt(e.ObjectAttributes.CreatedAt) }

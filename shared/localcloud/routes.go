package localcloud

// Secrets of the local cloud's webhook routes. They are demo values, printed
// by serve so that a user can sign requests; never reuse them.
const (
	SignedSecret = "local-signed-secret"
	GitHubSecret = "local-github-secret"
	GitLabToken  = "local-gitlab-token"
	JiraSecret   = "local-jira-secret"
	SnowToken    = "local-servicenow-token"
	SignedCaller = "demo-pipeline"
)

// Routes lets the signed caller "demo-pipeline" back up any rm-demo-*
// instance, GitHub deployments of Codertocat/Hello-World to production back
// up rm-demo-mysql1, GitLab deployments of root/test-deployment-webhooks
// back up rm-demo-pg1, a Jira Change of project OPS moving to Implementing
// backs up rm-demo-mysql1 (Physical), and a ServiceNow change_request
// record (as the Table API returns it) in state Implement (-1), posted to
// /v1/hooks/token/snow-change with Authorization: Bearer SnowToken, backs
// up the instances its u_rds_instances names, rm-demo-pg1 or
// rm-demo-mssql1.
const Routes = `{"routes":[
 {"name":"demo-pipeline","source":"signed","repository":"demo-pipeline","secretEnv":"DEMO_SIGNED_SECRET","allow":["rm-demo-*"]},
 {"name":"hello-world-deploys","source":"github","repository":"Codertocat/Hello-World","environments":["production"],
  "secretEnv":"GITHUB_WEBHOOK_SECRET",
  "backups":[{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Logical","BackupStrategy":"db","DBName":"orders"}],
  "allow":["rm-demo-mysql1"]},
 {"name":"gitlab-deploys","source":"gitlab","repository":"root/test-deployment-webhooks","environments":["*"],
  "secretEnv":"GITLAB_WEBHOOK_TOKEN",
  "backups":[{"DBInstanceId":"rm-demo-pg1"}],
  "allow":["rm-demo-pg1"]},
 {"name":"ops-change","source":"jira","project":"OPS","status":"Implementing","issueTypes":["Change"],
  "secretEnv":"JIRA_WEBHOOK_SECRET",
  "backups":[{"DBInstanceId":"rm-demo-mysql1","BackupMethod":"Snapshot"}]},
 {"name":"snow-change","source":"token","secretEnv":"SNOW_WEBHOOK_TOKEN","allow":["rm-demo-pg1","rm-demo-mssql1"],
  "instances":"/result/u_rds_instances","askedAt":"/result/sys_updated_on","id":"/result/sys_id",
  "when":{"pointer":"/result/state","equals":"-1"},"maxAskAge":"2h",
  "backups":[{"BackupMethod":"Physical"}]}
]}`

// WebhookEnv is the webhook function's routes and secrets in the local cloud.
func WebhookEnv() []string {
	return []string{
		"BACKUP_ROUTES=" + Routes,
		"DEMO_SIGNED_SECRET=" + SignedSecret,
		"GITHUB_WEBHOOK_SECRET=" + GitHubSecret,
		"GITLAB_WEBHOOK_TOKEN=" + GitLabToken,
		"JIRA_WEBHOOK_SECRET=" + JiraSecret,
		"SNOW_WEBHOOK_TOKEN=" + SnowToken,
	}
}

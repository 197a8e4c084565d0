package main

import (
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/pipeline"
)

// The environment is read here, once, into pipeline.CIJob: which variables
// name the CI job the default key is derived from.
func TestCIJob(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want pipeline.CIJob
	}{
		{"GitHub Actions", map[string]string{"GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "deploy-prod"},
			pipeline.CIJob{Provider: "github", Project: "acme/shop", Run: "4242", Attempt: "2", Job: "deploy-prod"}},
		{"GitLab CI: the job id names the job and its retry", map[string]string{"CI_PROJECT_ID": "77", "CI_PROJECT_PATH": "acme/shop", "CI_PIPELINE_ID": "9001", "CI_JOB_ID": "555", "CI_JOB_NAME": "backup"},
			pipeline.CIJob{Provider: "gitlab", Project: "77", Run: "9001", Job: "555"}},
		{"GitLab CI without CI_PROJECT_ID", map[string]string{"CI_PROJECT_PATH": "acme/shop", "CI_PIPELINE_ID": "9001", "CI_JOB_ID": "555"},
			pipeline.CIJob{Provider: "gitlab", Project: "acme/shop", Run: "9001", Job: "555"}},
		{"outside CI", map[string]string{"HOME": "/root", "RDSBACKUP_URL": "https://x"}, pipeline.CIJob{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ciJob(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("ciJob = %+v, want %+v", got, tc.want)
			}
		})
	}
}

package pipeline

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
)

// CIJob is the CI job a gate runs in, as its CI names it. The command reads
// it from the environment (this package never does) and Gate derives the
// ask's default Idempotency-Key from it (DefaultKey).
//
//	          GitHub Actions        GitLab CI
//	Provider  "github"              "gitlab"
//	Project   GITHUB_REPOSITORY     CI_PROJECT_ID, else CI_PROJECT_PATH
//	Run       GITHUB_RUN_ID         CI_PIPELINE_ID
//	Attempt   GITHUB_RUN_ATTEMPT    "" (see below)
//	Job       GITHUB_JOB            CI_JOB_ID
//
// GitLab has no documented retry counter among its predefined variables,
// but a retried job is a new job with a new CI_JOB_ID (CI_JOB_NAME stays):
// CI_JOB_ID names the job and its attempt at once, and the jobs of a
// parallel or parallel:matrix job each have their own. GitHub's GITHUB_JOB
// is the job's id in the workflow, the same for every leg of a matrix (no
// variable names the leg): a matrix over instances differs by its instance
// set, a matrix over anything else needs --key.
type CIJob struct {
	Provider string // "github", "gitlab"; "" outside CI
	Project  string
	Run      string
	Attempt  string
	Job      string
}

// DefaultKey is the Idempotency-Key of an ask sent without one: in CI, a
// digest of the CI job (CIJob) and of what is asked (the instance set,
// sorted and without repeats, the method and the region), so two gates in
// one run (two jobs, or two instance sets in one job) are two asks, a
// re-run attempt is a new ask (its deploy may have changed the database: it
// gets its own backup), and the same gate asking again is the same ask.
// Outside CI (ci.Provider == "") it is random, read from random
// (crypto/rand when nil). Gate calls it once, before the first try: every
// re-send carries the key of the first.
//
// The key is "<provider>-<run>-<attempt or job>-<24 hex digits>" (run and
// attempt or job only when they are short decimal numbers, for people
// reading logs; the digest covers every field) or "rdsbackup-<16 hex
// digits>": printable ASCII well within the webhook's 200 characters, and
// never of the webhook's own derived forms ("req-", "asked-").
func DefaultKey(ci CIJob, a Ask, random io.Reader) string {
	if ci.Provider == "" {
		if random == nil {
			random = rand.Reader
		}
		b := make([]byte, 8)
		_, _ = io.ReadFull(random, b)
		return "rdsbackup-" + hex.EncodeToString(b)
	}
	instances := slices.Clone(a.Instances)
	slices.Sort(instances)
	instances = slices.Compact(instances)
	// JSON keeps the fields apart: no value can pose as another field.
	canon, _ := json.Marshal(struct {
		V         int      `json:"v"`
		CI        CIJob    `json:"ci"`
		Instances []string `json:"instances"`
		Method    string   `json:"method"`
		Region    string   `json:"region"`
	}{V: 1, CI: ci, Instances: instances, Method: a.Method, Region: a.Region})
	sum := sha256.Sum256(canon)
	k := "ci-"
	if short(ci.Provider, false) {
		k = ci.Provider + "-"
	}
	second := ci.Attempt
	if ci.Provider == "gitlab" {
		second = ci.Job
	}
	if short(ci.Run, true) {
		k += ci.Run + "-"
		if short(second, true) {
			k += second + "-"
		}
	}
	return k + hex.EncodeToString(sum[:12])
}

// short: 1 to 20 lower-case letters (or decimal digits, when digits).
func short(s string, digits bool) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if digits && (c < '0' || c > '9') || !digits && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

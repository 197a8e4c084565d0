package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
	"github.com/fc-rds-backup/fc-rds-backup/shared/plainjson"
)

// Route sources.
const (
	SourceGitHub = "github"
	SourceGitLab = "gitlab"
	SourceSigned = "signed"
	SourceJira   = "jira" // jira.go
	// SourceToken, "token", is in token.go.
)

// Route maps a webhook sender to the backups it may ask for. See ROUTES.md
// (and the package documentation) for every field.
type Route struct {
	// Name identifies the route in logs and outcomes (letters, digits, ".",
	// "_", "-"; unique).
	Name string `json:"name"`
	// Source is "github", "gitlab", "jira", "signed" or "token".
	Source string `json:"source"`
	// Repository is the GitHub repository full_name ("owner/repo") or the
	// GitLab project path_with_namespace ("group/project"), matched
	// case-insensitively; glob patterns ("acme/*") are allowed. For a
	// signed route it is the caller id that X-Caller names (default: Name).
	Repository string `json:"repository,omitempty"`
	// Environments are the deployment environments the route acts on
	// (case-insensitive globs; "*" is every environment). Required for
	// github and gitlab routes; not used by signed routes.
	Environments []string `json:"environments,omitempty"`
	// Stage makes a gitlab route act on Pipeline Hooks: backups are taken
	// when a running or pending pipeline has this stage and no job of the
	// stage has started yet. Without Stage a gitlab route acts on
	// Deployment Hooks with status "running".
	Stage string `json:"stage,omitempty"`
	// SecretEnv names the environment variable holding the route's secret
	// (the GitHub webhook secret, the GitLab secret token, or the HMAC key
	// of a signed caller). The value never appears in the routes document.
	SecretEnv string `json:"secretEnv"`
	// Organization marks a github or gitlab route as served by one
	// organization-level hook (a GitHub organization webhook, a GitLab
	// group webhook): one secret for every repository of the organization
	// ("acme"), which routes of different repositories may then share. Its
	// Repository must lie in the organization ("acme/shop", "acme/*").
	// Without it, routes of different repositories may not share a secret
	// variable (crossCheck): whoever holds one repository's secret could
	// sign deliveries claiming the other.
	Organization string `json:"organization,omitempty"`
	// PreviousSecretEnv optionally names the variable holding the secret
	// being rotated out: while it is set, either secret verifies (GitHub's
	// signature, GitLab's token, a signed caller's signature). Remove it
	// once every sender uses the new secret.
	PreviousSecretEnv string `json:"previousSecretEnv,omitempty"`
	// Backups are the backups to take (the request JSON's field names,
	// DESIGN.md §3). Required for gitlab routes; optional for github routes
	// (a deployment's payload.rdsBackup may name them instead); not used by
	// signed routes (the body names them).
	Backups []backup.Spec `json:"backups,omitempty"`
	// Allow lists the instance ids (or glob patterns, path.Match syntax,
	// "*" for every instance) the route may back up. A request naming
	// another instance is refused with 403 and a rejected outcome.
	// Required for signed routes; for github and gitlab routes it defaults
	// to the instances of Backups. Every instance of Backups must be
	// allowed. A Select (tag/engine selector) is accepted over HTTP only
	// when Allow contains "*".
	Allow []string `json:"allow,omitempty"`
	// Project, Status and IssueTypes are a jira route's (jira.go): the
	// issue's project key (a case-insensitive glob), the status a
	// transition must reach (case-insensitive), and optionally the issue
	// types (case-insensitive globs) it acts on.
	Project    string   `json:"project,omitempty"`
	Status     string   `json:"status,omitempty"`
	IssueTypes []string `json:"issueTypes,omitempty"`
	// InstancesField makes a jira route take its instances from a field
	// of the issue (its id: customfield_10042, labels) instead of Backups,
	// which then holds at most the parameters (BackupMethod, ...) of every
	// instance; Allow is then required and never "*".
	InstancesField string `json:"instancesField,omitempty"`
	// User, Instances, AskedAt, ID, When and MaxAskAge are a token
	// route's (token.go): the basic auth user (optional), the JSON
	// pointers (RFC 6901) to the body's instance ids, ask time and
	// delivery id, a condition on the body, and the max ask age (a Go
	// duration; default BACKUP_MAX_ASK_AGE).
	User      string     `json:"user,omitempty"`
	Instances string     `json:"instances,omitempty"`
	AskedAt   string     `json:"askedAt,omitempty"`
	ID        string     `json:"id,omitempty"`
	When      *TokenWhen `json:"when,omitempty"`
	MaxAskAge string     `json:"maxAskAge,omitempty"`
}

var (
	routeFields   = []string{"name", "source", "repository", "organization", "environments", "stage", "secretEnv", "previousSecretEnv", "backups", "allow", "project", "status", "issueTypes", "instancesField", "user", "instances", "askedAt", "id", "when", "maxAskAge"}
	globMetaChars = "*?[\\"
)

// The grammars of a route's fields, checked by hand: as regular
// expressions (grammar_test.go holds them, and checks these against them)
// their counted repetitions ({0,63}, {1,255}) compile to as many copies of
// a class, some 1.3 ms at every cold start of the webhook, which validates
// its routes at start.

// validRouteName: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$
func validRouteName(s string) bool { return validWord(s, 64, "._-") }

// validCaller (a signed route's caller id): ^[A-Za-z0-9][A-Za-z0-9._@/:-]{0,127}$
func validCaller(s string) bool { return validWord(s, 128, "._@/:-") }

// validOrg (an organization or group): ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$
func validOrg(s string) bool { return validWord(s, 100, "._-") }

// validWord reports whether s is 1 to max ASCII letters and digits and
// characters of extra, starting with a letter or digit.
func validWord(s string, max int, extra string) bool {
	if s == "" || len(s) > max || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// validEnvVar (an environment variable's name): ^[A-Za-z_][A-Za-z0-9_]*$
func validEnvVar(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

// validStage (a GitLab stage): ^[^\x00-\x1f]{1,255}$, 1 to 255 characters
// (a byte that is not UTF-8 counts as one, as in a regular expression),
// none of them a C0 control character.
func validStage(s string) bool {
	n := 0
	for _, r := range s {
		if r < 0x20 {
			return false
		}
		n++
	}
	return n >= 1 && n <= 255
}

// YAML reads a YAML routes document into the values encoding/json
// marshals (nil for an empty document): routesyaml.Decode, set by the
// webhook function's main (and by this package's tests). It is a variable
// so that gopkg.in/yaml.v3 is linked only where YAML routes are read, not
// into the scheduled and queue functions, which link this package through
// shared/app (their cold start pays every linked package's init). Unset,
// LoadRoutes reads JSON only.
var YAML func(data []byte) (any, error)

// LoadRoutes parses and validates a routes document: JSON, or YAML when
// YAML is set; either {"routes": [...]} or a bare list of routes. Unknown
// fields and bad values are refused with messages naming them (all
// problems at once, one per line). An empty document is no routes.
//
// For github, gitlab and jira routes without Allow, Allow is set to the
// instances of Backups.
func LoadRoutes(data []byte) ([]Route, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	if data[0] != '{' && data[0] != '[' {
		if YAML == nil {
			return nil, errors.New("routes: invalid JSON: the document is neither {\"routes\": [...]} nor a list, and YAML routes are read only where shared/webhook/routesyaml is wired (the webhook function)")
		}
		doc, err := YAML(data)
		if err != nil {
			return nil, fmt.Errorf("routes: invalid YAML: %w", err)
		}
		if doc == nil {
			return nil, nil
		}
		j, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("routes: %w", err)
		}
		data = j
	}
	if routes, errs, ok := loadPlainRoutes(data); ok {
		return routesOrErrors(routes, errs)
	}
	return loadRoutesJSON(data)
}

// loadRoutesJSON is LoadRoutes for any JSON document, with encoding/json.
func loadRoutesJSON(data []byte) ([]Route, error) {
	var list []json.RawMessage
	if data[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err != nil {
			return nil, fmt.Errorf("routes: invalid JSON: %w", err)
		}
		for k := range top {
			if k != "routes" {
				return nil, fmt.Errorf("routes: %s: unknown field (the document is {\"routes\": [...]} or a list of routes)", k)
			}
		}
		data = top["routes"]
		if len(bytes.TrimSpace(data)) == 0 || string(bytes.TrimSpace(data)) == "null" {
			return nil, nil
		}
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("routes: must be a list of routes: %w", err)
	}
	var errs []error
	routes := make([]Route, 0, len(list))
	for i, raw := range list {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			errs = append(errs, fmt.Errorf("routes[%d]: must be an object with fields %s", i, strings.Join(routeFields, ", ")))
			routes = append(routes, Route{})
			continue
		}
		r, rerrs := parseRoute(i, keys)
		errs = append(errs, rerrs...)
		routes = append(routes, r)
	}
	return routesOrErrors(routes, errs)
}

// loadPlainRoutes is LoadRoutes for a plain JSON document (shared/plainjson:
// the routes are read at the webhook's start, and encoding/json's first
// use would cost more than the document): {"routes": [...]}, a bare list,
// or {"routes": null}, every route an object. ok is false for anything
// else, which LoadRoutes reads with encoding/json as before.
func loadPlainRoutes(data []byte) (routes []Route, errs []error, ok bool) {
	doc, ok := plainjson.Parse(data)
	if !ok {
		return nil, nil, false
	}
	if doc.Kind == plainjson.Object {
		if len(doc.Keys) != 1 || doc.Keys[0] != "routes" {
			return nil, nil, false
		}
		doc = doc.Items[0]
		if doc.Kind == plainjson.Null {
			return nil, nil, true
		}
	}
	if doc.Kind != plainjson.Array {
		return nil, nil, false
	}
	for _, item := range doc.Items {
		if item.Kind != plainjson.Object {
			return nil, nil, false
		}
	}
	routes = make([]Route, 0, len(doc.Items))
	for i, item := range doc.Items {
		r, rerrs := parseRoute(i, rawFields(item))
		errs = append(errs, rerrs...)
		routes = append(routes, r)
	}
	return routes, errs, true
}

// rawFields are an object's fields as json.Unmarshal into a
// map[string]json.RawMessage gives them.
func rawFields(obj plainjson.Value) map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(obj.Keys))
	for i, k := range obj.Keys {
		m[k] = json.RawMessage(obj.Items[i].Raw)
	}
	return m
}

// routesOrErrors adds the checks across routes to errs and returns the
// routes when there is no problem, else every problem at once.
func routesOrErrors(routes []Route, errs []error) ([]Route, error) {
	errs = append(errs, crossCheck(routes)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return routes, nil
}

// parseRoute reads and checks routes[i], given as its fields.
func parseRoute(i int, keys map[string]json.RawMessage) (Route, []error) {
	at := fmt.Sprintf("routes[%d]", i)
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", at, field, fmt.Sprintf(format, args...)))
	}
	var r Route
	if v, ok := keys["name"]; ok && decodeString(v, &r.Name) == nil && r.Name != "" {
		at = fmt.Sprintf("routes[%d] (%s)", i, r.Name)
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	listed := false // the allowed fields once per route: errors stay bounded
	for _, k := range names {
		if !slices.Contains(routeFields, k) {
			allowed := ""
			if !listed {
				allowed, listed = " (allowed: "+strings.Join(routeFields, ", ")+")", true
			}
			bad(k, "unknown field%s", allowed)
		}
	}
	str := func(field string, dst *string) {
		if v, ok := keys[field]; ok && decodeString(v, dst) != nil {
			bad(field, "must be a string, got %s", v)
		}
	}
	strs := func(field string, dst *[]string) {
		if v, ok := keys[field]; ok && decodeStrings(v, dst) != nil {
			bad(field, "must be a list of strings, got %s", v)
		}
	}
	str("name", &r.Name)
	str("source", &r.Source)
	str("repository", &r.Repository)
	str("organization", &r.Organization)
	strs("environments", &r.Environments)
	str("stage", &r.Stage)
	str("secretEnv", &r.SecretEnv)
	str("previousSecretEnv", &r.PreviousSecretEnv)
	strs("allow", &r.Allow)
	str("project", &r.Project)
	str("status", &r.Status)
	strs("issueTypes", &r.IssueTypes)
	str("instancesField", &r.InstancesField)
	parseTokenFields(keys, &r, bad)
	if v, ok := keys["backups"]; ok && string(bytes.TrimSpace(v)) != "null" && string(bytes.TrimSpace(v)) != "[]" {
		specs, err := backup.ParseBackups(v)
		var viol *backup.Violation
		switch {
		case errors.As(err, &viol):
			bad("backups", "%s", strings.Replace(viol.Message, "Backups", "backups", 1))
		case err != nil:
			bad("backups", "%v", err)
		default:
			r.Backups = specs
		}
	}

	if !validRouteName(r.Name) {
		bad("name", "is required: 1-64 letters, digits, '.', '_' or '-', got %q", r.Name)
	}
	if r.SecretEnv == "" {
		bad("secretEnv", "is required: the name of the environment variable holding the route's secret")
	} else if !validEnvVar(r.SecretEnv) {
		bad("secretEnv", "must be an environment variable name (letters, digits, '_'), got %q", r.SecretEnv)
	}
	if r.PreviousSecretEnv != "" && !validEnvVar(r.PreviousSecretEnv) {
		bad("previousSecretEnv", "must be an environment variable name (letters, digits, '_'), got %q", r.PreviousSecretEnv)
	} else if r.PreviousSecretEnv != "" && r.PreviousSecretEnv == r.SecretEnv {
		bad("previousSecretEnv", "names the same variable as secretEnv")
	}
	for j, a := range r.Allow {
		if a == "" || !validGlob(a) {
			bad(fmt.Sprintf("allow[%d]", j), "must be an instance id or a glob pattern, got %q", a)
		} else if !idPattern(a) {
			bad(fmt.Sprintf("allow[%d]", j), "%q can never match an instance id (lowercase letters, digits and '-', e.g. rm-shop-*)", a)
		}
	}
	for j, s := range backupsChecked(r) {
		field := fmt.Sprintf("backups[%d]", j)
		if strings.ContainsAny(s.DBInstanceId, globMetaChars) {
			bad(field+".DBInstanceId", "must be an instance id, not a pattern: %q", s.DBInstanceId)
			continue
		}
		if vs := backup.Validate(backup.FromSpec(s, backup.Trigger{})); len(vs) > 0 {
			bad(field+"."+vs.First().Field, "%s (%s)", vs.First().Message, vs.First().Code)
		}
	}

	if r.Source != SourceJira {
		refuseJiraFields(r, bad)
	}
	switch r.Source {
	case SourceJira:
		checkJiraRoute(&r, bad)
	case SourceToken:
		checkTokenRoute(&r, bad)
	case SourceGitHub, SourceGitLab:
		if r.Repository == "" {
			bad("repository", "is required for a %s route (%s)", r.Source, map[string]string{SourceGitHub: "the repository full_name, owner/repo", SourceGitLab: "the project path_with_namespace, group/project"}[r.Source])
		} else if !validGlob(r.Repository) {
			bad("repository", "is not a valid pattern: %q", r.Repository)
		}
		if len(r.Environments) == 0 {
			bad("environments", `is required for a %s route (use ["*"] for every environment)`, r.Source)
		}
		for j, e := range r.Environments {
			if e == "" || !validGlob(e) {
				bad(fmt.Sprintf("environments[%d]", j), "must be an environment name or a glob pattern, got %q", e)
			}
		}
		if r.Stage != "" && r.Source != SourceGitLab {
			bad("stage", "only gitlab routes have a stage")
		}
		if r.Stage != "" && !validStage(r.Stage) {
			bad("stage", "is not a stage name: %q", r.Stage)
		}
		if r.Source == SourceGitLab && len(r.Backups) == 0 {
			bad("backups", "is required for a gitlab route")
		}
		if len(r.Allow) == 0 {
			if len(r.Backups) == 0 {
				bad("allow", "is required when backups is empty (the instances a deployment payload may name)")
			}
			for _, s := range r.Backups {
				if s.DBInstanceId != "" && !slices.Contains(r.Allow, s.DBInstanceId) {
					r.Allow = append(r.Allow, s.DBInstanceId)
				}
			}
		}
		if r.Organization != "" {
			if !validOrg(r.Organization) {
				bad("organization", "must be an organization or group name (letters, digits, '.', '_', '-'), got %q", r.Organization)
			} else if !strings.HasPrefix(strings.ToLower(r.Repository), strings.ToLower(r.Organization)+"/") {
				bad("organization", "repository %q is not in organization %q (an organization hook only signs its own repositories)", r.Repository, r.Organization)
			}
		}
	case SourceSigned:
		if r.Organization != "" {
			bad("organization", "only github and gitlab routes are served by an organization hook; a signed caller has a secret of its own")
		}
		if r.Repository == "" {
			r.Repository = r.Name
		} else if !validCaller(r.Repository) {
			bad("repository", "a signed route's caller id: 1-128 letters, digits, '.', '_', '-', '@', '/' or ':', got %q", r.Repository)
		}
		if len(r.Environments) > 0 {
			bad("environments", "signed routes have no environments")
		}
		if r.Stage != "" {
			bad("stage", "only gitlab routes have a stage")
		}
		if len(r.Backups) > 0 {
			bad("backups", "signed routes take the backups the request body names; restrict them with allow")
		}
		if len(r.Allow) == 0 {
			bad("allow", `is required for a signed route (instance ids or patterns; "*" for every instance)`)
		}
	default:
		bad("source", "must be github, gitlab, jira or signed, got %q (or token, for a tool that sends a bearer token)", r.Source)
	}
	for j, s := range r.Backups {
		if s.DBInstanceId != "" && !allowed(r.Allow, s.DBInstanceId) {
			bad(fmt.Sprintf("backups[%d].DBInstanceId", j), "%q is not in allow %q", s.DBInstanceId, r.Allow)
		}
	}
	return r, errs
}

// crossCheck refuses duplicate names, duplicate signed caller ids, and a
// secret variable shared by routes of different owners (secretsBound).
func crossCheck(routes []Route) []error {
	var errs []error
	names := map[string]int{}
	callers := map[string]int{}
	for i, r := range routes {
		if j, dup := names[r.Name]; dup && r.Name != "" {
			errs = append(errs, fmt.Errorf("routes[%d].name: %q is also the name of routes[%d]", i, r.Name, j))
		}
		names[r.Name] = i
		if r.Source == SourceSigned {
			if j, dup := callers[r.Repository]; dup {
				errs = append(errs, fmt.Errorf("routes[%d].repository: caller id %q is also used by routes[%d]", i, r.Repository, j))
			}
			callers[r.Repository] = i
		}
	}
	return append(errs, secretsBound(routes)...)
}

// secretsBound refuses a secret variable shared by routes of different
// owners: a secret authenticates only the routes configured with it, so
// two routes may share one only when they are the same sender. That is:
//
//   - the same source (a GitLab token travels in a header, a signed
//     caller's key is its own: none may double as another source's);
//   - for signed routes, never (each caller id has a secret of its own);
//   - for github and gitlab routes, the same repository (several
//     environments or stages of one repository), or routes that all name
//     the same Organization (one organization-level hook).
//   - for jira routes, always: one Jira webhook (a site's, held by its
//     administrators) signs the events of every project.
func secretsBound(routes []Route) []error {
	users := map[string][]int{}
	var vars []string
	for i, r := range routes {
		for _, env := range []string{r.SecretEnv, r.PreviousSecretEnv} {
			if env == "" || slices.Contains(users[env], i) {
				continue
			}
			if users[env] == nil {
				vars = append(vars, env)
			}
			users[env] = append(users[env], i)
		}
	}
	var errs []error
	for _, env := range vars {
		idx := users[env]
		first := routes[idx[0]]
		for _, j := range idx[1:] {
			r := routes[j]
			var why string
			switch {
			case r.Source != first.Source:
				why = fmt.Sprintf("a %s route and a %s route may not share a secret", first.Source, r.Source)
			case r.Source == SourceSigned:
				why = "each signed caller has a secret of its own"
			case r.Source == SourceToken:
				why = "each token route has a token of its own"
			case r.Source == SourceJira:
				continue // one Jira webhook (its site's) serves every project
			case r.Organization != "" && strings.EqualFold(r.Organization, first.Organization):
				continue // one organization-level hook
			case r.Organization == "" && first.Organization == "" && strings.EqualFold(r.Repository, first.Repository):
				continue // one repository
			default:
				why = fmt.Sprintf("routes of repositories %q and %q may not share a secret unless both name the same organization (an organization-level hook)", first.Repository, r.Repository)
			}
			errs = append(errs, fmt.Errorf("routes[%d] (%s): secret variable %s is also used by routes[%d] (%s): %s; whoever holds it could sign for both, so give each its own variable",
				j, r.Name, env, idx[0], first.Name, why))
		}
	}
	return errs
}

// SecretEnvs returns the environment variables the routes need, sorted and
// without duplicates.
func SecretEnvs(routes []Route) []string {
	var out []string
	for _, r := range routes {
		for _, env := range []string{r.SecretEnv, r.PreviousSecretEnv} {
			if env != "" && !slices.Contains(out, env) {
				out = append(out, env)
			}
		}
	}
	slices.Sort(out)
	return out
}

// ResolveSecrets reads every route's SecretEnv through getenv and returns
// the map Config.Secrets wants. A missing or empty secret is an error
// naming the variable (never its value).
func ResolveSecrets(routes []Route, getenv func(string) string) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for _, name := range SecretEnvs(routes) {
		v := getenv(name)
		if v == "" {
			errs = append(errs, fmt.Errorf("%s: is empty or unset; routes using it would refuse every request", name))
			continue
		}
		out[name] = v
	}
	return out, errors.Join(errs...)
}

// idPattern reports whether a glob is written in the instance id alphabet
// (besides the glob characters), so it can match an id at all.
func idPattern(p string) bool {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', strings.IndexByte("*?[]^!", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func validGlob(p string) bool {
	_, err := path.Match(p, "")
	return err == nil
}

// allowed reports whether instance matches one of the patterns.
func allowed(patterns []string, instance string) bool {
	for _, p := range patterns {
		if p == "*" {
			return true
		}
		if ok, _ := path.Match(p, instance); ok {
			return true
		}
	}
	return false
}

// allowsAll reports whether the patterns allow every instance ("*").
func allowsAll(patterns []string) bool { return slices.Contains(patterns, "*") }

// matchFold matches name against a glob pattern, ignoring case.
func matchFold(pattern, name string) bool {
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(name))
	return ok
}

func matchAnyFold(patterns []string, name string) bool {
	for _, p := range patterns {
		if matchFold(p, name) {
			return true
		}
	}
	return false
}

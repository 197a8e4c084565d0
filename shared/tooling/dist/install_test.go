package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the GitLab template's copy of shared/integrations/install.sh and the from-source modfile")

// The install script of the CI templates (shared/integrations/install.sh,
// run by the GitHub action, copied into the GitLab template), against a
// release directory made by Build.

var (
	installSh      = filepath.Join(root, "shared", "integrations", "install.sh")
	actionYML      = filepath.Join(root, "shared", "integrations", "github", "action.yml")
	gitlabTemplate = filepath.Join(root, "shared", "integrations", "gitlab", "rdsbackup.gitlab-ci.yml")
)

func needSh(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the install script's tests run on Unix")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
}

// hostArchive is this machine's client archive in a release made by Build.
func hostArchive() string {
	return ClientArchive(testVersion, Target{runtime.GOOS, runtime.GOARCH})
}

// release copies the built SHA256SUMS and this machine's archive into
// <tmp>/<testVersion>/ and returns <tmp>: a release URL's base. tamper, when
// not nil, changes the copies first.
func release(t *testing.T, tamper func(dir string)) string {
	t.Helper()
	dir, _ := built(t)
	base := t.TempDir()
	dst := filepath.Join(base, testVersion)
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"SHA256SUMS", hostArchive()} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if tamper != nil {
		tamper(dst)
	}
	return base
}

// swapBinary replaces the archive with one whose rdsbackup is another
// program (a well-formed archive: only the checksum tells).
func swapBinary(dir string) {
	path := filepath.Join(dir, hostArchive())
	fake := filepath.Join(dir, "fake")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho pwned\n"), 0o755); err != nil {
		panic(err)
	}
	if err := writeTarGz(path, []file{{"rdsbackup", fake, 0o755}}, nil, testModTime); err != nil {
		panic(err)
	}
	os.Remove(fake)
}

// runScript runs script with shell and env (on top of a minimal
// environment) and returns its output.
func runScript(t *testing.T, shell, script string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(shell, "-c", script)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// wantInstalled checks that bin is the host archive's rdsbackup.
func wantInstalled(t *testing.T, bin string) {
	t.Helper()
	got, err := os.ReadFile(bin)
	if err != nil {
		t.Fatalf("not installed: %v", err)
	}
	dir, _ := built(t)
	files := readArchive(t, filepath.Join(dir, hostArchive()))
	if !bytes.Equal(got, files["rdsbackup"].data) {
		t.Errorf("%s is not the release's rdsbackup", bin)
	}
	if st, err := os.Stat(bin); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s is not executable: %v", bin, err)
	}
}

func TestInstallScript(t *testing.T) {
	needSh(t)
	script, err := os.ReadFile(installSh)
	if err != nil {
		t.Fatal(err)
	}
	base := release(t, nil)
	for _, url := range []string{"file://" + base, base, base + "/"} {
		bin := filepath.Join(t.TempDir(), "bin")
		out, err := runScript(t, "sh", string(script)+"\ncommand -v rdsbackup\nrdsbackup help | head -1\n",
			"RDSBACKUP_VERSION="+testVersion, "RDSBACKUP_RELEASE_URL="+url, "RDSBACKUP_INSTALL_DIR="+bin)
		if err != nil {
			t.Fatalf("release-url %s: %v\n%s", url, err, out)
		}
		for _, want := range []string{"SHA-256", "SHA256SUMS", filepath.Join(bin, "rdsbackup") + "\n", "rdsbackup — "} {
			if !strings.Contains(out, want) {
				t.Errorf("release-url %s: output lacks %q:\n%s", url, want, out)
			}
		}
		wantInstalled(t, filepath.Join(bin, "rdsbackup"))
	}
}

// The script refuses what it cannot verify, says why, and installs nothing.
func TestInstallScriptRefuses(t *testing.T) {
	needSh(t)
	script, err := os.ReadFile(installSh)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		base    string
		version string
		want    string
	}{
		{"a tampered archive", release(t, swapBinary), testVersion, "SHA-256 checksum mismatch for " + hostArchive()},
		{"a flipped byte", release(t, func(dir string) {
			p := filepath.Join(dir, hostArchive())
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			os.WriteFile(p, b, 0o644)
		}), testVersion, "SHA-256 checksum mismatch"},
		{"no checksum for the archive", release(t, func(dir string) {
			os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(strings.Repeat("0", 64)+"  other.tar.gz\n"), 0o644)
		}), testVersion, "has no checksum for " + hostArchive()},
		{"no SHA256SUMS", release(t, func(dir string) { os.Remove(filepath.Join(dir, "SHA256SUMS")) }), testVersion, "cannot fetch"},
		{"no such release", release(t, nil), "v9.9.9", "cannot fetch"},
		{"latest", release(t, nil), "latest", "version latest"},
		{"no version", release(t, nil), "", "RDSBACKUP_VERSION is empty"},
	} {
		bin := filepath.Join(t.TempDir(), "bin")
		out, err := runScript(t, "sh", string(script)+"\necho INSTALLED\n",
			"RDSBACKUP_VERSION="+tc.version, "RDSBACKUP_RELEASE_URL=file://"+tc.base, "RDSBACKUP_INSTALL_DIR="+bin)
		if err == nil || strings.Contains(out, "INSTALLED") {
			t.Errorf("%s: succeeded:\n%s", tc.name, out)
		}
		if !strings.Contains(out, tc.want) || !strings.Contains(out, "rdsbackup install: ") {
			t.Errorf("%s: output lacks %q:\n%s", tc.name, tc.want, out)
		}
		if _, err := os.Stat(filepath.Join(bin, "rdsbackup")); err == nil {
			t.Errorf("%s: rdsbackup installed", tc.name)
		}
	}
}

type action struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Steps []struct {
			Name  string            `yaml:"name"`
			Uses  string            `yaml:"uses"`
			If    string            `yaml:"if"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) action {
	t.Helper()
	b, err := os.ReadFile(actionYML)
	if err != nil {
		t.Fatal(err)
	}
	var a action
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// The action's install step as GitHub runs it: its env (the inputs'
// expressions evaluated), bash, GITHUB_ACTION_PATH, RUNNER_TEMP and
// GITHUB_PATH.
func TestGitHubActionInstallStep(t *testing.T) {
	needSh(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	a := readAction(t)
	for _, s := range a.Runs.Steps {
		if strings.HasPrefix(s.Uses, "actions/setup-go@") && s.If != "inputs.from-source == 'true'" {
			t.Errorf("setup-go runs when %q, want only with from-source", s.If)
		}
	}
	idx := -1
	for i, s := range a.Runs.Steps {
		if s.Name == "Install rdsbackup" {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatal("action.yml has no 'Install rdsbackup' step")
	}
	step := a.Runs.Steps[idx]
	if step.Shell != "bash" {
		t.Errorf("install step shell %q", step.Shell)
	}
	expr := regexp.MustCompile(`^\$\{\{ inputs\.([a-z-]+) \}\}$`)
	run := func(t *testing.T, inputs map[string]string) (string, string, error) {
		tmp := t.TempDir()
		env := []string{"GITHUB_ACTION_PATH=" + filepath.Dir(actionYML), "RUNNER_TEMP=" + tmp, "GITHUB_PATH=" + filepath.Join(tmp, "path")}
		for k, v := range step.Env {
			m := expr.FindStringSubmatch(v)
			if m == nil {
				t.Fatalf("env %s: %q is not an input", k, v)
			}
			in, ok := a.Inputs[m[1]]
			if !ok {
				t.Fatalf("env %s: no input %s", k, m[1])
			}
			val := in.Default
			if o, ok := inputs[m[1]]; ok {
				val = o
			}
			env = append(env, k+"="+val)
		}
		out, err := runScript(t, "bash", step.Run, env...)
		path, _ := os.ReadFile(filepath.Join(tmp, "path"))
		return out, string(path), err
	}

	t.Run("installs", func(t *testing.T) {
		out, path, err := run(t, map[string]string{"version": testVersion, "release-url": "file://" + release(t, nil)})
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		dir := strings.TrimSpace(path)
		if !strings.HasSuffix(path, "\n") || strings.Contains(dir, "\n") || dir == "" {
			t.Fatalf("GITHUB_PATH %q: want one directory", path)
		}
		wantInstalled(t, filepath.Join(dir, "rdsbackup"))
	})
	t.Run("refuses a tampered archive", func(t *testing.T) {
		out, path, err := run(t, map[string]string{"version": testVersion, "release-url": release(t, swapBinary)})
		if err == nil || !strings.Contains(out, "SHA-256 checksum mismatch") || path != "" {
			t.Fatalf("err %v, GITHUB_PATH %q:\n%s", err, path, out)
		}
	})
}

type gitlabJob struct {
	Image     string            `yaml:"image"`
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
}

func readTemplate(t *testing.T) gitlabJob {
	t.Helper()
	b, err := os.ReadFile(gitlabTemplate)
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]gitlabJob
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	job, ok := tpl[".rdsbackup-gate"]
	if !ok || len(job.Script) < 2 {
		t.Fatal("the template has no .rdsbackup-gate job with an install block and a gate block")
	}
	return job
}

// The template is included by URL, without the repository, so it holds a
// copy of install.sh as the first block of its script.
func TestGitLabTemplateHoldsInstallScript(t *testing.T) {
	script, err := os.ReadFile(installSh)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(gitlabTemplate)
	if err != nil {
		t.Fatal(err)
	}
	const head = "\n  script:\n    - |\n"
	start := bytes.Index(b, []byte(head))
	if start < 0 {
		t.Fatal("the template's script does not start with a block (- |)")
	}
	start += len(head)
	end := bytes.Index(b[start:], []byte("\n    - ")) + 1
	if end <= 0 {
		t.Fatal("the template's script has no block after the install block")
	}
	end += start
	var want bytes.Buffer
	for _, l := range strings.SplitAfter(string(script), "\n") {
		if strings.TrimSpace(l) != "" {
			want.WriteString("      ")
		}
		want.WriteString(l)
	}
	if bytes.Equal(b[start:end], want.Bytes()) {
		if job := readTemplate(t); job.Script[0] != string(script) {
			t.Error("the template's first script block, as YAML reads it, is not install.sh")
		}
		return
	}
	if !*update {
		t.Fatal("the template's install block is not shared/integrations/install.sh: go test ./shared/tooling/dist -run TestGitLabTemplateHoldsInstallScript -update")
	}
	nb := append(append(append([]byte{}, b[:start]...), want.Bytes()...), b[end:]...)
	if err := os.WriteFile(gitlabTemplate, nb, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("rewrote", gitlabTemplate)
}

// The template's install block as GitLab runs it (its variables, sh), then
// rdsbackup on PATH for the gate block.
func TestGitLabTemplateInstall(t *testing.T) {
	needSh(t)
	job := readTemplate(t)
	run := func(t *testing.T, vars map[string]string) (string, error) {
		var env []string
		for k, v := range job.Variables {
			if o, ok := vars[k]; ok {
				v = o
			}
			env = append(env, k+"="+v)
		}
		return runScript(t, "sh", "set -eu\n"+job.Script[0]+"\ncommand -v rdsbackup\n", env...)
	}
	t.Run("installs", func(t *testing.T) {
		out, err := run(t, map[string]string{"RDSBACKUP_VERSION": testVersion, "RDSBACKUP_RELEASE_URL": "file://" + release(t, nil)})
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		wantInstalled(t, lines[len(lines)-1])
	})
	t.Run("refuses a tampered archive", func(t *testing.T) {
		out, err := run(t, map[string]string{"RDSBACKUP_VERSION": testVersion, "RDSBACKUP_RELEASE_URL": release(t, swapBinary)})
		if err == nil || !strings.Contains(out, "SHA-256 checksum mismatch") {
			t.Fatalf("err %v:\n%s", err, out)
		}
	})
	if !strings.Contains(job.Script[len(job.Script)-1], "rdsbackup gate ") {
		t.Error("the template's last block does not run rdsbackup gate")
	}
}

// Both templates install the same pinned release by default, never latest.
func TestTemplatesPinTheVersion(t *testing.T) {
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(PinnedVersion) {
		t.Errorf("PinnedVersion %q is not a release tag", PinnedVersion)
	}
	if got := readAction(t).Inputs["version"].Default; got != PinnedVersion {
		t.Errorf("action.yml: version defaults to %q, want %s", got, PinnedVersion)
	}
	if got := readTemplate(t).Variables["RDSBACKUP_VERSION"]; got != PinnedVersion {
		t.Errorf("GitLab template: RDSBACKUP_VERSION is %q, want %s", got, PinnedVersion)
	}
	for _, p := range []string{actionYML, gitlabTemplate, installSh} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("@latest")) {
			t.Errorf("%s names @latest", p)
		}
	}
}

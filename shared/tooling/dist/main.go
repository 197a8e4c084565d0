// Command dist builds the release artifacts of fc-rds-backup into one
// directory (`make dist`, and the release workflow on a tag):
//
//	rdsbackup_<version>_<os>_<arch>.tar.gz   the pipeline client (windows: .zip, rdsbackup.exe)
//	fc-rds-backup_<version>_<function>.zip   a function's linux/amd64 `main` at the zip's root (mode 0755)
//	SHA256SUMS                               sha256sum format, over every archive above
//
// Every binary is built with CGO_ENABLED=0, -trimpath and
// -ldflags "-s -w -X github.com/fc-rds-backup/fc-rds-backup/shared/version.stamp=<version>".
// Each client archive also holds LICENSE. It runs `go build`, and does the
// rest in Go, so it works the same on every OS:
//
//	go run ./shared/tooling/dist -o dist -version v0.1.0
//
// The version defaults to `git describe --tags --always --dirty`, else "dev".
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PinnedVersion is the release the CI templates (shared/integrations) install
// by default. Both templates name it; a test keeps them and this in step.
// Bump it (and the templates) after a release.
const PinnedVersion = "v0.1.0"

// Module is the module path; the version stamp is linked into
// Module + "/shared/version.stamp".
const Module = "github.com/fc-rds-backup/fc-rds-backup"

// Target is one GOOS/GOARCH pair.
type Target struct{ OS, Arch string }

func (t Target) String() string { return t.OS + "/" + t.Arch }

// ClientTargets are the platforms rdsbackup is released for.
var ClientTargets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// Functions are the Function Compute functions (./functions/<name>), each
// released as a zip of its linux/amd64 executable `main`.
var Functions = []string{"scheduled", "queue", "webhook"}

// Config says what to build and where.
type Config struct {
	Root      string    // the module's root (holds go.mod and LICENSE)
	Out       string    // the directory the archives and SHA256SUMS go to
	Version   string    // the release's version, stamped into every binary
	Go        string    // the go command (default "go")
	Clients   []Target  // rdsbackup's platforms (ClientTargets for a release)
	Functions []string  // the functions (Functions for a release)
	ModTime   time.Time // every archive entry's time (reproducible archives)
	Log       io.Writer // one line per archive; nil: quiet
}

// ClientArchive is the name of rdsbackup's archive for t.
func ClientArchive(version string, t Target) string {
	if t.OS == "windows" {
		return fmt.Sprintf("rdsbackup_%s_%s_%s.zip", version, t.OS, t.Arch)
	}
	return fmt.Sprintf("rdsbackup_%s_%s_%s.tar.gz", version, t.OS, t.Arch)
}

// FunctionArchive is the name of a function's zip.
func FunctionArchive(version, function string) string {
	return fmt.Sprintf("fc-rds-backup_%s_%s.zip", version, function)
}

// Build builds every archive of cfg into cfg.Out, then SHA256SUMS, and
// returns the archives' names (sorted). Earlier archives of this tool in
// cfg.Out (any version) are removed first; other files are left alone.
func Build(ctx context.Context, cfg Config) ([]string, error) {
	if cfg.Version == "" || strings.ContainsAny(cfg.Version, "/\\ \t\n") {
		return nil, fmt.Errorf("version %q: want a tag such as v0.1.0", cfg.Version)
	}
	if cfg.Go == "" {
		cfg.Go = "go"
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	license, err := os.ReadFile(filepath.Join(cfg.Root, "LICENSE"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	if err := removeOld(cfg.Out); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "fc-rds-backup-dist-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	var names []string
	for _, t := range cfg.Clients {
		exe := "rdsbackup"
		if t.OS == "windows" {
			exe += ".exe"
		}
		bin := filepath.Join(work, t.OS+"_"+t.Arch, exe)
		if err := goBuild(ctx, cfg, t, "./shared/cmd/rdsbackup", bin); err != nil {
			return nil, err
		}
		name := ClientArchive(cfg.Version, t)
		files := []file{{exe, bin, 0o755}, {"LICENSE", "", 0o644}}
		if t.OS == "windows" {
			err = writeZip(filepath.Join(cfg.Out, name), files, license, cfg.ModTime)
		} else {
			err = writeTarGz(filepath.Join(cfg.Out, name), files, license, cfg.ModTime)
		}
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(cfg.Log, "dist:", name)
		names = append(names, name)
	}
	for _, f := range cfg.Functions {
		bin := filepath.Join(work, "function_"+f, "main")
		if err := goBuild(ctx, cfg, Target{"linux", "amd64"}, "./functions/"+f, bin); err != nil {
			return nil, err
		}
		name := FunctionArchive(cfg.Version, f)
		if err := writeZip(filepath.Join(cfg.Out, name), []file{{"main", bin, 0o755}}, nil, cfg.ModTime); err != nil {
			return nil, err
		}
		fmt.Fprintln(cfg.Log, "dist:", name)
		names = append(names, name)
	}
	sort.Strings(names)
	if err := writeSums(cfg.Out, names); err != nil {
		return nil, err
	}
	fmt.Fprintln(cfg.Log, "dist: SHA256SUMS")
	return names, nil
}

// removeOld deletes what an earlier run wrote to out, so SHA256SUMS and a
// release's `dist/*` hold one version only.
func removeOld(out string) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if n == "SHA256SUMS" || (strings.HasPrefix(n, "rdsbackup_") || strings.HasPrefix(n, "fc-rds-backup_")) &&
			(strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".zip")) {
			if err := os.Remove(filepath.Join(out, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

func goBuild(ctx context.Context, cfg Config, t Target, pkg, out string) error {
	ldflags := "-s -w -X " + Module + "/shared/version.stamp=" + cfg.Version
	cmd := exec.CommandContext(ctx, cfg.Go, "build", "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Dir = cfg.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.OS, "GOARCH="+t.Arch)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s: %v\n%s", pkg, t, err, stderr.Bytes())
	}
	return nil
}

// file is one archive entry: the file at path, or data when path is "".
type file struct {
	name string
	path string
	mode int64
}

func (f file) open(data []byte) (io.ReadCloser, int64, error) {
	if f.path == "" {
		return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
	}
	r, err := os.Open(f.path)
	if err != nil {
		return nil, 0, err
	}
	st, err := r.Stat()
	if err != nil {
		r.Close()
		return nil, 0, err
	}
	return r, st.Size(), nil
}

func writeTarGz(out string, files []file, data []byte, mtime time.Time) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, e := range files {
		r, size, err := e.open(data)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: size, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			r.Close()
			return err
		}
		_, err = io.Copy(tw, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(out string, files []file, data []byte, mtime time.Time) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw := zip.NewWriter(f)
	for _, e := range files {
		r, _, err := e.open(data)
		if err != nil {
			return err
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(os.FileMode(e.mode)) // a Unix mode: FC needs main's exec bit
		w, err := zw.CreateHeader(h)
		if err != nil {
			r.Close()
			return err
		}
		_, err = io.Copy(w, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeSums writes out/SHA256SUMS: "<hex>  <name>" per archive, as
// sha256sum writes it (and `sha256sum -c SHA256SUMS` reads it).
func writeSums(out string, names []string) error {
	var b strings.Builder
	for _, n := range names {
		sum, err := fileSHA256(filepath.Join(out, n))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	return os.WriteFile(filepath.Join(out, "SHA256SUMS"), []byte(b.String()), 0o644)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ParseTargets reads "linux/amd64,darwin/arm64"; "" is none.
func ParseTargets(s string) ([]Target, error) {
	var ts []Target
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("target %q: want os/arch", p)
		}
		ts = append(ts, Target{goos, goarch})
	}
	return ts, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// gitOutput runs git in dir; "" when git or the repository is missing.
func gitOutput(dir string, args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// DefaultVersion is `git describe --tags --always --dirty`, else "dev".
func DefaultVersion(root string) string {
	if v := gitOutput(root, "describe", "--tags", "--always", "--dirty"); v != "" {
		return v
	}
	return "dev"
}

// modTime is SOURCE_DATE_EPOCH, else the last commit's time, else now.
func modTime(root string) time.Time {
	for _, s := range []string{os.Getenv("SOURCE_DATE_EPOCH"), gitOutput(root, "log", "-1", "--format=%ct")} {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}

// findRoot walks up from the working directory to the directory with go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod here or above: run it inside the repository")
		}
		dir = parent
	}
}

func main() {
	out := flag.String("o", "dist", "output directory")
	version := flag.String("version", "", "the release's version (default: git describe --tags --always --dirty, else dev)")
	goCmd := flag.String("go", "go", "the go command")
	var all []string
	for _, t := range ClientTargets {
		all = append(all, t.String())
	}
	targets := flag.String("targets", strings.Join(all, ","), "rdsbackup's platforms, os/arch separated by commas")
	functions := flag.String("functions", strings.Join(Functions, ","), "the functions, separated by commas")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: dist [-o DIR] [-version V] [-targets os/arch,...] [-functions f,...]")
		os.Exit(64)
	}
	if err := run(*out, *version, *goCmd, *targets, *functions); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func run(out, version, goCmd, targets, functions string) error {
	root, err := findRoot()
	if err != nil {
		return err
	}
	ts, err := ParseTargets(targets)
	if err != nil {
		return err
	}
	if version == "" {
		version = DefaultVersion(root)
	}
	if !filepath.IsAbs(out) {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		out = filepath.Join(wd, out)
	}
	fmt.Fprintf(os.Stderr, "dist: %s into %s\n", version, out)
	_, err = Build(context.Background(), Config{
		Root: root, Out: out, Version: version, Go: goCmd,
		Clients: ts, Functions: splitList(functions), ModTime: modTime(root), Log: os.Stderr,
	})
	return err
}

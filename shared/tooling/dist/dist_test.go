package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testVersion = "v0.0.0-disttest"

var testModTime = time.Unix(1767225600, 0).UTC()

// The module's root, two levels up from this package.
var root = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "..", "..", "..")
}()

// The targets the tests build: this machine's (whose binary the tests run)
// and one other OS, so both archive kinds are made. The release builds
// ClientTargets (TestReleaseTargets).
func testTargets() []Target {
	host := Target{runtime.GOOS, runtime.GOARCH}
	other := Target{"windows", "amd64"}
	if host.OS == "windows" {
		other = Target{"linux", "amd64"}
	}
	return []Target{host, other}
}

var (
	distOnce  sync.Once
	distDir   string // <tmp>/<testVersion>: the layout of a release URL
	distNames []string
	distErr   error
)

// built runs Build once for the package's tests (five go builds).
func built(t *testing.T) (dir string, names []string) {
	t.Helper()
	distOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "dist-test-")
		if err != nil {
			distErr = err
			return
		}
		distDir = filepath.Join(tmp, testVersion)
		distNames, distErr = Build(context.Background(), Config{
			Root: root, Out: distDir, Version: testVersion, Go: goCmd(),
			Clients: testTargets(), Functions: Functions, ModTime: testModTime,
		})
	})
	if distErr != nil {
		t.Fatal(distErr)
	}
	return distDir, distNames
}

func goCmd() string { return filepath.Join(runtime.GOROOT(), "bin", "go") }

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if distDir != "" {
		os.RemoveAll(filepath.Dir(distDir))
	}
	os.Exit(code)
}

func TestReleaseTargets(t *testing.T) {
	var got []string
	for _, tg := range ClientTargets {
		got = append(got, ClientArchive("v1.2.3", tg))
	}
	want := []string{
		"rdsbackup_v1.2.3_linux_amd64.tar.gz", "rdsbackup_v1.2.3_linux_arm64.tar.gz",
		"rdsbackup_v1.2.3_darwin_amd64.tar.gz", "rdsbackup_v1.2.3_darwin_arm64.tar.gz",
		"rdsbackup_v1.2.3_windows_amd64.zip", "rdsbackup_v1.2.3_windows_arm64.zip",
	}
	if !slices.Equal(got, want) {
		t.Errorf("client archives %q, want %q", got, want)
	}
	if !slices.Equal(Functions, []string{"scheduled", "queue", "webhook"}) {
		t.Errorf("functions %q", Functions)
	}
	if got := FunctionArchive("v1.2.3", "queue"); got != "fc-rds-backup_v1.2.3_queue.zip" {
		t.Errorf("function archive %q", got)
	}
	ts, err := ParseTargets("linux/amd64, darwin/arm64,")
	if err != nil || !slices.Equal(ts, []Target{{"linux", "amd64"}, {"darwin", "arm64"}}) {
		t.Errorf("ParseTargets: %v %v", ts, err)
	}
	if _, err := ParseTargets("linux"); err == nil {
		t.Error("ParseTargets(linux): no error")
	}
}

func TestBuild(t *testing.T) {
	dir, names := built(t)
	var want []string
	for _, tg := range testTargets() {
		want = append(want, ClientArchive(testVersion, tg))
	}
	for _, f := range Functions {
		want = append(want, FunctionArchive(testVersion, f))
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("archives %q, want %q", names, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var inDir []string
	for _, e := range entries {
		inDir = append(inDir, e.Name())
	}
	if wantDir := append(slices.Clone(want), "SHA256SUMS"); !slices.Equal(inDir, sorted(wantDir)) {
		t.Errorf("dist holds %q, want %q", inDir, sorted(wantDir))
	}

	// SHA256SUMS: one "<hex>  <name>" line per archive, each sum the file's.
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
	var listed []string
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Errorf("SHA256SUMS line %q is not sha256sum's format", sc.Text())
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, m[2]))
		if err != nil {
			t.Error(err)
			continue
		}
		if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != m[1] {
			t.Errorf("SHA256SUMS says %s for %s, the file is %x", m[1], m[2], s)
		}
		listed = append(listed, m[2])
	}
	if !slices.Equal(listed, want) {
		t.Errorf("SHA256SUMS lists %q, want %q", listed, want)
	}
	if sh, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sh, "-c", "SHA256SUMS")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}

	// The client archives: the binary (mode 0755) and LICENSE.
	license, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range testTargets() {
		exe := "rdsbackup"
		if tg.OS == "windows" {
			exe += ".exe"
		}
		files := readArchive(t, filepath.Join(dir, ClientArchive(testVersion, tg)))
		if got := keys(files); !slices.Equal(got, sorted([]string{exe, "LICENSE"})) {
			t.Errorf("%s holds %q, want %s and LICENSE", tg, got, exe)
			continue
		}
		if files[exe].mode != 0o755 {
			t.Errorf("%s: %s has mode %o, want 755", tg, exe, files[exe].mode)
		}
		if !bytes.Equal(files["LICENSE"].data, license) {
			t.Errorf("%s: LICENSE differs from the repository's", tg)
		}
		bin := filepath.Join(t.TempDir(), exe)
		if err := os.WriteFile(bin, files[exe].data, 0o755); err != nil {
			t.Fatal(err)
		}
		wantStamp(t, bin, "./shared/cmd/rdsbackup", tg)
		if tg.OS == runtime.GOOS && tg.Arch == runtime.GOARCH {
			out, err := exec.Command(bin, "help").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "rdsbackup gate") {
				t.Errorf("%s help: %v\n%s", exe, err, out)
			}
			if strings.Contains(string(out), "rdsbackup version") { // once it has the command
				out, err := exec.Command(bin, "version").CombinedOutput()
				if err != nil || !strings.Contains(string(out), testVersion) {
					t.Errorf("%s version: %v, want %s:\n%s", exe, err, testVersion, out)
				}
			}
		}
	}

	// The function zips: only `main`, at the root, mode 0755, linux/amd64.
	for _, f := range Functions {
		files := readArchive(t, filepath.Join(dir, FunctionArchive(testVersion, f)))
		if got := keys(files); !slices.Equal(got, []string{"main"}) {
			t.Errorf("%s zip holds %q, want main only", f, got)
			continue
		}
		if files["main"].mode != 0o755 {
			t.Errorf("%s zip: main has mode %o, want 755", f, files["main"].mode)
		}
		bin := filepath.Join(t.TempDir(), "main")
		if err := os.WriteFile(bin, files["main"].data, 0o755); err != nil {
			t.Fatal(err)
		}
		wantStamp(t, bin, "./functions/"+f, Target{"linux", "amd64"})
	}
}

// wantStamp checks how bin was built: what `go version -m` shows (the
// package, the platform, CGO_ENABLED=0, -trimpath; it omits -ldflags when
// -trimpath is set), the version stamp in the binary when its package links
// shared/version (-X is a no-op otherwise), and, for ELF, no symbol table
// and no DWARF (-s -w).
func wantStamp(t *testing.T, bin, pkg string, tg Target) {
	t.Helper()
	out, err := exec.Command(goCmd(), "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Errorf("go version -m %s: %v\n%s", pkg, err, out)
		return
	}
	s := string(out)
	for _, want := range []string{
		"\tpath\t" + Module + strings.TrimPrefix(pkg, "."),
		"\tbuild\t-trimpath=true",
		"\tbuild\tCGO_ENABLED=0",
		"\tbuild\tGOOS=" + tg.OS,
		"\tbuild\tGOARCH=" + tg.Arch,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("%s for %s: go version -m lacks %q:\n%s", pkg, tg, want, s)
		}
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if linksVersion(t, pkg) {
		if !bytes.Contains(b, []byte(testVersion)) {
			t.Errorf("%s for %s: the stamp %s is not in the binary", pkg, tg, testVersion)
		}
	} else {
		t.Logf("%s does not link shared/version: its stamp is a no-op", pkg)
	}
	if tg.OS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, sec := range f.Sections {
			if sec.Name == ".symtab" || strings.HasPrefix(sec.Name, ".debug_") || strings.HasPrefix(sec.Name, ".zdebug_") {
				t.Errorf("%s for %s: section %s (want -s -w)", pkg, tg, sec.Name)
			}
		}
	}
}

var (
	depsMu sync.Mutex
	deps   = map[string]bool{}
)

// linksVersion says whether pkg imports shared/version (go list -deps).
func linksVersion(t *testing.T, pkg string) bool {
	t.Helper()
	depsMu.Lock()
	defer depsMu.Unlock()
	if v, ok := deps[pkg]; ok {
		return v
	}
	cmd := exec.Command(goCmd(), "list", "-deps", pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	v := slices.Contains(strings.Fields(string(out)), Module+"/shared/version")
	deps[pkg] = v
	return v
}

type entry struct {
	mode os.FileMode
	data []byte
}

func readArchive(t *testing.T, path string) map[string]entry {
	t.Helper()
	files := map[string]entry{}
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name] = entry{f.Mode().Perm(), b}
		}
		return files
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			t.Errorf("%s: %s is not a regular file", path, h.Name)
		}
		files[h.Name] = entry{os.FileMode(h.Mode).Perm(), b}
	}
	return files
}

func keys(m map[string]entry) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return sorted(ks)
}

func sorted(s []string) []string { slices.Sort(s); return s }

// The version arguments: a tag, never a path or a flag-looking thing.
func TestBuildRefusesBadVersion(t *testing.T) {
	for _, v := range []string{"", "v1/x", "v1 x"} {
		if _, err := Build(context.Background(), Config{Root: root, Out: t.TempDir(), Version: v}); err == nil {
			t.Errorf("version %q: no error", v)
		}
	}
}

// An earlier run's archives are removed (SHA256SUMS covers one version);
// other files stay.
func TestRemoveOld(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"rdsbackup_v1_linux_amd64.tar.gz", "fc-rds-backup_v1_queue.zip", "SHA256SUMS", "notes.txt", "rdsbackup_v1.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeOld(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"notes.txt", "rdsbackup_v1.txt"}) {
		t.Errorf("left %q", left)
	}
}

# Install rdsbackup, the pipeline client of fc-rds-backup, from a release:
# download rdsbackup_<version>_<os>_<arch>.tar.gz (windows: .zip) and the
# release's SHA256SUMS, check the archive's SHA-256 against it (a mismatch
# fails, nothing is installed), and put rdsbackup in RDSBACKUP_INSTALL_DIR,
# which it adds to PATH. POSIX sh; it exits only on a failure, so it can be
# pasted into a larger script: the GitHub action runs this file, the GitLab
# template holds a copy (go test ./shared/tooling/dist keeps the copy equal;
# -update rewrites it).
#   RDSBACKUP_VERSION      the release's tag, such as v0.1.0
#   RDSBACKUP_RELEASE_URL  where the releases are, as <url>/<version>/<file>
#                          (default GitHub's): a mirror, or a file:// URL or a
#                          directory with `make dist` output in <version>/
#   RDSBACKUP_FROM_SOURCE  true: build the version with Go instead
#   RDSBACKUP_INSTALL_DIR  where rdsbackup goes (default $TMPDIR/rdsbackup/bin)
rdsbackup_fail() {
  echo "rdsbackup install: $*" >&2
  if [ -n "${rb_tmp:-}" ]; then rm -rf "$rb_tmp"; fi
  exit 1
}
rb_version=${RDSBACKUP_VERSION:-}
rb_base=${RDSBACKUP_RELEASE_URL:-https://github.com/fc-rds-backup/fc-rds-backup/releases/download}
rb_base=${rb_base%/}
rb_dir=${RDSBACKUP_INSTALL_DIR:-${TMPDIR:-/tmp}/rdsbackup/bin}
rb_tmp=
if [ -z "$rb_version" ]; then
  rdsbackup_fail "RDSBACKUP_VERSION is empty: name a release, such as v0.1.0"
fi
case "$(uname -s)" in
  Linux) rb_os=linux ;;
  Darwin) rb_os=darwin ;;
  MINGW* | MSYS* | CYGWIN* | Windows_NT) rb_os=windows ;;
  *) rdsbackup_fail "no release for OS $(uname -s); set from-source (RDSBACKUP_FROM_SOURCE=true)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) rb_arch=amd64 ;;
  aarch64 | arm64) rb_arch=arm64 ;;
  *) rdsbackup_fail "no release for CPU $(uname -m); set from-source (RDSBACKUP_FROM_SOURCE=true)" ;;
esac
rb_exe=rdsbackup
if [ "$rb_os" = windows ]; then rb_exe=rdsbackup.exe; fi
mkdir -p "$rb_dir" || rdsbackup_fail "cannot create $rb_dir"
if [ "${RDSBACKUP_FROM_SOURCE:-false}" = true ]; then
  command -v go >/dev/null 2>&1 || rdsbackup_fail "from-source needs Go on the PATH"
  # Not `go install …@version`: go.mod pins golang/protobuf with a replace (faster cold
  # starts), which `go install …@version` refuses; build inside the downloaded module,
  # with its from-source modfile: go.mod also replaces two modules with folders of
  # shared/third_party (smaller, faster-starting function binaries), which a module
  # download leaves out; the client builds with the upstream modules.
  rb_json=$(go mod download -json "github.com/fc-rds-backup/fc-rds-backup@$rb_version") ||
    rdsbackup_fail "go mod download of fc-rds-backup@$rb_version failed"
  rb_src=$(printf '%s\n' "$rb_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rb_got=$(printf '%s\n' "$rb_json" | sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p')
  [ -n "$rb_src" ] && [ -n "$rb_got" ] || rdsbackup_fail "go mod download of fc-rds-backup@$rb_version failed"
  (cd "$rb_src" && go build -trimpath -modfile=shared/integrations/from-source.go.mod -o "$rb_dir/$rb_exe" \
    -ldflags "-X github.com/fc-rds-backup/fc-rds-backup/shared/version.stamp=$rb_got" ./shared/cmd/rdsbackup) ||
    rdsbackup_fail "go build of rdsbackup@$rb_version failed"
  echo "rdsbackup install: built $rb_version from source into $rb_dir"
else
  if [ "$rb_version" = latest ]; then
    rdsbackup_fail "version latest: release archives are named by their tag; name one (such as v0.1.0), or set from-source"
  fi
  rb_archive="rdsbackup_${rb_version}_${rb_os}_${rb_arch}.tar.gz"
  if [ "$rb_os" = windows ]; then rb_archive="rdsbackup_${rb_version}_${rb_os}_${rb_arch}.zip"; fi
  rb_tmp=$(mktemp -d 2>/dev/null || mktemp -d -t rdsbackup) || rdsbackup_fail "mktemp failed"
  rdsbackup_fetch() {
    case "$1" in
      http://* | https://*)
        if command -v curl >/dev/null 2>&1; then
          curl -fsSL --retry 3 -o "$2" "$1"
        elif command -v wget >/dev/null 2>&1; then
          wget -q -O "$2" "$1"
        else
          rdsbackup_fail "neither curl nor wget to download $1"
        fi
        ;;
      file://*) cp "${1#file://}" "$2" ;;
      *) cp "$1" "$2" ;;
    esac || rdsbackup_fail "cannot fetch $1"
  }
  rdsbackup_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
      sha256sum <"$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
      shasum -a 256 <"$1" | cut -d ' ' -f 1
    elif command -v openssl >/dev/null 2>&1; then
      openssl dgst -sha256 -r <"$1" | cut -d ' ' -f 1
    else
      rdsbackup_fail "no sha256sum, shasum or openssl to check the download with"
    fi
  }
  rdsbackup_fetch "$rb_base/$rb_version/SHA256SUMS" "$rb_tmp/SHA256SUMS"
  rdsbackup_fetch "$rb_base/$rb_version/$rb_archive" "$rb_tmp/$rb_archive"
  rb_want=$(awk -v f="$rb_archive" '$2 == f || $2 == "*" f { print tolower($1); exit }' "$rb_tmp/SHA256SUMS")
  if [ -z "$rb_want" ]; then
    rdsbackup_fail "$rb_base/$rb_version/SHA256SUMS has no checksum for $rb_archive; refusing to install it"
  fi
  rb_got=$(rdsbackup_sha256 "$rb_tmp/$rb_archive")
  if [ "$rb_got" != "$rb_want" ]; then
    rdsbackup_fail "SHA-256 checksum mismatch for $rb_archive: SHA256SUMS says $rb_want, the download is ${rb_got:-unreadable}; refusing to install it (a tampered or broken download, or the wrong release-url)"
  fi
  mkdir "$rb_tmp/x"
  if [ "$rb_os" = windows ]; then
    if command -v unzip >/dev/null 2>&1; then
      unzip -q -o "$rb_tmp/$rb_archive" -d "$rb_tmp/x"
    elif command -v 7z >/dev/null 2>&1; then
      7z x -y -o"$rb_tmp/x" "$rb_tmp/$rb_archive" >/dev/null
    else
      rdsbackup_fail "neither unzip nor 7z to open $rb_archive"
    fi || rdsbackup_fail "cannot open $rb_archive"
  else
    tar -xzf "$rb_tmp/$rb_archive" -C "$rb_tmp/x" || rdsbackup_fail "cannot open $rb_archive"
  fi
  cp "$rb_tmp/x/$rb_exe" "$rb_dir/$rb_exe" && chmod 755 "$rb_dir/$rb_exe" ||
    rdsbackup_fail "cannot install $rb_exe into $rb_dir"
  rm -rf "$rb_tmp"
  rb_tmp=
  echo "rdsbackup install: $rb_version for $rb_os/$rb_arch into $rb_dir (SHA-256 $rb_got, as in the release's SHA256SUMS)"
fi
"$rb_dir/$rb_exe" help >/dev/null 2>&1 || rdsbackup_fail "$rb_dir/$rb_exe does not run on this $rb_os/$rb_arch machine"
PATH="$rb_dir:$PATH"
export PATH

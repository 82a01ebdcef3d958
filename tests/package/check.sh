#!/usr/bin/env bash
# The Debian package end to end, without touching the host system: builds
# convcorr_VERSION_ARCH.deb with cpack from a build directory into a
# temporary directory, checks its files and control fields (Depends names
# the package of every library the binary links), runs lintian (fails on
# an error, prints the warnings), then unpacks it with `dpkg -x` into a
# throwaway root and runs the unpacked binary: --version, and a filter on
# a sample photo. Nothing is installed on the host: `apt-get install
# ./convcorr_*.deb` is left to the user (README.md). Exit 77 (skipped),
# with the reason, when a tool it needs is missing (dpkg-dev, lintian:
# .ci/install-deps).
#
# With --clean-install it also installs the package with apt into a new
# minimal Debian root of the host's release, made by mmdebstrap in the
# temporary directory (.ci/install-deps --package; it downloads the
# release's packages, about 80 s), and runs it there: what a user of a
# clean Debian system gets. CTest does not run that part.
#
#   tests/package/check.sh [--clean-install] [BUILD_DIR [CPACK]]
#                                              (default build, cpack)
#
# BUILD_DIR must hold a configured build with the binary, its manual page
# and completion built (the default target, or --target convcorr
# convcorr_manual).
set -euo pipefail
cd "$(dirname "$0")/../.."
clean_install=no
if [[ ${1:-} == --clean-install ]]; then
  clean_install=yes
  shift
fi
build=${1:-${CONVCORR_BUILD_DIR:-build}}
cpack=${2:-cpack}

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "package: $*" >&2; exit 1; }

command -v dpkg-deb >/dev/null || skip "dpkg-deb is missing (not Debian?)"
command -v dpkg-shlibdeps >/dev/null ||
  skip "dpkg-shlibdeps is missing: install dpkg-dev (.ci/install-deps)"
command -v lintian >/dev/null ||
  skip "lintian is missing: install lintian (.ci/install-deps)"
command -v "$cpack" >/dev/null || skip "cpack ($cpack) is missing"
[[ $clean_install == no ]] || command -v mmdebstrap >/dev/null ||
  skip "mmdebstrap is missing: .ci/install-deps --package"
[[ -f $build/CPackConfig.cmake ]] ||
  fail "no $build/CPackConfig.cmake: configure the build with cmake first"
[[ -x $build/convcorr && -f $build/convcorr.1 && -f $build/convcorr.bash ]] ||
  fail "build $build first (cmake --build $build)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The package, named from the binary's version and dpkg's architecture.
version=$("$build/convcorr" --version)
version=${version#convcorr }
arch=$(dpkg --print-architecture)
deb=$tmp/out/convcorr_${version}_${arch}.deb
"$cpack" --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out" \
  >"$tmp/cpack.log" 2>&1 || {
  cat "$tmp/cpack.log" >&2
  fail "cpack failed"
}
[[ -f $deb ]] || {
  ls "$tmp/out" >&2
  fail "cpack wrote no $(basename "$deb")"
}
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# 2. Its files: where Debian puts them, owned by root, nothing outside /usr.
dpkg-deb -c "$deb" >"$tmp/contents"
for f in usr/bin/convcorr usr/share/man/man1/convcorr.1.gz \
  usr/share/bash-completion/completions/convcorr \
  usr/share/doc/convcorr/copyright usr/share/doc/convcorr/changelog.gz \
  usr/share/doc/convcorr/README.md usr/share/doc/convcorr/cli.md; do
  grep -q " \./$f\$" "$tmp/contents" || fail "no /$f in the package"
done
if grep -v ' root/root ' "$tmp/contents" >&2; then
  fail "files not owned by root/root (above)"
fi
if grep -v ' \./\(usr/.*\)\?$' "$tmp/contents" >&2; then
  fail "files outside /usr (above)"
fi

# 3. The control fields; Depends from dpkg-shlibdeps.
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == convcorr && $(field Version) == "$version" &&
  $(field Architecture) == "$arch" && $(field Section) == graphics ]] ||
  {
    dpkg-deb -I "$deb" >&2
    fail "wrong Package, Version, Architecture or Section"
  }
depends=$(field Depends)
[[ -n $depends ]] || fail "empty Depends"
echo "Depends: $depends"

# 4. lintian: errors fail, warnings are printed (docs/architecture.md,
#    "The Debian package", says why those left are left).
TMPDIR=$tmp lintian --fail-on none --tag-display-limit 0 "$deb" \
  >"$tmp/lintian" 2>&1 ||
  { cat "$tmp/lintian" >&2; fail "lintian did not run"; }
cat "$tmp/lintian"
errors=$(grep -c '^E: ' "$tmp/lintian" || true)
warnings=$(grep -c '^W: ' "$tmp/lintian" || true)
echo "lintian: $errors errors, $warnings warnings"
[[ $errors -eq 0 ]] || fail "lintian reports errors (above)"

# 5. The package unpacked into a throwaway root.
root=$tmp/root
dpkg -x "$deb" "$root"
bin=$root/usr/bin/convcorr
# Every library the binary names comes from a package Depends names. The
# loader's path is looked up with and without /usr: after usrmerge both
# are one directory, and a package may list either.
mapfile -t needed < <(readelf -d "$bin" |
  sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
[[ ${#needed[@]} -gt 0 ]] || fail "readelf found no NEEDED libraries"
ldd "$bin" >"$tmp/ldd"
paths=()
for lib in "${needed[@]}"; do
  path=$(awk -v l="$lib" '$1 == l && $2 == "=>" { print $3 }' "$tmp/ldd")
  [[ $path == /* ]] || fail "$lib: the loader does not find it"
  paths+=("${path#/usr}" "/usr${path#/usr}")
done
dpkg-query -S "${paths[@]}" >"$tmp/owners" 2>/dev/null || true
for lib in "${needed[@]}"; do
  owner=$(awk -v l="/$lib" 'substr($NF, length($NF) - length(l) + 1) == l {
    sub(/:.*/, ""); print; exit }' "$tmp/owners")
  [[ -n $owner ]] || fail "$lib: no Debian package holds it"
  [[ ", $depends," == *", $owner "* || ", $depends," == *", $owner,"* ]] ||
    fail "$lib is in package $owner, which Depends does not name"
done
echo "Depends names the package of each of ${#needed[@]} libraries"

got=$("$bin" --version)
[[ $got == "convcorr $version" ]] || fail "--version printed '$got'"
"$bin" convolve -k gaussian:2 samples/photos/camera.png -o "$tmp/blurred.png"
[[ $(file -b "$tmp/blurred.png") == "PNG image data, 512 x 512,"* ]] ||
  fail "the filter wrote no 512x512 PNG: $(file -b "$tmp/blurred.png")"
zcat "$root/usr/share/man/man1/convcorr.1.gz" >"$tmp/convcorr.1"
grep -q '^\.TH CONVCORR 1' "$tmp/convcorr.1" ||
  fail "the manual page has no .TH CONVCORR 1 header"
bash -c 'source "$1" && complete -p convcorr' _ \
  "$root/usr/share/bash-completion/completions/convcorr" >/dev/null ||
  fail "the bash completion does not register for convcorr"

# 6. With --clean-install: apt installs the package, and what it Depends
#    on, into a minimal root of the host's release; the binary runs there.
#    mmdebstrap's file-mirror-automount hook shows apt's dpkg, which runs
#    in the new root, the .deb at the same path.
if [[ $clean_install == yes ]]; then
  release=$(sed -n "s/^VERSION_CODENAME=//p" /etc/os-release)
  TMPDIR=$tmp mmdebstrap --variant=apt \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    --include="$deb" \
    --customize-hook='copy-in samples/photos/camera.png /tmp' \
    --customize-hook='chroot "$1" convcorr --version' \
    --customize-hook='chroot "$1" convcorr convolve -k gaussian:2 \
      /tmp/camera.png -o /tmp/blurred.png' \
    --customize-hook='chroot "$1" test -s /tmp/blurred.png' \
    "$release" /dev/null >"$tmp/mmdebstrap.log" 2>&1 ||
    {
      cat "$tmp/mmdebstrap.log" >&2
      fail "the install into a clean $release root failed"
    }
  grep -x "convcorr $version" "$tmp/mmdebstrap.log" >/dev/null ||
    {
      cat "$tmp/mmdebstrap.log" >&2
      fail "no version line from the clean root"
    }
  echo "installed with apt into a clean $release root;" \
    "--version and a filter ran there"
fi
echo "package: ok"

#!/bin/sh
# Fetch the MbedTLS source from Debian's archive into DEST (for the Cortex-M cross build in
# hw-tests/). Adds a deb-src entry in its own file under /etc/apt/sources.list.d/, runs
# `apt-get source mbedtls`, and removes the entry again (also on failure). Never committed:
# DEST is a build directory.
#
# usage: fetch-mbedtls-source.sh DEST
# Prints the path of the unpacked source tree on its last line.
set -eu
dest=${1:?usage: fetch-mbedtls-source.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

existing=$(ls -d "$dest"/mbedtls-2.*/ 2>/dev/null | head -n1 || true)
if [ -n "$existing" ] && [ -f "$existing/include/mbedtls/version.h" ]; then
  echo "${existing%/}"
  exit 0
fi

command -v apt-get >/dev/null || { echo "apt-get not found" >&2; exit 1; }
command -v dpkg-source >/dev/null || { echo "dpkg-source not found (apt-get install dpkg-dev)" >&2; exit 1; }

# Our own file under /etc/apt/sources.list.d/ (removed on exit). Without root, the same entry
# lives in the build directory instead; apt reads it through -o options either way.
if [ "$(id -u)" = 0 ]; then
  list=/etc/apt/sources.list.d/enroll-mbedtls-src.sources
  sandbox_user=root
else
  list="$dest/enroll-mbedtls-src.sources"
  sandbox_user=$(id -un)
fi
lists_dir="$dest/apt-lists"
mkdir -p "$lists_dir/partial"
cleanup() { rm -f "$list"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

cat > "$list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

# A private lists directory: only our deb-src entry is read, and the system's package lists
# are left untouched.
apt_opts="-o Dir::Etc::SourceList=$list -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$lists_dir -o APT::Sandbox::User=$sandbox_user -o Dir::Cache::archives=$dest/apt-archives"
mkdir -p "$dest/apt-archives/partial"
# shellcheck disable=SC2086
apt-get $apt_opts -qq update >&2
cd "$dest"
# shellcheck disable=SC2086
apt-get $apt_opts -qq source mbedtls >&2
rm -rf "$lists_dir" "$dest/apt-archives"
src=$(ls -d "$dest"/mbedtls-2.*/ | head -n1)
echo "${src%/}"

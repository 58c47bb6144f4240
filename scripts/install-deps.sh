#!/usr/bin/env bash
# Installs the Debian 12 packages enrolld needs, and only those that are missing (no network
# when everything is there). Usage: scripts/install-deps.sh [--runtime | --test]
#   --runtime  what building and running enrolld needs (the quick start)
#   --test     that plus every real peer and tool the test suite runs (default)
set -euo pipefail

runtime=(
  g++ make cmake pkg-config        # the C++20 toolchain and build
  libssl-dev openssl               # OpenSSL 3.0: TLS, X.509, CMS; the CLI prints the demo's certificates
  libpoco-dev                      # POCO 1.11: HTTP(S) server, JSON, Data (SQLite)
  libsqlite3-dev                   # SQLite's C API (POCO Data's SQLite): the store keeps hot statements prepared
  curl                             # the quick start's example device
  libcoap3-dev                     # libcoap 3 (OpenSSL DTLS): the EST-coaps listener (RFC 9148)
  libjemalloc-dev                  # jemalloc: enrolld's allocator (OpenSSL 3 allocates a lot, from many threads)
)
testing=(
  libgtest-dev libgmock-dev        # GoogleTest
  sqlite3                          # the tests lock and inspect the database from outside
  scep                             # scepclient: an independent SCEP client
  certmonger                       # certmonger's scep-submit and daemon: a second SCEP client
  libmbedtls-dev                   # the device client (MbedTLS 2.28) on the host
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm dpkg-dev  # device client on emulated Cortex-M
  libcoap3-bin python3             # coap-server/coap-client: a libcoap peer for the device client's DTLS tests
  clang-format clang-tidy          # the style checks (.clang-format, .clang-tidy)
)

mode=${1:---test}
case "$mode" in
  --runtime) wanted=("${runtime[@]}") ;;
  --test) wanted=("${runtime[@]}" "${testing[@]}") ;;
  *) echo "usage: $0 [--runtime | --test]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or install them with apt-get)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

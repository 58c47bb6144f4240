#!/usr/bin/env bash
# Style checks run by CTest (STYLE.md, Comments and hygiene): clang-format on the C++ tree, and
# clang-tidy with the committed .clang-tidy (findings are errors) on the server and libraries.
# Usage: check_style.sh format|tidy SOURCE_DIR BUILD_DIR
set -euo pipefail
mode=$1 src=$2 build=$3
cd "$src"
mapfile -t cxx < <(find pki protocols provisioning server tests bench -name '*.h' -o -name '*.cpp' | grep -v '/vectors/' | sort)
case "$mode" in
  format)
    out=$(clang-format --dry-run "${cxx[@]}" 2>&1 || true)
    if [ -n "$out" ]; then
      echo "$out" | head -40
      echo "clang-format: $(echo "$out" | grep -c 'warning:') place(s) differ; run: clang-format -i <files>"
      exit 1
    fi
    echo "clang-format: ${#cxx[@]} files clean"
    ;;
  tidy)
    mapfile -t units < <(find pki protocols provisioning server -name '*.cpp' | sort)
    out=$(printf '%s\n' "${units[@]}" | xargs -n4 -P"$(nproc)" clang-tidy -p "$build" --quiet 2>/dev/null || true)
    findings=$(echo "$out" | grep -E '(warning|error):' || true)
    if [ -n "$findings" ]; then
      echo "$out" | head -80
      echo "clang-tidy: $(echo "$findings" | wc -l) finding(s)"
      exit 1
    fi
    echo "clang-tidy: ${#units[@]} translation units clean"
    ;;
esac

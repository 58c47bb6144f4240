#!/bin/bash
# Runs every SCEP integration test with the same arguments; exit 0 when none failed (77 = skipped).
# Usage: run_all.sh ENROLLD DATA_DIR | --test-server SCEP_LOOPBACK_SERVER
here="$(cd "$(dirname "$0")" && pwd)"
failed=0
for t in scepclient_test certmonger_scep_submit_test certmonger_daemon_test certmonger_pending_test; do
  bash "$here/$t.sh" "$@"
  rc=$?
  case $rc in
    0) echo "== $t: passed" ;;
    77) echo "== $t: skipped" ;;
    *) echo "== $t: FAILED ($rc)"; failed=1 ;;
  esac
done
exit $failed

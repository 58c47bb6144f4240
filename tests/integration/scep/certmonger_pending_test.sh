#!/bin/bash
# A request held for approval (CertRep PENDING), approved, then fetched by certmonger: certmonger
# polls by sending its PKCSReq again with the same transactionID, which ScepService answers from
# the held request (ScepDirectory::poll) instead of enrolling twice.
# Usage: certmonger_pending_test.sh --test-server SCEP_LOOPBACK_SERVER
#    or: ENROLLD=path/to/enrolld certmonger_pending_test.sh   (label "approval" of the demo data,
#        approved with `enrolld pending DIR approve ID`)
source "$(dirname "$0")/lib.sh"
need certmonger; need getcert; need openssl; need curl
if [[ "${1:-}" == --test-server ]]; then
  start_server "$@" --hold
  URL="$SCEP_URL"
  APPROVE="curl -sf ${BASE_URL}approve >/dev/null"
else
  start_server "$@"
  URL="${BASE_URL}scep/${SCEP_PENDING_LABEL:-approval}"
  # The operator approves the held request of device it-certmonger-pending.
  APPROVE="\"$ENROLLD\" pending \"$WORK/data\" list | awk '\$2==\"pending\" && \$3==\"it-certmonger-pending\" {print \$1}' | xargs -r -n1 \"$ENROLLD\" pending \"$WORK/data\" approve >/dev/null"
fi

fetch_ca_certs "$URL" "$WORK/ca-certs.pem"
root_of "$WORK/ca-certs.pem"
CM="$WORK/cm"
mkdir -p "$CM"/{config,requests,cas,local,tmp,home}
cat >"$CM/job.sh" <<JOB
#!/bin/bash
R="$CM/results.txt"
st() { getcert list -i dev | sed -n 's/^[[:space:]]*status: //p'; }
getcert add-scep-ca -c ENROLLD -u "$URL" -N "$WORK/root.pem"
getcert request -c ENROLLD -I dev -k "$CM/k.pem" -f "$CM/c.pem" -N CN=it-certmonger-pending -L "$CHALLENGE" \
  -w --wait-timeout=10 >/dev/null 2>&1
echo "held \$(st)" >>"\$R"
$APPROVE
getcert resubmit -i dev -w --wait-timeout=30 >/dev/null 2>&1
for i in \$(seq 1 30); do [[ "\$(st)" == MONITORING ]] && break; sleep 1; done
echo "approved \$(st)" >>"\$R"
JOB
chmod +x "$CM/job.sh"
env CERTMONGER_CONFIG_DIR="$CM/config" CERTMONGER_REQUESTS_DIR="$CM/requests" \
    CERTMONGER_CAS_DIR="$CM/cas" CERTMONGER_LOCAL_CA_DIR="$CM/local" CERTMONGER_TMPDIR="$CM/tmp" \
    HOME="$CM/home" timeout 300 certmonger -s -L -P "$CM/cm.sock" -n -c "$CM/job.sh" >"$CM/certmonger.log" 2>&1 \
  || true
[[ -f "$CM/results.txt" ]] || fail "certmonger did not run the job"
cat "$CM/results.txt"
held=$(sed -n 's/^held //p' "$CM/results.txt")
approved=$(sed -n 's/^approved //p' "$CM/results.txt")
[[ "$held" == CA_WORKING ]] || fail "held request: $held (expected CA_WORKING while PENDING)"
pass "request held for approval: certmonger waits ($held)"
[[ "$approved" == MONITORING ]] || fail "after approval: $approved"
openssl x509 -in "$CM/c.pem" -noout -subject | grep -q it-certmonger-pending || fail "wrong certificate"
pass "after approval the resent request is answered with the certificate: MONITORING"

#!/bin/bash
# A full certmonger enrollment over SCEP with a private daemon (no system D-Bus): request with the
# challenge, resubmit (renewal: PKCSReq signed by the current certificate), rekey (new key, same
# path), and a request with a wrong challenge that must end rejected. certmonger sends every
# request as a GET with the base64 pkiMessage in the query string.
# Usage: certmonger_daemon_test.sh ENROLLD DATA_DIR | --test-server SCEP_LOOPBACK_SERVER
source "$(dirname "$0")/lib.sh"
need certmonger; need getcert; need openssl; need curl
start_server "$@"

fetch_ca_certs "$SCEP_URL" "$WORK/ca-certs.pem"
root_of "$WORK/ca-certs.pem"   # the trust anchor for the replies' signatures: -N

CM="$WORK/cm"
mkdir -p "$CM"/{config,requests,cas,local,tmp,home}
cat >"$CM/job.sh" <<JOB
#!/bin/bash
# Runs inside the private certmonger; every step's result goes to results.txt.
R="$CM/results.txt"
st() { getcert list -i "\$1" | sed -n 's/^[[:space:]]*status: //p'; }
getcert add-scep-ca -c ENROLLD -u "$SCEP_URL" -N "$WORK/root.pem" || echo "add-scep-ca failed" >>"\$R"
getcert request -c ENROLLD -I dev -k "$CM/k.pem" -f "$CM/c.pem" -N CN=it-certmonger-1 -L "$CHALLENGE" \
  -w --wait-timeout=60 >/dev/null 2>&1
echo "request \$(st dev)" >>"\$R"
cp "$CM/c.pem" "$CM/c1.pem" 2>/dev/null
getcert resubmit -i dev -w --wait-timeout=60 >/dev/null 2>&1
echo "resubmit \$(st dev)" >>"\$R"
cp "$CM/c.pem" "$CM/c2.pem" 2>/dev/null
getcert rekey -i dev -w --wait-timeout=60 >/dev/null 2>&1
echo "rekey \$(st dev)" >>"\$R"
cp "$CM/c.pem" "$CM/c3.pem" 2>/dev/null
getcert request -c ENROLLD -I bad -k "$CM/bad.key" -f "$CM/bad.pem" -N CN=it-certmonger-2 \
  -L "wrong-$CHALLENGE" -w --wait-timeout=60 >/dev/null 2>&1
echo "wrong \$(st bad)" >>"\$R"
getcert list >"$CM/list.txt" 2>&1
JOB
chmod +x "$CM/job.sh"

env CERTMONGER_CONFIG_DIR="$CM/config" CERTMONGER_REQUESTS_DIR="$CM/requests" \
    CERTMONGER_CAS_DIR="$CM/cas" CERTMONGER_LOCAL_CA_DIR="$CM/local" CERTMONGER_TMPDIR="$CM/tmp" \
    HOME="$CM/home" timeout 300 certmonger -s -L -P "$CM/cm.sock" -n -c "$CM/job.sh" >"$CM/certmonger.log" 2>&1 \
  || true
[[ -f "$CM/results.txt" ]] || { tail -20 "$CM/certmonger.log"; fail "certmonger did not run the job"; }
cat "$CM/results.txt"
result() { sed -n "s/^$1 //p" "$CM/results.txt"; }

[[ "$(result request)" == MONITORING ]] || { cat "$CM/list.txt"; fail "enrollment: $(result request)"; }
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/ca-certs.pem" "$CM/c1.pem" >/dev/null || fail "issued certificate does not verify"
pass "getcert request with the challenge: MONITORING"

[[ "$(result resubmit)" == MONITORING ]] || fail "resubmit: $(result resubmit)"
[[ "$(openssl x509 -in "$CM/c1.pem" -noout -serial)" != "$(openssl x509 -in "$CM/c2.pem" -noout -serial)" ]] \
  || fail "resubmit returned the same certificate"
if [[ "${1:-}" == --test-server ]]; then
  [[ "$(grep -c 'SUCCESS: reenroll' "$WORK/server.log")" -ge 2 ]] || fail "resubmit/rekey not taken as renewals"
fi
pass "getcert resubmit (renewal signed by the current certificate): new certificate"

[[ "$(result rekey)" == MONITORING ]] || fail "rekey: $(result rekey)"
[[ "$(openssl x509 -in "$CM/c2.pem" -noout -pubkey)" != "$(openssl x509 -in "$CM/c3.pem" -noout -pubkey)" ]] \
  || fail "rekey kept the old key"
pass "getcert rekey: certificate for a new key"

case "$(result wrong)" in
  CA_REJECTED|CA_UNREACHABLE|NEED_GUIDANCE) pass "wrong challenge: $(result wrong)" ;;
  *) fail "wrong challenge ended as $(result wrong)" ;;
esac

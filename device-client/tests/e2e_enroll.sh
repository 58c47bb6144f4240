#!/bin/sh
# End-to-end: enroll-device against a real enrolld on loopback (port 0).
#  1. enroll with the demo bootstrap certificate, trust bootstrapped from the root's SHA-256
#  2. re-enroll with the operational certificate (new key, new serial), openssl verify each
#  3. renewal on schedule: `run` with the clock moved past the planned renewal time
#  4. outage: server stopped -> the attempt fails, the stored certificate is kept;
#     server back -> the next attempt renews
# Over EST-HTTPS (default) or EST-coaps (RFC 9148, fourth argument "coaps"); re-enrollment
# over HTTPS also binds the CSR to the TLS session (tls-unique), which enrolld has only there.
# usage: e2e_enroll.sh ENROLLD ENROLL_DEVICE WORKDIR [https|coaps]
set -eu
enrolld=$1 tool=$2 dir=$3 transport=${4:-https}
rm -rf "$dir" && mkdir -p "$dir"
server_pid=""
cleanup() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT INT TERM

"$enrolld" init "$dir/srv" --demo > "$dir/init.log" 2>&1

start_server() {
  : > "$dir/serve.log"
  "$enrolld" serve "$dir/srv" --listen-est 127.0.0.1:0 --listen-coap 127.0.0.1:0 >> "$dir/serve.log" 2>&1 &
  server_pid=$!
  i=0
  while ! grep -q "listening est https://127.0.0.1:" "$dir/serve.log"; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then echo "enrolld did not start"; cat "$dir/serve.log"; exit 1; fi
    sleep 0.1
  done
  if [ "$transport" = coaps ]; then
    while ! grep -q "listening coap coaps://127.0.0.1:" "$dir/serve.log"; do sleep 0.1; done
    port=$(sed -n 's|.*listening coap coaps://127.0.0.1:\([0-9]*\)/.*|\1|p' "$dir/serve.log" | head -n1)
  else
    port=$(sed -n 's|.*listening est https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$dir/serve.log" | head -n1)
  fi
  echo "enrolld listening on port $port ($transport)"
}
# the port changes with each start: the server option is evaluated at each call
srv() { if [ "$transport" = coaps ]; then echo "--coaps --server 127.0.0.1:$port"; else echo "--server 127.0.0.1:$port"; fi; }
cb=""
[ "$transport" = https ] && cb="--challenge-password"
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

serial() { openssl x509 -in "$dir/st/cert.pem" -noout -serial; }
verify() {
  openssl verify -CAfile "$dir/srv/ca/root-ca.pem" -untrusted "$dir/srv/ca/issuing-ca.pem" "$dir/st/cert.pem"
  # the trust the device bootstrapped through /cacerts is enough on its own, too
  openssl verify -CAfile "$dir/st/ca.pem" "$dir/st/cert.pem"
}

start_server
fp=$(openssl x509 -in "$dir/srv/ca/root-ca.pem" -noout -fingerprint -sha256 | cut -d= -f2)

echo "== 1. enroll with the bootstrap certificate"
"$tool" enroll $(srv) --ca-fingerprint "$fp" \
  --bootstrap-cert "$dir/srv/demo/device-0001.pem" --bootstrap-key "$dir/srv/demo/device-0001.key" \
  --state "$dir/st"
verify
openssl x509 -in "$dir/st/cert.pem" -noout -subject | grep -q "CN = DEMO-0001"
s1=$(serial)

echo "== a wrong fingerprint is refused"
if "$tool" enroll $(srv) --ca-fingerprint "$(echo "$fp" | tr 'A-F' 'F-K' | tr 'G-K' 'A-E')" \
  --bootstrap-cert "$dir/srv/demo/device-0002.pem" --bootstrap-key "$dir/srv/demo/device-0002.key" \
  --state "$dir/st-wrong"; then echo "enrolled despite a wrong fingerprint"; exit 1; fi
test ! -e "$dir/st-wrong/operational.bin"

echo "== 2. re-enroll with the operational certificate (over HTTPS with a tls-unique challengePassword)"
"$tool" renew $(srv) --state "$dir/st" $cb
verify
s2=$(serial)
[ "$s1" != "$s2" ] || { echo "serial did not change"; exit 1; }

echo "== 3. renewal on schedule (clock moved 250 days ahead, past 2/3 of a 1-year certificate)"
"$tool" run $(srv) --state "$dir/st" --max-steps 1 --time-offset 0 -v
[ "$(serial)" = "$s2" ] || { echo "renewed before it was due"; exit 1; }
"$tool" run $(srv) --state "$dir/st" --max-steps 1 --time-offset 21600000 -v
verify
s3=$(serial)
[ "$s3" != "$s2" ] || { echo "no renewal when due"; exit 1; }

echo "== 4. server outage: the attempt fails and the certificate is kept"
stop_server
if "$tool" run $(srv) --state "$dir/st" --max-steps 1 --time-offset 21600000 \
   --timeout-ms 2000 -v; then echo "step succeeded without a server"; exit 1; fi
[ "$(serial)" = "$s3" ] || { echo "certificate changed during the outage"; exit 1; }
"$tool" status --state "$dir/st"
start_server
"$tool" run $(srv) --state "$dir/st" --max-steps 1 --time-offset 21600000 -v
verify
[ "$(serial)" != "$s3" ] || { echo "no renewal after the outage"; exit 1; }
echo "E2E OK ($transport)"

#!/usr/bin/env bash
# /metrics in the Prometheus text format: enrollments by protocol, label and outcome over EST
# (curl + openssl) and SCEP (scepclient), latency histograms, request counts, store errors.
. "$(dirname "$0")/lib.sh"
D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
sed -i 's|"busy_timeout_ms": [0-9]*|"busy_timeout_ms": 200|; s|"driver": "sqlite",|"driver": "sqlite", "busy_timeout_ms": 200,|' "$D/enrolld.json"
"$ENROLLD" serve "$D" --listen-est 127.0.0.1:0 --listen-http 127.0.0.1:0 --listen-metrics 127.0.0.1:0 \
  > serve.out 2> serve.err &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q "^listening metrics" serve.out 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's|^listening est https://127.0.0.1:\([0-9]*\)/.*|\1|p' serve.out)
U="https://127.0.0.1:$PORT/.well-known/est"
M=$(sed -n 's|^listening metrics \(http://127.0.0.1:[0-9]*/metrics\)|\1|p' serve.out)
HTTP_BASE=$(sed -n 's|^listening http \(http://127.0.0.1:[0-9]*/\)|\1|p' serve.out)
CA=(--cacert "$D/ca/root-ca.pem")
P10=(-H 'Content-Type: application/pkcs10')
BOOT=(--cert "$D/demo/device-0001.pem" --key "$D/demo/device-0001.key")
metric() { curl -s "$M" | grep -F "$1" | awk '{print $NF}'; }

check "a fresh server has counted no enrollment" "" "$(metric 'enrolld_enrollments_total{')"
for i in 1 2 3; do
  csr_b64 "k$i.key" /CN=DEMO-0001 > "c$i.b64"
  curl -s -o /dev/null "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @"c$i.b64" "$U/simpleenroll"
done
curl -s -o /dev/null "${CA[@]}" "${P10[@]}" --data-binary @c1.b64 "$U/simpleenroll"
curl -s -o /dev/null "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @c1.b64 "$U/approval/simpleenroll"

echo "# SCEP with scepclient"
CHALLENGE=$(cat "$D/demo/scep-challenge.txt")
curl -s "${HTTP_BASE}scep/scep-legacy?operation=GetCACert" | openssl pkcs7 -inform DER -print_certs 2>/dev/null \
  | awk '/BEGIN/{n++} n==1' > ra.pem
FP=$(openssl x509 -in ra.pem -outform DER | sha256sum | cut -d' ' -f1)
mkdir s1 && (cd s1 && scepclient -server-url "${HTTP_BASE}scep/scep-legacy" -challenge "$CHALLENGE" \
  -private-key k.pem -certificate c.pem -cn CAM-1 -ca-fingerprint "$FP" > log.txt 2>&1)

echo "# what /metrics says"
BODY=$(curl -s -D hdr.txt "$M")
check_contains "it is Prometheus text" "Content-Type: text/plain; version=0.0.4" "$(cat hdr.txt)"
check_contains "with HELP and TYPE lines" "# TYPE enrolld_enrollments_total counter" "$BODY"
check "three issued over EST on the default label" 3 \
  "$(metric 'enrolld_enrollments_total{protocol="est",label="default",operation="enroll",outcome="issued"}')"
check "one refused without credentials" 1 \
  "$(metric 'enrolld_enrollments_total{protocol="est",label="default",operation="enroll",outcome="unauthenticated"}')"
check "one held for approval" 1 \
  "$(metric 'enrolld_enrollments_total{protocol="est",label="approval",operation="enroll",outcome="pending"}')"
check "one issued over SCEP" 1 \
  "$(metric 'enrolld_enrollments_total{protocol="scep",label="scep-legacy",operation="enroll",outcome="issued"}')"
check "the latency histogram counts the four accepted EST enrollments" 4 \
  "$(metric 'enrolld_enrollment_duration_seconds_count{protocol="est",outcome="ok"}')"
check "its +Inf bucket equals its count" 4 \
  "$(metric 'enrolld_enrollment_duration_seconds_bucket{protocol="est",outcome="ok",le="+Inf"}')"
check "requests are counted by status" 3 "$(metric 'enrolld_requests_total{protocol="est",status="200"}')"
check "a 401 is counted too" 1 "$(metric 'enrolld_requests_total{protocol="est",status="401"}')"

echo "# store errors"
( echo "BEGIN EXCLUSIVE;"; sleep 2; echo "COMMIT;" ) | sqlite3 "$D/enrolld.db" &
LOCKER=$!
sleep 0.5
csr_b64 k9.key /CN=DEMO-0001 > c9.b64
check "a locked store gets 503" 503 "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @c9.b64 "$U/simpleenroll")"
wait $LOCKER
check "and the store error is counted" 1 "$(metric 'enrolld_store_errors_total{code="unavailable"}')"
check "other paths are 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "${M%/metrics}/other")"
finish

#!/usr/bin/env bash
# Factory provisioning end to end: a station enrolling on behalf of registered devices, and a
# factory-line scenario (import a batch, create tokens, enroll every device over EST and SCEP,
# confirm the registry's states), all operated through enrollctl and the admin API.
# Peers: curl + openssl, scepclient.
. "$(dirname "$0")/lib.sh"
D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
sed -i 's|"labels": {|"labels": {"line": {"bootstrap_trust": ["demo-manufacturer"], "allow_stations": true, "known_devices_only": true, "scep_challenge_file": "demo/scep-challenge.txt", "scep_legacy": true}, |' "$D/enrolld.json"
CA=(--cacert "$D/ca/root-ca.pem")
P10=(-H 'Content-Type: application/pkcs10')
db() { sqlite3 "$D/enrolld.db" "$1"; }

start_enrolld "$D" || exit 1
echo "# import the batch"
{
  echo "id,model,batch,product_line,state"
  for i in 1 2 3 4 5 6; do echo "LINE-00$i,Sensor-S,B-42,sensors,"; done
  echo "LINE-009,Sensor-S,B-42,sensors,blocked"
} > batch.csv
check_contains "the batch is imported" "7 new" "$(ctl registry import batch.csv 2>/dev/null)"

echo "# a station enrolls on behalf of registered devices"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout station.key -subj "/CN=Line 7 test station" \
  -days 30 -addext keyUsage=critical,digitalSignature -out station.pem 2>/dev/null
ctl stations add st7 station.pem > /dev/null
check_contains "the station is registered" "st7" "$(ctl stations list)"
ST=(--cert station.pem --key station.key)
csr_b64 d1.key /CN=LINE-001 > d1.b64
curl -s "${CA[@]}" "${ST[@]}" "${P10[@]}" --data-binary @d1.b64 "$U/line/simpleenroll" | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out d1.pem 2>/dev/null
check "the station gets LINE-001 its certificate" "subject=CN = LINE-001" "$(openssl x509 -in d1.pem -noout -subject 2>&1)"
check "the issuance records the station" "st7" "$(db "SELECT station FROM certificates WHERE device_id = 'LINE-001'")"
check_contains "and the history says so" "issued" "$(ctl registry show LINE-001)"
check "the event names the station" "station:st7" "$(db "SELECT reason FROM enrollment_events WHERE device_id = 'LINE-001'")"
csr_b64 d9.key /CN=LINE-009 > d9.b64
check "a blocked device is refused to the station" 403 \
  "$(http_status "${CA[@]}" "${ST[@]}" "${P10[@]}" --data-binary @d9.b64 "$U/line/simpleenroll")"
csr_b64 dx.key /CN=NOT-IN-REGISTRY > dx.b64
curl -s "${CA[@]}" "${ST[@]}" "${P10[@]}" --data-binary @dx.b64 "$U/line/simpleenroll" -w ' %{http_code}' > r.txt
check_contains "a device not in the registry is refused to the station" "is not in the registry 403" "$(tr -d '\n' < r.txt)"
check "on a label without stations the station certificate is no credential" 401 \
  "$(http_status "${CA[@]}" "${ST[@]}" "${P10[@]}" --data-binary @d1.b64 "$U/simpleenroll")"

echo "# the rest of the line: tokens over EST and over SCEP"
ctl tokens create --label line --device LINE-002 --device LINE-003 --device LINE-004 --batch B-42 > est-tokens.csv
ctl tokens create --label line --device LINE-005 --device LINE-006 --batch B-42 --out scep-tokens.csv 2> /dev/null
tail -n +2 est-tokens.csv | while IFS=, read -r token _ device _; do
  csr_b64 "$device.key" "/CN=$device" > "$device.b64"
  curl -s -o /dev/null "${CA[@]}" -u "$device:$token" "${P10[@]}" --data-binary @"$device.b64" "$U/line/simpleenroll"
done
HTTP_BASE=$(sed -n 's|^listening http \(http://127.0.0.1:[0-9]*/\)|\1|p' "$WORK/serve.out")
curl -s "${HTTP_BASE}scep/line?operation=GetCACert" | openssl pkcs7 -inform DER -print_certs 2>/dev/null | awk '/BEGIN/{n++} n==1' > ra.pem
FP=$(openssl x509 -in ra.pem -outform DER | sha256sum | cut -d' ' -f1)
tail -n +2 scep-tokens.csv | while IFS=, read -r token _ device _; do
  mkdir -p "scep-$device" && (cd "scep-$device" && scepclient -server-url "${HTTP_BASE}scep/line" -challenge "$token" \
    -private-key k.pem -certificate c.pem -cn "$device" -ca-fingerprint "$FP" > log.txt 2>&1)
done
check "every device of the batch but the blocked one is enrolled" 6 \
  "$(db "SELECT COUNT(*) FROM devices WHERE batch = 'B-42' AND state = 'enrolled'")"
check "the blocked one is still blocked" "blocked" "$(db "SELECT state FROM devices WHERE id = 'LINE-009'")"
check "each enrolled device has exactly one certificate" "6 6" \
  "$(db "SELECT COUNT(*), COUNT(DISTINCT device_id) FROM certificates WHERE device_id LIKE 'LINE-%'" | tr '|' ' ')"
check "over EST and over SCEP" "est 4 scep 2" \
  "$(db "SELECT protocol, COUNT(*) FROM certificates WHERE device_id LIKE 'LINE-%' GROUP BY protocol ORDER BY protocol" | tr '|\n' '  ' | sed 's/ $//')"
check "every token is used" 5 "$(ctl tokens list --label line | awk '$5 == "used"' | wc -l)"

echo "# a removed station is no credential any more"
ctl stations remove st7 > /dev/null
csr_b64 d2.key /CN=LINE-001 > d2.b64
check "after removal the station is refused" 401 \
  "$(http_status "${CA[@]}" "${ST[@]}" "${P10[@]}" --data-binary @d2.b64 "$U/line/simpleenroll")"
finish

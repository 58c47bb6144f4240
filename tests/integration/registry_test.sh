#!/usr/bin/env bash
# The device registry from a factory export: import (good, malformed, duplicates, re-import, a
# 100,000-row file), and the registry deciding enrollment on a known-devices-only label.
. "$(dirname "$0")/lib.sh"
D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
count() { sqlite3 "$D/enrolld.db" "SELECT COUNT(*) FROM devices"; }

echo "# import"
FP1=$(openssl x509 -in "$D/demo/device-0001.pem" -outform DER | sha256sum | cut -d' ' -f1)
cat > line7.csv <<CSV
id,model,batch,product_line,labels,bootstrap_fingerprint,state
DEMO-0001,Cam-X,B-7,cameras,site=berlin,$FP1,
DEMO-0002,Cam-X,B-7,cameras,site=berlin,,blocked
UNIT-0003,Cam-X,B-7,cameras,,,
CSV
check_contains "a good file is imported" "imported 3 device(s): 3 new" "$("$ENROLLD" registry "$D" import line7.csv)"
check_contains "re-importing changes nothing new" "3 already known" "$("$ENROLLD" registry "$D" import line7.csv)"
check "the registry holds each device once" 3 "$(count)"
check_contains "show prints a device" "product_line  cameras" "$("$ENROLLD" registry "$D" show DEMO-0001)"
printf 'id,model\nX-1,M\nX-2\nX-1,M\n' > bad.csv
"$ENROLLD" registry "$D" import bad.csv > out.txt 2> err.txt
check "a malformed file is refused" 1 "$?"
check_contains "with each bad row named" "row 2: has 1 fields" "$(cat err.txt)"
check_contains "duplicates named too" "row 3: device X-1 appears more than once" "$(cat err.txt)"
check "and nothing of it imported" 3 "$(count)"
printf '[{"id": "J-1", "model": "M", "labels": {"site": "x"}}]' > one.json
check_contains "JSON imports too" "1 new" "$("$ENROLLD" registry "$D" import one.json)"

echo "# the registry decides on a known-devices-only label"
sed -i 's|"labels": {|"labels": {"known": {"bootstrap_trust": ["demo-manufacturer"], "known_devices_only": true}, |' "$D/enrolld.json"
start_enrolld "$D" || exit 1
CA=(--cacert "$D/ca/root-ca.pem")
P10=(-H 'Content-Type: application/pkcs10')
csr_b64 k.key /CN=x > c.b64
check "a registered device with the expected bootstrap certificate enrolls" 200 \
  "$(http_status "${CA[@]}" --cert "$D/demo/device-0001.pem" --key "$D/demo/device-0001.key" "${P10[@]}" --data-binary @c.b64 "$U/known/simpleenroll")"
check "a device the file blocked is refused" 403 \
  "$(http_status "${CA[@]}" --cert "$D/demo/device-0002.pem" --key "$D/demo/device-0002.key" "${P10[@]}" --data-binary @c.b64 "$U/known/simpleenroll")"
check "a device not in the registry is refused" 403 \
  "$(http_status "${CA[@]}" --cert "$D/demo/device-0003.pem" --key "$D/demo/device-0003.key" "${P10[@]}" --data-binary @c.b64 "$U/known/simpleenroll")"
check_contains "the registry records the enrollment" "state         enrolled" "$("$ENROLLD" registry "$D" show DEMO-0001)"
"$ENROLLD" registry "$D" import line7.csv > /dev/null
check_contains "re-importing the export does not undo the enrollment" "state         enrolled" "$("$ENROLLD" registry "$D" show DEMO-0001)"
stop_enrolld

echo "# a 100,000-row manufacturing export"
awk 'BEGIN { print "id,model,batch,product_line,labels"; for (i = 0; i < 100000; i++) printf "SN-%06d,Cam-X,B-%d,cameras,site=plant-%d\n", i, i % 40, i % 3 }' > big.csv
START=$(date +%s.%N)
OUT=$("$ENROLLD" registry "$D" import big.csv)
END=$(date +%s.%N)
echo "  (import of 100,000 rows took $(awk "BEGIN { printf \"%.2f\", $END - $START }") s)"
check_contains "100,000 rows import" "imported 100000 device(s): 100000 new" "$OUT"
check "and all are there" 100004 "$(count)"
finish

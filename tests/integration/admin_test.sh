#!/usr/bin/env bash
# The admin API through enrollctl against a running enrolld: operator authentication and roles,
# registry import (good, malformed, duplicate rows, 100,000 rows), listing and showing devices,
# device states, tokens (create, use, list, export, revoke), stations, pending approval,
# operators, and the hash-chained audit log (verified, then tampered with three ways).
# Peers: curl + openssl as devices and as a client without an operator certificate.
. "$(dirname "$0")/lib.sh"
D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
# A label for a station (known devices only) next to the demo ones.
sed -i 's|"labels": {|"labels": {"line": {"bootstrap_trust": ["demo-manufacturer"], "allow_stations": true, "known_devices_only": true, "allow_basic": true}, |' "$D/enrolld.json"
start_enrolld "$D" || exit 1
CA=(--cacert "$D/ca/root-ca.pem")
P10=(-H 'Content-Type: application/pkcs10')
A="https://127.0.0.1:$ADMIN_PORT/api/v1"
db() { sqlite3 "$D/enrolld.db" "$1"; }

echo "# who may call"
check "the first operator is the admin" "admin (admin)" "$(ctl whoami)"
check "no client certificate: 401" 401 "$(http_status "${CA[@]}" "$A/whoami")"
check "a device certificate is no operator certificate: 401" 401 \
  "$(http_status "${CA[@]}" --cert "$D/demo/device-0001.pem" --key "$D/demo/device-0001.key" "$A/whoami")"
"$ENROLLCTL" --server "https://127.0.0.1:$ADMIN_PORT" --cacert "$D/ca/root-ca.pem" \
  --cert "$D/demo/device-0001.pem" --key "$D/demo/device-0001.key" whoami 2> err.txt
check "enrollctl exits 4 when not authenticated" 4 $?
check "unknown routes are 404" 404 \
  "$(http_status "${CA[@]}" --cert "$D/admin/admin.pem" --key "$D/admin/admin.key" "$A/nothing")"
"$ENROLLCTL" --server "https://127.0.0.1:1" --dir "$D" whoami 2> /dev/null
check "enrollctl exits 3 when enrolld cannot be reached" 3 $?
ctl frobnicate 2> /dev/null
check "enrollctl exits 2 on a usage error" 2 $?

echo "# registry import"
{
  echo "id,model,batch,product_line,labels,state"
  echo "SN-001,Cam-X,B-7,cameras,site=lyon;tier=gold,"
  echo "SN-002,Cam-X,B-7,cameras,site=oslo,"
  echo "SN-003,Cam-Y,B-8,cameras,site=lyon,blocked"
  echo "DEMO-0003,Demo,B-D,demo,,"
} > devices.csv
check "a good file is imported" "imported 4 device(s): 4 new, 0 already known" "$(ctl registry import devices.csv 2>/dev/null)"
check "importing it again changes nothing" "imported 4 device(s): 0 new, 4 already known" \
  "$(ctl registry import devices.csv 2>/dev/null)"
printf 'id,model,state\nSN-100,Cam-X,\nSN-100,Cam-X,\nSN-101,Cam-X,lost\n' > bad.csv
ctl registry import bad.csv > /dev/null 2> bad.err
check "a file with bad rows exits 6" 6 $?
check_contains "the report names the duplicate row" "row 2: device SN-100 appears more than once" "$(cat bad.err)"
check_contains "and the bad state" "row 3:" "$(cat bad.err)"
check "nothing of it was imported" 0 "$(db "SELECT COUNT(*) FROM devices WHERE id LIKE 'SN-10%'")"
printf 'not,a,registry\n1,2,3\n' > nonsense.csv
ctl registry import nonsense.csv > /dev/null 2>&1
check "a file without an id column is refused" 6 $?
echo '[{"id": "J-1", "model": "Cam-Z", "batch": "B-9", "labels": {"site": "rome"}}]' > devices.json
check "a JSON file is imported" "imported 1 device(s): 1 new, 0 already known" "$(ctl registry import devices.json 2>/dev/null)"
echo '[{"id": "J-2", "colour": "red"}]' > bad.json
ctl registry import bad.json > /dev/null 2>&1
check "a JSON file with an unknown field is refused" 6 $?
ctl registry import missing.csv > /dev/null 2>&1
check "a missing file is an error" 1 $?

echo "# a factory export of 100,000 devices"
seq -f 'F%06g' 1 100000 | awk 'BEGIN{print "id,model,batch,product_line"} {print $1",Meter-M,B-BIG,meters"}' > big.csv
start_ms=$(date +%s%3N)
check "100,000 rows are imported" "imported 100000 device(s): 100000 new, 0 already known" \
  "$(ctl registry import big.csv 2>/dev/null)"
echo "       (100,000-row import took $(( $(date +%s%3N) - start_ms )) ms)"
check "all of them are in the registry" 100000 "$(db "SELECT COUNT(*) FROM devices WHERE batch = 'B-BIG'")"
check "re-importing them adds none" "imported 100000 device(s): 0 new, 100000 already known" \
  "$(ctl registry import big.csv 2>/dev/null)"

echo "# listing and showing devices"
check "filter by batch" "SN-001 SN-002" "$(ctl registry list --batch B-7 | tail -n +2 | awk '{print $1}' | xargs)"
check "filter by model and state" "SN-003" "$(ctl registry list --model Cam-Y --state blocked | tail -n +2 | awk '{print $1}' | xargs)"
check "filter by a free-form label" "SN-001 SN-003" "$(ctl registry list --label site=lyon | tail -n +2 | awk '{print $1}' | xargs)"
check "two labels must both match" "SN-001" "$(ctl registry list --label site=lyon --label tier=gold | tail -n +2 | awk '{print $1}' | xargs)"
check "a limit is a limit" 5 "$(ctl registry list --batch B-BIG --limit 5 | tail -n +2 | wc -l)"
check "--all pages through everything" 100000 "$(ctl registry list --batch B-BIG --all 2>/dev/null | tail -n +2 | wc -l)"
check_contains "--json is JSON" '"id":"J-1"' "$(ctl registry list --batch B-9 --json)"
ctl registry list --state lost > /dev/null 2> err.txt
check "an unknown state is refused" 1 $?
check_contains "with the reason" "unknown device state lost" "$(cat err.txt)"
ctl registry show NOPE > /dev/null 2>&1
check "an unknown device exits 5" 5 $?
csr_b64 demo1.key /CN=DEMO-0001 > demo1.b64
curl -s "${CA[@]}" --cert "$D/demo/device-0001.pem" --key "$D/demo/device-0001.key" "${P10[@]}" \
  --data-binary @demo1.b64 "$U/simpleenroll" | base64 -d | openssl pkcs7 -inform DER -print_certs -out demo1.pem 2>/dev/null
SERIAL=$(openssl x509 -in demo1.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
SHOW=$(ctl registry show DEMO-0001)
check_contains "show lists the device's certificate" "$SERIAL" "$SHOW"
check_contains "and its history" "issued" "$SHOW"
check_contains "certificates show gives the certificate" "subject       CN=DEMO-0001" "$(ctl certificates show "$SERIAL")"
check "certificates show --pem is the issued certificate" "$(openssl x509 -in demo1.pem)" "$(ctl certificates show "$SERIAL" --pem | openssl x509)"

echo "# device states"
check "an operator blocks a device" "DEMO-0003 is now blocked" "$(ctl registry set-state DEMO-0003 blocked)"
csr_b64 demo3.key /CN=DEMO-0003 > demo3.b64
BOOT3=(--cert "$D/demo/device-0003.pem" --key "$D/demo/device-0003.key")
check "a blocked device cannot enroll" 403 "$(http_status "${CA[@]}" "${BOOT3[@]}" "${P10[@]}" --data-binary @demo3.b64 "$U/simpleenroll")"
ctl registry set-state DEMO-0003 expected > /dev/null
check "unblocked, it enrolls" 200 "$(http_status "${CA[@]}" "${BOOT3[@]}" "${P10[@]}" --data-binary @demo3.b64 "$U/simpleenroll")"
ctl registry set-state DEMO-0003 lost > /dev/null 2>&1
check "an unknown state is a refused request" 1 $?

echo "# tokens"
ctl tokens create --label line --device SN-001 --device SN-002 --batch B-7 --out line.csv 2> /dev/null
check "tokens are written for the station" 3 "$(wc -l < line.csv)"
check "the token file is private" 600 "$(stat -c %a line.csv)"
IFS=, read -r T1 _ DEV1 _ < <(sed -n 2p line.csv)
IFS=, read -r T2 _ _ _ < <(sed -n 3p line.csv)
csr_b64 sn1.key /CN=SN-001 > sn1.b64
check "a device enrolls with its token" 200 "$(http_status "${CA[@]}" -u "$DEV1:$T1" "${P10[@]}" --data-binary @sn1.b64 "$U/line/simpleenroll")"
check "once" 403 "$(http_status "${CA[@]}" -u "$DEV1:$T1" "${P10[@]}" --data-binary @sn1.b64 "$U/line/simpleenroll")"
check "the listing shows it used" "used unused" "$(ctl tokens list --label line | tail -n +2 | awk '{print $5}' | sort -r | xargs)"
check "an operator revokes the other" "token revoked" "$(ctl tokens revoke "$T2")"
csr_b64 sn2.key /CN=SN-002 > sn2.b64
check "a revoked token is refused" 403 "$(http_status "${CA[@]}" -u "SN-002:$T2" "${P10[@]}" --data-binary @sn2.b64 "$U/line/simpleenroll")"
ctl tokens export --label line --out export.csv
check "the export has a row per token, no secrets" "0" "$(grep -c edt_ export.csv)"
check_contains "and their states" ",revoked," "$(cat export.csv)"
ctl tokens create --label nosuch --count 1 > /dev/null 2>&1
check "tokens for an unknown label exit 5" 5 $?
ctl tokens create --count 0 > /dev/null 2>&1
check "tokens for nothing are refused" 1 $?

echo "# stations"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout st.key -subj "/CN=Line 3 station" \
  -days 30 -addext keyUsage=critical,digitalSignature -out st.pem 2>/dev/null
ctl stations add st3 st.pem > /dev/null 2>&1
check "the admin adds a station" 0 $?
check_contains "it is listed" "st3" "$(ctl stations list)"
csr_b64 sn2b.key /CN=SN-002 > sn2b.b64
check "the station enrolls a registered device" 200 \
  "$(http_status "${CA[@]}" --cert st.pem --key st.key "${P10[@]}" --data-binary @sn2b.b64 "$U/line/simpleenroll")"
ctl stations add st3b st.pem > /dev/null 2>&1
check "the same certificate twice is a conflict" 1 $?
ctl stations remove st3 > /dev/null
check "a removed station is no credential" 401 \
  "$(http_status "${CA[@]}" --cert st.pem --key st.key "${P10[@]}" --data-binary @sn2b.b64 "$U/line/simpleenroll")"

echo "# pending approval"
csr_b64 held.key /CN=DEMO-0002 > held.b64
BOOT2=(--cert "$D/demo/device-0002.pem" --key "$D/demo/device-0002.key")
check "a request on the approval label is held" 202 "$(http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @held.b64 "$U/approval/simpleenroll")"
PID=$(ctl pending list | awk '$2 == "pending" {print $1}')
check_contains "the operator sees it" "approval/" "$PID"
check_contains "and approves it" "approved" "$(ctl pending approve "$PID")"
check "the device then gets its certificate" 200 "$(http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @held.b64 "$U/approval/simpleenroll")"

echo "# operators and roles"
ctl operators add alice --role viewer --out alice > /dev/null
ctl operators add bob --role operator --out bob > /dev/null
check "the new key is private" 600 "$(stat -c %a alice.key)"
ALICE=("$ENROLLCTL" --server "https://127.0.0.1:$ADMIN_PORT" --cacert "$D/ca/root-ca.pem" --cert alice.pem --key alice.key)
BOB=("$ENROLLCTL" --server "https://127.0.0.1:$ADMIN_PORT" --cacert "$D/ca/root-ca.pem" --cert bob.pem --key bob.key)
check "a viewer reads" "SN-001 SN-002" "$("${ALICE[@]}" registry list --batch B-7 | tail -n +2 | awk '{print $1}' | xargs)"
"${ALICE[@]}" tokens create --count 1 > /dev/null 2> err.txt
check "a viewer may not make tokens (exit 4)" 4 $?
check_contains "and is told why" "role viewer may not tokens.create" "$(cat err.txt)"
check "an operator may" 2 "$("${BOB[@]}" tokens create --count 1 | wc -l)"
"${BOB[@]}" stations add st9 st.pem > /dev/null 2>&1
check "an operator may not add stations" 4 $?
"${BOB[@]}" operators list > /dev/null 2>&1
check "nor list operators" 4 $?
ctl operators add alice --role admin --out alice2 > /dev/null 2>&1
check "operator names are unique" 1 $?
ctl operators remove alice > /dev/null
"${ALICE[@]}" whoami > /dev/null 2>&1
check "a removed operator is locked out" 4 $?
"$ENROLLD" operators "$D" add rescue --role admin --out rescue > /dev/null
check "an operator added offline (recovery) is let in" "rescue (admin)" \
  "$("$ENROLLCTL" --server "https://127.0.0.1:$ADMIN_PORT" --cacert "$D/ca/root-ca.pem" --cert rescue.pem --key rescue.key whoami)"

echo "# the audit log"
ctl audit verify --state audit.state > verify.txt
check "the chain verifies" 0 $?
check_contains "over every entry" "audit log verified" "$(cat verify.txt)"
LOG=$(ctl audit list --limit 10000)
check "offline changes are audited too, by the local user" "offline.operators.add rescue ok" \
  "$(echo "$LOG" | awk '$3 ~ /^local:/ && $4 == "offline.operators.add" {print $4, $5, $6}')"
check "admin calls are in it, by operator" ok \
  "$(echo "$LOG" | awk '$3 == "operator:bob" && $4 == "admin.tokens.create" {print $NF}')"
check "refused calls too" permission_denied \
  "$(echo "$LOG" | awk '$3 == "operator:alice" && $4 == "admin.tokens.create" {print $NF}')"
check_contains "and enrollments" "device:DEMO-0001" "$LOG"
check_contains "and refusals of devices" "device:DEMO-0003" "$LOG"
check_contains "and callers without an operator certificate" "admin.authenticate" "$LOG"
N=$(db "SELECT MAX(seq) FROM audit_log")
db "UPDATE audit_log SET outcome = 'ok' WHERE seq = 5"
ctl audit verify > verify.txt
check "a modified entry is detected (exit 7)" 7 $?
check_contains "and named" "entry 5 was modified" "$(cat verify.txt)"
db "DELETE FROM audit_log WHERE seq = 5"
ctl audit verify > verify.txt
check "a deleted entry is detected" 7 $?
check_contains "and named" "entry 5 is missing" "$(cat verify.txt)"
db "DELETE FROM audit_log WHERE seq < 5"  # now the chain starts late
ctl audit verify > /dev/null
check "a log with its start removed is detected" 7 $?

echo "# a truncated tail is detected against the last verified state"
# Start over on a fresh folder: verify, append, remove the newest entries.
stop_enrolld
D2=$WORK/ca2
init_dir "$D2" --demo || exit 1
start_enrolld "$D2" || exit 1
ctl whoami > /dev/null
ctl whoami > /dev/null
ctl audit verify --state tail.state > /dev/null
check "the fresh log verifies" 0 $?
sqlite3 "$D2/enrolld.db" "DELETE FROM audit_log WHERE seq >= (SELECT MAX(seq) - 1 FROM audit_log)"
ctl audit verify --state tail.state > verify.txt
check "removed newest entries are detected with --state" 7 $?
check_contains "and explained" "entries were deleted" "$(cat verify.txt)"

echo "# nothing crashed"
check "enrolld is still serving" 0 "$(kill -0 "$SERVER_PID"; echo $?)"
finish

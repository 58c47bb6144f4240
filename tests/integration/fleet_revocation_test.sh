#!/usr/bin/env bash
# Fleet lifecycle through enrollctl and the admin API: certificate listing with filters, bulk
# revocation as a job (dry run, reasons, hold and release, blocking devices, idempotent repeat,
# roles), seen at once by OCSP and the CRL (openssl ocsp, openssl crl as peers), refused renewal,
# the audit entry of each job, and the revocation metrics.
. "$(dirname "$0")/lib.sh"
D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
start_enrolld "$D" || exit 1
CA=(--cacert "$D/ca/root-ca.pem")
P10=(-H 'Content-Type: application/pkcs10')
ROOT=$D/ca/root-ca.pem
ISSUING=$D/ca/issuing-ca.pem
ocsp() { openssl ocsp -issuer "$ISSUING" -cert "$1" -url "$HTTP_URL/ocsp" -CAfile "$ROOT" 2>&1; }
db() { sqlite3 "$D/enrolld.db" "$1"; }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'; }

printf 'id,model,batch,product_line,labels\nDEMO-0001,Cam-X,B1,cams,site=north\nDEMO-0002,Cam-X,B1,cams,site=south\nDEMO-0003,Cam-Y,B2,cams,site=south\n' > fleet.csv
ctl registry import fleet.csv > /dev/null 2>&1
for i in 1 2 3; do
  csr_b64 "op$i.key" "/CN=DEMO-000$i" > "op$i.b64"
  curl -s "${CA[@]}" --cert "$D/demo/device-000$i.pem" --key "$D/demo/device-000$i.key" "${P10[@]}" \
    --data-binary @"op$i.b64" "$U/simpleenroll" | base64 -d | openssl pkcs7 -inform DER -print_certs -out "op$i.pem" 2>/dev/null
done
S1=$(serial_of op1.pem); S2=$(serial_of op2.pem); S3=$(serial_of op3.pem)

echo "# listing certificates"
check "every certificate is listed" 3 "$(ctl certificates list | tail -n +2 | wc -l)"
check "filter by batch (a registry field)" "$(printf '%s\n' "$S1" "$S2" | sort | xargs)" \
  "$(ctl certificates list --batch B1 | tail -n +2 | awk '{print $1}' | sort | xargs)"
check "filter by device label" "$(printf '%s\n' "$S2" "$S3" | sort | xargs)" \
  "$(ctl certificates list --device-label site=south | tail -n +2 | awk '{print $1}' | sort | xargs)"
check "expiring within 400 days: all" 3 "$(ctl certificates list --expiring-within 400 | tail -n +2 | wc -l)"
check "expiring within 30 days: none" 0 "$(ctl certificates list --expiring-within 30 | tail -n +2 | wc -l)"
check "issued before 2020: none" 0 "$(ctl certificates list --issued-to 2020-01-01 | tail -n +2 | wc -l)"
check_contains "--count counts" "2 certificate(s) match" "$(ctl certificates list --model Cam-X --count)"
check_contains "--json lists as JSON" "\"serial\":\"$S3\"" "$(ctl certificates list --model Cam-Y --json)"
ctl certificates list --status lost > /dev/null 2>&1
check "a bad filter is refused" 2 $?

echo "# dry run"
OUT=$(ctl revoke --batch B1 --dry-run)
check_contains "the dry run counts" "dry run: 2 certificate(s) match" "$OUT"
check_contains "and shows a sample" "$S1" "$OUT"
check "and changes nothing" "good good good" "$(db "SELECT status FROM certificates ORDER BY serial" | xargs)"

echo "# revoke a batch"
OUT=$(ctl revoke --batch B1 --reason keyCompromise 2> progress.txt)
check_contains "the job reports what it did" "2 matched, 2 changed (revoke, keyCompromise)" "$OUT"
check_contains "with progress on stderr" "done: 2/2 (100%)" "$(cat progress.txt)"
check_contains "OCSP says revoked at once" "Reason: keyCompromise" "$(ocsp op1.pem)"
check_contains "the other batch is still good" "op3.pem: good" "$(ocsp op3.pem)"
for _ in $(seq 1 30); do
  curl -s "$HTTP_URL/crl/issuing.crl" | openssl crl -inform DER -noout -text > crl.txt 2>/dev/null
  grep -qi "$S2" crl.txt && break
  sleep 0.1
done
check_contains "the CRL lists the batch within a few seconds" "$(echo "$S2" | tr 'a-f' 'A-F')" "$(tr 'a-f' 'A-F' < crl.txt)"
check_contains "again: nothing more to change" "2 matched, 0 changed" "$(ctl revoke --batch B1 --reason keyCompromise 2>/dev/null)"
csr_b64 re1.key /CN=DEMO-0001 > re1.b64
check "a revoked certificate cannot renew" 403 \
  "$(http_status "${CA[@]}" --cert op1.pem --key op1.key "${P10[@]}" --data-binary @re1.b64 "$U/simplereenroll")"

echo "# hold and release"
check_contains "hold one certificate" "1 changed (hold)" "$(ctl revoke "$S3" --hold 2>/dev/null)"
check_contains "OCSP says on hold" "Reason: certificateHold" "$(ocsp op3.pem)"
check_contains "release it" "1 changed (release)" "$(ctl revoke --serial "$S3" --release 2>/dev/null)"
check_contains "OCSP says good again" "op3.pem: good" "$(ocsp op3.pem)"

echo "# block the devices too"
check_contains "revoking with --block-devices blocks them" "1 device(s) blocked" \
  "$(ctl revoke --device DEMO-0003 --reason cessationOfOperation --block-devices 2>/dev/null)"
check "the registry shows the device blocked" blocked "$(db "SELECT state FROM devices WHERE id = 'DEMO-0003'")"
csr_b64 again3.key /CN=DEMO-0003 > again3.b64
check "its bootstrap certificate cannot enroll again" 403 \
  "$(http_status "${CA[@]}" --cert "$D/demo/device-0003.pem" --key "$D/demo/device-0003.key" "${P10[@]}" --data-binary @again3.b64 "$U/simpleenroll")"

echo "# refusals"
ctl revoke --reason keyCompromise > /dev/null 2>&1
check "no selector: usage error" 2 $?
ctl revoke --batch B2 --reason notAReason > /dev/null 2> err.txt
check "a bad reason is refused" 1 $?
check_contains "and named" "notAReason" "$(cat err.txt)"
ctl jobs show 999 > /dev/null 2>&1
check "an unknown job exits 5" 5 $?
ctl operators add vera --role viewer --out vera > /dev/null
BEFORE=$(db "SELECT status FROM certificates ORDER BY serial" | xargs)
"$ENROLLCTL" --server "https://127.0.0.1:$ADMIN_PORT" --cacert "$ROOT" --cert vera.pem --key vera.key \
  revoke --batch B2 > /dev/null 2>&1
check "a viewer may not revoke" 4 $?
check "and changed nothing" "$BEFORE" "$(db "SELECT status FROM certificates ORDER BY serial" | xargs)"

echo "# the job, the audit log and the metrics"
check_contains "a finished job can be looked at" "job 1 done" "$(ctl jobs show 1 2>&1)"
AUDIT=$(ctl audit list --limit 10000)
check "each job left an audit entry" 5 "$(echo "$AUDIT" | awk '$3 == "operator:admin" && $4 ~ /^revocation\./' | wc -l)"
check_contains "with the selector and counts" '\"batch\":\"B1\"},\"action\":\"revoke\",\"reason\":\"keyCompromise\",\"block_devices\":false,\"matched\":2,\"changed\":2' "$(ctl audit list --limit 10000 --json)"
check "and the chain verifies" 0 "$(ctl audit verify > /dev/null; echo $?)"
M=$(curl -s "$METRICS")
check_contains "metrics count the revocations" 'enrolld_revocations_total{action="revoke",reason="keyCompromise"} 2' "$M"
check_contains "and holds" 'enrolld_revocations_total{action="hold",reason="unspecified"} 1' "$M"
check_contains "and give the CRL's size" 'enrolld_crl_size_bytes{ca="issuing",kind="full"}' "$M"
check_contains "and age" 'enrolld_crl_age_seconds{ca="issuing",kind="full"}' "$M"
finish

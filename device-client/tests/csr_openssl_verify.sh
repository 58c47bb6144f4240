#!/bin/sh
# CTest: a CSR written by our library (via `enroll-device csr`) must verify with openssl, and
# its signatureAlgorithm must be ecdsa-with-SHA256 with no parameters (RFC 5758 3.2).
# usage: csr_openssl_verify.sh ENROLL_DEVICE OPENSSL WORKDIR
set -eu
tool=$1 openssl=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
"$tool" csr --state "$dir/state" --cn dev-42 --serial SN-42 --org "Acme Ltd" --challenge 'c+h/a=' --out csr.der
"$openssl" req -inform DER -in csr.der -noout -verify 2>&1 | tee verify.txt
grep -q "self-signature ok\|verify OK" verify.txt
"$openssl" req -inform DER -in csr.der -noout -subject | tee subject.txt
grep -q "O = Acme Ltd, CN = dev-42, serialNumber = SN-42" subject.txt
"$openssl" req -inform DER -in csr.der -noout -text | grep -q "challengePassword *:c+h/a="
# The outer signatureAlgorithm: a SEQUENCE of exactly 10 bytes (the OID, no NULL).
"$openssl" asn1parse -inform DER -in csr.der > asn1.txt
tail -n 3 asn1.txt | tee tail.txt
grep -q "d=1  hl=2 l=  10 cons: SEQUENCE" tail.txt
! tail -n 2 asn1.txt | grep -q "NULL"
echo "CSR OK"

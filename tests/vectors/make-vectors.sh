#!/usr/bin/env bash
# Makes the test vectors in this folder with the openssl CLI (an independent implementation),
# so that a bug of ours is not copied into an expectation. Run from this folder; the outputs are
# committed, and this script is the record of the command behind each.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# A P-256 CSR with a subject serialNumber and two SANs.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k1" \
  -subj "/CN=vector-device/serialNumber=V-0001" -addext "subjectAltName=DNS:dev.example,URI:urn:dev:serial:V-0001" \
  -outform DER -out p256-csr.der
# The same kind of CSR with a challengePassword attribute.
printf '[req]\ndistinguished_name=dn\nattributes=at\nprompt=no\n[dn]\nCN=vector-device\n[at]\nchallengePassword=s3cret-challenge\n' > "$tmp/cp.cnf"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k2" -config "$tmp/cp.cnf" \
  -outform DER -out challenge-csr.der
# Weak requests: RSA-1024, and a SHA-1 signature.
openssl req -new -newkey rsa:1024 -nodes -keyout "$tmp/k3" -subj "/CN=weak" -outform DER -out rsa1024-csr.der
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k4" -subj "/CN=sha1" -sha1 \
  -outform DER -out sha1-csr.der
# An Ed25519 CSR.
openssl req -new -newkey ed25519 -nodes -keyout "$tmp/k5" -subj "/CN=ed" -outform DER -out ed25519-csr.der

# A manufacturer CA and a bootstrap certificate whose device id is in a HardwareModuleName
# otherName SAN (RFC 4108 5), hwSerialNum "HW-0042".
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout maker-ca.key -subj "/CN=Vector Maker CA" \
  -days 7300 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out maker-ca.pem
cat > "$tmp/hmn.cnf" <<CNF
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = otherName:1.3.6.1.5.5.7.8.4;SEQUENCE:hmn
[hmn]
hwType = OID:1.3.6.1.4.1.99999.1
hwSerialNum = OCTETSTRING:HW-0042
CNF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout hmn-device.key -subj "/CN=module" -out "$tmp/hmn.csr"
openssl x509 -req -in "$tmp/hmn.csr" -CA maker-ca.pem -CAkey maker-ca.key -days 7000 -extfile "$tmp/hmn.cnf" -extensions ext \
  -out hmn-device.pem
# A bootstrap certificate with the device id in the subject serialNumber.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout sn-device.key -subj "/CN=SN-0007/serialNumber=SN-0007" -out "$tmp/sn.csr"
openssl x509 -req -in "$tmp/sn.csr" -CA maker-ca.pem -CAkey maker-ca.key -days 7000 -out sn-device.pem \
  -extfile <(printf 'keyUsage=critical,digitalSignature\n')
# A bootstrap certificate whose key usage forbids signatures.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ku-device.key -subj "/CN=KU-1/serialNumber=KU-1" -out "$tmp/ku.csr"
openssl x509 -req -in "$tmp/ku.csr" -CA maker-ca.pem -CAkey maker-ca.key -days 7000 -out ku-device.pem \
  -extfile <(printf 'keyUsage=critical,keyEncipherment\n')
# A certs-only PKCS#7 holding the CA and the device certificate.
openssl crl2pkcs7 -nocrl -certfile maker-ca.pem -certfile sn-device.pem -outform DER -out certs-only.p7

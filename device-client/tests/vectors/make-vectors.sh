#!/bin/sh
# Regenerates every test vector in this folder with the openssl CLI (an independent
# implementation), so that a bug of ours is not copied into the expectation.
# Run from this folder: ./make-vectors.sh   (OpenSSL 3.0 on Debian 12)
# The commands below are exactly the ones that made the committed files.
set -eu
cd "$(dirname "$0")"
days=7300

# Root CA and an issuing CA, P-256.
openssl ecparam -name prime256v1 -genkey -noout -out root.key
openssl req -x509 -new -key root.key -sha256 -days $days -subj "/O=edc test/CN=edc test root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out root.pem
openssl ecparam -name prime256v1 -genkey -noout -out issuing.key
openssl req -new -key issuing.key -subj "/O=edc test/CN=edc test issuing" -out issuing.csr
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > ca.ext
openssl x509 -req -in issuing.csr -CA root.pem -CAkey root.key -set_serial 2 -days $days \
  -sha256 -extfile ca.ext -out issuing.pem

# The device key (fixed, so tests can compare our public key encoding with openssl's).
openssl ecparam -name prime256v1 -genkey -noout -out device.key
openssl pkey -in device.key -outform DER -out device.key.der
openssl pkey -in device.key -pubout -outform DER -out device.pub.der
# A device certificate for that key, issued by the issuing CA.
openssl req -new -key device.key -subj "/CN=DEMO-0001/serialNumber=DEMO-0001" -out device.csr
openssl x509 -req -in device.csr -CA issuing.pem -CAkey issuing.key -set_serial 4096 \
  -days 365 -sha256 -out device.pem
openssl x509 -in device.pem -outform DER -out device.der
openssl x509 -in root.pem -outform DER -out root.der
# openssl's own CSR, to compare the signatureAlgorithm encoding (RFC 5758: no parameters).
openssl req -new -key device.key -subj "/CN=DEMO-0001" -outform DER -out openssl-csr.der

# Certs-only PKCS#7 (what /cacerts and /simpleenroll return), DER and base64.
openssl crl2pkcs7 -nocrl -certfile device.pem -certfile issuing.pem -certfile root.pem \
  -outform DER -out chain3.p7b
openssl crl2pkcs7 -nocrl -certfile device.pem -outform DER -out single.p7b
openssl crl2pkcs7 -nocrl -certfile root.pem -outform DER -out cacerts.p7b
openssl base64 -in chain3.p7b -out chain3.p7b.b64          # 64-column lines
openssl base64 -A -in chain3.p7b -out chain3.p7b.b64line   # one line, no newline
# SHA-256 fingerprint of the root (what `enroll-device --ca-fingerprint` takes).
openssl x509 -in root.pem -outform DER | openssl dgst -sha256 -binary > root.sha256

rm -f issuing.csr device.csr ca.ext

# A TLS server certificate (P-256) for the in-memory EST peer of the hw-tests.
openssl ecparam -name prime256v1 -genkey -noout -out server.key
openssl pkey -in server.key -outform DER -out server.key.der
openssl req -new -key server.key -subj "/CN=est.test" -out server.csr
printf 'subjectAltName=DNS:est.test,IP:127.0.0.1\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA root.pem -CAkey root.key -set_serial 3 -days $days \
  -sha256 -extfile server.ext -outform DER -out server.der
rm -f server.csr server.ext
# DER copies for the Cortex-M images (no PEM parser there).
openssl pkey -in root.key -outform DER -out root.key.der

# CoAP requests as libcoap's coap-client (Debian libcoap3-bin 4.3.1) puts them on the wire,
# for the CoAP codec: a GET of /est/crts and the first Block1 block of a CSR upload.
openssl req -new -key device.key -subj "/CN=DEMO-0001" -outform DER -out coap-csr.der
./capture_coap.py coap-get-crts.bin -- coap-client-openssl -m get -A 281 -B 1 "coap://127.0.0.1:PORT/est/crts"
./capture_coap.py coap-post-sen-block0.bin -- coap-client-openssl -m post -t 286 -A 281 -b 64 \
  -f coap-csr.der -B 1 "coap://127.0.0.1:PORT/est/sen"

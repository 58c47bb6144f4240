#!/bin/sh
# Interop: enroll-device's EST-coaps transport against libcoap's coap-server (OpenSSL DTLS,
# Debian libcoap3-bin). The server is no EST server, so only /cacerts is checked: a resource
# /est/crts holding our openssl-made certs-only PKCS#7 is created with coap-client, then
# `enroll-device enroll --coaps` must complete the DTLS handshake (with libcoap's cookies), fetch
# it in 64-byte Block2 blocks, accept it through the pinned fingerprint, verify the DTLS server
# certificate against it and store it. (The following /est/sen is not served: exit code 1.)
# usage: coaps_libcoap_interop.sh ENROLL_DEVICE COAP_SERVER COAP_CLIENT VECTORS WORKDIR
set -eu
tool=$1 server=$2 client=$3 vec=$4 dir=$5
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
openssl x509 -inform DER -in "$vec/server.der" -out server.pem
# a free UDP port pair (coap-server uses port and port+1 for DTLS)
port=$(python3 -c 'import socket,random
for _ in range(50):
    p=random.randrange(20000,60000,2)
    try:
        a=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);a.bind(("127.0.0.1",p))
        b=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);b.bind(("127.0.0.1",p+1))
        print(p);break
    except OSError: pass')
"$server" -A 127.0.0.1 -p "$port" -c server.pem -j "$vec/server.key" -d 10 > server.log 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null || true' EXIT INT TERM
sleep 0.5
"$client" -m put -t 281 -f "$vec/cacerts.p7b" -B 5 "coap://127.0.0.1:$port/est/crts"
fp=$(od -An -tx1 -v "$vec/root.sha256" | tr -d ' \n')
set +e
"$tool" enroll --coaps --coap-block 64 --server "127.0.0.1:$((port + 1))" --ca-fingerprint "$fp" \
  --bootstrap-cert "$vec/device.pem" --bootstrap-key "$vec/device.key" --state st --timeout-ms 5000
set -e
cmp st/ca-certs.der "$vec/root.der"
echo "COAPS INTEROP OK"

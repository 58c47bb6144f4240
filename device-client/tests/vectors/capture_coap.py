#!/usr/bin/env python3
"""Capture the first datagram coap-client sends (used by make-vectors.sh).

usage: capture_coap.py OUT.bin -- coap-client-openssl ARGS... (with PORT in the URI)
Listens on 127.0.0.1:<free port>, replaces the literal PORT in the arguments, runs the
client, stores its first request datagram and answers nothing (the client times out)."""
import socket, subprocess, sys

out = sys.argv[1]
cmd = sys.argv[sys.argv.index('--') + 1:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
port = s.getsockname()[1]
p = subprocess.Popen([a.replace('PORT', str(port)) for a in cmd],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
s.settimeout(10)
data, _ = s.recvfrom(4096)
open(out, 'wb').write(data)
p.kill()
p.wait()

#!/usr/bin/python3
"""Host side of the live hw test: relays the emulated Cortex-M's UART0 to TCP.

Listens on a loopback port, starts QEMU with its first serial port connected to it
(-serial tcp:127.0.0.1:PORT), and serves the device's frames (see main_live.c):
  'C' port:2           -> 'c' status:1       connect to 127.0.0.1:port
  'S' len:2 data                              send
  'R' max:2 timeout:4  -> 'r' len:2 data      receive (len 0 EOF, 0xFFFF timeout, 0xFFFE error)
  'X'                                         close
Exits with QEMU's exit code (124 if it ran past --timeout). QEMU's output goes to --log.

usage: uart_relay.py --log FILE [--timeout S] -- qemu-system-arm ARGS...
"""
import argparse
import socket
import struct
import subprocess
import sys
import time


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--timeout", type=float, default=170)
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    qemu = a.qemu[1:] if a.qemu[:1] == ["--"] else a.qemu
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    log = open(a.log, "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen(qemu + ["-serial", "tcp:127.0.0.1:%d" % port],
                            stdout=log, stderr=subprocess.STDOUT)
    lsock.settimeout(30)
    uart, _ = lsock.accept()
    uart.settimeout(a.timeout)
    tcp = None
    frames = {"C": 0, "S": 0, "R": 0, "X": 0}
    bytes_up = bytes_down = 0
    try:
        while time.monotonic() - t0 < a.timeout:
            op = read_exact(uart, 1).decode("latin-1")
            frames[op] = frames.get(op, 0) + 1
            if op == "C":
                (p,) = struct.unpack(">H", read_exact(uart, 2))
                try:
                    tcp = socket.create_connection(("127.0.0.1", p), timeout=10)
                    uart.sendall(b"c\x00")
                except OSError:
                    tcp = None
                    uart.sendall(b"c\x01")
            elif op == "S":
                (n,) = struct.unpack(">H", read_exact(uart, 2))
                data = read_exact(uart, n)
                bytes_up += n
                if tcp is not None:
                    try:
                        tcp.sendall(data)
                    except OSError:
                        pass  # the next receive reports the error
            elif op == "R":
                n, t = struct.unpack(">HI", read_exact(uart, 6))
                if tcp is None:
                    uart.sendall(b"r\xff\xfe")
                    continue
                tcp.settimeout(max(t, 1) / 1000.0)
                try:
                    data = tcp.recv(n)
                    bytes_down += len(data)
                    uart.sendall(b"r" + struct.pack(">H", len(data)) + data)
                except socket.timeout:
                    uart.sendall(b"r\xff\xff")
                except OSError:
                    uart.sendall(b"r\xff\xfe")
            elif op == "X":
                if tcp is not None:
                    tcp.close()
                tcp = None
            else:
                print("relay: unknown frame %r" % op, file=sys.stderr)
                break
    except (EOFError, ConnectionError, socket.timeout):
        pass  # QEMU exited (or the device went silent)
    try:
        rc = proc.wait(timeout=max(1, a.timeout - (time.monotonic() - t0)))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = 124
    print("relay: %.1f s, frames %s, %d bytes up, %d bytes down, QEMU exit %d"
          % (time.monotonic() - t0, frames, bytes_up, bytes_down, rc))
    return rc


if __name__ == "__main__":
    sys.exit(main())

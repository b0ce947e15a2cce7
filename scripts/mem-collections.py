#!/usr/bin/env python3
"""Resident memory per element of hashes, sets and lists: corecache against
redis-server, both started here on free ports, loaded over RESP with
pipelined writes, RSS read from /proc before and after.

    cargo build --release && scripts/mem-collections.py [KEYS] [ELEMENTS]

Prints, per type and server, the RSS growth in bytes per element, and the
store's own count (INFO used_memory growth) for comparison, after a
warm-up load whose one-time growth would otherwise land on the first type.
"""
import os
import socket
import subprocess
import sys
import time

KEYS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ELEMENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 50


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


class Conn:
    def __init__(self, port):
        for _ in range(100):
            try:
                self.sock = socket.create_connection(("127.0.0.1", port))
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"no server on {port}")

    def pipeline(self, commands):
        self.sock.sendall(b"".join(commands))
        replies, buffer = 0, b""
        while replies < len(commands):
            buffer += self.sock.recv(1 << 20)
            lines = buffer.split(b"\r\n")
            buffer = lines.pop()
            replies += sum(1 for line in lines if line[:1] in (b":", b"+", b"-"))

    def info_used_memory(self):
        self.sock.sendall(command("INFO", "memory"))
        time.sleep(0.2)
        text = self.sock.recv(1 << 20).decode(errors="replace")
        for line in text.split("\r\n"):
            if line.startswith("used_memory:"):
                return int(line.split(":")[1])
        return 0


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def load(conn, kind, prefix):
    for k in range(KEYS):
        key = f"{prefix}{k}"
        if kind == "hash":
            args = []
            for e in range(ELEMENTS):
                args += [f"field{e}", f"value{e:04d}"]
            conn.pipeline([command("HSET", key, *args)])
        elif kind == "set":
            conn.pipeline([command("SADD", key, *[f"member{e}" for e in range(ELEMENTS)])])
        else:
            conn.pipeline([command("RPUSH", key, *[f"element{e:04d}" for e in range(ELEMENTS)])])


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    servers = []
    port = free_port()
    servers.append(("corecache", port, subprocess.Popen(
        [os.path.join(root, "target/release/corecache"), "--threads", "1",
         "--memcache-port", "0", "--resp-port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    port = free_port()
    servers.append(("redis", port, subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    try:
        # A first load grows each server by several MB once (buffers,
        # allocator arenas): absorb that before measuring.
        for _, port, _ in servers:
            load(Conn(port), "hash", "warmup")
        for kind in ["hash", "set", "list"]:
            for name, port, proc in servers:
                conn = Conn(port)
                before, used_before = rss(proc.pid), conn.info_used_memory()
                load(conn, kind, kind)
                time.sleep(0.3)
                after, used_after = rss(proc.pid), conn.info_used_memory()
                n = KEYS * ELEMENTS
                print(f"{kind:5} {name:9}: RSS {(after - before) / n:6.1f} B/element, "
                      f"used_memory {(used_after - used_before) / n:6.1f} B/element "
                      f"({KEYS} keys x {ELEMENTS})")
    finally:
        for _, _, proc in servers:
            proc.kill()


main()

#!/usr/bin/env python3
"""Loads keys into a memcached-protocol or RESP server over one pipelined
TCP connection and waits until the server has applied them all; prints
nothing. Standard library only. Used by bytes-per-item.sh and
memory-limit.sh.

  memload.py memcache PORT COUNT VALUE_SIZE [FIRST]     fixed-size values
  memload.py resp PORT COUNT VALUE_SIZE [FIRST]
  memload.py memcache PORT COUNT mixed [FIRST] [SEED]    10 B to 1 MiB,
                                                         log-uniform sizes

Keys are 16 bytes: "key:" and a 12-digit number from FIRST (default 0).
memcached sets use `noreply`, then `mn` (meta no-op) waits for the last;
RESP sets are pipelined, their replies read as they come.
"""

import random
import socket
import sys

BATCH = 2000


def key(i):
    return b"key:%012d" % i


def sizes(count, value_size, seed):
    if value_size != "mixed":
        size = int(value_size)
        return [size] * count
    rng = random.Random(seed)
    # Log-uniform between 10 bytes and 1 MiB (memcached's item size limit
    # is 1 MiB with its header, so stay a little under it).
    return [int(10 * (((1 << 20) - 512) / 10) ** rng.random()) for _ in range(count)]


def memcache(port, count, value_size, first, seed):
    conn = socket.create_connection(("127.0.0.1", port))
    all_sizes = sizes(count, value_size, seed)
    filler = b"v" * (1 << 20)
    for start in range(0, count, BATCH):
        parts = []
        for i in range(start, min(count, start + BATCH)):
            size = all_sizes[i]
            parts.append(b"set %s 0 0 %d noreply\r\n" % (key(first + i), size))
            parts.append(filler[:size])
            parts.append(b"\r\n")
        conn.sendall(b"".join(parts))
    conn.sendall(b"mn\r\n")
    reply = b""
    while not reply.endswith(b"MN\r\n"):
        chunk = conn.recv(65536)
        if not chunk:
            sys.exit("connection closed: %r" % reply[-200:])
        reply += chunk
        if b"ERROR" in reply:
            sys.exit("server error: %r" % reply[:200])
    conn.close()


def resp(port, count, value_size, first, seed):
    conn = socket.create_connection(("127.0.0.1", port))
    all_sizes = sizes(count, value_size, seed)
    filler = b"v" * (1 << 20)
    pending = 0
    buffered = b""
    for start in range(0, count, BATCH):
        parts = []
        end = min(count, start + BATCH)
        for i in range(start, end):
            size = all_sizes[i]
            k = key(first + i)
            parts.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(k), k, size))
            parts.append(filler[:size])
            parts.append(b"\r\n")
        conn.sendall(b"".join(parts))
        pending += end - start
        # Read replies (+OK\r\n each) so neither side's buffers fill up.
        while pending > BATCH:
            buffered += conn.recv(65536)
            if buffered.startswith(b"-"):
                sys.exit("server error: %r" % buffered[:200])
            pending -= buffered.count(b"\r\n")
            buffered = buffered[buffered.rfind(b"\r\n") + 2:] if b"\r\n" in buffered else buffered
    while pending > 0:
        chunk = conn.recv(65536)
        if not chunk:
            sys.exit("connection closed")
        buffered += chunk
        pending -= buffered.count(b"\r\n")
        buffered = buffered[buffered.rfind(b"\r\n") + 2:] if b"\r\n" in buffered else buffered
    conn.close()


def main():
    protocol, port, count, value_size = sys.argv[1:5]
    first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    load = {"memcache": memcache, "resp": resp}[protocol]
    load(int(port), int(count), value_size, first, seed)


if __name__ == "__main__":
    main()

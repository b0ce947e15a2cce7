#!/usr/bin/env python3
"""How many items a server holds: `held-items.py memcache|resp PORT`
(memcached's `stats` curr_items, or Redis's DBSIZE) on 127.0.0.1."""

import socket
import sys


def main():
    protocol, port = sys.argv[1], int(sys.argv[2])
    conn = socket.create_connection(("127.0.0.1", port))
    if protocol == "resp":
        conn.sendall(b"DBSIZE\r\n")
        print(conn.recv(64).decode().strip(":\r\n"))
        return
    conn.sendall(b"stats\r\n")
    data = b""
    while not data.endswith(b"END\r\n"):
        data += conn.recv(65536)
    for line in data.decode().splitlines():
        if line.startswith("STAT curr_items "):
            print(line.split()[2])


if __name__ == "__main__":
    main()

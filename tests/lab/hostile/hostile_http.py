#!/usr/bin/env python3
"""Hostile web servers of the certdoctor lab (hang.services.net, slow.services.net).

--hang ADDRESS   accepts TCP connections, reads whatever arrives and never answers.
--slow ADDRESS   reads the request, then sends a complete HTTP response (200, JSON "[]") one byte
                 every --interval seconds (about 95 s for the whole response).
A connection ends when the client closes it, when the slow response is complete, or after
--linger seconds. Standard library only; one thread, one selector for every socket.
"""

import argparse
import ipaddress
import logging
import os
import selectors
import socket
import sys
import time

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\n[]")
MAX_CONNECTIONS = 256
# A request head longer than this is taken as complete (the slow answer starts anyway).
MAX_REQUEST_HEAD = 16384


class Connection:
    """One accepted connection: its socket, kind, and the slow answer's progress."""

    def __init__(self, sock, slow, now):
        self.sock = sock
        self.slow = slow
        self.opened = now
        self.head = b""
        self.sent = 0
        self.next_send = None  # when the next byte of a slow answer is due


def family(address):
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def listen(address, port):
    sock = socket.socket(family(address), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(address) == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((address, port))
    sock.listen(64)
    sock.setblocking(False)
    return sock


def serve(listeners, interval, linger):
    sel = selectors.DefaultSelector()
    for sock, slow in listeners:
        sel.register(sock, selectors.EVENT_READ, ("listen", slow))
    conns = {}

    def close(conn, why):
        sel.unregister(conn.sock)
        conn.sock.close()
        del conns[conn.sock]
        logging.info("%s connection closed after %.1f s (%s, %d bytes sent)",
                     "slow" if conn.slow else "hang", time.monotonic() - conn.opened, why, conn.sent)

    while True:
        now = time.monotonic()
        deadlines = [c.opened + linger for c in conns.values()]
        deadlines += [c.next_send for c in conns.values() if c.next_send is not None]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        for key, _mask in sel.select(timeout):
            now = time.monotonic()
            if isinstance(key.data, tuple):
                try:
                    sock, _peer = key.fileobj.accept()
                except OSError:
                    continue
                if len(conns) >= MAX_CONNECTIONS:
                    sock.close()
                    continue
                sock.setblocking(False)
                conn = Connection(sock, key.data[1], now)
                conns[sock] = conn
                sel.register(sock, selectors.EVENT_READ, conn)
                continue
            conn = key.data
            try:
                data = conn.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                close(conn, "closed by the client")
                continue
            if conn.slow and conn.next_send is None:
                conn.head += data
                if b"\r\n\r\n" in conn.head or len(conn.head) > MAX_REQUEST_HEAD:
                    conn.next_send = now
                    conn.head = b""
        now = time.monotonic()
        for conn in list(conns.values()):
            if conn.next_send is not None and conn.next_send <= now:
                try:
                    conn.sock.send(RESPONSE[conn.sent:conn.sent + 1])
                except OSError:
                    close(conn, "send failed")
                    continue
                conn.sent += 1
                conn.next_send += interval
                if conn.sent == len(RESPONSE):
                    close(conn, "answer complete")
                    continue
            if now >= conn.opened + linger:
                close(conn, "linger time over")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hang", action="append", default=[], metavar="ADDRESS",
                        help="accept on ADDRESS and never answer (repeatable)")
    parser.add_argument("--slow", action="append", default=[], metavar="ADDRESS",
                        help="answer on ADDRESS one byte per interval (repeatable)")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between bytes")
    parser.add_argument("--linger", type=float, default=600.0, help="longest life of a connection")
    parser.add_argument("--pidfile", help="written once every socket is bound")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    listeners = [(listen(a, args.port), False) for a in args.hang]
    listeners += [(listen(a, args.port), True) for a in args.slow]
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    logging.info("port %d: never answers on %s; one byte per %g s on %s", args.port, " ".join(args.hang),
                 args.interval, " ".join(args.slow))
    serve(listeners, args.interval, args.linger)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A canary: listens on each ADDRESS:PORT given (TCP; udp:ADDRESS:PORT for UDP) and writes one
line per connection it accepts or datagram it receives to LOG ("ADDRESS:PORT from PEER"), then
closes the connection (a datagram gets no answer). Writes LOG.ready once every listener is bound.
Runs until killed. usage: canary.py LOG [udp:]ADDRESS:PORT...
"""
import socket
import sys
import threading


def serve(sock, where, log, lock):
    while True:
        conn, peer = sock.accept()
        with lock, open(log, "a", encoding="utf-8") as f:
            f.write(f"{where} from {peer[0]}\n")
        conn.close()


def serve_udp(sock, where, log, lock):
    while True:
        _, peer = sock.recvfrom(65535)
        with lock, open(log, "a", encoding="utf-8") as f:
            f.write(f"{where} from {peer[0]}\n")


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    log = argv[1]
    lock = threading.Lock()
    threads = []
    for where in argv[2:]:
        udp = where.startswith("udp:")
        address, port = where[4:].rsplit(":", 1) if udp else where.rsplit(":", 1)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address.strip("[]"), int(port)))
        if not udp:
            sock.listen(64)
        t = threading.Thread(target=serve_udp if udp else serve, args=(sock, where, log, lock), daemon=True)
        t.start()
        threads.append(t)
    open(log, "a").close()
    with open(log + ".ready", "w") as f:
        f.write("ready\n")
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""A canary: listens on each ADDRESS:PORT given and writes one line per connection it accepts to
LOG ("ADDRESS:PORT from PEER"), then closes the connection. Writes LOG.ready once every listener
is bound. Runs until killed. usage: canary.py LOG ADDRESS:PORT...
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


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    log = argv[1]
    lock = threading.Lock()
    threads = []
    for where in argv[2:]:
        address, port = where.rsplit(":", 1)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address.strip("[]"), int(port)))
        sock.listen(64)
        t = threading.Thread(target=serve, args=(sock, where, log, lock), daemon=True)
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

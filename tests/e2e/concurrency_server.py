#!/usr/bin/env python3
"""A web server that counts the connections open at once (tests/e2e/shared_probe.py).

usage: concurrency_server.py ADDRESS STATE_FILE STOP_FILE [HOLD_SECONDS]

Listens on ADDRESS ports 80 and 443. Every connection is held HOLD_SECONDS (default 0.2) after
it is accepted; then port 80 answers `404` and port 443 closes (no TLS). After every connection
it writes "MOST_AT_ONCE TOTAL" to STATE_FILE. Ends when STOP_FILE exists.
"""
import os
import socket
import sys
import threading
import time

address, state_file, stop_file = sys.argv[1], sys.argv[2], sys.argv[3]
hold = float(sys.argv[4]) if len(sys.argv) > 4 else 0.2
lock = threading.Lock()
open_now = most = total = 0


def write_state():
    tmp = state_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{most} {total}\n")
    os.replace(tmp, state_file)


def serve(conn, port):
    global open_now, most, total
    with lock:
        open_now += 1
        total += 1
        most = max(most, open_now)
    closed = False
    try:
        conn.settimeout(2)
        if port == 80:
            try:
                conn.recv(65536)
            except OSError:
                pass
        time.sleep(hold)
        # Counted as closed before the client can see an answer or the close: it cannot open its
        # next connection before this one is off the count.
        with lock:
            open_now -= 1
            write_state()
        closed = True
        if port == 80:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    finally:
        if not closed:
            with lock:
                open_now -= 1
                write_state()
        conn.close()


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(512)
    s.settimeout(0.2)
    while not os.path.exists(stop_file):
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn, port), daemon=True).start()
    s.close()


with lock:
    write_state()
threads = [threading.Thread(target=listen, args=(p,), daemon=True) for p in (80, 443)]
for t in threads:
    t.start()
for t in threads:
    t.join()

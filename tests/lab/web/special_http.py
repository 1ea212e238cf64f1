#!/usr/bin/env python3
"""Web servers of the lab's hosting sites that nginx cannot play (tests/lab/web/sites.yaml).

    special_http.py --config LISTENERS.json --certs DIR [--pidfile FILE]

LISTENERS.json is a list of {"address", "port", "kind"} written by make_sites.py. Kinds:
  other    another web server ("Server: Apache/2.4.57 (Unix)"): 200 for /, an Apache-like 404
           for any other path (it never has challenge files)
  parked   another web server ("Server: Apache"): 200 with a parking page for every path
  cdn      a CDN proxy ("Server: cloudflare", CF-RAY): a Cloudflare-like block page with 403 for
           /.well-known/acme-challenge/..., 200 for anything else
  drop     connections are silently dropped: a listening socket with a full accept queue (the
           kernel drops every further SYN), so connecting times out as behind a firewall
  slow     reads the request, then sends an HTTP 404 answer one byte per second
  endless  200 with a body that never ends (8 KiB every 10 ms until the client goes away)
  garbage  sends bytes that are no TLS record (and no HTTP) instead of a handshake, then closes
  h2c      HTTP/2 in clear (prior knowledge only): reads the HTTP/1.1 request, answers with an
           HTTP/2 SETTINGS frame and a GOAWAY (PROTOCOL_ERROR), then closes, as a server with
           HTTP/2 configured on port 80 does
  slow-hops  every answer after 2.2 s: the challenge path a 302 to /hop/1/PATH, /hop/N/PATH a 302
           to /hop/N+1/PATH up to 7 redirects, then 404 (each request far below any per-request
           limit, 17.6 s for the whole chain)
On port 443 the kinds other, parked and cdn speak TLS with the certificate DIR/sites/SITE.pem
chosen by SNI (SITE is the name without a leading www.; DIR/sites/default.pem otherwise) and
the key DIR/leaf.key. Standard library only; one thread per connection.
"""

import argparse
import ipaddress
import json
import logging
import os
import re
import socket
import socketserver
import ssl
import sys
import threading
import time

MAX_HEAD = 16384
# HTTP/2 frames (RFC 9113 section 4.1: 24-bit length, type, flags, 31-bit stream id): a SETTINGS
# frame with SETTINGS_MAX_CONCURRENT_STREAMS = 100, and a GOAWAY with last stream 0 and
# PROTOCOL_ERROR, which is what an HTTP/2-only server sends when the client preface is missing.
H2_SETTINGS = bytes.fromhex("000006" "04" "00" "00000000" "0003" "00000064")
H2_GOAWAY = bytes.fromhex("000008" "07" "00" "00000000" "00000000" "00000001")
LINGER = 600.0  # the longest life of a connection
SLOW_HOP_SECONDS = 2.2  # slow-hops: the wait before each answer
SLOW_HOPS = 7  # slow-hops: redirects before the 404

OTHER_404 = (b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
             b"<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n"
             b"<p>The requested URL was not found on this server.</p>\n</body></html>\n")
OTHER_ROOT = b"<html><body><h1>It works!</h1></body></html>\n"
PARKED = (b"<!DOCTYPE html>\n<html><head><title>This domain is parked</title></head>\n"
          b"<body><h1>This domain is parked</h1><p>Coming soon.</p></body></html>\n")
CDN_OK = b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>Welcome</body></html>\n"
CDN_BLOCK = b"""<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html class="no-js" lang="en-US">
<head>
<title>Attention Required! | Cloudflare</title>
<meta charset="UTF-8" />
<meta name="robots" content="noindex, nofollow" />
</head>
<body>
  <div id="cf-wrapper">
    <div id="cf-error-details" class="cf-error-details-wrapper">
      <div class="cf-wrapper cf-header cf-error-overview">
        <h1 data-translate="block_headline">Sorry, you have been blocked</h1>
        <h2 class="cf-subheadline"><span data-translate="unable_to_access">You are unable to access</span> %(host)s</h2>
      </div>
      <div class="cf-section cf-wrapper">
        <h2 data-translate="blocked_why_headline">Why have I been blocked?</h2>
        <p data-translate="blocked_why_detail">This website is using a security service to protect itself from online attacks.</p>
      </div>
      <div class="cf-error-footer cf-wrapper">
        <p>Cloudflare Ray ID: <strong class="font-semibold">%(ray)s</strong> &bull; Performance &amp; security by Cloudflare (certdoctor lab)</p>
      </div>
    </div>
  </div>
</body>
</html>
"""
# Not a TLS record: the first byte is no content type (a TLS client reports a protocol error).
GARBAGE = bytes((i * 151 + 89) % 256 for i in range(1024))
GARBAGE = b"\x99\xff" + GARBAGE


def family(address):
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def response(status, reason, server, body, extra=(), length=True):
    head = [f"HTTP/1.1 {status} {reason}", f"Server: {server}",
            "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
            "Content-Type: text/html; charset=UTF-8", "Connection: close", *extra]
    if length:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def read_head(sock):
    """The request head (up to MAX_HEAD bytes); b"" when the client went away."""
    head = b""
    while b"\r\n\r\n" not in head and len(head) < MAX_HEAD:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


def parse(head):
    """(path, host) of a request head."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    path = parts[1] if len(parts) > 1 else "/"
    host = ""
    for line in lines[1:]:
        if line.lower().startswith("host:"):
            host = line[5:].strip().lower()
    return path, host


class Certificates:
    """TLS contexts per site, chosen by SNI."""

    def __init__(self, directory):
        self.directory = directory
        self.contexts = {}
        self.lock = threading.RLock()

    @property
    def default(self):
        """The context a handshake starts with: the default certificate (loaded at first use:
        the server starts before the lab CA is made)."""
        return self.context("default")

    def context(self, site):
        with self.lock:
            if site not in self.contexts:
                chain = os.path.join(self.directory, "sites", site + ".pem")
                if not os.path.exists(chain):
                    return self.default if site != "default" else None
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(chain, os.path.join(self.directory, "leaf.key"))
                ctx.sni_callback = self.choose
                self.contexts[site] = ctx
            return self.contexts[site]

    def choose(self, sslobj, name, _ctx):
        if name:
            site = name.lower()
            if site.startswith("www."):
                site = site[4:]
            sslobj.context = self.context(site)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        kind, tls = self.server.kind, self.server.tls
        sock = self.request
        sock.settimeout(30)
        try:
            if kind == "garbage":
                sock.sendall(GARBAGE)
                return
            if tls:
                sock = self.server.certs.default.wrap_socket(sock, server_side=True)
            head = read_head(sock)
            if not head:
                return
            path, host = parse(head)
            getattr(self, "kind_" + kind.replace("-", "_"))(sock, path, host.split(":")[0])
        except (OSError, ssl.SSLError) as e:
            logging.info("%s %s:%d: %s", kind, self.server.address, self.server.port, e)
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def kind_other(self, sock, path, _host):
        if path.split("?")[0] == "/":
            sock.sendall(response(200, "OK", "Apache/2.4.57 (Unix)", OTHER_ROOT))
        else:
            sock.sendall(response(404, "Not Found", "Apache/2.4.57 (Unix)", OTHER_404))

    def kind_parked(self, sock, _path, _host):
        sock.sendall(response(200, "OK", "Apache", PARKED))

    def kind_cdn(self, sock, path, host):
        ray = "%016x-NRT" % (hash((path, time.time())) & 0xFFFFFFFFFFFFFFFF)
        extra = [f"CF-RAY: {ray}", "cf-cache-status: DYNAMIC"]
        if path.startswith("/.well-known/acme-challenge/"):
            body = CDN_BLOCK % {b"host": host.encode(), b"ray": ray.encode()}
            sock.sendall(response(403, "Forbidden", "cloudflare", body, extra))
        else:
            sock.sendall(response(200, "OK", "cloudflare", CDN_OK, extra))

    def kind_slow(self, sock, _path, _host):
        answer = response(404, "Not Found", "nginx", b"<html><body>404 Not Found</body></html>\n")
        for i in range(len(answer)):
            sock.sendall(answer[i:i + 1])
            time.sleep(1.0)

    def kind_slow_hops(self, sock, path, host):
        time.sleep(SLOW_HOP_SECONDS)
        path = path.split("?")[0]
        m = re.match(r"^/hop/(\d+)(/.*)$", path)
        n, rest = (int(m.group(1)), m.group(2)) if m else (0, path)
        if n >= SLOW_HOPS:
            sock.sendall(response(404, "Not Found", "nginx", b"<html><body>404 Not Found</body></html>\n"))
            return
        where = f"http://{host}/hop/{n + 1}{rest}"
        sock.sendall(response(302, "Found", "nginx", b"", [f"Location: {where}"]))

    def kind_h2c(self, sock, _path, _host):
        sock.sendall(H2_SETTINGS + H2_GOAWAY)

    def kind_endless(self, sock, _path, _host):
        sock.sendall(response(200, "OK", "nginx", b"", length=False))
        chunk = b"endless " * 1024
        end = time.monotonic() + LINGER
        while time.monotonic() < end:
            sock.sendall(chunk)
            time.sleep(0.01)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, port, kind, certs):
        self.address_family = family(address)
        self.address, self.port, self.kind, self.certs = address, port, kind, certs
        self.tls = port == 443 and kind in ("other", "parked", "cdn")
        super().__init__((address, port), Handler, bind_and_activate=False)
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.server_bind()
        self.server_activate()


def drop(address, port):
    """A listener whose accept queue is full (backlog 0, one connection queued and never
    accepted): the kernel drops every further SYN. Returns the sockets to keep open."""
    sock = socket.socket(family(address), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(address) == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((address, port))
    sock.listen(0)
    filler = socket.create_connection((address, port), timeout=2)
    # The queue is full once a further connection attempt goes unanswered.
    probe = socket.socket(family(address), socket.SOCK_STREAM)
    probe.settimeout(0.1)
    try:
        probe.connect((address, port))
        raise SystemExit(f"drop {address}:{port}: a second connection was accepted")
    except socket.timeout:
        pass
    finally:
        probe.close()
    return [sock, filler]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--certs", required=True)
    parser.add_argument("--pidfile", help="written once every socket is bound")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    with open(args.config) as f:
        listeners = json.load(f)
    certs = Certificates(args.certs)
    keep, servers = [], []
    for entry in listeners:
        if entry["kind"] == "drop":
            keep += drop(entry["address"], entry["port"])
        else:
            servers.append(Server(entry["address"], entry["port"], entry["kind"], certs))
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    logging.info("listening: %s", ", ".join(f'{e["kind"]} {e["address"]}:{e["port"]}' for e in listeners))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

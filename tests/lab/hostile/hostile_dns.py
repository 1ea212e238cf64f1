#!/usr/bin/env python3
"""Hostile authoritative DNS server of the certdoctor lab (ns.broken.net).

The behaviour is chosen by the query name: the labels are scanned from the root down and the
first one found in BEHAVIOURS decides (so huge.jp and www.huge.jp are both "huge").  Names in
the server's own zone (--origin, broken.net) get ordinary authoritative answers; anything else
is REFUSED.  --blackhole addresses accept queries (UDP and TCP) and never answer.

Standard library only; UDP and TCP; one thread per socket and per TCP connection.
"""

import argparse
import ipaddress
import logging
import os
import signal
import socket
import struct
import sys
import threading

# DNS constants (RFC 1035 section 3.2, RFC 6891 for OPT).
TYPE_A, TYPE_NS, TYPE_SOA, TYPE_AAAA, TYPE_OPT = 1, 2, 6, 28, 41
CLASS_IN = 1
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
FLAG_QR, FLAG_AA, FLAG_TC, FLAG_RD = 0x8000, 0x0400, 0x0200, 0x0100

TTL = 300
TCP_IDLE_SECONDS = 10
TCP_MAX_CONNECTIONS = 64
# Where the lame behaviour refers the resolver to: an upward referral to the lab root.
ROOT_NS, ROOT_ADDRESS = "a.root-servers.net.", "192.0.2.1"


def huge_addresses():
    """The 400 distinct addresses of the "huge" A RRset: documentation ranges, no lab host."""
    out = [f"198.51.100.{i}" for i in range(0, 128)]
    out += [f"203.0.113.{i}" for i in range(128, 256)]
    out += [f"192.0.2.{i}" for i in range(128, 256)]
    out += [f"203.0.113.{i}" for i in range(100, 116)]
    assert len(out) == 400
    return out


HUGE = huge_addresses()


class Query:
    """A parsed query: id, flags, question name (labels, lower case), type, class, the raw
    question section, and the EDNS UDP payload size (None without OPT)."""

    def __init__(self, wire):
        if len(wire) < 12:
            raise ValueError("short header")
        self.id, self.flags, qd, _an, _ns, ar = struct.unpack("!HHHHHH", wire[:12])
        if self.flags & FLAG_QR:
            raise ValueError("not a query")
        if qd != 1:
            raise ValueError("qdcount != 1")
        self.labels, pos = read_name(wire, 12)
        if pos + 4 > len(wire):
            raise ValueError("short question")
        self.qtype, self.qclass = struct.unpack("!HH", wire[pos:pos + 4])
        self.question = wire[12:pos + 4]
        self.edns_size = None
        pos += 4
        # Only the additional section may hold OPT; a query carries no answer/authority.
        for _ in range(ar):
            _labels, pos = read_name(wire, pos)
            if pos + 10 > len(wire):
                raise ValueError("short additional record")
            rtype, rclass, _ttl, rdlen = struct.unpack("!HHIH", wire[pos:pos + 10])
            pos += 10 + rdlen
            if rtype == TYPE_OPT:
                self.edns_size = max(512, rclass)

    @property
    def name(self):
        return ".".join(self.labels) + "."


def read_name(wire, pos):
    """Reads a possibly compressed name at pos; returns (lower-case labels, position after it).
    Raises ValueError on pointer loops or overruns (RFC 1035 section 4.1.4)."""
    labels, end, hops = [], None, 0
    while True:
        if pos >= len(wire):
            raise ValueError("name overruns message")
        length = wire[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(wire):
                raise ValueError("truncated pointer")
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            if end is None:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | wire[pos + 1]
            continue
        if length & 0xC0:
            raise ValueError("bad label type")
        pos += 1
        if length == 0:
            break
        if pos + length > len(wire):
            raise ValueError("label overruns message")
        labels.append(wire[pos:pos + length].decode("ascii", "replace").lower())
        pos += length
    return labels, (end if end is not None else pos)


def encode_name(name):
    """Wire form of an absolute name given as text ("ns.broken.net.")."""
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


def rr(owner, rtype, rdata, ttl=TTL):
    """One resource record; owner is wire bytes (a name or a compression pointer)."""
    return owner + struct.pack("!HHIH", rtype, CLASS_IN, ttl, len(rdata)) + rdata


def rdata_a(text):
    return ipaddress.IPv4Address(text).packed


def rdata_aaaa(text):
    return ipaddress.IPv6Address(text).packed


def soa_rdata(origin):
    return (encode_name("ns.broken.net.") + encode_name("hostmaster." + origin)
            + struct.pack("!IIIII", 1, 3600, 600, 86400, 60))


def opt_rr():
    return b"\x00" + struct.pack("!HHIH", TYPE_OPT, 1232, 0, 0)


class Reply:
    """A reply under construction: rcode, flags, sections of wire-encoded records."""

    def __init__(self, rcode=NOERROR, aa=True):
        self.rcode, self.aa = rcode, aa
        self.answer, self.authority, self.additional = [], [], []
        self.force_tc = False

    def wire(self, query, limit=None):
        """The reply as bytes; with a UDP size limit, an oversized (or force_tc) reply becomes
        an empty one with TC set (RFC 1035 section 4.2.1, RFC 7766 section 5)."""
        opt = [opt_rr()] if query.edns_size is not None else []
        flags = FLAG_QR | (query.flags & (0x7800 | FLAG_RD)) | self.rcode
        if self.aa:
            flags |= FLAG_AA

        def build(answer, authority, additional, flags):
            header = struct.pack("!HHHHHH", query.id, flags, 1, len(answer), len(authority),
                                 len(additional) + len(opt))
            return header + query.question + b"".join(answer + authority + additional + opt)

        out = build(self.answer, self.authority, self.additional, flags)
        if limit is not None and (self.force_tc or len(out) > limit):
            out = build([], [], [], flags | FLAG_TC)
        return out


# ---------------------------------------------------------------------------------------------
# Behaviours.  Each takes (query, apex) where apex is the name owning the keyword label
# ("huge.jp." for www.huge.jp) and returns a Reply, raw bytes, or None for "no answer".


def zone_data(query, apex, rrset):
    """Authoritative answers for a zone with SOA/NS at apex and rrset(owner) giving the A
    records of apex and www.apex."""
    qname, ptr = query.name, b"\xc0\x0c"  # answers owned by the question name
    reply = Reply()
    if qname not in (apex, "www." + apex):
        reply.rcode = NXDOMAIN
        reply.authority.append(rr(encode_name(apex), TYPE_SOA, soa_rdata(apex)))
    elif qname == apex and query.qtype == TYPE_SOA:
        reply.answer.append(rr(ptr, TYPE_SOA, soa_rdata(apex)))
    elif qname == apex and query.qtype == TYPE_NS:
        reply.answer.append(rr(ptr, TYPE_NS, encode_name("ns.broken.net.")))
    elif query.qtype == TYPE_A:
        reply.answer.extend(rr(ptr, TYPE_A, rdata_a(a)) for a in rrset)
    else:
        reply.authority.append(rr(encode_name(apex), TYPE_SOA, soa_rdata(apex)))
    return reply


def b_servfail(query, apex):
    return Reply(SERVFAIL, aa=False)


def b_refused(query, apex):
    return Reply(REFUSED, aa=False)


def b_lame(query, apex):
    # A server that does not serve the zone but answers anyway: no AA, an upward referral.
    reply = Reply(NOERROR, aa=False)
    reply.authority.append(rr(b"\x00", TYPE_NS, encode_name(ROOT_NS), 86400))
    reply.additional.append(rr(encode_name(ROOT_NS), TYPE_A, rdata_a(ROOT_ADDRESS), 86400))
    return reply


def b_noanswer(query, apex):
    return None


def b_garbage(query, apex):
    # The query id and QR bit make it look like the reply, so the client has to parse it.
    body = bytearray(os.urandom(20 + os.urandom(1)[0]))
    body[2] |= 0x80
    return struct.pack("!H", query.id) + bytes(body[2:])


def b_truncated(query, apex):
    reply = zone_data(query, apex, HUGE)
    reply.force_tc = True
    return reply


def b_huge(query, apex):
    return zone_data(query, apex, HUGE)


def b_badname(query, apex):
    # The answer's owner name is a compression pointer to itself (RFC 1035 section 4.1.4
    # forbids nothing explicitly; parsers must detect the loop).
    flags = FLAG_QR | FLAG_AA | (query.flags & FLAG_RD)
    header = struct.pack("!HHHHHH", query.id, flags, 1, 1, 0, 0)
    offset = 12 + len(query.question)
    pointer = struct.pack("!H", 0xC000 | offset)
    return header + query.question + rr(pointer, TYPE_A, rdata_a("203.0.113.66"))


# The rebinding server: the first A question for a name gets REBIND_FIRST, every later one
# 127.0.0.1, all with TTL 0, so no cache keeps the first answer. Counted per name, so a test
# asks under a fresh name (N.rebind.jp) to see the switch again.
REBIND_FIRST, REBIND_NEXT = "203.0.113.10", "127.0.0.1"
rebind_seen = set()
rebind_lock = threading.Lock()


def b_rebind(query, apex):
    qname, ptr = query.name, b"\xc0\x0c"
    reply = Reply()
    if qname == apex and query.qtype == TYPE_SOA:
        reply.answer.append(rr(ptr, TYPE_SOA, soa_rdata(apex), 0))
    elif qname == apex and query.qtype == TYPE_NS:
        reply.answer.append(rr(ptr, TYPE_NS, encode_name("ns.broken.net."), 0))
    elif query.qtype == TYPE_A:
        with rebind_lock:
            first = qname not in rebind_seen
            rebind_seen.add(qname)
        reply.answer.append(rr(ptr, TYPE_A, rdata_a(REBIND_FIRST if first else REBIND_NEXT), 0))
    else:
        reply.authority.append(rr(encode_name(apex), TYPE_SOA, soa_rdata(apex), 0))
    return reply


BEHAVIOURS = {
    "servfail": b_servfail,    # SERVFAIL
    "refused": b_refused,      # REFUSED
    "lame": b_lame,            # no AA, upward referral to the root
    "noanswer": b_noanswer,    # silence (timeout)
    "garbage": b_garbage,      # random bytes behind the query id
    "truncated": b_truncated,  # TC=1 on every UDP reply, 400 A records over TCP
    "huge": b_huge,            # 400 A records: TC over UDP (too big), full over TCP
    "badname": b_badname,      # answer owner name is a compression loop
    "rebind": b_rebind,        # A: a public lab address first, then 127.0.0.1, TTL 0
}


class Server:
    """Answers queries for one origin zone (its own NS name and addresses) and the behaviours."""

    def __init__(self, origin, addresses):
        self.origin = origin.rstrip(".").lower() + "."
        self.addresses = addresses

    def own_zone(self, query):
        origin, qname, ptr = self.origin, query.name, b"\xc0\x0c"
        ns_name = "ns." + origin
        reply = Reply()
        if qname == origin and query.qtype == TYPE_SOA:
            reply.answer.append(rr(ptr, TYPE_SOA, soa_rdata(origin)))
        elif qname == origin and query.qtype == TYPE_NS:
            reply.answer.append(rr(ptr, TYPE_NS, encode_name(ns_name)))
        elif qname == ns_name and query.qtype in (TYPE_A, TYPE_AAAA):
            for a in self.addresses:
                v4 = ipaddress.ip_address(a).version == 4
                if v4 and query.qtype == TYPE_A:
                    reply.answer.append(rr(ptr, TYPE_A, rdata_a(a)))
                elif not v4 and query.qtype == TYPE_AAAA:
                    reply.answer.append(rr(ptr, TYPE_AAAA, rdata_aaaa(a)))
        elif qname not in (origin, ns_name):
            reply.rcode = NXDOMAIN
        if not reply.answer:
            reply.authority.append(rr(encode_name(origin), TYPE_SOA, soa_rdata(origin)))
        return reply

    def respond(self, wire, limit):
        """Bytes to send for one query, or None to stay silent; limit is the UDP size limit
        (None over TCP)."""
        try:
            query = Query(wire)
        except ValueError as e:
            logging.info("unparsable query (%s)", e)
            if len(wire) >= 12 and not wire[2] & 0x80:
                return wire[:2] + struct.pack("!HHHHH", FLAG_QR | FORMERR, 0, 0, 0, 0)
            return None
        if limit is not None and query.edns_size:
            limit = query.edns_size
        kind, behaviour, apex = "refused", b_refused, None
        if query.qclass != CLASS_IN:
            kind, behaviour = "notimp", lambda q, a: Reply(NOTIMP, aa=False)
        elif query.name == self.origin or query.name.endswith("." + self.origin):
            kind, behaviour = "own", lambda q, a: self.own_zone(q)
        else:
            for i in range(len(query.labels) - 1, -1, -1):
                if query.labels[i] in BEHAVIOURS:
                    kind = query.labels[i]
                    behaviour = BEHAVIOURS[kind]
                    apex = ".".join(query.labels[i:]) + "."
                    break
        out = behaviour(query, apex)
        if isinstance(out, Reply):
            out = out.wire(query, limit)
        logging.info("%s %s type %d -> %s%s", "udp" if limit else "tcp", query.name, query.qtype,
                     kind, "" if out is None else f" ({len(out)} bytes)")
        return out


def family(address):
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def bind(address, port, kind):
    sock = socket.socket(family(address), kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(address) == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((address, port))
    if kind == socket.SOCK_STREAM:
        sock.listen(16)
    return sock


def serve_udp(sock, server):
    while True:
        wire, peer = sock.recvfrom(65535)
        try:
            out = server.respond(wire, 512) if server else None
            if out is not None:
                sock.sendto(out, peer)
        except Exception:  # one bad query must not stop the socket
            logging.exception("udp query from %s", peer)


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve_tcp_connection(conn, server, slots):
    try:
        conn.settimeout(TCP_IDLE_SECONDS)
        while True:
            head = recv_exact(conn, 2)
            if head is None:
                return
            wire = recv_exact(conn, struct.unpack("!H", head)[0])
            if wire is None:
                return
            out = server.respond(wire, None) if server else None
            if out is not None:
                conn.sendall(struct.pack("!H", len(out)) + out)
    except (OSError, socket.timeout):
        pass
    except Exception:
        logging.exception("tcp connection")
    finally:
        conn.close()
        slots.release()


def serve_tcp(sock, server):
    slots = threading.BoundedSemaphore(TCP_MAX_CONNECTIONS)
    while True:
        conn, _peer = sock.accept()
        if not slots.acquire(blocking=False):
            conn.close()
            continue
        threading.Thread(target=serve_tcp_connection, args=(conn, server, slots),
                         daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", action="append", default=[], metavar="ADDRESS",
                        help="serve on ADDRESS (repeatable)")
    parser.add_argument("--blackhole", action="append", default=[], metavar="ADDRESS",
                        help="accept queries on ADDRESS and never answer (repeatable)")
    parser.add_argument("--origin", default="broken.net.", help="the server's own zone")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--pidfile", help="written once every socket is bound")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(message)s")

    server = Server(args.origin, args.listen)
    targets = [(a, server) for a in args.listen] + [(a, None) for a in args.blackhole]
    for address, srv in targets:
        threading.Thread(target=serve_udp, args=(bind(address, args.port, socket.SOCK_DGRAM), srv),
                         daemon=True).start()
        threading.Thread(target=serve_tcp, args=(bind(address, args.port, socket.SOCK_STREAM), srv),
                         daemon=True).start()
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    logging.info("serving %s on %s; silent on %s", server.origin, " ".join(args.listen),
                 " ".join(args.blackhole))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""End-to-end: the service's probe policy keeps every check off the network it runs in.

Inside the lab's namespace, canaries listen on 127.0.0.1 (ports 80, 443 and 8099), on the cloud
metadata address 169.254.169.254 (port 80) and on the private address 10.0.0.5 (80, 443), and
write down every connection. First, a check without a policy (--connect-policy open) of
ssrf-canary.jp must reach the canary on 127.0.0.1:8099: the canaries can see a connection. Then
reserved.jp (apex A 127.0.0.1, www A 10.0.0.5), ssrf-canary.jp (301 to http://127.0.0.1:8099/),
ssrf-metadata.jp (301 to http://169.254.169.254/...), http-loopback-target.jp (301 to
http://127.0.0.1/...), ssrf-v6.jp (apex AAAA ::1, www AAAA ::ffff:127.0.0.1, canaries on [::1]:80
and 443; the mapped form reaches the ones on 127.0.0.1), N.rebind.jp (the lab's rebinding server:
a fresh name's first answer 203.0.113.10, every later one 127.0.0.1, TTL 0) and ssrf-ns.jp
(delegated to a nameserver at 127.0.0.1, where a UDP and a TCP canary listen on port 53) are checked with `check --connect-policy lab` (their facts must record the
refused steps, requests and DNS questions, as "not-allowed") and through `serve --lab` (the redirect findings must be named):
no canary may see a single connection.
usage: ssrf_live.py CERTDOCTOR [--keep-lab]
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lab import Serve, lab_env, outside_then_inside, probe_args  # noqa: E402

CANARIES = ["127.0.0.1:80", "127.0.0.1:443", "127.0.0.1:8099", "169.254.169.254:80", "10.0.0.5:80", "10.0.0.5:443",
            "127.0.0.1:53", "udp:127.0.0.1:53", "[::1]:80", "[::1]:443"]
EXTRA_ADDRESSES = ["169.254.169.254/32", "10.0.0.5/32"]
DOMAINS = {
    # domain: (what must be recorded as not-allowed, finding the report must name)
    "reserved.jp": ("10.0.0.5", None),
    "ssrf-canary.jp": ("127.0.0.1", "http-redirect-invalid"),
    "ssrf-metadata.jp": ("169.254.169.254", "http-redirect-invalid"),
    "http-loopback-target.jp": ("127.0.0.1", "http-redirect-invalid"),
}
# Names whose answers are loopback in IPv6 forms: the check must see the answers (facts) and
# request none of them.
V6_DOMAIN, V6_ADDRESSES = "ssrf-v6.jp", ("::1", "::ffff:127.0.0.1")
# The rebinding server answers each name once with a public address, then with 127.0.0.1: every
# check asks a name of its own.
REBIND = "rebind.jp"


def rebind_name(tag):
    return f"{tag}-{os.getpid()}-{time.monotonic_ns() % 1000000}.{REBIND}"
# Delegated to ns1.ssrf-ns.jp at 127.0.0.1 (glue): the delegation walk must not ask it.
DNS_DOMAIN = "ssrf-ns.jp"


def connections(log):
    with open(log, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def not_allowed(facts):
    """The addresses of every request the policy refused, from a facts file."""
    out = []
    for chain in facts.get("web", {}).get("http", []):
        for hop in chain.get("hops", []):
            if hop.get("outcome") == "not-allowed":
                out.append(hop.get("address", ""))
        for x in chain.get("unknown_host", {}).values():
            if isinstance(x, dict) and x.get("outcome") == "not-allowed":
                out.append(x.get("address", ""))
    for probe in facts.get("web", {}).get("tls", []):
        if probe.get("outcome") == "not-allowed":
            out.append(probe.get("address", ""))
    return out


def requested(facts):
    """The addresses of every web step that was not refused: requests and TLS probes."""
    out = []
    for chain in facts.get("web", {}).get("http", []):
        for hop in chain.get("hops", []):
            if hop.get("outcome") != "not-allowed":
                out.append(hop.get("address", ""))
        for x in chain.get("unknown_host", {}).values():
            if isinstance(x, dict) and x.get("outcome") != "not-allowed":
                out.append(x.get("address", ""))
    for probe in facts.get("web", {}).get("tls", []):
        if probe.get("outcome") != "not-allowed":
            out.append(probe.get("address", ""))
    return out


def answer_data(node):
    """Every answer record's data anywhere in a facts document (resolver and authoritative)."""
    out = set()
    if isinstance(node, dict):
        for rec in node.get("answer", []) if isinstance(node.get("answer"), list) else []:
            if isinstance(rec, dict) and "data" in rec:
                out.add(rec["data"])
        for v in node.values():
            out |= answer_data(v)
    elif isinstance(node, list):
        for v in node:
            out |= answer_data(v)
    return out


def dns_not_allowed(node):
    """The servers of every DNS question the policy refused, anywhere in a facts document."""
    out = []
    if isinstance(node, dict):
        if node.get("outcome") == "not-allowed" and "qname" in node:
            out.append(node.get("server", ""))
        for v in node.values():
            out += dns_not_allowed(v)
    elif isinstance(node, list):
        for v in node:
            out += dns_not_allowed(v)
    return out


def inside(binary, argv):
    env = lab_env()
    problems = []
    tmp = tempfile.mkdtemp(prefix="certdoctor-ssrf-")
    log = os.path.join(tmp, "canary.log")
    for a in EXTRA_ADDRESSES:
        subprocess.run(["ip", "addr", "add", a, "dev", "lo"], stderr=subprocess.DEVNULL)
    canary = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "canary.py"), log]
                              + CANARIES)
    serve = None
    try:
        for _ in range(100):
            if os.path.exists(log + ".ready"):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the canaries did not start")
        common = probe_args(env) + ["--allow-reserved", "--timeout", "30", "--format", "json", "--lang", "en"]

        # The canaries see a connection when one is made.
        subprocess.run([binary, "check", "--connect-policy", "open"] + common + ["ssrf-canary.jp"], capture_output=True, timeout=120)
        seen = connections(log)
        if not any(c.startswith("127.0.0.1:8099 ") for c in seen):
            problems.append(f"control: without a policy the redirect to 127.0.0.1:8099 reached no canary ({seen})")
        subprocess.run([binary, "check", "--connect-policy", "open"] + common + [DNS_DOMAIN], capture_output=True, timeout=120)
        seen = connections(log)
        if not any(c.startswith("udp:127.0.0.1:53 ") for c in seen):
            problems.append(f"control: without a policy the delegation to 127.0.0.1 reached no canary ({seen})")
        # The IPv6 forms reach the canaries too (::1 its own, the mapped form the one on 127.0.0.1).
        for a in V6_ADDRESSES:
            with socket.create_connection((a, 80), timeout=5):
                pass
        time.sleep(0.2)
        seen = connections(log)
        for a, where in [("::1", "[::1]:80 "), ("::ffff:127.0.0.1", "127.0.0.1:80 ")]:
            if not any(c.startswith(where) for c in seen):
                problems.append(f"control: a connection to {a} port 80 reached no canary ({seen})")
        print(f"control (no policy): {len(seen)} connection(s) seen by the canaries: {seen}")
        open(log, "w").close()

        # The policy: every refused step is a fact, no connection is made.
        for domain, (address, _) in DOMAINS.items():
            facts_file = os.path.join(tmp, domain + ".json")
            p = subprocess.run([binary, "check", "--connect-policy", "lab", "--facts-out", facts_file] + common + [domain],
                               capture_output=True, timeout=120)
            if p.returncode not in (0, 1):
                problems.append(f"check --connect-policy lab {domain}: exit {p.returncode}: {p.stderr.decode()[:300]}")
                continue
            with open(facts_file, encoding="utf-8") as f:
                refused = not_allowed(json.load(f))
            print(f"check --connect-policy lab {domain}: exit {p.returncode}, not-allowed: {refused}")
            for a in (address,) if isinstance(address, str) else address:
                if a not in refused:
                    problems.append(f"{domain}: no request to {a} recorded as not-allowed ({refused})")

        # Loopback in AAAA records (::1 and the IPv4-mapped ::ffff:127.0.0.1), and the rebinding
        # server (a fresh name: a public answer first, loopback next): the check sees both answers
        # and requests only the public one.
        rebind = rebind_name("check")
        for domain, wanted, public in [(V6_DOMAIN, V6_ADDRESSES, None), (rebind, ("127.0.0.1", "203.0.113.10"), "203.0.113.10")]:
            facts_file = os.path.join(tmp, domain + ".json")
            p = subprocess.run([binary, "check", "--connect-policy", "lab", "--facts-out", facts_file] + common + [domain],
                               capture_output=True, timeout=120)
            if not os.path.exists(facts_file):
                problems.append(f"check --connect-policy lab {domain}: exit {p.returncode}, no facts: {p.stderr.decode()[:300]}")
                continue
            with open(facts_file, encoding="utf-8") as f:
                facts = json.load(f)
            answers, asked = answer_data(facts), requested(facts)
            print(f"check --connect-policy lab {domain}: exit {p.returncode}, answers {sorted(answers)}, requested {sorted(set(asked))}")
            for a in wanted:
                if a not in answers:
                    problems.append(f"{domain}: the answer {a} is not in the facts ({sorted(answers)})")
            bad = [a for a in asked if a != public]
            if bad:
                problems.append(f"{domain}: requests to {bad}")
            if public and public not in asked:
                problems.append(f"{domain}: the public address {public} was not requested ({asked})")

        facts_file = os.path.join(tmp, DNS_DOMAIN + ".json")
        p = subprocess.run([binary, "check", "--connect-policy", "lab", "--facts-out", facts_file] + common + [DNS_DOMAIN],
                           capture_output=True, timeout=120)
        with open(facts_file, encoding="utf-8") as f:
            refused = dns_not_allowed(json.load(f))
        print(f"check --connect-policy lab {DNS_DOMAIN}: exit {p.returncode}, DNS questions not allowed: {refused}")
        if not refused or any(not r.startswith("127.0.0.1") for r in refused):
            problems.append(f"{DNS_DOMAIN}: no DNS question to 127.0.0.1 recorded as not-allowed ({refused})")

        serve = Serve(binary, os.path.join(tmp, "history.sqlite3"), os.path.join(tmp, "serve.log"),
                      ["--client-burst", "50", "--domain-burst", "10"])
        more = [(DNS_DOMAIN, (None, None)), (V6_DOMAIN, (None, "address-reserved")), (rebind_name("serve"), (None, None))]
        for domain, (_, finding) in list(DOMAINS.items()) + more:
            status, _, j = serve.api("POST", "/api/v1/checks", {"domain": domain})
            if status != 202:
                problems.append(f"serve: POST {domain}: {status} {j}")
                continue
            result = serve.wait(j["id"])
            ids = sorted({f["id"] for f in result.get("findings", [])})
            print(f"serve --lab {domain}: {result.get('status')} {result.get('verdict')} {ids}")
            if result.get("status") != "done":
                problems.append(f"serve: {domain}: status {result.get('status')}: {result.get('error')}")
            elif finding and finding not in ids:
                problems.append(f"serve: {domain}: {finding} not among {ids}")
        seen = connections(log)
        print(f"with the policy: {len(seen)} connection(s) seen by the canaries")
        if seen:
            problems.append(f"the canaries saw connections under the policy: {seen}")
    finally:
        if serve:
            serve.stop()
        canary.terminate()
        canary.wait()
        for a in EXTRA_ADDRESSES:
            subprocess.run(["ip", "addr", "del", a, "dev", "lo"], stderr=subprocess.DEVNULL)
    for p in problems:
        print("FAIL:", p)
    print(f"{'FAILED' if problems else 'passed'}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(outside_then_inside(sys.argv, __doc__, inside))

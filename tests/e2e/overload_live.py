#!/usr/bin/env python3
"""Our own overload is never the domain's finding, in the lab.

usage: overload_live.py CERTDOCTOR [--keep-lab]

The lab is brought up (CERTDOCTOR_LAB_NS and CERTDOCTOR_LAB_DIR choose it) and taken down
afterwards unless --keep-lab. `certdoctor batch` runs over lab domains three times:

1. calm: the default limits and a long deadline; every check completes (the control: the
   domains' own findings);
2. DNS starved: at most 1 query a second to one nameserver and a 3 s deadline, so that most
   questions to the registry's and the providers' servers are still waiting for their turn when
   the deadline comes (recorded as not sent: our side);
3. web starved: one connection at a time and one a second to one web address, with a 4 s
   deadline, so that most challenge requests to the shared hosting server are never made.

In the starved runs every check either gives exactly its calm findings, or is incomplete with
`check-unfinished` naming what our side did not complete, and no finding the calm run does not
give (no ns-lame, caa-lookup-failed, dns-servfail, www-not-covered, http-unreachable ... against
a domain for questions we never sent) unless it is true of the domain (in the scenario's
must_fire: a DNS-only calm run cannot see every one of them). At least one check of each starved run must be cut short,
or the run proved nothing. Prints each check and 'N passed, M failed'.
"""
import json
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_scenarios  # noqa: E402  (the lab helpers)

LAB = run_scenarios.LAB
# Domains at the Sakura-like and Xserver-like providers (shared nameservers and one shared
# hosting server each), healthy and broken.
DOMAINS = ["healthy-sakura.jp", "healthy-xserver.jp", "www-missing.jp", "wrong-a.jp", "stray-aaaa.jp",
           "no-address.jp", "caa-forbids.jp", "caa-ok.jp", "lame.jp", "cloudflare-moved.jp"]
OURS = {"check-unfinished", "resolver-unavailable"}


def true_findings():
    """What each domain is known to have: the union of its scenarios' must_fire."""
    with open(run_scenarios.SCENARIOS, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    out = {}
    for s in doc.get("scenarios", doc) if isinstance(doc, dict) else doc:
        if isinstance(s, dict) and "domain" in s:
            out.setdefault(s["domain"], set()).update(s.get("must_fire") or [])
    return out


TRUE = true_findings()

results = []


def check(what, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))


def batch(binary, env, extra):
    cmd = [LAB, "exec", "--", binary, "batch", "-", "--format", "json", "--allow-reserved",
           "--resolver", env["LAB_RESOLVER"], "--root-hints", env["LAB_ROOT_HINTS"],
           "--rules-dir", run_scenarios.LAB_RULES, "--ca-file", env["LAB_CA_FILE"],
           "--ct-url", "none", "--status-url", "none", "--concurrency", str(len(DOMAINS))] + extra
    p = subprocess.run(cmd, input="\n".join(DOMAINS) + "\n", capture_output=True, text=True, timeout=600)
    out = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        out[r["domain"]] = r
    return out


def ids(r):
    return sorted({f["id"] for f in r.get("findings", [])})


def unfinished_steps(r):
    for f in r.get("findings", []):
        if f["id"] == "check-unfinished":
            return str(f.get("evidence", {}).get("steps", ""))
    return ""


def compare(label, calm, starved, must_cut):
    cut = 0
    for d in DOMAINS:
        c, s = calm.get(d), starved.get(d)
        if c is None or s is None:
            check(f"{label}: {d} has a result", False, f"calm {c is not None}, starved {s is not None}")
            continue
        if s["verdict"] == "incomplete":
            steps = unfinished_steps(s)
            if must_cut in steps:
                cut += 1
            blamed = [i for i in ids(s) if i not in ids(c) and i not in OURS and i not in TRUE.get(d, set())]
            check(f"{label}: {d} incomplete, no finding the calm check lacks ({', '.join(ids(s))})",
                  not blamed and "check-unfinished" in ids(s), f"blamed: {blamed}; calm: {ids(c)}; steps: {steps[:400]}")
        else:
            check(f"{label}: {d} complete, as calm ({s['verdict']}: {', '.join(ids(s)) or 'none'})",
                  s["verdict"] == c["verdict"] and ids(s) == ids(c),
                  f"calm {c['verdict']} {ids(c)}, starved {s['verdict']} {ids(s)}")
    check(f"{label}: the limit cut checks short ({cut} incomplete with {must_cut} steps unfinished)", cut > 0)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(argv[1])
    keep = "--keep-lab" in argv
    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    try:
        env = run_scenarios.lab_env()
        calm_dns = batch(binary, env, ["--no-web", "--timeout", "30"])
        for d in DOMAINS:
            r = calm_dns.get(d)
            check(f"calm DNS: {d} complete ({r['verdict'] if r else 'no result'}: {', '.join(ids(r)) if r else ''})",
                  r is not None and r["verdict"] != "incomplete")
        starved_dns = batch(binary, env, ["--no-web", "--timeout", "3", "--max-qps-per-server", "1"])
        compare("DNS starved", calm_dns, starved_dns, "not-sent")
        calm_web = batch(binary, env, ["--timeout", "30"])
        for d in DOMAINS:
            r = calm_web.get(d)
            check(f"calm web: {d} complete ({r['verdict'] if r else 'no result'}: {', '.join(ids(r)) if r else ''})",
                  r is not None and r["verdict"] != "incomplete")
        starved_web = batch(binary, env, ["--timeout", "4", "--max-connections-per-address", "1",
                                          "--max-connects-per-second", "1"])
        compare("web starved", calm_web, starved_web, "HTTP ")
    finally:
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Several checks at once in one process sharing one probe::SharedProbes, in the lab.

usage: shared_probe.py SHARED_PROBE [--keep-lab]

SHARED_PROBE is the test program built from tests/e2e/shared_probe.cpp. The lab is brought up
(CERTDOCTOR_LAB_NS and CERTDOCTOR_LAB_DIR choose it) and taken down afterwards unless --keep-lab.

1. Checks of lab domains, each alone and then all at once sharing answers:
   - every domain has the same findings, verdict and DNS facts (answers, servers asked, walk,
     nameservers) in both runs;
   - the root's referral to jp is asked once for all of them (queries sent to the root server),
     while every check's facts still show the root's step of the walk;
   - fewer queries are sent in all, and answers were taken from the shared cache;
   - CT is asked once for two checks of one registered domain (counted in nginx's access log of
     the lab's CT server), twice when they run alone.
2. Web politeness, measured at a server that counts the connections open at once
   (tests/e2e/concurrency_server.py, on an address of its own in the lab):
   - without limits, many probes at once open far more than M connections (the measure works);
   - with at most M connections per address, the server never sees more than M, and every
     request is still made;
   - when the deadline comes while requests wait for a slot, they are recorded as not sent
     because of the batch's limit (our side), never as the server's failure.
Prints each check and 'N passed, M failed'.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_scenarios  # noqa: E402  (the lab helpers)

LAB = run_scenarios.LAB
HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "concurrency_server.py")
DOMAINS = ["healthy-sakura.jp", "missing.healthy-sakura.jp", "healthy-xserver.jp", "cloudflare-ok.jp",
           "wrong-a.jp", "www-missing.jp", "no-address.jp", "stray-aaaa.jp"]
ROOT_SERVER = "192.0.2.1"
WEB_ADDRESS = "192.0.2.250"  # no lab service uses it; added on the lab's lo for this test
LIMIT = 3

results = []


def check(what, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))


def ct_requests(log, domain):
    if not os.path.exists(log):
        return 0
    with open(log, encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if f"q={domain}&" in line)


def run_checks(binary, env):
    log = os.path.join(os.path.dirname(env["LAB_WEB_FIXTURES"]), "access.log")
    before = ct_requests(log, "healthy-sakura.jp")
    cmd = [LAB, "exec", "--", binary, "checks", "--resolver", env["LAB_RESOLVER"], "--root-hints", env["LAB_ROOT_HINTS"],
           "--rules-dir", run_scenarios.LAB_RULES, "--ca-file", env["LAB_CA_FILE"], "--ct-url", env["LAB_CT_URL"],
           "--timeout", "20"] + DOMAINS
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        check("the checks ran", False, p.stderr[-2000:])
        return
    out = json.loads(p.stdout)
    after = ct_requests(log, "healthy-sakura.jp")
    alone, shared = out["alone"], out["shared"]
    for d in DOMAINS:
        a, s = alone[d], shared[d]
        check(f"{d}: the same findings alone and shared ({', '.join(a['findings']) or 'none'})",
              a["findings"] == s["findings"] and a["verdict"] == s["verdict"],
              f"alone {a['verdict']} {a['findings']}\n     shared {s['verdict']} {s['findings']}")
        check(f"{d}: the same DNS facts alone and shared", a["dns"] == s["dns"],
              json.dumps(a["dns"], sort_keys=True)[:1500] + "\n     " + json.dumps(s["dns"], sort_keys=True)[:1500])
        check(f"{d}: CT answered ({s['ct']['outcome']})", a["ct"]["outcome"] == "ok" and s["ct"]["outcome"] == "ok",
              json.dumps([a["ct"], s["ct"]]))
    root_steps = sum(1 for d in DOMAINS for step in shared[d]["dns"]["walk"] if step["lookup"]["server"] == ROOT_SERVER)
    sent_root = out["sent_per_server"].get(ROOT_SERVER, 0)
    check(f"the root's referral to jp asked once for {len(DOMAINS)} checks (sent {sent_root}; "
          f"{root_steps} walk steps at the root in the facts)", sent_root == 1 and root_steps >= len(DOMAINS),
          json.dumps(out["sent_per_server"]))
    sent_alone = sum(alone[d]["queries_sent"] for d in DOMAINS)
    sent_shared = sum(shared[d]["queries_sent"] for d in DOMAINS)
    check(f"fewer queries sent shared ({sent_shared}) than alone ({sent_alone}); "
          f"{out['answers_shared']} answers shared", sent_shared < sent_alone and out["answers_shared"] > 0)
    # Alone: one CT request per check of healthy-sakura.jp (two), shared: one for both.
    check(f"CT asked once for the two checks of healthy-sakura.jp (nginx saw {after - before}; alone 2 + shared 1)",
          after - before == 3, log)
    print(f"     alone: {sum(alone[d]['elapsed_ms'] for d in DOMAINS) / 1000:.2f} s one after the other; "
          f"shared: {out['shared_elapsed_ms'] / 1000:.2f} s at once")


def web_run(binary, connections, probes, timeout, hold):
    with tempfile.TemporaryDirectory() as tmp:
        state, stop = os.path.join(tmp, "state"), os.path.join(tmp, "stop")
        server = subprocess.Popen([LAB, "exec", "--", "python3", SERVER, WEB_ADDRESS, state, stop, str(hold)])
        try:
            for _ in range(100):
                if os.path.exists(state):
                    break
                time.sleep(0.05)
            p = subprocess.run([LAB, "exec", "--", binary, "web", "--address", WEB_ADDRESS, "--probes", str(probes),
                                "--connections", str(connections), "--timeout", str(timeout)],
                               capture_output=True, text=True, timeout=120)
            time.sleep(hold + 0.3)  # the last connections end
            with open(state) as f:
                most, total = (int(x) for x in f.read().split())
        finally:
            open(stop, "w").close()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
        if p.returncode != 0:
            check(f"the web probes ran (limit {connections})", False, p.stderr[-2000:])
            return None
        return json.loads(p.stdout), most, total


def exchanges(out):
    for probe in out["probes"]:
        for r in probe:
            if r["kind"] == "challenge":
                for h in r["hops"]:
                    yield h["outcome"], h["error"]
            elif r["kind"] == "unknown-host":
                yield r["exchange"]["outcome"], r["exchange"]["error"]
            else:
                yield r["outcome"], r["error"]


def run_web(binary):
    subprocess.run([LAB, "exec", "--", "ip", "addr", "add", WEB_ADDRESS + "/32", "dev", "lo"],
                   stderr=subprocess.DEVNULL)
    try:
        probes = 6  # each: the challenge path, three unknown-host requests and the TLS handshake
        free = web_run(binary, 0, probes, 20, 0.3)
        if free:
            out, most, total = free
            check(f"without limits the server sees many connections at once ({most} of {total})",
                  most > LIMIT and total == probes * 5)
        limited = web_run(binary, LIMIT, probes, 20, 0.3)
        if limited:
            out, most, total = limited
            waited = [e for _, e in exchanges(out) if "waiting for a connection" in e]
            answered = [o for o, _ in exchanges(out) if o == "response"]
            check(f"at most {LIMIT} connections at once to one address: the server saw {most} of {total}",
                  1 < most <= LIMIT and total == probes * 5, f"most {most}, total {total}")
            check(f"every request made under the limit ({len(answered)} answers on port 80)",
                  not waited and len(answered) == probes * 4, json.dumps(out)[:2000])
        late = web_run(binary, 1, probes, 2, 0.3)
        if late:
            out, most, total = late
            waited = [(o, e) for o, e in exchanges(out) if "waiting for a connection" in e]
            check(f"the deadline while waiting for a slot: {len(waited)} requests not sent, said to be the batch's limit",
                  waited and all(o == "not-sent" for o, _ in waited) and most <= 1, json.dumps(out)[:2000])
    finally:
        subprocess.run([LAB, "exec", "--", "ip", "addr", "del", WEB_ADDRESS + "/32", "dev", "lo"],
                       stderr=subprocess.DEVNULL)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(argv[1])
    keep = "--keep-lab" in argv
    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    try:
        env = run_scenarios.lab_env()
        run_checks(binary, env)
        run_web(binary)
    finally:
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

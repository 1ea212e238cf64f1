#!/usr/bin/env python3
"""A fix made at the authoritative server while the lab resolver still caches the old answer.

propagation.jp (zone at the Sakura-like knotd, every record TTL 300) points apex and www to an old
server. The test:
  1. flushes the zone from unbound, then checks it as it is: a-not-host fires, dns-not-propagated
     does not (nothing differs); this puts the old answers into unbound's cache afresh, with the
     TTL left read from the facts;
  2. edits the zone at knotd (tests/lab/mutate.py --no-flush: apex and www to the Sakura host, the
     resolver not told), and checks that the server now answers the new address without recursion;
  3. checks again without flushing the resolver: dns-not-propagated fires for the A of apex and
     www (variant changed) with the old and the new address, the time left in the resolver's
     cache within 3 s of what step 1's TTL says is left now, and the time every resolver sees
     the change 300 s after the check; a-not-host still fires on the cached answer;
  4. replays the facts of step 3 offline: the same findings and the same times;
  5. a record that was missing: www removed (the resolver told), a check caches the negative
     answer (NXDOMAIN with the zone's SOA), www added back at knotd only, and a check again:
     dns-not-propagated for www with the cached negative answer's time left (basis negative-ttl,
     within 3 s of the SOA TTL step 5's first check saw: the lab resolver keeps a negative answer
     at most 30 s), the new address as the zone's answer;
  6. always, even after a failure: restores the zone (mutate.py restore: the zone file again, the
     resolver flushed), so that other tests see the zone file's content, and checks that the
     resolver answers it again.

usage: propagation.py CERTDOCTOR [--keep-lab] [--save-facts FILE]
       propagation.py CERTDOCTOR --replay FILE

--keep-lab leaves the lab running (it is brought up unless it runs); --save-facts keeps the
facts of step 3 (tests/e2e/facts/propagation.jp-pending.json). Needs root (the lab).
--replay judges such saved facts offline (no lab, no root): the checks of step 3 against the
facts' own collection time and TTLs. Prints each check and 'N passed, M failed'.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_scenarios  # noqa: E402  (the lab helpers: lab_env, run_check, explain)

LAB = run_scenarios.LAB
sys.path.insert(0, os.path.dirname(LAB))
import mutate  # noqa: E402  (the lab's zones edited at their knotd, and put back)
DOMAIN = "propagation.jp"
OLD, NEW = "198.51.100.77", "203.0.113.10"
SAKURA_NS = "192.0.2.11"
ARGS = ["--server-ip", NEW]
TOLERANCE = 3  # seconds


def kdig(server, name, recurse=True):
    cmd = [LAB, "exec", "--", "kdig", "@" + server, name, "A", "+short"] + ([] if recurse else ["+norec"])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def flush(lab):
    lab.flush(DOMAIN)


def seconds(rfc3339):
    return datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def findings(report, rid):
    return [f for f in (report or {}).get("findings", []) if f["id"] == rid]


def check_pending(check, report, facts, code):
    """Step 3's checks of one report over `facts` (what the facts say is left in the cache)."""
    now = seconds(facts["collected_at"])
    ttl_now = {n["name"]: min(r["ttl"] for r in n["a"]["answer"]) for n in facts["names"] if n["a"]["answer"]}
    pending = findings(report, "dns-not-propagated")
    check("dns-not-propagated fires for apex and www",
          sorted(p["evidence"].get("name", "") for p in pending) == [DOMAIN, "www." + DOMAIN],
          json.dumps([p["evidence"] for p in pending], ensure_ascii=False)[:500])
    for p in pending:
        ev = p["evidence"]
        name = ev.get("name")
        # The report names no variant: the changed variant's own title says it.
        check(f"{name}: the changed record's words, type A",
              p.get("title", "").startswith(f"The change to {name}'s A record") and ev.get("record_type") == "A",
              p.get("title", ""))
        check(f"{name}: cached {OLD}, zone {NEW}", ev.get("cached") == OLD and ev.get("zone_answer") == NEW,
              json.dumps(ev)[:300])
        check(f"{name}: the resolver's TTL is the time left", ev.get("remaining") == ttl_now.get(name),
              f"{ev.get('remaining')} != {ttl_now.get(name)}")
        check(f"{name}: our resolver sees it at collection + remaining",
              bool(ev.get("visible_at")) and seconds(ev["visible_at"]) == now + (ev.get("remaining") or 0),
              str(ev.get("visible_at")))
        check(f"{name}: every resolver sees it 300 s after the check",
              bool(ev.get("latest_at")) and seconds(ev["latest_at"]) == now + 300, str(ev.get("latest_at")))
        check(f"{name}: the remediation names the time", ev.get("latest_at", "?") in p.get("remediation", ""),
              p.get("remediation", "")[:300])
    stale = findings(report, "a-not-host")
    check("a-not-host still fires on the cached answer, saying the nameservers already give the host",
          bool(stale) and all("from resolver caches" in f.get("title", "") for f in stale),
          "; ".join(f.get("title", "") for f in stale))
    check("exit 1 (the cached answer still blocks)", code == 1, f"exit {code}")
    return pending


def added_view_propagation(binary, facts_file):
    """The view's propagation entries of saved facts (`explain --view`)."""
    p = subprocess.run([binary, "explain", "--facts", facts_file, "--view", "--rules-dir", run_scenarios.LAB_RULES],
                       capture_output=True, text=True, timeout=60)
    try:
        return json.loads(p.stdout).get("propagation", [])
    except json.JSONDecodeError:
        return []


def replay_facts(binary, path):
    results = []

    def check(what, ok, detail=""):
        results.append(ok)
        print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else ": " + detail))

    with open(path, encoding="utf-8") as f:
        facts = json.load(f)
    code, report, err = run_scenarios.explain(binary, path)
    check("replay: a report", report is not None, err.strip()[:300])
    check_pending(check, report, facts, code)
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


def main(argv):
    binary = run_scenarios.binary_argument(argv, __doc__)
    if "--replay" in argv:
        return replay_facts(binary, argv[argv.index("--replay") + 1])
    keep = "--keep-lab" in argv
    save = argv[argv.index("--save-facts") + 1] if "--save-facts" in argv else None
    results = []

    def check(what, ok, detail=""):
        results.append(ok)
        print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else ": " + detail))

    if subprocess.run([LAB, "status"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    env = run_scenarios.lab_env()
    lab = mutate.Lab(env["LAB_DIR"])
    edited = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # 1. As the zone file has it: nothing differs. The zone leaves the resolver's cache
            # first, so that this check caches the old answer afresh (a full 300 s, whatever ran
            # before); from here on nothing is flushed until the restore.
            flush(lab)
            before_file = os.path.join(tmp, "before.json")
            code, report, err, _ = run_scenarios.run_check(binary, env, DOMAIN, ARGS, before_file)
            check("before: a-not-host fires", bool(findings(report, "a-not-host")), err.strip()[:300])
            check("before: dns-not-propagated does not fire", not findings(report, "dns-not-propagated"))
            with open(before_file, encoding="utf-8") as f:
                before = json.load(f)
            cached_at = seconds(before["collected_at"])
            ttl_left = {n["name"]: min(r["ttl"] for r in n["a"]["answer"]) for n in before["names"]}
            check("before: the resolver caches the old address",
                  all(OLD in [r["data"] for r in n["a"]["answer"]] for n in before["names"]))

            # 2. The fix, at the authoritative server only.
            edited = True
            lab.set_rrset(DOMAIN, "@", "A", [NEW], ttl=300, flush=False)
            lab.set_rrset(DOMAIN, "www", "A", [NEW], ttl=300, flush=False)
            for name in (DOMAIN, "www." + DOMAIN):
                got = kdig(SAKURA_NS, name, recurse=False)
                check(f"knotd answers {name} A {NEW} after the edit", got == [NEW], str(got))
                got = kdig(env.get("LAB_RESOLVER", "192.0.2.53"), name)
                check(f"the resolver still answers {name} A {OLD}", got == [OLD], str(got))

            # 3. Checked again, the resolver not flushed.
            after_file = os.path.join(tmp, "after.json")
            code, report, err, _ = run_scenarios.run_check(binary, env, DOMAIN, ARGS, after_file)
            with open(after_file, encoding="utf-8") as f:
                after = json.load(f)
            now = seconds(after["collected_at"])
            pending = check_pending(check, report, after, code)
            for p in pending:
                name, got = p["evidence"].get("name"), p["evidence"].get("remaining")
                want = ttl_left.get(name, 0) - (now - cached_at)
                check(f"{name}: {got} s left in the resolver's cache, {want:.0f} +- {TOLERANCE} since step 1",
                      isinstance(got, int) and abs(got - want) <= TOLERANCE)

            # 4. The saved facts replay to the same findings and times.
            rcode, replay, rerr = run_scenarios.explain(binary, after_file)
            same = [(f["id"], f.get("evidence")) for f in (replay or {}).get("findings", [])] == \
                   [(f["id"], f.get("evidence")) for f in (report or {}).get("findings", [])]
            check("replay: the same findings and evidence", same and rcode == code, rerr.strip()[:300])
            if save:
                with open(after_file, encoding="utf-8") as src, open(save, "w", encoding="utf-8") as dst:
                    dst.write(src.read())

            # 5. A record that was missing: the negative answer the resolver caches holds the fix
            # back for the SOA's TTL (RFC 2308), not for a record's TTL.
            lab.unset(DOMAIN, "www", "A")  # the resolver is told: it forgets the zone
            missing_file = os.path.join(tmp, "missing.json")
            code, report, err, _ = run_scenarios.run_check(binary, env, DOMAIN, ARGS, missing_file)
            with open(missing_file, encoding="utf-8") as f:
                missing = json.load(f)
            www = next((n for n in missing["names"] if n["name"] == "www." + DOMAIN), None)
            check("missing: the resolver answers NXDOMAIN for www with the zone's SOA",
                  bool(www) and www["a"]["outcome"] == "nxdomain" and
                  any(r["type"] == "SOA" for r in www["a"].get("authority", [])),
                  json.dumps((www or {}).get("a", {}))[:300])
            neg_ttl = min((r["ttl"] for r in (www or {}).get("a", {}).get("authority", []) if r["type"] == "SOA"),
                          default=None)
            cached_at = seconds(missing["collected_at"])
            lab.set_rrset(DOMAIN, "www", "A", [NEW], ttl=300, flush=False)  # the resolver is not told
            got = kdig(SAKURA_NS, "www." + DOMAIN, recurse=False)
            check(f"knotd answers www.{DOMAIN} A {NEW} again", got == [NEW], str(got))
            got = kdig(env.get("LAB_RESOLVER", "192.0.2.53"), "www." + DOMAIN)
            check(f"the resolver still has no address for www.{DOMAIN}", got == [], str(got))
            added_file = os.path.join(tmp, "added.json")
            code, report, err, _ = run_scenarios.run_check(binary, env, DOMAIN, ARGS, added_file)
            with open(added_file, encoding="utf-8") as f:
                added = json.load(f)
            pending = [p for p in findings(report, "dns-not-propagated")
                       if p["evidence"].get("name") == "www." + DOMAIN]
            check("added: dns-not-propagated fires for www", len(pending) == 1,
                  json.dumps([p["evidence"] for p in findings(report, "dns-not-propagated")])[:400])
            for p in pending:
                ev = p["evidence"]
                want = (neg_ttl or 0) - (seconds(added["collected_at"]) - cached_at)
                check("added: the cached answer is the negative one, the zone's is the new address",
                      ev.get("zone_answer") == NEW and ev.get("cached") == "-", json.dumps(ev)[:300])
                check(f"added: {ev.get('remaining')} s left of the negative answer, {want:.0f} +- {TOLERANCE}",
                      isinstance(ev.get("remaining"), int) and neg_ttl is not None and
                      abs(ev["remaining"] - want) <= TOLERANCE, json.dumps(ev)[:300])
            basis = [e.get("basis") for e in added_view_propagation(binary, added_file)
                     if e.get("name") == "www." + DOMAIN]
            check("added: the time comes from the cached negative answer (basis negative-ttl)",
                  basis == ["negative-ttl"], str(basis))
    finally:
        # 6. The zone file's content again, and out of the resolver's cache.
        if edited:
            lab.restore()
            for name in (DOMAIN, "www." + DOMAIN):
                got = kdig(env.get("LAB_RESOLVER", "192.0.2.53"), name)
                check(f"restored: the resolver answers {name} A {OLD}", got == [OLD], str(got))
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""End-to-end: `certdoctor diff` over two checks of one domain between which the lab changed.

Each case checks a lab domain, changes the running lab with tests/lab/mutate.py (a zone edited at
its knotd, forwarding switched on at the hosting nginx), checks again, puts the lab back, and runs
`certdoctor diff --from BEFORE --to AFTER`: the change must be named (kind, name, before, after)
and explain the finding that appeared, and no change may explain a finding it has nothing to do
with. Cases:
  nameservers   cloudflare-moved.jp delegated to the Xserver-like servers, then to the
                Cloudflare-like ones (as in the lab): a-not-host appears
  aaaa+caa      an AAAA of another host and a CAA for another CA added to healthy-sakura.jp (the
                parent of www.healthy-sakura.jp): aaaa-not-host and caa-forbids appear, each
                explained by its own change only
  forwarding    healthy-xserver.jp forwarded to elsewhere.jp: http-redirect-offsite appears
  unrenewed     healthy-xserver.jp's facts with the time moved past Xserver's renewal days (the
                same certificate still served): cert-not-renewed appears
  unchanged     two checks of an unchanged domain: nothing changed, said plainly
  live --to     --to left out: the domain of --from is checked now, with its arguments

usage: diff_live.py CERTDOCTOR [--keep-lab]
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_scenarios import LAB, LAB_RULES, binary_argument, lab_env, run_check  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(LAB)))
import mutate  # noqa: E402

SAKURA = ["--server-ip", "203.0.113.10"]
XSERVER = ["--provider", "xserver", "--server-ip", "203.0.113.20", "--server-ip", "2001:db8:20::20"]


def check(binary, env, domain, args, path):
    rc, report, stderr, _elapsed = run_check(binary, env, domain, args, facts_out=path)
    if not os.path.exists(path):
        raise AssertionError(f"check {domain} saved no facts (exit {rc}): {stderr[:300]}")
    return rc, report


def diff(binary, before, after, lang="en", fmt="json", extra=()):
    cmd = [binary, "diff", "--from", before, "--format", fmt, "--lang", lang, "--width", "0",
           "--rules-dir", LAB_RULES, *extra]
    if after:
        cmd += ["--to", after]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    out = json.loads(p.stdout) if fmt == "json" and p.stdout.strip() else p.stdout
    return p.returncode, out, p.stderr


def changes_of(result, kind):
    return [c for c in result["changes"] if c["kind"] == kind]


def explaining(result, finding_id):
    """The kinds of the changes that explain each appearance of finding_id (a set)."""
    kinds = set()
    found = False
    for f in result["findings"]:
        if f["id"] == finding_id and f["state"] == "appeared":
            found = True
            kinds |= {result["changes"][i]["kind"] for i in f["explained_by"]}
    return kinds if found else None


class Case:
    def __init__(self, name):
        self.name = name
        self.problems = []

    def expect(self, condition, message):
        if not condition:
            self.problems.append(message)


def case_nameservers(binary, env, lab, tmp):
    c = Case("nameservers moved to the Cloudflare-like DNS")
    before, after = os.path.join(tmp, "ns-a.json"), os.path.join(tmp, "ns-b.json")
    # Before: the registry delegates cloudflare-moved.jp to the Xserver-like servers, which
    # still hold the zone with the Xserver host's address.
    with lab:
        lab.set_rrset("jp", "cloudflare-moved", "NS", [f"ns{i}.xserver.jp." for i in range(1, 6)], ttl=3600)
        check(binary, env, "cloudflare-moved.jp", XSERVER, before)
    lab.flush()
    check(binary, env, "cloudflare-moved.jp", XSERVER, after)
    rc, r, err = diff(binary, before, after)
    c.expect(isinstance(r, dict), f"no JSON from diff: {err[:300]}")
    if not isinstance(r, dict):
        return c
    ns = changes_of(r, "nameservers-parent")
    c.expect(len(ns) == 1 and "ns1.xserver.jp" in ns[0]["before"] and
             ns[0]["after"] == ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
             f"nameservers-parent change: {ns}")
    a = [x for x in changes_of(r, "a") if x["name"] == "cloudflare-moved.jp"]
    c.expect(len(a) == 1 and a[0]["before"] == ["203.0.113.20"] and a[0]["after"] == ["203.0.113.99"],
             f"A change of cloudflare-moved.jp: {a}")
    kinds = explaining(r, "a-not-host")
    c.expect(kinds is not None and "nameservers-parent" in kinds and "a" in kinds,
             f"a-not-host explained by {kinds}")
    c.expect(rc == 1, f"exit {rc}, expected 1 (the later check has blocking problems)")
    _, text, _ = diff(binary, before, after, fmt="text")
    c.expect("moved from ns1.xserver.jp" in text and "— this is why" in text and "a-not-host" in text,
             f"text lacks the sentence: {text[:400]}")
    _, ja, _ = diff(binary, before, after, lang="ja", fmt="text")
    c.expect("ネームサーバーが" in ja and "a-not-host" in ja, f"ja text: {ja[:300]}")
    return c


def case_aaaa_caa(binary, env, lab, tmp):
    c = Case("an AAAA and a CAA added")
    before, after = os.path.join(tmp, "aaaa-a.json"), os.path.join(tmp, "aaaa-b.json")
    check(binary, env, "healthy-sakura.jp", SAKURA, before)
    with lab:
        lab.add("healthy-sakura.jp", "@", "AAAA", "2001:db8:99::1")
        lab.add("healthy-sakura.jp", "@", "CAA", '0 issue "ca.example.net"')
        check(binary, env, "healthy-sakura.jp", SAKURA, after)
    rc, r, err = diff(binary, before, after)
    if not isinstance(r, dict):
        c.expect(False, f"no JSON from diff: {err[:300]}")
        return c
    aaaa = changes_of(r, "aaaa")
    c.expect(any(x["name"] == "healthy-sakura.jp" and x["action"] == "added" and x["after"] == ["2001:db8:99::1"]
                 for x in aaaa), f"AAAA change: {aaaa}")
    caa = changes_of(r, "caa")
    c.expect(len(caa) == 1 and caa[0]["name"] == "healthy-sakura.jp" and caa[0]["action"] == "added"
             and caa[0]["after"] == ['0 issue "ca.example.net"'], f"CAA change: {caa}")
    c.expect(explaining(r, "aaaa-not-host") == {"aaaa"}, f"aaaa-not-host explained by {explaining(r, 'aaaa-not-host')}")
    c.expect(explaining(r, "caa-forbids") == {"caa"}, f"caa-forbids explained by {explaining(r, 'caa-forbids')}")
    c.expect(rc == 1, f"exit {rc}, expected 1")
    return c


def case_forwarding(binary, env, lab, tmp):
    c = Case("forwarding switched on")
    before, after = os.path.join(tmp, "fw-a.json"), os.path.join(tmp, "fw-b.json")
    check(binary, env, "healthy-xserver.jp", XSERVER, before)
    with lab:
        lab.forward("healthy-xserver.jp", "http://elsewhere.jp", [env["LAB_XSERVER_HOST"], env["LAB_XSERVER_HOST6"]])
        check(binary, env, "healthy-xserver.jp", XSERVER, after)
    rc, r, err = diff(binary, before, after)
    if not isinstance(r, dict):
        c.expect(False, f"no JSON from diff: {err[:300]}")
        return c
    red = changes_of(r, "redirect")
    c.expect(any(x["action"] == "added" and x["after"] and x["after"][0].startswith("http://elsewhere.jp/.well-known/")
                 for x in red), f"redirect change: {red}")
    kinds = explaining(r, "http-redirect-offsite")
    c.expect(kinds is not None and "redirect" in kinds and not kinds & {"a", "aaaa", "caa", "nameservers-parent"},
             f"http-redirect-offsite explained by {kinds}")
    return c


def case_unrenewed(binary, env, lab, tmp):
    c = Case("a certificate left unrenewed")
    before, after = os.path.join(tmp, "cert-a.json"), os.path.join(tmp, "cert-b.json")
    check(binary, env, "healthy-xserver.jp", XSERVER, before)
    facts = json.load(open(before))
    leaf = next(t["chain"][0] for t in facts["web"]["tls"] if t.get("outcome") == "handshake" and t["chain"])
    not_after = datetime.datetime.strptime(leaf["not_after"], "%Y-%m-%dT%H:%M:%SZ")
    # The same certificate, 20 days before it expires: past Xserver's renewal days (30, 25).
    facts["collected_at"] = (not_after - datetime.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    json.dump(facts, open(after, "w"))
    rc, r, err = diff(binary, before, after)
    if not isinstance(r, dict):
        c.expect(False, f"no JSON from diff: {err[:300]}")
        return c
    un = changes_of(r, "certificate-unrenewed")
    c.expect(un and un[0]["after"] == ["20"], f"certificate-unrenewed change: {un}")
    c.expect(explaining(r, "cert-not-renewed") == {"certificate-unrenewed"},
             f"cert-not-renewed explained by {explaining(r, 'cert-not-renewed')}")
    c.expect(not changes_of(r, "certificate-issuer") and not changes_of(r, "a"), f"other changes: {r['changes']}")
    return c


def case_unchanged(binary, env, lab, tmp):
    c = Case("nothing changed; --to left out")
    before = os.path.join(tmp, "same-a.json")
    check(binary, env, "healthy-sakura.jp", SAKURA, before)
    # --to left out: the same domain checked now, with the earlier check's arguments.
    cmd = [LAB, "exec", "--", binary, "diff", "--from", before, "--lang", "en", "--width", "0",
           "--rules-dir", LAB_RULES, "--allow-reserved", "--root-hints", env["LAB_ROOT_HINTS"], "--no-cache",
           "--ct-url", "none", "--status-url", "none", "--ca-file", env["LAB_CA_FILE"], "--timeout", "20"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    c.expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr[:300]}")
    c.expect("Nothing changed between the two checks" in p.stdout, f"text: {p.stdout[:400]}")
    return c


CASES = [case_nameservers, case_aaaa_caa, case_forwarding, case_unrenewed, case_unchanged]


def main(argv):
    binary = binary_argument(argv, __doc__)
    keep = "--keep-lab" in argv
    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    failed = 0
    try:
        env = lab_env()
        lab = mutate.Lab(env["LAB_DIR"])
        with tempfile.TemporaryDirectory() as tmp:
            for case in CASES:
                try:
                    c = case(binary, env, lab, tmp)
                except Exception as e:  # a failed step is this case's failure, the lab is restored
                    lab.restore()
                    c = Case(case.__name__)
                    c.problems.append(f"{type(e).__name__}: {e}")
                status = "ok" if not c.problems else "FAIL"
                print(f"{status:4} {c.name}")
                for p in c.problems:
                    print(f"     {p}")
                failed += bool(c.problems)
    finally:
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL)
    print(f"{len(CASES) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

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
  triage        `triage` of a certbot failure naming three domains, with a history (--db): one
                passed before an AAAA was added (what changed since it last worked, the finding it
                explains), one never passed, one was never recorded; in JSON, text, Markdown and
                HTML; no history file or --no-history: nothing compared

The before and after facts of every case but the last can be saved (--save-facts DIR, into
tests/e2e/diff-facts) and judged again offline (--replay DIR, suite rules): a rule change that
breaks an explanation shows without the lab.

usage: diff_live.py CERTDOCTOR [--keep-lab] [--save-facts DIR]
       diff_live.py CERTDOCTOR --replay DIR
"""
import datetime
import json
import os
import re
import shutil
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


def collect_nameservers(binary, env, lab, before, after):
    # Before: the registry delegates cloudflare-moved.jp to the Xserver-like servers, which
    # still hold the zone with the Xserver host's address.
    with lab:
        lab.set_rrset("jp", "cloudflare-moved", "NS", [f"ns{i}.xserver.jp." for i in range(1, 6)], ttl=3600)
        check(binary, env, "cloudflare-moved.jp", XSERVER, before)
    lab.flush()
    check(binary, env, "cloudflare-moved.jp", XSERVER, after)


def judge_nameservers(binary, before, after):
    c = Case("nameservers moved to the Cloudflare-like DNS")
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


def collect_aaaa_caa(binary, env, lab, before, after):
    check(binary, env, "healthy-sakura.jp", SAKURA, before)
    with lab:
        lab.add("healthy-sakura.jp", "@", "AAAA", "2001:db8:99::1")
        lab.add("healthy-sakura.jp", "@", "CAA", '0 issue "ca.example.net"')
        check(binary, env, "healthy-sakura.jp", SAKURA, after)


def judge_aaaa_caa(binary, before, after):
    c = Case("an AAAA and a CAA added")
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


def collect_forwarding(binary, env, lab, before, after):
    check(binary, env, "healthy-xserver.jp", XSERVER, before)
    with lab:
        lab.forward("healthy-xserver.jp", "http://elsewhere.jp", [env["LAB_XSERVER_HOST"], env["LAB_XSERVER_HOST6"]])
        check(binary, env, "healthy-xserver.jp", XSERVER, after)


def judge_forwarding(binary, before, after):
    c = Case("forwarding switched on")
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


def collect_unrenewed(binary, env, lab, before, after):
    check(binary, env, "healthy-xserver.jp", XSERVER, before)
    facts = json.load(open(before))
    leaf = next(t["chain"][0] for t in facts["web"]["tls"] if t.get("outcome") == "handshake" and t["chain"])
    not_after = datetime.datetime.strptime(leaf["not_after"], "%Y-%m-%dT%H:%M:%SZ")
    # The same certificate, 20 days before it expires: past Xserver's renewal days (30, 25).
    facts["collected_at"] = (not_after - datetime.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    json.dump(facts, open(after, "w"), indent=2)


def judge_unrenewed(binary, before, after):
    c = Case("a certificate left unrenewed")
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


def collect_unchanged(binary, env, lab, before, after):
    check(binary, env, "healthy-sakura.jp", SAKURA, before)  # the later side: diff's own live check


def judge_unchanged(binary, before, after):
    c = Case("nothing changed; --to left out")
    env = lab_env()
    # --to left out: the same domain checked now, with the earlier check's arguments.
    cmd = [LAB, "exec", "--", binary, "diff", "--from", before, "--lang", "en", "--width", "0",
           "--rules-dir", LAB_RULES, "--allow-reserved", "--root-hints", env["LAB_ROOT_HINTS"], "--no-cache",
           "--ct-url", "none", "--status-url", "none", "--ca-file", env["LAB_CA_FILE"], "--timeout", "20"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    c.expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr[:300]}")
    c.expect("Nothing changed between the two checks" in p.stdout, f"text: {p.stdout[:400]}")
    return c


def certbot_failure(domains):
    """A certbot failure naming each of `domains` (the CA's words for a 404)."""
    text = ("Certbot failed to authenticate some domains (authenticator: webroot). The Certificate "
            "Authority reported these problems:\n")
    for i, d in enumerate(domains):
        text += (f"  Domain: {d}\n  Type:   unauthorized\n"
                 f"  Detail: 203.0.113.10: Invalid response from http://{d}/.well-known/acme-challenge/x{i}: 404\n\n")
    return text.encode()


def triage_with_history(binary, env, lab, tmp):
    c = Case("triage compares each domain with its last passing check")
    db = os.path.join(tmp, "history.sqlite3")
    empty_home = os.path.join(tmp, "no-history")
    os.makedirs(empty_home, exist_ok=True)
    common = ["--allow-reserved", "--root-hints", env["LAB_ROOT_HINTS"], "--rules-dir", LAB_RULES, "--no-cache",
              "--ct-url", "none", "--status-url", "none", "--ca-file", env["LAB_CA_FILE"], "--timeout", "40",
              "--server-ip", "203.0.113.10", "--width", "0"]
    run_env = dict(os.environ, LANG="C", LC_ALL="C", XDG_DATA_HOME=empty_home)

    def certdoctor(args, stdin=None):
        p = subprocess.run([LAB, "exec", "--", binary] + args, input=stdin, capture_output=True, timeout=180,
                           env=run_env)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    ids = {}
    for domain, code in (("healthy-sakura.jp", 0), ("www-missing.jp", 1)):
        rc, out, err = certdoctor(["check", "--format", "json", "--record", "--db", db] + common + [domain])
        c.expect(rc == code, f"check --record {domain}: exit {rc}, expected {code}: {err[:200]}")
        for line in err.splitlines():
            m = re.search(r"recorded as check (\d+)", line)
            if m:
                ids[domain] = int(m.group(1))
    notice = os.path.join(tmp, "certbot.log")
    with open(notice, "wb") as f:
        f.write(certbot_failure(["healthy-sakura.jp", "www-missing.jp", "http-basic-auth.jp"]))
    with lab:
        lab.add("healthy-sakura.jp", "@", "AAAA", "2001:db8:99::1")
        outputs = {}
        for fmt in ("json", "text", "markdown", "html"):
            rc, out, err = certdoctor(["triage", "--format", fmt, "--lang", "en", "--db", db] + common + [notice])
            c.expect(rc == 1, f"triage --format {fmt}: exit {rc}, expected 1: {err[:200]}")
            outputs[fmt] = out
        rc, ja, err = certdoctor(["triage", "--format", "text", "--lang", "ja", "--db", db] + common + [notice])
        rc_none, plain, _ = certdoctor(["triage", "--format", "json", "--lang", "en"] + common + [notice])
        rc_off, off, _ = certdoctor(["triage", "--format", "json", "--lang", "en", "--db", db, "--no-history"] + common +
                                    [notice])
    try:
        r = json.loads(outputs["json"])
    except json.JSONDecodeError:
        c.expect(False, f"no JSON from triage: {outputs['json'][:300]}")
        return c
    checks = {x["domain"]: x for x in r["checks"]}
    c.expect(set(checks) == {"healthy-sakura.jp", "www-missing.jp", "http-basic-auth.jp"}, f"checked: {list(checks)}")
    h = (checks.get("healthy-sakura.jp") or {}).get("history") or {}
    c.expect(h.get("state") == "compared" and h.get("from_id") == ids.get("healthy-sakura.jp"),
             f"healthy-sakura.jp history: {str(h)[:300]} (recorded ids {ids})")
    d = h.get("diff") or {"changes": [], "findings": []}
    aaaa = [x for x in d["changes"] if x["kind"] == "aaaa" and x["name"] == "healthy-sakura.jp"]
    c.expect(len(aaaa) == 1 and aaaa[0]["action"] == "added" and aaaa[0]["after"] == ["2001:db8:99::1"]
             and aaaa[0]["text"], f"AAAA change: {aaaa}")
    c.expect(explaining(d, "aaaa-not-host") == {"aaaa"}, f"aaaa-not-host explained by {explaining(d, 'aaaa-not-host')}")
    w = (checks.get("www-missing.jp") or {}).get("history") or {}
    c.expect(w.get("state") == "never-passed" and w.get("recorded") == 1 and w.get("diff") is None,
             f"www-missing.jp history: {w}")
    b = (checks.get("http-basic-auth.jp") or {}).get("history") or {}
    c.expect(b.get("state") == "no-record" and b.get("recorded") == 0, f"http-basic-auth.jp history: {b}")
    text = outputs["text"]
    c.expect("Since it last worked: healthy-sakura.jp" in text and "the last check of healthy-sakura.jp that passed" in text
             and "2001:db8:99::1" in text and "None of the 1 recorded checks of www-missing.jp passed" in text
             and "No check of http-basic-auth.jp is recorded" in text, f"text: {text[-1500:]}")
    c.expect("前回うまくいってからの変化" in ja and "一つも成功していない" in ja, f"ja text: {ja[-800:]}")
    md = outputs["markdown"]
    c.expect("### Since it last worked" in md and "`aaaa-not-host`" in md, f"markdown: {md[-800:]}")
    page = outputs["html"]
    c.expect(page.startswith("<!DOCTYPE html>") and "<script" not in page and 'id="c0-history"' in page
             and 'id="c2-check"' in page and page.count("<main") == 1, f"html: {page[:300]}")
    c.expect(page.count('<section class="check"') == 3, "html: not one section per check")
    try:
        none = json.loads(plain)
        c.expect(all(x["history"] is None for x in none["checks"]), "history compared without a history file")
        c.expect(all(x["history"] is None for x in json.loads(off)["checks"]), "history compared under --no-history")
    except json.JSONDecodeError:
        c.expect(False, f"triage without history: no JSON (exit {rc_none}, {rc_off})")
    return c


# name (the saved facts' prefix), collect (live, in the lab), judge (also offline, from saved
# facts), whether it needs the lab to judge (a live check of its own).
CASES = [
    ("nameservers", collect_nameservers, judge_nameservers, False),
    ("aaaa-caa", collect_aaaa_caa, judge_aaaa_caa, False),
    ("forwarding", collect_forwarding, judge_forwarding, False),
    ("unrenewed", collect_unrenewed, judge_unrenewed, False),
    ("unchanged", collect_unchanged, judge_unchanged, True),
]


def report(c, failed):
    print(f"{'ok' if not c.problems else 'FAIL':4} {c.name}")
    for p in c.problems:
        print(f"     {p}")
    return failed + bool(c.problems)


def replay(binary, folder):
    """The same judgements over facts saved with --save-facts: no lab, today's rules."""
    failed = ran = 0
    for name, _collect, judge, live in CASES:
        if live:
            continue
        ran += 1
        failed = report(judge(binary, os.path.join(folder, name + "-before.json"),
                              os.path.join(folder, name + "-after.json")), failed)
    print(f"{ran - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv):
    binary = binary_argument(argv, __doc__)
    if "--replay" in argv:
        return replay(binary, argv[argv.index("--replay") + 1])
    keep = "--keep-lab" in argv
    save = argv[argv.index("--save-facts") + 1] if "--save-facts" in argv else None
    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    failed = 0
    try:
        env = lab_env()
        lab = mutate.Lab(env["LAB_DIR"])
        with tempfile.TemporaryDirectory() as tmp:
            for name, collect, judge, live in CASES:
                before, after = os.path.join(tmp, name + "-before.json"), os.path.join(tmp, name + "-after.json")
                try:
                    collect(binary, env, lab, before, after)
                    c = judge(binary, before, after)
                except Exception as e:  # a failed step is this case's failure, the lab is restored
                    lab.restore()
                    c = Case(name)
                    c.problems.append(f"{type(e).__name__}: {e}")
                failed = report(c, failed)
                if save and not live and not c.problems:
                    for path in (before, after):
                        shutil.copy(path, save)
            try:
                c = triage_with_history(binary, env, lab, tmp)
            except Exception as e:
                lab.restore()
                c = Case("triage with history")
                c.problems.append(f"{type(e).__name__}: {e}")
            failed = report(c, failed)
    finally:
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL)
    print(f"{len(CASES) + 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

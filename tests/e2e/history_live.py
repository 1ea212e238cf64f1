#!/usr/bin/env python3
"""End-to-end: checks of lab domains recorded in a history, then read back.

`check --record` of a healthy and a failing lab domain and `triage --record` of a Sakura notice
into one SQLite file; `history DOMAIN` lists each with its verdict, finding ids, ticket and
source; `history show ID` judges the recorded facts again to the same verdict; `last_ok` of the
healthy domain is its check. usage: history_live.py CERTDOCTOR [--keep-lab]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_scenarios import LAB, LAB_RULES, binary_argument, lab_env  # noqa: E402
from triage_live import sakura_renewal_error  # noqa: E402


def main(argv):
    binary = binary_argument(argv, __doc__)
    keep = "--keep-lab" in argv
    tmp = tempfile.mkdtemp(prefix="certdoctor-history-")
    db = os.path.join(tmp, "history.sqlite3")
    problems = []
    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    try:
        env = lab_env()
        common = ["--allow-reserved", "--root-hints", env["LAB_ROOT_HINTS"], "--rules-dir", LAB_RULES, "--no-cache",
                  "--ct-url", "none", "--status-url", "none", "--ca-file", env["LAB_CA_FILE"], "--timeout", "30",
                  "--server-ip", "203.0.113.10"]
        rec = ["--record", "--db", db, "--ticket", "T-77"]

        def certdoctor(args, stdin=None):
            p = subprocess.run([LAB, "exec", "--", binary] + args, input=stdin, capture_output=True, timeout=120,
                               env=dict(os.environ, LANG="C", LC_ALL="C", USER="desk"))
            return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

        expected = {}
        for domain, code in (("healthy-sakura.jp", 0), ("www-missing.jp", 1)):
            rc, out, err = certdoctor(["check", "--format", "json"] + common + rec + [domain])
            if rc != code:
                problems.append(f"check --record {domain}: exit {rc}, expected {code}: {err.strip()[:300]}")
                continue
            expected[domain] = json.loads(out)
        mail = os.path.join(tmp, "notice.eml")
        with open(mail, "wb") as f:
            f.write(sakura_renewal_error("www-missing.jp"))
        rc, out, err = certdoctor(["triage", "--format", "json"] + common + rec + [mail])
        if rc != 1:
            problems.append(f"triage --record: exit {rc}, expected 1: {err.strip()[:300]}")

        for domain, sources in (("healthy-sakura.jp", ["cli"]), ("www-missing.jp", ["triage", "cli"])):
            rc, out, err = certdoctor(["history", domain, "--db", db, "--format", "json"])
            checks = json.loads(out)["checks"] if rc == 0 else []
            if [c["source"] for c in checks] != sources:
                problems.append(f"history {domain}: sources {[c['source'] for c in checks]}, expected {sources} ({err.strip()})")
                continue
            report = expected.get(domain)
            ids = sorted(f["id"] for f in report["findings"]) if report else []
            last = checks[-1]  # the check, oldest
            if report and (last["verdict"] != report["verdict"] or sorted(last["finding_ids"]) != ids):
                problems.append(f"history {domain}: {last['verdict']} {last['finding_ids']}, the report said "
                                f"{report['verdict']} {ids}")
            if any(c["ticket"] != "T-77" or c["user"] != "desk" for c in checks):
                problems.append(f"history {domain}: ticket or user lost: {checks}")
            if domain == "healthy-sakura.jp" and (last["provider"] != "sakura" or not last["cert_not_after"]):
                problems.append(f"history {domain}: provider {last['provider']!r}, notAfter {last['cert_not_after']!r}")
            rc, out, err = certdoctor(["history", "show", str(last["id"]), "--db", db, "--rules-dir", LAB_RULES,
                                       "--format", "json"])
            shown = json.loads(out) if out.strip() else {}
            if shown.get("verdict") != last["verdict"] or shown.get("record", {}).get("id") != last["id"]:
                problems.append(f"history show {last['id']}: exit {rc}, verdict {shown.get('verdict')}: {err.strip()[:200]}")
            rc, out, err = certdoctor(["history", domain, "--db", db])
            print(out, end="")
    finally:
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL:", p)
    print("history-live: " + ("ok" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Judges saved lab facts again with the collection time moved, for the findings that depend on
dates (a certificate's days left against the provider's renewal schedule).

usage: replay_dates.py CERTDOCTOR FACTS_DIR

Each case takes a saved facts file, moves `collected_at` so that the served certificate of the
main name has DAYS left, and runs `certdoctor explain` with a provider and a language; it names the
ids that must and must not fire and words the report must and must not contain. Prints
'N passed, M failed'; exit 1 on any failure.
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile

SAKURA = "healthy-sakura.jp-4d6b5f23.json"
XSERVER = "healthy-xserver.jp-82841d3b.json"

CASES = [
    # Sakura mails at about 15 days left because its one renewal has not happened: at that point
    # the certificate is not renewed, Sakura will not retry, and the private-key case is named.
    dict(facts=SAKURA, days=15, provider="sakura", lang="en", fire=["cert-not-renewed"], not_fire=["cert-expiring"],
         has=["Sakura will not try again", "秘密鍵を含む新しい設定の作成", "新しい設定の作成を中止する"]),
    dict(facts=SAKURA, days=15, provider="sakura", lang="ja", fire=["cert-not-renewed"],
         has=["自動で再試行することはありません", "「新しい設定の作成を中止する」"]),
    dict(facts=SAKURA, days=16, provider="sakura", lang="en", not_fire=["cert-not-renewed", "cert-expiring"]),
    dict(facts=SAKURA, days=10, provider="sakura", lang="en", fire=["cert-expiring"], not_fire=["cert-not-renewed"],
         has=["新しい設定の作成を中止する"]),
    # Xserver: the next attempt while one is left, and only the manual path after the last one.
    dict(facts=XSERVER, days=27, provider="xserver", lang="en", fire=["cert-not-renewed"],
         has=["{attempt_25} (25)", "Otherwise Xserver's next automatic attempt"],
         not_has=["No automatic attempt is left"]),
    dict(facts=XSERVER, days=17, provider="xserver", lang="en", fire=["cert-not-renewed"],
         has=["No automatic attempt is left", "確定"], not_has=["Otherwise Xserver's next automatic attempt"]),
    dict(facts=XSERVER, days=17, provider="xserver", lang="ja", fire=["cert-not-renewed"],
         has=["有効期限までにもう行われない"], not_has=["次の回で再度試されます"]),
]


def moved(path, days, out_dir):
    with open(path, encoding="utf-8") as f:
        facts = json.load(f)
    leaf = None
    for t in facts["web"]["tls"]:
        if t.get("outcome") == "handshake" and t.get("chain"):
            leaf = t["chain"][0]
            break
    not_after = datetime.datetime.strptime(leaf["not_after"], "%Y-%m-%dT%H:%M:%SZ")
    # An hour more than the whole days, so that the day count is exactly `days`.
    facts["collected_at"] = (not_after - datetime.timedelta(days=days, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = os.path.join(out_dir, f"{days}-{os.path.basename(path)}")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(facts, f)
    # Dates the texts name, from the certificate's own expiry (the saved facts may be refreshed).
    dates = {"attempt_25": (not_after - datetime.timedelta(days=25)).strftime("%Y-%m-%d")}
    return out, dates


def main(argv):
    binary, facts_dir = argv[1], argv[2]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            path, dates = moved(os.path.join(facts_dir, case["facts"]), case["days"], tmp)
            run = subprocess.run([binary, "explain", "--facts", path, "--provider", case["provider"], "--lang", case["lang"],
                                  "--format", "json"], capture_output=True, text=True)
            problems = []
            try:
                report = json.loads(run.stdout)
            except json.JSONDecodeError:
                report = {"findings": []}
                problems.append("no report: " + run.stderr.strip()[:300])
            fired = [f["id"] for f in report["findings"]]
            text = "\n".join(f["title"] + "\n" + f["remediation"] for f in report["findings"])
            problems += [f"{i} did not fire" for i in case.get("fire", []) if i not in fired]
            problems += [f"{i} fired" for i in case.get("not_fire", []) if i in fired]
            problems += [f"missing words {w!r}" for w in (h.format(**dates) for h in case.get("has", [])) if w not in text]
            problems += [f"unexpected words {w!r}" for w in case.get("not_has", []) if w in text]
            name = f"{case['facts']} {case['days']}d {case['provider']} {case['lang']}"
            print(f"{name:<48} {','.join(fired) or '-'}" + ("" if not problems else "  FAIL: " + "; ".join(problems)))
            passed += not problems
            failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Every saved lab facts file judged again with `certdoctor explain`, in every language and under
every CA model: no rendered title or remediation may hold an empty placeholder ('-' standing for
a value that is absent) or a {placeholder} left unfilled.

usage: no_placeholders.py CERTDOCTOR FACTS_DIR [RULES_DIR]

A value that can be absent needs its own wording (a rule variant), never a '-' in a sentence.
A bare '-' is one with no letter, digit or '-' before it and none of those or '>' after it
("issued at: -", "(-)"), so dates, "acme-challenge" and the arrows of a redirect chain ("->") do
not count; the finding's own evidence values are taken out of the text first, so that a value
such as the name "JPRS Domain Validation Authority - G3" does not count either. A {name} after '%'
or '$' is a server variable in an example (%{REQUEST_URI}), not a placeholder. The CA model is chosen by
the facts' request.ca, so each file is also judged as collected for Pebble (a CA without the
body limit and rate limits of Let's Encrypt). Prints each text at fault and 'N files, M texts,
K faults'; exit 1 on any fault.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

LANGS = ["en", "ja"]
# Each file is also judged as if hosted by every provider, for the providers' own texts; in English
# only, since lint holds every language of a text to the same placeholders.
PROVIDERS = ["generic", "sakura", "xserver"]
CAS = ["letsencrypt", "pebble"]
BARE_DASH = re.compile(r"(?<![\w-])-(?![\w>-])")
UNFILLED = re.compile(r"(?<![%$])\{[A-Za-z_][\w.]*\}")


def values(evidence):
    """The finding's evidence as strings, longest first (the values a text may quote)."""
    out = []
    for v in (evidence or {}).values():
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, str) and item != "-" and len(item) > 1:
                out.append(item)
    return sorted(out, key=len, reverse=True)


def faults(text, evidence=None):
    for v in values(evidence):
        text = text.replace(v, " ")
    out = []
    if BARE_DASH.search(text):
        out.append("bare '-'")
    m = UNFILLED.search(text)
    if m:
        out.append("unfilled " + m.group(0))
    return out


def judge(binary, facts_file, lang, provider, rules_dir):
    cmd = [binary, "explain", "--facts", facts_file, "--format", "json", "--lang", lang, "--width", "0"]
    if provider:
        cmd += ["--provider", provider]
    if rules_dir:
        cmd += ["--rules-dir", rules_dir]
    run = subprocess.run(cmd, capture_output=True, text=True)
    # 0 OK, 1 problems found, 2 warnings only, 3 incomplete: all are reports.
    if run.returncode not in (0, 1, 2, 3) or not run.stdout.strip():
        return None, f"exit {run.returncode}: {run.stderr.strip()[:300]}"
    return json.loads(run.stdout), ""


def selftest():
    """The detector itself: what must count and what must not."""
    for text in ["issued at: -.", "reads at most - bytes", "(outcome: -)", "最大 - バイト", "for {name}"]:
        assert faults(text), text
    evidence = {"intermediate": "JPRS Domain Validation Authority - G3"}
    for text in ["301 http://a.jp/x -> 404 http://b.jp/x", "2026-01-02", "acme-challenge", "%{REQUEST_URI}",
                 "through \"JPRS Domain Validation Authority - G3\""]:
        assert not faults(text, evidence), text


def main():
    selftest()
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    binary, facts_dir = sys.argv[1], sys.argv[2]
    rules_dir = sys.argv[3] if len(sys.argv) == 4 else ""
    files = sorted(f for f in os.listdir(facts_dir) if f.endswith(".json"))
    jobs = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in files:
            with open(os.path.join(facts_dir, name), encoding="utf-8") as f:
                facts = json.load(f)
            for ca in CAS:
                path = os.path.join(facts_dir, name)
                if facts.get("request", {}).get("ca", "letsencrypt") != ca:
                    facts.setdefault("request", {})["ca"] = ca
                    path = os.path.join(tmp, f"{ca}-{name}")
                    with open(path, "w", encoding="utf-8") as f:
                        json.dump(facts, f)
                for lang in LANGS:
                    jobs.append((name, ca, lang, "", path))
                if ca == CAS[0]:
                    for provider in PROVIDERS:
                        jobs.append((name, ca, "en", provider, path))
        texts = 0
        problems = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda j: (j, judge(binary, j[4], j[2], j[3], rules_dir)), jobs)
            for (name, ca, lang, provider, _), (report, error) in results:
                where = f"{name} --lang {lang}" + (f" --provider {provider}" if provider else "") + f" (ca {ca})"
                if report is None:
                    problems.append(f"{where}: no report: {error}")
                    continue
                for finding in report.get("findings", []):
                    for field in ("title", "remediation"):
                        text = finding.get(field, "")
                        texts += 1
                        for fault in faults(text, finding.get("evidence")):
                            problems.append(f"{where}: {finding['id']} {field}: {fault}: {text}")
    for p in problems:
        print(p)
    print(f"{len(files)} files, {len(jobs)} reports, {texts} texts, {len(problems)} faults")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

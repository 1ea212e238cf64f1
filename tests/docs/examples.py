#!/usr/bin/env python3
"""The text reports of chosen lab scenarios, in Japanese and English, kept in docs/examples/ as
reviewed examples of what support staff paste and customers read. They are rendered offline from
the scenarios' saved facts (tests/e2e/facts) with `certdoctor explain`, so they change only when
the rules, their texts or the renderer change — and then this test fails until they are written
again and reviewed.

usage: examples.py CERTDOCTOR SOURCE_ROOT           compare docs/examples/ with the current output
       examples.py CERTDOCTOR SOURCE_ROOT --write   write them again
"""
import difflib
import hashlib
import os
import subprocess
import sys

import yaml

# (domain, a word its scenario's arguments contain or [] for none at all, file stem): the first
# scenario of tests/lab/scenarios.yaml that matches. One per kind of problem the source documents describe.
CHOSEN = [
    ("healthy-sakura.jp", None, "healthy-sakura"),
    ("www-missing.jp", None, "www-missing"),
    ("stray-aaaa.jp", [], "stray-aaaa-no-server-ip"),
    ("host-moved.jp", None, "host-moved"),
    ("cloudflare-moved.jp", None, "cloudflare-moved"),
    ("cdn-proxied.jp", None, "cdn-proxied"),
    ("shop.parentless.jp", None, "parentless"),
    ("http-basic-auth.jp", None, "basic-auth"),
    ("http-forward.jp", None, "site-forwarding"),
    ("http-wellknown-host.jp", None, "redirect-missing-slash"),
    ("no-site-sakura.jp", None, "domain-not-on-server"),
    ("caa-forbids.jp", None, "caa-forbids"),
    ("rl-domain.jp", None, "rate-limited"),
    ("cert-not-renewed.jp", None, "xserver-not-renewed"),
    ("cert-jprs.jp", None, "jprs-revoked-intermediate"),
    ("healthy-sakura.jp", "192.0.2.42", "dead-resolver"),
]


def facts_name(scenario):
    args = " ".join(scenario.get("args") or [])
    return scenario["domain"].encode("idna").decode() + "-" + hashlib.sha1(args.encode()).hexdigest()[:8] + ".json"


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    exe, root = os.path.abspath(argv[1]), argv[2]
    write = "--write" in argv
    scenarios = yaml.safe_load(open(os.path.join(root, "tests/lab/scenarios.yaml")))["scenarios"]
    out_dir = os.path.join(root, "docs/examples")
    os.makedirs(out_dir, exist_ok=True)
    problems, written = [], 0
    for domain, word, stem in CHOSEN:
        def matches(s):
            args = list(map(str, s.get("args") or []))
            return word is None or (word == [] and not args) or (word != [] and word in args)
        rows = [s for s in scenarios if s["domain"] == domain and matches(s)]
        if not rows:
            problems.append(f"{stem}: no scenario for {domain} {word or ''}")
            continue
        facts = os.path.join(root, "tests/e2e/facts", facts_name(rows[0]))
        if not os.path.exists(facts):
            problems.append(f"{stem}: no saved facts {facts}")
            continue
        for lang in ("ja", "en"):
            cmd = [exe, "explain", "--facts", facts, "--lang", lang, "--width", "100",
                   "--rules-dir", os.path.join(root, "tests/lab/rules")]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=dict(os.environ, NO_COLOR="1"))
            if p.returncode not in (0, 1, 3) or not p.stdout:
                problems.append(f"{stem}.{lang}: explain exit {p.returncode}: {p.stderr.strip()[:200]}")
                continue
            text = f"$ certdoctor explain --lang {lang} --facts {os.path.basename(facts)}\n" + p.stdout
            path = os.path.join(out_dir, f"{stem}.{lang}.txt")
            old = open(path).read() if os.path.exists(path) else None
            if write:
                if old != text:
                    with open(path, "w") as f:
                        f.write(text)
                    written += 1
            elif old != text:
                diff = "".join(difflib.unified_diff((old or "").splitlines(True), text.splitlines(True),
                                                    f"docs/examples/{stem}.{lang}.txt", "now", n=1))
                problems.append(f"{stem}.{lang}: differs from what certdoctor prints now\n{diff[:1500]}")
    for p in problems:
        print("FAIL", p)
    if write:
        print(f"examples: {written} written")
    else:
        print(f"examples: {2 * len(CHOSEN) - len(problems)} up to date, {len(problems)} not"
              + ("; write them again with tests/docs/examples.py BUILD/src/cli/certdoctor . --write and review the diff"
                 if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Saved lab facts made into our own failures, judged offline: every question through the resolver
never sent (the deadline came first), refused, or unanswered. Each must replay as one
resolver-unavailable finding with exit 3, and nothing that blames the domain's DNS; the text and
JSON reports must name the same findings. Also: lint rejects a provider's document cited for
every provider.

usage: replay_local.py CERTDOCTOR FACTS_DIR
Prints 'N passed, M failed'; exit 1 on any failure.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

EXE = os.path.abspath(sys.argv[1])
FACTS = sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BLAMES = ["dns-servfail", "caa-lookup-failed", "ns-lame", "domain-nxdomain", "dns-no-address", "dnssec-bogus",
          "www-not-covered"]
SOURCES = [("healthy-sakura.jp-4d6b5f23.json", "sakura"), ("healthy-xserver.jp-82841d3b.json", "xserver")]


def recursive_lookups(facts):
    for n in facts["names"]:
        for key in ("a", "aaaa", "a_cd", "aaaa_cd"):
            if n.get(key):
                yield n[key]
        yield from n.get("caa", [])
    for p in facts.get("provider_nameservers", []):
        yield from p.get("addresses", [])


def make(facts, outcome):
    f = copy.deepcopy(facts)
    for l in recursive_lookups(f):
        l.update(outcome=outcome, answer=[], authority=[], glue=[], ede=[], aa=False, ad=False)
        l["rcode"] = {"refused": "REFUSED", "servfail": "SERVFAIL"}.get(outcome, "")
        if outcome == "not-sent":
            l.update(server="", elapsed_ms=0, error="not sent before the deadline")
    # The web probe had no addresses to ask.
    f["web"]["http"] = []
    f["web"]["tls"] = []
    return f


def explain(path, fmt):
    p = subprocess.run([EXE, "explain", "--facts", path, "--format", fmt, "--lang", "en"], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


failures = []
ran = 0
with tempfile.TemporaryDirectory() as tmp:
    for name, provider in SOURCES:
        with open(os.path.join(FACTS, name), encoding="utf-8") as fh:
            saved = json.load(fh)
        for outcome, variant in (("not-sent", "deadline"), ("refused", "refused"), ("connection-refused", "no-answer"),
                                 ("timeout", "no-answer"), ("servfail", "no-answer")):
            ran += 1
            what = f"{name} with every resolver question {outcome}"
            path = os.path.join(tmp, f"{outcome}-{name}")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(make(saved, outcome), fh)
            rc, out, err = explain(path, "json")
            problems = []
            if rc != 3:
                problems.append(f"exit {rc}, expected 3")
            try:
                report = json.loads(out)
            except json.JSONDecodeError:
                failures.append(f"{what}: no JSON report; stderr {err[:300]!r}")
                continue
            ids = [f["id"] for f in report["findings"]]
            if ids.count("resolver-unavailable") != 1:
                problems.append(f"resolver-unavailable fired {ids.count('resolver-unavailable')} times")
            if report.get("verdict") != "incomplete":
                problems.append(f"verdict {report.get('verdict')}")
            problems += [f"{b} fired" for b in BLAMES if b in ids]
            ours = [f for f in report["findings"] if f["id"] == "resolver-unavailable"]
            if ours and ours[0]["source"] != "resolv-conf":
                problems.append(f"source {ours[0]['source']}")
            if ours and outcome != "not-sent" and not any(":" in t for t in ours[0]["evidence"].get("tried", [])):
                problems.append(f"tried names no resolver: {ours[0]['evidence']}")
            rc_text, text, _ = explain(path, "text")
            if rc_text != rc or any(f"[{i}]" not in text for i in ids):
                problems.append("the text report differs from the JSON one")
            want_title = {"deadline": "before any DNS question was asked", "refused": "refused this check's questions",
                          "no-answer": "gave no usable answer"}[variant]
            if want_title not in " ".join(text.split()):
                problems.append(f"text lacks {want_title!r}")
            if "=-" in text or "-;" in text:
                problems.append("an empty placeholder is printed")
            if problems:
                failures.append(f"{what}: {'; '.join(problems)}")

    # A provider's own document cited for every provider is a lint error.
    ran += 1
    overlay = os.path.join(tmp, "overlay")
    os.makedirs(overlay)
    with open(os.path.join(ROOT, "rules", "http.yaml"), encoding="utf-8") as fh:
        http = fh.read()
    marker = "source: {generic: letsencrypt-boulder, xserver: xserver-blog-autorenew}"
    with open(os.path.join(overlay, "http.yaml"), "w", encoding="utf-8") as fh:
        fh.write(http.replace(marker, "source: xserver-blog-autorenew", 1))
    p = subprocess.run([EXE, "rules", "lint", "--rules-dir", overlay], capture_output=True, text=True, timeout=60)
    out = p.stdout + p.stderr
    if marker not in http or p.returncode == 0 or "is about xserver's service but is cited for every provider" not in out:
        failures.append(f"lint let a provider's document be cited for every provider: exit {p.returncode}, {out[-300:]!r}")

for f in failures:
    print("FAIL", f)
print(f"replay-local: {ran - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)

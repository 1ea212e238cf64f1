#!/usr/bin/env python3
"""Triages every corpus file offline and compares the JSON with tests/triage/expected.yaml, then
feeds certdoctor hostile inputs made at run time (a 50 MB attachment, binary garbage, deep
nesting, an endless line) and checks the reply mail of --format eml.

    run_corpus.py CERTDOCTOR [TRIAGE_DIR]
"""
import base64
import email
import email.policy
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import yaml

certdoctor = sys.argv[1]
here = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus")
failures = []


def fail(case, msg):
    failures.append("%s: %s" % (case, msg))


def run(args, data=None, timeout=60):
    start = time.monotonic()
    p = subprocess.run([certdoctor, "triage"] + args, input=data, capture_output=True, timeout=timeout)
    return p, time.monotonic() - start


def triage_json(path, extra=()):
    p, _ = run(["--offline", "--format", "json", *extra, path])
    if p.returncode != 0:
        raise RuntimeError("exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
    return json.loads(p.stdout)


# --- the corpus against its expectations ------------------------------------------------------
expected = yaml.safe_load(open(os.path.join(here, "expected.yaml"), encoding="utf-8"))
on_disk = set(os.listdir(corpus))
for name in sorted(on_disk - set(expected)):
    fail(name, "in the corpus but not in expected.yaml")
for name, exp in sorted(expected.items()):
    if name not in on_disk:
        fail(name, "in expected.yaml but not in the corpus")
        continue
    try:
        j = triage_json(os.path.join(corpus, name))
    except Exception as e:  # noqa: BLE001 - any failure is a test failure with its message
        fail(name, str(e))
        continue
    got = {
        "kind": j["kind"],
        "provider": (j["provider"] or {}).get("id"),
        "domains": [d["ascii"] for d in j["domains"]],
        "causes": [c["finding"] for c in j["acme"]["causes"]],
    }
    for key, value in got.items():
        if exp.get(key) != value:
            fail(name, "%s: expected %r, got %r" % (key, exp.get(key), value))
    if "client" in exp and j["input"].get("client") != exp["client"]:
        fail(name, "client: expected %r, got %r" % (exp["client"], j["input"].get("client")))
    for field, values in exp.get("ids", {}).items():
        if j["ids"].get(field) != values:
            fail(name, "ids.%s: expected %r, got %r" % (field, values, j["ids"].get(field)))
    for key, value in exp.get("evidence", {}).items():
        ev = (j["acme"]["cause"] or {}).get("evidence", {})
        if ev.get(key) != value:
            fail(name, "evidence.%s: expected %r, got %r" % (key, value, ev.get(key)))
    if "unicode" in exp and [d["unicode"] for d in j["domains"]] != exp["unicode"]:
        fail(name, "unicode: expected %r" % exp["unicode"])
    # Words the notice's means text must (or must not) hold, in English.
    if "means_has" in exp or "means_lacks" in exp:
        means = triage_json(os.path.join(corpus, name), ["--lang", "en"])["notice"]["means"]
        for words in exp.get("means_has", []):
            if words not in means:
                fail(name, "means: %r missing" % words)
        for words in exp.get("means_lacks", []):
            if words in means:
                fail(name, "means: %r present" % words)
    if j["kind"] not in ("unrelated", "acme-error") and not (j["notice"] and j["notice"]["means"] and j["notice"]["next"]):
        fail(name, "a notice without its means/next texts")

# --- real ACME error texts from public threads: the share named correctly (goal >= 90%) ------
real = yaml.safe_load(open(os.path.join(here, "acme-real.yaml"), encoding="utf-8"))
named, missed = 0, []
with tempfile.TemporaryDirectory() as tmp:
    for i, item in enumerate(real):
        path = os.path.join(tmp, "real-%d.txt" % i)
        with open(path, "w", encoding="utf-8") as f:
            f.write(item["text"] + "\n")
        try:
            causes = [c["finding"] for c in triage_json(path)["acme"]["causes"]]
        except Exception as e:  # noqa: BLE001 - a crash counts as not named, with its message
            causes = ["error: %s" % e]
        if causes and causes[0] == item["expect"]:
            named += 1
        else:
            missed.append("%s (%s): expected %s, got %s" % (item["url"], item["client"], item["expect"], causes))
share = 100.0 * named / max(1, len(real))
print("real ACME texts: %d of %d named correctly (%.1f%%)" % (named, len(real), share))
for m in missed:
    print("  not named: %s" % m)
if len(real) < 80:
    fail("acme-real", "only %d texts; the corpus needs at least 80" % len(real))
if share < 90.0:
    fail("acme-real", "%.1f%% named correctly, below 90%%" % share)

# --- reworded notices and mails from the same senders: all of them (100%) ----------------------
para_dir = os.path.join(here, "paraphrase")
para = yaml.safe_load(open(os.path.join(here, "paraphrase.yaml"), encoding="utf-8"))
notices_ok = distractors_ok = notices = distractors = 0
per_kind = {}
for name, exp in sorted(para.items()):
    j = triage_json(os.path.join(para_dir, name))
    got = {"kind": j["kind"], "provider": (j["provider"] or {}).get("id"),
           "domains": [d["ascii"] for d in j["domains"]], "account": j["account"]}
    ok = all(got[k] == v for k, v in exp.items())
    if exp["kind"] == "unrelated":
        distractors += 1
        distractors_ok += ok
    else:
        notices += 1
        notices_ok += ok
        per_kind[exp["kind"]] = per_kind.get(exp["kind"], 0) + 1
    if not ok:
        fail("paraphrase/" + name, "expected %r, got %r (score %s)" % (exp, got, (j["recognition"] or {}).get("score")))
    if not j["recognition"] or not j["recognition"]["cues"]:
        fail("paraphrase/" + name, "no recognition cues in the JSON")
print("reworded notices: %d of %d recognised; distractors: %d of %d unrelated" % (notices_ok, notices, distractors_ok, distractors))
profiles = os.path.join(here, "..", "..", "rules", "providers")
for fn in sorted(os.listdir(profiles)):
    doc = yaml.safe_load(open(os.path.join(profiles, fn), encoding="utf-8")) or {}
    for kind in ((doc.get("notices") or {}).get("kinds") or []):
        if per_kind.get(kind["id"], 0) < 3:
            fail("paraphrase", "notice kind %s has %d rewordings, needs 3" % (kind["id"], per_kind.get(kind["id"], 0)))
if distractors < 10:
    fail("paraphrase", "only %d distractor mails, needs 10" % distractors)

# Every renderer and both languages work on every file.
for name in sorted(on_disk):
    for fmt in ("text", "markdown"):
        for lang in ("ja", "en"):
            p, _ = run(["--offline", "--format", fmt, "--lang", lang, os.path.join(corpus, name)])
            if p.returncode != 0 or not p.stdout:
                fail(name, "--format %s --lang %s: exit %d %s" % (fmt, lang, p.returncode, p.stderr[:200]))

# --- the reply mail ---------------------------------------------------------------------------
src = os.path.join(corpus, "forwarded-quoted-sakura-renewal-error.eml")
p, _ = run(["--offline", "--format", "eml", "--lang", "ja", "--from", "Helpdesk <helpdesk@example-agency.jp>", src])
if p.returncode != 0:
    fail("eml", "exit %d: %s" % (p.returncode, p.stderr))
else:
    reply = email.message_from_bytes(p.stdout, policy=email.policy.default)
    checks = {
        "In-Reply-To": "<fwd-1@example.net>",
        "References": "<older-1@example.net> <fwd-1@example.net>",
        "To": "customer@example.net",
        "Auto-Submitted": "auto-replied",
    }
    for h, v in checks.items():
        if str(reply[h]) != v:
            fail("eml", "%s: expected %r, got %r" % (h, v, str(reply[h])))
    if not str(reply["Subject"]).startswith("Re: Fwd: [さくらインターネット]"):
        fail("eml", "Subject: %r" % str(reply["Subject"]))
    if reply.get_content_type() != "text/plain" or reply.get_content_charset() != "utf-8":
        fail("eml", "not UTF-8 text/plain: %s %s" % (reply.get_content_type(), reply.get_content_charset()))
    body = reply.get_content()
    for needle in ("forwarded.example.jp", "sakura-renewal-error", "無料SSLの更新"):
        if needle not in body:
            fail("eml", "the body lacks %r" % needle)
    if not reply["Message-ID"] or not reply["Date"] or not reply["From"]:
        fail("eml", "Message-ID, Date or From missing")
p, _ = run(["--offline", "--format", "eml", os.path.join(corpus, "certbot-two-domains.log")])
if p.returncode != 2 or b"--format eml answers a mail" not in p.stderr:
    fail("eml", "a log answered as a mail: exit %d %s" % (p.returncode, p.stderr))

# --- the live part, without a network: a resolver that refuses makes each check incomplete -----
p, took = run(["--resolver", "127.0.0.1:9", "--timeout", "10", "--ct-url", "none", "--status-url", "none", "--format",
               "json", os.path.join(corpus, "certbot-two-domains.log")], timeout=30)
if p.returncode != 3:
    fail("live", "exit %d (expected 3, incomplete): %s" % (p.returncode, p.stderr[:300]))
else:
    j = json.loads(p.stdout)
    # www.example-garden.jp is on the certificate the check of example-garden.jp looks at: one check.
    if [c["domain"] for c in j["checks"]] != ["example-garden.jp"] or j["verdict"] != "incomplete":
        fail("live", "checks %r, verdict %r" % ([c["domain"] for c in j["checks"]], j["verdict"]))
    if took > 10:
        fail("live", "past the deadline: %.1f s" % took)

# --- hostile and damaged inputs ---------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    notice = open(os.path.join(corpus, "sakura-renewal-error-iso2022jp-7bit.eml"), "rb").read()
    head, _, body = notice.partition(b"\n\n")
    head = b"\n".join(l for l in head.split(b"\n") if not l.startswith((b"Content-Type", b"Content-Transfer")))
    big = os.path.join(tmp, "attachment-50mb.eml")
    with open(big, "wb") as f:
        f.write(head + b"\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\n"
                b"Content-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: 7bit\n\n" + body + b"\n--B\n"
                b"Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"backup.tar\"\n"
                b"Content-Transfer-Encoding: base64\n\n")
        chunk = base64.encodebytes(random.Random(5).randbytes(3 * 1024 * 1024))
        for _ in range(17):  # 51 MB of data, 69 MB of base64
            f.write(chunk)
        f.write(b"\n--B--\n")
    p, took = run(["--offline", "--format", "json", big], timeout=120)
    if p.returncode != 0:
        fail("50mb", "exit %d: %s" % (p.returncode, p.stderr))
    else:
        j = json.loads(p.stdout)
        if j["kind"] != "sakura-renewal-error" or [d["ascii"] for d in j["domains"]] != ["example-shop.jp"]:
            fail("50mb", "triaged as %s %s" % (j["kind"], j["domains"]))
        print("50 MB attachment: %.2f s" % took)
    p, _ = run(["--offline", "--max-size", "10", big])
    if p.returncode != 2 or b"larger than 10 MB" not in p.stderr:
        fail("max-size", "exit %d %s" % (p.returncode, p.stderr[:200]))

    cases = {
        "binary-garbage": random.Random(1).randbytes(1 << 20),
        "nul-bytes": b"\0" * 4096,
        "empty": b"",
        "only-headers": b"From: a@b.jp\nSubject: x\n",
        "deep-multipart": b"From: a@b.jp\nSubject: deep\nMIME-Version: 1.0\n" + b"".join(
            b"Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n" % (i, i) for i in range(3000)),
        "endless-line": b"Fetching http://x.jp/.well-known/acme-challenge/t: " + b"a" * (8 << 20) + b" Timeout during connect",
        "json-bomb": b"{\"type\":\"urn:ietf:params:acme:error:connection\",\"subproblems\":" + b"[" * 100000 + b"]" * 100000 + b"}",
        "bad-encoded-words": b"From: support@sakura.ad.jp\nSubject: =?iso-2022-jp?B?GyRC!!!?= =?x-unknown?Q?=FF=FE?= =?utf-8?B?\n"
                             b"Message-ID: <x@y>\n\n\x1b$B%\x1b(B\n",
        "header-bomb": b"From: a@b.jp\nSubject: " + b"=?utf-8?B?44GC?= " * 200000 + b"\n\nbody\n",
    }
    for name, data in cases.items():
        path = os.path.join(tmp, name)
        open(path, "wb").write(data)
        try:
            p, took = run(["--offline", "--format", "json", path], timeout=60)
        except subprocess.TimeoutExpired:
            fail(name, "no answer within 60 s")
            continue
        if p.returncode not in (0, 2):
            fail(name, "exit %d (a crash?): %s" % (p.returncode, p.stderr[-300:]))
        elif p.returncode == 2 and not p.stderr.startswith(b"certdoctor: error: "):
            fail(name, "exit 2 without a clear error: %s" % p.stderr[:200])
        print("%-18s exit %d in %.2f s %s" % (name, p.returncode, took, p.stderr.decode(errors="replace").strip()[:100]))

for f in failures:
    print("FAIL", f)
print("%d corpus files, %d failures" % (len(expected), len(failures)))
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""Every bad input of the command line gets its exit status and a message that names the input
and the fix, before any network step. Usage: bad_inputs.py CERTDOCTOR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

EXE = os.path.abspath(sys.argv[1])
failures = []
ran = 0


def run(args, stdin=None, env=None):
    e = dict(os.environ, LANG="C", LC_ALL="C")
    e.update(env or {})
    p = subprocess.run([EXE] + args, input=stdin, capture_output=True, timeout=60, env=e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def expect(what, args, status, *needles, stdin=None, stream="stderr", env=None):
    global ran
    ran += 1
    rc, out, err = run(args, stdin, env)
    text = err if stream == "stderr" else out
    problems = []
    if rc != status:
        problems.append(f"exit {rc}, expected {status}")
    for n in needles:
        if n not in text:
            problems.append(f"{stream} lacks {n!r}")
    if "internal error" in err:
        problems.append("internal error")
    if problems:
        failures.append(f"{what}: {'; '.join(problems)}\n    stdout: {out[:300]!r}\n    stderr: {err[:300]!r}")


tmp = tempfile.mkdtemp()
# A minimal facts document that loads (the replay judges it as incomplete: nothing was asked).
good = {"version": 1, "domain": "example.jp", "names": [{"name": "example.jp", "display": "example.jp", "role": "main"}]}


def facts_file(name, doc):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    return path


# --- check: the domain -----------------------------------------------------------------------
offline = ["--no-web", "--ct-url", "none", "--status-url", "none", "--resolver", "127.0.0.1:9", "--timeout", "1"]
expect("empty label", ["check", "a..b.jp"], 2, "'a..b.jp' has an empty label")
expect("port", ["check", "example.jp:8080"], 2, "has a port", "certdoctor check example.jp")
expect("path", ["check", "example.jp/index.html"], 2, "has a path", "certdoctor check example.jp")
expect("url", ["check", "https://example.jp/"], 2, "is a URL", "certdoctor check example.jp")
expect("underscore", ["check", "_dmarc.example.jp"], 2, "contains an underscore")
expect(".local", ["check", "nas.local"], 2, "ends in .local")
expect(".internal", ["check", "app.internal"], 2, "ends in .internal")
expect("numeric tld", ["check", "example.123"], 2, "all-digit label")
expect("control characters echoed escaped", ["check", "bad\x1b[31m.jp"], 2, "\\x1b[31m")
long_name = "a" * 5000
rc, out, err = run(["check", long_name + "/x"])
ran += 1
if rc != 2 or len(err) > 600:
    failures.append(f"a 5000-character input: exit {rc}, {len(err)} characters of message (expected 2, cut)")
expect("public suffix", ["check", "co.jp"], 2, "public suffix")
# --- check: options ---------------------------------------------------------------------------
expect("timeout 0", ["check", "--timeout", "0", "example.jp"], 2, "--timeout 0: give 1 to 600 seconds")
expect("timeout 0.5", ["check", "--timeout", "0.5", "example.jp"], 2, "--timeout 0.5: give 1 to 600 seconds")
expect("timeout 601", ["check", "--timeout", "601", "example.jp"], 2, "give 1 to 600 seconds")
expect("qps below one", ["check", "--max-qps-per-server", "0.5", "example.jp"], 2,
       "--max-qps-per-server 0.5: give a number from 1 to 100000")
expect("connections too many", ["batch", "--max-connections-per-address", "20000", "-"], 2,
       "--max-connections-per-address 20000: give a whole number from 1 to 10000")
expect("connections not whole", ["check", "--max-connections-per-address", "2.5", "example.jp"], 2,
       "--max-connections-per-address 2.5: give a whole number from 1 to 10000")
expect("connections negative", ["check", "--max-connections-per-address", "-1", "example.jp"], 2,
       "--max-connections-per-address -1: give a whole number from 1 to 10000")
expect("ja: connect rate", ["check", "--lang", "ja", "--max-connects-per-second", "-3", "example.jp"], 2,
       "--max-connects-per-second -3: 1～100000 の数を指定してください")
expect("unknown provider", ["check", "--provider", "xsrever", "example.jp"], 2, "did you mean 'xserver'")
expect("facts-out in a missing folder", ["check", "--facts-out", "/nonexistent/dir/f.json"] + offline + ["example.jp"], 2,
       "--facts-out /nonexistent/dir/f.json: cannot write there", "No such file or directory")
expect("facts-out is a folder", ["check", "--facts-out", tmp] + offline + ["example.jp"], 2, "it is a folder")
expect("cache-dir is a file", ["check", "--cache-dir", "/etc/hostname"] + offline + ["example.jp"], 2,
       "--cache-dir /etc/hostname: cannot cache there", "not a folder")
expect("bad format", ["check", "--format", "xml", "example.jp"], 2, "--format xml")
expect("bad lang", ["check", "--lang", "fr", "example.jp"], 2, "--lang fr")
# --- explain ----------------------------------------------------------------------------------
expect("explain: no file", ["explain"], 2, "no facts file")
expect("explain: missing file", ["explain", "--facts", os.path.join(tmp, "none.json")], 2,
       "cannot read facts file", "No such file or directory")
expect("explain: a folder", ["explain", "--facts", tmp], 2, "is a directory")
expect("explain: not JSON", ["explain", "--facts", facts_file("garbage.json", "{not json")], 2, "not a facts file (not JSON")
expect("explain: no version", ["explain", "--facts", facts_file("nov.json", {"domain": "x.jp"})], 2, 'no "version" field')
expect("explain: newer version", ["explain", "--facts", facts_file("v9.json", dict(good, version=9))], 2,
       "written by a newer certdoctor")
expect("explain: older version", ["explain", "--facts", facts_file("v0.json", dict(good, version=0))], 2, "gather the facts again")
expect("explain: no domain", ["explain", "--facts", facts_file("nodomain.json", {"version": 1, "names": good["names"]})], 2,
       'field "domain" is missing')
expect("explain: no names", ["explain", "--facts", facts_file("nonames.json", {"version": 1, "domain": "example.jp"})], 2,
       'field "names" is missing')
bad_type = dict(good, names=[{"name": "example.jp", "a": {"answer": [{"name": "example.jp", "ttl": "soon"}]}}])
expect("explain: wrong type, with its path", ["explain", "--facts", facts_file("badtype.json", bad_type)], 2,
       'field "names[0].a.answer[0].ttl"')
expect("explain: names not a list", ["explain", "--facts", facts_file("nameslist.json", dict(good, names={"a": 1}))], 2,
       'field "names"')
# A saved facts file replays the same from standard input as from its path.
saved = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "facts", "healthy-sakura.jp-4d6b5f23.json")
ran += 1
by_path = run(["explain", "--facts", saved, "--format", "json"])
with open(saved, "rb") as f:
    by_stdin = run(["explain", "--facts", "-", "--format", "json"], stdin=f.read())
if by_path != by_stdin or by_path[0] == 2 or '"domain": "healthy-sakura.jp"' not in by_path[1]:
    failures.append(f"explain --facts - differs from explain --facts FILE: {by_stdin[0]} {by_stdin[2][:200]!r}")
expect("explain: - with garbage", ["explain", "--facts", "-"], 2, "standard input: not a facts file", stdin=b"\x00\x01")

# --- diff -------------------------------------------------------------------------------------
expect("diff: nothing to compare", ["diff"], 2, "give a DOMAIN whose checks are recorded, or --from FACTS")
expect("diff: a bad domain", ["diff", "a..b.jp"], 2, "empty label")
expect("diff: missing --from", ["diff", "--from", os.path.join(tmp, "none.json"), "--to", saved], 2, "none.json")
expect("diff: bad --to", ["diff", "--from", saved, "--to", facts_file("garbage2.json", "{not json")], 2,
       "not a facts file (not JSON")
expect("diff: two domains", ["diff", "--from", saved, "--to", facts_file("other.json", dict(good, domain="other.jp"))],
       2, "different domains", "healthy-sakura.jp", "other.jp")
expect("diff: markdown", ["diff", "--from", saved, "--to", saved, "--format", "markdown"], 2, "use text or json")
expect("diff: a bad --facts-out before the live check", ["diff", "--from", saved, "--facts-out", tmp + "/no/dir/f.json"] + offline,
       2, "--facts-out")
expect("diff: the same facts twice", ["diff", "--from", saved, "--to", saved, "--lang", "en"], 0,
       "Nothing changed between the two checks", stream="stdout")

# A replay says so, with the time the facts were collected (in JST), never reading as a live check.
expect("explain says it is a replay", ["explain", "--facts", saved], 0, "Replayed: facts collected 2026-", " JST,",
       "not a live check", stream="stdout")

# Text width: --width N wraps at N columns (0: not at all); out of range is a usage error. Into a
# pipe, with no --width, nothing is wrapped, so a pasted paragraph stays one line.
expect("width 10", ["check", "--width", "10", "example.jp"], 2, "--width 10: use 0 (no wrapping) or 40 to 1000")
expect("width -1", ["explain", "--width", "-1", "--facts", saved], 2, "--width -1")
expect("triage width 5", ["triage", "--offline", "--width", "5", "-"], 2, "--width 5", stdin=b"x")
wrapped_saved = os.path.join(os.path.dirname(saved), "www-missing.jp-4d6b5f23.json")


def line_widths(text):
    import unicodedata
    return [sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) for line in text.splitlines()]


for lang in ("ja", "en"):
    ran += 1
    _, piped, _ = run(["explain", "--lang", lang, "--facts", wrapped_saved])
    _, at60, _ = run(["explain", "--lang", lang, "--width", "60", "--facts", wrapped_saved])
    # Lines made only of a URL may pass the width: a URL is never broken.
    long60 = [l for l, w in zip(at60.splitlines(), line_widths(at60)) if w > 60 and "://" not in l]
    if max(line_widths(piped)) <= 100 or long60 or len(at60.splitlines()) <= len(piped.splitlines()):
        failures.append(f"--width ({lang}): piped max {max(line_widths(piped))} columns, "
                        f"lines over 60 at --width 60: {long60[:2]!r}")
    if "".join(piped.split()) != "".join(at60.split()):
        failures.append(f"--width ({lang}): wrapping changed the text beyond line breaks")

# Each finding names its source document with the address where a reader finds it (when it has one).
caa_saved = os.path.join(os.path.dirname(saved), "caa-critical.jp-4d6b5f23.json")
expect("source url in text", ["explain", "--lang", "en", "--facts", caa_saved], 1,
       "Based on: RFC 8659", "\n      https://www.rfc-editor.org/rfc/rfc8659\n", stream="stdout")
expect("source url in markdown", ["explain", "--lang", "ja", "--format", "markdown", "--facts", caa_saved], 1,
       "(https://www.rfc-editor.org/rfc/rfc8659)_", stream="stdout")
expect("source url in json", ["explain", "--format", "json", "--facts", caa_saved], 1,
       '"source_url": "https://www.rfc-editor.org/rfc/rfc8659"', stream="stdout")
# --- history, due, --record ----------------------------------------------------------------------
nodb = os.path.join(tmp, "no-history.sqlite3")
expect("--db without --record", ["check", "--db", nodb, "example.jp"], 2, "--db is kept only with --record")
expect("--ticket without --record", ["explain", "--ticket", "T-1", "--facts", saved], 2, "--ticket is kept only with --record")
expect("triage --record --offline", ["triage", "--offline", "--record", "-"], 2, "leave out --offline", stdin=b"x")
expect("history without a domain", ["history", "--db", nodb], 2, "history: give a domain")
expect("history of a missing file", ["history", "example.jp", "--db", nodb], 2, nodb, "no history here yet")
expect("history of a folder", ["history", "example.jp", "--db", tmp], 2, tmp + " is a folder", "history.sqlite3")
expect("history show a word", ["history", "show", "latest", "--db", nodb], 2, "give a check's id")
expect("history prune without an age", ["history", "prune", "--db", nodb], 2, "--older-than 400d")
expect("history prune a bad age", ["history", "prune", "--older-than", "1y", "--db", nodb], 2, "--older-than 1y: give an age")
expect("due a bad horizon", ["due", "--within", "soon", "--db", nodb], 2, "--within soon: give an age")
expect("history markdown", ["history", "example.jp", "--format", "markdown", "--db", nodb], 2, "history lists as text or json")
# A history that cannot be written: the report is out, the reason on stderr, exit status 4.
garbage = facts_file("garbage.sqlite3", "x" * 5000)
expect("record into a damaged file", ["explain", "--facts", saved, "--record", "--db", garbage], 4, garbage,
       "the check was not recorded", "move it aside", "the report above is complete")
expect("the report is out before", ["explain", "--facts", saved, "--record", "--db", garbage], 4,
       "healthy-sakura.jp", "No problem found", stream="stdout")
expect("record into a server that is not there", ["explain", "--facts", saved, "--record", "--db",
       "postgresql://u:secret@127.0.0.1:9/h?connect_timeout=2"], 4, "postgresql://u:***@127.0.0.1:9/h", "cannot connect")
ran += 1
if "secret" in run(["history", "example.jp", "--db", "postgresql://u:secret@127.0.0.1:9/h?connect_timeout=2"])[2]:
    failures.append("a password in a --db URL is printed")

# Error messages follow the language of the report: --lang, else LC_ALL/LANG. The words are data
# (reports/labels.yaml errors:), so every key the code uses must be there in both languages.
JA = {"LANG": "ja_JP.UTF-8", "LC_ALL": "ja_JP.UTF-8"}
expect("ja: port", ["check", "--lang", "ja", "example.jp:8080"], 2, "certdoctor: エラー: 'example.jp:8080' にはポート番号が付いています",
       "certdoctor check example.jp")
expect("ja from the locale: empty label", ["check", "a..b.jp"], 2, "'a..b.jp' には空のラベルがあります", env=JA)
expect("ja: url", ["check", "--lang=ja", "https://example.jp/"], 2, "はURLで、ドメイン名ではありません", "certdoctor check example.jp")
expect("ja: public suffix", ["check", "co.jp"], 2, "公開サフィックス", env=JA)
expect("ja: no domain", ["check", "--lang", "ja"], 2, "check: ドメインが指定されていません")
expect("ja: timeout", ["check", "--lang", "ja", "--timeout", "0", "example.jp"], 2, "--timeout 0: 1～600 の秒数を指定してください")
expect("ja: provider hint", ["check", "--provider", "xsrever", "example.jp"], 2, "「xsrever」という事業者はありません",
       "「xserver」の誤りではありませんか", env=JA)
expect("ja: format", ["check", "--format", "xml", "example.jp"], 2, "--format xml: text, json, markdown, html のいずれか", env=JA)
expect("ja: bad lang falls back to the locale", ["check", "--lang", "fr", "example.jp"], 2, "--lang fr: ja または en を指定してください",
       env=JA)
expect("en despite a ja locale", ["check", "--lang", "en", "example.jp:8080"], 2, "certdoctor: error: ", "has a port", env=JA)
expect("ja: unknown command", ["chek"], 2, "「chek」というコマンドはありません", "「check」の誤りではありませんか", env=JA)
expect("ja: unknown option", ["check", "--lang", "ja", "--bogus", "example.jp"], 2, "オプションの指定が正しくありません",
       "certdoctor check --help")
expect("ja: explain without facts", ["explain"], 2, "explain: 情報ファイルが指定されていません", env=JA)
expect("ja: missing facts file", ["explain", "--lang", "ja", "--facts", os.path.join(tmp, "none.json")], 2,
       "情報ファイル " + os.path.join(tmp, "none.json") + " を読めません", "No such file or directory")
expect("ja: facts folder", ["explain", "--facts", tmp], 2, "はフォルダーです", env=JA)
expect("ja: newer facts", ["explain", "--lang", "ja", "--facts", os.path.join(tmp, "v9.json")], 2, "より新しい certdoctor で保存された")
expect("ja: facts field", ["explain", "--lang", "ja", "--facts", os.path.join(tmp, "badtype.json")], 2,
       '項目 "names[0].a.answer[0].ttl" が正しくありません')
expect("ja: facts-out", ["check", "--lang", "ja", "--facts-out", "/nonexistent/dir/f.json"] + offline + ["example.jp"], 2,
       "--facts-out /nonexistent/dir/f.json: そこには書き込めません")
expect("ja: triage format", ["triage", "--offline", "--lang", "ja", "--format", "xml", "-"], 2,
       "--format xml: text, json, markdown, html, eml のいずれか", stdin=b"x")
expect("ja: width", ["explain", "--width", "10", "--facts", saved], 2, "--width 10: 0(折り返さない)または 40～1000", env=JA)
# --- batch ---------------------------------------------------------------------------------------
batch_list = facts_file("domains.txt", "example.jp\n")
expect("batch without input", ["batch"], 2, "batch: no input", "- to read standard input")
expect("batch missing file", ["batch", os.path.join(tmp, "none.txt")], 2, "cannot open " + os.path.join(tmp, "none.txt"),
       "No such file or directory")
expect("batch folder", ["batch", tmp], 2, tmp + " is a directory")
expect("batch concurrency 0", ["batch", "--concurrency", "0", batch_list], 2, "--concurrency 0", "1 to 256")
expect("batch concurrency 1000", ["batch", "--concurrency", "1000", batch_list], 2, "--concurrency 1000", "1 to 256")
expect("batch concurrency word", ["batch", "--concurrency", "many", batch_list], 2, "batch", "many")
for bad in ("4/4", "1", "a/b", "-1/3", "0/0", "1/99999999"):
    expect(f"batch shard {bad}", ["batch", f"--shard={bad}", "--plan", batch_list], 2, f"--shard {bad}", "K/N")
expect("batch format", ["batch", "--format", "html", batch_list], 2, "--format html", "text or json")
expect("batch facts-out", ["batch", "--facts-out", os.path.join(tmp, "f.json"), batch_list], 2, "--facts-out",
       "certdoctor batch --help")
expect("batch plan record", ["batch", "--plan", "--record", batch_list], 2, "--plan", "leave out --record")
expect("batch resume unwritable", ["batch", "--resume", "/nonexistent/dir/r.ndjson", batch_list], 2,
       "--resume /nonexistent/dir/r.ndjson")
expect("batch timeout", ["batch", "--timeout", "0", batch_list], 2, "--timeout 0", "1 to 600")
expect("batch provider", ["batch", "--provider", "sakra", batch_list], 2, "sakra", "sakura")
expect("batch csv header", ["batch", "--plan", facts_file("h.csv", "domain,sever_ip\nexample.jp,1.2.3.4\n")], 2,
       "line 1", "sever_ip", "server_ip")
expect("batch csv no domain", ["batch", "--plan", facts_file("n.csv", "provider,www\nsakura,yes\n")], 2,
       "line 1", "no domain column")
# A bad line is reported with its number; the rest of the list is still planned (exit 2).
expect("batch bad line", ["batch", "--plan", "-"], 2, "line 2", "has a port", stdin=b"a.example.jp\nb.example.jp:80\nc.example.jp\n")
expect("batch bad line, the rest goes on", ["batch", "--plan", "-"], 2, "a.example.jp\nc.example.jp\n",
       stdin=b"a.example.jp\nb.example.jp:80\nc.example.jp\n", stream="stdout")
expect("batch bad csv value", ["batch", "--plan", "-"], 2, "line 3: www maybe", stdin=b"domain,www\na.jp,yes\nb.jp,maybe\n")
expect("ja: batch shard", ["batch", "--lang", "ja", "--shard", "5/2", "--plan", batch_list], 2, "--shard 5/2", "K/N の形で")
expect("ja: batch bad line", ["batch", "--lang", "ja", "--plan", "-"], 2, "2行目", stdin=b"a.example.jp\nhttps://b.example.jp/\n")
# --- enqueue, worker, queue (no database is reached: each is refused before) ----------------------
for cmd in ("enqueue", "worker", "queue"):
    expect(f"{cmd} without --db", [cmd], 2, "--db postgresql://")
    expect(f"{cmd} SQLite", [cmd, "--db", os.path.join(tmp, "h.sqlite3")], 2, "h.sqlite3", "PostgreSQL")
expect("enqueue without input", ["enqueue", "--db", "postgresql:///x"], 2, "enqueue: no input")
expect("worker lease", ["worker", "--db", "postgresql:///x", "--lease", "2s"], 2, "--lease 2s", "90s")
expect("worker lease word", ["worker", "--db", "postgresql:///x", "--lease", "forever"], 2, "--lease forever")
expect("worker concurrency", ["worker", "--db", "postgresql:///x", "--concurrency", "0"], 2, "--concurrency 0", "1 to 256")
expect("worker attempts", ["worker", "--db", "postgresql:///x", "--max-attempts", "0"], 2, "--max-attempts 0")
expect("worker facts-out", ["worker", "--db", "postgresql:///x", "--facts-out", "f.json"], 2, "facts-out")
expect("queue list state", ["queue", "--db", "postgresql:///x", "--list", "lost"], 2, "lost", "queued, running, done, failed")
expect("ja: worker SQLite", ["worker", "--lang", "ja", "--db", "h.sqlite3"], 2, "PostgreSQL のデータベース")

# --- the triage module (certdoctor-triage.so, next to the program) missing ----------------------
# A copy of the program alone in a directory: the commands that need no mail reading run, triage
# names the file it could not load and the fix (unless an installed module is found instead).
lone = os.path.join(tmp, "alone")
os.makedirs(lone)
shutil.copy2(EXE, os.path.join(lone, "certdoctor"))
installed = [line for line in subprocess.run(["ldd", EXE], capture_output=True, text=True).stdout.splitlines() if "gmime" in line or "libglib" in line]
ran += 1
if installed:
    failures.append(f"the program links GMime or GLib itself: {installed}")
saved_exe, EXE = EXE, os.path.join(lone, "certdoctor")
expect("lone program: --version", ["--version"], 0, "certdoctor", stream="stdout")
expect("lone program: explain", ["explain", "--facts", facts_file("lone.json", good)], 3, stream="stdout")
rc, _, err = run(["triage", "--offline", "-"], stdin=b"From: a@example.jp\nSubject: x\n\nbody\n")
if rc != 0:
    expect("lone program: triage", ["triage", "--offline", "-"], 2, os.path.join(lone, "certdoctor-triage.so"),
           "reinstall certdoctor", stdin=b"From: a@example.jp\nSubject: x\n\nbody\n")
    expect("ja: lone program: triage", ["triage", "--lang", "ja", "--offline", "-"], 2, "certdoctor を入れ直してください",
           stdin=b"From: a@example.jp\nSubject: x\n\nbody\n")
else:
    print("SKIP lone program: triage found the module where it is installed")
EXE = saved_exe

ran += 1
try:
    import re
    import yaml
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(root, "reports", "labels.yaml"), encoding="utf-8") as f:
        labels = yaml.safe_load(f)["labels"]
    used = set()
    for folder, _, files in os.walk(os.path.join(root, "src")):
        for name in files:
            if name.endswith((".cpp", ".hpp")):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    for m in re.finditer(r'Message\{\s*(?:[^"{};]*\?\s*)?"([a-z0-9-]+)"(?:\s*:\s*"([a-z0-9-]+)")?', f.read()):
                        used.update(k for k in m.groups() if k)
    missing = sorted(f"{lang}.errors.{k}" for k in used for lang in ("en", "ja") if k not in labels[lang].get("errors", {}))
    if len(used) < 40 or missing:
        failures.append(f"error message keys used in src/ ({len(used)}): missing in reports/labels.yaml: {missing}")
except ImportError:
    print("SKIP error message keys: no PyYAML")

for f in failures:
    print("FAIL", f)
print(f"cli-bad-inputs: {ran - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)

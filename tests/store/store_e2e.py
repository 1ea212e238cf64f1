#!/usr/bin/env python3
"""The history end to end, over SQLite or over a real PostgreSQL server started here.
Usage: store_e2e.py CERTDOCTOR STORE_WRITER sqlite|postgresql FACTS_DIR

- two store_writer processes add 50 records each at the same moment: all 100 are kept;
- two loops of `explain --facts F --record` run at once: every check is kept with its ticket;
- history DOMAIN (text, json), history show ID, due (with CERTDOCTOR_NOW) and history prune;
- a database that cannot be written (corrupt file, read-only file, a user without INSERT, no
  server) is an error on stderr naming it, exit status 4, and the report is still printed.
PostgreSQL: initdb in a temporary directory owned by postgres, the server on a unix socket in
that directory and a free port, stopped at the end whatever happens."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EXE, WRITER, BACKEND, FACTS = (os.path.abspath(a) for a in sys.argv[1:5])
BACKEND = os.path.basename(BACKEND)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAB_RULES = os.path.join(ROOT, "tests", "lab", "rules")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg  # noqa: E402  (a PostgreSQL server of the test's own)

PG_BIN = pg.PG_BIN
failures = []
tmp = tempfile.mkdtemp(prefix="certdoctor-store-")
os.chmod(tmp, 0o755)
pg_server = None


def fail(what):
    failures.append(what)
    print("FAIL:", what, flush=True)


def run(args, env=None, user=None, timeout=120):
    e = dict(os.environ, LANG="C", LC_ALL="C", USER="tester")
    e.update(env or {})
    cmd = ([EXE] if not args[0].startswith("/") else []) + args
    if user:
        cmd = ["runuser", "-u", user, "--", "env"] + [f"{k}={v}" for k, v in e.items() if k in ("LANG", "LC_ALL", "USER", "CERTDOCTOR_NOW")] + cmd
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def stop_pg():
    global pg_server
    if pg_server:
        pg_server.stop()
        pg_server = None


def cleanup(*_):
    stop_pg()
    shutil.rmtree(tmp, ignore_errors=True)


def on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)


def start_pg():
    global pg_server
    pg_server = pg.Server(tmp)
    return pg_server.home, pg_server.port


def history(db, domain):
    rc, out, err = run(["history", domain, "--db", db, "--format", "json", "--limit", "0"])
    if rc != 0:
        fail(f"history {domain}: exit {rc}: {err}")
        return []
    return json.loads(out)["checks"]


def same_keys():
    """reports/history.yaml: both languages have the same words."""
    import yaml
    with open(os.path.join(ROOT, "reports", "history.yaml"), encoding="utf-8") as f:
        labels = yaml.safe_load(f)["labels"]

    def keys(d, prefix=""):
        return {prefix + k for k, v in d.items() if not isinstance(v, dict)} | \
            {x for k, v in d.items() if isinstance(v, dict) for x in keys(v, prefix + k + ".")}
    if keys(labels["en"]) != keys(labels["ja"]):
        fail(f"reports/history.yaml: keys only in one language: {sorted(keys(labels['en']) ^ keys(labels['ja']))}")


def main():
    same_keys()
    if BACKEND == "sqlite":
        db = os.path.join(tmp, "history.sqlite3")
    else:
        home, port = start_pg()
        db = f"postgresql:///postgres?host={home}&port={port}&user=postgres"

    # --- two writers at once ------------------------------------------------------------------
    go = os.path.join(tmp, "go")
    writers = [subprocess.Popen([WRITER, db, f"w{i}.jp", "50", go], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in (1, 2)]
    time.sleep(1.5)  # both open (and migrate) the database, then wait for the signal
    open(go, "w").close()
    ids = []
    for w in writers:
        out, err = w.communicate(timeout=120)
        if w.returncode != 0:
            fail(f"writer exit {w.returncode}: {err.decode()}")
        ids += out.split()
    if len(ids) != 100 or len(set(ids)) != 100:
        fail(f"two writers: {len(ids)} ids, {len(set(ids))} distinct, expected 100")
    for d in ("w1.jp", "w2.jp"):
        if len(history(db, d)) != 50:
            fail(f"two writers: {d} has {len(history(db, d))} records, expected 50")

    # --- two explain --record loops at once ---------------------------------------------------
    sakura = os.path.join(FACTS, "healthy-sakura.jp-4d6b5f23.json")
    xserver = os.path.join(FACTS, "healthy-xserver.jp-82841d3b.json")
    loops = []
    for i, f in enumerate((sakura, xserver)):
        script = (f'for n in $(seq 1 10); do "{EXE}" explain --facts "{f}" --rules-dir "{LAB_RULES}" --record --db "{db}" '
                  f'--ticket T-{i}-$n --user agent{i} >/dev/null || echo "exit $?"; done')
        loops.append(subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for p in loops:
        out, err = p.communicate(timeout=240)
        if out.strip() or p.returncode != 0:
            fail(f"explain --record loop: {out.decode()} {err.decode()}")
    for domain, agent in (("healthy-sakura.jp", "agent0"), ("healthy-xserver.jp", "agent1")):
        checks = history(db, domain)
        tickets = sorted(c["ticket"] for c in checks)
        if len(checks) != 10 or len(set(tickets)) != 10 or any(c["user"] != agent or c["source"] != "cli" for c in checks):
            fail(f"explain --record: {domain}: {len(checks)} checks, tickets {tickets}")

    # --- history, history show ----------------------------------------------------------------
    rc, out, err = run(["history", "healthy-sakura.jp", "--db", db, "--limit", "3"])
    lines = out.strip().splitlines()
    if rc != 0 or len(lines) != 4 or "VERDICT" not in lines[0] or "agent0 #T-0-" not in out or "(cli)" not in out:
        fail(f"history text: exit {rc}: {out!r} {err!r}")
    rc, out, err = run(["history", "healthy-sakura.jp", "--db", db, "--limit", "1", "--lang", "ja"])
    if rc != 0 or "判定" not in out or "VERDICT" not in run(["history", "healthy-sakura.jp", "--db", db, "--lang", "en"])[1]:
        fail(f"history --lang ja: exit {rc}: {out!r} {err!r}")
    checks = history(db, "healthy-sakura.jp")
    first = checks[0]
    if first["cert_not_after"] is None or first["provider"] != "sakura" or not first["rules_version"]:
        fail(f"history json: the record lacks the certificate, provider or rules version: {first}")
    rc, out, err = run(["history", "show", str(first["id"]), "--db", db, "--rules-dir", LAB_RULES, "--lang", "en"])
    if rc != first_status(first) or f"Check {first['id']} of healthy-sakura.jp" not in out or "healthy-sakura.jp" not in out:
        fail(f"history show: exit {rc}: {out[:400]!r} {err!r}")
    rc, out, err = run(["history", "show", str(first["id"]), "--db", db, "--rules-dir", LAB_RULES, "--format", "json"])
    try:
        doc = json.loads(out)
        if doc["record"]["id"] != first["id"] or doc["domain"] != "healthy-sakura.jp" or not doc["collected_at"]:
            fail(f"history show json: {list(doc)}")
    except (ValueError, KeyError) as e:
        fail(f"history show json: {e}: {out[:300]!r} {err!r}")
    rc, out, err = run(["history", "show", "999999", "--db", db])
    if rc != 2 or "no check 999999" not in err:
        fail(f"history show of a missing id: exit {rc}: {err!r}")

    # --- due ----------------------------------------------------------------------------------
    # Sakura's window opens at its notice, 15 days before expiry; 20 days before that it is
    # within 30 days, 40 days before it is not.
    not_after = first["cert_not_after"]
    to_s = lambda t: int(time.mktime(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))) - time.timezone
    opens = to_s(not_after) - 15 * 86400
    rc, out, err = run(["due", "--db", db, "--format", "json"], env={"CERTDOCTOR_NOW": str(opens - 20 * 86400)})
    listed = {d["domain"]: d for d in json.loads(out)["due"]} if rc == 0 else {}
    if "healthy-sakura.jp" not in listed or listed["healthy-sakura.jp"]["state"] != "soon" or \
            listed["healthy-sakura.jp"]["window_kind"] != "notice":
        fail(f"due 20 days before the window: exit {rc}: {out[:500]!r} {err!r}")
    if listed.get("w1.jp", {}).get("state") != "unknown":
        fail(f"due: a domain without a recorded certificate is listed as unknown: {listed.get('w1.jp')}")
    rc, out, err = run(["due", "--db", db, "--format", "json"], env={"CERTDOCTOR_NOW": str(opens - 40 * 86400)})
    if rc != 0 or "healthy-sakura.jp" in out:
        fail(f"due 40 days before the window: exit {rc}: {out[:300]!r}")
    rc, out, err = run(["due", "--db", db], env={"CERTDOCTOR_NOW": str(opens + 86400)})
    if rc != 0 or not any(l.startswith("healthy-sakura.jp") and " open " in l for l in out.splitlines()):
        fail(f"due text after the window opened: exit {rc}: {out!r}")

    # --- diff over the history: the last passing check against a later one -------------------
    # The lab's nameservers case (tests/e2e/diff_live.py): recorded before and after the move.
    diff_facts = os.path.join(FACTS, "..", "diff-facts")
    ids = {}
    for side in ("before", "after"):
        rc, out, err = run(["explain", "--facts", os.path.join(diff_facts, f"nameservers-{side}.json"), "--rules-dir",
                            LAB_RULES, "--record", "--db", db])
        ids[side] = err.split("recorded as check ")[1].split()[0] if "recorded as check " in err else None
        if ids[side] is None:
            fail(f"diff: recording the {side} side: exit {rc}: {err!r}")
    if all(ids.values()):
        rc, out, err = run(["diff", "cloudflare-moved.jp", "--db", db, "--to", ids["after"], "--rules-dir", LAB_RULES,
                            "--format", "json"])
        try:
            doc = json.loads(out)
            kinds = {doc["changes"][i]["kind"] for f in doc["findings"] if f["id"] == "a-not-host" for i in f["explained_by"]}
            if rc != 1 or "nameservers-parent" not in kinds and "nameservers" not in " ".join(kinds):
                fail(f"diff DOMAIN --to ID: exit {rc}, a-not-host explained by {kinds}")
        except (ValueError, KeyError, IndexError) as e:
            fail(f"diff DOMAIN --to ID: exit {rc}: {e}: {out[:300]!r} {err!r}")
        # The same by day (the last check of that day, JST) and by id: the same comparison.
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 9 * 3600 + 86400 * 365))
        by_ids = run(["diff", "cloudflare-moved.jp", "--db", db, "--from", ids["before"], "--to", ids["after"],
                      "--rules-dir", LAB_RULES, "--lang", "en", "--width", "0"])
        if by_ids[0] != 1 or "nameservers" not in by_ids[1] or "a-not-host" not in by_ids[1]:
            fail(f"diff --from ID --to ID: exit {by_ids[0]}: {by_ids[1][:400]!r} {by_ids[2]!r}")
        rc, out, err = run(["diff", "cloudflare-moved.jp", "--db", db, "--from", day, "--to", ids["after"],
                            "--rules-dir", LAB_RULES, "--lang", "en", "--width", "0"])
        if rc != 1 or "Nothing changed" not in out:
            fail(f"diff --from DAY (the after check itself, the last of the day): exit {rc}: {out[:300]!r} {err!r}")
    for what, args, needle in (
            ("no passing check", ["diff", "nothing-recorded.jp", "--db", db, "--to", "1"], "no passing check of nothing-recorded.jp"),
            ("a check of another domain", ["diff", "cloudflare-moved.jp", "--db", db, "--from", "1", "--to", "2"], "not of cloudflare-moved.jp"),
            ("a bad reference", ["diff", "cloudflare-moved.jp", "--db", db, "--from", "yesterday"], "give last-ok, a check id or a day"),
            ("ticket without record", ["diff", "cloudflare-moved.jp", "--db", db, "--ticket", "T-1", "--to", "1"], "--ticket is kept only with --record")):
        rc, out, err = run(args)
        if rc != 2 or needle not in err or "internal error" in err:
            fail(f"diff with {what}: exit {rc}: {err!r}")

    # --- prune --------------------------------------------------------------------------------
    # The writers' records started in 2023, the replays when their facts were collected (2026).
    rc, out, err = run(["history", "prune", "--older-than", "400d", "--db", db])
    if rc != 0 or "Deleted 100 checks" not in out:
        fail(f"prune: exit {rc}: {out!r} {err!r}")
    if history(db, "w1.jp") or len(history(db, "healthy-sakura.jp")) != 10:
        fail("prune: the wrong records are left")

    # --- a history from a newer certdoctor is refused, by every command ---------------------------
    newer = os.path.join(tmp, "newer.sqlite3")
    if BACKEND == "sqlite":
        import sqlite3
        shutil.copy(db, newer)
        con = sqlite3.connect(newer)
        con.execute("INSERT INTO schema_version VALUES (99, 0)")
        con.commit()
        con.close()
    else:
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/psql", "-h", home, "-p", str(port), "-U", "postgres",
                        "-q", "-c", "CREATE DATABASE newer"], check=True, capture_output=True, timeout=60)
        newer = db.replace("/postgres?", "/newer?")
        run(["history", "x.jp", "--db", newer])  # made and migrated at open
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/psql", "-h", home, "-p", str(port), "-U", "postgres",
                        "-d", "newer", "-q", "-c", "INSERT INTO schema_version VALUES (99, 0)"],
                       check=True, capture_output=True, timeout=60)
    rc, out, err = run(["history", "healthy-sakura.jp", "--db", newer])
    if rc != 2 or "version 99" not in err or "newer certdoctor" not in err:
        fail(f"history of a newer schema: exit {rc}: {err!r}")
    rc, out, err = run(["explain", "--facts", sakura, "--rules-dir", LAB_RULES, "--record", "--db", newer])
    if rc != 4 or "newer certdoctor" not in err or "healthy-sakura.jp" not in out:
        fail(f"record into a newer schema: exit {rc}: {err!r}")

    # --- a database that cannot be written: the report still prints, exit 4 --------------------
    def unwritable(what, target, *needles, user=None, facts=sakura):
        rc, out, err = run(["explain", "--facts", facts, "--rules-dir", LAB_RULES, "--record", "--db", target], user=user)
        if rc != 4 or "healthy-sakura.jp" not in out or "was not recorded" not in err or \
                any(n not in err for n in needles) or "the report above is complete" not in err:
            fail(f"{what}: exit {rc}, stdout {out[:200]!r}, stderr {err!r}")

    if BACKEND == "sqlite":
        corrupt = os.path.join(tmp, "corrupt.sqlite3")
        with open(corrupt, "wb") as f:
            f.write(os.urandom(8192))
        unwritable("corrupt file", corrupt, corrupt, "not a certdoctor history or it is damaged")
        # A database of root's that nobody else may write, used by the user nobody.
        ro = os.path.join(tmp, "readonly.sqlite3")
        shutil.copy(db, ro)
        os.chmod(ro, 0o644)
        facts_copy = os.path.join(tmp, "facts.json")
        shutil.copy(sakura, facts_copy)
        os.chmod(facts_copy, 0o644)
        unwritable("read-only file", ro, ro, "cannot be written here", user="nobody", facts=facts_copy)
        # ... which that user can still read.
        rc, out, err = run(["history", "healthy-sakura.jp", "--db", ro], user="nobody")
        if rc != 0 or len(out.splitlines()) != 11:
            fail(f"history of a read-only file: exit {rc}: {out!r} {err!r}")
        rc, out, err = run(["history", "w1.jp", "--db", os.path.join(tmp, "none.sqlite3")])
        if rc != 2 or "no history here yet" not in err:
            fail(f"history of a missing file: exit {rc}: {err!r}")
    else:
        home_url = db.replace("user=postgres", "user=reader")
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/../bin/psql", "-h", home, "-p", str(port), "-U",
                        "postgres", "-q", "-c", "CREATE ROLE reader LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader"],
                       check=True, capture_output=True, timeout=60)
        unwritable("a user without INSERT", home_url, "user=reader", "may not write")
        closed = db.replace(f"port={port}", "port=9")
        unwritable("no server", closed, "cannot connect", "check that the server runs")
    stop_pg()


def first_status(check):
    return 0 if check["verdict"] in ("ok", "warning") else 3 if check["verdict"] == "incomplete" else 1


try:
    main()
except Exception as e:  # a crash of the test itself is a failure, after the cleanup
    fail(f"{type(e).__name__}: {e}")
finally:
    cleanup()
if failures:
    print(f"{len(failures)} failures", file=sys.stderr)
    sys.exit(1)
print(f"store-{BACKEND}: ok")

#!/usr/bin/env python3
"""The queue of checks over a real PostgreSQL server started here (no lab needed).
Usage: queue_e2e.py CERTDOCTOR QUEUE_RACE

- queue_race: a worker whose lease ran out cannot record, the one holding the item records it
  once; leases that ran out too often end failed; fail() and clear(); two connections leasing
  300 items at once take each exactly once; the service's items (schema 4: by ticket, pending,
  an identical request within the window shares the first item, also from two connections at
  once) and Store::by_ticket on PostgreSQL;
- the migration from schema 3: a queue with an item made by schema 3 is migrated to 4 at open
  and keeps its item, which a worker can still lease (and fail: its provider is unknown);
- certdoctor enqueue: a CSV with per-domain columns and a bad line (reported with its number,
  exit 2, the other lines queued), from a file and from standard input;
- certdoctor queue: counts per state (text in en and ja, json), --list;
- certdoctor worker --once: an item whose options cannot be checked (an unknown provider) ends
  failed at once with the reason, without any network; an empty queue returns at once;
- the errors: an SQLite file or no --db for the queue, a server that does not answer, a bad
  --lease, each naming the input and the fix, exit 2.
The two-worker run over lab domains, with one killed, is tests/e2e/worker_live.py."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg  # noqa: E402

EXE, RACE = (os.path.abspath(a) for a in sys.argv[1:3])
failures = []


def fail(what):
    failures.append(what)
    print("FAIL:", what, flush=True)


def run(args, stdin=None, lang="C"):
    p = subprocess.run([EXE] + args, input=stdin, capture_output=True, timeout=120,
                       env=dict(os.environ, LANG=lang, LC_ALL=lang, USER="tester"))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main():
    tmp = tempfile.mkdtemp(prefix="certdoctor-queue-")
    os.chmod(tmp, 0o755)
    server = None

    def on_signal(signum, _frame):
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        server = pg.Server(tmp)
        race = subprocess.run([RACE, server.create("race")], capture_output=True, text=True, timeout=120)
        print(race.stdout, end="")
        if race.returncode != 0:
            fail(f"queue_race: exit {race.returncode}: {race.stdout[-800:]} {race.stderr[-400:]}")

        # A database at schema 3 with a queued item, then opened by this build.
        old = server.create("old")
        made = subprocess.run([RACE, "--schema", "3", old], capture_output=True, text=True, timeout=120)
        if made.returncode != 0:
            fail(f"queue_race --schema 3: exit {made.returncode}: {made.stdout} {made.stderr}")
        psql = pg.AS_PG + [f"{pg.PG_BIN}/psql", "-h", server.home, "-p", str(server.port), "-U", "postgres", "-d", "old",
                           "-At", "-c"]
        subprocess.run(psql + ["INSERT INTO queue (domain, options, enqueued_at) VALUES ('old.jp',"
                               " '{\"domain\": \"old.jp\", \"provider\": \"nosuchprovider\"}', 0)"],
                       check=True, capture_output=True, timeout=60)
        rc, out, err = run(["queue", "--db", old, "--list", "all", "--format", "json"])
        items = json.loads(out)["items"] if rc == 0 else []
        version = subprocess.run(psql + ["SELECT MAX(version) FROM schema_version"], capture_output=True, text=True,
                                 timeout=60).stdout.strip()
        if version != "4" or [(i["domain"], i["state"]) for i in items] != [("old.jp", "queued")]:
            fail(f"schema 3 -> 4: version {version!r}, items {items} ({err!r})")
        rc, out, err = run(["worker", "--db", old, "--once", "--format", "json", "--timeout", "5"])
        if rc != 0 or '"failed"' not in out or "nosuchprovider" not in out:
            fail(f"worker on the migrated queue: exit {rc}: {out!r} {err!r}")
        print(f"schema 3 -> {version}: the old item kept and leased")

        db = server.create("queue")
        listing = os.path.join(tmp, "domains.csv")
        with open(listing, "w") as f:
            f.write("# tonight's renewals\ndomain,provider,server_ip,www\n"
                    "healthy-sakura.jp,sakura,203.0.113.10,\n"
                    "shop.example.jp,,,no\n"
                    "not a domain,,,\n"
                    "unknown-provider.jp,nosuchprovider,,\n")
        rc, out, err = run(["enqueue", "--db", db, listing])
        if rc != 2 or "domains.csv: line 5:" not in err or "left out: 1" not in err or "queued in" not in out or ": 3." not in out:
            fail(f"enqueue with a bad line: exit {rc}, expected 2 with line 5 named: {out!r} {err!r}")
        rc, out, err = run(["enqueue", "--db", db, "-"], stdin=b"stdin-one.jp\n\n# comment\nstdin-two.jp\n")
        if rc != 0 or ": 2." not in out:
            fail(f"enqueue from stdin: exit {rc}: {out!r} {err!r}")
        rc, out, err = run(["queue", "--db", db, "--format", "json"])
        counts = json.loads(out)["counts"] if rc == 0 else {}
        if counts != {"queued": 5, "running": 0, "done": 0, "failed": 0}:
            fail(f"queue counts: exit {rc}: {counts} {err!r}")
        rc, out, err = run(["queue", "--db", db, "--list", "queued", "--format", "json"])
        items = json.loads(out)["items"] if rc == 0 else []
        if [i["domain"] for i in items] != ["healthy-sakura.jp", "shop.example.jp", "unknown-provider.jp",
                                            "stdin-one.jp", "stdin-two.jp"]:
            fail(f"queue --list queued: {items} {err!r}")
        rc, out, err = run(["queue", "--db", db], lang="ja_JP.UTF-8")
        if rc != 0 or "待機中" not in out or "5" not in out:
            fail(f"queue in Japanese: exit {rc}: {out!r} {err!r}")

        # Only the item with an unknown provider is leased (the others are taken out of the way
        # first): it cannot be checked, so it fails at once, naming the provider; no network.
        subprocess.run(["runuser", "-u", "postgres", "--", f"{pg.PG_BIN}/psql", "-h", server.home, "-p", str(server.port),
                        "-U", "postgres", "-d", "queue", "-q", "-c",
                        "UPDATE queue SET state = 'done' WHERE domain <> 'unknown-provider.jp'"],
                       check=True, capture_output=True, timeout=60)
        rc, out, err = run(["worker", "--db", db, "--once", "--id", "offline", "--format", "json", "--timeout", "5"])
        events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        kinds = [e["event"] for e in events]
        failed = [e for e in events if e["event"] == "failed"]
        if rc != 0 or kinds != ["started", "failed", "finished"] or "nosuchprovider" not in failed[0].get("reason", ""):
            fail(f"worker --once over an item that cannot be checked: exit {rc}: {kinds} {out!r} {err!r}")
        rc, out, err = run(["queue", "--db", db, "--list", "failed", "--format", "json"])
        items = json.loads(out)["items"] if rc == 0 else []
        if len(items) != 1 or items[0]["attempts"] != 1 or "nosuchprovider" not in items[0]["reason"]:
            fail(f"queue --list failed: {items}")
        rc, out, err = run(["worker", "--db", db, "--once"])  # nothing left: returns at once
        if rc != 0 or "0 checks recorded" not in out:
            fail(f"worker --once on an empty queue: exit {rc}: {out!r} {err!r}")

        # Errors: each names the input and the fix.
        for args, needles in (
                (["worker", "--db", os.path.join(tmp, "h.sqlite3")], ["h.sqlite3", "PostgreSQL", "postgresql://"]),
                (["enqueue", listing], ["--db postgresql://"]),
                (["queue", "--db", f"postgresql:///nope?host={tmp}/none&port=1"], ["cannot connect", "check that the server runs"]),
                (["worker", "--db", db, "--lease", "3s"], ["--lease 3s", "90s"]),
                (["worker", "--db", db, "--concurrency", "0"], ["--concurrency 0"]),
                (["queue", "--db", db, "--list", "lost"], ["lost", "queued, running, done, failed"]),
                (["enqueue", "--db", db, os.path.join(tmp, "missing.txt")], ["missing.txt", "No such file"])):
            rc, out, err = run(args)
            if rc != 2 or any(n not in err for n in needles):
                fail(f"{' '.join(args)}: exit {rc}, expected 2 naming {needles}: {err!r}")
        rc, out, err = run(["worker", "--db", os.path.join(tmp, "h.sqlite3")], lang="ja_JP.UTF-8")
        if rc != 2 or "PostgreSQL" not in err or "エラー" not in err:
            fail(f"worker --db FILE in Japanese: {err!r}")
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

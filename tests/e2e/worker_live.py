#!/usr/bin/env python3
"""End-to-end: two `certdoctor worker` processes drain one PostgreSQL queue of lab domains, and
one of them is killed (SIGKILL) while it holds leases.

A PostgreSQL server is started here (tests/store/pg.py: initdb in a temporary directory, a unix
socket the lab's namespace reaches too). A CSV of lab domains with their own columns (server_ip,
provider, www) is enqueued; workers A and B (--lease 10s, --concurrency 2, --once) run in the
lab; A is killed right after it starts its third item. Then:
- every item is done, none queued, running or failed, and the database holds exactly one
  recorded check per item (the history's row count equals the item count);
- each domain's one record is the item's check, source "worker", and its finding ids are those
  `certdoctor check` gives for the domain with the same options now;
- the items A held when it died were leased again after their lease ran out and recorded by B
  (attempts 2);
- a worker without --once that gets SIGTERM while checking finishes and records what it holds,
  takes nothing more, and exits 0.
usage: worker_live.py CERTDOCTOR [--keep-lab]"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "store"))
from run_scenarios import LAB, LAB_RULES, binary_argument, lab_env  # noqa: E402
import pg  # noqa: E402
from worker_proc import WorkerProcess  # noqa: E402

# Lab domains (tests/lab/scenarios.yaml) with the options their scenarios give: healthy and
# broken, DNS, HTTP and TLS failures, an IDN, a subdomain without www, a silent nameserver.
DOMAINS = [
    ("healthy-sakura.jp", {"server_ip": "203.0.113.10"}),
    ("healthy-xserver.jp", {"server_ip": "203.0.113.20 2001:db8:20::20"}),
    ("日本語.jp", {"server_ip": "203.0.113.10"}),
    ("www-missing.jp", {"server_ip": "203.0.113.10"}),
    ("no-address.jp", {"server_ip": "203.0.113.10"}),
    ("servfail.jp", {}),
    ("timeout.jp", {}),
    ("stray-aaaa.jp", {"server_ip": "203.0.113.20 2001:db8:20::20"}),
    ("wrong-a.jp", {"server_ip": "203.0.113.10"}),
    ("cloudflare-moved.jp", {"provider": "xserver", "server_ip": "203.0.113.20 2001:db8:20::20"}),
    ("caa-forbids.jp", {"server_ip": "203.0.113.10"}),
    ("caa-ok.jp", {"server_ip": "203.0.113.10"}),
    ("shop.parentless.jp", {"server_ip": "203.0.113.10", "www": "no"}),
    ("cname-loop.jp", {"server_ip": "203.0.113.10"}),
    ("http-https-ok.jp", {"server_ip": "203.0.113.10"}),
    ("http-forward.jp", {"server_ip": "203.0.113.20 2001:db8:20::20"}),
    ("http-error.jp", {"server_ip": "203.0.113.10"}),
    ("cert-expired.jp", {"server_ip": "203.0.113.10"}),
]
LATER = [("caa-critical.jp", {"server_ip": "203.0.113.10"}), ("http-loop.jp", {"server_ip": "203.0.113.10"}),
         ("http-error.jp", {"server_ip": "203.0.113.10"})]


def check_args(opts):
    args = []
    for ip in opts.get("server_ip", "").split():
        args += ["--server-ip", ip]
    if opts.get("provider"):
        args += ["--provider", opts["provider"]]
    if opts.get("www") == "no":
        args.append("--no-www")
    return args


class Worker(WorkerProcess):
    """A worker in the lab with its JSON lines collected as they come."""

    def __init__(self, binary, db, name, common, once=True):
        # `lab exec` ends in exec: the process is certdoctor itself, so a signal reaches it.
        super().__init__([LAB, "exec", "--", binary, "worker", "--db", db, "--id", name, "--lease", "10s",
                          "--concurrency", "2", "--format", "json"] + (["--once"] if once else []) + common)


def main(argv):
    binary = binary_argument(argv, __doc__)
    keep = "--keep-lab" in argv
    tmp = tempfile.mkdtemp(prefix="certdoctor-worker-")
    os.chmod(tmp, 0o755)
    problems = []
    server = None
    workers = []
    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    try:
        env = lab_env()
        common = ["--allow-reserved", "--root-hints", env["LAB_ROOT_HINTS"], "--rules-dir", LAB_RULES, "--no-cache",
                  "--ct-url", "none", "--status-url", "none", "--ca-file", env["LAB_CA_FILE"], "--timeout", "20"]
        server = pg.Server(tmp)
        db = server.create("night")

        def certdoctor(args, stdin=None):
            p = subprocess.run([LAB, "exec", "--", binary] + args, input=stdin, capture_output=True, timeout=180,
                               env=dict(os.environ, LANG="C", LC_ALL="C", USER="night"))
            return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

        def psql(sql):
            return subprocess.run(pg.AS_PG + [f"{pg.PG_BIN}/psql", "-h", server.home, "-p", str(server.port), "-U",
                                              "postgres", "-d", "night", "-At", "-c", sql],
                                  check=True, capture_output=True, text=True, timeout=60).stdout.strip()

        def enqueue(domains):
            listing = os.path.join(tmp, "list.csv")
            with open(listing, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["domain", "server_ip", "provider", "www"])
                for d, o in domains:
                    w.writerow([d, o.get("server_ip", ""), o.get("provider", ""), o.get("www", "")])
            rc, out, err = certdoctor(["enqueue", "--db", db, listing])
            if rc != 0:
                problems.append(f"enqueue: exit {rc}: {out} {err}")

        enqueue(DOMAINS)
        a = Worker(binary, db, "A", common)
        workers.append(a)
        b = Worker(binary, db, "B", common)
        workers.append(b)
        if not a.wait_for(lambda ev: sum(e["event"] == "started" for e in ev) >= 3, 120):
            problems.append(f"worker A never started 3 items: {a.events}")
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(30)
        killed_at = time.monotonic()
        done_by_a = {e["item"] for e in a.of("done")}
        held_by_a = {e["item"]: e["domain"] for e in a.of("started") if e["item"] not in done_by_a}
        print(f"worker A killed holding items {sorted(held_by_a.values())}; it had recorded {len(done_by_a)}")
        if not held_by_a:
            problems.append("worker A held no item when killed: the test proves nothing about a crash")
        rc, err = b.finish(240)
        print(f"worker B: exit {rc} after {time.monotonic() - killed_at:.1f}s, {len(b.of('done'))} recorded")
        if rc != 0:
            problems.append(f"worker B: exit {rc}: {err[-500:]}")

        rc, out, err = certdoctor(["queue", "--db", db, "--format", "json"])
        counts = json.loads(out)["counts"] if rc == 0 else {}
        if counts != {"queued": 0, "running": 0, "done": len(DOMAINS), "failed": 0}:
            problems.append(f"queue counts after the run: {counts} {err}")
        rc, out, err = certdoctor(["queue", "--db", db, "--list", "all", "--limit", "0", "--format", "json"])
        items = {i["item"]: i for i in json.loads(out)["items"]} if rc == 0 else {}
        recorded = int(psql("SELECT COUNT(*) FROM checks"))
        if recorded != len(DOMAINS):
            problems.append(f"{recorded} checks recorded for {len(DOMAINS)} items")
        for item, domain in held_by_a.items():
            i = items.get(item, {})
            if i.get("state") != "done" or i.get("leased_by") != "B" or i.get("attempts") != 2:
                problems.append(f"{domain}, held by A when it died: {i}")
            if item not in {e["item"] for e in b.of("done")}:
                problems.append(f"{domain}, held by A when it died, was not recorded by B")

        for domain, opts in DOMAINS:
            rc, out, err = certdoctor(["history", domain, "--db", db, "--format", "json", "--limit", "0"])
            checks = json.loads(out)["checks"] if rc == 0 else []
            item = next((i for i in items.values() if i["domain"] == domain), {})
            if len(checks) != 1:
                problems.append(f"{domain}: {len(checks)} recorded checks, expected exactly 1 ({err.strip()[:200]})")
                continue
            rec = checks[0]
            if rec["id"] != item.get("check") or rec["source"] != "worker" or rec["user"] != "night":
                problems.append(f"{domain}: record {rec['id']} ({rec['source']}, {rec['user']}) is not item {item}")
            rc, out, err = certdoctor(["check", "--format", "json", "--lang", "en"] + common + check_args(opts) + [domain])
            report = json.loads(out) if out.strip() else {}
            want = sorted(f["id"] for f in report.get("findings", []))
            if sorted(rec["finding_ids"]) != want or rec["verdict"] != report.get("verdict"):
                problems.append(f"{domain}: the worker recorded {rec['verdict']} {sorted(rec['finding_ids'])}, "
                                f"check gives {report.get('verdict')} {want}")
            else:
                print(f"  {domain}: {rec['verdict']} {want or '-'} (item {item.get('item')}, attempts {item.get('attempts')})")

        # SIGTERM: the checks held are finished and recorded, nothing more is taken, exit 0.
        enqueue(LATER)
        c = Worker(binary, db, "C", common, once=False)
        workers.append(c)
        if not c.wait_for(lambda ev: any(e["event"] == "started" for e in ev), 60):
            problems.append(f"worker C never started an item: {c.events}")
        c.proc.send_signal(signal.SIGTERM)
        rc, err = c.finish(60)
        started = {e["item"] for e in c.of("started")}
        done = {e["item"] for e in c.of("done")}
        finished = c.of("finished")
        rc2, out, _ = certdoctor(["queue", "--db", db, "--format", "json"])
        counts = json.loads(out)["counts"] if rc2 == 0 else {}
        if rc != 0 or not started or started != done or not finished:
            problems.append(f"worker C after SIGTERM: exit {rc}, started {started}, recorded {done}: {err[-300:]}")
        if counts.get("running") != 0 or counts.get("done") != len(DOMAINS) + len(done) or \
                counts.get("queued") != len(LATER) - len(done):
            problems.append(f"after worker C stopped: {counts}")
        print(f"worker C: SIGTERM while holding {len(started)} items: exit {rc}, {len(done)} recorded, "
              f"{counts.get('queued')} left queued")
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()
        if server:
            server.stop()
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL:", p)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

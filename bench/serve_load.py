#!/usr/bin/env python3
"""Load on `certdoctor serve --lab` in the lab: a bounded client (CONCURRENCY threads) sends
REQUESTS API checks of lab domains; prints how many were accepted, refused with 429 (queue full)
or failed otherwise, the time from submission to done (p50, p99, max) of the accepted ones, and
the service's peak memory (VmHWM). Figures, not a test.

In-process (the default): serve runs the checks on --workers WORKERS behind --queue QUEUE, the
history in an SQLite file. With --pg N: a PostgreSQL server is started here (tests/store/pg.py),
serve runs with --db postgresql://... --workers 0, and N `certdoctor worker` processes with
--concurrency WORKERS each drain the queue; the peak memory of each worker is printed too.
usage: bench/serve_load.py CERTDOCTOR [REQUESTS [CONCURRENCY [WORKERS [QUEUE]]]] [--pg N]
(run inside the lab: tests/lab/lab exec -- bench/serve_load.py build/src/cli/certdoctor 200 50)
"""
import concurrent.futures
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "store"))
import subprocess  # noqa: E402

import pg  # noqa: E402
from serve_lab import Serve, lab_env, probe_args  # noqa: E402

DOMAINS = ["healthy-sakura.jp", "healthy-xserver.jp", "www-missing.jp", "http-forward.jp", "caa-forbids.jp",
           "cert-expired.jp", "http-loopback-target.jp", "reserved.jp", "cdn-proxied.jp", "cloudflare-ok.jp"]


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def peak_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return next((line.split(":")[1].strip() for line in f if line.startswith("VmHWM")), "?")


def main(argv):
    pg_workers = 0
    if "--pg" in argv:
        at = argv.index("--pg")
        pg_workers = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    binary = os.path.abspath(argv[1])
    n = int(argv[2]) if len(argv) > 2 else 200
    concurrency = int(argv[3]) if len(argv) > 3 else 50
    workers = argv[4] if len(argv) > 4 else "4"
    queue = argv[5] if len(argv) > 5 else "32"
    tmp = tempfile.mkdtemp(prefix="certdoctor-serve-load-")
    os.chmod(tmp, 0o755)
    server, worker_procs = None, []
    db = os.path.join(tmp, "history.sqlite3")
    serve_workers = workers
    if pg_workers:
        server = pg.Server(tmp)
        db = server.create("load")
        serve_workers = "0"
    serve = Serve(binary, db, os.path.join(tmp, "serve.log"),
                  ["--workers", serve_workers, "--queue", queue, "--client-burst", "100000", "--client-rate", "100000",
                   "--domain-burst", "100000", "--domain-rate", "100000", "--connections-per-client", str(concurrency + 8)])
    for i in range(pg_workers):
        log = open(os.path.join(tmp, f"worker{i}.log"), "wb")
        worker_procs.append(subprocess.Popen([binary, "worker", "--db", db, "--id", f"load{i}", "--concurrency", workers,
                                              "--timeout", "30"] + probe_args(lab_env()), stdout=log, stderr=subprocess.STDOUT))
    counts = {"accepted": 0, "429": 0, "other": 0, "done": 0, "failed": 0}
    latencies = []
    verdicts = {}  # of the checks done: an overloaded service must not turn into "incomplete" or failures
    lock = threading.Lock()

    def one(i):
        # Each request a different check (www and the server address vary), so none is shared:
        # request i + 250 differs from request i in www.
        payload = {"domain": DOMAINS[i % len(DOMAINS)], "www": bool((i + i // 250) % 2),
                   "server_ip": f"198.51.100.{i % 250 + 1}"}
        start = time.monotonic()
        try:
            status, _, j = serve.api("POST", "/api/v1/checks", payload)
        except OSError:
            return "other", None
        if status == 429:
            return "429", None
        if status != 202:
            return "other", None
        try:
            result = serve.wait(j["id"], timeout=300)
        except OSError:
            return "failed", None
        if result.get("status") == "done":
            with lock:
                verdicts[result.get("verdict")] = verdicts.get(result.get("verdict"), 0) + 1
        return ("done" if result.get("status") == "done" else "failed"), time.monotonic() - start

    started = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
            for outcome, latency in pool.map(one, range(n)):
                if outcome in ("done", "failed"):
                    counts["accepted"] += 1
                counts[outcome] += 1
                if latency is not None:
                    latencies.append(latency)
        wall = time.monotonic() - started
        hwm = peak_rss(serve.proc.pid)
        worker_hwm = [peak_rss(w.pid) for w in worker_procs]
        in_db = ""
        if server:
            # By the database's clock (whole seconds): enqueued to leased, leased to done.
            in_db = subprocess.run(pg.AS_PG + [f"{pg.PG_BIN}/psql", "-h", server.home, "-p", str(server.port), "-U", "postgres",
                                               "-d", "load", "-At", "-c",
                                               "SELECT COUNT(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY started_at - enqueued_at),"
                                               " percentile_disc(0.99) WITHIN GROUP (ORDER BY started_at - enqueued_at),"
                                               " percentile_disc(0.5) WITHIN GROUP (ORDER BY finished_at - started_at),"
                                               " percentile_disc(0.99) WITHIN GROUP (ORDER BY finished_at - started_at),"
                                               " MAX(finished_at) - MIN(enqueued_at) FROM queue WHERE state = 'done'"],
                                   capture_output=True, text=True, timeout=60).stdout.strip()
            n_items, wait50, wait99, run50, run99, span = in_db.split("|")
            in_db = (f"; in the database: {n_items} items, waiting p50 {wait50} s p99 {wait99} s, running p50 {run50} s"
                     f" p99 {run99} s, first enqueued to last done {span} s")
    finally:
        serve.stop()
        for w in worker_procs:
            w.terminate()
            w.wait(60)
        if server:
            server.stop()
    mode = (f"PostgreSQL queue, serve --workers 0 and {pg_workers} workers of --concurrency {workers}" if pg_workers
            else f"in-process queue, {workers} workers")
    print(f"serve load ({mode}): {n} API checks, {concurrency} at once, queue {queue}: "
          f"{counts['accepted']} accepted ({counts['done']} done, {counts['failed']} failed), {counts['429']} x 429, "
          f"{counts['other']} other errors; submit to done p50 {percentile(latencies, 50):.2f} s, "
          f"p99 {percentile(latencies, 99):.2f} s, max {max(latencies or [0]):.2f} s; {wall:.1f} s in all; serve peak RSS {hwm}"
          + (f"; workers' peak RSS {', '.join(worker_hwm)}" if worker_hwm else "")
          + f"; verdicts {dict(sorted(verdicts.items()))}" + in_db)
    return 0 if counts["other"] == 0 and counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

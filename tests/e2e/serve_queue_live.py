#!/usr/bin/env python3
"""End-to-end: two `certdoctor serve --lab` front ends and two `certdoctor worker` processes on
one PostgreSQL queue (tests/store/pg.py: a server on a unix socket, started here), in the lab.

- Front ends A and B run with --workers 0 and --queue 10. Ten checks of lab domains (www, server
  IP and provider vary) are posted to A and B; while no worker runs, every one reads `queued`
  from both front ends (API, and the page /r/ID with data-status="queued"), /healthz counts them
  from the database; the same request posted to the other front end gets the same id; an
  eleventh check is refused with 429 serve-queue-full by the front end that did not accept the
  ten (the bound is the database's pending items).
- Workers W1 and W2 (--lease 10s, --concurrency 2, the service's probe options but no probe
  policy of their own: the items carry the service's) drain the queue; W1 is SIGKILLed right
  after it starts its second item. Every check still ends `done`, read from the front end that
  did not accept it, with the verdict and finding ids `certdoctor check --connect-policy lab`
  gives for the same options; exactly one record per check, with the ticket web:ID and source
  web, its id the API's record_id; the items W1 held were leased again (attempts 2) by W2.
- A check whose worker dies and whose item may not be leased again (--max-attempts 1) ends
  `failed`: the API says failed with the reason (the lease ran out) and no verdict, no finding;
  the page answers 500 with the service's failure text.
- After `certdoctor queue --clear done` a new front end C still answers the first check, from
  the history alone (Store::by_ticket on PostgreSQL), API and page.
- The probe policy travels with the item: ssrf-canary.jp (a redirect to 127.0.0.1:8099) posted
  to A and run by a worker without a policy of its own makes no connection to a canary there,
  while `check` without a policy does.
- A front end D with its own worker (--workers 1) runs the check a triage queued at A, read done
  from B. PostgreSQL restarts: A answers 503 at most until its connection is opened again, then
  accepts a check, which D's worker (connected again) runs and B reads done.
usage: serve_queue_live.py CERTDOCTOR [--keep-lab]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "store"))
from serve_lab import Serve, lab_env, outside_then_inside, probe_args  # noqa: E402
import pg  # noqa: E402
from worker_proc import WorkerProcess  # noqa: E402

# (domain, the API's fields): ten distinct checks of lab domains (tests/lab/scenarios.yaml).
CHECKS = [
    ("healthy-sakura.jp", {"www": True, "server_ip": "203.0.113.10"}),
    ("www-missing.jp", {"www": True, "server_ip": "203.0.113.10"}),
    ("healthy-xserver.jp", {"server_ip": "203.0.113.20"}),
    ("caa-forbids.jp", {"server_ip": "203.0.113.10"}),
    ("http-error.jp", {"server_ip": "203.0.113.10"}),
    ("cert-expired.jp", {"server_ip": "203.0.113.10"}),
    ("servfail.jp", {}),
    ("wrong-a.jp", {"server_ip": "203.0.113.10"}),
    ("cloudflare-moved.jp", {"provider": "xserver", "server_ip": "203.0.113.20"}),
    ("http-https-ok.jp", {"www": False, "server_ip": "203.0.113.10"}),
]
LIMITS = ["--client-burst", "1000", "--client-rate", "1000", "--domain-burst", "1000", "--domain-rate", "1000"]


def check_args(fields):
    args = []
    if fields.get("www") is True:
        args.append("--www")
    if fields.get("www") is False:
        args.append("--no-www")
    if fields.get("server_ip"):
        args += ["--server-ip", fields["server_ip"]]
    if fields.get("provider"):
        args += ["--provider", fields["provider"]]
    return args


class Worker(WorkerProcess):
    """certdoctor worker in the namespace, its JSON lines collected as they come."""

    def __init__(self, binary, db, name, extra):
        env = lab_env()
        super().__init__([binary, "worker", "--db", db, "--id", name, "--lease", "10s", "--concurrency", "2",
                          "--format", "json", "--once", "--timeout", "30"] + probe_args(env) + extra)


def inside(binary, argv):
    tmp = tempfile.mkdtemp(prefix="certdoctor-serve-queue-")
    os.chmod(tmp, 0o755)
    problems = []
    server = None
    fronts = []
    workers = []
    try:
        env = lab_env()
        server = pg.Server(tmp)
        db = server.create("web")

        def psql(sql):
            return subprocess.run(pg.AS_PG + [f"{pg.PG_BIN}/psql", "-h", server.home, "-p", str(server.port), "-U",
                                              "postgres", "-d", "web", "-At", "-F", "|", "-c", sql],
                                  check=True, capture_output=True, text=True, timeout=60).stdout.strip()

        a = Serve(binary, db, os.path.join(tmp, "a.log"), ["--workers", "0", "--queue", "10"] + LIMITS)
        fronts.append(a)
        b = Serve(binary, db, os.path.join(tmp, "b.log"), ["--workers", "0", "--queue", "10"] + LIMITS)
        fronts.append(b)

        # Ten checks, the first nine to A, the tenth to B; nothing runs them yet.
        ids = {}      # domain -> id
        accepted = {}  # domain -> the front end that accepted it
        for n, (domain, fields) in enumerate(CHECKS):
            front = a if n < 9 else b
            status, _, j = front.api("POST", "/api/v1/checks", dict(fields, domain=domain))
            if status != 202 or "id" not in j:
                problems.append(f"POST {domain}: {status} {j}")
                continue
            ids[domain] = j["id"]
            accepted[domain] = front
        other = {d: (b if f is a else a) for d, f in accepted.items()}
        status, _, j = b.api("POST", "/api/v1/checks", dict(CHECKS[0][1], domain=CHECKS[0][0]))
        if status != 202 or j.get("id") != ids.get(CHECKS[0][0]):
            problems.append(f"the same request at the other front end: {status} {j}, expected id {ids.get(CHECKS[0][0])}")
        status, headers, j = b.api("POST", "/api/v1/checks", {"domain": "caa-ok.jp", "server_ip": "203.0.113.10"})
        if status != 429 or j.get("error", {}).get("code") != "serve-queue-full" or not headers.get("Retry-After"):
            problems.append(f"an eleventh check at B with ten pending: {status} {j}, expected 429 serve-queue-full")
        time.sleep(2)
        for domain, check_id in ids.items():
            for front in (a, b):
                status, _, j = front.api("GET", f"/api/v1/checks/{check_id}")
                if status != 200 or j.get("status") != "queued" or j.get("domain") != domain or "verdict" in j:
                    problems.append(f"{domain} with no worker, at {front.port}: {status} {j}")
        status, _, page = other[CHECKS[0][0]].request("GET", f"/r/{ids[CHECKS[0][0]]}")
        if status != 200 or b'data-status="queued"' not in page:
            problems.append(f"/r/ID with no worker: {status} {page[:300]!r}")
        status, _, health = b.api("GET", "/healthz")
        if health.get("queue") != "postgresql" or health.get("queued") != len(ids) or health.get("running") != 0:
            problems.append(f"healthz of B: {health}")
        print(f"{len(ids)} checks queued, read queued from both front ends; the 11th refused with 429")

        # Two workers; W1 killed right after it starts its second item.
        w1 = Worker(binary, db, "W1", [])
        workers.append(w1)
        w2 = Worker(binary, db, "W2", [])
        workers.append(w2)
        if not w1.wait_for(lambda ev: sum(e["event"] == "started" for e in ev) >= 2, 120):
            problems.append(f"worker W1 never started 2 items: {w1.events}")
        w1.kill()
        done_by_w1 = {e["item"] for e in w1.of("done")}
        held_by_w1 = {e["item"]: e["domain"] for e in w1.of("started") if e["item"] not in done_by_w1}
        print(f"W1 killed holding {sorted(held_by_w1.values())}")
        if not held_by_w1:
            problems.append("W1 held no item when killed: the test proves nothing about a crash")
        rc, err = w2.finish(300)
        if rc != 0:
            problems.append(f"worker W2: exit {rc}: {err[-500:]}")

        items = {}
        for line in psql("SELECT ticket, id, state, attempts, COALESCE(leased_by, ''), COALESCE(check_id, 0) FROM queue").splitlines():
            ticket, item, state, attempts, by, check = line.split("|")
            items[ticket] = {"item": int(item), "state": state, "attempts": int(attempts), "by": by, "check": int(check)}
        records = {}
        for line in psql("SELECT ticket, id, source, asked_by FROM checks").splitlines():
            ticket, rid, source, user = line.split("|")
            records.setdefault(ticket, []).append((int(rid), source, user))
        for item, domain in held_by_w1.items():
            i = next((v for v in items.values() if v["item"] == item), {})
            if i.get("state") != "done" or i.get("attempts") != 2 or i.get("by") != "W2":
                problems.append(f"{domain}, held by W1 when it was killed: {i}")

        results = {}
        for domain, fields in CHECKS:
            check_id = ids.get(domain)
            if not check_id:
                continue
            result = other[domain].wait(check_id, timeout=120)
            results[domain] = result
            rc = subprocess.run([binary, "check", "--format", "json", "--lang", "en", "--timeout", "30", "--connect-policy", "lab",
                                 "--allow-reserved"] + probe_args(env) + check_args(fields) + [domain],
                                capture_output=True, timeout=180)
            report = json.loads(rc.stdout) if rc.stdout.strip() else {}
            want = sorted(f["id"] for f in report.get("findings", []))
            got = sorted(f["id"] for f in result.get("findings", []))
            print(f"{domain}: {result.get('status')} {result.get('verdict')} {got}")
            if result.get("status") != "done" or got != want or result.get("verdict") != report.get("verdict"):
                problems.append(f"{domain}: the service says {result.get('status')} {result.get('verdict')} {got}, "
                                f"check says {report.get('verdict')} {want}")
            recs = records.get(f"web:{check_id}", [])
            item = items.get(f"web:{check_id}", {})
            if len(recs) != 1 or recs[0][1] != "web" or recs[0][2] != "web" or recs[0][0] != result.get("record_id") \
                    or item.get("check") != recs[0][0]:
                problems.append(f"{domain}: records {recs}, item {item}, API record_id {result.get('record_id')}")
        if sum(len(r) for r in records.values()) != len(ids):
            problems.append(f"{sum(len(r) for r in records.values())} checks recorded for {len(ids)} requests")

        # A check whose worker dies with no attempt left: failed, the service's failure.
        status, _, j = a.api("POST", "/api/v1/checks", {"domain": "caa-ok.jp", "server_ip": "203.0.113.10"})
        lost = j.get("id")
        w3 = Worker(binary, db, "W3", ["--max-attempts", "1"])
        workers.append(w3)
        if not w3.wait_for(lambda ev: any(e["event"] == "started" for e in ev), 60):
            problems.append(f"W3 never started: {w3.events}")
        w3.kill()
        w4 = Worker(binary, db, "W4", ["--max-attempts", "1"])
        workers.append(w4)
        rc, err = w4.finish(120)
        status, _, j = b.api("GET", f"/api/v1/checks/{lost}")
        print(f"a check whose worker died with no attempt left: {status} {j.get('status')}: {j.get('error')}")
        if status != 200 or j.get("status") != "failed" or "never finished" not in j.get("error", "") \
                or "verdict" in j or "findings" in j or "サービス側" not in j.get("message", {}).get("ja", "") \
                or "not the domain's" not in j.get("message", {}).get("en", ""):
            problems.append(f"the item whose lease ran out: {status} {j}")
        for lang, words in (("en", "not the domain&#39;s"), ("ja", "サービス側")):
            status, _, page = b.request("GET", f"/r/{lost}?lang={lang}")
            if status != 500 or b"never finished" not in page or words.encode() not in page:
                problems.append(f"/r/ID?lang={lang} of the failed item: {status} {page[:300]!r}")

        # The queue's done items cleared: a new front end finds the check in the history alone.
        p = subprocess.run([binary, "queue", "--db", db, "--clear", "done"], capture_output=True, timeout=60)
        if p.returncode != 0:
            problems.append(f"queue --clear done: exit {p.returncode} {p.stderr[-300:]!r}")
        c = Serve(binary, db, os.path.join(tmp, "c.log"), ["--workers", "0"] + LIMITS)
        fronts.append(c)
        first, first_id = CHECKS[0][0], ids.get(CHECKS[0][0])
        status, _, j = c.api("GET", f"/api/v1/checks/{first_id}")
        status_page, _, page = c.request("GET", f"/r/{first_id}?lang=en")
        print(f"{first} from the history alone: {status} {j.get('status')} record {j.get('record_id')}; page {status_page}")
        before = results.get(first, {})
        if status != 200 or j.get("status") != "done" or j.get("verdict") != before.get("verdict") \
                or j.get("findings") != before.get("findings") or j.get("record_id") != before.get("record_id"):
            problems.append(f"{first} after the queue was cleared: {status} {j}")
        if status_page != 200 or first.encode() not in page:
            problems.append(f"/r/ID after the queue was cleared: {status_page}")

        # The service's probe policy travels with the item: a worker started with none of its own
        # (open, --allow-reserved) runs ssrf-canary.jp (a redirect to 127.0.0.1:8099) from the
        # service without a connection to the canary; `check` without a policy reaches it.
        log = os.path.join(tmp, "canary.log")
        canary = subprocess.Popen([sys.executable, os.path.join(HERE, "canary.py"), log, "127.0.0.1:8099"])
        try:
            for _ in range(100):
                if os.path.exists(log + ".ready"):
                    break
                time.sleep(0.05)

            def seen():
                if not os.path.exists(log):
                    return []
                with open(log, encoding="utf-8") as f:
                    return f.read().splitlines()
            subprocess.run([binary, "check", "--connect-policy", "open", "--allow-reserved", "--timeout", "30"] + probe_args(env)
                           + ["ssrf-canary.jp"], capture_output=True, timeout=120)
            control = len(seen())
            status, _, j = a.api("POST", "/api/v1/checks", {"domain": "ssrf-canary.jp"})
            w5 = Worker(binary, db, "W5", ["--allow-reserved"])
            workers.append(w5)
            rc, err = w5.finish(120)
            result = b.wait(j.get("id"), timeout=60) if status == 202 else {}
            through_queue = len(seen()) - control
            print(f"ssrf-canary.jp: check without a policy made {control} connection(s) to the canary; the service's item run "
                  f"by a worker without a policy: {result.get('status')} {result.get('verdict')}, {through_queue} connection(s)")
            if control < 1:
                problems.append("control: check without a policy reached no canary (the canary proves nothing)")
            if status != 202 or result.get("status") != "done" or through_queue != 0:
                problems.append(f"ssrf-canary.jp through the queue: {status} {result.get('status')}, {through_queue} connections to the canary")
        finally:
            canary.terminate()
            canary.wait()

        # A front end with its own worker (--workers 1) drains the queue too: a triage's check
        # queued at A (no worker process runs now) is run by D and read done from B.
        from triage_live import sakura_renewal_error
        d = Serve(binary, db, os.path.join(tmp, "d.log"), ["--workers", "1"] + LIMITS)
        fronts.append(d)
        status, _, j = a.api("POST", "/api/v1/triage?lang=en", raw=sakura_renewal_error("www-missing.jp"),
                             content_type="message/rfc822")
        queued = j.get("queued") or [{}]
        tid = queued[0].get("id")
        result = b.wait(tid, timeout=120) if tid else {}
        ids_found = sorted({f["id"] for f in result.get("findings", [])})
        by = psql(f"SELECT leased_by FROM queue WHERE ticket = 'web:{tid}'") if tid else ""
        print(f"a triage's check queued at A, run by {by}, read at B: {result.get('status')} {result.get('verdict')} {ids_found}")
        if status != 200 or result.get("status") != "done" or "www-not-covered" not in ids_found or not by.endswith("/serve"):
            problems.append(f"the triage's check run by the front end's own worker: {status} {queued} {result} by {by!r}")

        # The database restarts: the front ends and D's own worker connect again; a check posted
        # to A after it is run by D and read done from B.
        subprocess.run(pg.AS_PG + [f"{pg.PG_BIN}/pg_ctl", "-D", server.data, "-l", os.path.join(server.home, "log"), "-m",
                                   "fast", "-w", "-t", "60", "restart"], check=True, capture_output=True, timeout=90)
        answers = []
        for _ in range(10):
            status, _, j = a.api("POST", "/api/v1/checks", {"domain": "caa-ok.jp", "server_ip": "203.0.113.10", "www": True})
            answers.append(status)
            if status == 202:
                break
            time.sleep(0.3)
        after, b_answers = {}, []
        deadline = time.monotonic() + 90
        while status == 202 and time.monotonic() < deadline:  # B: 503 while its connection is opened again
            status_b, _, after = b.api("GET", f"/api/v1/checks/{j['id']}")
            b_answers.append(status_b)
            if status_b not in (200, 503) or after.get("status") in ("done", "failed"):
                break
            time.sleep(0.5)
        for _ in range(10):  # B's other connections: each may fail once, then is opened again
            status_b, _, _ = b.api("GET", "/healthz")
            if status_b == 200:
                break
        print(f"after a restart of PostgreSQL: A answered {answers}; B {sorted(set(b_answers))}, the check: "
              f"{after.get('status')} {after.get('verdict')}")
        if status != 202 or after.get("status") != "done" or status_b != 200 or any(x not in (202, 503) for x in answers) \
                or any(x not in (200, 503) for x in b_answers):
            problems.append(f"after a restart of the database: A {answers}, the check {after}, B's healthz {status_b}")
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()
        for f in fronts:
            f.stop()
        if server:
            server.stop()
        if problems:
            for name in ("a.log", "b.log", "c.log", "d.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        print(f"--- {name} (end)\n" + f.read()[-2000:])
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL:", p)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(outside_then_inside(sys.argv, __doc__, inside))

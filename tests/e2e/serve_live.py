#!/usr/bin/env python3
"""End-to-end: `certdoctor serve --lab` in the lab, driven through its JSON API (urllib) and its
page (Debian's headless Chromium through python3-selenium).

API: a healthy and a failing lab domain checked to the verdict and findings `check` gives; the
OpenAPI document and /healthz; hostile requests (a body over the limit, bad JSON, a field of the
wrong type, control characters, a domain with markup, an unknown id, a wrong method) each get a
clean JSON error with its code and a message in Japanese and English; request headers over the
connection's memory are refused; the history of a domain (GET /api/v1/domains/NAME/history) is
what `certdoctor history NAME --format json` prints; a provider's mail posted to /api/v1/triage
gives the JSON of `triage --offline --format json` and a queued check of its domain, followed to
its verdict; an empty, binary or oversized body gets a clean error. A flood of checks from one
client address gets 429 with Retry-After beyond its bucket while another address's checks are
accepted and finish. Page: the form in ja and en, a lab domain submitted without any
script, the result followed to /r/ID, its verdict and findings read as a person sees them; a
domain with markup shown as text. Screenshots in OUTDIR.
usage: serve_live.py CERTDOCTOR [OUTDIR] [--keep-lab]
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lab import Serve, outside_then_inside  # noqa: E402

CHROMEDRIVER = "/usr/bin/chromedriver"


def api_checks(serve, problems):
    """Checks two lab domains through the API; their record ids by domain."""
    records = {}
    for domain, verdict, must in (("healthy-sakura.jp", ("ok", "warning"), []),
                                  ("www-missing.jp", ("fail",), ["www-not-covered", "domain-nxdomain"])):
        status, headers, j = serve.api("POST", "/api/v1/checks", {"domain": domain, "www": True, "server_ip": "203.0.113.10"})
        if status != 202 or "id" not in j:
            problems.append(f"POST {domain}: {status} {j}")
            continue
        if headers.get("Location") != f"/api/v1/checks/{j['id']}":
            problems.append(f"POST {domain}: Location {headers.get('Location')}")
        result = serve.wait(j["id"])
        ids = sorted({f["id"] for f in result.get("findings", [])})
        records[domain] = result.get("record_id")
        print(f"API {domain}: {result.get('status')} {result.get('verdict')} {ids}")
        if result.get("status") != "done" or result.get("verdict") not in verdict:
            problems.append(f"API {domain}: {result.get('status')} {result.get('verdict')}, expected {verdict}")
        for m in must:
            if m not in ids:
                problems.append(f"API {domain}: {m} not among {ids}")
    status, _, doc = serve.api("GET", "/api/openapi.json")
    if status != 200 or "/api/v1/checks" not in doc.get("paths", {}):
        problems.append(f"openapi: {status}")
    status, _, health = serve.api("GET", "/healthz")
    if status != 200 or health.get("policy") != "lab":
        problems.append(f"healthz: {status} {health}")
    return records


def history(serve, binary, db, records, problems):
    """GET /api/v1/domains/NAME/history: the JSON of `certdoctor history NAME --format json`."""
    for domain, record_id in records.items():
        status, _, j = serve.api("GET", f"/api/v1/domains/{domain}/history")
        p = subprocess.run([binary, "history", domain, "--format", "json", "--db", db], capture_output=True, timeout=60)
        cli = json.loads(p.stdout) if p.returncode == 0 else {"exit": p.returncode, "stderr": p.stderr.decode()[:200]}
        ids = [c.get("id") for c in j.get("checks", [])]
        print(f"history {domain}: {status}, checks {ids}")
        if status != 200 or j != cli:
            problems.append(f"history {domain}: {status} {j} differs from the command's {cli}")
        if not record_id or record_id not in ids:
            problems.append(f"history {domain}: the API's check (record {record_id}) is not listed ({ids})")
        elif any(c.get("source") != "web" for c in j["checks"] if c.get("id") == record_id):
            problems.append(f"history {domain}: record {record_id} not from source web")
    status, _, j = serve.api("GET", "/api/v1/domains/never-checked.jp/history")
    if status != 200 or j != {"domain": "never-checked.jp", "checks": []}:
        problems.append(f"history of a domain never checked: {status} {j}")
    status, _, j = serve.api("GET", "/api/v1/domains/healthy-sakura.jp/history?limit=1")
    if status != 200 or len(j.get("checks", [])) != 1:
        problems.append(f"history ?limit=1: {status} {j}")
    for path, code in (("/api/v1/domains/exa%3Cb%3Emple.jp/history", "domain-invalid"),
                       ("/api/v1/domains/healthy-sakura.jp/history?limit=0", "serve-number"),
                       ("/api/v1/domains/healthy-sakura.jp/history?limit=99999999999", "serve-number")):
        status, _, j = serve.api("GET", path)
        err = j.get("error", {})
        if status != 400 or err.get("code") != code or not err.get("message", {}).get("ja") or not err.get("message", {}).get("en"):
            problems.append(f"history {path}: {status} {j}, expected 400 {code} with ja and en")
    status, _, j = serve.api("POST", "/api/v1/domains/healthy-sakura.jp/history", {"x": 1})
    if status != 405:
        problems.append(f"history POST: {status} {j}")
    status, _, doc = serve.api("GET", "/api/openapi.json")
    if "/api/v1/domains/{name}/history" not in doc.get("paths", {}):
        problems.append("openapi: no /api/v1/domains/{name}/history")


def triage(serve, binary, problems):
    """POST /api/v1/triage: the triage JSON of `triage --offline --format json`, and a check queued
    for the domain the mail names, followed to its verdict."""
    from triage_live import sakura_renewal_error
    mail = sakura_renewal_error("www-missing.jp")
    status, _, j = serve.api("POST", "/api/v1/triage?lang=en", raw=mail, content_type="message/rfc822")
    p = subprocess.run([binary, "triage", "--offline", "--format", "json", "--lang", "en"] + ["-"], input=mail,
                       capture_output=True, timeout=60)
    cli = json.loads(p.stdout) if p.stdout else {"exit": p.returncode, "stderr": p.stderr.decode()[:200]}
    queued = j.pop("queued", None)
    not_queued = j.pop("not_queued", None)
    print(f"triage: {status}, kind {j.get('kind')}, provider {(j.get('provider') or {}).get('id')}, queued {queued}")
    if status != 200 or j != cli:
        problems.append(f"triage: {status} {json.dumps(j)[:300]} differs from the command's {json.dumps(cli)[:300]}")
    if not queued or [q.get("domain") for q in queued] != ["www-missing.jp"] or not_queued != []:
        problems.append(f"triage: queued {queued}, not queued {not_queued}: expected one check of www-missing.jp")
    else:
        result = serve.wait(queued[0]["id"])
        ids = sorted({f["id"] for f in result.get("findings", [])})
        print(f"triage check {queued[0]['id']}: {result.get('status')} {result.get('verdict')} {ids}")
        if result.get("status") != "done" or result.get("verdict") != "fail" or "www-not-covered" not in ids:
            problems.append(f"triage check: {result.get('status')} {result.get('verdict')} {ids}")
    for name, body, want_status, want_code in (("empty", b"", 400, "serve-triage-unreadable"),
                                               ("binary", bytes(range(256)) * 8, 400, "serve-triage-unreadable"),
                                               ("too large", b"x" * (64 * 1024 + 1), 413, "serve-body-too-large")):
        status, _, j = serve.api("POST", "/api/v1/triage", raw=body, content_type="text/plain")
        err = j.get("error", {})
        print(f"triage {name}: {status} {err.get('code')}")
        if status != want_status or err.get("code") != want_code or not err.get("message", {}).get("ja") or not err.get("message", {}).get("en"):
            problems.append(f"triage {name}: {status} {j}, expected {want_status} {want_code} with ja and en")
    status, _, j = serve.api("GET", "/api/v1/triage")
    if status != 405:
        problems.append(f"triage GET: {status} {j}")
    status, _, doc = serve.api("GET", "/api/openapi.json")
    if "/api/v1/triage" not in doc.get("paths", {}):
        problems.append("openapi: no /api/v1/triage")


def post_from(serve, source, payload):
    """POST /api/v1/checks from the client address `source` (any address of 127/8 is this host):
    (status, Retry-After, JSON), status 0 when the connection was closed."""
    conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=60, source_address=(source, 0))
    try:
        conn.request("POST", "/api/v1/checks", json.dumps(payload), {"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read()
        return r.status, r.getheader("Retry-After"), json.loads(body) if body else {}
    except (OSError, http.client.HTTPException):
        return 0, None, {}
    finally:
        conn.close()


def flood(binary, tmp, problems):
    """One client address sends far past its bucket (12 connections at once, 120 checks) while
    another address starts its own checks: the flood gets 429 with Retry-After beyond its burst,
    the other client's checks are all accepted and finish."""
    burst = 3
    serve = Serve(binary, os.path.join(tmp, "flood.sqlite3"), os.path.join(tmp, "flood.log"),
                  ["--client-burst", str(burst), "--client-rate", "6", "--domain-burst", "200", "--domain-rate", "600",
                   "--workers", "2", "--queue", "200"])
    try:
        results, lock = [], threading.Lock()

        def flooder(t):
            for i in range(10):
                out = post_from(serve, "127.0.0.2", {"domain": f"flood{t}-{i}.healthy-sakura.jp"})
                with lock:
                    results.append(out)

        threads = [threading.Thread(target=flooder, args=(t,)) for t in range(12)]
        for t in threads:
            t.start()
        other, other_ms = [], []
        for domain in ("healthy-sakura.jp", "www-missing.jp", "caa-ok.jp"):
            time.sleep(0.2)
            start = time.monotonic()
            other.append((domain, post_from(serve, "127.0.0.3", {"domain": domain})))
            other_ms.append(round((time.monotonic() - start) * 1000))
        for t in threads:
            t.join()
        statuses = {}
        for status, _, _ in results:
            statuses[status] = statuses.get(status, 0) + 1
        print(f"flood from 127.0.0.2: {len(results)} requests: {dict(sorted(statuses.items()))}; "
              f"the other client's answers in {other_ms} ms")
        accepted = statuses.get(202, 0)
        if accepted < 1 or accepted > burst + 2:
            problems.append(f"flood: {accepted} checks accepted from one address with a burst of {burst}")
        if statuses.get(429, 0) < len(results) - burst - 2 - statuses.get(0, 0) or set(statuses) - {0, 202, 429}:
            problems.append(f"flood: statuses {statuses}, expected 429 beyond the burst")
        if any(s == 429 and not (ra and ra.isdigit() and int(ra) >= 1) for s, ra, _ in results):
            problems.append("flood: a 429 without Retry-After")
        if statuses.get(0, 0) > len(results) // 2:
            problems.append(f"flood: {statuses.get(0)} requests got no answer at all")
        for domain, (status, _, j) in other:
            if status != 202:
                problems.append(f"flood: the other client's check of {domain}: {status} {j}")
                continue
            result = serve.wait(j["id"])
            print(f"flood: the other client's {domain}: {result.get('status')} {result.get('verdict')}")
            if result.get("status") != "done":
                problems.append(f"flood: the other client's check of {domain} did not finish: {result.get('status')}")
    finally:
        serve.stop()


def hostile(serve, problems):
    cases = [
        ("huge body", dict(raw=b"{" + b" " * 200000 + b"}"), 413, "serve-body-too-large"),
        ("bad JSON", dict(raw=b"{\"domain\": "), 400, "serve-json-invalid"),
        ("not an object", dict(raw=b"\"example.jp\""), 400, "serve-json-object"),
        ("wrong type", dict(payload={"domain": ["a"]}), 400, "serve-domain-type"),
        ("unknown field", dict(payload={"domain": "example.jp", "callback": "x"}), 400, "serve-field-unknown"),
        ("control characters", dict(payload={"domain": "exa\u0000mp\u001ble.jp"}), 400, "domain-invalid"),
        ("markup", dict(payload={"domain": "<script>alert(1)</script>.jp"}), 400, "domain-invalid"),
        ("bad address", dict(payload={"domain": "example.jp", "server_ip": "127.0.0.1; rm -rf /"}), 400, "serve-server-ip-invalid"),
        ("form type", dict(raw=b"domain=example.jp", content_type="application/x-www-form-urlencoded"), 415, "serve-content-type"),
    ]
    for name, kwargs, want_status, want_code in cases:
        status, headers, j = serve.api("POST", "/api/v1/checks", **kwargs)
        err = j.get("error", {})
        msg = err.get("message", {})
        ok = status == want_status and err.get("code") == want_code and msg.get("ja") and msg.get("en") and msg["ja"] != msg["en"]
        print(f"hostile {name}: {status} {err.get('code')}")
        if not ok:
            problems.append(f"hostile {name}: {status} {j}, expected {want_status} {want_code} with ja and en")
        # The input may come back inside a JSON string (data, for the client to escape), never as a
        # document a browser would render.
        if not headers.get("Content-Type", "").startswith("application/json") or headers.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"hostile {name}: served as {headers.get('Content-Type')}, {headers.get('X-Content-Type-Options')}")
    status, _, j = serve.api("GET", "/api/v1/checks/AAAAAAAAAAAAAAAAAAAAAA")
    if status != 404 or j.get("error", {}).get("code") != "serve-not-found":
        problems.append(f"unknown id: {status} {j}")
    status, headers, j = serve.api("DELETE", "/api/v1/checks")
    if status != 405 or headers.get("Allow") != "POST":
        problems.append(f"DELETE: {status} {headers.get('Allow')}")
    # Headers beyond the connection's memory: refused by the server before the service sees them.
    with socket.create_connection(("127.0.0.1", serve.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
        reply = s.recv(200)
    print(f"hostile header: {reply[:40]!r}")
    if reply and not (reply.startswith(b"HTTP/1.1 431") or reply.startswith(b"HTTP/1.1 413") or reply.startswith(b"HTTP/1.1 400")):
        problems.append(f"huge header: {reply[:80]!r}")


def browser(serve, outdir, problems):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    options = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,1000",
              "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync"):
        options.add_argument(a)
    options.binary_location = "/usr/bin/chromium"
    # The form works without JavaScript: the browser has none.
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        for lang, submit_word, domain in (("ja", "確認する", "www-missing.jp"), ("en", "Check", "healthy-sakura.jp")):
            driver.get(f"{serve.base}/?lang={lang}")
            if driver.find_element(By.TAG_NAME, "html").get_attribute("lang") != lang:
                problems.append(f"form {lang}: the page is not in {lang}")
            driver.save_screenshot(os.path.join(outdir, f"serve-form-{lang}.png"))
            field = driver.find_element(By.ID, "domain")
            label = driver.find_element(By.CSS_SELECTOR, "label[for=domain]").text
            if not label:
                problems.append(f"form {lang}: the domain field has no label")
            field.send_keys(domain)
            driver.find_element(By.ID, "server_ip").send_keys("203.0.113.10")
            button = driver.find_element(By.CSS_SELECTOR, "button[type=submit]")
            if button.text != submit_word:
                problems.append(f"form {lang}: button {button.text!r}")
            button.click()
            deadline = time.monotonic() + 90
            while "/r/" not in driver.current_url and time.monotonic() < deadline:
                time.sleep(0.2)
            if "/r/" not in driver.current_url:
                problems.append(f"form {lang}: not sent to /r/ID ({driver.current_url})")
                continue
            # The page reloads itself (meta refresh) until the report is there.
            while time.monotonic() < deadline:
                if driver.find_elements(By.CSS_SELECTOR, "header.page.v-ok, header.page.v-warning, header.page.v-fail, header.page.v-incomplete"):
                    break
                time.sleep(0.5)
            text = driver.find_element(By.TAG_NAME, "body").text
            driver.save_screenshot(os.path.join(outdir, f"serve-result-{lang}-{domain}.png"))
            print(f"page {lang} {domain}: {driver.current_url.split('/r/')[1][:30]}: {text[:120]!r}")
            if domain not in text:
                problems.append(f"result {lang} {domain}: the domain is not on the page")
            if domain == "www-missing.jp" and "www.www-missing.jp" not in text:
                problems.append(f"result {lang}: no finding about www shown")
            header = driver.find_elements(By.CSS_SELECTOR, "header.page")
            classes = header[0].get_attribute("class") if header else ""
            want = "v-fail" if domain == "www-missing.jp" else ("v-ok", "v-warning")
            if (isinstance(want, str) and want not in classes) or (isinstance(want, tuple) and not any(w in classes for w in want)):
                problems.append(f"result {lang} {domain}: verdict {classes!r}, expected {want}")
        # Markup typed into the form comes back as text, not as an element.
        driver.get(f"{serve.base}/?lang=en")
        driver.find_element(By.ID, "domain").send_keys("<img src=x id=pwned>.jp")
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        time.sleep(1)
        driver.save_screenshot(os.path.join(outdir, "serve-hostile-form.png"))
        if driver.find_elements(By.ID, "pwned"):
            problems.append("hostile form: the markup became an element")
        if not driver.find_elements(By.CSS_SELECTOR, "[role=alert]"):
            problems.append("hostile form: no error shown")
    finally:
        driver.quit()


def inside(binary, argv):
    problems = []
    tmp = tempfile.mkdtemp(prefix="certdoctor-serve-")
    rest = [a for a in argv[2:] if not a.startswith("--")]
    outdir = rest[0] if rest else os.path.join(tmp, "screens")
    os.makedirs(outdir, exist_ok=True)
    db = os.path.join(tmp, "history.sqlite3")
    serve = Serve(binary, db, os.path.join(outdir, "serve.log"),
                  ["--client-burst", "50", "--domain-burst", "10", "--workers", "2"])
    try:
        records = api_checks(serve, problems)
        history(serve, binary, db, records, problems)
        triage(serve, binary, problems)
        flood(binary, tmp, problems)
        hostile(serve, problems)
        browser(serve, outdir, problems)
    finally:
        serve.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL:", p)
    print(f"{'FAILED' if problems else 'passed'}: {len(problems)} problem(s); screenshots in {outdir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(outside_then_inside(sys.argv, __doc__, inside))

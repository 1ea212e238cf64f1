"""Helpers of the lab tests of `certdoctor serve` (ssrf_live.py, serve_live.py): the script runs
itself again inside the lab's network namespace (where the service, its client and the browser
meet on 127.0.0.1), starts the service there with --lab, and speaks to it with urllib.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_scenarios import LAB, LAB_RULES, lab_env  # noqa: E402,F401


def outside_then_inside(argv, doc, inside):
    """Outside the namespace: brings the lab up, runs this script inside it with --inside, takes
    the lab down (unless --keep-lab). Inside: calls inside(binary, argv)."""
    from run_scenarios import binary_argument
    binary = binary_argument(argv, doc)
    if "--inside" in argv:
        return inside(binary, argv)
    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    try:
        p = subprocess.run([LAB, "exec", "--", sys.executable, os.path.abspath(argv[0]), binary, "--inside"] + argv[2:])
        return p.returncode
    finally:
        if "--keep-lab" not in argv:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def probe_args(env):
    """The lab's resolver, root, rules, CA and no outside sources: the probe options of a check."""
    return ["--resolver", env["LAB_RESOLVER"], "--root-hints", env["LAB_ROOT_HINTS"], "--rules-dir", LAB_RULES,
            "--no-cache", "--ct-url", "none", "--status-url", "none", "--ca-file", env["LAB_CA_FILE"]]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Serve:
    """certdoctor serve --lab on 127.0.0.1:PORT of the namespace, its log in LOG."""

    def __init__(self, binary, db, log, extra=()):
        env = lab_env()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--lab", "--db", db, "--timeout", "30"]
                                     + probe_args(env) + list(extra), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _, _ = self.request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"certdoctor serve did not start (see {log})")
            time.sleep(0.2)

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes); an HTTP error status is returned, not raised."""
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def api(self, method, path, payload=None, raw=None, content_type="application/json"):
        body = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
        status, headers, data = self.request(method, path, body, {"Content-Type": content_type} if body is not None else {})
        try:
            return status, headers, json.loads(data)
        except ValueError:
            return status, headers, {"unparsed": data[:200].decode(errors="replace")}

    def wait(self, check_id, timeout=90):
        deadline = time.monotonic() + timeout
        while True:
            status, _, j = self.api("GET", f"/api/v1/checks/{check_id}")
            if status != 200 or j.get("status") in ("done", "failed") or time.monotonic() > deadline:
                return j
            time.sleep(0.5)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

#!/usr/bin/env python3
"""End-to-end: `certdoctor triage` with live checks against the lab.

Each case feeds triage what automation receives — a provider's mail (built here, ISO-2022-JP as
Sakura sends it), a certbot log, an ACME problem document — about a lab domain, and asserts what
the notice is, which domains it names, the cause the CA reported, and that the live check of the
domain (DNS, HTTP, TLS in the lab) finds the same problem now, with the exit status that follows.

usage: triage_live.py CERTDOCTOR [--keep-lab]
"""
import json
import os
import subprocess
import sys
import tempfile
from email.header import Header
from email.mime.text import MIMEText

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_scenarios import LAB, LAB_RULES, binary_argument, lab_env  # noqa: E402


def sakura_renewal_error(domain):
    body = ("いつもご利用いただきありがとうございます。\n\n"
            "お使いの無料SSLについて、自動更新に失敗したため新しい証明書を発行できませんでした。\n\n"
            "【証明書の情報】\n"
            "レンタルサーバアカウント : labuser\n"
            "証明書の種類 : Let's Encrypt(無料SSL)\n"
            f"コモンネーム : {domain}\n")
    msg = MIMEText(body, "plain", "iso-2022-jp")
    msg["From"] = "support@sakura.ad.jp"
    msg["To"] = "owner@example.jp"
    msg["Subject"] = Header("[さくらインターネット]【重要】無料SSL証明書 更新エラーについて", "iso-2022-jp")
    msg["Message-ID"] = f"<lab-{domain}@sakura.ad.jp>"
    return msg.as_bytes()


def sakura_reworded(domain):
    # The same notice in other words (no subject or body pattern of the profile matches): it is
    # recognised by its cues, and its fields still give the domain, the account and the type.
    body = ("さくらインターネットです。\n\n"
            "無料SSLの自動での更新処理が正常に終わりませんでした。\n\n"
            "初期ドメイン : labuser.sakura.ne.jp\n"
            "証明書の種類 : Let's Encrypt(無料SSL)\n"
            f"コモンネーム : {domain}\n")
    msg = MIMEText(body, "plain", "iso-2022-jp")
    msg["From"] = "info@sakura.ad.jp"
    msg["To"] = "owner@example.jp"
    msg["Subject"] = Header("無料SSLの更新について", "iso-2022-jp")
    msg["Message-ID"] = f"<lab-reworded-{domain}@sakura.ad.jp>"
    return msg.as_bytes()


def certbot_log(domain, address, status):
    return (f"Saving debug log to /var/log/letsencrypt/letsencrypt.log\n"
            f"Certbot failed to authenticate some domains (authenticator: webroot). The Certificate "
            f"Authority reported these problems:\n"
            f"  Domain: {domain}\n  Type:   unauthorized\n"
            f"  Detail: {address}: Invalid response from http://{domain}/.well-known/acme-challenge/x1: {status}\n\n"
            f"Hint: The Certificate Authority failed to download the temporary challenge files.\n").encode()


def certbot_log_two(domain):
    """A certbot failure that names the domain and its www (the usual multi-domain certificate)."""
    return (f"Certbot failed to authenticate some domains (authenticator: webroot). The Certificate "
            f"Authority reported these problems:\n"
            f"  Domain: {domain}\n  Type:   unauthorized\n"
            f"  Detail: 203.0.113.10: Invalid response from http://{domain}/.well-known/acme-challenge/x1: 404\n\n"
            f"  Domain: www.{domain}\n  Type:   unauthorized\n"
            f"  Detail: 203.0.113.10: Invalid response from http://www.{domain}/.well-known/acme-challenge/x2: 404\n\n").encode()


def certbot_log_pair(first, second):
    """A certbot failure that names two domains of one server: checked together, reported in the
    order of the log."""
    return (f"Certbot failed to authenticate some domains (authenticator: webroot). The Certificate "
            f"Authority reported these problems:\n"
            f"  Domain: {first}\n  Type:   unauthorized\n"
            f"  Detail: 203.0.113.10: Invalid response from http://{first}/.well-known/acme-challenge/x1: 404\n\n"
            f"  Domain: {second}\n  Type:   unauthorized\n"
            f"  Detail: 203.0.113.10: Invalid response from http://{second}/.well-known/acme-challenge/x2: 404\n\n").encode()


def acme_problem_caa(domain):
    return json.dumps({
        "type": "urn:ietf:params:acme:error:caa",
        "detail": f"Error finalizing order :: Rechecking CAA for \"{domain}\": CAA record for {domain} "
                  f"prevents issuance",
        "status": 403}).encode()


# name, input bytes, extra check arguments, expected: kind, domains, cause (or None), live ids,
# exit status
CASES = [
    ("sakura mail, www missing", sakura_renewal_error("www-missing.jp"), ["--server-ip", "203.0.113.10"],
     "sakura-renewal-error", ["www-missing.jp"], None, ["www-not-covered"], 1),
    ("sakura mail, fixed since", sakura_renewal_error("healthy-sakura.jp"), ["--server-ip", "203.0.113.10"],
     "sakura-renewal-error", ["healthy-sakura.jp"], None, [], 0),
    ("sakura mail reworded", sakura_reworded("www-missing.jp"), ["--server-ip", "203.0.113.10"],
     "sakura-renewal-error", ["www-missing.jp"], None, ["www-not-covered"], 1),
    ("certbot log, basic auth", certbot_log("http-basic-auth.jp", "203.0.113.20", 401), ["--server-ip", "203.0.113.20"],
     "acme-error", ["http-basic-auth.jp"], "http-access-restricted", ["http-access-restricted"], 1),
    ("ACME problem, CAA", acme_problem_caa("caa-forbids.jp"), ["--server-ip", "203.0.113.10"],
     "acme-error", ["caa-forbids.jp"], "caa-forbids", ["caa-forbids"], 1),
    # www.X is checked with X (one check, not two): see the "checks" count below.
    ("certbot log, apex and www", certbot_log_two("healthy-sakura.jp"), ["--server-ip", "203.0.113.10"],
     "acme-error", ["healthy-sakura.jp", "www.healthy-sakura.jp"], "http-error", [], 0),
    # Two domains, checked at once: each report is the check of its own domain.
    ("certbot log, two domains", certbot_log_pair("www-missing.jp", "healthy-sakura.jp"), ["--server-ip", "203.0.113.10"],
     "acme-error", ["www-missing.jp", "healthy-sakura.jp"], "http-error", ["www-not-covered"], 1),
]
# For a case that checks several domains: the ids each domain's own check must fire (an empty
# list: none of severity error).
PER_CHECK = {
    "certbot log, two domains": {"www-missing.jp": ["www-not-covered"], "healthy-sakura.jp": []},
}


def run(binary, env, data, args):
    with tempfile.NamedTemporaryFile(suffix=".in", delete=False) as f:
        f.write(data)
        path = f.name
    try:
        cmd = [LAB, "exec", "--", binary, "triage", "--format", "json", "--lang", "en", "--allow-reserved",
               "--root-hints", env["LAB_ROOT_HINTS"], "--rules-dir", LAB_RULES, "--no-cache",
               "--ct-url", "none", "--status-url", "none", "--ca-file", env["LAB_CA_FILE"], "--timeout", "30"]
        p = subprocess.run(cmd + args + [path], capture_output=True, timeout=120)
        report = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, report, p.stderr.decode(errors="replace")
    finally:
        os.unlink(path)


def main(argv):
    binary = binary_argument(argv, __doc__)
    keep = "--keep-lab" in argv
    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    failed = 0
    try:
        env = lab_env()
        for name, data, args, kind, domains, cause, live, code in CASES:
            rc, report, stderr = run(binary, env, data, args)
            problems = []
            if report is None:
                problems.append("no JSON report: " + stderr.strip()[:300])
            else:
                if report.get("kind") != kind:
                    problems.append(f"kind {report.get('kind')}, expected {kind}")
                got = [d["ascii"] for d in report.get("domains", [])]
                if got != domains:
                    problems.append(f"domains {got}, expected {domains}")
                got_cause = ((report.get("acme") or {}).get("cause") or {}).get("finding")
                if got_cause != cause:
                    problems.append(f"cause {got_cause}, expected {cause}")
                fired = sorted({f["id"] for c in report.get("checks", []) for f in c.get("findings", [])})
                for rid in live:
                    if rid not in fired:
                        problems.append(f"live check: {rid} did not fire (fired: {fired})")
                if not live and name not in PER_CHECK and any(f["severity"] == "error" for c in report.get("checks", []) for f in c.get("findings", [])):
                    problems.append(f"live check: errors fired on a healthy domain ({fired})")
                checked = [c.get("domain") for c in report.get("checks", [])]
                expected_checks = [d for d in domains if not (d.startswith("www.") and d[4:] in domains)]
                if checked != expected_checks:
                    problems.append(f"checked {checked}, expected {expected_checks}")
                for c in report.get("checks", []):
                    want = PER_CHECK.get(name, {}).get(c.get("domain"))
                    if want is None:
                        continue
                    ids = sorted({f["id"] for f in c.get("findings", [])})
                    errors = sorted({f["id"] for f in c.get("findings", []) if f["severity"] == "error"})
                    if any(rid not in ids for rid in want) or (not want and errors):
                        problems.append(f"check of {c.get('domain')}: fired {ids}, expected {want or 'no error'}")
                if rc != code:
                    problems.append(f"exit {rc}, expected {code}")
                # A Sakura notice names the account (for the live check's --account) and the
                # whole certificate type.
                if kind.startswith("sakura-"):
                    if report.get("account") != "labuser":
                        problems.append(f"account {report.get('account')!r}, expected 'labuser'")
                    if (report.get("ids") or {}).get("cert_type") != ["Let's Encrypt(無料SSL)"]:
                        problems.append(f"cert_type {(report.get('ids') or {}).get('cert_type')!r}")
                    # ... and the live check knows the server by that account's own name.
                    for c in report.get("checks", []):
                        how = (c.get("host") or {}).get("how") or []
                        if not any(h.get("key") == "account" and h.get("name") == "labuser.sakura.ne.jp" for h in how):
                            problems.append(f"live check of {c.get('domain')}: the server not known by the account ({how})")
            print(f"{name:<28} exit {rc}  " + ("ok" if not problems else "FAIL: " + "; ".join(problems)))
            failed += bool(problems)
    finally:
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"{len(CASES) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Proves certdoctor's predictions against a real ACME CA: Pebble and lego in the lab.

For every row of tests/lab/scenarios.yaml: runs `certdoctor check --ca pebble` with the row's
arguments (and the lab's, as run_scenarios.py does), then asks Pebble for a certificate for the
names certdoctor reported, with lego putting the HTTP-01 token where the hosting server serves
it (`--http.webroot $LAB_DOCROOT/<site>`, <site> being the name without a leading "www.").
The prediction (exit 0: will succeed, 1: will fail, with its first blocking finding) must agree
with what happened (a certificate, or an ACME error whose type tests/e2e/acme_errors.yaml
accepts for that finding). Prints a table (scenario, predicted, actual, ACME error) and fails
on any disagreement.

A row may carry `acme:` (documented at the top of scenarios.yaml):
  acme: skip                 not compared; `why:` says why (listed in the table, never silent)
  acme: {ca_difference: ID}  a known difference between Let's Encrypt and Pebble: the default
                             (Let's Encrypt) model must block with ID, the Pebble model must not,
                             and the Pebble prediction must still agree with Pebble; `why:` says
                             what differs
  acme: {beyond_ca: ID}      the prediction is blocked by ID alone, a finding about the provider's
                             workflow or the served site rather than the CA's validation (an
                             expired certificate Sakura will not renew by itself): the CA must issue
  acme: {ca_difference: ID, stricter: pebble}
                             the other way round: the Pebble model must block with ID, the Let's
                             Encrypt model must not (Let's Encrypt is the more lenient CA here)
An exit status 3 (diagnosis incomplete) predicts nothing and counts as a disagreement unless the
row says `acme: skip`.

usage: acme_agreement.py CERTDOCTOR [--keep-lab] [--only DOMAIN]... [--ca ID]
       acme_agreement.py --lego DOMAIN [NAME...]   (one lego run in a running lab, for a look)
"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_scenarios import LAB, SCENARIOS, binary_argument, lab_env, run_check  # noqa: E402

ACME_ERRORS = os.path.join(HERE, "acme_errors.yaml")
# lego's whole run (account, order, validation of every name, certificate) must end by then;
# Pebble gives up on one validation after 15 s.
LEGO_DEADLINE = 90
LEGO_PARALLEL = 8
ACME_ERROR_RE = re.compile(r"(?:\[(?P<name>[^\]]+)\] )?acme: error: (?P<status>\d+) :: (?:\S+ :: \S+ :: )?"
                           r"urn:ietf:params:acme:error:(?P<type>[A-Za-z]+) :: (?P<detail>.*)")


def site_of(name):
    """The hosting server's document root folder for a Host: the name without a leading www."""
    return name[4:] if name.startswith("www.") else name


def triage_cause(binary, text):
    """The finding id `certdoctor triage --offline` gives for an ACME client's output ("" when
    it names none)."""
    p = subprocess.run([binary, "triage", "--offline", "--format", "json", "-"], input=text.encode(),
                       capture_output=True, timeout=60)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        return ""
    return (((report or {}).get("acme") or {}).get("cause") or {}).get("finding") or ""


def run_lego(env, names, workdir):
    """lego against the lab's Pebble for NAMES. Returns (ok, errors, output): errors is a list of
    (name, type, detail) parsed from lego's output, output lego's own text."""
    sites = {site_of(n) for n in names}
    if len(sites) != 1:
        return False, [("", "harness", f"names {names} belong to several sites {sorted(sites)}")], ""
    webroot = os.path.join(env["LAB_DOCROOT"], sites.pop())
    # The provider's renewal writes into the site's document root, which exists for every site
    # it hosts; lego refuses a missing one. Made for the run when the lab has none, then removed.
    made = not os.path.isdir(webroot)
    if made:
        os.makedirs(webroot)
    try:
        return lego_in(env, names, workdir, webroot)
    finally:
        if made:
            shutil.rmtree(webroot, ignore_errors=True)


def lego_in(env, names, workdir, webroot):
    cmd = [LAB, "exec", "--", "env", "LEGO_CA_CERTIFICATES=" + env["LAB_ACME_CA"], "lego",
           "--server", env["LAB_ACME_DIR"], "--accept-tos", "--email", "test@example.jp", "--path", workdir]
    for n in names:
        cmd += ["--domains", n]
    cmd += ["--http", "--http.webroot", webroot, "run"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=LEGO_DEADLINE)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return False, [("", "timeout", f"lego did not finish within {LEGO_DEADLINE} s")], out
    out = p.stdout + p.stderr
    # Go's client puts the challenge URL in front of the cause: keep the cause.
    errors = [(m["name"] or "", m["type"], re.sub(r'^Get "[^"]*": ', "", m["detail"].strip()))
              for m in ACME_ERROR_RE.finditer(out)]
    ok = p.returncode == 0 and not errors
    if not ok and not errors:
        last = [line for line in out.strip().splitlines() if line.strip()][-1:] or ["no output"]
        errors = [("", "lego", f"exit {p.returncode}: {last[0].strip()[:200]}")]
    return ok, errors, out


def blocking(report):
    return [f["id"] for f in (report or {}).get("findings", []) if f.get("severity") == "error"]


def ascii_names(report):
    return [n["name"] for n in (report or {}).get("names", [])]


def compare(code, report, lego_ok, errors, accepted):
    """Problems between the prediction and the outcome (empty: they agree)."""
    if report is None:
        return ["certdoctor gave no JSON report"]
    if code == 3:
        return ["diagnosis incomplete (exit 3) predicts nothing: mark the row `acme: skip` with why"]
    if code not in (0, 1):
        return [f"certdoctor exit {code}"]
    if code == 0 and not lego_ok:
        return ["predicted success, the CA refused"]
    if code == 1 and lego_ok:
        return ["predicted failure, the CA issued"]
    if code == 1:
        first = (blocking(report) or ["?"])[0]
        if first not in accepted:
            return [f"blocking finding {first} has no entry in acme_errors.yaml"]
        types = [t for _, t, _ in errors]
        if not any(t in accepted[first] for t in types):
            return [f"ACME error {','.join(types) or '-'} is not one {first} explains ({', '.join(accepted[first])})"]
    return []


def lab_is_up():
    return subprocess.run([LAB, "status"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "--lego":
        env = lab_env()
        with tempfile.TemporaryDirectory() as tmp:
            ok, errors, out = run_lego(env, argv[2:], tmp)
        print(out)
        print("issued" if ok else "refused: " + "; ".join(f"[{n}] {t} :: {d}" for n, t, d in errors))
        return 0 if ok else 1
    binary = binary_argument(argv, __doc__)
    keep = "--keep-lab" in argv
    ca = argv[argv.index("--ca") + 1] if "--ca" in argv else "pebble"
    only = [argv[i + 1] for i, a in enumerate(argv) if a == "--only" and i + 1 < len(argv)]
    with open(SCENARIOS, encoding="utf-8") as f:
        scenarios = yaml.safe_load(f)["scenarios"]
    with open(ACME_ERRORS, encoding="utf-8") as f:
        accepted = yaml.safe_load(f)["findings"]
    if only:
        scenarios = [s for s in scenarios if s["domain"] in only]

    started_lab = False
    if not lab_is_up():
        subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
        started_lab = True
    rows = []
    failed = 0
    triage_seen = []  # per refusal: did triage of lego's output name the predicted finding?
    try:
        env = lab_env()
        missing = [k for k in ("LAB_ACME_DIR", "LAB_ACME_CA", "LAB_DOCROOT") if not env.get(k)]
        if missing:
            print(f"acme-agreement: the lab gives no {', '.join(missing)} (`lab env`): no ACME CA or no "
                  "hosting web server to put the challenge files on")
            return 1
        # 1. The predictions, one check at a time (each has its own deadline).
        checks = []
        for s in scenarios:
            label = s["domain"] + ("" if not s.get("args") else " " + " ".join(str(a) for a in s["args"]))
            acme = s.get("acme")
            if acme == "skip":
                rows.append((label, "-", "-", "-", "skipped: " + str(s.get("why") or "(no why given: FAIL)")))
                failed += not s.get("why")
                continue
            args = [str(a) for a in (s.get("args") or [])]
            code, report, stderr, elapsed = run_check(binary, env, s["domain"], args + ["--ca", ca])
            checks.append((s, label, args, code, report, stderr, elapsed))
        # 2. The real outcomes: lego once per set of names (the lab is the same for every row with
        # these names). lego waits seconds between polls of a challenge, so the sites run at
        # once; the name sets of one site (its document root) one after the other.
        by_site = {}
        for _, _, _, _, report, _, _ in checks:
            names = tuple(ascii_names(report))
            if names:
                by_site.setdefault(site_of(names[0]), [])
                if names not in by_site[site_of(names[0])]:
                    by_site[site_of(names[0])].append(names)
        outcomes = {}
        with tempfile.TemporaryDirectory() as tmp:
            def run_site(i, sets):
                for j, names in enumerate(sets):
                    work = os.path.join(tmp, f"lego-{i}-{j}")
                    os.makedirs(work)
                    ok, errors, out = run_lego(env, list(names), work)
                    outcomes[names] = (ok, errors, out)
            with concurrent.futures.ThreadPoolExecutor(max_workers=LEGO_PARALLEL) as pool:
                for f in [pool.submit(run_site, i, sets) for i, sets in enumerate(by_site.values())]:
                    f.result()
        # 3. Prediction against outcome.
        for s, label, args, code, report, stderr, elapsed in checks:
            acme = s.get("acme")
            names = tuple(ascii_names(report))
            predicted = {0: "success", 1: "fail", 3: "incomplete"}.get(code, f"exit {code}")
            if code == 1:
                predicted += " " + ((blocking(report) or ["?"])[0])
            if not names:
                rows.append((label, predicted, "-", "-", "DISAGREE: no names in the report; " + stderr.strip()[:200]))
                failed += 1
                continue
            ok, errors, lego_out = outcomes[names]
            # What `certdoctor triage` makes of lego's own error output (automation's view).
            triaged = triage_cause(binary, lego_out) if not ok else None
            if triaged is not None:
                triage_seen.append((blocking(report) or ["-"])[0] == triaged)
            actual = "issued" if ok else "refused"
            acme_error = "; ".join(f"[{n}] {t} :: {d[:120]}" if n else f"{t} :: {d[:120]}" for n, t, d in errors) or "-"
            if isinstance(acme, dict) and acme.get("beyond_ca"):
                # The blocking finding is about the provider's workflow or the site, not the CA's
                # validation: it must be the only one, and the CA must issue.
                rid = acme["beyond_ca"]
                problems = []
                if code != 1 or set(blocking(report)) != {rid}:
                    problems.append(f"beyond_ca {rid}: expected exit 1 blocked by {rid} alone, got exit {code}, "
                                    f"blocking {blocking(report) or '-'}")
                if not ok:
                    problems.append(f"beyond_ca {rid}: the CA refused, so something the CA checks is wrong too")
                if not acme.get("why"):
                    problems.append("beyond_ca without why")
                result = "agree" if not problems else "DISAGREE: " + "; ".join(problems)
                if not problems:
                    result = f"agree; {rid} blocks the provider's renewal, not the CA's validation"
                rows.append((label, predicted, actual, acme_error, result + f" [check {elapsed:.1f}s]"))
                failed += bool(problems)
                continue
            problems = compare(code, report, ok, errors, accepted)
            if isinstance(acme, dict) and acme.get("ca_difference"):
                rid = acme["ca_difference"]
                lcode, lreport, _, _ = run_check(binary, env, s["domain"], args)
                if acme.get("stricter") == ca:
                    if rid not in blocking(report):
                        problems.append(f"ca_difference {rid}: the {ca} model does not block with it")
                    if rid in blocking(lreport):
                        problems.append(f"ca_difference {rid}: the Let's Encrypt model blocks with it too")
                else:
                    if lcode != 1 or rid not in blocking(lreport):
                        problems.append(f"ca_difference {rid}: the Let's Encrypt model gives exit {lcode}, "
                                        f"blocking {blocking(lreport) or '-'}")
                    if rid in blocking(report):
                        problems.append(f"ca_difference {rid}: the {ca} model blocks with it too")
                if not acme.get("why"):
                    problems.append("ca_difference without why")
            elif acme is not None:
                problems.append(f"unknown acme: {acme!r}")
            result = "agree" if not problems else "DISAGREE: " + "; ".join(problems)
            if isinstance(acme, dict) and acme.get("ca_difference") and not problems:
                stricter = "the " + ca + " model" if acme.get("stricter") == ca else "the Let's Encrypt model"
                result = f"agree; known difference: {stricter} blocks with {acme['ca_difference']}"
            if triaged is not None:
                result += f"; triage of lego's output: {triaged or 'no cause'}"
            rows.append((label, predicted, actual, acme_error, result + f" [check {elapsed:.1f}s]"))
            failed += bool(problems)
    finally:
        if started_lab and not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    w0 = min(max(len(r[0]) for r in rows), 100) if rows else 10
    w1 = max(len(r[1]) for r in rows) if rows else 10
    print(f"{'scenario':<{w0}}  {'predicted':<{w1}}  {'actual':<7}  ACME error")
    for label, predicted, actual, acme_error, result in rows:
        print(f"{label[:w0]:<{w0}}  {predicted:<{w1}}  {actual:<7}  {acme_error}")
        print(f"{'':<{w0}}  {result}")
    agreed = sum(1 for r in rows if r[4].startswith("agree"))
    skipped = sum(1 for r in rows if r[4].startswith("skipped"))
    print(f"{agreed} agree, {failed} disagree, {skipped} skipped (CA model: {ca})")
    if triage_seen:
        print(f"certdoctor triage of lego's error output named the predicted blocking finding in "
              f"{sum(triage_seen)} of {len(triage_seen)} refusals")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Runs the real certdoctor binary inside the lab over every scenario of tests/lab/scenarios.yaml.

For each scenario: the exit status must be the expected one, every id in must_fire must be among
the findings, and no id in must_not_fire may be. A table of what happened is printed, then
'N passed, M failed'. Also checks that a saved facts file replays to the same findings offline.

usage: run_scenarios.py CERTDOCTOR [--keep-lab] [--only DOMAIN]... [--save-facts DIR]
       run_scenarios.py CERTDOCTOR --replay DIR

--save-facts keeps each scenario's facts file in DIR; --replay judges such saved facts offline
(no lab, no root) against the same expectations: a regression test of the rules alone.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(ROOT, "tests", "lab", "lab")
SCENARIOS = os.path.join(ROOT, "tests", "lab", "scenarios.yaml")
LAB_RULES = os.path.join(ROOT, "tests", "lab", "rules")


def lab_env():
    out = subprocess.run([LAB, "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):]
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v.strip().strip("'\"")
    return env


def expand(text, env):
    for k, v in env.items():
        text = text.replace("${" + k + "}", v)
    return text


def run_check(binary, env, domain, args, facts_out=None):
    cmd = [LAB, "exec", "--", binary, "check", "--format", "json", "--lang", "en", "--allow-reserved",
           "--root-hints", env["LAB_ROOT_HINTS"], "--rules-dir", LAB_RULES, "--no-cache"]
    # Scenario arguments may name lab variables, e.g. ${LAB_CT_URL}.
    args = [expand(str(a), env) for a in (args or [])]
    # Outside sources are asked only by the scenarios about them.
    for flag, default in (("--ct-url", "none"), ("--status-url", "none"), ("--timeout", "20")):
        if flag not in args:
            cmd += [flag, default]
    # The served certificates are verified against the lab CA's roots.
    if "--ca-file" not in args and env.get("LAB_CA_FILE"):
        cmd += ["--ca-file", env["LAB_CA_FILE"]]
    cmd += args
    if facts_out:
        cmd += ["--facts-out", facts_out]
    cmd.append(domain)
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    report = None
    if p.stdout.strip():
        try:
            report = json.loads(p.stdout)
        except json.JSONDecodeError:
            report = None
    return p.returncode, report, p.stderr, elapsed


def explain(binary, facts_file):
    cmd = [binary, "explain", "--facts", facts_file, "--format", "json", "--lang", "en", "--rules-dir", LAB_RULES]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr


def facts_name(scenario):
    args = " ".join(scenario.get("args") or [])
    return scenario["domain"].encode("idna").decode() + "-" + hashlib.sha1(args.encode()).hexdigest()[:8] + ".json"


def resolve_expected(value, manifest):
    """'manifest:a.b.c' names a value of the lab's fixture manifest; None when unavailable."""
    if not (isinstance(value, str) and value.startswith("manifest:")):
        return value
    if manifest is None:
        return None
    node = manifest
    path = value[len("manifest:"):]
    # Keys may contain dots (domains): match the longest key at each level.
    while path:
        key = next((k for k in sorted(node, key=len, reverse=True) if path == k or path.startswith(k + ".")), None)
        if key is None:
            return "(no " + value + ")"
        node = node[key]
        path = path[len(key) + 1:]
    return node


def check_evidence(s, report, manifest):
    problems = []
    for rid, expected in (s.get("expect_evidence") or {}).items():
        found = [f for f in (report or {}).get("findings", []) if f["id"] == rid]
        if not found:
            continue  # must_fire reports the missing finding
        for key, want in expected.items():
            want = resolve_expected(want, manifest)
            if want is None:
                continue
            got = found[0]["evidence"].get(key)
            if got != want:
                problems.append(f"{rid}.{key} = {got!r}, expected {want!r}")
    return problems


def check_expectations(s, code, fired):
    problems = []
    if "expect_exit" in s and code != s["expect_exit"]:
        problems.append(f"exit {code}, expected {s['expect_exit']}")
    for rid in s.get("must_fire", []) or []:
        if rid not in fired:
            problems.append(f"{rid} did not fire")
    for rid in s.get("must_not_fire", []) or []:
        if rid in fired:
            problems.append(f"{rid} fired")
    return problems


def replay_saved(binary, scenarios, directory):
    passed = failed = 0
    for s in scenarios:
        path = os.path.join(directory, facts_name(s))
        if not os.path.exists(path):
            print(f"{s['domain']}: FAIL: no saved facts {path}")
            failed += 1
            continue
        code, report, err = explain(binary, path)
        fired = [f["id"] for f in (report or {}).get("findings", [])]
        problems = check_expectations(s, code, fired) if report else ["no report: " + err.strip()[:300]]
        problems += check_evidence(s, report, None)
        print(f"{s['domain']:<28} {code:>2}  {','.join(sorted(set(fired))) or '-'}" + ("" if not problems else "  FAIL: " + "; ".join(problems)))
        passed += not problems
        failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def binary_argument(argv, doc):
    """The CERTDOCTOR argument of these scripts: --help (or nothing) prints the usage and ends the
    script before any lab is brought up; a path that is not an executable file is refused."""
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(doc)
        sys.exit(0 if len(argv) >= 2 else 2)
    binary = os.path.abspath(argv[1])
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"{argv[0]}: {argv[1]}: not an executable certdoctor binary (usage: {os.path.basename(argv[0])} CERTDOCTOR ...)",
              file=sys.stderr)
        sys.exit(2)
    return binary


def main(argv):
    binary = binary_argument(argv, __doc__)
    save_dir = argv[argv.index("--save-facts") + 1] if "--save-facts" in argv else None
    if "--replay" in argv:
        with open(SCENARIOS, encoding="utf-8") as f:
            return replay_saved(binary, yaml.safe_load(f)["scenarios"], argv[argv.index("--replay") + 1])
    keep = "--keep-lab" in argv
    only = [argv[i + 1] for i, a in enumerate(argv) if a == "--only" and i + 1 < len(argv)]
    with open(SCENARIOS, encoding="utf-8") as f:
        scenarios = yaml.safe_load(f)["scenarios"]
    if only:
        scenarios = [s for s in scenarios if s["domain"] in only]

    subprocess.run([LAB, "up"], check=True, stdout=subprocess.DEVNULL)
    passed = failed = 0
    rows = []
    try:
        env = lab_env()
        manifest = None
        if env.get("LAB_WEB_FIXTURES") and os.path.exists(os.path.join(env["LAB_WEB_FIXTURES"], "manifest.json")):
            with open(os.path.join(env["LAB_WEB_FIXTURES"], "manifest.json"), encoding="utf-8") as mf:
                manifest = json.load(mf)
        with tempfile.TemporaryDirectory() as tmp:
            for i, s in enumerate(scenarios):
                domain = s["domain"]
                facts_file = os.path.join(tmp, f"facts-{i}.json")
                code, report, stderr, elapsed = run_check(binary, env, domain, s.get("args"), facts_file)
                fired = [f["id"] for f in (report or {}).get("findings", [])]
                problems = []
                if report is None:
                    problems.append("no JSON report; stderr: " + stderr.strip()[:300])
                problems += check_expectations(s, code, fired)
                problems += check_evidence(s, report, manifest)
                args = [str(a) for a in (s.get("args") or [])]
                deadline = float(args[args.index("--timeout") + 1]) if "--timeout" in args else 20.0
                if elapsed > deadline + 3:
                    problems.append(f"took {elapsed:.1f} s, past the {deadline:g} s deadline")
                # The saved facts must replay offline to the same findings.
                if report is not None and os.path.exists(facts_file):
                    rcode, replay, rerr = explain(binary, facts_file)
                    replayed = [f["id"] for f in (replay or {}).get("findings", [])]
                    if replayed != fired or rcode != code:
                        problems.append(f"explain replay differs: exit {rcode}, {replayed}")
                if save_dir and os.path.exists(facts_file):
                    os.makedirs(save_dir, exist_ok=True)
                    shutil.copy(facts_file, os.path.join(save_dir, facts_name(s)))
                ok = not problems
                passed += ok
                failed += not ok
                rows.append((domain, code, ",".join(sorted(set(fired))) or "-", f"{elapsed:.2f}s",
                             "ok" if ok else "FAIL: " + "; ".join(problems)))
    finally:
        if not keep:
            subprocess.run([LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'scenario':<{width}}  exit  time    findings / result")
    for domain, code, fired, elapsed, result in rows:
        print(f"{domain:<{width}}  {code:>4}  {elapsed:>6}  {fired}")
        if result != "ok":
            print(f"{'':<{width}}              {result}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

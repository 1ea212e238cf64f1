#!/usr/bin/env python3
"""Keep docs/boulder-http01.md true to the lab.

docs/boulder-http01.md maps every table case of Boulder's va/http_test.go about redirects,
statuses, the body, the IPv4 fallback and timeouts to the lab scenario that reproduces it. This
script reads its tables (columns: test, case, Boulder's outcome, scenario, note) and checks that
every scenario named (a domain in backticks) is a row of tests/lab/scenarios.yaml, that a row
without a scenario says `none` and gives its reason in the note, and that no case is listed twice.

usage: check_boulder_table.py [REPO_ROOT]
  REPO_ROOT defaults to two levels above this script.
Exit status: 0 when every row holds, 1 when any row is broken or a file cannot be read, 2 on a
usage error.
"""
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("check_boulder_table: PyYAML is required (python3-yaml)\n")
    sys.exit(2)

DOC = os.path.join("docs", "boulder-http01.md")
SCENARIOS = os.path.join("tests", "lab", "scenarios.yaml")
HEADER = ["test", "case", "boulder's outcome", "scenario", "note"]
DOMAIN_RE = re.compile(r"^`([^`\s]+)`$")


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        sys.stderr.write(__doc__)
        return 2
    root = argv[1] if len(argv) == 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    try:
        with open(os.path.join(root, DOC), encoding="utf-8") as f:
            lines = f.read().splitlines()
        with open(os.path.join(root, SCENARIOS), encoding="utf-8") as f:
            domains = {s["domain"] for s in yaml.safe_load(f)["scenarios"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        print(f"check_boulder_table: {e}")
        return 1

    problems, rows, seen, in_table = [], 0, set(), False
    for n, line in enumerate(lines, 1):
        if not line.startswith("|"):
            in_table = False
            continue
        row = cells(line)
        if [c.lower() for c in row] == HEADER:
            in_table = True
            continue
        if not in_table or set("".join(row)) <= set("-: "):
            continue
        where = f"{DOC}:{n}"
        if len(row) != len(HEADER):
            problems.append(f"{where}: {len(row)} cells, expected {len(HEADER)}")
            continue
        test, case, _outcome, scenario, note = row
        rows += 1
        key = (test, case)
        if key in seen:
            problems.append(f"{where}: {test} / {case} listed twice")
        seen.add(key)
        if scenario == "none":
            if not note:
                problems.append(f"{where}: {test} / {case}: no scenario and no reason in the note")
            continue
        m = DOMAIN_RE.match(scenario)
        if not m:
            problems.append(f"{where}: scenario {scenario!r} is neither `DOMAIN` nor none")
        elif m.group(1) not in domains:
            problems.append(f"{where}: {test} / {case}: no scenario {m.group(1)} in {SCENARIOS}")
    if rows == 0:
        problems.append(f"{DOC}: no table rows found")
    for p in problems:
        print(p)
    print(f"check_boulder_table: {rows} cases, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

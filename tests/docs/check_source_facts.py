#!/usr/bin/env python3
"""Keep docs/source-facts.md true to the repository.

docs/source-facts.md lists every actionable fact of the five source documents with what in
certdoctor carries it. This script parses its tables and resolves every reference of the
`carried by` column against the rule catalogue:

  rule:ID              a rule id in rules/*.yaml (the `rules:` list of each file)
  rule:ID/VARIANT      VARIANT is a key of that rule's `variants:`
  notice:KIND          a kind id in the `notices.kinds` list of a rules/providers/*.yaml
  acme:CAUSE           a cause id in rules/acme-errors.yaml (`acme_errors.causes`)
  field:FILE:PATH      a dotted key path inside rules/FILE; `name[x]` selects the element of
                       the list `name` whose `id` is x
  label:FILE:PATH      the same, inside FILE relative to the repository root (reports/ only)
  MISSING              nothing carries the fact (alone in the cell; the note says what lacks)

Each reference is written in backticks; several are separated by "; ".

usage: check_source_facts.py [--missing] [REPO_ROOT]
  REPO_ROOT defaults to two levels above this script. --missing also lists the MISSING facts.
Exit status: 0 when every reference resolves (MISSING facts are counted, not errors), 1 when
any row is broken or the file cannot be read, 2 on a usage error.
"""
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("check_source_facts: PyYAML is required (python3-yaml)\n")
    sys.exit(2)

DOC = os.path.join("docs", "source-facts.md")
DOCUMENTS = ["000", "001", "002", "003", "004"]
KINDS = {"cause", "check", "step", "figure", "notice", "exception"}
HEADER = ["id", "kind", "fact", "carried by", "note"]

HEADING_RE = re.compile(r"^##\s+(\d{3})\b")
ID_RE = re.compile(r"^S(\d{3})-(\d{2})$")
CELL_RE = re.compile(r"^`[^`]+`(?:; `[^`]+`)*$")
NAME_RE = r"[a-z0-9][a-z0-9-]*"
RULE_RE = re.compile(rf"^rule:({NAME_RE})(?:/({NAME_RE}))?$")
NOTICE_RE = re.compile(rf"^notice:({NAME_RE})$")
ACME_RE = re.compile(rf"^acme:({NAME_RE})$")
PATHREF_RE = re.compile(r"^(field|label):([A-Za-z0-9_./-]+\.ya?ml):(.+)$")
SEGMENT_RE = re.compile(r"^([A-Za-z0-9_-]+)((?:\[[^\[\]]+\])*)$")


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


class Repository:
    """What the references may name, read once from the repository."""

    def __init__(self, root):
        self.root = root
        self.rules_dir = os.path.join(root, "rules")
        self.rules = {}     # rule id -> rule mapping
        self.notices = {}   # notice kind id -> profile file
        self.acme = set()   # ACME cause ids
        self.cache = {}     # path -> parsed YAML
        for name in sorted(os.listdir(self.rules_dir)):
            if not name.endswith((".yaml", ".yml")):
                continue
            doc = self.yaml(os.path.join(self.rules_dir, name))
            if isinstance(doc, dict) and isinstance(doc.get("rules"), list):
                for rule in doc["rules"]:
                    if isinstance(rule, dict) and "id" in rule:
                        self.rules[str(rule["id"])] = rule
        prov_dir = os.path.join(self.rules_dir, "providers")
        if os.path.isdir(prov_dir):
            for name in sorted(os.listdir(prov_dir)):
                if not name.endswith((".yaml", ".yml")):
                    continue
                doc = self.yaml(os.path.join(prov_dir, name))
                notices = doc.get("notices") if isinstance(doc, dict) else None
                kinds = notices.get("kinds") if isinstance(notices, dict) else None
                for kind in kinds or []:
                    if isinstance(kind, dict) and "id" in kind:
                        self.notices[str(kind["id"])] = "providers/" + name
        acme_path = os.path.join(self.rules_dir, "acme-errors.yaml")
        if os.path.exists(acme_path):
            doc = self.yaml(acme_path) or {}
            causes = (doc.get("acme_errors") or {}).get("causes") or []
            self.acme = {str(c["id"]) for c in causes if isinstance(c, dict) and "id" in c}

    def yaml(self, path):
        if path not in self.cache:
            self.cache[path] = load_yaml(path)
        return self.cache[path]

    def check(self, ref):
        """None when ref resolves, else why not."""
        m = RULE_RE.match(ref)
        if m:
            rule = self.rules.get(m.group(1))
            if rule is None:
                return "no rule with this id in rules/*.yaml"
            if m.group(2):
                variants = rule.get("variants")
                if not isinstance(variants, dict) or m.group(2) not in variants:
                    return f"rule {m.group(1)} declares no variant {m.group(2)!r}"
            return None
        m = NOTICE_RE.match(ref)
        if m:
            return None if m.group(1) in self.notices else "no notice kind with this id in rules/providers/*.yaml"
        m = ACME_RE.match(ref)
        if m:
            return None if m.group(1) in self.acme else "no cause with this id in rules/acme-errors.yaml"
        m = PATHREF_RE.match(ref)
        if m:
            what, rel, path = m.groups()
            if ".." in rel.split("/") or rel.startswith("/"):
                return "the file must be inside the repository"
            if what == "field":
                full = os.path.join(self.rules_dir, rel)
            else:
                if not rel.startswith("reports/"):
                    return "label: names a file under reports/"
                full = os.path.join(self.root, rel)
            if not os.path.isfile(full):
                return f"no file {os.path.relpath(full, self.root)}"
            try:
                doc = self.yaml(full)
            except yaml.YAMLError as e:
                return f"{rel} is not valid YAML: {e}"
            return walk(doc, path)
        if ref == "MISSING":
            return None
        return "not a reference (rule:, notice:, acme:, field:, label: or MISSING)"


def walk(doc, path):
    """Follow a dotted path with [id] selectors; None when it exists, else why not."""
    value = doc
    done = []
    for segment in path.split("."):
        m = SEGMENT_RE.match(segment)
        if not m:
            return f"bad path segment {segment!r}"
        key, selectors = m.group(1), re.findall(r"\[([^\[\]]+)\]", m.group(2))
        if not isinstance(value, dict) or key not in value:
            return f"no key {'.'.join(done + [key])}"
        value = value[key]
        done.append(key)
        for sel in selectors:
            if not isinstance(value, list):
                return f"{'.'.join(done)} is not a list, cannot select [{sel}]"
            hits = [e for e in value if isinstance(e, dict) and str(e.get("id")) == sel]
            if not hits:
                return f"no element with id {sel!r} in {'.'.join(done)}"
            value = hits[0]
            done[-1] += f"[{sel}]"
    return None


def split_row(line):
    cells = re.split(r"(?<!\\)\|", line.strip())
    if cells and cells[0] == "":
        cells = cells[1:]
    if cells and cells[-1] == "":
        cells = cells[:-1]
    return [c.strip() for c in cells]


def parse(text):
    """Yield (line number, document, cells) for every row of every fact table, and problems."""
    rows, problems = [], []
    lines = text.splitlines()
    document = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = HEADING_RE.match(line)
        if m:
            document = m.group(1)
        elif line.lstrip().startswith("|") and [c.lower() for c in split_row(line)] == HEADER:
            if document is None:
                problems.append((i + 1, "a fact table before any '## NNN' document heading"))
            i += 1
            if i >= len(lines) or not re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i]):
                problems.append((i + 1, "the header of a fact table must be followed by a |---| row"))
                continue
            i += 1
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append((i + 1, document, split_row(lines[i]), lines[i].strip()))
                i += 1
            continue
        i += 1
    return rows, problems


def main(argv):
    show_missing = False
    args = []
    for a in argv:
        if a == "--missing":
            show_missing = True
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        elif a.startswith("-"):
            sys.stderr.write(f"check_source_facts: unknown option {a}\n")
            return 2
        else:
            args.append(a)
    if len(args) > 1:
        sys.stderr.write("usage: check_source_facts.py [--missing] [REPO_ROOT]\n")
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(args[0]) if args else os.path.dirname(os.path.dirname(here))
    doc_path = os.path.join(root, DOC)
    try:
        with open(doc_path, encoding="utf-8") as f:
            text = f.read()
        repo = Repository(root)
    except (OSError, yaml.YAMLError) as e:
        print(f"source-facts: cannot read the repository at {root}: {e}")
        return 1

    rows, problems = parse(text)
    errors = [f"{DOC}:{n}: {msg}" for n, msg in problems]
    seen = {}
    per_doc = {d: 0 for d in DOCUMENTS}
    carried = missing = broken = 0
    missing_rows = []
    for lineno, document, cells, raw in rows:
        row_errors = []
        if len(cells) != len(HEADER):
            row_errors.append(f"{len(cells)} cells, expected {len(HEADER)}")
            fid = cells[0] if cells else "?"
        else:
            fid, kind, fact, carried_by, note = cells
            m = ID_RE.match(fid)
            if not m:
                row_errors.append(f"id {fid!r} is not SNNN-NN")
            elif m.group(1) != document:
                row_errors.append(f"id {fid} sits in the table of document {document}")
            if fid in seen:
                row_errors.append(f"id {fid} already used on line {seen[fid]}")
            seen.setdefault(fid, lineno)
            if kind not in KINDS:
                row_errors.append(f"kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
            if not fact:
                row_errors.append("empty fact")
            if not CELL_RE.match(carried_by):
                row_errors.append("carried by must be `REF` or `REF`; `REF` ...")
                refs = []
            else:
                refs = re.findall(r"`([^`]+)`", carried_by)
            if "MISSING" in refs and len(refs) > 1:
                row_errors.append("MISSING stands alone")
            if refs == ["MISSING"] and not note:
                row_errors.append("a MISSING fact needs a note saying what is missing")
            for ref in refs:
                why = repo.check(ref)
                if why:
                    row_errors.append(f"{ref}: {why}")
            if not row_errors and document in per_doc:
                per_doc[document] += 1
            if not row_errors:
                if refs == ["MISSING"]:
                    missing += 1
                    missing_rows.append((fid, fact, note))
                else:
                    carried += 1
        if row_errors:
            broken += 1
            for e in row_errors:
                errors.append(f"{DOC}:{lineno}: {fid}: {e}")
            errors.append(f"    {raw}")
    for d, n in per_doc.items():
        if n == 0:
            errors.append(f"{DOC}: no valid fact row for document {d} (a '## {d} ...' heading with a table)")
    total = len(rows)
    for e in errors:
        print(e)
    if show_missing:
        for fid, fact, note in missing_rows:
            print(f"MISSING {fid}: {fact} -- {note}")
    print(f"source-facts: {total} facts, {carried} carried, {missing} missing, {broken} broken")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

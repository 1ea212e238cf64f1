#!/usr/bin/env python3
"""Changes the running lab and puts it back: records of a zone edited at its knotd (knotc
zone-begin / zone-set / zone-unset / zone-commit), a site's forwarding switched on at the hosting
nginx (a server block added to the generated hosting.conf, nginx reloaded), the resolver's cache
flushed (unbound-control). `restore` undoes every change: each edited zone is reloaded from its
zone file (the lab's knotd never writes a zone back), hosting.conf is put back and nginx
reloaded, and the resolver forgets everything. What is changed is kept in <state>/mutate/.

As a program (also `tests/lab/lab mutate ...`):
  mutate.py set ZONE OWNER TYPE DATA [DATA...] [--ttl N] [--operator OP] [--no-flush]   replace an RRset
  mutate.py add ZONE OWNER TYPE DATA [--ttl N] [--operator OP] [--no-flush]            add one record
  mutate.py unset ZONE OWNER [TYPE [DATA]] [--operator OP] [--no-flush]                 remove records
  mutate.py forward SITE URL [--host ADDRESS...]   SITE and www.SITE answer every path with a
                                                   301 to URL followed by the request's path
  mutate.py flush [NAME...]                        the resolver forgets NAME's zone (or all)
  mutate.py restore                                undo everything, then flush the resolver
  mutate.py status                                 what is changed (JSON)
OWNER is relative to ZONE ("@" for its apex) or absolute with a trailing dot. Every edit flushes
the resolver's cache for the zone, so that the next check sees it, unless --no-flush: then the
resolver keeps what it cached, as every resolver does after an operator's edit (propagation). The lab state directory is
$CERTDOCTOR_LAB_DIR (default /tmp/certdoctor-lab) or --lab-dir.

As a module: Lab(lab_dir).set_rrset(...), .add(...), .unset(...), .forward(...), .flush(...),
.restore(); `with Lab(dir) as lab:` restores on leaving.
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import time


class MutateError(Exception):
    pass


class Lab:
    def __init__(self, lab_dir=None):
        self.dir = pathlib.Path(lab_dir or os.environ.get("CERTDOCTOR_LAB_DIR") or "/tmp/certdoctor-lab")
        if not (self.dir / "knot").is_dir():
            raise MutateError(f"{self.dir} holds no running lab (run tests/lab/lab up)")
        self.state_dir = self.dir / "mutate"
        self.state_file = self.state_dir / "changed.json"

    # --- state -------------------------------------------------------------------------------
    def _state(self):
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {"zones": [], "hosting": None, "forwards": []}

    def _save(self, state):
        self.state_dir.mkdir(exist_ok=True)
        self.state_file.write_text(json.dumps(state, indent=2))

    def status(self):
        return self._state()

    # --- DNS ---------------------------------------------------------------------------------
    def operators_of(self, zone):
        zone = zone.rstrip(".").lower()
        name = "root.zone" if zone in ("", ".") else zone + ".zone"
        return sorted(p.parent.parent.name for p in (self.dir / "knot").glob(f"*/zones/{name}"))

    def _operator(self, zone, operator):
        ops = self.operators_of(zone)
        if operator:
            if operator not in ops:
                raise MutateError(f"operator {operator} does not serve {zone} (served by: {', '.join(ops) or 'none'})")
            return operator
        if len(ops) != 1:
            raise MutateError(f"{zone} is served by {', '.join(ops) or 'no operator'}: name one with --operator")
        return ops[0]

    def _knotc(self, operator, *args):
        conf = self.dir / "knot" / operator / "knot.conf"
        r = subprocess.run(["knotc", "-c", str(conf), *args], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise MutateError(f"knotc {' '.join(args)} at {operator}: {(r.stderr or r.stdout).strip()}")
        return r.stdout

    @staticmethod
    def _owner(zone, owner):
        zone = zone.rstrip(".")
        if owner == "@":
            return zone + "."
        return owner if owner.endswith(".") else f"{owner}.{zone}."

    def _edit(self, zone, operator, steps, flush=True):
        """Runs knotc steps [(command, args...)] in one transaction; remembers the zone."""
        zone = zone.rstrip(".")
        op = self._operator(zone, operator)
        state = self._state()
        entry = {"zone": zone, "operator": op}
        if entry not in state["zones"]:
            state["zones"].append(entry)
            self._save(state)
        self._knotc(op, "zone-begin", zone)
        try:
            for step in steps:
                self._knotc(op, step[0], zone, *step[1:])
            self._knotc(op, "zone-commit", zone)
        except MutateError:
            subprocess.run(["knotc", "-c", str(self.dir / "knot" / op / "knot.conf"), "zone-abort", zone],
                           capture_output=True)
            raise
        if flush:
            self.flush(zone)

    def set_rrset(self, zone, owner, rtype, values, ttl=300, operator=None, flush=True):
        name = self._owner(zone, owner)
        steps = []
        if self._has(zone, operator, name, rtype):
            steps.append(("zone-unset", name, rtype))
        steps += [("zone-set", name, str(ttl), rtype, v) for v in values]
        self._edit(zone, operator, steps, flush)

    def add(self, zone, owner, rtype, value, ttl=300, operator=None, flush=True):
        self._edit(zone, operator, [("zone-set", self._owner(zone, owner), str(ttl), rtype, value)], flush)

    def unset(self, zone, owner, rtype=None, value=None, operator=None, flush=True):
        args = [self._owner(zone, owner)] + ([rtype] if rtype else []) + ([value] if value else [])
        self._edit(zone, operator, [("zone-unset", *args)], flush)

    def _has(self, zone, operator, name, rtype):
        op = self._operator(zone, operator)
        r = subprocess.run(["knotc", "-c", str(self.dir / "knot" / op / "knot.conf"), "zone-read",
                            zone.rstrip("."), name, rtype], capture_output=True, text=True, timeout=30)
        return r.returncode == 0 and r.stdout.strip() != ""

    # --- web ---------------------------------------------------------------------------------
    def _hosting_conf(self):
        return self.dir / "web" / "hosting.conf"

    def _nginx_reload(self):
        web = self.dir / "web"
        r = subprocess.run(["nginx", "-e", str(web / "error.log"), "-p", str(web), "-c", str(web / "nginx.conf"),
                            "-s", "reload"], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise MutateError(f"nginx reload: {(r.stderr or r.stdout).strip()}")
        # The old workers finish before the new configuration answers every request: wait until
        # the master has a new generation of workers (a short, bounded wait).
        time.sleep(0.5)

    def forward(self, site, url, hosts):
        """SITE and www.SITE on port 80 of `hosts` answer 301 to URL + the request's path."""
        if not hosts:
            raise MutateError("forward: name the host addresses whose port 80 serves the site (--host)")
        conf = self._hosting_conf()
        state = self._state()
        backup = self.state_dir / "hosting.conf.orig"
        if state["hosting"] is None:
            self.state_dir.mkdir(exist_ok=True)
            backup.write_bytes(conf.read_bytes())
            state["hosting"] = str(backup)
        listens = "".join(f"    listen {'[' + a + ']' if ':' in a else a}:80;\n" for a in hosts)
        block = (f"# mutate.py: {site} forwarded to {url}\nserver {{\n{listens}"
                 f"    server_name {site} www.{site};\n    location / {{\n        return 301 {url}$request_uri;\n"
                 f"    }}\n}}\n")
        with open(conf, "a") as f:
            f.write(block)
        state["forwards"].append({"site": site, "url": url})
        self._save(state)
        self._nginx_reload()

    # --- resolver ----------------------------------------------------------------------------
    def flush(self, *names):
        conf = self.dir / "resolver" / "unbound.conf"
        commands = [["flush_zone", n.rstrip(".") or "."] for n in names] or [["flush_zone", "."]]
        # flush_zone drops the zone's records; flush_negative and flush_infra the negative answers
        # and the servers' state, so that a record just added is not hidden by a cached NODATA.
        commands += [["flush_negative"], ["flush_infra", "all"], ["flush_requestlist"]]
        for c in commands:
            r = subprocess.run(["unbound-control", "-c", str(conf), *c], capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise MutateError(f"unbound-control {' '.join(c)}: {(r.stderr or r.stdout).strip()}")

    # --- undo --------------------------------------------------------------------------------
    def restore(self):
        state = self._state()
        problems = []
        for z in state["zones"]:
            try:
                self._knotc(z["operator"], "zone-reload", z["zone"])
            except MutateError as e:
                problems.append(str(e))
        if state["hosting"]:
            self._hosting_conf().write_bytes(pathlib.Path(state["hosting"]).read_bytes())
            try:
                self._nginx_reload()
            except MutateError as e:
                problems.append(str(e))
        if not problems and self.state_file.exists():
            self.state_file.unlink()
        # Reloading is asynchronous in knotd: wait until each zone answers from its file again.
        self._wait_reloaded(state["zones"])
        self.flush()
        if problems:
            raise MutateError("; ".join(problems))

    def _wait_reloaded(self, zones):
        for z in zones:
            path = self.dir / "knot" / z["operator"] / "zones" / ((z["zone"] or "root") + ".zone")
            want = None
            for line in path.read_text().splitlines():
                parts = line.split(";")[0].split()
                if "SOA" in parts:
                    i = parts.index("SOA")
                    if len(parts) > i + 3:
                        want = parts[i + 3]
                    break
            for _ in range(50):
                out = self._knotc(z["operator"], "zone-status", z["zone"])
                if want is None or re.search(rf"serial: {re.escape(want)}\b", out):
                    break
                time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.restore()
        return False


def main(argv):
    p = argparse.ArgumentParser(prog="mutate.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--lab-dir")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("set")
    s.add_argument("zone"), s.add_argument("owner"), s.add_argument("type"), s.add_argument("data", nargs="+")
    s.add_argument("--ttl", type=int, default=300), s.add_argument("--operator")
    s.add_argument("--no-flush", action="store_true")
    a = sub.add_parser("add")
    a.add_argument("zone"), a.add_argument("owner"), a.add_argument("type"), a.add_argument("data")
    a.add_argument("--ttl", type=int, default=300), a.add_argument("--operator")
    a.add_argument("--no-flush", action="store_true")
    u = sub.add_parser("unset")
    u.add_argument("zone"), u.add_argument("owner"), u.add_argument("type", nargs="?"), u.add_argument("data", nargs="?")
    u.add_argument("--operator"), u.add_argument("--no-flush", action="store_true")
    f = sub.add_parser("forward")
    f.add_argument("site"), f.add_argument("url"), f.add_argument("--host", action="append", default=[])
    fl = sub.add_parser("flush")
    fl.add_argument("names", nargs="*")
    sub.add_parser("restore")
    sub.add_parser("status")
    args = p.parse_args(argv)
    try:
        lab = Lab(args.lab_dir)
        if args.command == "set":
            lab.set_rrset(args.zone, args.owner, args.type.upper(), args.data, args.ttl, args.operator,
                          not args.no_flush)
        elif args.command == "add":
            lab.add(args.zone, args.owner, args.type.upper(), args.data, args.ttl, args.operator, not args.no_flush)
        elif args.command == "unset":
            lab.unset(args.zone, args.owner, args.type and args.type.upper(), args.data, args.operator,
                      not args.no_flush)
        elif args.command == "forward":
            lab.forward(args.site, args.url, args.host)
        elif args.command == "flush":
            lab.flush(*args.names)
        elif args.command == "restore":
            lab.restore()
        elif args.command == "status":
            print(json.dumps(lab.status(), indent=2))
    except (MutateError, subprocess.TimeoutExpired) as e:
        print(f"mutate.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

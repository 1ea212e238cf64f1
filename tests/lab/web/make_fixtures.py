#!/usr/bin/env python3
"""Writes the recorded answers of the lab's outside sources, with times relative to now.

    make_fixtures.py OUTDIR [--now 2026-11-23T12:00:00Z]

OUTDIR/ct/DOMAIN.json      the answer of a crt.sh JSON search (?q=DOMAIN&output=json) for DOMAIN
OUTDIR/ct/empty.json       the answer for any other domain: []
OUTDIR/status/NAME.json    status.io status documents (GET /1.0/status/PAGE-ID)
OUTDIR/manifest.json       the generation time and, per fixture, the times that matter

Rate limits are counted over the 7 days before now, so fixed dates would rot: `lab up` writes
the fixtures afresh. Every certificate time below is the certificate's not_before; crt.sh logs
Let's Encrypt's precertificate about one hour later (Let's Encrypt backdates not_before by an
hour), so entry_timestamp = not_before + 1 h and never lies in the future. Standard library only.
"""

import argparse
import datetime
import hashlib
import json
import os
import sys

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)

# Let's Encrypt's intermediates (their O never changes, their CN does) and another CA.
LE_ISSUERS = [
    ("C=US, O=Let's Encrypt, CN=R11", 295815),
    ("C=US, O=Let's Encrypt, CN=R10", 295814),
    ("C=US, O=Let's Encrypt, CN=E6", 295819),
    ("C=US, O=Let's Encrypt, CN=E5", 295810),
]
OTHER_ISSUER = ("C=JP, O=Example CA, CN=Example DV CA G2", 183267)

# Let's Encrypt's status page id at status.io (the tool's default --status-url ends with it).
LE_STATUS_PAGE = "55957a99e800baa4470002da"


def crtsh_time(t, millis=False):
    """crt.sh's time format: UTC without a zone suffix; entry_timestamp carries milliseconds."""
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    return text + f".{t.microsecond // 1000:03d}" if millis else text


def statusio_time(t):
    """status.io's time format: UTC with milliseconds and Z."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(*parts):
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class History:
    """The CT entries of one registered domain, built certificate by certificate."""

    def __init__(self, domain, now):
        self.domain = domain
        self.now = now
        self.certs = []  # (not_before, names, issuer, precert_only)

    def add(self, age, labels, issuer=None, precert_only=False):
        """One certificate issued `age` ago (its not_before) for the names made of labels
        ("@" is the registered domain itself)."""
        names = sorted({self.domain if l == "@" else f"{l}.{self.domain}" for l in labels})
        if issuer is None:
            issuer = LE_ISSUERS[len(self.certs) % len(LE_ISSUERS)]
        self.certs.append((self.now - age, names, issuer, precert_only))

    def entries(self):
        """crt.sh rows, newest first: a precertificate and its certificate are two rows with one
        serial number (the certificate logged a few seconds after the precertificate)."""
        rows = []
        for n, (not_before, names, (issuer, issuer_id), precert_only) in enumerate(self.certs):
            serial = "04" + digest(self.domain, str(n), issuer)[:34]
            logged = not_before + HOUR + datetime.timedelta(milliseconds=100 + 7 * n)
            base = int(logged.timestamp()) * 4
            kinds = [("precertificate", logged, base)]
            if not precert_only:
                kinds.append(("certificate", logged + datetime.timedelta(seconds=3, milliseconds=412), base + 1))
            for _kind, at, crtsh_id in kinds:
                rows.append({
                    "issuer_ca_id": issuer_id,
                    "issuer_name": issuer,
                    "common_name": min(names, key=len),
                    "name_value": "\n".join(names),
                    "id": 10000000000 + crtsh_id,
                    "entry_timestamp": crtsh_time(at, millis=True),
                    "not_before": crtsh_time(not_before),
                    "not_after": crtsh_time(not_before + 90 * DAY),
                    "serial_number": serial,
                    "result_count": len(names),
                })
        rows.sort(key=lambda r: (r["entry_timestamp"], r["id"]), reverse=True)
        return rows

    def summary(self, window=7 * DAY):
        """Counts over the window before now (Let's Encrypt certificates, distinct serials)."""
        start = self.now - window
        le = [c for c in self.certs if "O=Let's Encrypt" in c[2][0]]
        recent = sorted((c for c in le if c[0] > start), key=lambda c: c[0])
        apex_www = sorted({self.domain, "www." + self.domain})
        exact = [c for c in recent if c[1] == apex_www]
        last_apex_www = max((c[0] for c in le if c[1] == apex_www), default=None)
        return {
            "certificates": len(self.certs),
            "crtsh_rows": sum(1 if c[3] else 2 for c in self.certs),
            "lets_encrypt_last_7_days": len(recent),
            "other_ca_last_7_days": sum(1 for c in self.certs if c not in le and c[0] > start),
            "apex_www_last_7_days": len(exact),
            "apex_www_last_issued": iso(last_apex_www) if last_apex_www else None,
            "oldest_in_window": iso(recent[0][0]) if recent else None,
            "oldest_leaves_window": iso(recent[0][0] + window) if recent else None,
            "oldest_apex_www_leaves_window": iso(exact[0][0] + window) if exact else None,
        }


def spread(count, oldest, newest):
    """count ages from oldest to newest, evenly apart (oldest first, exactly `oldest`)."""
    if count == 1:
        return [oldest]
    step = (oldest - newest) / (count - 1)
    return [oldest - i * step for i in range(count)]


def fifty_new(h):
    """50 distinct new certificates: the oldest exactly 6 days ago (it leaves the 7-day window
    1 day, i.e. 24 h, after the fixtures were made), the newest 2 h ago. None is for exactly
    {DOMAIN, www.DOMAIN}; three are near misses ({DOMAIN}, {www.DOMAIN}, {DOMAIN, www, mail})."""
    sets = [[f"site{i:02d}"] for i in range(1, 48)] + [["@"], ["www"], ["@", "www", "mail"]]
    for n, (age, labels) in enumerate(zip(spread(50, 6 * DAY, 2 * HOUR), sets)):
        h.add(age, labels, precert_only=(n in (7, 31)))


def ct_histories(now):
    """Every registered domain's history; see the README of tests/lab for what each tests."""
    out = {}

    # 10 certificates for 10 different sets in the 7 days: below both limits.
    h = History("rl-below.jp", now)
    for age, labels in [(6 * DAY, ["shop"]), (5 * DAY + 12 * HOUR, ["blog", "www.blog"]), (5 * DAY, ["api"]),
                        (4 * DAY, ["mail"]), (3 * DAY, ["@", "www"]), (2 * DAY + 20 * HOUR, ["dev"]),
                        (2 * DAY, ["staging"]), (DAY + 12 * HOUR, ["app"]), (20 * HOUR, ["cdn"]),
                        (3 * HOUR, ["img"])]:
        h.add(age, labels)
    h.add(63 * DAY, ["@", "www"])
    h.add(70 * DAY, ["shop"])
    h.add(123 * DAY, ["@", "www"])
    out[h.domain] = h

    # 42 certificates (2 of them logged as precertificate only) in the 7 days, apex+www never
    # issued (no renewal exemption): near 50.
    h = History("rl-near.jp", now)
    for n, age in enumerate(spread(42, 6 * DAY + 12 * HOUR, 2 * HOUR)):
        h.add(age, [f"host{n + 1:02d}"], precert_only=(n in (5, 20)))
    out[h.domain] = h

    # 50 new certificates in the 7 days (none renews an earlier set), apex+www never issued: the
    # next one is refused until the oldest (not_before = now - 6 d) leaves the window at now + 24 h.
    h = History("rl-domain.jp", now)
    fifty_new(h)
    out[h.domain] = h

    # The same 50, and apex+www last issued 60 days ago (and 150): a renewal, exempt from the
    # per-domain limit (inside 120 days).
    h = History("rl-renewal.jp", now)
    fifty_new(h)
    h.add(60 * DAY, ["@", "www"])
    h.add(150 * DAY, ["@", "www"])
    out[h.domain] = h

    # The same 50, apex+www last issued 130 days ago (and 220): outside the 120-day exemption,
    # refused until now + 24 h like rl-domain.jp.
    h = History("rl-old-renewal.jp", now)
    fifty_new(h)
    h.add(130 * DAY, ["@", "www"])
    h.add(220 * DAY, ["@", "www"])
    out[h.domain] = h

    # 5 certificates for exactly apex+www 5, 4, 3, 2 and 1 days ago (a renewal: also 40 and 100
    # days ago), 2 others: the exact-set limit holds until the oldest leaves at now + 48 h.
    h = History("rl-exact.jp", now)
    for days in (5, 4, 3, 2, 1):
        h.add(days * DAY, ["@", "www"])
    h.add(6 * DAY + 12 * HOUR, ["blog"])
    h.add(2 * DAY + 12 * HOUR, ["shop"])
    h.add(40 * DAY, ["@", "www"])
    h.add(100 * DAY, ["@", "www"])
    out[h.domain] = h

    # 60 certificates in the 7 days from another CA, 6 of them for apex+www: none counts.
    h = History("rl-non-le.jp", now)
    sets = [["@", "www"]] * 6 + [[f"site{i:02d}"] for i in range(1, 55)]
    for age, labels in zip(spread(60, 6 * DAY + 12 * HOUR, 2 * HOUR), sets):
        h.add(age, labels, issuer=OTHER_ISSUER)
    out[h.domain] = h
    return out


# Bodies that are not a certificate list.
CT_BROKEN = {
    # An overloaded crt.sh answers with an HTML page.
    "rl-malformed.jp": "<!DOCTYPE html>\n<html><head><title>crt.sh</title></head><body>\n"
                       "<p>ERROR: canceling statement due to statement timeout</p>\n</body></html>\n",
    # JSON, but an array of strings instead of objects.
    "rl-wrongtype.jp": json.dumps(["rl-wrongtype.jp", "www.rl-wrongtype.jp"]) + "\n",
}

STATUS_LABELS = {100: "Operational", 200: "Planned Maintenance", 300: "Degraded Performance",
                 400: "Partial Service Disruption", 500: "Service Disruption", 600: "Security Event"}


def object_id(*parts):
    """A 24-hex-digit id like status.io's (MongoDB ObjectId)."""
    return digest("status", *parts)[:24]


def status_document(now, overall, acme=None, incidents=(), active=(), upcoming=()):
    """A status.io /1.0/status answer: overall status, components with their containers,
    open incidents, active and upcoming maintenance. acme is the ACME API production status."""
    updated = statusio_time(now - 5 * MINUTE)

    def container(name, code):
        return {"id": object_id("container", name), "name": name, "updated": updated,
                "status": STATUS_LABELS[code], "status_code": code}

    def component(name, code, production=None):
        production = code if production is None else production
        return {"id": object_id("component", name), "name": name, "updated": updated,
                "status": STATUS_LABELS[max(code, production)], "status_code": max(code, production),
                "containers": [container("Production", production), container("Staging", code)]}

    return {"result": {
        "status_overall": {"updated": updated, "status": STATUS_LABELS[overall], "status_code": overall},
        "status": [component("ACME API", 100, acme), component("OCSP", 100), component("CRL", 100),
                   component("Website", 100)],
        "incidents": list(incidents),
        "maintenance": {"active": list(active), "upcoming": list(upcoming)},
    }}


def affected():
    return {"components_affected": [{"_id": object_id("component", "ACME API"), "name": "ACME API"}],
            "containers_affected": [{"_id": object_id("container", "Production"), "name": "Production"}]}


def incident(name, opened, code, messages):
    """An open incident; messages are (time, state, details), state 100 investigating,
    200 identified, 300 monitoring."""
    return {"_id": object_id("incident", name), "name": name, "datetime_open": statusio_time(opened),
            "status": STATUS_LABELS[code], "status_code": code,
            "messages": [{"details": d, "datetime": statusio_time(t), "state": s, "status": code}
                         for t, s, d in messages], **affected()}


def maintenance(name, opened, start, end):
    return {"_id": object_id("maintenance", name, iso(start)), "name": name,
            "datetime_open": statusio_time(opened), "datetime_planned_start": statusio_time(start),
            "datetime_planned_end": statusio_time(end),
            "messages": [{"details": f"{name}: certificate issuance may be unavailable.",
                          "datetime": statusio_time(opened), "state": 100, "status": 200}], **affected()}


def status_fixtures(now):
    """name -> (document or raw text, the times that matter)."""
    out = {}
    out["operational"] = (status_document(now, 100), {})
    opened = now - HOUR
    out["outage"] = (status_document(now, 500, acme=500, incidents=[incident(
        "Elevated errors on ACME API", opened, 500,
        [(opened, 100, "We are investigating elevated error rates on the ACME API."),
         (now - 30 * MINUTE, 200, "The cause has been identified; a fix is being deployed.")])]),
        {"incident": "Elevated errors on ACME API", "datetime_open": iso(opened)})
    opened = now - 2 * HOUR
    out["degraded"] = (status_document(now, 300, acme=300, incidents=[incident(
        "Slow certificate issuance", opened, 300,
        [(opened, 100, "Certificate issuance is slower than usual; we are investigating.")])]),
        {"incident": "Slow certificate issuance", "datetime_open": iso(opened)})
    # A window long enough that a lab kept up for a few hours still sees it active.
    start, end = now - 30 * MINUTE, now + 4 * HOUR
    out["maintenance"] = (status_document(now, 200, acme=200, active=[maintenance(
        "Scheduled database maintenance", now - 3 * DAY, start, end)]),
        {"maintenance": "Scheduled database maintenance", "planned_start": iso(start), "planned_end": iso(end)})
    start, end = now + 6 * HOUR, now + 8 * HOUR
    out["upcoming"] = (status_document(now, 100, upcoming=[maintenance(
        "Scheduled network maintenance", now - 2 * DAY, start, end)]),
        {"maintenance": "Scheduled network maintenance", "planned_start": iso(start), "planned_end": iso(end)})
    start, end = now + 10 * DAY, now + 10 * DAY + 2 * HOUR
    out["upcoming-far"] = (status_document(now, 100, upcoming=[maintenance(
        "Scheduled network maintenance", now - 2 * DAY, start, end)]),
        {"maintenance": "Scheduled network maintenance", "planned_start": iso(start), "planned_end": iso(end)})
    # Cut in the middle, as by a dropped connection.
    text = json.dumps(status_document(now, 100), indent=1)
    out["malformed"] = (text[:len(text) // 2], {})
    out["wrongtype"] = (json.dumps([STATUS_LABELS[100]]) + "\n", {})
    return out


def write(path, content, compact=False):
    """Writes atomically: nginx may be serving the previous file. crt.sh answers on one line."""
    if not isinstance(content, str):
        content = json.dumps(content, indent=None if compact else 1, ensure_ascii=False) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(content)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--now", help="the reference time (default: now), e.g. 2026-11-23T12:00:00Z")
    args = parser.parse_args()
    if args.now:
        now = datetime.datetime.strptime(args.now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    else:
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    for sub in ("ct", "status"):
        os.makedirs(os.path.join(args.outdir, sub), exist_ok=True)

    manifest = {"generated": iso(now), "ct": {}, "status": {}}
    for domain, history in ct_histories(now).items():
        write(os.path.join(args.outdir, "ct", domain + ".json"), history.entries(), compact=True)
        manifest["ct"][domain] = history.summary()
    for domain, body in CT_BROKEN.items():
        write(os.path.join(args.outdir, "ct", domain + ".json"), body)
        manifest["ct"][domain] = {"body": "not JSON" if body.startswith("<") else "JSON of the wrong shape"}
    write(os.path.join(args.outdir, "ct", "empty.json"), "[]\n")
    for name, (body, times) in status_fixtures(now).items():
        write(os.path.join(args.outdir, "status", name + ".json"), body)
        manifest["status"][name] = times
    write(os.path.join(args.outdir, "manifest.json"), manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Generates the lab's hosting sites from tests/lab/web/sites.yaml (see its comment).

    make_sites.py SITES.yaml WEBDIR CADIR

WEBDIR/hosting.conf     nginx servers (included by web/nginx.conf.in)
WEBDIR/special.json     listeners of web/special_http.py
WEBDIR/docroot/SITE/    document roots (index.html; the CA's tokens go to .well-known/acme-challenge/)
WEBDIR/sites.json       sites.yaml as JSON (for tests), with the generation time
WEBDIR/htpasswd, WEBDIR/pages/
WEBDIR/config-ready     written once the above are (before the certificates: the servers load
                        them per connection, so they may start while the CA is being made)
CADIR/root.pem          the lab roots: "certdoctor lab root" and "certdoctor lab root 2" (JPRS-like
                        chain) -- the file for `certdoctor check --ca-file`
CADIR/lab-root.pem, intermediate.pem, jprs-root.pem, jprs-intermediate.pem
CADIR/leaf.key          the one key of every leaf (EC P-256)
CADIR/sites/SITE.pem    leaf + intermediate of SITE (self-signed: the leaf alone); default.pem for
                        names of no site
Certificates are made with the openssl CLI; as every openssl process costs tens of milliseconds,
independent steps run in parallel and leaves of one validity period are signed by one `openssl ca`.
"""

import base64
import datetime
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    sys.exit("make_sites.py: the yaml module is missing; install the Debian package python3-yaml")

DAY = datetime.timedelta(days=1)
# validity per certificate kind: (not_before, not_after) relative to now
KINDS = {
    "valid": (-10, 80),
    "no-www": (-10, 80),
    "expired": (-100, -10),
    "expiring": (-85, 5),
    "not-renewed": (-65, 25),
}
JPRS_DATES = (datetime.datetime(2020, 3, 2, 0, 0, 0), datetime.datetime(2027, 3, 31, 23, 59, 59))
HTTP_KINDS = {"healthy", "redirect", "loop", "chain", "basic-auth", "deny", "waf", "error", "answer", "redirect-error",
              "no-site", "default-404"}
SPECIAL_KINDS = {"other", "parked", "cdn", "drop", "slow", "endless", "garbage", "h2c", "slow-hops"}

CA_CONF = """[ca]
default_ca = lab
[lab]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/new
serial = {dir}/serial
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
email_in_dn = no
[policy_any]
countryName = optional
organizationName = optional
commonName = supplied
[root_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[intermediate_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused
"""

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


# --- certificate requests made here: one openssl process per site costs seconds on a busy machine ---
# P-256 (FIPS 186-4 D.1.2.3)
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
A = P - 3
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _double(p):
    x, y, z = p
    if y == 0:
        return (0, 1, 0)
    ysq = y * y % P
    s = 4 * x * ysq % P
    m = (3 * x * x + A * pow(z, 4, P)) % P
    nx = (m * m - 2 * s) % P
    return (nx, (m * (s - nx) - 8 * ysq * ysq) % P, 2 * y * z % P)


def _add(p, q):
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    z1s, z2s = p[2] * p[2] % P, q[2] * q[2] % P
    u1, u2 = p[0] * z2s % P, q[0] * z1s % P
    s1, s2 = p[1] * z2s * q[2] % P, q[1] * z1s * p[2] % P
    if u1 == u2:
        return _double(p) if s1 == s2 else (0, 1, 0)
    h, r = u2 - u1, s2 - s1
    h2 = h * h % P
    h3 = h * h2 % P
    u1h2 = u1 * h2 % P
    nx = (r * r - h3 - 2 * u1h2) % P
    return (nx, (r * (u1h2 - nx) - s1 * h3) % P, h * p[2] * q[2] % P)


_G_TABLE = []  # 2^i G, i = 0..255, for multiplications of G without doublings


def _mul(k, point=G):
    result = (0, 1, 0)
    if point == G:
        if not _G_TABLE:
            addend = (G[0], G[1], 1)
            for _ in range(256):
                _G_TABLE.append(addend)
                addend = _double(addend)
        i = 0
        while k:
            if k & 1:
                result = _add(result, _G_TABLE[i])
            k >>= 1
            i += 1
    else:
        addend = (point[0], point[1], 1)
        while k:
            if k & 1:
                result = _add(result, addend)
            addend = _double(addend)
            k >>= 1
    x, y, z = result
    zi = pow(z, -1, P)
    return (x * zi * zi % P, y * zi * zi * zi % P)


def der(tag, body):
    n = len(body)
    if n < 128:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + body


def der_int(v):
    return der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def der_oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(chunk))
    return der(0x06, body)


def der_items(data):
    """The (tag, body) items of a DER sequence's content."""
    items, i = [], 0
    while i < len(data):
        tag, n = data[i], data[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        items.append((tag, data[i:i + n]))
        i += n
    return items


def ec_private_key(pem_path):
    """The private scalar of an EC P-256 key in PKCS#8 PEM (openssl genpkey)."""
    with open(pem_path) as f:
        lines = [l for l in f.read().splitlines() if l and not l.startswith("-----")]
    pkcs8 = der_items(der_items(base64.b64decode("".join(lines)))[0][1])
    ec = der_items(der_items(pkcs8[2][1])[0][1])  # ECPrivateKey: version, privateKey, ...
    return int.from_bytes(ec[1][1], "big")


def make_csr(d, public, names):
    """A PKCS#10 request (DER) for CN names[0] with the SANs names, signed ECDSA-SHA256 with d."""
    subject = der(0x30, der(0x31, der(0x30, der_oid("2.5.4.3") + der(0x0C, names[0].encode()))))
    spki = der(0x30, der(0x30, der_oid("1.2.840.10045.2.1") + der_oid("1.2.840.10045.3.1.7")) +
               der(0x03, b"\x00\x04" + public[0].to_bytes(32, "big") + public[1].to_bytes(32, "big")))
    san = der(0x30, b"".join(der(0x82, n.encode()) for n in names))
    extensions = der(0x30, der(0x30, der_oid("2.5.29.17") + der(0x04, san)))
    attributes = der(0xA0, der(0x30, der_oid("1.2.840.113549.1.9.14") + der(0x31, extensions)))
    info = der(0x30, der_int(0) + subject + spki + attributes)
    h = int.from_bytes(hashlib.sha256(info).digest(), "big")
    while True:
        k = secrets.randbelow(N - 1) + 1
        r = _mul(k)[0] % N
        s = pow(k, -1, N) * (h + r * d) % N
        if r and s:
            break
    signature = der(0x30, der_int(r) + der_int(s))
    return der(0x30, info + der(0x30, der_oid("1.2.840.10045.4.3.2")) + der(0x03, b"\x00" + signature))


def die(message):
    print(f"make_sites.py: {message}", file=sys.stderr)
    sys.exit(1)


def stamp(t):
    return t.strftime("%Y%m%d%H%M%SZ")


def start_all(commands, cwd):
    """Starts the openssl commands in parallel."""
    return [(c, subprocess.Popen(["openssl", *c], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            for c in commands]


def wait_all(procs):
    """Waits for the commands; fails with the stderr of the first that failed."""
    for command, proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            die(f"openssl {' '.join(command)}: {err.decode(errors='replace').strip()}")


def run_all(commands, cwd):
    wait_all(start_all(commands, cwd))


def ca_dir(cadir, name, serial):
    """A CA database of its own for one `openssl ca` run (runs in parallel must not share one)."""
    d = os.path.join(cadir, "db", name)
    os.makedirs(os.path.join(d, "new"))
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write(serial + "\n")
    with open(os.path.join(d, "ca.conf"), "w") as f:
        f.write(CA_CONF.format(dir=d))
    return os.path.join(d, "ca.conf")


def serial_of(n):
    # 16 bytes, positive, unique per run and database
    return "%02x%s%08x" % (0x40 + n, os.urandom(11).hex(), n)


def load(path):
    with open(path) as f:
        data = yaml.safe_load(f)
    hosts, sites = data["hosts"], data["sites"]
    seen = set()
    for s in sites:
        name = s["site"]
        if name in seen:
            die(f"{name}: listed twice")
        seen.add(name)
        s["hosts"] = s["host"] if isinstance(s["host"], list) else [s["host"]]
        for h in s["hosts"]:
            if h not in hosts:
                die(f"{name}: unknown host {h}")
        s.setdefault("http", "healthy")
        if s["http"] not in HTTP_KINDS:
            die(f"{name}: unknown http behaviour {s['http']}")
        if s["http"] == "no-site":
            # Not set up on its host: the host's default site and default certificate answer.
            if "cert" in s:
                die(f"{name}: a no-site row has no certificate of its own")
            s["cert"] = "none"
            continue
        if s.get("cert", "valid") not in list(KINDS) + ["jprs", "self-signed"]:
            die(f"{name}: unknown cert kind {s['cert']}")
        s.setdefault("cert", "valid")
    for name, h in hosts.items():
        for port, kind in (h.get("ports") or {}).items():
            if kind != "hosting" and kind not in SPECIAL_KINDS:
                die(f"host {name}: unknown kind {kind} on port {port}")
    return hosts, sites


def make_ca(cadir, sites, now):
    """The lab CA and every site's certificate."""
    if os.path.exists(cadir):
        shutil.rmtree(cadir)
    os.makedirs(os.path.join(cadir, "sites"))
    os.makedirs(os.path.join(cadir, "csr"))
    conf = ca_dir(cadir, "req", "01")
    # Stage 1: keys and requests (the CA keys, the one leaf key).
    run_all([
        ["req", "-new", *EC, "-keyout", "lab-root.key", "-subj", "/O=certdoctor lab/CN=certdoctor lab root",
         "-out", "csr/lab-root.csr", "-config", conf],
        ["req", "-new", *EC, "-keyout", "intermediate.key",
         "-subj", "/O=certdoctor lab/CN=certdoctor lab intermediate", "-out", "csr/intermediate.csr", "-config", conf],
        ["req", "-new", *EC, "-keyout", "jprs-root.key",
         "-subj", "/O=certdoctor lab/CN=certdoctor lab root 2", "-out", "csr/jprs-root.csr", "-config", conf],
        ["req", "-new", *EC, "-keyout", "jprs-intermediate.key",
         "-subj", "/C=JP/O=Japan Registry Services Co., Ltd./CN=JPRS Domain Validation Authority - G3",
         "-out", "csr/jprs-intermediate.csr", "-config", conf],
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf.key"],
    ], cadir)
    # Stage 2: the roots (self-signed, backdated) and every leaf's request.
    root_dates = ["-startdate", stamp(now - 3650 * DAY), "-enddate", stamp(now + 3650 * DAY)]
    jprs_root_dates = ["-startdate", "20150101000000Z", "-enddate", stamp(now + 3650 * DAY)]
    commands = [
        ["ca", "-batch", "-notext", "-selfsign", "-config", ca_dir(cadir, "lab-root", serial_of(1)),
         "-keyfile", "lab-root.key", "-in", "csr/lab-root.csr", "-extensions", "root_ext", *root_dates,
         "-out", "lab-root.pem"],
        ["ca", "-batch", "-notext", "-selfsign", "-config", ca_dir(cadir, "jprs-root", serial_of(2)),
         "-keyfile", "jprs-root.key", "-in", "csr/jprs-root.csr", "-extensions", "root_ext", *jprs_root_dates,
         "-out", "jprs-root.pem"],
    ]
    leaves = [("default", ["hosting-default.invalid"], "valid")]
    for s in sites:
        if s["http"] == "no-site":
            continue
        names = [s["site"]] if s["cert"] == "no-www" else [s["site"], "www." + s["site"]]
        leaves.append((s["site"], names, s["cert"]))
    for site, names, kind in leaves:
        if kind == "self-signed":
            commands.append(["req", "-x509", "-new", "-key", "leaf.key", "-subj", f"/CN={names[0]}",
                             "-addext", "subjectAltName=" + ",".join("DNS:" + n for n in names),
                             "-addext", "basicConstraints=critical,CA:FALSE",
                             "-addext", "extendedKeyUsage=serverAuth", "-days", "90",
                             "-out", f"sites/{site}.pem", "-config", conf])
    procs = start_all(commands, cadir)
    # Meanwhile the leaves' requests, all with the one leaf key.
    d = ec_private_key(os.path.join(cadir, "leaf.key"))
    public = _mul(d)
    for site, names, kind in leaves:
        if kind != "self-signed":
            with open(os.path.join(cadir, "csr", site + ".csr"), "w") as f:
                f.write("-----BEGIN CERTIFICATE REQUEST-----\n" +
                        base64.encodebytes(make_csr(d, public, names)).decode() +
                        "-----END CERTIFICATE REQUEST-----\n")
    wait_all(procs)
    # Stage 3: the intermediates.
    run_all([
        ["ca", "-batch", "-notext", "-preserveDN", "-config", ca_dir(cadir, "lab-int", serial_of(3)),
         "-cert", "lab-root.pem", "-keyfile", "lab-root.key", "-in", "csr/intermediate.csr",
         "-extensions", "intermediate_ext", "-startdate", stamp(now - 1000 * DAY),
         "-enddate", stamp(now + 1800 * DAY), "-out", "intermediate.pem"],
        ["ca", "-batch", "-notext", "-preserveDN", "-config", ca_dir(cadir, "jprs-int", serial_of(4)),
         "-cert", "jprs-root.pem", "-keyfile", "jprs-root.key", "-in", "csr/jprs-intermediate.csr",
         "-extensions", "intermediate_ext", "-startdate", "20180601000000Z",
         "-enddate", stamp(max(JPRS_DATES[1] + 365 * DAY, now + 365 * DAY)), "-out", "jprs-intermediate.pem"],
    ], cadir)
    # Stage 4: the leaves, one `openssl ca` per validity period.
    groups = {}
    for site, names, kind in leaves:
        if kind != "self-signed":
            groups.setdefault("jprs" if kind == "jprs" else KINDS[kind], []).append(site)
    commands, outputs = [], []
    for n, (period, group) in enumerate(sorted(groups.items(), key=str)):
        if period == "jprs":
            issuer = ["-cert", "jprs-intermediate.pem", "-keyfile", "jprs-intermediate.key"]
            dates = [stamp(JPRS_DATES[0]), stamp(JPRS_DATES[1])]
        else:
            issuer = ["-cert", "intermediate.pem", "-keyfile", "intermediate.key"]
            dates = [stamp(now + period[0] * DAY), stamp(now + period[1] * DAY)]
        name = f"leaves-{n}"
        commands.append(["ca", "-batch", "-notext", "-config", ca_dir(cadir, name, serial_of(10 + n)),
                         *issuer, "-extensions", "leaf_ext", "-startdate", dates[0], "-enddate", dates[1],
                         "-out", "/dev/null", "-infiles", *[f"csr/{s}.csr" for s in group]])
        outputs.append((name, group, "jprs-intermediate.pem" if period == "jprs" else "intermediate.pem"))
    run_all(commands, cadir)
    for name, group, chain in outputs:
        # The database lists serial and subject of each certificate issued; new/SERIAL.pem holds it.
        db = os.path.join(cadir, "db", name)
        issued = {}
        with open(os.path.join(db, "index.txt")) as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                issued[fields[5].split("CN=", 1)[1]] = fields[3]
        with open(os.path.join(cadir, chain)) as f:
            intermediate = f.read()
        for site in group:
            cn = "hosting-default.invalid" if site == "default" else site
            if cn not in issued:
                die(f"{name}: no certificate for {site}")
            with open(os.path.join(db, "new", issued[cn] + ".pem")) as f:
                pem = f.read()
            with open(os.path.join(cadir, "sites", site + ".pem"), "w") as f:
                f.write(pem.rstrip("\n") + "\n" + intermediate)
    with open(os.path.join(cadir, "root.pem"), "w") as f:
        for name in ("lab-root.pem", "jprs-root.pem"):
            with open(os.path.join(cadir, name)) as g:
                f.write(g.read())
    shutil.rmtree(os.path.join(cadir, "csr"))


def listen(addresses, port, extra=""):
    lines = []
    for a in addresses:
        a = f"[{a}]" if ":" in a else a
        lines.append(f"    listen {a}:{port}{' ssl' if port == 443 else ''}{extra};")
    return lines


def nginx_conf(hosts, sites, webdir, cadir):
    """The hosting servers: a default server per hosting port (docroot by Host, certificate by
    SNI) and a server per site with a behaviour of its own."""
    hosting = {80: [], 443: []}
    for h in hosts.values():
        for port, kind in (h.get("ports") or {}).items():
            if kind == "hosting":
                hosting[int(port)] += [str(a) for a in h["addresses"]]
    docroot = os.path.join(webdir, "docroot")
    out = ["# Generated by tests/lab/web/make_sites.py from tests/lab/web/sites.yaml at every `lab up`.",
           "# The site is the Host without a leading www.; its files are under docroot/SITE.",
           "map $host $lab_site {",
           '    default "";',
           r'    "~^(?:www\.)?(?<lab_s>[a-z0-9.-]+)$" $lab_s;',
           "}",
           "# The sites set up on the hosts (every row but no-site); any other name gets the default site.",
           "map $lab_site $lab_known {",
           "    default 0;"]
    own = [s for s in sites if s["http"] != "no-site"]
    for s in own:
        out.append(f"    {s['site']} 1;")
    out += ["}",
            "# The certificate by SNI: the site's, or the host's default for a name of no site.",
            "map $ssl_server_name $lab_cert {",
            "    hostnames;",
            "    default default;"]
    for s in own:
        out.append(f"    {s['site']} {s['site']};")
        out.append(f"    www.{s['site']} {s['site']};")
    out += ["}", ""]
    tls = [f"    ssl_certificate {cadir}/sites/$lab_cert.pem;",
           f"    ssl_certificate_key {cadir}/leaf.key;"]
    # A shared hosting server: a site set up on it serves its docroot; any other name (a random
    # one, an IP address, a domain not set up: no-site) gets the default site, one 404 page for
    # every path, as a shared host answers a name it has no site for.
    out += ["# Every name without a server of its own: a shared hosting server.", "server {"]
    out += listen(hosting[80], 80, " default_server") + listen(hosting[443], 443, " default_server")
    out += ["    server_name _;", *tls, f"    root {docroot}/$lab_site;",
            "    location / {", "        if ($lab_known = 0) {", "            rewrite ^ /.lab-no-site last;", "        }",
            "        try_files $uri $uri/index.html =404;", "    }",
            "    location = /.lab-no-site {", "        internal;", "        default_type text/html;",
            f"        return 404 '{NO_SITE_PAGE}';", "    }", "}", ""]

    def server(s, names, ports, body):
        addresses = {80: [], 443: []}
        for h in s["hosts"]:
            for port, kind in (hosts[h].get("ports") or {}).items():
                if kind == "hosting" and int(port) in ports:
                    addresses[int(port)] += [str(a) for a in hosts[h]["addresses"]]
        if not addresses[80] and not addresses[443]:
            return []
        lines = [f"# {s['site']}: {s['http']} -> {s.get('finding', 'none')}", "server {"]
        lines += listen(addresses[80], 80) + listen(addresses[443], 443)
        lines += [f"    server_name {' '.join(names)};", *tls, f"    root {docroot}/$lab_site;"]
        return lines + ["    " + b for b in body] + ["}", ""]

    for s in sites:
        site, kind = s["site"], s["http"]
        both = [site, "www." + site]
        ports = [int(p) for p in s.get("ports", [80, 443])]
        if kind == "healthy":
            continue
        if kind == "redirect":
            # A regular expression location, so that `to` may use $1 (the path without its slash).
            out += server(s, both, ports, ["location ~ ^/(.*)$ {", f"    return {s.get('status', 301)} {s['to']};", "}"])
        elif kind == "loop":
            out += server(s, [site], ports, ["location / {", f"    return 302 http://www.{site}$request_uri;", "}"])
            out += server(s, ["www." + site], ports, ["location / {", f"    return 302 http://{site}$request_uri;", "}"])
        elif kind == "chain":
            hops = int(s.get("hops", 50))
            body = ["location / {", "    return 302 http://$host/hop/1$request_uri;", "}"]
            for n in range(1, hops):
                body += [f"location ~ ^/hop/{n}(/.*)$ {{", f"    return 302 http://$host/hop/{n + 1}$1;", "}"]
            if s.get("end") == "file":
                body += [f"location ~ ^/hop/{hops}(/.*)$ {{", "    try_files $1 =404;", "}"]
            else:
                body += [f"location ^~ /hop/{hops}/ {{", "    return 404;", "}"]
            out += server(s, both, ports, body)
        elif kind == "basic-auth":
            out += server(s, both, ports, ['auth_basic "Members only";', f"auth_basic_user_file {webdir}/htpasswd;",
                                           "location / {", "    try_files $uri $uri/index.html =404;", "}"])
        elif kind == "deny":
            out += server(s, both, ports, ["deny all;", "location / {", "    try_files $uri =404;", "}"])
        elif kind == "waf":
            out += server(s, both, ports, ["error_page 403 /siteguard-block.html;",
                                           "location = /siteguard-block.html {", "    internal;",
                                           f"    root {webdir}/pages;", "}",
                                           "location / {", "    return 403;", "}"])
        elif kind == "default-404":
            # A site set up on the host whose missing files get the host's default-site page.
            out += server(s, both, ports, ["location / {", "    try_files $uri $uri/index.html @no_site;", "}",
                                           "location @no_site {", "    default_type text/html;",
                                           f"    return 404 '{NO_SITE_PAGE}';", "}"])
        elif kind == "error":
            out += server(s, both, ports, ["location / {", f"    return {s.get('status', 503)};", "}"])
        elif kind == "answer":
            body = s["body"].replace("\\", "\\\\").replace('"', '\\"')
            out += server(s, both, ports, ["default_type text/plain;", "location / {",
                                           f'    return {s.get("status", 200)} "{body}";', "}"])
        elif kind == "redirect-error":
            out += server(s, both, ports, ["location / {", "    return 301 http://$host/error$request_uri;", "}",
                                           "location ^~ /error/ {", f"    return {s.get('status', 500)};", "}"])
    return "\n".join(out) + "\n"


# The hosting hosts' default site: what they answer for a name that is not set up on them. One
# line, without quotes, for nginx's `return 404 '...'`.
NO_SITE_PAGE = ("<!DOCTYPE html><html lang=ja><head><meta charset=UTF-8><title>No site for this name"
                " (certdoctor lab)</title></head><body><h1>No site for this name</h1><p>このサーバーには"
                "このドメインのサイトが設定されていません。</p><p>The domain is not set up on this shared"
                " hosting server: certdoctor lab default site.</p></body></html>")


WAF_PAGE = """<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="UTF-8">
<title>403 Forbidden - SiteGuard Server Edition (certdoctor lab)</title>
</head>
<body>
<h1>403 Forbidden</h1>
<p>SiteGuard Server Edition: アクセスしようとしたページは表示できませんでした。</p>
<p>This request was blocked by the web application firewall (WAF) of this server.</p>
<p>検出ID: lab-0000 (certdoctor lab block page)</p>
</body>
</html>
"""


def main():
    if len(sys.argv) != 4:
        die("usage: make_sites.py SITES.yaml WEBDIR CADIR")
    sites_file, webdir, cadir = sys.argv[1:]
    hosts, sites = load(sites_file)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    for s in sites:
        if s["http"] == "no-site":
            continue
        d = os.path.join(webdir, "docroot", s["site"])
        os.makedirs(os.path.join(d, ".well-known", "acme-challenge"), exist_ok=True)
        with open(os.path.join(d, "index.html"), "w") as f:
            f.write(f"<html><body><h1>{s['site']}</h1><p>certdoctor lab, {s['hosts'][0]} host</p></body></html>\n")
    os.makedirs(os.path.join(webdir, "pages"), exist_ok=True)
    with open(os.path.join(webdir, "pages", "siteguard-block.html"), "w") as f:
        f.write(WAF_PAGE)
    with open(os.path.join(webdir, "htpasswd"), "w") as f:
        f.write("lab:{PLAIN}lab\n")
    with open(os.path.join(webdir, "hosting.conf"), "w") as f:
        f.write(nginx_conf(hosts, sites, webdir, cadir))
    special = []
    for h in hosts.values():
        for port, kind in (h.get("ports") or {}).items():
            if kind != "hosting":
                special += [{"address": str(a), "port": int(port), "kind": kind} for a in h["addresses"]]
    with open(os.path.join(webdir, "special.json"), "w") as f:
        json.dump(special, f, indent=1)
    with open(os.path.join(webdir, "sites.json"), "w") as f:
        json.dump({"generated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "hosts": {name: {"addresses": [str(a) for a in h["addresses"]],
                                    "ports": {str(p): k for p, k in (h.get("ports") or {}).items()}}
                             for name, h in hosts.items()},
                   "sites": [{k: v for k, v in s.items() if k != "host"} for s in sites]}, f, indent=1,
                  ensure_ascii=False)

    # The servers may start now (nginx loads a certificate chosen by a variable at each handshake).
    with open(os.path.join(webdir, "config-ready"), "w") as f:
        f.write("ok\n")
    make_ca(cadir, sites, now)

if __name__ == "__main__":
    main()

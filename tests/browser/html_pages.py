#!/usr/bin/env python3
"""The HTML report in a real browser: every saved facts file of the lab scenarios rendered with
`certdoctor explain --facts F --format html` in Japanese and English, opened in headless Chromium
(Debian's chromium and chromium-driver, driven by python3-selenium), one browser for all pages.

For each page it checks what a person sees: the verdict, each finding's title and id, the
validation path (every certified name, every address the view gives it, the address the CA dials
first marked so, one marked failing step for every walk the view says stopped) and the delegation;
that the page's hashed style applied and nothing broke its policy; that no script ran, no element
came from the data and no request left the page. A facts file made hostile at run time (a Server
header and a body excerpt with markup and script) must show that markup as text.

A screenshot of every page goes to OUTDIR (one PNG per facts file and language).

Usage: html_pages.py CERTDOCTOR FACTS_DIR OUTDIR [--only SUBSTRING]...
"""
import base64
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import yaml
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
except ImportError as e:
    sys.exit(f"html_pages: {e}; install chromium chromium-driver python3-selenium python3-yaml (./bootstrap installs them)")

HOSTILE = "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"
CHROMEDRIVER = "/usr/bin/chromedriver"
MAX_SHOT_HEIGHT = 12000


def usage():
    print(__doc__.strip())
    sys.exit(0)


def run(binary, facts, lang, fmt, *extra):
    p = subprocess.run([binary, "explain", "--facts", str(facts), "--lang", lang, "--format", fmt, *extra],
                       capture_output=True, text=True, timeout=60)
    if p.returncode not in (0, 1, 3):
        raise RuntimeError(f"explain {facts} --format {fmt} --lang {lang}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def normal(text):
    return re.sub(r"\s+", " ", text).strip()


def hostile_facts(source, out):
    """A saved facts file with markup and script in every Server header and body excerpt."""
    facts = json.loads(source.read_text())
    for chain in facts["web"]["http"]:
        for hop in chain["hops"]:
            hop["server"] = HOSTILE
            hop["body_excerpt"] = HOSTILE + hop.get("body_excerpt", "")
    out.write_text(json.dumps(facts))
    return out


class Page:
    """One rendered page, with what it must show taken from the same facts as JSON, as Markdown
    (the paragraphs' titles) and as the view."""

    def __init__(self, name, lang, path, report, markdown, view, labels):
        self.name, self.lang, self.path = name, lang, path
        self.verdict = labels[lang]["verdicts"][report["verdict"]]
        self.ids = sorted({f["id"] for f in report["findings"]})
        self.names = [n["display"] for n in report["names"]]
        # The paragraphs as a person reads them (apex and www as one): the Markdown headings.
        self.titles = [normal(m.group(1)) for m in re.finditer(r"^### [^:\n]+: (.*) \(`[a-z0-9-]+`\)$", markdown, re.M)]
        self.addresses = {n["name"]: n["a_addresses"] + n["aaaa_addresses"] for n in view["names"]}
        self.first = {n["display"]: n["ca_first_address"] for n in view["names"] if n["ca_first_address"]}
        self.stopped = sum(1 for c in view["web"]["challenges"] if c["cause"] not in ("ok", "") and c["hops"])
        self.zone = view["delegation"].get("zone", "")
        self.first_label = labels[lang]["html"]["order"]["first"]


def render(binary, facts, labels, html_dir):
    """The pages of one facts file, ja and en (the JSON report and the view do not depend on the language)."""
    report = json.loads(run(binary, facts, "en", "json"))
    view = json.loads(run(binary, facts, "en", "json", "--view"))
    pages = []
    for lang in ("ja", "en"):
        path = html_dir / f"{facts.stem}.{lang}.html"
        path.write_text(run(binary, facts, lang, "html"))
        pages.append(Page(f"{facts.stem}.{lang}", lang, path, report, run(binary, facts, lang, "markdown"), view, labels))
    return pages


def inert(driver, seen, path, fail):
    """The hashed style applied (a wrong hash would leave the page unstyled) and nothing else ran:
    no script, image or other active element, nothing in the console, no request but the page."""
    if seen["background"] != "rgb(245, 247, 249)":
        fail(f"the page's style did not apply (body background {seen['background']})")
    if seen["active"] != [0, 0, 0]:
        fail(f"scripts, images, other active elements: {seen['active']}")
    if driver.title.find("PWNED") >= 0:
        fail("a script ran")
    for entry in driver.get_log("browser"):
        fail(f"browser console: {entry.get('message')}")
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent" and message["params"]["request"]["url"] != path.as_uri():
            fail(f"a request left the page: {message['params']['request']['url']}")


def check_page(driver, page, errors, screens):
    def fail(message):
        errors.append(f"{page.name}: {message}")

    driver.get(page.path.as_uri())
    # What the page shows, read in one call (the text as rendered: hidden text does not count).
    seen = driver.execute_script("""
      const text = (e) => e ? e.innerText : '';
      const q = (s) => Array.from(document.querySelectorAll(s));
      return {
        body: text(document.body), verdict: text(document.getElementById('verdict')),
        path: text(document.getElementById('path')), delegation: text(document.getElementById('delegation')),
        findings: q('article.finding').length,
        heads: q('#path .name').map(b => [text(b.querySelector('.name-head')),
                                          Array.from(b.querySelectorAll('.addr-head')).map(text)]),
        failing: q('#path li.hop.failing').map(h => getComputedStyle(h).color),
        background: getComputedStyle(document.body).backgroundColor,
        active: [document.scripts.length, document.images.length,
                 document.querySelectorAll('[style],iframe,object,embed,link,form,base').length]};""")
    body = normal(seen["body"])
    if page.verdict not in body:
        fail(f"verdict not shown: {page.verdict!r}")
    if normal(seen["verdict"]) != normal(page.verdict):
        fail(f"the verdict box says {seen['verdict']!r}")
    for title in page.titles:
        if title not in body:
            fail(f"finding title not shown: {title!r}")
    for fid in page.ids:
        if fid not in body:
            fail(f"finding id not shown: {fid}")
    if len(page.titles) != seen["findings"]:
        fail(f"{seen['findings']} findings shown, {len(page.titles)} paragraphs")
    path = normal(seen["path"])
    for name in page.names:
        if name not in path:
            fail(f"name {name!r} not in the validation path")
    for name, addresses in page.addresses.items():
        for a in addresses:
            if a not in path:
                fail(f"address {a} of {name} not in the validation path")
    heads = {normal(h).split(" ")[0]: [normal(x) for x in addrs] for h, addrs in seen["heads"]}
    for name, first in page.first.items():
        shown = heads.get(name)
        if not shown or not shown[0].startswith(first) or page.first_label not in shown[0]:
            fail(f"{name}: the first address {first} is not shown first as {page.first_label!r}: {(shown or [])[:3]}")
    if len(seen["failing"]) != page.stopped:
        fail(f"{len(seen['failing'])} failing steps marked, the view has {page.stopped} walks that stop")
    for color in seen["failing"]:
        if color != "rgb(180, 35, 24)":
            fail(f"a failing step is not drawn in red: {color}")
    if page.zone and page.zone not in normal(seen["delegation"]):
        fail(f"zone {page.zone} not in the delegation picture")
    inert(driver, seen, page.path, fail)
    size = driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    # The whole page, up to what Chromium can draw at once (a page of many addresses is cut).
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": min(size[1], MAX_SHOT_HEIGHT), "scale": 1}})
        (screens / f"{page.name}.png").write_bytes(base64.b64decode(shot["data"]))
    except Exception as e:  # noqa: BLE001 - any failure of the browser is this page's failure
        fail(f"no screenshot: {str(e).splitlines()[0]}")
    return body


TRIAGE_INPUTS = ("forwarded-quoted-sakura-renewal-error.eml", "certbot-two-domains.log",
                 "acme-problem-subproblems-caa.json")


def hostile_mail(out):
    """A notice whose subject, sender and body carry markup."""
    out.write_bytes(("From: <script>document.title='PWNED'</script> <support@sakura.ad.jp>\n"
                     "Subject: =?UTF-8?B?" + base64.b64encode("<img src=x onerror=alert(1)>無料SSL 更新エラー".encode()).decode()
                     + "?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
                     "コモンネーム : <b>x</b>.example.jp\n").encode())
    return out


def check_triage_page(driver, name, path, subject, errors, screens):
    """The triage page (`triage --offline --format html`): its words, its style, nothing active."""
    def fail(message):
        errors.append(f"{name}: {message}")

    driver.get(path.as_uri())
    seen = driver.execute_script("""
      return {body: document.body.innerText, background: getComputedStyle(document.body).backgroundColor,
              summary: document.querySelectorAll('header.triage dl.summary dt').length,
              active: [document.scripts.length, document.images.length,
                       document.querySelectorAll('[style],iframe,object,embed,link,form,base').length]};""")
    body = normal(seen["body"])
    if "certdoctor triage" not in body:
        fail("the heading is not shown")
    if subject and normal(subject) not in body:
        fail(f"the subject is not shown as text: {subject!r}")
    if seen["summary"] < 3:
        fail(f"{seen['summary']} summary lines")
    inert(driver, seen, path, fail)
    (screens / f"{name}.png").write_bytes(base64.b64decode(driver.get_screenshot_as_base64()))


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        usage()
    only = []
    while "--only" in args:
        i = args.index("--only")
        only.append(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit("usage: html_pages.py CERTDOCTOR FACTS_DIR OUTDIR [--only SUBSTRING]...")
    binary, facts_dir, screens = args[0], Path(args[1]), Path(args[2])
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        sys.exit(f"html_pages: {binary}: not an executable")
    for tool in ("/usr/bin/chromium", CHROMEDRIVER):
        if not os.path.exists(tool):
            sys.exit(f"html_pages: {tool} is missing; apt-get install chromium chromium-driver python3-selenium")
    screens.mkdir(parents=True, exist_ok=True)
    for old in screens.glob("*.png"):
        old.unlink()
    labels = yaml.safe_load((Path(__file__).resolve().parents[2] / "reports" / "labels.yaml").read_text())["labels"]
    facts = sorted(f for f in facts_dir.glob("*.json") if not only or any(s in f.name for s in only))
    if not facts:
        sys.exit(f"html_pages: no facts files in {facts_dir}")
    errors = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="certdoctor-html-") as tmp:
        tmp = Path(tmp)
        hostile = hostile_facts(facts_dir / "http-error.jp-4d6b5f23.json", tmp / "hostile-server.jp.json") \
            if (facts_dir / "http-error.jp-4d6b5f23.json").exists() else None
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            pages = [p for ps in pool.map(lambda f: render(binary, f, labels, tmp), facts + ([hostile] if hostile else []))
                     for p in ps]
        triage_pages = []
        corpus = Path(__file__).resolve().parents[1] / "triage" / "corpus"
        inputs = [corpus / n for n in TRIAGE_INPUTS if (corpus / n).exists()] + [hostile_mail(tmp / "hostile-notice.eml")]
        for source in inputs:
            for lang in ("ja", "en"):
                p = subprocess.run([binary, "triage", "--offline", "--format", "html", "--lang", lang, str(source)],
                                   capture_output=True, text=True, timeout=60)
                if p.returncode != 0:
                    errors.append(f"triage {source.name} --lang {lang}: exit {p.returncode}: {p.stderr.strip()[:200]}")
                    continue
                meta = json.loads(subprocess.run([binary, "triage", "--offline", "--format", "json", str(source)],
                                                 capture_output=True, text=True, timeout=60).stdout)
                path = tmp / f"triage-{source.stem}.{lang}.html"
                path.write_text(p.stdout)
                triage_pages.append((f"triage-{source.stem}.{lang}", path, meta["input"].get("subject", "")))
        rendered = time.monotonic()
        options = Options()
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                  "--hide-scrollbars", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-default-apps"):
            options.add_argument(a)
        options.binary_location = "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            for page in pages:
                body = check_page(driver, page, errors, screens)
                if page.name.startswith("hostile-server"):
                    # The markup came through as text the reader sees, not as elements.
                    if "<script>document.title='PWNED'</script>" not in body:
                        errors.append(f"{page.name}: the hostile Server header is not shown as text")
                    if "<img src=x" not in body:
                        errors.append(f"{page.name}: the hostile body excerpt is not shown as text")
            for name, path, subject in triage_pages:
                check_triage_page(driver, name, path, subject, errors, screens)
        finally:
            driver.quit()
    done = time.monotonic()
    print(f"{len(pages)} pages ({len(facts)} facts files{' and one made hostile' if hostile else ''}, ja and en), "
          f"{len(triage_pages)} triage pages: "
          f"rendered in {rendered - started:.1f} s, checked in the browser in {done - rendered:.1f} s")
    print(f"screenshots: {screens}")
    for e in errors:
        print("FAIL", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

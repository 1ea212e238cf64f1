#!/usr/bin/env python3
"""End-to-end: the page of `certdoctor serve --lab` in Debian's headless Chromium
(python3-selenium), with JavaScript on and off, in Japanese and English.

For each mode and language: the form (lang attribute, a label for every field, the keyboard order
and a visible focus, the contrast of the main text against its background at least WCAG AA); a
slow lab domain (seven redirects, 2.2 s each) checked: the list of steps fills in while the check runs (with JavaScript in place,
the same document; without, server-rendered on each reload) and names the domain, the servers asked
and the addresses connected to; then the verdict, the findings and the result's link; "check
again" gives a new result with what changed since the earlier one (with JavaScript in English the
lab's zone gets an AAAA record between the two checks, and the change is named) and a link back;
the triage path: a pasted Sakura notice naming a failing lab domain is read (the triage page) and
the check of that domain is queued, its state followed and its result opened; a pasted notice
carrying markup stays text. On every page: nothing in the console, no request outside the service,
no element from the input. Screenshots in OUTDIR.
usage: serve_page.py CERTDOCTOR [OUTDIR] [--keep-lab]
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
from serve_lab import Serve, outside_then_inside  # noqa: E402

CHROMEDRIVER = "/usr/bin/chromedriver"
VERDICT = "header.page.v-ok, header.page.v-warning, header.page.v-fail, header.page.v-incomplete"

# Relative luminance and contrast (WCAG 2.1), computed in the page from the computed styles: each
# element's colour against the first opaque background of it or an ancestor.
CONTRAST_JS = r"""
function rgb(s){var m=s.match(/rgba?\(([^)]+)\)/);if(!m)return null;var p=m[1].split(',').map(parseFloat);return {r:p[0],g:p[1],b:p[2],a:p.length>3?p[3]:1};}
function lum(c){function ch(v){v/=255;return v<=0.03928?v/12.92:Math.pow((v+0.055)/1.055,2.4);}return 0.2126*ch(c.r)+0.7152*ch(c.g)+0.0722*ch(c.b);}
function bg(e){for(;e;e=e.parentElement){var c=rgb(getComputedStyle(e).backgroundColor);if(c&&c.a>0.99)return c;}return {r:255,g:255,b:255,a:1};}
var out=[];
document.querySelectorAll(arguments[0]).forEach(function(e){
  if(!e.offsetParent&&getComputedStyle(e).position!=='fixed')return;
  if(!(e.innerText||e.value||'').trim())return;
  var s=getComputedStyle(e),f=rgb(s.color),b=bg(e);
  var op=1;for(var x=e;x;x=x.parentElement){op*=parseFloat(getComputedStyle(x).opacity);}
  if(op<0.99)return; // a step the page shows as not used (dimmed on purpose)
  var l1=lum(f),l2=lum(b),ratio=(Math.max(l1,l2)+0.05)/(Math.min(l1,l2)+0.05);
  var size=parseFloat(s.fontSize),bold=parseInt(s.fontWeight)>=700;
  var need=(size>=24||(bold&&size>=18.66))?3:4.5;
  out.push({tag:e.tagName.toLowerCase(),cls:e.className,text:(e.innerText||'').slice(0,40),ratio:Math.round(ratio*100)/100,need:need});
});
return out;
"""

SAKURA = ("From: さくらインターネット <support@sakura.ad.jp>\n"
          "Subject: [さくらインターネット]【重要】無料SSL証明書 更新エラーについて\n\n"
          "いつもご利用いただきありがとうございます。\n\n"
          "お使いの無料SSLについて、自動更新に失敗したため新しい証明書を発行できませんでした。\n\n"
          "【証明書の情報】\n"
          "レンタルサーバアカウント : labuser\n"
          "証明書の種類 : Let's Encrypt(無料SSL)\n"
          "コモンネーム : {domain}\n")

HOSTILE = ("From: <img src=x id=pwned-from onerror=alert(1)> <support@sakura.ad.jp>\n"
           "Subject: [さくらインターネット]【重要】無料SSL証明書 更新エラーについて <script id=pwned-subject>alert(1)</script>\n\n"
           "お使いの無料SSLについて、自動更新に失敗したため新しい証明書を発行できませんでした。\n"
           "<b id=pwned-body>bold</b><iframe src=http://192.0.2.1/></iframe>\n"
           "コモンネーム : {domain}\n")


class Browser:
    def __init__(self, serve, outdir, js, problems):
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        self.serve, self.outdir, self.js, self.problems = serve, outdir, js, problems
        self.mode = "js" if js else "nojs"
        self.contrasts = []
        options = Options()
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,1000",
                  "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                  "--disable-component-update", "--disable-default-apps"):
            options.add_argument(a)
        options.binary_location = "/usr/bin/chromium"
        if not js:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)

    def quit(self):
        self.driver.quit()

    def fail(self, text):
        self.problems.append(f"{self.mode}: {text}")

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.outdir, f"page-{self.mode}-{name}.png"))

    def audit(self, where):
        """Nothing in the console, every request to the service, no element from the input."""
        from selenium.webdriver.common.by import By
        for entry in self.driver.get_log("browser"):
            self.fail(f"{where}: console: {entry.get('level')} {entry.get('message')}")
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                url = msg["params"]["request"]["url"]
                if not url.startswith(self.serve.base + "/"):
                    self.fail(f"{where}: a request outside the service: {url[:120]}")
        for pwned in ("pwned", "pwned-from", "pwned-subject", "pwned-body"):
            if self.driver.find_elements(By.ID, pwned):
                self.fail(f"{where}: markup from the input became an element (#{pwned})")
        scripts = [s.get_attribute("src") for s in self.driver.find_elements(By.TAG_NAME, "script")]
        if any(s != self.serve.base + "/static/app.js" for s in scripts):
            self.fail(f"{where}: a script other than /static/app.js: {scripts}")
        if self.driver.find_elements(By.TAG_NAME, "iframe"):
            self.fail(f"{where}: an iframe")

    def contrast(self, where):
        """WCAG AA for the text of the page (measured with the script of the test, so with
        JavaScript on only)."""
        if not self.js:
            return
        measured = self.driver.execute_script(CONTRAST_JS, "h1,h2,h3,h4,p,li,dt,dd,label,small,a,button,.verdict,.badge,.rid,summary,pre,legend")
        if not measured:
            self.fail(f"{where}: no text measured for contrast")
            return
        low = [c for c in measured if c["ratio"] < c["need"]]
        lowest = min(measured, key=lambda c: c["ratio"] / c["need"])
        print(f"{self.mode} contrast {where}: {len(measured)} elements, lowest {lowest['ratio']}:1 "
              f"(<{lowest['tag']} class={lowest['cls']!r}>, needs {lowest['need']})")
        self.contrasts.append(lowest["ratio"])
        for c in low[:5]:
            self.fail(f"{where}: contrast {c['ratio']} < {c['need']} for <{c['tag']} class={c['cls']!r}> {c['text']!r}")

    def wait_for(self, css, seconds):
        from selenium.webdriver.common.by import By
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.driver.find_elements(By.CSS_SELECTOR, css):
                return True
            time.sleep(0.2)
        return False

    def form(self, lang):
        """The form: language, labels, keyboard order and focus."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.common.action_chains import ActionChains
        d = self.driver
        d.get(f"{self.serve.base}/?lang={lang}")
        if d.find_element(By.TAG_NAME, "html").get_attribute("lang") != lang:
            self.fail(f"form {lang}: html lang is not {lang}")
        if len(d.find_elements(By.TAG_NAME, "h1")) != 1:
            self.fail(f"form {lang}: not one h1")
        for field in d.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
            fid = field.get_attribute("id")
            if not fid or not d.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']"):
                self.fail(f"form {lang}: field {field.get_attribute('name')} has no label")
        # Keyboard: Tab from the top reaches the links, the domain, the choices and the button in
        # the order they are read.
        d.find_element(By.TAG_NAME, "body").click()
        order = []
        for _ in range(12):
            ActionChains(d).send_keys(Keys.TAB).perform()
            e = d.switch_to.active_element
            order.append(e.get_attribute("id") or e.get_attribute("href") or e.tag_name)
            if e.tag_name == "button":
                outline = e.value_of_css_property("outline-style")
                if self.js and outline in ("none", ""):
                    self.fail(f"form {lang}: the focused button shows no outline")
                break
        ids = [o for o in order if not o.startswith("http")]
        want = ["domain", "www-auto", "provider", "server_ip", "button"]
        if [i for i in ids if i in want] != want:
            self.fail(f"form {lang}: keyboard order {order}")
        self.contrast(f"form {lang}")
        self.shot(f"form-{lang}")
        self.audit(f"form {lang}")

    def check(self, lang, domain, must_text, must_final):
        """Submits DOMAIN; follows the steps, then the verdict. The result's path."""
        from selenium.webdriver.common.by import By
        d = self.driver
        d.get(f"{self.serve.base}/?lang={lang}")
        d.find_element(By.ID, "domain").send_keys(domain)
        # Another server address in each mode and language: the same check asked within a minute
        # would be the same (finished) check.
        d.find_element(By.ID, "server_ip").send_keys(f"203.0.113.{10 + (0 if self.js else 1) + (0 if lang == 'ja' else 2)}")
        d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        if not self.wait_for("#status, " + VERDICT, 30):
            self.fail(f"check {lang} {domain}: no result page ({d.current_url})")
            return None
        path = d.current_url.split(self.serve.base, 1)[1].split("?")[0]
        if self.js:
            d.execute_script("window.__samePage = 1;")
        seen, first_seen, same_page = [], None, True
        deadline = time.monotonic() + 60
        from selenium.common.exceptions import WebDriverException
        while time.monotonic() < deadline:
            try:
                steps = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#progress li.step")]
                running = d.find_elements(By.CSS_SELECTOR, "#status[data-status=running]")
            except WebDriverException:  # the page was loaded again while it was read
                time.sleep(0.1)
                continue
            if steps and running:
                if first_seen is None:
                    first_seen = len(steps)
                    self.shot(f"progress-{lang}")
                if len(steps) > len(seen):
                    seen = steps
                    if self.js and d.execute_script("return window.__samePage") != 1:
                        same_page = False
            if d.find_elements(By.CSS_SELECTOR, VERDICT):
                break
            time.sleep(0.3)
        print(f"{self.mode} {lang} {domain}: {len(seen)} steps seen while running (first {first_seen}); {seen[:2]}")
        if len(seen) < 3:
            self.fail(f"check {lang} {domain}: the list of steps did not fill in while the check ran ({len(seen)} seen)")
        if self.js and first_seen is not None and len(seen) <= first_seen:
            self.fail(f"check {lang} {domain}: the list did not grow in place ({first_seen} -> {len(seen)})")
        if not same_page:
            self.fail(f"check {lang} {domain}: the page was loaded again while the check ran: the list is not updated in place")
        text = "\n".join(seen)
        for want in must_text:
            if want not in text:
                self.fail(f"check {lang} {domain}: no step mentions {want!r}")
        if not self.wait_for(VERDICT, 60):
            self.fail(f"check {lang} {domain}: no verdict")
            return path
        body = d.find_element(By.TAG_NAME, "body").text
        if not d.find_elements(By.CSS_SELECTOR, ".finding"):
            self.fail(f"check {lang} {domain}: no finding shown")
        if not d.find_elements(By.CSS_SELECTOR, f"nav a[href='{path}?lang={lang}']"):
            self.fail(f"check {lang} {domain}: no link to the result {path}")
        if domain not in body:
            self.fail(f"check {lang} {domain}: the domain is not on the result page")
        final = [e.get_attribute("textContent") for e in d.find_elements(By.CSS_SELECTOR, "details.progress li.step")]
        if not final:
            self.fail(f"check {lang} {domain}: the finished page does not keep the steps")
        for want in must_final:
            if not any(want in f for f in final):
                self.fail(f"check {lang} {domain}: no step of the finished check says {want!r}")
        self.contrast(f"result {lang}")
        self.shot(f"result-{lang}")
        self.audit(f"result {lang} {domain}")
        return path

    def again(self, lang, path, change=None, must=None):
        """Check again from PATH: a new result, what changed since, a link back."""
        from selenium.webdriver.common.by import By
        d = self.driver
        d.get(f"{self.serve.base}{path}?lang={lang}")
        if change:
            change()
        d.find_element(By.CSS_SELECTOR, "form.again button").click()
        if not self.wait_for(VERDICT, 90):
            self.fail(f"again {lang}: no verdict ({d.current_url})")
            return
        new = d.current_url.split(self.serve.base, 1)[1].split("?")[0]
        if new == path:
            self.fail(f"again {lang}: the same result {path}")
        since = d.find_elements(By.CSS_SELECTOR, "section#since")
        if not since:
            self.fail(f"again {lang}: no section of what changed")
            return
        text = since[0].text
        print(f"{self.mode} again {lang}: {path} -> {new}: {text[:200]!r}")
        if not d.find_elements(By.CSS_SELECTOR, f"section#since a[href='{path}?lang={lang}']"):
            self.fail(f"again {lang}: no link back to {path}")
        diff = d.find_elements(By.CSS_SELECTOR, "section#since pre.diff")
        if not diff or not diff[0].text.strip():
            self.fail(f"again {lang}: the comparison is empty")
        for want in must or []:
            if want not in text:
                self.fail(f"again {lang}: the comparison does not name {want!r}: {text[:300]!r}")
        self.shot(f"again-{lang}")
        self.audit(f"again {lang}")

    def triage(self, lang, text, domain, want_verdict, name):
        """The triage path: the pasted text read, the domain's check queued, followed, opened."""
        from selenium.webdriver.common.by import By
        d = self.driver
        d.get(f"{self.serve.base}/?lang={lang}")
        d.find_element(By.CSS_SELECTOR, f"nav a[href='/triage?lang={lang}']").click()
        if not self.wait_for("textarea#text", 10):
            self.fail(f"triage {lang}: no text field")
            return
        if d.find_element(By.TAG_NAME, "html").get_attribute("lang") != lang:
            self.fail(f"triage {lang}: html lang")
        if not d.find_elements(By.CSS_SELECTOR, "label[for=text]"):
            self.fail(f"triage {lang}: the text field has no label")
        d.find_element(By.ID, "text").send_keys(text)
        self.shot(f"triage-form-{name}-{lang}")
        d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        if not self.wait_for("section.queued", 30):
            self.fail(f"triage {lang} {name}: no list of checks ({d.current_url})")
            self.shot(f"triage-{name}-{lang}-failed")
            return
        body = d.find_element(By.TAG_NAME, "body").text
        if ("さくらインターネット" if lang == "ja" else "Sakura") not in body:
            self.fail(f"triage {lang} {name}: the provider is not named: {body[:200]!r}")
        links = d.find_elements(By.CSS_SELECTOR, f"section.queued li[data-watch] a")
        if [a.text for a in links] != [domain]:
            self.fail(f"triage {lang} {name}: checks queued {[a.text for a in links]}, expected {domain}")
            return
        if self.js:
            # The check's state follows on the page itself.
            if not self.wait_for("section.queued li[data-status=done]", 90):
                self.fail(f"triage {lang} {name}: the queued check's state did not follow it to done")
            state = d.find_element(By.CSS_SELECTOR, "section.queued li .state").text
            print(f"{self.mode} triage {lang} {name}: {state!r}")
        self.contrast(f"triage {lang}")
        self.shot(f"triage-{name}-{lang}")
        self.audit(f"triage {lang} {name}")
        d.find_element(By.CSS_SELECTOR, "section.queued li[data-watch] a").click()
        if not self.wait_for(VERDICT, 90):
            self.fail(f"triage {lang} {name}: the check's page shows no verdict")
            return
        classes = d.find_element(By.CSS_SELECTOR, "header.page").get_attribute("class")
        if not any(f"v-{v}" in classes.split() for v in want_verdict.split("|")):
            self.fail(f"triage {lang} {name}: verdict {classes!r}, expected {want_verdict}")
        self.shot(f"triage-{name}-{lang}-result")
        self.audit(f"triage {lang} {name} result")


def inside(binary, argv):
    problems = []
    tmp = tempfile.mkdtemp(prefix="certdoctor-page-")
    rest = [a for a in argv[2:] if not a.startswith("--")]
    outdir = rest[0] if rest else os.path.join(tmp, "screens")
    os.makedirs(outdir, exist_ok=True)
    db = os.path.join(tmp, "history.sqlite3")
    serve = Serve(binary, db, os.path.join(outdir, "serve-page.log"),
                  ["--client-burst", "100", "--client-rate", "100", "--domain-burst", "20", "--domain-rate", "20",
                   "--workers", "3"])
    import mutate
    lab = mutate.Lab(os.environ.get("CERTDOCTOR_LAB_DIR", "/tmp/certdoctor-lab"))
    try:
        for js in (True, False):
            b = Browser(serve, outdir, js, problems)
            try:
                # While running: the names, the servers asked, the addresses connected to; once
                # done, each request's answer (the slow chain's redirects).
                for lang, domain, steps, final in (
                        ("ja", "http-slow-chain.jp", ["http-slow-chain.jp", "問い合わせ", ".jp のサーバー", "203.0.113.36"],
                         ["HTTP 30"]),
                        ("en", "http-slow-chain.jp", ["http-slow-chain.jp", "asking the resolver", ".jp servers", "connecting to 203.0.113.36"],
                         ["at 203.0.113.36: HTTP 30"])):
                    b.form(lang)
                    path = b.check(lang, domain, steps, final)
                    if not path:
                        continue
                    if js and lang == "en":
                        b.again(lang, path, change=lambda: lab.add("http-slow-chain.jp", "@", "AAAA", "2001:db8:99::1"),
                                must=["AAAA", "2001:db8:99::1"])
                        lab.restore()
                    else:
                        b.again(lang, path)
                for lang in ("ja", "en"):
                    b.triage(lang, SAKURA.format(domain="www-missing.jp"), "www-missing.jp", "fail", "sakura")
                b.triage("en", HOSTILE.format(domain="healthy-sakura.jp"), "healthy-sakura.jp", "ok|warning", "hostile")
            finally:
                b.quit()
    finally:
        try:
            lab.restore()
        except Exception as e:  # noqa: BLE001
            problems.append(f"restoring the lab: {e}")
        serve.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL:", p)
    print(f"{'FAILED' if problems else 'passed'}: {len(problems)} problem(s); screenshots in {outdir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(outside_then_inside(sys.argv, __doc__, inside))

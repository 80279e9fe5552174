"""The built site in headless Chromium: every page offline, quick, typeset and phone-wide.

`nox -s site` builds the site (or takes `DLCORE_SITE`), serves it on 127.0.0.1 and drives
Debian's `chromium` through `chromium-driver` with selenium. For every page it asserts:

- no console error, and no request to anything but the local server (the site is offline);
- the page is interactive and its math typeset within `BUDGET_S` seconds;
- at a phone's width (390 CSS px) nothing makes the page wider than the screen;
- at most `MAX_HTML` bytes of HTML.

On the board, sorting by a column changes the order of the rows. With `DLCORE_FAILING_SITE`
(a site built from `tests/site/failing-report.json`, where one claim failed), that claim's block
is red and shows its assertion message and replay command, and the board lists it first.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SITE = Path(os.environ.get("DLCORE_SITE", "site")).resolve()
BUDGET_S = 3.0
"""Interactive and typeset within this many seconds of navigation start (issue 15)."""
MAX_HTML = 1_000_000
"""Bytes of HTML per page (issue 15)."""
PHONE = 390
"""A phone's width in CSS pixels."""

PAGES = sorted(
    "" if p.parent == SITE else p.parent.relative_to(SITE).as_posix() + "/"
    for p in SITE.glob("**/index.html")
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # no line per request
        pass


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


TIMINGS: dict[str, dict[str, float]] = {}
"""Per page: ms to interactive and to typeset, and bytes of HTML; written to
`build/site-timings.json` for the notes and the benchmarks page."""


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server, url = _serve(SITE)
    yield url
    server.shutdown()
    if TIMINGS:
        out = Path("build") / "site-timings.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(TIMINGS, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _driver(width: int = 1280) -> webdriver.Chrome:
    opts = Options()
    opts.binary_location = os.environ.get("DLCORE_CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.add_argument(f"--window-size={width},900")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(os.environ.get("DLCORE_CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=opts, service=service)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    d = _driver()
    yield d
    d.quit()


@pytest.fixture(scope="module")
def phone() -> Iterator[webdriver.Chrome]:
    d = _driver()
    d.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE, "height": 844, "deviceScaleFactor": 3, "mobile": True},
    )
    yield d
    d.quit()


TYPESET = """
const done = arguments[arguments.length - 1];
const finish = () => done(performance.now());
if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(finish, finish);
} else if (document.readyState === "complete") { finish(); }
else { window.addEventListener("load", finish); }
"""


ALL_MATH = """
const done = arguments[arguments.length - 1];
const errors = () => done(Array.from(document.querySelectorAll('mjx-merror'), e => e.textContent));
const doc = window.MathJax && MathJax.startup && MathJax.startup.document;
if (doc && doc.lazyTypesetAll) { doc.lazyTypesetAll().then(errors, errors); } else { errors(); }
"""


def _requests(driver: webdriver.Chrome) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


@pytest.mark.parametrize("page", PAGES)
def test_page_is_offline_quick_and_clean(browser, base, page):
    browser.get_log("browser"), browser.get_log("performance")  # drop the previous page's
    browser.get(base + page)
    browser.set_script_timeout(60)
    typeset_ms = browser.execute_async_script(TYPESET)
    interactive_ms = browser.execute_script(
        "const t = performance.getEntriesByType('navigation')[0]; return t.domInteractive;"
    )
    TIMINGS[page or "/"] = {
        "interactive_ms": round(interactive_ms),
        "typeset_ms": round(typeset_ms),
        "html_bytes": (SITE / page / "index.html").stat().st_size,
    }
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], f"{page}: console errors {errors}"
    remote = [
        u
        for u in _requests(browser)
        if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"
    ]
    assert remote == [], f"{page}: requests leave the machine: {remote}"
    assert interactive_ms <= BUDGET_S * 1000, f"{page}: interactive after {interactive_ms:.0f} ms"
    assert typeset_ms <= BUDGET_S * 1000, f"{page}: typeset after {typeset_ms:.0f} ms"
    # Formulas are typeset lazily, as they near the viewport: typeset all of them, then look.
    errs = browser.execute_async_script(ALL_MATH)
    assert errs == [], f"{page}: MathJax errors {errs}"


@pytest.mark.parametrize("page", PAGES)
def test_page_fits_a_phone(phone, base, page):
    phone.get(base + page)
    phone.set_script_timeout(60)
    phone.execute_async_script(TYPESET)
    width = phone.execute_script("return document.documentElement.scrollWidth")
    view = phone.execute_script("return document.documentElement.clientWidth")
    if width > view:
        culprits = phone.execute_script(
            """const w = document.documentElement.clientWidth; const out = [];
            for (const e of document.querySelectorAll('body *')) {
              const r = e.getBoundingClientRect();
              if (r.right > w + 1 && getComputedStyle(e).position !== 'fixed') {
                let p = e.parentElement, clipped = false;
                while (p) { const o = getComputedStyle(p).overflowX;
                  if (o === 'auto' || o === 'scroll' || o === 'hidden') { clipped = true; break; }
                  p = p.parentElement; }
                if (!clipped) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));
              }
            } return out.slice(0, 8);"""
        )
        raise AssertionError(f"{page}: {width} px wide at {view} px; overflowing: {culprits}")


@pytest.mark.parametrize("page", PAGES)
def test_page_html_is_small(page):
    size = (SITE / page / "index.html").stat().st_size
    assert size <= MAX_HTML, f"{page}: {size} bytes of HTML"


def _board_ids(driver: webdriver.Chrome) -> list[str]:
    return [
        row.get_attribute("data-chapter") + ":" + row.find_element(By.TAG_NAME, "code").text
        for row in driver.find_elements(By.CSS_SELECTOR, ".dl-board-table tbody tr")
    ]


def _open_board(driver: webdriver.Chrome, url: str) -> list[str]:
    """Open the claims board at `url`; its row ids, once its rows are in the DOM.

    The rows are static HTML, so they are there when `get` returns in principle; one CI run
    (a93478c) found none right after it, which three local runs of this module did not repeat.
    So the test waits for them explicitly, and where they never come it says what the browser
    shows instead.
    """
    driver.get(url)
    rows = ".dl-board-table tbody tr"
    try:
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, rows))
    except TimeoutException:
        state = driver.execute_script("return document.readyState")
        raise AssertionError(
            f"no board rows after 10 s at {driver.current_url!r}: title {driver.title!r}, "
            f"readyState {state!r}, page starts {driver.page_source[:300]!r}"
        ) from None
    return _board_ids(driver)


def test_board_sorts_and_filters(browser, base):
    before = _open_board(browser, base + "claims/")
    assert len(before) > 100
    browser.find_element(By.CSS_SELECTOR, "th button[data-sort='claim']").click()
    by_id = _board_ids(browser)
    assert by_id != before
    assert [i.split(":", 1)[1] for i in by_id] == sorted(i.split(":", 1)[1] for i in before)
    browser.find_element(By.CSS_SELECTOR, "th button[data-sort='claim']").click()
    assert _board_ids(browser) == by_id[::-1]
    select = browser.find_element(By.CSS_SELECTOR, "select[data-filter='chapter']")
    browser.execute_script(
        "arguments[0].value = 'ridge'; arguments[0].dispatchEvent(new Event('input'))", select
    )
    shown = [
        r
        for r in browser.find_elements(By.CSS_SELECTOR, ".dl-board-table tbody tr")
        if r.is_displayed()
    ]
    assert shown and all(r.get_attribute("data-chapter") == "ridge" for r in shown)
    assert len(shown) < len(before)


def test_a_failed_claim_explains_itself(browser):
    failing = os.environ.get("DLCORE_FAILING_SITE")
    assert failing, "DLCORE_FAILING_SITE must name the fixture site (nox -s site builds it)"
    report = json.loads((Path(__file__).parent / "failing-report.json").read_text())
    cid, entry = next((cid, e) for cid, e in report["claims"].items() if e["status"] == "failed")
    failed = next(r for r in entry["results"] if r["outcome"] == "failed")
    server, url = _serve(Path(failing).resolve())
    try:
        chapter = cid.split(".")[0]
        browser.get(f"{url}{chapter}/")
        block = browser.find_element(By.CSS_SELECTOR, ".dl-claim.dl-failed")
        text = block.text
        assert failed["message"].strip().splitlines()[0] in text
        assert failed["reproduce"] in text
        assert block.value_of_css_property("border-left-color") in (
            "rgb(198, 40, 40)",
            "rgba(198, 40, 40, 1)",
        )
        browser.get(url + "claims/")
        first = browser.find_element(By.CSS_SELECTOR, ".dl-board-table tbody tr code").text
        assert first == cid
        assert cid in browser.find_element(By.CSS_SELECTOR, ".admonition.failure").text
    finally:
        server.shutdown()

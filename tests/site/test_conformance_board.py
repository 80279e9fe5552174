"""Conformance boards: the standalone board of `nox -s conformance -- DIR --html OUT` and the
PyTorch page of the site, both rendered by the claims board's code (`docs/hooks/claims.py`).

The standalone board is built here from the fixture claim report `tests/site/failing-report.json`
(one failed claim), as `tools/conformance.py` builds it from a run: in a real browser it sorts,
lists the failed claim first and shows its statement, lecture source, assertion and replay
commands, and typesets every formula with the MathJax copied beside it, offline. Rendering a
conformance board leaves the claims board's state as it was.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from test_browser import ALL_MATH, SITE, TYPESET, _board_ids, _driver, _requests, _serve

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "docs" / "hooks")]

import claims as hooks  # noqa: E402
import conformance  # noqa: E402

from spec.registry import load  # noqa: E402

FIXTURE = Path(__file__).parent / "failing-report.json"


@pytest.fixture(scope="module")
def browser():
    d = _driver()
    yield d
    d.quit()


def _report(tmp_path: Path) -> dict:
    raw = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return conformance.conformance_report(raw, tmp_path, examples=5, rests={})


def test_a_conformance_board_leaves_the_claims_board_alone(tmp_path):
    before = dict(hooks._state)
    text = hooks.conformance_board(_report(tmp_path))
    assert hooks._state == before
    assert 'class="dl-board-table"' in text and "rests on" in text


def test_the_standalone_board_explains_a_failure(browser, tmp_path):
    report = _report(tmp_path)
    cid = next(c for c, e in report["claims"].items() if e["status"] == "failed")
    failed = next(t for t in report["claims"][cid]["tests"] if t["outcome"] == "failed")
    page = conformance.write_html(report, tmp_path / "board")
    server, url = _serve(page.parent)
    try:
        browser.get(url)
        assert browser.find_element(By.CSS_SELECTOR, ".dl-board-table tbody tr code").text == cid
        before = _board_ids(browser)
        browser.find_element(By.CSS_SELECTOR, "th button[data-sort='claim']").click()
        assert _board_ids(browser) != before
        anchor = load()[cid].anchor  # the failed claim's details follow its anchor
        details = browser.find_element(
            By.XPATH, f"//a[@id='{anchor}']/following::div[contains(@class, 'failure')][1]"
        )
        text = details.text
        for needle in (
            report["claims"][cid]["source"],
            failed["message"].strip().splitlines()[0],
            failed["reproduce"],
            failed["reproduce_pytest"],
        ):
            assert needle in text, needle
    finally:
        server.shutdown()


def test_the_standalone_board_typesets_its_formulas_offline(browser, tmp_path):
    page = conformance.write_html(_report(tmp_path), tmp_path / "board")
    formulas = page.read_text(encoding="utf-8").count('class="arithmatex"')
    assert formulas > 0, "the fixture board has no formula to typeset"
    server, url = _serve(page.parent)
    try:
        browser.get_log("browser"), browser.get_log("performance")  # drop the previous page's
        browser.get(url)
        browser.set_script_timeout(60)
        browser.execute_async_script(TYPESET)
        assert browser.execute_async_script(ALL_MATH) == [], "MathJax errors"
        untypeset = browser.execute_script(
            "return Array.from(document.querySelectorAll('.arithmatex'))"
            ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent);"
        )
        assert untypeset == [], f"{len(untypeset)} of {formulas} formulas left as TeX"
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], f"console errors {errors}"
        remote = [u for u in _requests(browser) if not u.startswith(("data:", url.rstrip("/")))]
        assert remote == [], f"requests leave the machine: {remote}"
    finally:
        server.shutdown()


def test_the_pytorch_page_has_its_board_or_says_how_to_make_it(browser):
    server, base = _serve(SITE)
    try:
        browser.get(base + "pytorch/")
        _check_pytorch_page(browser)
    finally:
        server.shutdown()


def _check_pytorch_page(browser):
    assert "claims on PyTorch itself" in browser.find_element(By.TAG_NAME, "h1").text
    rows = browser.find_elements(By.CSS_SELECTOR, ".dl-board-table tbody tr")
    if rows:  # built from a report of the torch adapter: every claim has a row
        assert len(rows) == len(load())
    else:
        text = browser.find_element(By.CSS_SELECTOR, ".admonition.info").text
        assert "nox -s conformance -- adapters/torch --report" in text

"""Every number in a page's prose is computed by the page's code or is a claim.

`checks.prose_numbers` finds the numbers, rates and number words of each prose sentence (code,
and sub- and superscripts in math, are not prose) and accepts them only when the sentence names a
claim, its paragraph leads into a claim marker, or it cites the transcript lines it reports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spec.registry import CHAPTERS, load
from tests.meta import checks

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = [*CHAPTERS, "index", "conventions", "notation", "backends"]
IDS = set(load())


@pytest.mark.parametrize("page", PAGES)
def test_prose_numbers_come_from_claims_or_code(page):
    assert checks.prose_numbers((DOCS / f"{page}.md").read_text(encoding="utf-8"), IDS) == []


def test_meta_finds_an_unbacked_number_and_accepts_backed_ones():
    cid = next(iter(IDS))
    page = (
        "The loss halves every step. It is $2\\eta$ at most. Ten points.\n\n"
        f"Per `{cid}` the rate is $1/t$. Lecture 4, lines 10-12, says 3 steps.\n\n"
        "The norm $\\|w\\|^2$ of $x_1$ is a 0-1 loss on float32 in 2-D.\n\n"
        "```python\nprint(42)\n```\n\n"
        "A caption with 5 steps, then code.\n\n```python\nx = 5\n```\n\n"
        "It leads into 7 claims:\n\n"
        f"<!-- claim: {cid} -->\n"
    )
    problems = checks.prose_numbers(page, IDS)
    assert [p.split(":")[0] for p in problems] == ["1", "1", "1", "11"], problems
    assert "halves" in problems[0] and "'2'" in problems[1] and "Ten" in problems[2]

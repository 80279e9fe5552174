"""Smoke test of the figure modules (docs/figures/<chapter>.py), run by `nox -s site`.

Every function a module lists in `__all__` is called and must return a matplotlib figure whose
visible text is at least `MIN_PT` points and lies inside the figure (no clipped title or label).
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs"))

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

MIN_PT = 9.0
"""The smallest text size on a figure (issue 15: legends were about 7 px)."""

MODULES = sorted(p.stem for p in (ROOT / "docs" / "figures").glob("*.py") if p.stem != "__init__")
FUNCTIONS = [(m, name) for m in MODULES for name in importlib.import_module(f"figures.{m}").__all__]


def test_every_figure_module_is_used_by_a_page():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    unused = [m for m in MODULES if not re.search(rf"from figures import [^\n]*\b{m}\b", pages)]
    assert unused == [], f"figure modules no page calls: {unused}"


def _drawn_texts(fig: Figure) -> list[tuple[Text, object]]:
    """The texts a draw of `fig` actually renders, with their extents on the canvas (tick labels
    outside the view limits exist but are not drawn; 3-D texts are placed at draw time)."""
    drawn: list[tuple[Text, object]] = []
    original = Text.draw

    def record(self: Text, renderer: object) -> None:
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append((self, self.get_window_extent(renderer)))

    Text.draw = record  # type: ignore[method-assign]
    try:
        fig.canvas.draw()
    finally:
        Text.draw = original  # type: ignore[method-assign]
    return drawn


@pytest.mark.parametrize(("module", "name"), FUNCTIONS, ids=[f"{m}.{n}" for m, n in FUNCTIONS])
def test_figure_renders_with_readable_unclipped_text(module, name):
    fn = getattr(importlib.import_module(f"figures.{module}"), name)
    fig = fn()
    try:
        assert isinstance(fig, Figure), f"{module}.{name} returned {type(fig).__name__}"
        box = fig.bbox
        texts = _drawn_texts(fig)
        assert texts, f"{module}.{name} draws no text (no title, label or legend)"
        for text, ext in texts:
            label = f"{module}.{name}: text {text.get_text()!r}"
            assert text.get_fontsize() >= MIN_PT, f"{label} is {text.get_fontsize():.1f} pt"
            inside = (
                ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1
                and ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1
            )  # fmt: skip
            assert inside, f"{label} is clipped: {ext} outside the figure {box}"
    finally:
        plt.close(fig)

"""Figure helpers for the `python exec="on"` blocks of the chapter pages.

The pages compute everything with dlcore; this module only sets a quiet matplotlib style and turns
a figure into inline SVG. The claims hook puts this folder on `sys.path`, so a block can write
`from figures import new_figure, svg`.
"""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # keep text as text: smaller, searchable
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.frameon": False,
    }
)


def new_figure(ncols: int = 1, *, width: float = 7.0, height: float = 3.2):
    """A figure with `ncols` axes side by side (returns `fig, axes`)."""
    return plt.subplots(1, ncols, figsize=(width, height), layout="constrained")


def svg(fig) -> str:
    """The figure as an inline `<svg>` element (no XML prologue), scaled to the page width."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    return f'<div class="dl-figure">{text}</div>'

"""Figure helpers for the `python exec="on"` blocks of the chapter pages.

The pages compute everything with dlcore; this module only sets a quiet matplotlib style and turns
a figure into an SVG file that the page shows as an image. The claims hook puts this folder on
`sys.path`, so a block can write `from figures import new_figure, svg`.

A figure is not inlined: an inline SVG with thousands of markers made one page 3.8 MB of HTML
that froze the tab while it laid out. `svg` keeps the file in `FIGURES`, named by the hash of
its content, and returns an `<img>` whose address the claims hook makes relative to the page
(`on_page_content`) before it writes the files into the site (`on_post_build`). Dense layers
(an axes with more than `DENSE` points) are rasterized inside the SVG.
"""

from __future__ import annotations

import hashlib
import io

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


FIGURES: dict[str, str] = {}
"""The figures rendered in this build: file name (content hash) -> SVG text."""

FIGURE_URL = "dlfig:"
"""The address prefix `svg` writes; the claims hook replaces it with the page's path to figures/."""

DENSE = 2000
"""An axes whose lines and collections hold more points than this together is rasterized
(150 dpi) inside the SVG: thousands of vector markers are what makes a page slow to lay out."""


def _points(artist) -> int:
    if hasattr(artist, "get_xydata"):
        return len(artist.get_xydata())
    return max(len(artist.get_offsets()), len(artist.get_paths()))


def _rasterize_dense(fig) -> None:
    for ax in fig.axes:
        artists = [*ax.lines, *ax.collections]
        if sum(map(_points, artists)) > DENSE:
            for artist in artists:
                artist.set_rasterized(True)


def svg(fig) -> str:
    """Save the figure as an SVG file of the site and return the `<img>` that shows it."""
    _rasterize_dense(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", dpi=150)
    plt.close(fig)
    text = buf.getvalue()
    name = hashlib.sha256(text.encode()).hexdigest()[:16] + ".svg"
    FIGURES[name] = text
    return (
        f'<div class="dl-figure"><img src="{FIGURE_URL}{name}" alt="figure" loading="lazy"></div>'
    )


def new_figure_3d(ncols: int = 1, *, width: float = 7.0, height: float = 3.6, flat: tuple = ()):
    """Like `new_figure`, but the axes are 3-D, except those whose index is in `flat`."""
    fig = plt.figure(figsize=(width, height), layout="constrained")
    axes = [
        fig.add_subplot(1, ncols, i + 1, projection=None if i in flat else "3d")
        for i in range(ncols)
    ]
    for ax in axes:
        if ax.name == "3d":
            ax.set_proj_type("ortho")
            ax.tick_params(labelsize=7, pad=0)
    return fig, axes


def block_row(ax, items, *, x0: float = 0.0, top: float = 0.0, gap: float = 0.35) -> float:
    """Draw a row of top-aligned blocks for a shape diagram; returns the x where the row ends.

    Each item is a string (an operator such as "=", drawn as text) or a tuple
    `(label, rows, cols, color)`: a rows x cols rectangle (one unit per entry) with `label`
    inside and its shape written below.
    """
    from matplotlib.patches import Rectangle

    x = x0
    for item in items:
        if isinstance(item, str):
            ax.text(x + gap, top - 1.0, item, ha="center", va="center", fontsize=13)
            x += 2 * gap
            continue
        label, rows, cols, color = item
        ax.add_patch(
            Rectangle((x, top - rows), cols, rows, facecolor=color, edgecolor="k", alpha=0.35)
        )
        ax.add_patch(Rectangle((x, top - rows), cols, rows, fill=False, edgecolor="k", lw=1))
        ax.text(x + cols / 2, top - rows / 2, label, ha="center", va="center", fontsize=9)
        ax.text(
            x + cols / 2, top - rows - 0.45, f"{rows}×{cols}", ha="center", va="top", fontsize=7
        )
        x += cols + gap
    return x


def outline_block(ax, row0: int, col0: int, rows: int, cols: int, label: str = "", **kw) -> None:
    """Outline the block of an `imshow`-ed matrix starting at (row0, col0), with a label inside."""
    from matplotlib.patches import Rectangle

    style = {"fill": False, "edgecolor": "k", "lw": 1.5, "ls": "--"} | kw
    ax.add_patch(Rectangle((col0 - 0.5, row0 - 0.5), cols, rows, **style))
    if label:
        ax.text(
            col0 - 0.5 + cols / 2,
            row0 - 0.5 + rows / 2,
            label,
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.8, "lw": 0},
        )

"""Figures of the chapter pages: drawing helpers and `show`, which renders, caches and captions.

Each chapter's figures live in `docs/figures/<chapter>.py`, one function per figure that
computes with dlcore and returns a matplotlib figure. A page shows one in a few lines:

```python
from figures import ridge, show
print(show(ridge.projection, "The least-squares fit is the foot of the perpendicular."))
```

`show` renders the figure as an SVG file of the site (dense axes rasterized), wraps it in a
numbered `<figure>` with its caption and a link to its code, and caches the SVG under
`build/figure-cache/` by a hash of the figure's module, of this module and of the dlcore and
`tests.support` sources the module imports (transitively), so a rebuild or `mkdocs serve`
re-renders only the figures whose code changed. The claims hook numbers the figures of a page,
makes the addresses relative to the page and writes the files into the site.

A figure is never inlined: an inline SVG with thousands of markers made one page 3.8 MB of HTML
that froze the tab while it laid out.
"""

from __future__ import annotations

import hashlib
import html
import importlib
import inspect
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # keep text as text: smaller, searchable
        "font.size": 11,  # no text below 9 pt: tests/site/test_figures.py checks every figure
        "axes.titlesize": 11,
        "axes.labelsize": 11,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "legend.fontsize": 10,
        "figure.facecolor": "none",  # transparent: dark mode inverts the image (claims.css)
        "savefig.facecolor": "none",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.frameon": False,
    }
)


def new_figure(ncols: int = 1, *, width: float = 7.0, height: float = 3.2) -> tuple[Any, Any]:
    """A figure with `ncols` axes side by side (returns `fig, axes`)."""
    return plt.subplots(1, ncols, figsize=(width, height), layout="constrained")


FIGURES: dict[str, str] = {}
"""The figures rendered in this build: file name (content hash) -> SVG text."""

FIGURE_URL = "dlfig:"
"""The address prefix `svg` writes; the claims hook replaces it with the page's path to figures/."""

SOURCE_URL = "dlsrc:"
"""The address prefix of a link to rendered source (`source/<path>/#L<line>`); the hook resolves it."""

DENSE = 2000
"""An axes whose lines and collections hold more points than this together is rasterized
(150 dpi) inside the SVG: thousands of vector markers are what makes a page slow to lay out."""

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "figure-cache"


def _points(artist: Any) -> int:
    if hasattr(artist, "get_xydata"):
        return len(artist.get_xydata())
    return max(len(artist.get_offsets()), len(artist.get_paths()))


def _rasterize_dense(fig: Any) -> None:
    for ax in fig.axes:
        artists = [*ax.lines, *ax.collections]
        if sum(map(_points, artists)) > DENSE:
            for artist in artists:
                artist.set_rasterized(True)


def render(fig: Any) -> str:
    """The figure as SVG text (dense axes rasterized); closes the figure."""
    _rasterize_dense(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", dpi=150)
    plt.close(fig)
    return buf.getvalue()


def _keep(text: str) -> str:
    name = hashlib.sha256(text.encode()).hexdigest()[:16] + ".svg"
    FIGURES[name] = text
    return name


def svg(fig: Any) -> str:
    """Save the figure as an SVG file of the site and return the `<img>` that shows it (no
    caption, no number: prefer `show`)."""
    name = _keep(render(fig))
    return (
        f'<div class="dl-figure"><img src="{FIGURE_URL}{name}" alt="figure" loading="lazy"></div>'
    )


_IMPORT = re.compile(
    r"^\s*(?:from\s+(dlcore|tests\.support)(?:\.(\w+))?\s+import\s+([\w, ()\n]+)|import\s+(dlcore|tests\.support)\.(\w+))",
    re.MULTILINE,
)


def _imported_sources(path: Path, seen: set[Path] | None = None) -> set[Path]:
    """The dlcore and tests.support source files that `path` imports, transitively (package
    `__init__` files are not followed: they only re-export)."""
    seen = set() if seen is None else seen
    text = path.read_text(encoding="utf-8")
    found: set[Path] = set()
    for m in _IMPORT.finditer(text):
        package = (m[1] or m[4]).replace(".", "/")
        names = [m[2] or m[5]] if (m[2] or m[5]) else re.findall(r"\w+", m[3] or "")
        for name in names:
            candidate = ROOT / package / f"{name}.py"
            if candidate.is_file():
                found.add(candidate)
    relative = re.findall(r"^\s*from\s+\.(\w+)\s+import", text, re.MULTILINE)
    found.update(path.parent / f"{name}.py" for name in relative)
    for dep in sorted(found - seen):
        if dep.is_file():
            seen.add(dep)
            _imported_sources(dep, seen)
    return seen


def cache_key(fn: Callable[..., Any], kwargs: dict[str, Any]) -> str:
    """A hash of the figure's module, this module, the sources they import and `kwargs`."""
    module = Path(inspect.getfile(fn))
    files = sorted({module, Path(__file__)} | _imported_sources(module))
    h = hashlib.sha256(
        f"{fn.__qualname__}{sorted(kwargs.items())!r}{matplotlib.__version__}".encode()
    )
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:20]


def show(fn: Callable[..., Any], caption: str, **kwargs: Any) -> str:
    """Render `fn(**kwargs)` (a function returning a matplotlib figure), or take it from the
    cache, and return a numbered, captioned `<figure>` with a link to the function's code.

    Args:
        fn: A figure function of a `docs/figures/<chapter>.py` module.
        caption: One or two sentences; Markdown is not rendered, `$...$` math is.
        **kwargs: Passed to `fn` (and part of the cache key).
    """
    key = cache_key(fn, kwargs)
    cached = CACHE / f"{key}.svg"
    if cached.is_file():
        text = cached.read_text(encoding="utf-8")
    else:
        text = render(fn(**kwargs))
        CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_text(text, encoding="utf-8")
    name = _keep(text)
    alt = html.escape(re.sub(r"\$([^$]+)\$", r"\1", caption))
    caption = re.sub(
        r"\$([^$]+)\$",
        lambda m: f'<span class="arithmatex">\\({html.escape(m[1], quote=False)}\\)</span>',
        caption,
    )
    module = Path(inspect.getfile(fn)).relative_to(ROOT).as_posix()
    line = inspect.getsourcelines(fn)[1]
    return (
        f'<figure class="dl-figure"><img src="{FIGURE_URL}{name}" alt="{alt}" '
        f'loading="lazy"><figcaption><span class="dl-fignum"></span> {caption} '
        f'<a class="dl-figsrc" href="{SOURCE_URL}{module}#L{line}">code</a></figcaption></figure>'
    )


def new_figure_3d(
    ncols: int = 1, *, width: float = 7.0, height: float = 3.6, flat: tuple[int, ...] = ()
) -> tuple[Any, list[Any]]:
    """Like `new_figure`, but the axes are 3-D, except those whose index is in `flat`."""
    fig = plt.figure(figsize=(width, height), layout="constrained")
    axes = [
        fig.add_subplot(1, ncols, i + 1, projection=None if i in flat else "3d")
        for i in range(ncols)
    ]
    for ax in axes:
        if ax.name == "3d":
            ax.set_proj_type("ortho")  # type: ignore[attr-defined]  # an Axes3D
            ax.tick_params(labelsize=9, pad=0)
    return fig, axes


def block_row(
    ax: Any, items: list[Any], *, x0: float = 0.0, top: float = 0.0, gap: float = 0.35
) -> float:
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
            x + cols / 2, top - rows - 0.45, f"{rows}×{cols}", ha="center", va="top", fontsize=9
        )
        x += cols + gap
    return x


def outline_block(
    ax: Any, row0: int, col0: int, rows: int, cols: int, label: str = "", **kw: Any
) -> None:
    """Outline the block of an `imshow`-ed matrix starting at (row0, col0), with a label inside."""
    from matplotlib.patches import Rectangle

    style: dict[str, Any] = {"fill": False, "edgecolor": "k", "lw": 1.5, "ls": "--"} | kw
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


def new_mosaic(
    layout: str, *, width: float = 7.0, height: float = 5.6, **kw: Any
) -> tuple[Any, dict[str, Any]]:
    """A figure whose axes are laid out by `layout`, matplotlib's `subplot_mosaic` string (rows
    split by ";", a letter repeated to span): returns `fig, axes`, a dict by letter. For panels
    too many for one row of a 7.5-inch figure."""
    return plt.subplot_mosaic(layout, figsize=(width, height), layout="constrained", **kw)


NOTES: dict[str, str] = {}
"""The notes that figure functions leave for the text below their figure, by function."""


def _note_key(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def leave_note(fn: Callable[..., Any], text: str) -> None:
    """Called by the figure function `fn` itself: `text` (HTML, the settings and computed numbers
    it prints below the figure) is what `note(fn)` returns."""
    NOTES[_note_key(fn)] = text


def note(fn: Callable[..., Any]) -> str:
    """The text shown with a figure, cached like the figure (same key, `.html` beside its SVG):
    what the figure function `fn` left with `leave_note`, or what the text function `fn` (a
    table, a computed sentence) returns. Runs `fn` only when the cache misses and `show` has not
    just run it."""
    cached = CACHE / f"{cache_key(fn, {})}.html"
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    text = NOTES.get(_note_key(fn))
    if text is None:
        out = fn()
        if isinstance(out, str):
            text = out
        else:
            plt.close(out)
            text = NOTES[_note_key(fn)]
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(text, encoding="utf-8")
    return text


UNCACHED = ("tables",)
"""Modules whose text reads files outside the cache key (recorded reports): never cached."""


def prerender(module: str) -> int:
    """Render into the cache every figure and text of `figures.<module>` that it lacks: each
    public function without required arguments whose result is a figure (and the note it leaves)
    or a string. The claims hook runs one module per worker process before the pages are built,
    so a cold build computes the figures on every core; returns how many it rendered."""
    mod = importlib.import_module(f"figures.{module}")
    rendered = 0
    for name, fn in vars(mod).items():
        if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
            continue
        if any(p.default is p.empty for p in inspect.signature(fn).parameters.values()):
            continue
        key = cache_key(fn, {})
        if (CACHE / f"{key}.svg").is_file() or (CACHE / f"{key}.html").is_file():
            continue
        out = fn()
        CACHE.mkdir(parents=True, exist_ok=True)
        if isinstance(out, str):
            (CACHE / f"{key}.html").write_text(out, encoding="utf-8")
        elif hasattr(out, "savefig"):
            (CACHE / f"{key}.svg").write_text(render(out), encoding="utf-8")
            if _note_key(fn) in NOTES:
                (CACHE / f"{key}.html").write_text(NOTES[_note_key(fn)], encoding="utf-8")
        else:
            continue
        rendered += 1
    return rendered

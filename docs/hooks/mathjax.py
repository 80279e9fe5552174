"""Install MathJax 3 for the offline site: `python docs/hooks/mathjax.py`.

MathJax is third-party code, so it is never committed. This script installs it from the npm
registry into the ignored folder `build/mathjax/` (once) and copies its `es5/` bundle into the
ignored folder `docs/assets/mathjax/`, from where MkDocs copies it into the site. Where npm is
missing or fails, it prints a warning and writes a tiny loader that fetches MathJax from a CDN
instead, so the build still works (but the site then needs a network connection for math).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NPM_PREFIX = ROOT / "build" / "mathjax"
PACKAGE = NPM_PREFIX / "node_modules" / "mathjax"
TARGET = ROOT / "docs" / "assets" / "mathjax"
ENTRY = "tex-mml-chtml.js"
CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"

FALLBACK = f"""// dlcore: MathJax was not installed from npm (see docs/hooks/mathjax.py); load it from a CDN.
(function () {{
  var s = document.createElement("script");
  s.src = "{CDN}";
  s.async = true;
  document.head.appendChild(s);
}})();
"""


def warn(message: str) -> None:
    print(f"WARNING (docs/hooks/mathjax.py): {message}", file=sys.stderr)


def install() -> bool:
    """Install `mathjax@3` into `build/mathjax` unless it is there already; True on success."""
    if (PACKAGE / "es5" / ENTRY).is_file():
        return True
    npm = shutil.which("npm")
    if npm is None:
        warn("npm was not found; the site will load MathJax from a CDN (math needs a network).")
        return False
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(NPM_PREFIX), "mathjax@3", "--no-audit", "--no-fund"]
    print("installing MathJax:", " ".join(cmd))
    try:
        subprocess.run(cmd, check=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        warn(f"`npm install mathjax@3` failed ({exc}); the site will load MathJax from a CDN.")
        return False
    return (PACKAGE / "es5" / ENTRY).is_file()


def main() -> int:
    if TARGET.exists():
        shutil.rmtree(TARGET)
    if install():
        shutil.copytree(PACKAGE / "es5", TARGET)
        print(f"MathJax copied to {TARGET.relative_to(ROOT)}")
    else:
        TARGET.mkdir(parents=True)
        (TARGET / ENTRY).write_text(FALLBACK, encoding="utf-8")
        warn(f"wrote the CDN fallback loader {TARGET.relative_to(ROOT) / ENTRY}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

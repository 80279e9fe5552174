"""The site tests drive a real browser over a built site; `nox -s site` runs them.

They are collected only when `DLCORE_SITE` names a built site (a folder with index.html), so
`nox -s tests` (no browser, no site) does not see them.
"""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("DLCORE_SITE") else ["test_*.py"]

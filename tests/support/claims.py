"""`@claim("<id>")`: tie a test to its spec claim.

An unknown id fails at import. `breaks="..."` marks the test as the breaking case: it asserts
that the conclusion fails once the named assumption is dropped. Tests of statistical claims get
the `statistical` marker automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from spec.registry import load

__all__ = ["claim"]

F = TypeVar("F", bound=Callable[..., Any])


def claim(claim_id: str, *, breaks: str | None = None) -> Callable[[F], F]:
    """Mark a test as checking `claim_id` (or, with `breaks`, its breaking case)."""
    claims = load()
    if claim_id not in claims:
        raise LookupError(f"@claim({claim_id!r}): no such claim in spec/*.toml")
    if breaks is not None and not breaks.strip():
        raise ValueError(f"@claim({claim_id!r}, breaks=...) must name the dropped assumption")

    def decorate(fn: F) -> F:
        fn = pytest.mark.claim(claim_id, breaks=breaks)(fn)
        if claims[claim_id].kind == "statistical":
            fn = pytest.mark.statistical(fn)
        return fn

    return decorate

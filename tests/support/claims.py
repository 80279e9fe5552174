"""`@claim("<id>")`: tie a test to its spec claim; `with clause("a"):` to one clause of it.

An unknown id fails at import. `breaks="..."` marks the test as the breaking case: it asserts
that the conclusion fails once the named assumption is dropped. Tests of statistical claims get
the `statistical` marker automatically.

A statement marks each of its mathematical assertions as a clause, `⟨a⟩`, `⟨b⟩`, ... (see
`spec.registry.Claim.clauses`). A test says which clause an assertion checks by running it inside
`with clause("a"):`; the meta-test `tests/meta/test_clauses.py` reads these blocks (by parsing) and
fails on a clause that no test asserts. At run time a failing assertion is annotated with the
clause's label and text, and the clauses a test ran are written to the claim report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

from spec.registry import load

__all__ = ["claim", "clause"]

_current: dict[str, Any] = {"claim": None, "ran": set()}

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


def begin_test(claim_id: str | None) -> None:
    """Called by the report plugin before a claim test runs: the claim its clauses belong to."""
    _current["claim"], _current["ran"] = claim_id, set()


def clauses_ran() -> list[str]:
    """The clause labels whose blocks the current test entered and left without failing."""
    return sorted(_current["ran"])


@contextmanager
def clause(*labels: str) -> Iterator[None]:
    """Mark the assertions in the block as checking clauses `labels` of the test's claim.

    Raises:
        LookupError: If the claim has no such clause (checked statically too).
    """
    cid = _current["claim"]
    found = load()[cid].clauses if cid in load() else None
    if found is not None and set(labels) - set(found):
        raise LookupError(f"clause{labels}: {cid} has clauses {list(found)}")
    try:
        yield
    except AssertionError as exc:
        for label in labels:
            text = (found or {}).get(label, "")
            text = text if len(text) <= 300 else text[:297] + "..."
            exc.add_note(f"while checking clause ⟨{label}⟩ of {cid}: {text}")
        raise
    _current["ran"].update(labels)

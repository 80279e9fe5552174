r"""Minibatch samplers: which rows of the data a step of SGD sees.

A batch is a list of row indices (a multiset: with replacement it may repeat an index). Three
schemes draw batches of size $b$ from $n$ rows, all with an explicit `rng`:

- `"with"`: $b$ i.i.d. uniform indices (with replacement), fresh each step;
- `"without"`: a uniform $b$-subset (without replacement), fresh each step;
- `"epoch"`: shuffle $\{0, \dots, n-1\}$ once per epoch and read consecutive blocks of $b$.

Under each, every index is in the batch equally often on average, so the $\tfrac nb$-scaled
minibatch gradient of [`minibatch_grad`][dlcore.losses.minibatch_grad] is unbiased.
[`enumerate_batches`][dlcore.data.enumerate_batches] lists every batch with its probability, so
that expectations over the sampler can be computed exactly, as finite sums.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from dlcore.backend import check_generator, check_int

__all__ = ["SCHEMES", "sample_batch", "epoch_batches", "batch_schedule", "enumerate_batches"]

SCHEMES = ("with", "without", "epoch")
"""Sampling schemes: with replacement, without replacement, shuffled epochs."""


def _check_nb(n: Any, b: Any, *, replace: bool) -> tuple[int, int]:
    n = check_int("n", n, minimum=1)
    b = check_int("batch_size", b, minimum=1)
    if not replace and b > n:
        raise ValueError(f"batch_size must be <= n={n} without replacement, got {b}")
    return n, b


def _check_scheme(scheme: Any) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    return str(scheme)


def sample_batch(n: int, batch_size: int, *, replace: bool, rng: np.random.Generator) -> list[int]:
    r"""One batch of `batch_size` indices from $\{0, \dots, n-1\}$, uniform.

    Args:
        n: Number of rows $n \ge 1$.
        batch_size: $b \ge 1$ (and $b \le n$ without replacement).
        replace: With replacement ($b$ i.i.d. indices) or without (a uniform $b$-subset).
        rng: The random source.

    Raises:
        ValueError: If $b = 0$, or $b > n$ without replacement.
    """
    if not isinstance(replace, bool):
        raise TypeError(f"replace must be a bool, got {type(replace).__name__}: {replace!r}")
    n, b = _check_nb(n, batch_size, replace=replace)
    rng = check_generator("rng", rng)
    return [int(i) for i in rng.choice(n, size=b, replace=replace)]


def epoch_batches(
    n: int, batch_size: int, *, rng: np.random.Generator, drop_last: bool = False
) -> list[list[int]]:
    r"""One epoch: a uniform permutation of $\{0, \dots, n-1\}$ cut into consecutive blocks of $b$.

    There are $\lceil n/b \rceil$ batches (the last one partial unless $b \mid n$), or
    $\lfloor n/b \rfloor$ with `drop_last`. The batches are disjoint; without `drop_last` their union
    is $\{0, \dots, n-1\}$.

    Raises:
        ValueError: If $b = 0$ or $b > n$.
    """
    n, b = _check_nb(n, batch_size, replace=False)
    rng = check_generator("rng", rng)
    if not isinstance(drop_last, bool):
        raise TypeError(f"drop_last must be a bool, got {type(drop_last).__name__}: {drop_last!r}")
    perm = [int(i) for i in rng.permutation(n)]
    stop = n - n % b if drop_last else n
    return [perm[k : k + b] for k in range(0, stop, b)]


def batch_schedule(
    n: int,
    batch_size: int,
    steps: int,
    *,
    scheme: str,
    rng: np.random.Generator,
    reshuffle: bool = True,
) -> list[list[int]]:
    r"""The batches of `steps` SGD steps, drawn up front so that a run replays exactly.

    Args:
        n: Number of rows.
        batch_size: $b$.
        steps: Number of batches $T \ge 0$.
        scheme: One of [`SCHEMES`][dlcore.data.SCHEMES]. `"epoch"` uses only full blocks
            (it needs $b \mid n$ so that every step has the same batch size).
        rng: The random source.
        reshuffle: For `"epoch"`: a fresh permutation every epoch (default) or one reused order.

    Raises:
        ValueError: On a bad size, or `"epoch"` with $b \nmid n$.
    """
    scheme = _check_scheme(scheme)
    n, b = _check_nb(n, batch_size, replace=scheme == "with")
    steps = check_int("steps", steps, minimum=0)
    rng = check_generator("rng", rng)
    if scheme != "epoch":
        return [sample_batch(n, b, replace=scheme == "with", rng=rng) for _ in range(steps)]
    if n % b:
        raise ValueError(f"scheme 'epoch' needs batch_size to divide n={n}, got {b}")
    out: list[list[int]] = []
    epoch = epoch_batches(n, b, rng=rng)
    while len(out) < steps:
        out.extend(epoch)
        if reshuffle:
            epoch = epoch_batches(n, b, rng=rng)
    return out[:steps]


def enumerate_batches(n: int, batch_size: int, *, scheme: str) -> list[tuple[list[int], float]]:
    r"""Every batch the sampler can return, with its probability (they sum to 1).

    - `"with"`: all $n^b$ ordered tuples, each with probability $n^{-b}$;
    - `"without"`: all $\binom nb$ subsets, each with probability $1/\binom nb$;
    - `"epoch"`: the first block of each of the $n!$ permutations, each with probability $1/n!$
      (every block of a uniform permutation has this law).

    Meant for small $n$: an expectation $\mathbb{E}\,f(B) = \sum_B P(B) f(B)$ is then exact.
    """
    scheme = _check_scheme(scheme)
    n, b = _check_nb(n, batch_size, replace=scheme == "with")
    if scheme == "with":
        return [(list(t), n**-b) for t in itertools.product(range(n), repeat=b)]
    if scheme == "without":
        return [(list(c), 1 / math.comb(n, b)) for c in itertools.combinations(range(n), b)]
    return [(list(p[:b]), 1 / math.factorial(n)) for p in itertools.permutations(range(n))]

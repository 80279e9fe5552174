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

[`separable_dataset`][dlcore.data.separable_dataset] builds linearly separable classification
data whose hard-margin direction and margin are known by construction, and
[`standardize`][dlcore.data.standardize] gives every input column mean 0 and variance 1.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

from dlcore.backend import (
    Arr,
    Array,
    Choice,
    Int,
    Real,
    _in_range,
    check_bool,
    check_generator,
    contract,
    namespace,
)

__all__ = [
    "SCHEMES",
    "sample_batch",
    "epoch_batches",
    "batch_schedule",
    "enumerate_batches",
    "MAX_ENUMERATION",
    "SeparableData",
    "separable_dataset",
    "standardize",
]

SCHEMES = ("with", "without", "epoch")
"""Sampling schemes: with replacement, without replacement, shuffled epochs."""


_NB = {"n": Int(1, size=True), "batch_size": Int(1, size=True), "rng": check_generator}


def _fits(n: int, b: int, scheme: str) -> None:
    """Refuse $b > n$ for the schemes that draw without replacement (all but `"with"`)."""
    if scheme != "with" and b > n:
        raise ValueError(f"batch_size must be <= n={n} without replacement, got {b}")


@contract(_NB, replace=check_bool)
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
    _fits(n, batch_size, "with" if replace else "without")
    return [int(i) for i in rng.choice(n, size=batch_size, replace=replace)]


@contract(_NB, drop_last=check_bool)
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
    b = batch_size
    _fits(n, b, "epoch")
    perm = [int(i) for i in rng.permutation(n)]
    stop = n - n % b if drop_last else n
    return [perm[k : k + b] for k in range(0, stop, b)]


@contract(_NB, steps=Int(0, size=True), scheme=Choice(*SCHEMES), reshuffle=check_bool)
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
    b = batch_size
    _fits(n, b, scheme)
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


MAX_ENUMERATION = 1_000_000
"""The most batches [`enumerate_batches`][dlcore.data.enumerate_batches] lists."""


@contract(n=Int(1), batch_size=Int(1), scheme=Choice(*SCHEMES))
def enumerate_batches(n: int, batch_size: int, *, scheme: str) -> list[tuple[list[int], float]]:
    r"""Every batch the sampler can return, with its probability (they sum to 1).

    - `"with"`: all $n^b$ ordered tuples, each with probability $n^{-b}$;
    - `"without"`: all $\binom nb$ subsets, each with probability $1/\binom nb$;
    - `"epoch"`: the first block of a uniform permutation (every block has the same law): all
      $n!/(n-b)!$ ordered $b$-tuples of distinct indices, each with probability $(n-b)!/n!$.

    One entry per distinct batch. Meant for small $n$: an expectation
    $\mathbb{E}\,f(B) = \sum_B P(B) f(B)$ is then exact.

    Raises:
        ValueError: If the scheme is unknown, the sizes are out of range, or there would be
            more than `MAX_ENUMERATION` batches (checked before any work).
    """
    b = batch_size
    _fits(n, b, scheme)
    count = {"with": n**b, "without": math.comb(n, b), "epoch": math.perm(n, b)}[scheme]
    if count > MAX_ENUMERATION:
        raise ValueError(
            f"enumerate_batches(n={n}, batch_size={b}, scheme={scheme!r}) would list {count} "
            f"batches, more than MAX_ENUMERATION={MAX_ENUMERATION}"
        )
    if scheme == "with":
        return [(list(t), n**-b) for t in itertools.product(range(n), repeat=b)]
    if scheme == "without":
        return [(list(c), 1 / count) for c in itertools.combinations(range(n), b)]
    return [(list(t), 1 / count) for t in itertools.permutations(range(n), b)]


class SeparableData(NamedTuple):
    r"""Separable data from [`separable_dataset`][dlcore.data.separable_dataset].

    Attributes:
        X: Inputs, shape `(n, d)`, every row with $\|x_i\| \le 1$.
        y: Labels in $\{-1, +1\}$, shape `(n,)`.
        direction: The unit hard-margin direction $w^\star$ (the SVM direction), shape `(d,)`.
        margin: The hard margin $\gamma = \min_i y_i x_i^\top w^\star
            = \max_{\|w\| = 1} \min_i y_i x_i^\top w$.
        support: Indices of the two support points $(a, b)$ with
            $y_a x_a + y_b x_b = 2\gamma w^\star$.
    """

    X: np.ndarray
    y: np.ndarray
    direction: np.ndarray
    margin: float
    support: tuple[int, int]


@contract(
    n=Int(2, size=True),
    d=Int(1, size=True),
    margin=Real(0.0, 1.0, low_open=True, high_open=True),
    rng=check_generator,
    spread=Real(0.0, 1.0),
)
def separable_dataset(
    n: int, d: int, margin: float, *, rng: np.random.Generator, spread: float = 1.0
) -> SeparableData:
    r"""Linearly separable data in the unit ball with hard margin exactly `margin`.

    A unit direction $w^\star$ is drawn uniformly. With $u_i = y_i x_i$ (the signed points), the
    first two are a mirror pair $u_0 = \gamma w^\star + z$, $u_1 = \gamma w^\star - z$ with
    $z \perp w^\star$, $\|z\| = r\sqrt{1 - \gamma^2}$, $r$ uniform in $[\tfrac12, 1]$ (so $z \ne 0$ when
    $d \ge 2$); labels $y_0 = +1$, $y_1 = -1$. Every other point has
    $u_i = \gamma_i w^\star + z_i$ with $\gamma_i$ uniform in $[\gamma, \gamma + \text{spread}\,(1 - \gamma)]$,
    $z_i \perp w^\star$ of norm at most $\sqrt{1 - \gamma_i^2}$, and a uniform random label. Then
    $\|x_i\| \le 1$ and $y_i x_i^\top w^\star = \gamma_i \ge \gamma$ for all $i$, and
    $w^\star/\gamma = \tfrac{1}{2\gamma^2}(u_0 + u_1)$ is a nonnegative combination of the points with
    margin exactly $\gamma$: the KKT conditions of the hard-margin SVM
    $\min \|w\|^2$ s.t. $y_i x_i^\top w \ge 1$ hold at $w^\star/\gamma$, so $w^\star$ is the max-margin
    direction and $\gamma$ the largest margin any unit vector achieves. No sample is rejected.

    Args:
        n: Number of points, $n \ge 2$.
        d: Dimension, $d \ge 1$ ($d = 1$ gives $z = 0$).
        margin: The hard margin $\gamma \in (0, 1)$.
        rng: The random source.
        spread: How far above $\gamma$ the other margins may lie, as a fraction of $1 - \gamma$,
            in $[0, 1]$ (0 puts every point on the margin).

    Returns:
        A [`SeparableData`][dlcore.data.SeparableData] with NumPy float64 arrays.
    """
    gamma = margin
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    proj = np.eye(d) - np.outer(w, w)

    def orthogonal_part(radius: float) -> np.ndarray:
        z = proj @ rng.standard_normal(d)
        nz = float(np.linalg.norm(z))
        return z * (radius / nz) if nz > 0 else np.zeros(d)

    z = orthogonal_part(math.sqrt(1 - gamma**2) * rng.uniform(0.5, 1.0))
    signed = [gamma * w + z, gamma * w - z]
    for _ in range(n - 2):
        g = min(1.0, gamma + spread * (1 - gamma) * rng.uniform())
        signed.append(g * w + orthogonal_part(math.sqrt(1 - g**2) * rng.uniform()))
    y = rng.choice(np.array([-1.0, 1.0]), size=n)
    y[0], y[1] = 1.0, -1.0
    X = y[:, None] * np.array(signed)
    return SeparableData(X, y, w, gamma, (0, 1))


@contract(X=Arr("n d"))
def standardize(X: Array) -> Array:
    r"""Standardize the columns of a data matrix: mean 0 and (population) variance 1 each.

    $$\tilde x_{ak} = \frac{x_{ak} - \mu_k}{\sigma_k}, \qquad
    \mu_k = \frac1n \sum_a x_{ak}, \qquad \sigma_k^2 = \frac1n \sum_a (x_{ak} - \mu_k)^2 ,$$
    so that $\tfrac1n \sum_a \tilde x_{ak} = 0$, $\tfrac1n \sum_a \tilde x_{ak}^2 = 1$ and
    $\tfrac1n \|\tilde X\|_F^2 = d$: the input half of the initialisation goal (unit-scale signals).

    Args:
        X: Data, shape `(n, d)`, rows are examples, real floating and finite.

    Returns:
        $\tilde X$, same shape, namespace, dtype and device.

    Raises:
        ValueError: If a column is constant ($\sigma_k = 0$): it cannot be standardized.
    """
    xp = namespace(X)
    X = _in_range(xp, X)  # scale invariant: an exact power-of-two rescaling
    centred = X - xp.mean(X, axis=0)  # keeps the squares below from under- or overflowing
    sd = xp.sqrt(xp.mean(centred * centred, axis=0))
    if not bool(xp.all(sd > 0)):
        raise ValueError("X has a constant column (standard deviation 0); cannot standardize it")
    return centred / sd

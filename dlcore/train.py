r"""Running an optimizer: the training loop.

`grad_fn(params, t)` returns the gradient fed at step $t$ (the full gradient for GD, a minibatch
gradient for SGD), so one loop serves both. [`run`][dlcore.train.run] returns the last iterate
(and optionally the trajectory); [`train`][dlcore.train.train] also keeps a per-step record
(loss, gradient norm), checkpoints for early stopping
([`best_checkpoint`][dlcore.train.best_checkpoint]) and prints a deterministic progress line
([`progress_line`][dlcore.train.progress_line]) for long runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from dlcore.backend import Int, Real, _scalar, check_bool, check_callable, contract, namespace
from dlcore.optim import GradientTransformation, Params, _check_opt, step

__all__ = ["run", "Record", "History", "train", "best_checkpoint", "progress_line"]


_LOOP = {"opt": _check_opt, "grad_fn": check_callable, "steps": Int(0, size=True)}
r"""What every loop takes: an optimizer, a gradient oracle and a number of steps $T \ge 0$."""


@contract(_LOOP, record_every=Int(0), donate=check_bool)
def run(
    opt: GradientTransformation,
    grad_fn: Callable[[Params, int], Params],
    params: Params,
    steps: int,
    *,
    record_every: int = 0,
    donate: bool = False,
) -> tuple[Params, list[Params]]:
    r"""Run `steps` optimizer steps $w_{t+1} = w_t + u_t$ from `params`.

    Each step is [`dlcore.optim.step`][dlcore.optim.step] (fused where the optimizer has a
    fused step).

    Args:
        opt: An optimizer from [`dlcore.optim`][dlcore.optim].
        grad_fn: `grad_fn(params, t)` gives the gradient dict at step `t` (0-based).
        params: Initial parameters $w_0$.
        steps: Number of steps $T \ge 0$.
        record_every: If $k > 0$, record $w_0, w_k, w_{2k}, \dots$ (and $w_T$).
        donate: Let each step write into the memory of the iterate and state before it (see
            [`step`][dlcore.optim.step]), as `torch.optim` does. Only iterates this loop made
            and did not record are donated, never `params` or a trajectory entry; `grad_fn`
            must then not keep references to the parameters it is given.

    Returns:
        `(w_T, trajectory)`; the trajectory is empty when `record_every == 0`.

    Raises:
        TypeError: If `params` is not a dict of real floating arrays of one library.
        ValueError: If `params` has a non-finite entry.
    """
    state = opt.init(params)
    trajectory: list[Params] = [params] if record_every else []
    owned = False  # does the loop alone hold `params` (made by a step, not recorded)?
    for t in range(steps):
        params, state = step(opt, grad_fn(params, t), state, params, donate=donate and owned)
        recorded = bool(record_every) and ((t + 1) % record_every == 0 or t + 1 == steps)
        if recorded:
            trajectory.append(params)
        owned = not recorded
    return params, trajectory


class Record(NamedTuple):
    """What [`train`][dlcore.train.train] records at step `t`: the loss of $w_t$ and $\\|g_t\\|$."""

    t: int
    loss: float
    grad_norm: float


class History(NamedTuple):
    """The result of [`train`][dlcore.train.train].

    Attributes:
        params: The last iterate $w_T$.
        records: One [`Record`][dlcore.train.Record] per step $t = 0, \\dots, T-1$.
        checkpoints: `(t, w_t)` for $t = 0, k, 2k, \\dots$ and $t = T$ (empty when $k = 0$).
    """

    params: Params
    records: list[Record]
    checkpoints: list[tuple[int, Params]]


def _norm(tree: Params) -> float:
    """The Euclidean norm over every array of `tree`, scaled by its largest entry so that the
    squares neither overflow (gradients of 1e200) nor underflow (of 1e-200)."""
    big = max(_scalar(namespace(g).max(namespace(g).abs(g))) for g in tree.values())
    if big == 0.0 or not math.isfinite(big):
        return big
    return big * math.sqrt(sum(_scalar(namespace(g).sum((g / big) ** 2)) for g in tree.values()))


_LOSS = Real()  # any finite real; NaN (not computed) is let through before it


@contract(step=Int(0), steps=Int(0), grad_norm=Real(0))
def progress_line(step: int, steps: int, loss: float, grad_norm: float) -> str:
    r"""One fixed-width progress line, `step   t/T  loss ...  |g| ...`, the same on every run.

    It shows no wall-clock time, so two runs with the same seed print the same text.

    Raises:
        TypeError: If `loss` is not a real number.
        ValueError: If `loss` is infinite (NaN means not computed).
    """
    if not (isinstance(loss, (float, np.floating)) and math.isnan(loss)):  # NaN: not computed
        _LOSS("loss", loss)
    width = len(str(steps))
    return f"step {step:>{width}}/{steps}  loss {float(loss):.6e}  |g| {float(grad_norm):.6e}"


@contract(
    _LOOP,
    loss_fn=check_callable,
    checkpoint_every=Int(0),
    progress_every=Int(0),
    log=check_callable,
)
def train(
    opt: GradientTransformation,
    grad_fn: Callable[[Params, int], Params],
    params: Params,
    steps: int,
    *,
    loss_fn: Callable[[Params], Any] | None = None,
    checkpoint_every: int = 0,
    progress_every: int = 0,
    log: Callable[[str], Any] = print,
) -> History:
    r"""Run `steps` optimizer steps like [`run`][dlcore.train.run], keeping a record of each.

    At step $t$ it records $\ell(w_t)$ (`loss_fn(params)`, NaN without a `loss_fn`) and
    $\|g_t\|$, the Euclidean norm of the gradient fed at that step over all parameters; every
    `checkpoint_every` steps it keeps $w_t$; every `progress_every` steps it calls
    `log(progress_line(...))`. The iterates are those of `run` exactly.

    Args:
        opt: An optimizer from [`dlcore.optim`][dlcore.optim].
        grad_fn: `grad_fn(params, t)` gives the gradient dict at step `t`.
        params: Initial parameters $w_0$.
        steps: Number of steps $T \ge 0$.
        loss_fn: `loss_fn(params)` gives the training loss to record (a 0-d array or float).
        checkpoint_every: If $k > 0$, keep $w_0, w_k, w_{2k}, \dots$ and $w_T$.
        progress_every: If $p > 0$, log a progress line at steps $0, p, 2p, \dots$.
        log: Where progress lines go (default `print`).

    Returns:
        A [`History`][dlcore.train.History].

    Raises:
        TypeError: If `params` is not a dict of real floating arrays of one library, or
            `loss_fn` returns no real number.
        ValueError: If `params` has a non-finite entry.
    """
    records: list[Record] = []

    def recorded(params: Params, t: int) -> Params:
        """The gradient at step `t`, recording (and logging) the step first."""
        grads = grad_fn(params, t)
        loss = _returned("loss_fn", loss_fn(params)) if loss_fn is not None else math.nan
        records.append(Record(t, loss, _norm(grads)))
        if progress_every and t % progress_every == 0:
            log(progress_line(t, steps, loss, records[-1].grad_norm))
        return grads

    every = checkpoint_every
    params, kept = run(opt, recorded, params, steps, record_every=every)
    times = [*range(0, steps, every), steps] if every else []  # those of the iterates run keeps
    return History(params, records, list(zip(times, kept, strict=True)))


def _returned(name: str, value: Any) -> float:
    """What the callback `name` returned, as a float (NaN included), or a `TypeError` naming it."""
    if not isinstance(value, (str, bytes)):
        try:
            return float(value)  # a float, an int, or a 0-d array or tensor
        except (TypeError, ValueError, OverflowError):
            pass
    raise TypeError(
        f"{name} must return a real number in the float range (or a 0-d array), got "
        f"{type(value).__name__}: {value!r:.80}"
    )


@contract(score=check_callable)
def best_checkpoint(
    checkpoints: list[tuple[int, Params]], score: Callable[[Params], Any]
) -> tuple[int, Params]:
    r"""The checkpoint of least `score` (e.g. validation loss): early stopping's choice.

    Ties go to the earliest checkpoint. A NaN score is never the least (Python's `min` would
    keep a NaN that comes first); if every score is NaN there is no choice to make.

    Raises:
        TypeError: If `checkpoints` is not a list of `(step, params)` pairs, or `score` returns
            no real number.
        ValueError: If there are no checkpoints, or every score is NaN.
    """
    pairs = isinstance(checkpoints, list) and all(
        isinstance(c, tuple) and len(c) == 2 for c in checkpoints
    )
    if not pairs:
        raise TypeError(
            f"checkpoints must be a list of (step, params) pairs, got {checkpoints!r:.80}"
        )
    if not checkpoints:
        raise ValueError("checkpoints must not be empty, got []")
    values = [_returned("score", score(p)) for _, p in checkpoints]
    ranked = [(v, i) for i, v in enumerate(values) if not math.isnan(v)]
    if not ranked:
        raise ValueError(f"score is NaN at every one of the {len(values)} checkpoints")
    return checkpoints[min(ranked)[1]]

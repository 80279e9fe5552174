r"""Running an optimizer: the training loop.

`grad_fn(params, t)` returns the gradient fed at step $t$ (the full gradient for GD, a minibatch
gradient for SGD), so one loop serves both.
"""

from __future__ import annotations

from collections.abc import Callable

from dlcore.backend import check_int
from dlcore.optim import GradientTransformation, Params, apply_updates

__all__ = ["run"]


def run(
    opt: GradientTransformation,
    grad_fn: Callable[[Params, int], Params],
    params: Params,
    steps: int,
    *,
    record_every: int = 0,
) -> tuple[Params, list[Params]]:
    r"""Run `steps` optimizer steps $w_{t+1} = w_t + u_t$ from `params`.

    Args:
        opt: An optimizer from [`dlcore.optim`][dlcore.optim].
        grad_fn: `grad_fn(params, t)` gives the gradient dict at step `t` (0-based).
        params: Initial parameters $w_0$.
        steps: Number of steps $T \ge 0$.
        record_every: If $k > 0$, record $w_0, w_k, w_{2k}, \dots$ (and $w_T$).

    Returns:
        `(w_T, trajectory)`; the trajectory is empty when `record_every == 0`.
    """
    if not isinstance(opt, GradientTransformation):
        raise TypeError(
            f"opt must be a GradientTransformation, got {type(opt).__name__}: {opt!r:.80}"
        )
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be callable, got {type(grad_fn).__name__}: {grad_fn!r:.80}")
    steps = check_int("steps", steps, minimum=0)
    record_every = check_int("record_every", record_every, minimum=0)
    state = opt.init(params)
    trajectory: list[Params] = [params] if record_every else []
    for t in range(steps):
        updates, state = opt.update(grad_fn(params, t), state, params)
        params = apply_updates(params, updates)
        if record_every and ((t + 1) % record_every == 0 or t + 1 == steps):
            trajectory.append(params)
    return params, trajectory

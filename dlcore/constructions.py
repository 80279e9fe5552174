r"""Networks built by hand from samples of a function.

"Changing the slope is adding an elbow": a piecewise-linear function with $k$ slope changes is a
one-hidden-layer ReLU net of width $k$ ([`relu_net_from_pwl`][dlcore.constructions.relu_net_from_pwl],
[`relu_net_from_slopes`][dlcore.constructions.relu_net_from_slopes]); a sigmoid or tanh net of width
$k$ is a smoothed staircase through the samples
([`sigmoidal_net_from_samples`][dlcore.constructions.sigmoidal_net_from_samples]). Each returns
parameters for [`forward`][dlcore.mlp.forward].
"""

from __future__ import annotations

from dlcore.backend import (
    Arr,
    Array,
    Choice,
    Knots,
    Real,
    _finite_result,
    contract,
    device_of,
    namespace,
)

__all__ = ["relu_net_from_pwl", "relu_net_from_slopes", "sigmoidal_net_from_samples"]


@contract(knots=Knots("k+1"), values=Arr("k+1"))
@_finite_result
def relu_net_from_pwl(knots: Array, values: Array) -> dict[str, Array]:
    r"""A width-$k$ one-hidden-layer ReLU net equal to the PWL interpolant on $[t_0, t_k]$.

    With knots $t_0 < \dots < t_k$, values $v_j$ and slopes $s_j = (v_{j+1} - v_j)/(t_{j+1} - t_j)$,
    $$f(x) = v_0 + s_0\,\mathrm{ReLU}(x - t_0) + \sum_{j=1}^{k-1} (s_j - s_{j-1})\,\mathrm{ReLU}(x - t_j),$$
    a constant plus one elbow per slope change. Hidden weights are $1$, hidden biases $-t_j$,
    output weights the slope changes, output bias $v_0$. Left of $t_0$ the net is the constant
    $v_0$; right of $t_k$ it continues the last piece.

    Args:
        knots: Strictly increasing knots $t_0 < \dots < t_k$, shape `(k+1,)`, $k \ge 1$.
        values: $v_j = f(t_j)$, shape `(k+1,)`.

    Returns:
        Parameters for [`forward`][dlcore.mlp.forward] with sizes $(1, k, 1)$, in the namespace,
        dtype and device of `knots`.
    """
    xp = namespace(knots)
    slopes = (values[1:] - values[:-1]) / (knots[1:] - knots[:-1])
    k = int(slopes.shape[0])
    changes = xp.concat([slopes[:1], slopes[1:] - slopes[:-1]])
    return {
        "W1": xp.ones((1, k), dtype=knots.dtype, device=device_of(knots)),
        "b1": -knots[:-1],
        "W2": xp.reshape(changes, (k, 1)),
        "b2": values[:1],
    }


@contract(knots=Knots("k"), slopes=Arr("s"), value=Arr("1"))
@_finite_result
def relu_net_from_slopes(knots: Array, slopes: Array, value: Array) -> dict[str, Array]:
    r"""A width-$(k+1)$ ReLU net equal on all of $\mathbb R$ to the PWL function with these slopes.

    With knots $t_1 < \dots < t_k$, slope $s_0$ left of $t_1$, $s_j$ on $(t_j, t_{j+1})$, $s_k$
    right of $t_k$ and $c = f(t_1)$, "changing the slope is adding an elbow":
    $$f(x) = c - s_0\,\mathrm{ReLU}(t_1 - x) + s_1\,\mathrm{ReLU}(x - t_1)
    + \sum_{j=2}^{k} (s_j - s_{j-1})\,\mathrm{ReLU}(x - t_j).$$
    The first unit has weight $-1$ and bias $t_1$, the others weight $1$ and bias $-t_j$; output
    weights $(-s_0, s_1, s_2 - s_1, \dots)$, output bias $c$.

    Args:
        knots: Strictly increasing $t_1 < \dots < t_k$, shape `(k,)`, $k \ge 1$.
        slopes: $s_0, \dots, s_k$, shape `(k+1,)`.
        value: $c = f(t_1)$, shape `(1,)`.

    Returns:
        Parameters for [`forward`][dlcore.mlp.forward] with sizes $(1, k+1, 1)$.
    """
    xp = namespace(knots)
    k = int(knots.shape[0])
    if tuple(slopes.shape) != (k + 1,):
        raise ValueError(
            f"slopes must have shape ({k + 1},) for {k} knots, got {tuple(slopes.shape)}"
        )
    w = xp.concat([-xp.ones((1,), dtype=knots.dtype, device=device_of(knots)), xp.ones_like(knots)])
    b = xp.concat([knots[:1], -knots])
    v = xp.concat([-slopes[:1], slopes[1:2], slopes[2:] - slopes[1:-1]])
    return {"W1": xp.reshape(w, (1, k + 1)), "b1": b, "W2": xp.reshape(v, (k + 1, 1)), "b2": value}


@contract(
    knots=Knots("k+1"),
    values=Arr("k+1"),
    sharpness=Real(0, low_open=True),
    activation=Choice("sigmoid", "tanh"),
)
@_finite_result
def sigmoidal_net_from_samples(
    knots: Array, values: Array, sharpness: float, *, activation: str = "sigmoid"
) -> dict[str, Array]:
    r"""A width-$k$ sigmoid (or tanh) net: a smoothed staircase through the samples $f(t_j)$.

    With knots $t_0 < \dots < t_k$, values $v_j$, jumps $\Delta_j = v_j - v_{j-1}$ and midpoints
    $m_j = (t_{j-1} + t_j)/2$,
    $$N(x) = v_0 + \sum_{j=1}^{k} \Delta_j\, \sigma\big(s (x - m_j)\big),$$
    a step of height $\Delta_j$ at each midpoint, smoothed at sharpness $s > 0$. As $s \to \infty$
    it tends to the staircase that takes the value of the nearest knot. With `activation="tanh"`
    the same function is written with $\sigma(u) = (1 + \tanh(u/2))/2$: hidden weights $s/2$,
    biases $-s m_j/2$, output weights $\Delta_j/2$, output bias $(v_0 + v_k)/2$.

    Args:
        knots: Strictly increasing knots, shape `(k+1,)`, $k \ge 1$.
        values: $v_j = f(t_j)$, shape `(k+1,)`.
        sharpness: $s > 0$.
        activation: `"sigmoid"` or `"tanh"` (pass the same name to [`forward`][dlcore.mlp.forward]).

    Returns:
        Parameters with sizes $(1, k, 1)$, in the namespace, dtype and device of `knots`.
    """
    xp, s = namespace(knots), sharpness
    k = int(knots.shape[0]) - 1
    mids = (knots[1:] + knots[:-1]) / 2
    jumps = values[1:] - values[:-1]
    ones = xp.ones((1, k), dtype=knots.dtype, device=device_of(knots))
    half = activation == "tanh"  # sigma(u) = (1 + tanh(u/2))/2: half the weights
    a = s / 2 if half else s
    W2 = jumps / 2 if half else jumps
    b2 = (values[:1] + values[k:]) / 2 if half else values[:1]
    return {"W1": a * ones, "b1": -a * mids, "W2": xp.reshape(W2, (k, 1)), "b2": b2}

"""The torch adapter (`adapters/torch`) is what it says: torch.optim and torch.nn.init behind
dlcore's API, everything else the repository's dlcore.

The adapter is a package named `dlcore`, so it is imported in a fresh interpreter with
`adapters/torch` first on the path (as `nox -s conformance -- adapters/torch` does); each check
runs there and reports back through its exit status.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("array_api_strict")

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "adapters" / "torch"


def _inside() -> None:
    """The checks, run with the adapter as `dlcore` (see `test_adapter_in_a_fresh_interpreter`)."""
    import array_api_strict
    import numpy as np
    import torch

    import dlcore
    from dlcore import init, mlp, optim, train

    # wiring: init and optim are the adapter's, the rest the reference's, which uses them
    assert Path(optim.__file__).parent == ADAPTER / "dlcore", optim.__file__
    assert Path(init.__file__).parent == ADAPTER / "dlcore", init.__file__
    assert Path(mlp.__file__).parent == ROOT / "dlcore", mlp.__file__
    assert mlp._INITS["he_normal"] is init.he_normal
    assert train.step is optim.step
    assert dlcore.__all__ == sorted(dlcore.__all__) and "optim" in dlcore.__all__

    # initialisers: torch.nn.init on torch's (d_out, d_in) layout, transposed, bit for bit
    laws = {
        "he_normal": ("kaiming_normal_", {"mode": "fan_in", "nonlinearity": "relu"}),
        "lecun_uniform": ("kaiming_uniform_", {"mode": "fan_in", "nonlinearity": "linear"}),
        "glorot_normal": ("xavier_normal_", {}),
    }
    for name, (fn, kw) in laws.items():
        W = getattr(init, name)(7, 3, rng=np.random.default_rng(5))
        gen = torch.Generator().manual_seed(int(np.random.default_rng(5).integers(2**63)))
        T = torch.empty(3, 7, dtype=torch.float64)
        getattr(torch.nn.init, fn)(T, generator=gen, **kw)
        assert W.shape == (7, 3) and np.array_equal(W, T.T.numpy()), name
    like = array_api_strict.asarray(np.zeros(1, dtype=np.float32))
    W = init.he_normal(4, 2, rng=np.random.default_rng(0), like=like)
    assert type(W) is type(like) and W.dtype == like.dtype and W.shape == (4, 2)
    for bad in ({"d_in": 0}, {"rng": 3}):  # dlcore's argument checks, by name
        args = {"d_in": 2, "d_out": 2, "rng": np.random.default_rng(0), **bad}
        try:
            init.he_normal(**args)
        except (TypeError, ValueError) as err:
            assert next(iter(bad)) in str(err), err
        else:
            raise AssertionError(f"he_normal accepted {bad}")

    # optimizers: one torch step each, against torch.optim's own classes fed the same gradients
    cases = [
        (optim.sgd(0.1), "SGD", {"lr": 0.1}),
        (optim.sgd_momentum(0.1, 0.7, nesterov=True), "SGD",
         {"lr": 0.1, "momentum": 0.7, "nesterov": True}),
        (optim.ema_momentum(0.2, 0.25), "SGD", {"lr": 0.05, "momentum": 0.75}),  # a = 0.25 v
        (optim.rmsprop(0.01, alpha=0.9), "RMSprop", {"lr": 0.01, "alpha": 0.9}),
        (optim.adam(0.01, 0.8, 0.99), "Adam", {"lr": 0.01, "betas": (0.8, 0.99)}),
        (optim.adamw(0.01, weight_decay=0.5), "AdamW", {"lr": 0.01, "weight_decay": 0.5}),
        (optim.coupled_weight_decay(optim.adam(0.01), 0.5), "Adam",
         {"lr": 0.01, "weight_decay": 0.5}),
        (optim.decoupled_weight_decay(optim.adam(0.01), 0.005), "AdamW",
         {"lr": 0.01, "weight_decay": 0.5}),
    ]  # fmt: skip
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    gmax = float(np.max(np.abs(grads)))
    eps = float(np.finfo(np.float64).eps)
    for opt, name, kw in cases:
        assert [op.kind for op in opt.ops] == ["torch.optim"], (name, opt.ops)
        p = torch.nn.Parameter(torch.tensor(w0))
        ref = getattr(torch.optim, name)([p], foreach=False, **kw)
        for xp in (np, torch, array_api_strict):
            params, state, worst = {"w": xp.asarray(w0)}, None, float(np.max(np.abs(w0)))
            state = opt.init(params)
            for t, g in enumerate(grads):
                params, state = optim.step(opt, {"w": xp.asarray(g)}, state, params)
                worst = max(worst, float(np.max(np.abs(np.asarray(params["w"])))))
                assert type(params["w"]) is type(xp.asarray(w0))
                assert "count" not in state._fields or state.count == t + 1, (name, state)
            if xp is np:
                for g in grads:
                    p.grad = torch.tensor(g)
                    ref.step()
            # The buffers run torch's own arithmetic on the same inputs, bit for bit, but for the
            # EMA form, whose buffer goes to a = beta v and back (one rounding each way, so
            # <= 2 eps |v| per step with |v| <= gmax / (1 - mu), reaching w through
            # lr sum_k mu^k <= lr / (1 - mu)). The final w + u may round differently from
            # torch's in-place add (or w (1 - lr wd) for AdamW, computed on the same values):
            # at most 2 roundings of a parameter of size <= worst per step, carried unamplified
            # (the gradients are given, so parameter errors do not feed back but through weight
            # decay, a factor <= 1), over T = 4 steps.
            T, mu, lr = len(grads), kw.get("momentum", 0.0), kw["lr"]
            roundtrip = opt.ops[0].hyper[3] is not None  # the EMA's beta
            bound = 2 * T * eps * worst + roundtrip * 2 * T * eps * lr * gmax / (1 - mu) ** 2
            err = float(np.max(np.abs(np.asarray(params["w"]) - p.detach().numpy())))
            assert err <= bound, (name, xp.__name__, err, bound)
    state = optim.adam(0.1).init({"w": np.zeros(2)})
    assert type(state).__name__ == "AdamState" and state.m["w"].shape == (2,)
    try:
        optim.adam(-1.0)
    except ValueError as err:
        assert "lr" in str(err), err
    else:
        raise AssertionError("adam accepted lr=-1")


def test_adapter_in_a_fresh_interpreter():
    """Runs `_inside` with `adapters/torch` first on the path, the repository second."""
    code = (
        f"import sys; sys.path[:0] = [{str(ADAPTER)!r}, {str(ROOT)!r}]; "
        f"import runpy; runpy.run_path({__file__!r})['_inside']()"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr

"""One optimizer step on 1M float32 parameters in 10 tensors: dlcore vs `torch.optim`.

dlcore's optimizers are pure (new state, new parameters each step); `torch.optim` updates in
place, with a per-tensor loop (`foreach=False`) or fused multi-tensor kernels (`foreach=True`).
On CUDA dlcore runs its multi-tensor fast path (`dlcore._torch_fast`); on the CPU its reference
per-tensor loop. Runs on torch CPU, and on CUDA where present.

Two floors, each the bytes a step cannot avoid moving divided by the measured copy bandwidth
(B buffers per parameter: 1 for momentum, 2 for Adam; one unit is all parameters, 4 MB):

- `floor_s`, in place (`torch.optim`): read w, g and the buffers, write w and the buffers:
  3 + 2B units.
- `pure_floor_s`, pure (dlcore): `update` reads g and the buffers and writes new buffers and the
  updates u (2 + 2B), `apply_updates` reads w and u and writes the new w (3): 5 + 2B units.

So where a step is bound by memory bandwidth (the CPU) a pure step is at least 7/5 = 1.4x an
in-place one for momentum and 9/7 = 1.29x for Adam, above the 1.2 target before any overhead.
"""

from __future__ import annotations

from typing import Any

from benchmarks.harness import Case, best_time

N_TENSORS, N_TOTAL = 10, 1_000_000


def _copy_bandwidth(torch: Any, device: str) -> float:
    """Bytes per second of a large tensor copy (each byte read once and written once)."""
    src = torch.ones(16 * N_TOTAL, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)

    def copy() -> None:
        dst.copy_(src)
        if device == "cuda":
            torch.cuda.synchronize()

    return 2 * src.numel() * 4 / best_time(copy, min_time=0.05, repeats=3)


def _cases_on(torch: Any, device: str, quick: bool) -> list[Case]:
    from dlcore.optim import adam, apply_updates, sgd_momentum

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    gen = torch.Generator(device="cpu").manual_seed(0)
    size = N_TOTAL // N_TENSORS
    params = {f"p{i}": torch.randn(size, generator=gen).to(device) for i in range(N_TENSORS)}
    grads = {k: torch.randn(size, generator=gen).to(device) for k in params}
    bandwidth = _copy_bandwidth(torch, device)
    out = []
    for name, make_dl, make_torch, buffers in (
        (
            "sgd momentum",
            lambda: sgd_momentum(0.01, 0.9),
            lambda ps, fe: torch.optim.SGD(ps, lr=0.01, momentum=0.9, foreach=fe),
            1,
        ),
        (
            "adam",
            lambda: adam(1e-3),
            lambda ps, fe: torch.optim.Adam(ps, lr=1e-3, foreach=fe),
            2,
        ),
    ):
        opt = make_dl()
        state = opt.init(params)
        _, state = opt.update(grads, state, params)  # past the first step's special case

        def dl_step(opt=opt, state=state) -> None:
            updates, _ = opt.update(grads, state, params)
            apply_updates(params, updates)
            sync()

        unit = N_TOTAL * 4 / bandwidth  # seconds to read or write every parameter once
        floors = {"floor_s": (3 + 2 * buffers) * unit, "pure_floor_s": (5 + 2 * buffers) * unit}
        for foreach in (False, True):
            ps = [torch.nn.Parameter(p.clone()) for p in params.values()]
            for p, g in zip(ps, grads.values(), strict=True):
                p.grad = g.clone()
            topt = make_torch(ps, foreach)
            topt.step()

            def torch_step(topt=topt) -> None:
                topt.step()
                sync()

            out.append(
                Case(
                    group=f"optimizer step ({device})",
                    name=f"{name}, 1M fp32 in 10",
                    dlcore=dl_step,
                    reference=torch_step,
                    reference_name=f"torch.optim foreach={foreach}",
                    target=1.2,
                    extra=floors,
                )
            )
    return out


def cases(quick: bool) -> list[Case]:
    """Cases on torch CPU, and on CUDA where present."""
    try:
        import torch
    except ImportError:
        return []
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return [c for d in devices for c in _cases_on(torch, d, quick)]

"""One optimizer step on 1M float32 parameters in 10 tensors: dlcore vs `torch.optim`.

`torch.optim` updates in place, with a per-tensor loop (`foreach=False`) or multi-tensor kernels
(`foreach=True`). dlcore's step is `dlcore.optim.step` (update and apply fused), timed in the
loop a training run makes, `params, state = step(opt, grads, state, params)`, in two modes:

- donated (`donate=True`): dlcore writes the new parameters and state into the memory of the old
  ones, as `torch.optim` does. This is the like-for-like comparison, and it carries the target.
- pure (the default): every step allocates its results and writes them to fresh memory, which
  is not in cache; with glibc, blocks of this size that are freed can also go back to the OS and
  return as page faults (the `faults/step` column counts them). Reported, no target.

`floor_s` is the memory-traffic floor of a step: the bytes it cannot avoid moving (read w, g and
the B buffers, write w and the buffers: 3 + 2B units of 4 MB, B = 1 for momentum, 2 for Adam)
divided by the measured copy bandwidth.
"""

from __future__ import annotations

from typing import Any

from benchmarks.harness import Case, best_time

N_TENSORS, N_TOTAL = 10, 1_000_000


def _copy_bandwidth(torch: Any, device: str) -> float:
    """Bytes per second of a copy of all parameters (each byte read once and written once).

    The copy is as large as the parameters (4 MB), so it measures the bandwidth of the memory
    level a step works in (on a CPU with a large last-level cache: that cache, not DRAM).
    """
    src = torch.ones(N_TOTAL, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)

    def copy() -> None:
        dst.copy_(src)
        if device == "cuda":
            torch.cuda.synchronize()

    return 2 * src.numel() * 4 / best_time(copy, min_time=0.05, repeats=3)


def _faults() -> int:
    try:
        import resource
    except ImportError:  # not on POSIX
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class _Loop:
    """`params, state = step(opt, grads, state, params)`, over and over; counts page faults."""

    def __init__(self, opt: Any, params: Any, grads: Any, donate: bool, sync: Any) -> None:
        from dlcore.optim import step

        self.step, self.opt, self.grads, self.donate, self.sync = step, opt, grads, donate, sync
        self.params = {k: p.clone() for k, p in params.items()}
        self.state = opt.init(self.params)
        self.calls = 0
        self.faults = 0

    def __call__(self) -> None:
        before = _faults()
        self.params, self.state = self.step(
            self.opt, self.grads, self.state, self.params, donate=self.donate
        )
        self.sync()
        self.faults += _faults() - before
        self.calls += 1


def _cases_on(torch: Any, device: str, quick: bool) -> list[Case]:
    from dlcore.optim import adam, sgd_momentum

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    gen = torch.Generator(device="cpu").manual_seed(0)
    size = N_TOTAL // N_TENSORS
    params = {f"p{i}": torch.randn(size, generator=gen).to(device) for i in range(N_TENSORS)}
    grads = {k: torch.randn(size, generator=gen).to(device) for k in params}
    unit = N_TOTAL * 4 / _copy_bandwidth(torch, device)  # seconds to move every parameter once
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
        for donate in (True, False):
            for foreach in (False, True):
                loop = _Loop(make_dl(), params, grads, donate, sync)
                ps = [torch.nn.Parameter(p.clone()) for p in params.values()]
                for p, g in zip(ps, grads.values(), strict=True):
                    p.grad = g.clone()
                topt = make_torch(ps, foreach)

                def torch_step(topt: Any = topt) -> None:
                    topt.step()
                    sync()

                out.append(
                    Case(
                        group=f"optimizer step ({device})",
                        name=f"{name}, {'donated' if donate else 'pure'}",
                        dlcore=loop,
                        reference=torch_step,
                        reference_name=f"torch.optim foreach={foreach}",
                        target=1.2 if donate else None,
                        extra={"floor_s": (3 + 2 * buffers) * unit},
                        extra_fn={
                            "faults/step": lambda loop=loop: loop.faults / max(loop.calls, 1)
                        },
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

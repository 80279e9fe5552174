"""One MLP training step: dlcore's hand-written backward + SGD vs torch autograd + torch.optim.SGD.

Depth 4 (four dense layers), width 512, batch 256, float32, ReLU, the lecture's squared loss
$\\|f(X) - Y\\|^2$, on torch CPU tensors (and on CUDA where present, same device on both sides).
One step is forward, backward and the SGD update.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Case

WIDTH, DEPTH, BATCH, LR = 512, 4, 256, 1e-6


def _case(device: str) -> Case:
    import torch

    from dlcore.mlp import init_mlp, value_and_grad
    from dlcore.optim import sgd, step

    torch.backends.cuda.matmul.allow_tf32 = False  # compare like with like: full float32 matmuls
    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.standard_normal((BATCH, WIDTH)), dtype=torch.float32, device=device)
    Y = torch.as_tensor(rng.standard_normal((BATCH, WIDTH)), dtype=torch.float32, device=device)
    sizes = [WIDTH] * (DEPTH + 1)
    box = {"params": init_mlp(sizes, rng=rng, like=X)}
    opt = sgd(LR)
    box["state"] = opt.init(box["params"])

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def dlcore_step() -> None:
        _, grads = value_and_grad(box["params"], X, Y, activation="relu")
        box["params"], box["state"] = step(opt, grads, box["state"], box["params"])
        sync()

    layers: list[torch.nn.Module] = []
    for ell in range(1, DEPTH + 1):
        lin = torch.nn.Linear(WIDTH, WIDTH)
        with torch.no_grad():  # the same weights, in torch's (d_out, d_in) layout
            lin.weight.copy_(box["params"][f"W{ell}"].T)
            lin.bias.zero_()
        layers.append(lin)
        if ell < DEPTH:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(device=device, dtype=torch.float32)
    torch_opt = torch.optim.SGD(model.parameters(), lr=LR)

    def torch_step() -> None:
        torch_opt.zero_grad(set_to_none=True)
        loss = ((model(X) - Y) ** 2).sum()
        loss.backward()
        torch_opt.step()
        sync()

    return Case(
        group="mlp train step",
        name=f"{device} d={DEPTH} w={WIDTH} n={BATCH} f32",
        dlcore=dlcore_step,
        reference=torch_step,
        reference_name="torch nn.Sequential+SGD",
        target=1.3,
    )


def cases(quick: bool) -> list[Case]:
    """The CPU case, and the CUDA case where a GPU is present."""
    try:
        import torch
    except ImportError:
        return []
    out = [_case("cpu")]
    if torch.cuda.is_available():
        out.append(_case("cuda"))
    return out

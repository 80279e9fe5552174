"""The implementation under test is never its own oracle (issue 16, item 2).

Reference values come from NumPy, SciPy, mpmath, torch or test-side code. The rule, checked on
the source of `tests/support` (parsed, not imported):

1. Every name a support module imports from dlcore is listed in `ALLOWED`, with its role and
   the reason, and every entry of `ALLOWED` is still imported (no stale permissions). The roles:
   - `infrastructure`: `dlcore.backend`, the array layer that both sides use to move arrays
     between libraries (the skeleton ships it whole);
   - `input`: a value that only sets up a test's inputs (a list of the choices an argument
     takes, an object only the implementation can make);
   - `under test`: the implementation itself, named so that a test can call it: the actual
     side of a comparison, never the expected one.
2. Oracle code uses nothing of dlcore but `dlcore.backend`: the oracle modules (`ORACLE_MODULES`)
   import nothing else from dlcore, and no torch oracle (a function named `torch_*` in any
   support module), nor any function of its module that it calls, directly or not, refers to a
   name imported from dlcore outside `dlcore.backend`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parents[1] / "support"
ORACLE_MODULES = ("mp_references.py", "mlp_oracles.py")
INFRASTRUCTURE = "dlcore.backend"

_API = (
    "under test",
    "the API table: each entry names a public function whose argument checks "
    "tests/api/test_contract.py calls; its inputs are test-side (`he_mlp`), but for "
    "`kernels.kernel_ridge_fit`, which makes the model `kernel_ridge_predict` takes",
)

ALLOWED: dict[tuple[str, str], tuple[str, str]] = {
    ("backends.py", "dlcore.backend.to_numpy"): (
        "infrastructure",
        "copies a backend's array to the host for the comparisons",
    ),
    ("tolerances.py", "dlcore.backend.to_numpy"): (
        "infrastructure",
        "copies the actual and expected values to the host before comparing them",
    ),
    ("strategies.py", "dlcore.data.SCHEMES"): (
        "input",
        "the names of the sampling schemes, drawn as an argument",
    ),
    ("strategies.py", "dlcore.mlp.ACTIVATIONS"): (
        "input",
        "the names of the activations, drawn as an argument",
    ),
    ("contracts.py", "dlcore.backend"): (
        "infrastructure",
        "the argument kinds (`Arr`, `Real`, ...) that the contracts declare",
    ),
    **{  # every public module but the backend (the API table imports them all)
        ("contracts.py", f"dlcore.{p.stem}"): _API
        for p in (SUPPORT.parents[1] / "dlcore").glob("*.py")
        if not p.stem.startswith("_") and p.stem != "backend"
    },
    ("optim_oracles.py", "dlcore.optim"): (
        "under test",
        "OPTIMIZERS builds the optimizers the claims check; the oracles of this module are "
        "torch.optim (`torch_*`) and NumPy loops in the tests",
    ),
    ("optim_oracles.py", "dlcore.mlp.value_and_grad"): (
        "under test",
        "`mlp_closed_loop` is the implementation's own closed loop (momentum."
        "pytorch-parametrization-equivalence clause g is about dlcore's backward); the test "
        "asserts its gradients equal torch autograd before torch.optim is fed them",
    ),
    ("optim_oracles.py", "dlcore.optim.apply_updates"): (
        "under test",
        "`mlp_closed_loop` steps the optimizer under test",
    ),
}


def _modules() -> list[Path]:
    return sorted(SUPPORT.glob("*.py"))


def _dlcore_imports(tree: ast.AST) -> dict[str, str]:
    """Every dlcore import of a module: the local name it binds -> the dotted name imported."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "dlcore" or a.name.startswith("dlcore."):
                    bound[a.asname or a.name.split(".")[0]] = a.name if a.asname else "dlcore"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "dlcore" or node.module.startswith("dlcore."):
                for a in node.names:
                    bound[a.asname or a.name] = f"{node.module}.{a.name}"
    return bound


def _imported(tree: ast.AST) -> set[str]:
    """The dotted dlcore names a module imports (`import dlcore.x` counts as `dlcore.x`)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "dlcore"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "dlcore":
                out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _is_infrastructure(dotted: str) -> bool:
    return dotted == INFRASTRUCTURE or dotted.startswith(INFRASTRUCTURE + ".")


def test_every_dlcore_import_of_the_support_modules_is_allowed_with_a_reason():
    found = {
        (path.name, dotted)
        for path in _modules()
        for dotted in _imported(ast.parse(path.read_text()))
    }
    unlisted = sorted(found - set(ALLOWED))
    stale = sorted(set(ALLOWED) - found)
    assert not unlisted, (
        f"tests/support imports {unlisted} from dlcore: compute reference values with NumPy, "
        f"torch, mpmath or test-side code, or add the name to ALLOWED with its role and reason"
    )
    assert not stale, f"ALLOWED lists {stale}, which tests/support no longer imports: remove them"
    for key, (role, reason) in ALLOWED.items():
        assert role in ("infrastructure", "input", "under test"), (key, role)
        assert reason.strip(), key
        assert (role == "infrastructure") == _is_infrastructure(key[1]), (
            f"{key}: only {INFRASTRUCTURE} is infrastructure"
        )


@pytest.mark.parametrize("name", ORACLE_MODULES)
def test_oracle_modules_import_only_infrastructure_from_dlcore(name):
    imported = _imported(ast.parse((SUPPORT / name).read_text()))
    assert all(_is_infrastructure(d) for d in imported), (
        f"the oracle module {name} imports {sorted(imported)} from dlcore: an oracle must not "
        f"use the implementation it judges"
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_torch_oracles_use_no_dlcore_code(path):
    tree = ast.parse(path.read_text())
    banned = {k for k, v in _dlcore_imports(tree).items() if not _is_infrastructure(v)}
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}

    def names(fn: ast.FunctionDef) -> set[str]:
        return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | {
            a.asname or a.name
            for n in ast.walk(fn)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names
            if _dlcore_name(n)
        }

    for oracle in (f for f in functions if f.startswith("torch_")):
        seen, todo, used = {oracle}, [oracle], set()
        while todo:
            fn = functions[todo.pop()]
            refs = names(fn)
            used |= {(fn.name, r) for r in refs & banned}
            used |= {(fn.name, r) for r in _local_dlcore(fn)}
            for callee in refs & (functions.keys() - seen):
                seen.add(callee)
                todo.append(callee)
        assert not used, (
            f"{path.name}::{oracle} is an oracle but reaches dlcore through {sorted(used)}: "
            f"an oracle must not use the implementation it judges"
        )


def _dlcore_name(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "dlcore" for a in node.names)
    return node.level == 0 and bool(node.module) and node.module.split(".")[0] == "dlcore"


def _local_dlcore(fn: ast.FunctionDef) -> set[str]:
    """The dlcore names (outside `dlcore.backend`) that a function imports in its own body."""
    return {d for d in _imported(fn) if not _is_infrastructure(d)}


def test_the_rule_catches_a_dlcore_oracle(tmp_path):
    """The check above flags an oracle that calls dlcore, directly or through a helper."""
    src = (
        "from dlcore.mlp import flatten_params\n"
        "def _helper(p):\n    return flatten_params(p)\n"
        "def torch_thing(p):\n    return _helper(p)\n"
        "def torch_other(p):\n    from dlcore.linear import ridge\n    return ridge(p)\n"
    )
    tree = ast.parse(src)
    assert _imported(tree) == {"dlcore.mlp.flatten_params", "dlcore.linear.ridge"}
    assert _dlcore_imports(tree)["flatten_params"] == "dlcore.mlp.flatten_params"
    fn = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert _local_dlcore(fn["torch_other"]) == {"dlcore.linear.ridge"}
    path = tmp_path / "fake.py"
    path.write_text(src)
    with pytest.raises(AssertionError, match="torch_thing"):
        test_torch_oracles_use_no_dlcore_code(path)

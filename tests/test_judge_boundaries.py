"""Rules inside core, in the style of `test_layers.py`: the decide step and the judges do not
import each other (both share `tutor.core.signals` and `tutor.core.judge_prompts`), and the
benchmarks' runtime switches (`evals/bench_runtime.py`) never reach the product."""

import ast
from pathlib import Path

import pytest

from tests.test_layers import PACKAGE, imports_of

JUDGES = "tutor.core.judges"
DECIDE = "tutor.core.decide"
BENCHMARKS = ("evals", "bench_runtime")  # as tests import it, and as scripts in evals/ do


def imported(path: Path) -> set[str]:
    """Every module the file imports, and every name taken from one as a possible submodule
    (`from tutor.core import decide` imports tutor.core.decide)."""
    found = set(imports_of(path))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def reaching(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    """The imports of `path` that are one of `prefixes` or inside one."""
    return sorted(m for m in imported(path) if any(m == p or m.startswith(f"{p}.") for p in prefixes))


def test_decide_imports_nothing_from_the_judges():
    assert reaching(PACKAGE / "core" / "decide.py", (JUDGES,)) == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "core" / "judges").rglob("*.py")), ids=lambda p: p.name)
def test_no_judge_imports_the_decide_step(path):
    assert reaching(path, (DECIDE,)) == []


def test_nothing_in_the_package_imports_the_benchmark_switches():
    bad = {str(p.relative_to(PACKAGE)): reaching(p, BENCHMARKS) for p in sorted(PACKAGE.rglob("*.py"))}
    assert {path: found for path, found in bad.items() if found} == {}


def test_the_checks_see_planted_imports(tmp_path):
    module = tmp_path / "x.py"
    module.write_text("from tutor.core.judges.base import JudgeRequest\nfrom tutor.core import decide\n\n\n"
                      "def f():\n    from evals.bench_runtime import BenchRuntime\n"
                      "    import bench_runtime\n")
    assert reaching(module, (JUDGES,)) == ["tutor.core.judges.base", "tutor.core.judges.base.JudgeRequest"]
    assert reaching(module, (DECIDE,)) == ["tutor.core.decide"]
    assert reaching(module, BENCHMARKS) == ["bench_runtime", "evals.bench_runtime",
                                            "evals.bench_runtime.BenchRuntime"]
    module.write_text("from tutor.core.signals import Signals\nfrom tutor.core.judge_prompts import prompt\n")
    assert reaching(module, (JUDGES,)) == reaching(module, (DECIDE,)) == reaching(module, BENCHMARKS) == []

"""The package's folders are its layers, and no import runs back up a layer.

core (the grade, and what every layer needs) ← authoring, learner, teacher (features, which
do not import each other) ← edge (the command line)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tutor"
RANK = {"core": 0, "authoring": 1, "learner": 1, "teacher": 1, "edge": 2}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tutor" and parts[1] in RANK else None


def imports_of(path: Path) -> set[str]:
    """Every module imported anywhere in the file, function-level imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "tutor":  # from tutor import core
            found |= {f"tutor.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def crossings(path: Path, root: Path = PACKAGE) -> list[str]:
    own = path.relative_to(root).parts[0]
    bad = []
    for module in sorted(imports_of(path)):
        other = layer_of(module)
        if other and other != own and RANK[other] >= RANK[own]:
            bad.append(f"{path.relative_to(root)} imports {module} ({own} → {other})")
    return bad


DATA = "courses"  # the bundled course's rubrics: package data beside the layers


def test_every_module_lives_in_a_layer():
    loose = {p.name for p in PACKAGE.glob("*.py")} - {"__init__.py", "__main__.py"}
    assert loose == set()
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(RANK) | {DATA}
    assert not list((PACKAGE / DATA).rglob("*.py"))  # the bundled courses are data, not code


@pytest.mark.parametrize("layer", sorted(RANK))
def test_no_import_runs_up_or_across_a_layer(layer):
    bad = [line for path in sorted((PACKAGE / layer).rglob("*.py")) for line in crossings(path)]
    assert bad == []


def test_the_check_sees_upward_and_sideways_imports(tmp_path):
    (tmp_path / "learner").mkdir()
    module = tmp_path / "learner" / "x.py"
    module.write_text("from tutor.core.grader import grade\nfrom tutor import edge\n\n\n"
                      "def f():\n    from tutor.teacher.evaluation import report\n")
    assert crossings(module, tmp_path) == [
        "learner/x.py imports tutor.edge (learner → edge)",
        "learner/x.py imports tutor.teacher.evaluation (learner → teacher)"]


def string_reads(path: Path, names: set[str]) -> list[str]:
    """`x["name"]` reads in a file, for any of `names`."""
    return [f"{path.name}:{node.lineno}: [{node.slice.value!r}]"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
            and node.slice.value in names]


def test_only_the_teacher_records_read_a_graded_answer_by_key():
    """results.jsonl's lines are `GradedAnswer`s: read as typed attributes (which mypy checks),
    parsed and written in tutor/teacher/records.py alone."""
    from tutor.teacher.records import GradedAnswer

    fields = set(GradedAnswer.model_fields)
    teacher = sorted((PACKAGE / "teacher").rglob("*.py"))
    found = [read for path in teacher if path.name != "records.py" for read in string_reads(path, fields)]
    assert found == []


def test_the_check_sees_a_read_by_key(tmp_path):
    module = tmp_path / "x.py"
    module.write_text('def f(row):\n    return row["student"], row.answer\n')
    assert string_reads(module, {"student", "answer"}) == ['x.py:2: [\'student\']']
